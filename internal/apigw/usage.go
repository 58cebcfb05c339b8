package apigw

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/endpoints"
)

// planKeyRequest is CreateUsagePlanKey's body.
type planKeyRequest struct {
	KeyID   string `json:"keyId"`
	KeyType string `json:"keyType"`
}

// createUsagePlanKey is POST /usageplans/{id}/keys: the key is limited by
// the plan from its next request.
func (a *API) createUsagePlanKey(c *call) (int, any, error) {
	var req planKeyRequest
	if err := decode(c.body, &req); err != nil {
		return 0, nil, err
	}
	if req.KeyType != "API_KEY" {
		return 0, nil, badRequest("Invalid keyType: must be API_KEY")
	}
	if req.KeyID == "" {
		return 0, nil, badRequest("Invalid request: keyId is required")
	}
	p, err := c.plan()
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.store.GetKey(c.ctx, req.KeyID); err != nil {
		return 0, nil, err
	}
	k, err := c.store.Bind(c.ctx, p.ID, req.KeyID, true)
	if err != nil {
		return 0, nil, err
	}
	a.changed(c.ctx)
	return http.StatusCreated, a.planKeyOut(c, k), nil
}

func (a *API) planKeyOut(c *call, k *endpoints.KeyRecord) *usagePlanKeyOut {
	o := keyOut(k)
	_ = a.withValue(c.ctx, k, c.store, o) // a value that cannot be opened is left out
	return &usagePlanKeyOut{ID: k.ID, Type: "API_KEY", Name: k.Name, Value: o.Value}
}

// planKeys returns the keys bound to plan p, declared ones included.
func planKeys(c *call, p *endpoints.PlanRecord) ([]*endpoints.KeyRecord, error) {
	keys, err := c.store.AllKeys(c.ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(keys, func(k *endpoints.KeyRecord) bool { return !slices.Contains(k.Plans, p.ID) }), nil
}

// getUsagePlanKeys is GET /usageplans/{id}/keys[?nameQuery=PREFIX].
func (a *API) getUsagePlanKeys(c *call) (int, any, error) {
	p, err := c.plan()
	if err != nil {
		return 0, nil, err
	}
	keys, err := planKeys(c, p)
	if err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	keys = slices.DeleteFunc(keys, func(k *endpoints.KeyRecord) bool { return !strings.HasPrefix(k.Name, q.Get("nameQuery")) })
	pg, err := pageOf(keys, q)
	if err != nil {
		return 0, nil, err
	}
	out := page[*usagePlanKeyOut]{Position: pg.Position, Items: []*usagePlanKeyOut{}}
	for _, k := range pg.Items {
		out.Items = append(out.Items, a.planKeyOut(c, k))
	}
	return http.StatusOK, out, nil
}

// planKey returns the key /usageplans/{id}/keys/{keyId} names.
func planKey(c *call) (*endpoints.PlanRecord, *endpoints.KeyRecord, error) {
	p, err := c.plan()
	if err != nil {
		return nil, nil, err
	}
	k, err := c.store.GetKey(c.ctx, c.segs[3])
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(k.Plans, p.ID) {
		return nil, nil, notFound("Invalid Usage Plan Key identifier specified")
	}
	return p, k, nil
}

// getUsagePlanKey is GET /usageplans/{id}/keys/{keyId}.
func (a *API) getUsagePlanKey(c *call) (int, any, error) {
	_, k, err := planKey(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.planKeyOut(c, k), nil
}

// deleteUsagePlanKey is DELETE /usageplans/{id}/keys/{keyId}.
func (a *API) deleteUsagePlanKey(c *call) (int, any, error) {
	p, k, err := planKey(c)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.store.Bind(c.ctx, p.ID, k.ID, false); err != nil {
		return 0, nil, err
	}
	a.changed(c.ctx)
	return http.StatusAccepted, nil, nil
}

// usageOut is API Gateway's Usage: per key, one [used, remaining] pair
// per day from startDate to endDate.
type usageOut struct {
	UsagePlanID string                `json:"usagePlanId"`
	StartDate   string                `json:"startDate"`
	EndDate     string                `json:"endDate"`
	Position    string                `json:"position,omitempty"`
	Values      map[string][][2]int64 `json:"values"`
}

// maxUsageDays bounds the date range of one get-usage call.
const maxUsageDays = 366

// getUsage is GET /usageplans/{id}/usage?startDate&endDate[&keyId]: the
// counts every node has written (this node's are flushed first).
// remaining is the plan's quota left after that day in its period, 0
// when the plan has no quota.
func (a *API) getUsage(c *call) (int, any, error) {
	p, err := c.plan()
	if err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	start, err1 := time.Parse(dayFormat, q.Get("startDate"))
	end, err2 := time.Parse(dayFormat, q.Get("endDate"))
	switch {
	case err1 != nil || err2 != nil:
		return 0, nil, badRequest("Invalid request: startDate and endDate are required, as YYYY-MM-DD")
	case end.Before(start):
		return 0, nil, badRequest("The end date must not be before the start date")
	case end.Sub(start) > maxUsageDays*24*time.Hour:
		return 0, nil, badRequest("The date range must not exceed 366 days")
	}
	keys, err := planKeys(c, p)
	if err != nil {
		return 0, nil, err
	}
	if id := q.Get("keyId"); id != "" {
		keys = slices.DeleteFunc(keys, func(k *endpoints.KeyRecord) bool { return k.ID != id })
		if len(keys) == 0 {
			return 0, nil, notFound("Invalid API Key identifier specified")
		}
	}
	pg, err := pageOf(keys, q)
	if err != nil {
		return 0, nil, err
	}
	if err := a.b.Flush(c.ctx); err != nil {
		return 0, nil, err
	}
	out := &usageOut{UsagePlanID: p.ID, StartDate: q.Get("startDate"), EndDate: q.Get("endDate"),
		Position: pg.Position, Values: map[string][][2]int64{}}
	for _, k := range pg.Items {
		days, err := c.store.Usage(c.ctx, k.ID)
		if err != nil {
			return 0, nil, err
		}
		out.Values[k.ID] = usageSeries(p, days, start, end)
	}
	return http.StatusOK, out, nil
}

const dayFormat = "2006-01-02"

// usageSeries returns [used, remaining] for each day from start to end.
func usageSeries(p *endpoints.PlanRecord, days []endpoints.DayUsage, start, end time.Time) [][2]int64 {
	counts := map[string]int64{}
	for _, d := range days {
		counts[d.Day] = d.Count
	}
	quota := planOut(p).Quota
	var series [][2]int64
	for day := start; !day.After(end); day = day.AddDate(0, 0, 1) {
		used := counts[day.Format(dayFormat)]
		var remaining int64
		if quota != nil {
			limit := endpoints.QuotaLimitAt(p, quota.Period, day)
			var inPeriod int64
			for d := endpoints.PeriodStart(quota.Period, day); !d.After(day); d = d.AddDate(0, 0, 1) {
				inPeriod += counts[d.Format(dayFormat)]
			}
			remaining = max(0, limit-inPeriod)
		}
		series = append(series, [2]int64{used, remaining})
	}
	return series
}
