package server

import (
	"context"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/rotation"
)

// newRotator returns the rotation service over the configured MariaDB/MySQL
// and PostgreSQL clusters (a secret's dbClusterIdentifier names one).
func (s *Server) newRotator() *rotation.Rotator {
	byName := map[string]*cluster{}
	for _, c := range s.clusters {
		byName[c.name] = c
	}
	engines := func(name string) (engine.Engine, string, bool) {
		c, ok := byName[name]
		if !ok {
			return nil, "", false
		}
		return c.eng, c.engine, true
	}
	return rotation.New(s.secrets.Store, s.store, engines, rotation.Options{Log: s.log, Interval: s.cfg.Rotation.CheckInterval})
}

// GraceSecretString implements proxy.GraceReader: the other value clients
// may still log in with (see secrets.Store.GraceValue).
// The window is config rotation.grace_window.
func (s secretStore) GraceSecretString(ctx context.Context, id string) (string, bool, error) {
	v, ok, err := s.GraceValue(ctx, id, s.grace)
	if err != nil || !ok || v.SecretString == nil {
		return "", false, mapSecretErr(err)
	}
	return *v.SecretString, true, nil
}
