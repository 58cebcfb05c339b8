package rdsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/state"
)

// Namespace is the state-store namespace of the RDS objects. Three keys
// hold everything, so that every change is one atomic Update that all
// nodes see through the store's change watch: KeyProxies (proxies by
// name), KeyClusters (cluster overrides by name) and KeyTags (tags by
// ARN).
const (
	Namespace   = "rds"
	KeyProxies  = "proxies"
	KeyClusters = "clusters"
	KeyTags     = "tags"
)

// ClusterOverride is a cluster's runtime setting changed online.
type ClusterOverride struct {
	HTTPEndpoint *bool `json:"http_endpoint,omitempty"`
}

// Tag is one resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Store keeps the RDS objects in a state.Store.
type Store struct {
	st state.Store
}

// NewStore returns the RDS objects kept in st.
func NewStore(st state.Store) *Store { return &Store{st: st} }

// Proxies returns the stored proxy records by name.
func (s *Store) Proxies(ctx context.Context) (map[string]Record, error) {
	out := map[string]Record{}
	return out, s.load(ctx, KeyProxies, &out)
}

// Clusters returns the cluster overrides by cluster name.
func (s *Store) Clusters(ctx context.Context) (map[string]ClusterOverride, error) {
	out := map[string]ClusterOverride{}
	return out, s.load(ctx, KeyClusters, &out)
}

// Tags returns the tags by resource ARN.
func (s *Store) Tags(ctx context.Context) (map[string][]Tag, error) {
	out := map[string][]Tag{}
	return out, s.load(ctx, KeyTags, &out)
}

func (s *Store) load(ctx context.Context, key string, v any) error {
	b, err := s.st.Get(ctx, Namespace, key)
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read rds %s: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode rds %s: %w", key, err)
	}
	return nil
}

// UpdateProxies changes the proxy records atomically: fn edits the map
// (nothing is written when it fails).
func (s *Store) UpdateProxies(ctx context.Context, fn func(map[string]Record) error) error {
	return update(ctx, s.st, KeyProxies, fn)
}

// UpdateClusters changes the cluster overrides atomically.
func (s *Store) UpdateClusters(ctx context.Context, fn func(map[string]ClusterOverride) error) error {
	return update(ctx, s.st, KeyClusters, fn)
}

// UpdateTags changes the tags atomically.
func (s *Store) UpdateTags(ctx context.Context, fn func(map[string][]Tag) error) error {
	return update(ctx, s.st, KeyTags, fn)
}

func update[V any](ctx context.Context, st state.Store, key string, fn func(map[string]V) error) error {
	return st.Update(ctx, Namespace, key, func(old []byte) ([]byte, error) {
		m := map[string]V{}
		if old != nil {
			if err := json.Unmarshal(old, &m); err != nil {
				return nil, fmt.Errorf("decode rds %s: %w", key, err)
			}
		}
		if err := fn(m); err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, nil
		}
		return json.Marshal(m)
	})
}
