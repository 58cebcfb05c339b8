package dataapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// executeRequest is ExecuteStatementRequest. Unknown members are
// ignored, as AWS does.
type executeRequest struct {
	ResourceARN           string            `json:"resourceArn"`
	SecretARN             string            `json:"secretArn"`
	SQL                   *string           `json:"sql"`
	Database              string            `json:"database"`
	Schema                *string           `json:"schema"`
	Parameters            []sqlParameter    `json:"parameters"`
	TransactionID         string            `json:"transactionId"`
	IncludeResultMetadata bool              `json:"includeResultMetadata"`
	ContinueAfterTimeout  bool              `json:"continueAfterTimeout"`
	ResultSetOptions      *resultSetOptions `json:"resultSetOptions"`
	FormatRecordsAs       string            `json:"formatRecordsAs"`
}

type batchRequest struct {
	ResourceARN   string           `json:"resourceArn"`
	SecretARN     string           `json:"secretArn"`
	SQL           *string          `json:"sql"`
	Database      string           `json:"database"`
	Schema        *string          `json:"schema"`
	ParameterSets [][]sqlParameter `json:"parameterSets"`
	TransactionID string           `json:"transactionId"`
}

type beginRequest struct {
	ResourceARN string  `json:"resourceArn"`
	SecretARN   string  `json:"secretArn"`
	Database    string  `json:"database"`
	Schema      *string `json:"schema"`
}

type endRequest struct {
	ResourceARN   string `json:"resourceArn"`
	SecretARN     string `json:"secretArn"`
	TransactionID string `json:"transactionId"`
}

type executeSQLRequest struct {
	ClusterARN    string  `json:"dbClusterOrInstanceArn"`
	SecretARN     string  `json:"awsSecretStoreArn"`
	SQLStatements *string `json:"sqlStatements"`
	Database      string  `json:"database"`
	Schema        *string `json:"schema"`
}

type resultSetOptions struct {
	DecimalReturnType string `json:"decimalReturnType"`
	LongReturnType    string `json:"longReturnType"`
}

type sqlParameter struct {
	Name     string     `json:"name"`
	Value    *fieldJSON `json:"value"`
	TypeHint string     `json:"typeHint"`
}

// fieldJSON is the Field union as it arrives; exactly one member may be set.
type fieldJSON struct {
	IsNull       *bool            `json:"isNull"`
	BooleanValue *bool            `json:"booleanValue"`
	LongValue    *json.Number     `json:"longValue"`
	DoubleValue  *json.RawMessage `json:"doubleValue"`
	StringValue  *string          `json:"stringValue"`
	BlobValue    *string          `json:"blobValue"`
	ArrayValue   *json.RawMessage `json:"arrayValue"`
}

// decodeJSON decodes a request body strictly enough to report bad JSON but
// ignoring unknown members.
func decodeJSON(body []byte, v any) error {
	if r, ok := v.(*executeRequest); ok && decodeExecuteFast(body, r) {
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("Could not parse request body into json: " + jsonErrText(err))
	}
	return nil
}

func jsonErrText(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	}
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("unexpected %s for member %q", te.Value, te.Field)
	}
	return "malformed request body"
}

// toParams converts wire parameters to engine parameters.
func toParams(in []sqlParameter) ([]engine.Param, error) {
	out := make([]engine.Param, 0, len(in))
	for i, p := range in {
		v, err := p.Value.toValue()
		if err != nil {
			return nil, badRequest(fmt.Sprintf("parameters[%d] (%s): %s", i, p.Name, err.Error()))
		}
		if v.Kind == engine.KindArray {
			return nil, validation("Array parameters are not supported.")
		}
		hint, err := typeHint(p.TypeHint)
		if err != nil {
			return nil, err
		}
		out = append(out, engine.Param{Name: p.Name, Value: v, Hint: hint})
	}
	return out, nil
}

func typeHint(s string) (engine.TypeHint, error) {
	switch h := engine.TypeHint(s); h {
	case engine.HintNone, engine.HintDate, engine.HintTime, engine.HintTimestamp,
		engine.HintDecimal, engine.HintJSON, engine.HintUUID:
		return h, nil
	}
	return "", validation(fmt.Sprintf("1 validation error detected: Value '%s' at 'typeHint' failed to satisfy constraint: Member must satisfy enum value set: [JSON, UUID, TIMESTAMP, DATE, TIME, DECIMAL]", s))
}

func (f *fieldJSON) toValue() (engine.Value, error) {
	if f == nil {
		return engine.Null(), nil
	}
	n := 0
	var v engine.Value
	if f.IsNull != nil {
		n++
		v = engine.Null()
	}
	if f.BooleanValue != nil {
		n++
		v = engine.Bool(*f.BooleanValue)
	}
	if f.LongValue != nil {
		n++
		i, err := f.LongValue.Int64()
		if err != nil {
			return v, fmt.Errorf("longValue %s is not a 64-bit integer", f.LongValue.String())
		}
		v = engine.Long(i)
	}
	if f.DoubleValue != nil {
		n++
		d, err := parseDouble(*f.DoubleValue)
		if err != nil {
			return v, err
		}
		v = engine.Double(d)
	}
	if f.StringValue != nil {
		n++
		v = engine.String(*f.StringValue)
	}
	if f.BlobValue != nil {
		n++
		b, err := base64.StdEncoding.DecodeString(*f.BlobValue)
		if err != nil {
			return v, fmt.Errorf("blobValue is not valid base64")
		}
		v = engine.Blob(b)
	}
	if f.ArrayValue != nil {
		n++
		v = engine.Value{Kind: engine.KindArray}
	}
	if n > 1 {
		return v, fmt.Errorf("a Field must have exactly one member set")
	}
	return v, nil
}

// parseDouble accepts a JSON number or the strings "NaN", "Infinity",
// "-Infinity" that the Go SDK sends.
func parseDouble(raw json.RawMessage) (float64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("doubleValue %q is not a number", s)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, fmt.Errorf("doubleValue is not a number")
	}
	return f, nil
}
