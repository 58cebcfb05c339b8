package apigw

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sqlgate/sqlgate/internal/endpoints"
)

// createPlanRequest is CreateUsagePlan's body.
type createPlanRequest struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	APIStages   []apiStage        `json:"apiStages"`
	Throttle    *throttle         `json:"throttle"`
	Quota       *quotaSettings    `json:"quota"`
	Tags        map[string]string `json:"tags"`
}

// createUsagePlan is POST /usageplans: throttle is the plan's rate and
// burst, quota one DAY, WEEK or MONTH quota, apiStages the endpoints it
// covers (none = all).
func (a *API) createUsagePlan(c *call) (int, any, error) {
	var req createPlanRequest
	if err := decode(c.body, &req); err != nil {
		return 0, nil, err
	}
	if req.Name == "" {
		return 0, nil, badRequest("Invalid request: name is required")
	}
	if err := checkTags(req.Tags); err != nil {
		return 0, nil, err
	}
	p := endpoints.PlanRecord{Description: req.Description, Tags: req.Tags}
	p.Name = req.Name
	if req.Throttle != nil {
		setThrottle(&p, *req.Throttle)
	}
	if req.Quota != nil {
		if err := setQuota(&p, *req.Quota); err != nil {
			return 0, nil, err
		}
	}
	stages := a.b.Endpoints()
	for _, st := range req.APIStages {
		if err := addStage(&p, stages, st.APIID, st.Stage); err != nil {
			return 0, nil, err
		}
		if len(st.Throttle) > 0 {
			return 0, nil, badRequest("Per-method throttle in apiStages is not supported: set the plan's throttle")
		}
	}
	rec, err := c.store.CreatePlanRecord(c.ctx, p)
	if err != nil {
		return 0, nil, err
	}
	a.changed(c.ctx)
	return http.StatusCreated, planOut(rec), nil
}

func setThrottle(p *endpoints.PlanRecord, t throttle) {
	if t.RateLimit != nil {
		p.Rate = *t.RateLimit
	}
	if t.BurstLimit != nil {
		p.Burst = *t.BurstLimit
	}
}

// setQuota makes q the plan's one quota.
func setQuota(p *endpoints.PlanRecord, q quotaSettings) error {
	var limit, offset int64
	if q.Limit != nil {
		limit = *q.Limit
	}
	if q.Offset != nil {
		offset = *q.Offset
	}
	if limit <= 0 {
		return badRequest("Invalid quota: limit must be a positive integer")
	}
	p.DailyQuota, p.WeeklyQuota, p.MonthlyQuota = 0, 0, 0
	switch q.Period {
	case endpoints.PeriodDay:
		p.DailyQuota = limit
	case endpoints.PeriodWeek:
		p.WeeklyQuota = limit
	case endpoints.PeriodMonth:
		p.MonthlyQuota = limit
	default:
		return badRequest("Invalid quota period: must be one of DAY, WEEK, MONTH")
	}
	if offset < 0 || offset >= limit {
		return badRequest("Invalid quota offset: from 0 to less than the limit")
	}
	p.QuotaOffset = offset
	return nil
}

// addStage adds the endpoint stage of the API "sqlgate" to the plan;
// stages are the declared endpoints.
func addStage(p *endpoints.PlanRecord, stages []string, apiID, stage string) error {
	if apiID != APIID {
		return notFound("Invalid API identifier specified " + clip(apiID) + ": sqlgate's endpoints are the API " + APIID)
	}
	if !slices.Contains(stages, stage) {
		return notFound("Invalid stage identifier specified: no endpoint named " + clip(stage))
	}
	if slices.Contains(p.Endpoints, stage) {
		return conflict("Stage " + clip(stage) + " is already in the usage plan")
	}
	p.Endpoints = append(p.Endpoints, stage)
	return nil
}

// planOut reports a plan. A declared plan with several quotas reports
// the shortest period's.
func planOut(p *endpoints.PlanRecord) *usagePlanOut {
	out := &usagePlanOut{ID: p.ID, Name: p.Name, Description: p.Description, ProductCode: p.ProductCode,
		Tags: p.Tags, APIStages: []apiStage{}}
	for _, e := range p.Endpoints {
		out.APIStages = append(out.APIStages, apiStage{APIID: APIID, Stage: e})
	}
	if p.Rate > 0 || p.Burst > 0 {
		rate, burst := p.Rate, p.Burst
		out.Throttle = &throttle{RateLimit: &rate, BurstLimit: &burst}
	}
	for _, q := range []struct {
		period string
		limit  int64
	}{{endpoints.PeriodDay, p.DailyQuota}, {endpoints.PeriodWeek, p.WeeklyQuota}, {endpoints.PeriodMonth, p.MonthlyQuota}} {
		if q.limit > 0 {
			limit, offset := q.limit, p.QuotaOffset
			out.Quota = &quotaSettings{Limit: &limit, Offset: &offset, Period: q.period}
			break
		}
	}
	return out
}

// getUsagePlans is GET /usageplans[?keyId=ID].
func (a *API) getUsagePlans(c *call) (int, any, error) {
	q := c.r.URL.Query()
	plans, err := c.store.ListPlans(c.ctx)
	if err != nil {
		return 0, nil, err
	}
	if id := q.Get("keyId"); id != "" {
		k, err := c.store.GetKey(c.ctx, id)
		if err != nil {
			return 0, nil, err
		}
		plans = slices.DeleteFunc(plans, func(p *endpoints.PlanRecord) bool { return !slices.Contains(k.Plans, p.ID) })
	}
	pg, err := pageOf(plans, q)
	if err != nil {
		return 0, nil, err
	}
	out := page[*usagePlanOut]{Position: pg.Position, Items: []*usagePlanOut{}}
	for _, p := range pg.Items {
		out.Items = append(out.Items, planOut(p))
	}
	return http.StatusOK, out, nil
}

// plan returns the plan the path names by ID.
func (c *call) plan() (*endpoints.PlanRecord, error) {
	p, err := c.store.FindPlan(c.ctx, c.segs[1])
	if err != nil || p.ID != c.segs[1] {
		return nil, endpoints.ErrPlanNotFound
	}
	return p, nil
}

// getUsagePlan is GET /usageplans/{id}.
func (a *API) getUsagePlan(c *call) (int, any, error) {
	p, err := c.plan()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, planOut(p), nil
}

// deleteUsagePlan is DELETE /usageplans/{id}: its keys are unbound.
func (a *API) deleteUsagePlan(c *call) (int, any, error) {
	if _, err := c.plan(); err != nil {
		return 0, nil, err
	}
	if err := c.store.DeletePlan(c.ctx, c.segs[1]); err != nil {
		return 0, nil, err
	}
	a.changed(c.ctx)
	return http.StatusAccepted, nil, nil
}

// updateUsagePlan is PATCH /usageplans/{id}.
func (a *API) updateUsagePlan(c *call) (int, any, error) {
	ops, err := decodePatch(c.body)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.plan(); err != nil {
		return 0, nil, err
	}
	// Read before the update: its callback must not wait on anything.
	stages := a.b.Endpoints()
	p, err := c.store.UpdatePlan(c.ctx, c.segs[1], func(p *endpoints.PlanRecord) error {
		for _, op := range ops {
			if err := patchPlan(p, stages, op); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	a.changed(c.ctx)
	return http.StatusOK, planOut(p), nil
}

// patchPlan applies one operation to p: replace /name, /description,
// /productCode, /throttle/rateLimit, /throttle/burstLimit, /quota/limit,
// /quota/period, /quota/offset; remove /throttle, /quota; add and remove
// /apiStages (value "sqlgate:STAGE") and /tags/KEY.
func patchPlan(p *endpoints.PlanRecord, stages []string, op patchOp) error {
	if tag, ok := strings.CutPrefix(op.Path, "/tags/"); ok {
		return patchTag(&p.Tags, tag, op)
	}
	switch {
	case op.Path == "/apiStages" && op.Op != "replace":
		api, stage, _ := strings.Cut(op.value(), ":")
		if op.Op == "add" {
			return addStage(p, stages, api, stage)
		}
		if api != APIID || !slices.Contains(p.Endpoints, stage) {
			return notFound("Invalid stage identifier specified: the usage plan has no stage " + clip(op.value()))
		}
		p.Endpoints = slices.DeleteFunc(p.Endpoints, func(e string) bool { return e == stage })
		return nil
	case op.Op == "remove" && op.Path == "/throttle":
		p.Rate, p.Burst = 0, 0
		return nil
	case op.Op == "remove" && op.Path == "/quota":
		p.DailyQuota, p.WeeklyQuota, p.MonthlyQuota, p.QuotaOffset = 0, 0, 0, 0
		return nil
	case op.Op != "replace":
		return op.unsupported()
	}
	return replacePlanField(p, op)
}

// replacePlanField applies a replace operation on a scalar field.
func replacePlanField(p *endpoints.PlanRecord, op patchOp) error {
	switch op.Path {
	case "/name":
		if op.value() == "" {
			return badRequest("Invalid usage plan name")
		}
		p.Name = op.value()
	case "/description":
		p.Description = op.value()
	case "/productCode":
		p.ProductCode = op.value()
	case "/throttle/rateLimit":
		f, err := op.floatValue()
		p.Rate = f
		return err
	case "/throttle/burstLimit":
		n, err := op.intValue()
		p.Burst = int(min(n, 1<<31-1))
		return err
	case "/quota/limit", "/quota/period", "/quota/offset":
		return replaceQuota(p, op)
	default:
		return op.unsupported()
	}
	return nil
}

// replaceQuota changes one field of the plan's quota (a plan without one
// gets a DAY quota).
func replaceQuota(p *endpoints.PlanRecord, op patchOp) error {
	cur := planOut(p).Quota
	if cur == nil {
		var zero int64
		cur = &quotaSettings{Limit: &zero, Offset: &zero, Period: endpoints.PeriodDay}
	}
	switch op.Path {
	case "/quota/limit", "/quota/offset":
		n, err := op.intValue()
		if err != nil {
			return err
		}
		if op.Path == "/quota/limit" {
			cur.Limit = &n
		} else {
			cur.Offset = &n
		}
	case "/quota/period":
		cur.Period = op.value()
	}
	return setQuota(p, *cur)
}
