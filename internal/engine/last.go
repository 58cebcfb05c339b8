package engine

import "context"

type lastKey struct{}

// WithLastStatement marks ctx as carrying the last statement before the
// session is given back (a Data API call's one statement outside a
// transaction): an engine may then fold the reset of what the statement
// leaves into the statement's own round trip (PostgreSQL: DISCARD
// SEQUENCES after an INSERT), so the clean path costs no extra round trip.
func WithLastStatement(ctx context.Context) context.Context {
	return context.WithValue(ctx, lastKey{}, true)
}

// IsLastStatement reports whether ctx was marked by WithLastStatement.
func IsLastStatement(ctx context.Context) bool {
	v, _ := ctx.Value(lastKey{}).(bool)
	return v
}
