package endpoints

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/config"
)

func TestStore_Keys(t *testing.T) {
	e := newTestEnv(t, itemsYAML, itemsTable)
	ctx := context.Background()
	s := NewStore(e.st)
	rec, value, err := s.CreateKey(ctx, "shop-client")
	if err != nil {
		t.Fatal(err)
	}
	if len(value) != 40 {
		t.Fatalf("value %q", value)
	}
	if _, _, err := s.CreateKey(ctx, "shop-client"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate name: %v", err)
	}
	t.Run("hashed at rest", func(t *testing.T) {
		kvs, err := e.st.List(ctx, nsKeys, "")
		if err != nil || len(kvs) != 1 {
			t.Fatal(kvs, err)
		}
		sum := sha256.Sum256([]byte(value))
		if strings.Contains(string(kvs[0].Value), value) || !strings.Contains(string(kvs[0].Value), hex.EncodeToString(sum[:])) {
			t.Fatalf("stored %s", kvs[0].Value)
		}
	})
	// The server accepts the key after a reload (keys are read at reload).
	cfg := testConfig(t, itemsYAML)
	if err := e.h.Reload(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if st, b, _ := e.do(t, "GET", "/v1/items", "", "X-Api-Key: "+value); st != 200 {
		t.Fatalf("new key: %d %s", st, b)
	}
	t.Run("plans and binding", func(t *testing.T) {
		if err := s.CreatePlan(ctx, config.UsagePlan{Name: "tiny", DailyQuota: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Bind(ctx, "nope", "shop-client", true); !errors.Is(err, ErrPlanNotFound) {
			t.Fatalf("bind unknown plan: %v", err)
		}
		r, err := s.Bind(ctx, "tiny", rec.ID, true)
		if err != nil || len(r.Plans) != 1 {
			t.Fatal(r, err)
		}
		if err := e.h.Reload(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		// One request was counted before the binding; the quota is 1.
		if st, b, _ := e.do(t, "GET", "/v1/items", "", "X-Api-Key: "+value); st != 429 {
			t.Fatalf("bound to tiny: %d %s", st, b)
		}
		if _, err := s.Bind(ctx, "tiny", "shop-client", false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		if _, err := s.RevokeKey(ctx, "shop-client"); err != nil {
			t.Fatal(err)
		}
		if err := e.h.Reload(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := e.do(t, "GET", "/v1/items", "", "X-Api-Key: "+value); st != 403 {
			t.Fatalf("revoked key: %d", st)
		}
		keys, _ := s.ListKeys(ctx)
		if len(keys) != 1 || keys[0].Revoked == nil {
			t.Fatalf("keys = %+v", keys)
		}
	})
}
