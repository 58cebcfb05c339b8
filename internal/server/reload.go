package server

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/sqlgate/sqlgate/internal/config"
)

// ReloadPools applies cfg's clusters[].max_connections to the running
// clusters on SIGHUP, without dropping idle clients. The budget is shared
// by the Data API and the proxies: raising it wakes waiters at once;
// lowering it closes excess idle Data API connections, and new
// connections (Data API or proxy) wait until the open ones fall under the
// new limit. No client connection, idle or in a transaction, is closed.
// Clusters are matched by name; a cluster that is not running yet (added,
// or renamed) needs a restart and is reported in the error while the
// others are still applied. cfg must be validated (defaults applied).
func (s *Server) ReloadPools(cfg *config.Config) error {
	var errs []error
	for i, cc := range cfg.Clusters {
		c := s.cluster(cc.Name)
		if c == nil {
			errs = append(errs, &config.FieldError{Field: fmt.Sprintf("clusters[%d]", i),
				Msg: fmt.Sprintf("cluster %q is not running; adding clusters needs a restart", cc.Name)})
			continue
		}
		n := cc.MaxConnections
		if n <= 0 {
			n = config.DefaultMaxConnections
		}
		if old := c.pool.Max(); old != n {
			c.pool.SetMax(n)
			if c.budgets != nil {
				c.budgets.SetMax(n) // each instance's budget
			}
			s.log.Info("cluster connection budget changed", "cluster", c.name, "from", old, "to", n)
		}
		if err := reloadShares(c, i, cc.Limits); err != nil {
			errs = append(errs, err)
		}
	}
	if s.proxyRT != nil {
		s.proxyRT.Kick() // proxies' shares are percentages of the budget
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reload pools: %w", err)
	}
	return nil
}

// reloadShares applies the per-principal limits of a running cluster.
// Limits on a cluster started without them (or removing all of them)
// need a restart: the accounting is created at start, so that a cluster
// without limits pays nothing for it.
func reloadShares(c *cluster, i int, l config.Limits) error {
	want := sharesLimits(l)
	sh := c.exec.Shares
	switch {
	case sh == nil && !want.Enabled():
		return nil
	case sh == nil || !want.Enabled():
		return &config.FieldError{Field: fmt.Sprintf("clusters[%d].limits", i),
			Msg: "setting or removing all per-principal limits needs a restart; changing them does not"}
	}
	sh.SetLimits(want)
	return nil
}

// cluster returns the running cluster named name, or nil.
func (s *Server) cluster(name string) *cluster {
	for _, c := range s.clusters {
		if c.name == name {
			return c
		}
	}
	return nil
}

// liveSetting matches the settings SIGHUP applies to a running server:
// the SQL endpoints, API keys and usage plans, and each cluster's
// connection budget and per-principal limits.
var liveSetting = regexp.MustCompile(`^(endpoints|api_keys|usage_plans)([.\[]|$)|^clusters\[[^\]]*\]\.(max_connections$|limits([.\[]|$))`)

// RestartNeeded lists the settings that differ between the configuration
// the server started with and cfg but that only a restart applies (an
// address, a listener, a proxy's options, an added cluster…), so that a
// SIGHUP can say which edits did not take effect. cfg must be validated.
func (s *Server) RestartNeeded(cfg *config.Config) []string {
	var out []string
	for _, p := range config.Changed(s.cfg, cfg) {
		if !liveSetting.MatchString(p) {
			out = append(out, p)
		}
	}
	return out
}
