package apigw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"
)

// apiKeyOut is API Gateway's ApiKey.
type apiKeyOut struct {
	ID              string            `json:"id"`
	Value           string            `json:"value,omitempty"`
	Name            string            `json:"name"`
	CustomerID      string            `json:"customerId,omitempty"`
	Description     string            `json:"description,omitempty"`
	Enabled         bool              `json:"enabled"`
	CreatedDate     *epoch            `json:"createdDate,omitempty"`
	LastUpdatedDate *epoch            `json:"lastUpdatedDate,omitempty"`
	StageKeys       []string          `json:"stageKeys"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// throttle is a ThrottleSettings.
type throttle struct {
	BurstLimit *int     `json:"burstLimit,omitempty"`
	RateLimit  *float64 `json:"rateLimit,omitempty"`
}

// quotaSettings is a QuotaSettings.
type quotaSettings struct {
	Limit  *int64 `json:"limit,omitempty"`
	Offset *int64 `json:"offset,omitempty"`
	Period string `json:"period,omitempty"`
}

// apiStage is an ApiStage: the endpoint (stage) of the API "sqlgate".
type apiStage struct {
	APIID    string              `json:"apiId"`
	Stage    string              `json:"stage"`
	Throttle map[string]throttle `json:"throttle,omitempty"`
}

// usagePlanOut is API Gateway's UsagePlan.
type usagePlanOut struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	APIStages   []apiStage        `json:"apiStages"`
	Throttle    *throttle         `json:"throttle,omitempty"`
	Quota       *quotaSettings    `json:"quota,omitempty"`
	ProductCode string            `json:"productCode,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// usagePlanKeyOut is a UsagePlanKey.
type usagePlanKeyOut struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Value string `json:"value,omitempty"`
	Name  string `json:"name"`
}

// page is a paged list: REST-JSON names the list member "item".
type page[T any] struct {
	Position string `json:"position,omitempty"`
	Items    []T    `json:"item"`
}

// epoch is a timestamp in epoch seconds, REST-JSON's default.
type epoch time.Time

func (e *epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(*e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)), nil
}

func epochOf(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// maxBody bounds a request body of this API.
const maxBody = 64 << 10

// decode reads a JSON object body into v, refusing unknown members,
// trailing data and wrong types with a BadRequestException. An empty
// body is an empty object.
func decode(body []byte, v any) error {
	if len(body) > maxBody {
		return badRequest("Request body larger than 65536 bytes")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return badRequest(fmt.Sprintf("Invalid request body: %s must be a %s", te.Field, jsonType(te.Type.Kind().String())))
		}
		return badRequest("Invalid request body: " + jsonErr(err))
	}
	if _, err := d.Token(); err != io.EOF {
		return badRequest("Invalid request body: data after the JSON object")
	}
	return nil
}

// jsonErr words a decoding error without quoting the input.
func jsonErr(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at offset %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated JSON"
	}
	if s := err.Error(); len(s) < 120 {
		return s // unknown field "x", expected object …
	}
	return "not a JSON object of this operation"
}

func jsonType(kind string) string {
	switch kind {
	case "bool":
		return "boolean"
	case "string":
		return "string"
	case "slice":
		return "list"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}

// paging reads limit (1–500, default 25) and position (an offset this API
// returned) from q.
func paging(q url.Values) (limit, offset int, err error) {
	limit = 25
	if s := q.Get("limit"); s != "" {
		n, perr := strconv.Atoi(s)
		if perr != nil || n < 1 || n > 500 {
			return 0, 0, badRequest("Invalid limit: want 1 to 500")
		}
		limit = n
	}
	if s := q.Get("position"); s != "" {
		n, perr := strconv.Atoi(s)
		if perr != nil || n < 0 {
			return 0, 0, badRequest("Invalid position")
		}
		offset = n
	}
	return limit, offset, nil
}

// pageOf cuts items to one page of q's limit and position.
func pageOf[T any](items []T, q url.Values) (page[T], error) {
	limit, offset, err := paging(q)
	if err != nil {
		return page[T]{}, err
	}
	p := page[T]{Items: []T{}}
	if offset >= len(items) {
		return p, nil
	}
	end := min(len(items), offset+limit)
	p.Items = items[offset:end]
	if end < len(items) {
		p.Position = strconv.Itoa(end)
	}
	return p, nil
}
