package endpoints

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/exec"
)

// Defaults for zero config values (documented on config.Endpoint).
const (
	defaultMaxBody     = 64 << 10
	defaultPageSize    = 100
	defaultMaxPageSize = 1000
)

// endpoint is one compiled config.Endpoint.
type endpoint struct {
	cfg     config.Endpoint
	name    string
	method  string
	segs    []string // path segments; "{x}" marks a parameter
	backend *exec.Cluster
	// sql are the statements; for GET the one SELECT, wrapped for paging
	// unless it binds :limit and :offset itself (selfPaged).
	sql       []string
	selfPaged bool
	dec       *decoder
	allow     []netip.Prefix
	status    int
	maxBody   int
	pageSize  int
	maxPage   int
}

// set is everything a request needs, compiled once per (re)load and
// swapped atomically, so a request sees one consistent version.
type set struct {
	static    map[string][]*endpoint // exact path → endpoints (one per method)
	templated []*endpoint
	keys      map[[32]byte]*apiKey
	plans     map[string]*plan
	openapi   []byte
}

// compile validates cfg's endpoints against the running backends and
// builds a set. Errors are *config.FieldError.
func compile(cfg *config.Config, backends map[string]*exec.Cluster, keys []*apiKey, plans map[string]*plan) (*set, error) {
	if err := cfg.ValidateEndpoints(); err != nil {
		return nil, err
	}
	s := &set{static: map[string][]*endpoint{}, keys: map[[32]byte]*apiKey{}, plans: plans}
	var all []*endpoint
	for i, ce := range cfg.Endpoints {
		ep, err := compileEndpoint(fmt.Sprintf("endpoints[%d]", i), ce, backends)
		if err != nil {
			return nil, err
		}
		all = append(all, ep)
		if slices.ContainsFunc(ep.segs, isParamSeg) {
			s.templated = append(s.templated, ep)
		} else {
			s.static[ce.Path] = append(s.static[ce.Path], ep)
		}
	}
	for _, k := range keys {
		s.keys[k.hash] = k
	}
	doc, err := openAPI(cfg, all)
	if err != nil {
		return nil, err
	}
	s.openapi = doc
	return s, nil
}

func compileEndpoint(f string, ce config.Endpoint, backends map[string]*exec.Cluster) (*endpoint, error) {
	b := backends[ce.Cluster]
	if b == nil {
		return nil, &config.FieldError{Field: f + ".cluster", Msg: fmt.Sprintf("cluster %q is not running (clusters are not reloaded; restart sqlgate)", ce.Cluster)}
	}
	if ce.ReaderTarget() {
		if b = backends[ReaderBackend(ce.Cluster)]; b == nil {
			return nil, &config.FieldError{Field: f + ".target", Msg: fmt.Sprintf("cluster %q runs without readers (instances are not reloaded; restart sqlgate)", ce.Cluster)}
		}
	}
	ep := &endpoint{cfg: ce, name: ce.Name, method: strings.ToUpper(ce.Method), backend: b,
		segs: strings.Split(ce.Path[1:], "/"), status: ce.Response.Status,
		maxBody: orDefault(ce.MaxBodyBytes, defaultMaxBody), pageSize: orDefault(ce.PageSize, defaultPageSize),
		maxPage: orDefault(ce.MaxPageSize, defaultMaxPageSize)}
	if ep.status == 0 {
		ep.status = 200
		if ep.method == "POST" {
			ep.status = 201
		}
	}
	ep.pageSize = min(ep.pageSize, ep.maxPage)
	for _, c := range ce.AllowCIDRs {
		ep.allow = append(ep.allow, netip.MustParsePrefix(c).Masked()) // validated above
	}
	var reserved []string
	if ep.method == "GET" {
		reserved = []string{"limit", "next"}
	}
	dec, err := newDecoder(ce.Params, reserved...)
	if err != nil {
		return nil, &config.FieldError{Field: f + ".params", Msg: err.Error()}
	}
	ep.dec = dec
	if err := ep.compileSQL(f); err != nil {
		return nil, err
	}
	return ep, nil
}

// compileSQL checks every statement is one statement whose placeholders
// are all declared, and prepares GET paging.
func (ep *endpoint) compileSQL(f string) error {
	for j, sql := range ep.cfg.SQL {
		sf := fmt.Sprintf("%s.sql[%d]", f, j)
		sql = strings.TrimRight(strings.TrimSpace(sql), ";")
		st, err := engine.Rewrite(sql, ep.backend.Dialect)
		if err != nil {
			return &config.FieldError{Field: sf, Msg: err.Error()}
		}
		if st.Multi {
			return &config.FieldError{Field: sf, Msg: "holds more than one statement; give a list with transaction: true"}
		}
		if err := exec.Check(sql, ep.backend.Dialect, ep.cfg.Transaction); err != nil {
			return &config.FieldError{Field: sf, Msg: "is a transaction-control statement; declare transaction: true to run the list in one transaction"}
		}
		var usesLimit, usesOffset bool
		for _, n := range st.Names {
			switch {
			case ep.method == "GET" && n == "limit":
				usesLimit = true
			case ep.method == "GET" && n == "offset":
				usesOffset = true
			case ep.cfg.Params[n].From == "":
				return &config.FieldError{Field: sf, Msg: fmt.Sprintf("placeholder :%s has no entry under params", n)}
			}
		}
		if usesLimit != usesOffset {
			return &config.FieldError{Field: sf, Msg: "a GET statement pages with both :limit and :offset, or with neither"}
		}
		ep.selfPaged = usesLimit
		ep.sql = append(ep.sql, sql)
	}
	if ep.method == "GET" {
		if _, ok := ep.cfg.Params["limit"]; ok {
			return &config.FieldError{Field: f + ".params.limit", Msg: "limit is bound by the pagination of GET endpoints"}
		}
		if _, ok := ep.cfg.Params["offset"]; ok {
			return &config.FieldError{Field: f + ".params.offset", Msg: "offset is bound by the pagination of GET endpoints"}
		}
	}
	return nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func isParamSeg(s string) bool { return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") }

// route finds the endpoint for a request path. ok is false when no
// endpoint has this path; ep is nil (with ok) when none has this method.
// Static paths win over templates; templates are tried in config order.
func (s *set) route(method, escapedPath string) (ep *endpoint, vals map[string]string, ok bool) {
	path, err := url.PathUnescape(escapedPath)
	if err == nil {
		if eps := s.static[path]; len(eps) > 0 {
			for _, e := range eps {
				if e.method == method {
					return e, nil, true
				}
			}
			ok = true
		}
	}
	if len(s.templated) == 0 || !strings.HasPrefix(escapedPath, "/") {
		return nil, nil, ok
	}
	segs := strings.Split(escapedPath[1:], "/")
	for _, e := range s.templated {
		v, match := e.match(segs)
		if !match {
			continue
		}
		ok = true
		if e.method == method {
			return e, v, true
		}
	}
	return nil, nil, ok
}

// match matches escaped path segments against the template.
func (ep *endpoint) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(ep.segs) {
		return nil, false
	}
	var vals map[string]string
	for i, t := range ep.segs {
		s, err := url.PathUnescape(segs[i])
		if err != nil {
			return nil, false
		}
		if !isParamSeg(t) {
			if s != t {
				return nil, false
			}
			continue
		}
		if s == "" {
			return nil, false
		}
		if vals == nil {
			vals = map[string]string{}
		}
		vals[t[1:len(t)-1]] = s
	}
	return vals, true
}
