//go:build legacyengine

package bench

import (
	"github.com/sqlgate/sqlgate/bench/legacymysql"
	"github.com/sqlgate/sqlgate/internal/engine"
)

// The go-sql-driver engine, extracted by engine_compare.sh.
func init() {
	engines = append(engines, struct {
		name string
		open func(addr string) engine.Engine
	}{"old", func(addr string) engine.Engine { return legacymysql.New(legacymysql.Config{Address: addr}) }})
}
