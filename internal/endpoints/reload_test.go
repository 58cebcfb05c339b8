package endpoints

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

func TestHandler_Reload(t *testing.T) {
	e := newTestEnv(t, itemsYAML, itemsTable)
	ctx := context.Background()
	bad := []struct {
		name, from, to, field string
	}{
		{"undeclared placeholder", "VALUES (:key1, :key2, :price, :ok)", "VALUES (:key1, :key2, :price, :nope)", "endpoints[0].sql[0]"},
		{"two statements", "SELECT id, k1, k2 FROM items WHERE (", "SELECT 1; SELECT id, k1, k2 FROM items WHERE (", "endpoints[1].sql[0]"},
		{"unknown cluster", "cluster: lite\n    secret: app\n    sql: DELETE", "cluster: other\n    secret: app\n    sql: DELETE", "endpoints[3].cluster"},
		{"bad type", "type: boolean", "type: bool", "endpoints[0].params.ok.type"},
		{"bad cidr", "api_key_required: true\n    response", "api_key_required: true\n    allow_cidrs: [10.0.0.0/33]\n    response", "endpoints[0].allow_cidrs[0]"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(itemsYAML, tt.from) {
				t.Fatalf("test bug: %q not in config", tt.from)
			}
			cfg, err := config.Parse([]byte("clusters: [{name: lite, engine: sqlite}]\n" + strings.Replace(itemsYAML, tt.from, tt.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			err = e.h.Reload(ctx, cfg)
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("err = %v, want field %s", err, tt.field)
			}
			if st, b, _ := e.do(t, "GET", "/v1/items", "", key); st != 200 {
				t.Fatalf("old set stopped serving: %d %s", st, b)
			}
		})
	}
	t.Run("swap", func(t *testing.T) {
		cfg := testConfig(t, strings.Replace(itemsYAML, "path: /v1/items/{id}", "path: /v2/items/{id}", 1))
		if err := e.h.Reload(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := e.do(t, "GET", "/v2/items/1", "", key); st != 200 {
			t.Fatalf("new path: %d", st)
		}
		if st, _, _ := e.do(t, "GET", "/v1/items/1", "", key); st != 405 {
			t.Fatalf("old GET path: %d (DELETE still lives there)", st)
		}
	})
}

// TestHandler_ReloadUnderLoad reloads (good and bad sets) while clients
// post and read: no request may fail.
func TestHandler_ReloadUnderLoad(t *testing.T) {
	e := newTestEnv(t, itemsYAML, itemsTable)
	good := []*config.Config{testConfig(t, itemsYAML), testConfig(t, strings.Replace(itemsYAML, "page_size: 2", "page_size: 3", 1))}
	badCfg, _ := config.Parse([]byte("clusters: [{name: lite, engine: sqlite}]\n" + strings.Replace(itemsYAML, ":key2, :price", ":bad, :price", 1)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	client := e.srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 16
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				var req *http.Request
				if i%2 == 0 {
					req, _ = http.NewRequest("POST", e.srv.URL+"/v1/items", strings.NewReader(`{"key1":"w`+string(rune('a'+w))+`-`+itoa(i)+`"}`))
					req.Header.Set("Content-Type", "application/json")
				} else {
					req, _ = http.NewRequest("GET", e.srv.URL+"/v1/items?limit=2", nil)
				}
				req.Header.Set("X-Api-Key", testKey)
				resp, err := client.Do(req)
				n.Add(1)
				if err != nil || resp.StatusCode >= 300 {
					failed.Add(1)
					if err == nil {
						err = errors.New(resp.Status)
					}
					firstErr.CompareAndSwap(nil, err)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		})
	}
	reloads := 0
	for ctx.Err() == nil {
		if err := e.h.Reload(context.Background(), good[reloads%2]); err != nil {
			t.Fatal(err)
		}
		if err := e.h.Reload(context.Background(), badCfg); err == nil {
			t.Fatal("bad config accepted")
		}
		reloads++
		testdb.Elapse(time.Millisecond)
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d requests failed during %d reloads; first: %v", failed.Load(), n.Load(), reloads, firstErr.Load())
	}
	t.Logf("%d requests, %d reloads, 0 failures", n.Load(), reloads)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
