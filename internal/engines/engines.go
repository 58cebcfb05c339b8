// Package engines opens the engine of a configured cluster: the one place
// that knows which engine package serves which config.Cluster.Engine.
package engines

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engine/mysql"
	"github.com/sqlgate/sqlgate/internal/engine/postgres"
	"github.com/sqlgate/sqlgate/internal/engine/sqlite"
)

// connectTimeout bounds a backend connect.
const connectTimeout = 5 * time.Second

// Open returns the engine and SQL dialect of cluster cc. SQLite clusters
// keep their main file at cfg.SQLitePath(cc) and other databases under
// DATA_DIR/databases/NAME, never beside the state store.
func Open(cfg *config.Config, cc config.Cluster) (engine.Engine, engine.Dialect, error) {
	return OpenWriter(cfg, cc, nil)
}

// OpenWriter is Open for a cluster whose writer can move: the engine
// dials writer() at each connect instead of cc.Address (nil = Address).
func OpenWriter(cfg *config.Config, cc config.Cluster, writer func() string) (engine.Engine, engine.Dialect, error) {
	switch cc.Engine {
	case "mysql":
		return mysql.New(mysql.Config{Address: cc.Address, TLSMode: cc.TLS.Mode, CAFile: cc.TLS.CAFile, ConnectTimeout: connectTimeout, Writer: writer}), engine.DialectMySQL, nil
	case "postgres":
		return postgres.New(postgres.Config{Address: cc.Address, TLSMode: cc.TLS.Mode, CAFile: cc.TLS.CAFile, ConnectTimeout: connectTimeout, Writer: writer}), engine.DialectPostgres, nil
	case "sqlite":
		e, err := sqlite.New(sqlite.Config{Path: cfg.SQLitePath(cc), DataDir: filepath.Join(cfg.DataDir, "databases", cc.Name)})
		if err != nil {
			return nil, 0, err
		}
		return e, engine.DialectSQLite, nil
	}
	return nil, 0, fmt.Errorf("unknown engine %q", cc.Engine)
}

// OpenInstance returns the engine of one instance of cluster cc (its
// health checks): cc's settings with address as the server.
func OpenInstance(cc config.Cluster, address string) engine.Engine {
	switch cc.Engine {
	case "mysql":
		return mysql.New(mysql.Config{Address: address, TLSMode: cc.TLS.Mode, CAFile: cc.TLS.CAFile, ConnectTimeout: connectTimeout})
	case "postgres":
		return postgres.New(postgres.Config{Address: address, TLSMode: cc.TLS.Mode, CAFile: cc.TLS.CAFile, ConnectTimeout: connectTimeout})
	}
	return nil
}
