package endpoints

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
)

// PlanRecord is a usage plan: the config's fields plus what the API
// Gateway API reports. Plans stored before IDs existed have the ID "" and
// go by their name.
type PlanRecord struct {
	config.UsagePlan
	ID          string `json:"id,omitempty"`
	Description string `json:"description,omitempty"`
	// QuotaOffset is subtracted from the quota in the period the plan was
	// created in (API Gateway's quota offset).
	QuotaOffset int64             `json:"quotaOffset,omitempty"`
	ProductCode string            `json:"productCode,omitempty"`
	Created     time.Time         `json:"created,omitzero"`
	Tags        map[string]string `json:"tags,omitempty"`
	// Config marks a plan declared in the config file (never stored).
	Config bool `json:"-"`
}

// CreatePlan stores a usage plan whose ID is its name (the CLI's plans).
func (s *Store) CreatePlan(ctx context.Context, p config.UsagePlan) error {
	_, err := s.CreatePlanRecord(ctx, PlanRecord{UsagePlan: p, ID: p.Name})
	return err
}

// CreatePlanRecord stores a usage plan. An empty ID gets a random one.
// Plan names are unique (ErrExists).
func (s *Store) CreatePlanRecord(ctx context.Context, p PlanRecord) (*PlanRecord, error) {
	if err := validatePlan(p); err != nil {
		return nil, err
	}
	plans, err := s.ListPlans(ctx)
	if err != nil {
		return nil, err
	}
	if p.ID == "" {
		p.ID = strings.ToLower(randomString(6))
	}
	for _, o := range plans {
		if o.Name == p.Name || o.ID == p.ID {
			return nil, fmt.Errorf("usage plan %q: %w", p.Name, ErrExists)
		}
	}
	p.Created = s.now()
	p.Config = false
	if err := s.putPlan(ctx, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func validatePlan(p PlanRecord) error {
	if err := config.ValidateUsagePlan("usage plan "+p.Name, p.UsagePlan, nil); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if p.QuotaOffset < 0 {
		return fmt.Errorf("%w: the quota offset must not be negative", ErrInvalid)
	}
	return nil
}

func (s *Store) putPlan(ctx context.Context, p *PlanRecord) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := s.st.Put(ctx, nsPlans, p.ID, b); err != nil {
		return fmt.Errorf("store usage plan: %w", err)
	}
	return nil
}

// UpdatePlan applies fn to the stored plan id in one atomic update.
func (s *Store) UpdatePlan(ctx context.Context, id string, fn func(p *PlanRecord) error) (*PlanRecord, error) {
	if s.configPlan(id) != nil {
		return nil, fmt.Errorf("usage plan %s: %w", id, ErrDeclared)
	}
	plans, err := s.ListPlans(ctx)
	if err != nil {
		return nil, err
	}
	var out PlanRecord
	err = s.st.Update(ctx, nsPlans, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%q: %w", id, ErrPlanNotFound)
		}
		out = PlanRecord{}
		if err := json.Unmarshal(old, &out); err != nil {
			return nil, fmt.Errorf("decode usage plan %s: %w", id, err)
		}
		out.ID = id
		if err := fn(&out); err != nil {
			return nil, err
		}
		if err := validatePlan(out); err != nil {
			return nil, err
		}
		for _, o := range plans {
			if o.ID != id && o.Name == out.Name {
				return nil, fmt.Errorf("usage plan %q: %w", out.Name, ErrExists)
			}
		}
		return json.Marshal(&out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeletePlan deletes a stored usage plan (by ID or name) and unbinds its
// keys.
func (s *Store) DeletePlan(ctx context.Context, plan string) error {
	p, err := s.FindPlan(ctx, plan)
	if err != nil {
		return err
	}
	if p.Config {
		return fmt.Errorf("usage plan %s: %w", p.ID, ErrDeclared)
	}
	keys, err := s.ListKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if slices.Contains(k.Plans, p.ID) {
			if _, err := s.Bind(ctx, p.ID, k.ID, false); err != nil {
				return err
			}
		}
	}
	return s.st.Delete(ctx, nsPlans, p.ID)
}

// ListPlans returns the declared plans (Config set) and the stored ones,
// by name.
func (s *Store) ListPlans(ctx context.Context) ([]*PlanRecord, error) {
	kvs, err := s.st.List(ctx, nsPlans, "")
	if err != nil {
		return nil, fmt.Errorf("list usage plans: %w", err)
	}
	cplans, _ := s.declared()
	out := make([]*PlanRecord, 0, len(cplans)+len(kvs))
	for _, p := range cplans {
		out = append(out, &PlanRecord{UsagePlan: p, ID: p.Name, Config: true})
	}
	for _, kv := range kvs {
		var p PlanRecord
		if err := json.Unmarshal(kv.Value, &p); err != nil {
			return nil, fmt.Errorf("decode usage plan %s: %w", kv.Key, err)
		}
		p.ID = kv.Key
		if s.configPlan(p.ID) == nil {
			out = append(out, &p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FindPlan returns the plan with this ID, or else this name.
func (s *Store) FindPlan(ctx context.Context, idOrName string) (*PlanRecord, error) {
	plans, err := s.ListPlans(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		if p.ID == idOrName {
			return p, nil
		}
	}
	for _, p := range plans {
		if p.Name == idOrName {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%q: %w", idOrName, ErrPlanNotFound)
}

func (s *Store) configPlan(id string) *config.UsagePlan {
	plans, _ := s.declared()
	for i := range plans {
		if plans[i].Name == id {
			return &plans[i]
		}
	}
	return nil
}

// Bind binds a stored key (name or ID) to a plan (ID or name); bind=false
// removes the binding. Binding twice is ErrExists, removing a binding
// that does not exist ErrKeyNotFound.
func (s *Store) Bind(ctx context.Context, plan, key string, bind bool) (*KeyRecord, error) {
	p, err := s.FindPlan(ctx, plan)
	if err != nil {
		return nil, err
	}
	if s.configKey(key) != nil {
		return nil, fmt.Errorf("api key %s: %w", key, ErrDeclared)
	}
	k, err := s.FindKey(ctx, key)
	if err != nil {
		return nil, err
	}
	return s.UpdateKey(ctx, k.ID, func(k *KeyRecord) error {
		has := slices.Contains(k.Plans, p.ID)
		switch {
		case bind && has:
			return fmt.Errorf("api key %s in usage plan %s: %w", k.ID, p.ID, ErrExists)
		case bind:
			k.Plans = append(k.Plans, p.ID)
		case !has:
			return fmt.Errorf("api key %s in usage plan %s: %w", k.ID, p.ID, ErrKeyNotFound)
		default:
			k.Plans = slices.DeleteFunc(k.Plans, func(id string) bool { return id == p.ID })
		}
		return nil
	})
}
