package apigw

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/endpoints"
)

// createKeyRequest is CreateApiKey's body.
type createKeyRequest struct {
	Name               string            `json:"name"`
	Description        string            `json:"description"`
	Enabled            bool              `json:"enabled"`
	GenerateDistinctID bool              `json:"generateDistinctId"`
	Value              string            `json:"value"`
	StageKeys          []stageKey        `json:"stageKeys"`
	CustomerID         string            `json:"customerId"`
	Tags               map[string]string `json:"tags"`
}

type stageKey struct {
	RestAPIID string `json:"restApiId"`
	StageName string `json:"stageName"`
}

// createAPIKey is POST /apikeys. Like API Gateway, a key is disabled
// unless the request says enabled.
func (a *API) createAPIKey(c *call) (int, any, error) {
	var req createKeyRequest
	if err := decode(c.body, &req); err != nil {
		return 0, nil, err
	}
	if req.Name == "" {
		return 0, nil, badRequest("Invalid request: name is required")
	}
	if len(req.StageKeys) > 0 {
		return 0, nil, badRequest("stageKeys are not supported: add the key to a usage plan whose apiStages name the endpoints")
	}
	if err := checkTags(req.Tags); err != nil {
		return 0, nil, err
	}
	rec, value, err := c.store.NewKey(c.ctx, endpoints.KeySpec{Name: req.Name, Description: req.Description,
		CustomerID: req.CustomerID, Value: req.Value, Disabled: !req.Enabled, Tags: req.Tags})
	if err != nil {
		return 0, nil, err
	}
	a.changed(c.ctx)
	out := keyOut(rec)
	out.Value = value
	return http.StatusCreated, out, nil
}

func checkTags(tags map[string]string) error {
	if len(tags) > 50 {
		return badRequest("Too many tags: at most 50")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 || strings.HasPrefix(k, "aws:") {
			return badRequest("Invalid tag: keys have 1 to 128 characters and do not start with aws:, values at most 256")
		}
	}
	return nil
}

func keyOut(k *endpoints.KeyRecord) *apiKeyOut {
	return &apiKeyOut{ID: k.ID, Name: k.Name, CustomerID: k.CustomerID, Description: k.Description,
		Enabled: k.Enabled(), CreatedDate: epochOf(k.Created), LastUpdatedDate: epochOf(k.Updated),
		StageKeys: []string{}, Tags: k.Tags}
}

// withValue adds the key's value when it is kept and the caller may
// apigateway:GET the key itself.
func (a *API) withValue(ctx context.Context, k *endpoints.KeyRecord, store *endpoints.Store, out *apiKeyOut) error {
	if a.authorize(ctx, http.MethodGet, "/apikeys/"+k.ID) != nil {
		return nil
	}
	v, ok, err := store.KeyValue(k)
	if err != nil {
		return err
	}
	if ok {
		out.Value = v
	}
	return nil
}

// getAPIKeys is GET /apikeys: nameQuery (a name prefix) and customerId
// filter; includeValues=true adds the values the caller may read.
func (a *API) getAPIKeys(c *call) (int, any, error) {
	q := c.r.URL.Query()
	keys, err := c.store.AllKeys(c.ctx)
	if err != nil {
		return 0, nil, err
	}
	slices.SortStableFunc(keys, func(x, y *endpoints.KeyRecord) int { return strings.Compare(x.Name, y.Name) })
	name, cust := q.Get("name"), q.Get("customerId")
	keys = slices.DeleteFunc(keys, func(k *endpoints.KeyRecord) bool {
		return !strings.HasPrefix(k.Name, name) || cust != "" && k.CustomerID != cust
	})
	p, err := pageOf(keys, q)
	if err != nil {
		return 0, nil, err
	}
	out := page[*apiKeyOut]{Position: p.Position, Items: []*apiKeyOut{}}
	for _, k := range p.Items {
		o := keyOut(k)
		if q.Get("includeValues") == "true" {
			if err := a.withValue(c.ctx, k, c.store, o); err != nil {
				return 0, nil, err
			}
		}
		out.Items = append(out.Items, o)
	}
	return http.StatusOK, out, nil
}

// getAPIKey is GET /apikeys/{id}[?includeValue=true].
func (a *API) getAPIKey(c *call) (int, any, error) {
	k, err := c.store.GetKey(c.ctx, c.segs[1])
	if err != nil {
		return 0, nil, err
	}
	out := keyOut(k)
	if c.r.URL.Query().Get("includeValue") == "true" {
		if err := a.withValue(c.ctx, k, c.store, out); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, out, nil
}

// updateAPIKey is PATCH /apikeys/{id}: replace /name, /description,
// /enabled, /customerId; add and remove /tags/KEY.
func (a *API) updateAPIKey(c *call) (int, any, error) {
	ops, err := decodePatch(c.body)
	if err != nil {
		return 0, nil, err
	}
	if err := renameFree(c, ops); err != nil {
		return 0, nil, err
	}
	k, err := c.store.UpdateKey(c.ctx, c.segs[1], func(k *endpoints.KeyRecord) error {
		for _, op := range ops {
			if err := patchKey(k, op, a.now().UTC()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	a.changed(c.ctx)
	return http.StatusOK, keyOut(k), nil
}

// renameFree refuses a rename to a name another key has.
func renameFree(c *call, ops []patchOp) error {
	keys, err := c.store.AllKeys(c.ctx)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if op.Op == "replace" && op.Path == "/name" {
			for _, k := range keys {
				if k.Name == op.value() && k.ID != c.segs[1] {
					return conflict("An API key named " + strconv.Quote(clip(k.Name)) + " already exists")
				}
			}
		}
	}
	return nil
}

// patchKey applies one operation to k.
func patchKey(k *endpoints.KeyRecord, op patchOp, now time.Time) error {
	if tag, ok := strings.CutPrefix(op.Path, "/tags/"); ok {
		return patchTag(&k.Tags, tag, op)
	}
	if op.Op != "replace" {
		return op.unsupported()
	}
	switch op.Path {
	case "/name":
		if !endpoints.ValidKeyName(op.value()) {
			return badRequest("Invalid API key name")
		}
		k.Name = op.value()
	case "/description":
		k.Description = op.value()
	case "/customerId":
		k.CustomerID = op.value()
	case "/enabled":
		on, err := op.boolValue()
		if err != nil {
			return err
		}
		k.SetEnabled(on, now)
	default:
		return op.unsupported()
	}
	return nil
}

// patchTag adds, replaces or removes one tag.
func patchTag(tags *map[string]string, key string, op patchOp) error {
	if op.Op == "remove" {
		delete(*tags, key)
		return nil
	}
	if *tags == nil {
		*tags = map[string]string{}
	}
	(*tags)[key] = op.value()
	return checkTags(*tags)
}

// deleteAPIKey is DELETE /apikeys/{id}: 202, the key stops serving at
// once; its usage counts stay.
func (a *API) deleteAPIKey(c *call) (int, any, error) {
	if err := c.store.DeleteKey(c.ctx, c.segs[1]); err != nil {
		return 0, nil, err
	}
	a.changed(c.ctx)
	return http.StatusAccepted, nil, nil
}
