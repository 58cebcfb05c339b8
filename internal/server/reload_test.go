package server

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
)

// TestServer_ReloadPools changes max_connections on a running server with
// idle proxy clients: the new budget applies to the Data API and new
// proxy connections at once, and no client is disconnected.
func TestServer_ReloadPools(t *testing.T) {
	ctx := context.Background()
	pg, my := proxyTargets(t, 4)
	cfg := configFor(pg, my)
	rs := startRunning(t, cfg, pg, my)

	// Three pg clients in concurrent transactions leave three idle proxy
	// connections behind; two pinned MySQL client connections sit idle.
	pgClients := []*pgx.Conn{rs.pgConnect(t), rs.pgConnect(t), rs.pgConnect(t)}
	for _, c := range pgClients {
		if _, err := c.Exec(ctx, "begin; select 1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range pgClients {
		if _, err := c.Exec(ctx, "commit"); err != nil {
			t.Fatal(err)
		}
	}
	db := rs.myDB(t)
	var myClients []*sql.Conn
	for range 2 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ExecContext(ctx, "select 1"); err != nil {
			t.Fatal(err)
		}
		myClients = append(myClients, c)
	}
	if err := rs.dataAPI(ctx, "pg", "select 1"); err != nil {
		t.Fatalf("Data API on the fourth slot: %v", err)
	}

	reload := func(pgMax, myMax int, extra ...config.Cluster) error {
		next := *cfg
		next.Clusters = append([]config.Cluster(nil), cfg.Clusters...)
		for i := range next.Clusters {
			switch next.Clusters[i].Name {
			case "pg":
				next.Clusters[i].MaxConnections = pgMax
			case "maria":
				next.Clusters[i].MaxConnections = myMax
			}
		}
		next.Clusters = append(next.Clusters, extra...)
		return rs.srv.ReloadPools(&next)
	}
	if err := reload(2, 6); err != nil {
		t.Fatal(err)
	}
	if got, want := [2]int{rs.srv.cluster("pg").pool.Max(), rs.srv.cluster("maria").pool.Max()}, [2]int{2, 6}; got != want {
		t.Fatalf("budgets %v, want %v", got, want)
	}
	// Lowered: the Data API's idle connection and the idle proxy
	// connections over the new budget of 2 were closed (pool evictors),
	// and the Data API still gets a slot by evicting another idle one.
	if err := rs.dataAPI(ctx, "pg", "select 1"); err != nil {
		t.Fatalf("Data API after lowering the budget: %v", err)
	}
	if st := rs.srv.cluster("pg").pool.Stats(); st.Busy+st.Idle > 2 {
		t.Fatalf("pg connections after lowering the budget to 2: %+v", st)
	}
	// Every idle client is still connected and served.
	var wg sync.WaitGroup
	errs := make(chan error, len(pgClients)+len(myClients))
	for _, c := range pgClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Exec(ctx, "select 1"); err != nil {
				errs <- err
			}
		}()
	}
	for _, c := range myClients {
		if _, err := c.ExecContext(ctx, "select 1"); err != nil {
			errs <- err
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("idle client after reload: %v", err)
	}
	for _, c := range myClients {
		_ = c.Close()
	}

	// Raised: the Data API gets a connection again at once.
	if err := reload(5, 6); err != nil {
		t.Fatal(err)
	}
	if err := rs.dataAPI(ctx, "pg", "select 1"); err != nil {
		t.Fatalf("Data API after raising the budget: %v", err)
	}

	// A cluster that is not running is reported; the others still apply.
	err := reload(3, 6, config.Cluster{Name: "new", Engine: "sqlite", MaxConnections: 1})
	var fe *config.FieldError
	if !errors.As(err, &fe) || fe.Field != "clusters[2]" {
		t.Fatalf("reload with a new cluster: %v, want a clusters[2] field error", err)
	}
	if got := rs.srv.cluster("pg").pool.Max(); got != 3 {
		t.Fatalf("pg budget %d after a partly failed reload, want 3", got)
	}
}
