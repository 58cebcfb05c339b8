// Package endpoints serves SQL-backed HTTP endpoints: the API Gateway →
// Lambda → RDS path as a declaration. An
// endpoint binds a method and path to SQL; requests are checked against
// the endpoint's source CIDRs, an x-api-key with its usage plan (rate and
// quotas), and the declared params, then run on the cluster's pool.
//
// Unlike the AWS APIs these requests are not SigV4-signed: the x-api-key
// (stored as its SHA-256) and the allow list are the authentication.
// The compiled endpoint set is swapped atomically on Reload, so in-flight
// requests finish on the version they started with.
package endpoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/metrics"
	"github.com/sqlgate/sqlgate/internal/state"
)

// SecretSource returns a secret's ARN and SecretString (JSON with username
// and password).
type SecretSource interface {
	SecretString(ctx context.Context, id string) (arn, value string, err error)
}

// Options wire a Handler.
type Options struct {
	// Backends are the running clusters by name: the execution service
	// of each, with the same pool (and so the same connection budget) as
	// the Data API; under ReaderBackend(name), a cluster's readers (for
	// endpoints with target reader), drawing on the same budget.
	Backends map[string]*exec.Cluster
	Secrets  SecretSource
	State    state.Store
	Metrics  *metrics.Registry // nil = a private registry
	Log      *slog.Logger      // nil = slog.Default()
	// Now is the clock of rate limits and quotas (nil = time.Now).
	Now func() time.Time
	// FlushInterval is how often usage counts are written (0 = 5s).
	FlushInterval time.Duration
	// Sealer keeps the values of keys created from now on (nil = not kept).
	Sealer Sealer
	// Shared is set when several nodes share State: quotas are then
	// checked and counted in the store on every request, so they are
	// exact across the nodes.
	Shared bool
}

// Handler serves the declared endpoints and /openapi.json.
type Handler struct {
	opts    Options
	log     *slog.Logger
	store   *Store
	limiter *limiter
	usage   *usage
	m       *handlerMetrics
	cur     atomic.Pointer[set]

	reloadMu sync.Mutex     // serialises Reload
	cfg      *config.Config // the last config loaded; guarded by reloadMu

	stop chan struct{}
	done chan struct{}
}

// New compiles cfg's endpoints and starts the usage flusher. Errors in
// the declarations are *config.FieldError.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Handler, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewRegistry()
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 5 * time.Second
	}
	store := NewStore(opts.State)
	store.Now, store.Sealer = opts.Now, opts.Sealer
	h := &Handler{opts: opts, log: opts.Log.With("component", "endpoints"), store: store,
		limiter: newLimiter(opts.Now), usage: newUsage(store, opts.Now), m: newHandlerMetrics(opts.Metrics),
		stop: make(chan struct{}), done: make(chan struct{})}
	h.usage.shared = opts.Shared
	if err := h.Reload(ctx, cfg); err != nil {
		return nil, err
	}
	go h.flushLoop()
	return h, nil
}

// Reload compiles cfg's endpoints, re-reads API keys and usage plans from
// the state store, and swaps them in. On error the old set keeps serving.
func (h *Handler) Reload(ctx context.Context, cfg *config.Config) error {
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	keys, plans, err := h.store.loadKeys(ctx, cfg)
	if err != nil {
		return fmt.Errorf("load api keys: %w", err)
	}
	s, err := compile(cfg, h.opts.Backends, keys, plans)
	if err != nil {
		return err
	}
	h.cur.Store(s)
	h.cfg = cfg
	return nil
}

// Refresh re-reads API keys and usage plans from the state store with the
// current config, so a change made through any node serves at once.
func (h *Handler) Refresh(ctx context.Context) error {
	h.reloadMu.Lock()
	cfg := h.cfg
	h.reloadMu.Unlock()
	return h.Reload(ctx, cfg)
}

// Run refreshes the keys and plans whenever another process sharing the
// state store (or this one) changes them, until ctx is done. Stores that
// cannot watch are read at (re)load and after this node's own changes.
func (h *Handler) Run(ctx context.Context) error {
	w, ok := h.opts.State.(state.Watcher)
	if !ok {
		<-ctx.Done()
		return nil
	}
	return w.Watch(ctx, func(ns, key string) {
		if ns != nsKeys && ns != nsPlans && ns != state.WatchAll {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := h.Refresh(rctx); err != nil && ctx.Err() == nil {
			h.log.Warn("refresh api keys and usage plans", "err", err)
		}
	})
}

// Store returns the key and plan store the handler serves from, bound
// to the current config's declared keys and plans.
func (h *Handler) Store() *Store { return h.store }

// Endpoints returns the names of the declared endpoints.
func (h *Handler) Endpoints() []string {
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	var out []string
	for _, e := range h.cfg.Endpoints {
		out = append(out, e.Name)
	}
	return out
}

// PendingUsage returns this node's counts of a key not yet written.
func (h *Handler) PendingUsage(keyID string) map[string]int64 { return h.usage.pendingCounts(keyID) }

// Match reports whether the request's path is an endpoint's (any method)
// or /openapi.json: such requests belong to this handler, not to SigV4.
func (h *Handler) Match(r *http.Request) bool {
	if r.URL.Path == "/openapi.json" {
		return true
	}
	_, _, ok := h.cur.Load().route(r.Method, r.URL.EscapedPath())
	return ok
}

// Close stops the flusher and writes the pending usage counts.
func (h *Handler) Close() error {
	select {
	case <-h.stop:
		return nil
	default:
	}
	close(h.stop)
	<-h.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.usage.flush(ctx)
}

// Flush writes the pending usage counts now.
func (h *Handler) Flush(ctx context.Context) error { return h.usage.flush(ctx) }

func (h *Handler) flushLoop() {
	defer close(h.done)
	t := time.NewTicker(h.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := h.usage.flush(ctx); err != nil {
				h.log.Warn("write usage counts", "err", err)
			}
			cancel()
		}
	}
}

// ServeHTTP answers one request to an endpoint or /openapi.json.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.cur.Load()
	if r.URL.Path == "/openapi.json" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			(&httpError{Status: http.StatusMethodNotAllowed, Msg: "Method Not Allowed"}).write(w)
			return
		}
		writeBody(w, http.StatusOK, s.openapi)
		return
	}
	start := time.Now()
	ep, vals, _ := s.route(r.Method, r.URL.EscapedPath())
	if ep == nil {
		(&httpError{Status: http.StatusMethodNotAllowed, Msg: "Method Not Allowed"}).write(w)
		return
	}
	var keyID string
	status, err := h.serve(w, r, s, ep, vals, &keyID)
	if err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			he = &httpError{Status: http.StatusInternalServerError, Msg: msgInternal, Err: err}
		}
		he.write(w)
		status = he.Status
		h.logFailure(r, ep, keyID, he)
	}
	h.m.observe(ep.name, status, time.Since(start))
}

// logFailure logs a refused or failed request once: never its params or
// the key value, only the key ID.
func (h *Handler) logFailure(r *http.Request, ep *endpoint, keyID string, he *httpError) {
	level := slog.LevelInfo
	if he.Status >= 500 {
		level = slog.LevelError
	}
	cause := any(he.Err)
	var dbe *engine.DBError
	if he.Status < 500 && errors.As(he.Err, &dbe) {
		// A client's constraint or value error: the database's message
		// may quote the request's values, which are not logged.
		cause = "SQLSTATE " + dbe.SQLState
	}
	h.log.Log(r.Context(), level, "endpoint request failed", "endpoint", ep.name, "status", he.Status,
		"remote", r.RemoteAddr, "key", keyID, "msg", he.Msg, "err", cause)
}

// ReaderBackend is the Backends key of the readers of cluster (cluster
// names have no '/').
func ReaderBackend(cluster string) string { return cluster + "/reader" }
