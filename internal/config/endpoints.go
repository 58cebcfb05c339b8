package config

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Endpoint is one HTTP endpoint bound to SQL: the API Gateway → Lambda →
// RDS path as a declaration. Requests need no
// SigV4 signature; they are checked against AllowCIDRs, an x-api-key when
// APIKeyRequired, the key's usage plan and the declared Params.
type Endpoint struct {
	// Name identifies the endpoint in usage plans, metrics and OpenAPI
	// (operationId): letters, digits, '-' and '_'.
	Name string `yaml:"name"`
	// Method is GET, POST, PUT, PATCH or DELETE.
	Method string `yaml:"method"`
	// Path is the URL path; a whole segment "{name}" is a path parameter,
	// which must be declared with from: path.
	Path string `yaml:"path"`
	// Cluster names the cluster the SQL runs on.
	Cluster string `yaml:"cluster"`
	// Target is writer (default) or reader: the cluster's readers, chosen
	// as for a read-only proxy endpoint (cluster readers section).
	Target string `yaml:"target"`
	// Secret names the secret (username/password) used to log in.
	Secret string `yaml:"secret"`
	// Database is the database to use ("" = the cluster's default).
	Database string `yaml:"database"`
	// SQL is one statement, or with Transaction a list run in one
	// transaction. ":name" placeholders are bound from Params.
	SQL Statements `yaml:"sql"`
	// Params says where each :name comes from, its type and validation.
	Params map[string]Param `yaml:"params"`
	// APIKeyRequired demands a valid x-api-key header.
	APIKeyRequired bool `yaml:"api_key_required"`
	// AllowCIDRs restricts the client source address; empty = any.
	AllowCIDRs []string `yaml:"allow_cidrs"`
	// Response configures the success answer.
	Response Response `yaml:"response"`
	// Transaction runs the statements of SQL in one transaction.
	Transaction bool `yaml:"transaction"`
	// ExposeDBErrors returns the database's error message to the client;
	// false (default) answers with a generic message.
	ExposeDBErrors bool `yaml:"expose_db_errors"`
	// MaxBodyBytes bounds the request body (0 = 65536); larger → 413.
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// PageSize is a GET endpoint's default page size (0 = 100);
	// MaxPageSize bounds the limit a client may ask for (0 = 1000).
	PageSize    int `yaml:"page_size"`
	MaxPageSize int `yaml:"max_page_size"`
	// Description appears in the OpenAPI document.
	Description string `yaml:"description"`
}

// Statements is one SQL statement or a list; YAML accepts a string or a
// sequence of strings.
type Statements []string

// UnmarshalYAML accepts "sql: TEXT" and "sql: [TEXT, …]".
func (s *Statements) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = Statements{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

// Response is an endpoint's success response.
type Response struct {
	// Status is the HTTP status on success (0 = 200; POST 0 = 201).
	Status int `yaml:"status"`
}

// Param is where one :name comes from and how it is validated.
type Param struct {
	// From is body, query, path or header.
	From string `yaml:"from"`
	// Type is string, integer, number or boolean.
	Type string `yaml:"type"`
	// Required rejects a request without the field; an absent optional
	// field binds NULL. Path parameters are always required.
	Required bool `yaml:"required"`
	// MaxLength bounds a string in characters (0 = no limit).
	MaxLength int `yaml:"max_length"`
	// Min and Max bound a number or integer (nil = no bound).
	Min *float64 `yaml:"min"`
	Max *float64 `yaml:"max"`
	// Pattern is a regular expression (RE2) a string must match.
	Pattern string `yaml:"pattern"`
	// Name is the query parameter or header name when it differs from the
	// :name (e.g. X-Tenant-Id); unused for body and path.
	Name string `yaml:"name"`
	// Description appears in the OpenAPI document.
	Description string `yaml:"description"`
}

// APIKey declares an API key in the config (keys can also be created with
// `sqlgate apikeys create`). Exactly one of Value and ValueSHA256 is set;
// Value is hashed at load and never stored.
type APIKey struct {
	Name string `yaml:"name"`
	// Value is the key itself, e.g. "$ITEMS_API_KEY" (at least 20 chars).
	Value string `yaml:"value"`
	// ValueSHA256 is the hex SHA-256 of the key.
	ValueSHA256 string `yaml:"value_sha256"`
	// UsagePlans bind the key to usage plans declared in the config.
	UsagePlans []string `yaml:"usage_plans"`
}

// UsagePlan limits the keys bound to it (API Gateway usage plans).
type UsagePlan struct {
	Name string `yaml:"name"`
	// Rate is the steady request rate per second per key (0 = no limit).
	Rate float64 `yaml:"rate"`
	// Burst is the token bucket size (0 = max(1, rate)).
	Burst int `yaml:"burst"`
	// DailyQuota, WeeklyQuota and MonthlyQuota bound requests per key per
	// UTC day, ISO week (from Monday 00:00 UTC) and calendar month
	// (0 = no quota).
	DailyQuota   int64 `yaml:"daily_quota"`
	WeeklyQuota  int64 `yaml:"weekly_quota"`
	MonthlyQuota int64 `yaml:"monthly_quota"`
	// Endpoints are the endpoint names the plan covers (empty = all).
	Endpoints []string `yaml:"endpoints"`
}

var (
	endpointName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	paramName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	pathSegment  = regexp.MustCompile(`^[A-Za-z0-9._~!$&'()*+,;=:@-]+$`)
)

// reservedPaths are served by sqlgate itself or by the AWS APIs.
var reservedPaths = []string{"/", "/healthz", "/readyz", "/metrics", "/openapi.json",
	"/execute", "/batchexecute", "/begintransaction", "/committransaction", "/rollbacktransaction", "/executesql"}

// APIGatewayPaths are the first path segments of the API Gateway
// management API (REST-JSON) that sqlgate serves or reserves: requests
// under them are API Gateway calls, never SQL endpoints.
var APIGatewayPaths = []string{"account", "apikeys", "clientcertificates", "domainnames", "restapis",
	"sdktypes", "tags", "usageplans", "vpclinks"}

// IsAPIGatewayPath reports whether path lies under one of APIGatewayPaths.
func IsAPIGatewayPath(path string) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	for i := 0; i < len(first); i++ {
		if first[i] >= 0x80 {
			// Unicode lower-casing can turn other letters into ASCII ones.
			return slices.Contains(APIGatewayPaths, strings.ToLower(first))
		}
	}
	// ASCII: the paths are lower-case ASCII, so a case-insensitive match
	// is strings.ToLower's, without building the lower-case copy.
	return slices.ContainsFunc(APIGatewayPaths, func(p string) bool { return strings.EqualFold(p, first) })
}

// ValidateEndpoints checks endpoints, api_keys and usage_plans.
func (c *Config) ValidateEndpoints() error {
	clusters, replicated := map[string]bool{}, map[string]bool{}
	for _, cl := range c.Clusters {
		clusters[cl.Name] = true
		replicated[cl.Name] = cl.Replicated()
	}
	names, routes := map[string]bool{}, map[string]string{}
	for i, ep := range c.Endpoints {
		f := fmt.Sprintf("endpoints[%d]", i)
		if err := validateEndpoint(f, ep, clusters); err != nil {
			return err
		}
		if err := validateEndpointTarget(f, ep, replicated[ep.Cluster]); err != nil {
			return err
		}
		if names[ep.Name] {
			return &FieldError{f + ".name", fmt.Sprintf("duplicate endpoint name %q", ep.Name)}
		}
		names[ep.Name] = true
		route := strings.ToUpper(ep.Method) + " " + RouteShape(ep.Path)
		if other, ok := routes[route]; ok {
			return &FieldError{f + ".path", fmt.Sprintf("%s %s is already served by endpoint %q", ep.Method, ep.Path, other)}
		}
		routes[route] = ep.Name
	}
	plans := map[string]bool{}
	for i, p := range c.UsagePlans {
		f := fmt.Sprintf("usage_plans[%d]", i)
		if err := ValidateUsagePlan(f, p, names); err != nil {
			return err
		}
		if plans[p.Name] {
			return &FieldError{f + ".name", fmt.Sprintf("duplicate usage plan %q", p.Name)}
		}
		plans[p.Name] = true
	}
	keys := map[string]bool{}
	for i, k := range c.APIKeys {
		f := fmt.Sprintf("api_keys[%d]", i)
		if err := validateAPIKey(f, k, plans); err != nil {
			return err
		}
		if keys[k.Name] {
			return &FieldError{f + ".name", fmt.Sprintf("duplicate api key name %q", k.Name)}
		}
		keys[k.Name] = true
	}
	return nil
}

// RouteShape returns path with every "{param}" segment replaced by "{}",
// so two templates that match the same requests compare equal.
func RouteShape(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

func validateEndpoint(f string, ep Endpoint, clusters map[string]bool) error {
	if !endpointName.MatchString(ep.Name) {
		return &FieldError{f + ".name", fmt.Sprintf("invalid endpoint name %q (letters, digits, '-' and '_', at most 64)", ep.Name)}
	}
	method := strings.ToUpper(ep.Method)
	if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, method) {
		return &FieldError{f + ".method", fmt.Sprintf("unknown method %q (want GET, POST, PUT, PATCH or DELETE)", ep.Method)}
	}
	pathParams, err := pathTemplateParams(ep.Path)
	if err != nil {
		return &FieldError{f + ".path", err.Error()}
	}
	if !clusters[ep.Cluster] {
		return &FieldError{f + ".cluster", fmt.Sprintf("unknown cluster %q", ep.Cluster)}
	}
	if ep.Secret == "" {
		return &FieldError{f + ".secret", "required: the secret whose username/password log into the database"}
	}
	if err := validateSQL(f, ep, method); err != nil {
		return err
	}
	if err := validateParams(f+".params", ep, method, pathParams); err != nil {
		return err
	}
	for j, cidr := range ep.AllowCIDRs {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			return &FieldError{fmt.Sprintf("%s.allow_cidrs[%d]", f, j), fmt.Sprintf("invalid CIDR %q (want e.g. 10.0.0.0/8)", cidr)}
		}
	}
	if s := ep.Response.Status; s != 0 && (s < 200 || s > 299 || s == 204 && method == "GET") {
		return &FieldError{f + ".response.status", fmt.Sprintf("invalid status %d (want 200-299)", s)}
	}
	if ep.MaxBodyBytes < 0 || ep.PageSize < 0 || ep.MaxPageSize < 0 {
		return &FieldError{f, "max_body_bytes, page_size and max_page_size must not be negative"}
	}
	if ep.MaxPageSize > 0 && ep.PageSize > ep.MaxPageSize {
		return &FieldError{f + ".page_size", "must not exceed max_page_size"}
	}
	return nil
}

func validateSQL(f string, ep Endpoint, method string) error {
	if len(ep.SQL) == 0 {
		return &FieldError{f + ".sql", "required"}
	}
	for j, s := range ep.SQL {
		if strings.TrimSpace(s) == "" {
			return &FieldError{fmt.Sprintf("%s.sql[%d]", f, j), "empty statement"}
		}
	}
	if len(ep.SQL) > 1 && !ep.Transaction {
		return &FieldError{f + ".sql", "a list of statements needs transaction: true"}
	}
	if method == "GET" && ep.Transaction {
		return &FieldError{f + ".transaction", "GET endpoints run one SELECT (paginated); use POST for a transaction"}
	}
	return nil
}

func validateParams(f string, ep Endpoint, method string, pathParams []string) error {
	for _, pp := range pathParams {
		p, ok := ep.Params[pp]
		if !ok || p.From != "path" {
			return &FieldError{f + "." + pp, fmt.Sprintf("path parameter {%s} needs a param with from: path", pp)}
		}
	}
	for name, p := range ep.Params {
		pf := f + "." + name
		if !paramName.MatchString(name) {
			return &FieldError{pf, "invalid parameter name (letters, digits and _, not starting with a digit)"}
		}
		switch p.From {
		case "body":
			if method == "GET" {
				return &FieldError{pf + ".from", "GET endpoints take no body; use query"}
			}
		case "query":
			if method == "GET" && (p.WireName(name) == "limit" || p.WireName(name) == "next") {
				return &FieldError{pf, "limit and next are the pagination parameters of GET endpoints"}
			}
		case "header":
			if strings.EqualFold(p.WireName(name), "x-api-key") {
				return &FieldError{pf + ".name", "x-api-key is the API key header"}
			}
		case "path":
			if !slices.Contains(pathParams, name) {
				return &FieldError{pf + ".from", fmt.Sprintf("path %q has no segment {%s}", ep.Path, name)}
			}
		default:
			return &FieldError{pf + ".from", fmt.Sprintf("unknown source %q (want body, query, path or header)", p.From)}
		}
		if err := validateParamType(pf, p); err != nil {
			return err
		}
	}
	return nil
}

func validateParamType(pf string, p Param) error {
	switch p.Type {
	case "string":
		if p.Min != nil || p.Max != nil {
			return &FieldError{pf, "min and max apply to integer and number; use max_length"}
		}
	case "integer", "number":
		if p.MaxLength != 0 || p.Pattern != "" {
			return &FieldError{pf, "max_length and pattern apply to strings"}
		}
		if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
			return &FieldError{pf + ".min", "greater than max"}
		}
	case "boolean":
		if p.MaxLength != 0 || p.Pattern != "" || p.Min != nil || p.Max != nil {
			return &FieldError{pf, "a boolean takes no max_length, pattern, min or max"}
		}
	default:
		return &FieldError{pf + ".type", fmt.Sprintf("unknown type %q (want string, integer, number or boolean)", p.Type)}
	}
	if p.MaxLength < 0 {
		return &FieldError{pf + ".max_length", "must not be negative"}
	}
	if p.Pattern != "" {
		if _, err := regexp.Compile(p.Pattern); err != nil {
			return &FieldError{pf + ".pattern", err.Error()}
		}
	}
	return nil
}

// WireName is the query parameter or header name of a param declared as
// name: Name when set, else name.
func (p Param) WireName(name string) string {
	if p.Name != "" && (p.From == "query" || p.From == "header") {
		return p.Name
	}
	return name
}

// pathTemplateParams checks a path template and returns its {params}.
func pathTemplateParams(path string) ([]string, error) {
	if !strings.HasPrefix(path, "/") || len(path) > 1024 {
		return nil, fmt.Errorf("invalid path %q (want /segment/…, at most 1024 bytes)", path)
	}
	lp := strings.ToLower(strings.TrimSuffix(path, "/"))
	if slices.Contains(reservedPaths, lp) || path == "/" || strings.HasPrefix(lp+"/", "/console/") {
		return nil, fmt.Errorf("path %q is served by sqlgate itself", path)
	}
	if IsAPIGatewayPath(path) {
		return nil, fmt.Errorf("path %q is reserved for the API Gateway API (/%s/…)", path, strings.Join(APIGatewayPaths, ", /"))
	}
	var params []string
	for _, seg := range strings.Split(path[1:], "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := seg[1 : len(seg)-1]
			if !paramName.MatchString(name) {
				return nil, fmt.Errorf("invalid path parameter %q", seg)
			}
			if slices.Contains(params, name) {
				return nil, fmt.Errorf("path parameter {%s} appears twice", name)
			}
			params = append(params, name)
			continue
		}
		if !pathSegment.MatchString(seg) {
			return nil, fmt.Errorf("invalid path segment %q in %q", seg, path)
		}
	}
	return params, nil
}

// ValidateUsagePlan checks one plan; endpoints are the declared endpoint
// names (nil = do not check plan endpoints).
func ValidateUsagePlan(f string, p UsagePlan, endpoints map[string]bool) error {
	if !endpointName.MatchString(p.Name) {
		return &FieldError{f + ".name", fmt.Sprintf("invalid usage plan name %q", p.Name)}
	}
	if p.Rate < 0 || p.Burst < 0 || p.DailyQuota < 0 || p.WeeklyQuota < 0 || p.MonthlyQuota < 0 {
		return &FieldError{f, "rate, burst and quotas must not be negative"}
	}
	if p.Burst > 0 && p.Rate == 0 {
		return &FieldError{f + ".burst", "needs a rate"}
	}
	for j, e := range p.Endpoints {
		if endpoints != nil && !endpoints[e] {
			return &FieldError{fmt.Sprintf("%s.endpoints[%d]", f, j), fmt.Sprintf("unknown endpoint %q", e)}
		}
	}
	return nil
}

func validateAPIKey(f string, k APIKey, plans map[string]bool) error {
	if !endpointName.MatchString(k.Name) {
		return &FieldError{f + ".name", fmt.Sprintf("invalid api key name %q", k.Name)}
	}
	switch {
	case k.Value != "" && k.ValueSHA256 != "":
		return &FieldError{f, "set value or value_sha256, not both"}
	case k.Value != "":
		if len(k.Value) < 20 || len(k.Value) > 128 {
			return &FieldError{f + ".value", "an API key has 20 to 128 characters"}
		}
	case k.ValueSHA256 != "":
		if b, err := hex.DecodeString(k.ValueSHA256); err != nil || len(b) != 32 {
			return &FieldError{f + ".value_sha256", "want 64 hex digits (sha256sum of the key)"}
		}
	default:
		return &FieldError{f + ".value", "required (or value_sha256)"}
	}
	for j, p := range k.UsagePlans {
		if !plans[p] {
			return &FieldError{fmt.Sprintf("%s.usage_plans[%d]", f, j), fmt.Sprintf("unknown usage plan %q (declare it under usage_plans)", p)}
		}
	}
	return nil
}
