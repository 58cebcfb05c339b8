// Package server wires sqlgate's parts into one process and serves them:
// it opens the state store, secrets, identities and clusters, builds the
// APIs (Data API, Secrets Manager, IAM/STS, RDS, API Gateway, workloads),
// the SQL endpoints, the console and the proxies, owns the listeners,
// routes each request to its door after authn authenticates it, runs the
// background tasks, reloads, and shuts down gracefully. The doors do
// their own work; this package decides nothing about a request.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/apigw"
	"github.com/sqlgate/sqlgate/internal/arn"
	"github.com/sqlgate/sqlgate/internal/authn"
	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/dataapi"
	"github.com/sqlgate/sqlgate/internal/endpoints"
	"github.com/sqlgate/sqlgate/internal/iamapi"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/lease"
	"github.com/sqlgate/sqlgate/internal/oidc"
	"github.com/sqlgate/sqlgate/internal/rdsapi"
	"github.com/sqlgate/sqlgate/internal/rotation"
	"github.com/sqlgate/sqlgate/internal/secretsapi"
	"github.com/sqlgate/sqlgate/internal/state"
	"github.com/sqlgate/sqlgate/internal/tlscert"
	"github.com/sqlgate/sqlgate/internal/txn"
	"github.com/sqlgate/sqlgate/internal/workload"
)

// Options are process-level inputs that are not configuration.
type Options struct {
	Log    *slog.Logger
	Stdout io.Writer // where first-start instructions are printed
}

// Server is one running sqlgate process.
type Server struct {
	cfg     *config.Config
	log     *slog.Logger
	stdout  io.Writer
	root    RootKey
	store   state.Store
	unlock  func()
	secrets *secretStore
	rotator *rotation.Rotator
	// defaultSecretARN is the ARN of the secret "default", when it exists.
	defaultSecretARN string
	clusters         []*cluster
	leases           *lease.Manager // shared budgets; nil alone (leases.go)
	txns             *txn.Manager
	metrics          *serverMetrics
	authn            *authn.Authenticator // every door's authentication

	dataAPI    *dataapi.API
	secretsAPI *secretsapi.API
	iamAPI     *iamapi.API
	// rdsAPI and rdsStore serve the RDS API; proxyRT runs the proxies
	// (rds.go, proxy_runtime.go).
	rdsAPI    *rdsapi.API
	rdsStore  *rdsapi.Store
	proxyRT   *proxyRuntime
	ids       *identity.Store
	endpoints *endpoints.Handler // SQL-backed HTTP endpoints (endpoints.go)
	apigwAPI  *apigw.API         // their API keys and usage plans, online
	sealer    *barrier.Barrier   // the secret barrier (secrets.go)
	console   http.Handler       // the web console at /console/ (console.go)
	// workloads and credsHandler issue workload credentials (workloads.go).
	workloads    *workload.Store
	credsHandler http.Handler
	workloadAPI  *workload.API
	oidcKeys     *oidc.Keys // web identity token keys (workloads.go)

	bg tasks // goroutines started by Run; waited for before Close

	mu        sync.Mutex // guards following fields
	listeners []net.Listener
	httpSrvs  []*http.Server
	tlsCert   *tlscert.Store
	proxies   []frontEnd
}

// startTimeout bounds each start-up step that waits on the network (the
// state store, the default secret, endpoint state), so a store that accepts
// connections and never answers cannot hold start-up forever.
const startTimeout = 30 * time.Second

// New opens the state store, secrets and clusters. It does not listen.
// Cancelling ctx (e.g. SIGTERM during start-up) makes it give up cleanly:
// what it opened is closed and the error wraps ctx's.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Server, error) {
	s := &Server{cfg: cfg, log: opts.Log, stdout: opts.Stdout}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.stdout == nil {
		s.stdout = os.Stdout
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			s.closeStores()
		}
	}()
	if err := s.openState(ctx); err != nil {
		return nil, err
	}
	root, created, err := LoadRootKey(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.root = root
	s.authn = authn.New(authn.Config{Region: cfg.Region, Account: cfg.AccountID,
		RootKeyID: root.AccessKeyID, RootSecret: root.SecretAccessKey, Identities: s.ids})
	s.metrics = newServerMetrics()
	s.txns = txn.New(3*time.Minute, 24*time.Hour)
	if err := s.openClusters(); err != nil {
		return nil, err
	}
	s.openLeases(ctx)
	if err := s.ensureDefaultSecret(ctx); err != nil {
		return nil, err
	}
	if err := s.wireAPIs(ctx); err != nil {
		return nil, err
	}
	s.metrics.register(s)
	if err := s.openEndpoints(ctx); err != nil {
		return nil, err
	}
	if created {
		s.printWelcome()
	}
	ok = true
	return s, nil
}

func (s *Server) openState(ctx context.Context) error {
	unlock, err := state.LockDir(s.cfg.DataDir)
	if err != nil {
		return err
	}
	s.unlock = unlock
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	st, err := state.Open(ctx, s.cfg.State.Driver, s.cfg.State.DSN, s.cfg.DataDir)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("open state store: gave up (%w): %w", context.Cause(ctx), err)
		}
		return fmt.Errorf("open state store: %w", err)
	}
	s.store = st
	return s.openSecrets()
}

func (s *Server) wireAPIs(ctx context.Context) error {
	var cls []*dataapi.Cluster
	for _, c := range s.clusters {
		cls = append(cls, c.api)
	}
	authz := identity.Authorizer{Store: s.ids}
	s.dataAPI = dataapi.New(dataapi.Config{Region: s.cfg.Region, Account: s.cfg.AccountID, Clusters: cls,
		Secrets: s.dataSecrets(authz), Authorizer: authz, Txns: s.txns, Log: s.log.With("component", "dataapi"), Observer: s.metrics})
	s.rotator = s.newRotator()
	s.secretsAPI = s.newSecretsAPI(authz)
	s.openWorkloads()
	ia := iamapi.New(s.ids, authz, s.cfg.AccountID, s.log.With("component", "iamapi"))
	ia.EnableWebIdentity(s.ids, s.oidcKeys)
	s.iamAPI = ia
	s.console = s.newConsole()
	return s.openRDS(ctx, authz)
}

// ClusterARN returns the ARN of a configured cluster.
func (s *Server) ClusterARN(name string) string {
	return arn.Cluster(s.cfg.Region, s.cfg.AccountID, name)
}

// Run listens on the configured addresses and serves until ctx is done,
// then shuts down gracefully: stop accepting, finish in-flight requests,
// roll back open transactions, close pools and the state store.
func (s *Server) Run(ctx context.Context) error {
	if err := s.listen(); err != nil {
		s.Close()
		return err
	}
	if err := s.startProxies(ctx); err != nil {
		s.stopProxies(context.Background())
		s.closeListeners()
		s.Close()
		return err
	}
	bgCtx, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	s.bg.log, s.bg.panics = s.log, s.metrics.taskPanics
	s.bg.GoLoop(bgCtx, "txn-reaper", s.txns.Run)
	s.bg.GoLoop(bgCtx, "identity-watcher", func(ctx context.Context) { s.ids.Run(ctx, s.log.With("component", "identity")) })
	s.bg.GoLoop(bgCtx, "secret-rotation", s.rotator.Run)
	s.bg.GoLoop(bgCtx, "rds-watcher", s.watchRDS)
	s.bg.GoLoop(bgCtx, "proxy-runtime", s.proxyRT.run)
	s.bg.GoLoop(bgCtx, "api-key-watcher", s.watchEndpointKeys)
	s.runTopologies(bgCtx)
	s.runLeases(bgCtx)
	s.bg.GoLoop(bgCtx, "secret-watcher", func(ctx context.Context) {
		if err := s.secrets.Run(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("secret cache watcher stopped", "err", err)
		}
	})
	errc := make(chan error, len(s.httpSrvs))
	for i, srv := range s.httpSrvs {
		l := s.listeners[i]
		s.bg.Go("http-serve", func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		})
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, srv := range s.httpSrvs {
		_ = srv.Shutdown(sctx)
	}
	s.drainLean(sctx)
	s.stopProxies(sctx)
	open := s.txns.Count()
	stopBg()
	s.bg.Wait()
	s.log.Info("stopped", "rolled_back_transactions", open-s.txns.Count())
	s.Close()
	return runErr
}

// Addrs returns the bound listener addresses (after Run started listening).
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []net.Addr
	for _, l := range s.listeners {
		out = append(out, l.Addr())
	}
	return out
}

// Handler returns the HTTP handler (for in-process tests).
func (s *Server) Handler(secure bool) http.Handler { return &handler{s: s, secure: secure} }

// Close releases pools, engines and the state store.
func (s *Server) Close() {
	s.txns.RollbackAll()
	s.closeEndpoints()
	for _, c := range s.clusters {
		c.close()
	}
	s.leaveLeases()
	s.closeStores()
}

func (s *Server) closeStores() {
	if s.ids != nil {
		s.ids.Wait() // last-use writes still running
	}
	if s.store != nil {
		_ = s.store.Close()
		s.store = nil
	}
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
}

// ready answers /readyz: state store open and each cluster reachable.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	out := map[string]any{}
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		out["state"], status = "down", http.StatusServiceUnavailable
	} else {
		out["state"] = "ok"
	}
	cl := map[string]string{}
	for _, c := range s.clusters {
		cl[c.name] = c.probe(ctx)
	}
	out["clusters"] = cl
	writeJSON(w, status, out)
}
