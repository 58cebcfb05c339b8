package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
)

// The online commands: the same output as offline, through the API
// Gateway API of a running server.

func (o *onlineKeys) create(name, plan string) error {
	var k gwKey
	if err := o.g.call(o.ctx, http.MethodPost, "/apikeys", nil, map[string]any{"name": name, "enabled": true}, &k); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "API_KEY=%s\n# api key %s (%s); it serves now, on every node\n", k.Value, k.Name, k.ID)
	if plan != "" {
		if err := o.bind(plan, k.ID, true); err != nil {
			return fmt.Errorf("created api key %s (%s) but: %w", k.Name, k.ID, err)
		}
	}
	return nil
}

func (o *onlineKeys) bind(plan, key string, bind bool) error {
	p, err := o.findPlan(plan)
	if err != nil {
		return err
	}
	k, err := o.findKey(key)
	if err != nil {
		return err
	}
	if bind {
		err = o.g.call(o.ctx, http.MethodPost, "/usageplans/"+url.PathEscape(p.ID)+"/keys", nil,
			map[string]string{"keyId": k.ID, "keyType": "API_KEY"}, nil)
	} else {
		err = o.g.call(o.ctx, http.MethodDelete, "/usageplans/"+url.PathEscape(p.ID)+"/keys/"+url.PathEscape(k.ID), nil, nil, nil)
	}
	if err == nil {
		verb := map[bool]string{true: "bound to", false: "unbound from"}[bind]
		fmt.Fprintf(o.out, "api key %s %s usage plan %s (%s)\n", k.Name, verb, p.Name, p.ID)
	}
	return err
}

// plansOf maps key IDs to the names of their plans.
func (o *onlineKeys) plansOf() (map[string][]string, error) {
	plans, err := list[gwPlan](o.ctx, o.g, "/usageplans", nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, p := range plans {
		keys, err := list[gwKey](o.ctx, o.g, "/usageplans/"+url.PathEscape(p.ID)+"/keys", nil)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			out[k.ID] = append(out[k.ID], p.Name)
		}
	}
	return out, nil
}

func (o *onlineKeys) list() error {
	keys, err := list[gwKey](o.ctx, o.g, "/apikeys", nil)
	if err != nil {
		return err
	}
	plans, err := o.plansOf()
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "%-20s %-14s %-8s %-20s %s\n", "NAME", "ID", "STATUS", "CREATED", "PLANS")
	for _, k := range keys {
		status, created := "enabled", "-"
		if !k.Enabled {
			status = "revoked"
		}
		if k.CreatedDate > 0 {
			created = time.Unix(int64(k.CreatedDate), 0).UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(o.out, "%-20s %-14s %-8s %-20s %s\n", k.Name, k.ID, status, created, strings.Join(plans[k.ID], ","))
	}
	return nil
}

func (o *onlineKeys) revoke(key string) error {
	k, err := o.findKey(key)
	if err != nil {
		return err
	}
	patch := map[string]any{"patchOperations": []map[string]string{{"op": "replace", "path": "/enabled", "value": "false"}}}
	if err := o.g.call(o.ctx, http.MethodPatch, "/apikeys/"+url.PathEscape(k.ID), nil, patch, nil); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "revoked api key %s (%s); refused from now on, on every node\n", k.Name, k.ID)
	return nil
}

// usage prints the last 31 days of a key through one of its plans (the
// API reports usage per plan; the counts are the key's).
func (o *onlineKeys) usage(key string) error {
	k, err := o.findKey(key)
	if err != nil {
		return err
	}
	plans, err := list[gwPlan](o.ctx, o.g, "/usageplans", url.Values{"keyId": {k.ID}})
	if err != nil {
		return err
	}
	if len(plans) == 0 {
		return errors.New("api key " + k.Name + " is in no usage plan: the API reports usage per plan (the offline command reads it from the data dir)")
	}
	end := time.Now().UTC()
	start := end.AddDate(0, 0, -30)
	var u struct {
		Values map[string][][2]int64 `json:"values"`
	}
	q := url.Values{"keyId": {k.ID}, "startDate": {start.Format("2006-01-02")}, "endDate": {end.Format("2006-01-02")}}
	if err := o.g.call(o.ctx, http.MethodGet, "/usageplans/"+url.PathEscape(plans[0].ID)+"/usage", q, nil, &u); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "%-12s %s\n", "DAY", "REQUESTS")
	var total int64
	for i, d := range u.Values[k.ID] {
		if d[0] > 0 {
			fmt.Fprintf(o.out, "%-12s %d\n", start.AddDate(0, 0, i).Format("2006-01-02"), d[0])
		}
		total += d[0]
	}
	fmt.Fprintf(o.out, "%-12s %d\n", "total", total)
	return nil
}

func (o *onlineKeys) createPlan(p config.UsagePlan) error {
	in := map[string]any{"name": p.Name}
	if p.Rate > 0 || p.Burst > 0 {
		in["throttle"] = map[string]any{"rateLimit": p.Rate, "burstLimit": p.Burst}
	}
	var quotas []map[string]any
	for period, n := range map[string]int64{"DAY": p.DailyQuota, "WEEK": p.WeeklyQuota, "MONTH": p.MonthlyQuota} {
		if n > 0 {
			quotas = append(quotas, map[string]any{"limit": n, "period": period})
		}
	}
	if len(quotas) > 1 {
		return fmt.Errorf("%w: a plan created on a running server has one quota (--daily, --weekly or --monthly)", errUsage)
	}
	if len(quotas) == 1 {
		in["quota"] = quotas[0]
	}
	var stages []map[string]string
	for _, e := range p.Endpoints {
		stages = append(stages, map[string]string{"apiId": "sqlgate", "stage": e})
	}
	if stages != nil {
		in["apiStages"] = stages
	}
	var out gwPlan
	if err := o.g.call(o.ctx, http.MethodPost, "/usageplans", nil, in, &out); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "created usage plan %s (%s)\n", out.Name, out.ID)
	return nil
}

func (o *onlineKeys) listPlans() error {
	plans, err := list[gwPlan](o.ctx, o.g, "/usageplans", nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "%-20s %-10s %-8s %-6s %-14s %s\n", "NAME", "ID", "RATE", "BURST", "QUOTA", "ENDPOINTS")
	for _, p := range plans {
		var rate float64
		var burst int
		if p.Throttle != nil {
			rate, burst = p.Throttle.RateLimit, p.Throttle.BurstLimit
		}
		quota := "-"
		if p.Quota != nil {
			quota = fmt.Sprintf("%d/%s", p.Quota.Limit, p.Quota.Period)
		}
		var eps []string
		for _, s := range p.APIStages {
			eps = append(eps, s.Stage)
		}
		e := strings.Join(eps, ",")
		if e == "" {
			e = "*"
		}
		fmt.Fprintf(o.out, "%-20s %-10s %-8g %-6d %-14s %s\n", p.Name, p.ID, rate, burst, quota, e)
	}
	return nil
}
