package apigw

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/endpoints"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/state"
)

// fakeBackend is a Backend over a real store, counting refreshes.
type fakeBackend struct {
	store     *endpoints.Store
	stages    []string
	refreshes int
}

func (f *fakeBackend) Store() *endpoints.Store              { return f.store }
func (f *fakeBackend) Refresh(context.Context) error        { f.refreshes++; return nil }
func (f *fakeBackend) Flush(context.Context) error          { return nil }
func (f *fakeBackend) Endpoints() []string                  { return f.stages }
func (f *fakeBackend) PendingUsage(string) map[string]int64 { return nil }

var _ Backend = (*fakeBackend)(nil)

func newTestAPI(t *testing.T) (*API, *fakeBackend) {
	t.Helper()
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b := &fakeBackend{store: endpoints.NewStore(st), stages: []string{"add-item", "list-items"}}
	return New(b, iam.RootOnly{}, "us-east-1", nil), b
}

// send serves one request as root and returns the recorder.
func send(a *API, method, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r = r.WithContext(iam.WithPrincipal(r.Context(), &iam.Principal{ARN: "arn:aws:iam::000000000000:root", Root: true}, iam.RequestInfo{}))
	w := httptest.NewRecorder()
	a.Serve(w, door.Request{HTTP: r, Body: []byte(body), ID: "req-1"})
	return w
}

func TestAPI_Handle(t *testing.T) {
	a, b := newTestAPI(t)
	create := send(a, "POST", "/apikeys", `{"name":"k1","enabled":true,"value":"0123456789abcdefghijKLMN"}`)
	if create.Code != 201 {
		t.Fatalf("create: %d %s", create.Code, create.Body)
	}
	var key apiKeyOut
	_ = json.Unmarshal(create.Body.Bytes(), &key)
	if key.Value != "0123456789abcdefghijKLMN" || !key.Enabled || b.refreshes != 1 {
		t.Fatalf("created %+v, refreshes %d", key, b.refreshes)
	}
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"unknown key", "GET", "/apikeys/nope", "", 404, "NotFoundException"},
		{"same name", "POST", "/apikeys", `{"name":"k1"}`, 409, "ConflictException"},
		{"same value", "POST", "/apikeys", `{"name":"k2","value":"0123456789abcdefghijKLMN"}`, 409, "ConflictException"},
		{"short value", "POST", "/apikeys", `{"name":"k2","value":"short"}`, 400, "BadRequestException"},
		{"no name", "POST", "/apikeys", `{}`, 400, "BadRequestException"},
		{"unknown member", "POST", "/apikeys", `{"name":"k3","nope":1}`, 400, "BadRequestException"},
		{"wrong type", "POST", "/apikeys", `{"name":"k3","enabled":"yes"}`, 400, "BadRequestException"},
		{"bad JSON", "POST", "/apikeys", `{"name":`, 400, "BadRequestException"},
		{"bad patch op", "PATCH", "/apikeys/" + key.ID, `{"patchOperations":[{"op":"move","path":"/name","from":"/x"}]}`, 400, "BadRequestException"},
		{"bad patch path", "PATCH", "/apikeys/" + key.ID, `{"patchOperations":[{"op":"replace","path":"/value","value":"x"}]}`, 400, "BadRequestException"},
		{"plan unknown stage", "POST", "/usageplans", `{"name":"p","apiStages":[{"apiId":"sqlgate","stage":"nope"}]}`, 404, "NotFoundException"},
		{"plan other api", "POST", "/usageplans", `{"name":"p","apiStages":[{"apiId":"abc123","stage":"add-item"}]}`, 404, "NotFoundException"},
		{"plan bad period", "POST", "/usageplans", `{"name":"p","quota":{"limit":5,"period":"YEAR"}}`, 400, "BadRequestException"},
		{"plan burst only", "POST", "/usageplans", `{"name":"p","throttle":{"burstLimit":5}}`, 400, "BadRequestException"},
		{"unknown plan", "GET", "/usageplans/nope/usage?startDate=2026-01-01&endDate=2026-01-02", "", 404, "NotFoundException"},
		{"other operation", "GET", "/restapis", "", 404, "NotFoundException"},
		{"bad position", "GET", "/apikeys?position=x", "", 400, "BadRequestException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := send(a, tt.method, tt.path, tt.body)
			var body struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != tt.status || w.Header().Get("X-Amzn-ErrorType") != tt.code || body.Message == "" {
				t.Fatalf("got %d %s %s", w.Code, w.Header().Get("X-Amzn-ErrorType"), w.Body)
			}
		})
	}
	if w := send(a, "GET", "/usageplans", ""); w.Code != 200 || w.Body.String() != `{"item":[]}` {
		t.Fatalf("nothing half-created: %d %s", w.Code, w.Body)
	}
}

func TestAPI_UsagePlanPatch(t *testing.T) {
	a, _ := newTestAPI(t)
	w := send(a, "POST", "/usageplans", `{"name":"std","throttle":{"rateLimit":10,"burstLimit":20},"quota":{"limit":1000,"period":"MONTH","offset":10},"apiStages":[{"apiId":"sqlgate","stage":"add-item"}]}`)
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var p usagePlanOut
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	w = send(a, "PATCH", "/usageplans/"+p.ID, `{"patchOperations":[
		{"op":"replace","path":"/quota/period","value":"WEEK"},
		{"op":"replace","path":"/quota/limit","value":"500"},
		{"op":"replace","path":"/throttle/rateLimit","value":"2.5"},
		{"op":"add","path":"/apiStages","value":"sqlgate:list-items"},
		{"op":"remove","path":"/apiStages","value":"sqlgate:add-item"},
		{"op":"replace","path":"/name","value":"weekly"}]}`)
	want := `{"id":"` + p.ID + `","name":"weekly","apiStages":[{"apiId":"sqlgate","stage":"list-items"}],"throttle":{"burstLimit":20,"rateLimit":2.5},"quota":{"limit":500,"offset":10,"period":"WEEK"}}`
	if w.Code != 200 || w.Body.String() != want {
		t.Fatalf("patch: %d %s\nwant %s", w.Code, w.Body, want)
	}
	// A failing operation changes nothing.
	w = send(a, "PATCH", "/usageplans/"+p.ID, `{"patchOperations":[{"op":"replace","path":"/name","value":"x"},{"op":"replace","path":"/quota/offset","value":"900"}]}`)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("offset over the limit: %d %s", w.Code, w.Body)
	}
	if w := send(a, "GET", "/usageplans/"+p.ID, ""); w.Body.String() != want {
		t.Fatalf("after a refused patch: %s", w.Body)
	}
}

// TestAPI_KeyValues checks values are kept sealed from now on: a key
// created before (no sealed value) shows none, a new one shows its value,
// and the stored record holds only the hash and the ciphertext.
func TestAPI_KeyValues(t *testing.T) {
	a, b := newTestAPI(t)
	older, _, err := b.store.CreateKey(context.Background(), "older")
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, barrier.KeySize)
	_, _ = rand.Read(key)
	br, err := barrier.New(map[uint32][]byte{1: key}, 1)
	if err != nil {
		t.Fatal(err)
	}
	b.store.Sealer = br
	w := send(a, "POST", "/apikeys", `{"name":"newer","value":"newer-key-value-0123456789"}`)
	var created apiKeyOut
	_ = json.Unmarshal(w.Body.Bytes(), &created)
	stored, err := b.store.GetKey(context.Background(), created.ID)
	if err != nil || len(stored.Sealed) == 0 || strings.Contains(string(stored.Sealed), "newer-key-value") {
		t.Fatalf("stored record: %+v %v", stored, err)
	}
	w = send(a, "GET", "/apikeys?includeValues=true", "")
	var got page[apiKeyOut]
	_ = json.Unmarshal(w.Body.Bytes(), &got)
	values := map[string]string{}
	for _, k := range got.Items {
		values[k.ID] = k.Value
	}
	if len(values) != 2 || values[older.ID] != "" || values[created.ID] != "newer-key-value-0123456789" {
		t.Fatalf("values: %v", values)
	}
	if w := send(a, "GET", "/apikeys", ""); strings.Contains(w.Body.String(), "newer-key-value") {
		t.Fatalf("a value without includeValues: %s", w.Body)
	}
}
