package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/engine"
	mysqlengine "github.com/sqlgate/sqlgate/internal/engine/mysql"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// The MySQL engine through engine.Conn.Exec: SELECT 1 and a 100-row ×
// 10-column result. engine_compare.sh adds the go-sql-driver engine this
// one replaced ("old"), extracted from git into a build-tagged package,
// so both run in the same process:
//
//	bench/engine_compare.sh
//	go test -run '^$' -bench 'MySQLEngine' -benchmem -count 5 ./bench/   # new engine only

// engines are the engine builds compared; engine_compare.sh registers "old".
var engines = []struct {
	name string
	open func(addr string) engine.Engine
}{
	{"new", func(addr string) engine.Engine { return mysqlengine.New(mysqlengine.Config{Address: addr}) }},
}

func benchConn(b *testing.B, open func(string) engine.Engine) engine.Conn {
	b.Helper()
	cfg, err := mysql.ParseDSN(testdb.MySQLDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	c, err := open(cfg.Addr).Connect(context.Background(), engine.Credentials{User: cfg.User, Password: cfg.Passwd, Database: cfg.DBName})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

// rowsTable creates a 100-row, 10-column table and returns its name.
func rowsTable(b *testing.B, c engine.Conn) string {
	b.Helper()
	name := fmt.Sprintf("bench_rows_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	ctx := context.Background()
	must := func(sql string) {
		if _, err := c.Exec(ctx, sql, nil, 0); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	must("CREATE TABLE " + name + ` (id INT PRIMARY KEY, name VARCHAR(50), price DOUBLE, qty BIGINT,
		created DATETIME(3), amount DECIMAL(10,2), flag BOOL, note TEXT, day DATE, ratio FLOAT)`)
	b.Cleanup(func() { _, _ = c.Exec(context.Background(), "DROP TABLE IF EXISTS "+name, nil, 0) })
	must("INSERT INTO " + name + ` SELECT seq, CONCAT('name-', seq), seq * 1.5, seq * 1000, '2024-01-02 03:04:05.678',
		seq / 3, seq % 2, REPEAT('n', 40), '2024-05-06', seq / 7 FROM seq_1_to_100`)
	return name
}

func BenchmarkMySQLEngineSelect1(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			c := benchConn(b, e.open)
			ctx := context.Background()
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				if _, err := c.Exec(ctx, "SELECT 1", nil, 0); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

func BenchmarkMySQLEngineRows100x10(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			c := benchConn(b, e.open)
			tbl := rowsTable(b, c)
			ctx := context.Background()
			q := "SELECT * FROM " + tbl + " WHERE id > :min ORDER BY id"
			params := []engine.Param{{Name: "min", Value: engine.Long(0)}}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				res, err := c.Exec(ctx, q, params, 0)
				if err != nil || len(res.Rows) != 100 {
					b.Fatalf("%v, %d rows", err, len(res.Rows))
				}
			}
			cpu.report(b)
		})
	}
}

// cpuClock measures this process's CPU time (processCPU), which a busy
// shared machine disturbs far less than wall time.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{start: processCPU()} }

// report adds the client-side CPU per operation as "cpu-ns/op".
func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkMySQLEngineAB alternates the engines statement by statement
// (SELECT 1) and reports each one's median latency ("<name>-p50-ns"), so
// both see the same machine load.
func BenchmarkMySQLEngineAB(b *testing.B) {
	conns := make([]engine.Conn, len(engines))
	for i, e := range engines {
		conns[i] = benchConn(b, e.open)
	}
	lat := make([][]time.Duration, len(engines))
	ctx := context.Background()
	for b.Loop() {
		for i, c := range conns {
			t0 := time.Now()
			if _, err := c.Exec(ctx, "SELECT 1", nil, 0); err != nil {
				b.Fatal(err)
			}
			lat[i] = append(lat[i], time.Since(t0))
		}
	}
	for i, e := range engines {
		slices.Sort(lat[i])
		b.ReportMetric(float64(lat[i][len(lat[i])/2]), e.name+"-p50-ns")
		b.ReportMetric(float64(lat[i][len(lat[i])*99/100]), e.name+"-p99-ns")
	}
}

// BenchmarkMySQLEngineInsertReset is the Data API's autocommit INSERT as
// the pool sees it: an AUTO_INCREMENT insert, then Dirty and Reset before
// the connection goes back ("reset"); the same through ExecLast, as the
// Data API runs a call's statement, the clear riding behind the insert
// ("last"); and the insert with the connection kept as it is ("keep") —
// what session isolation costs the client side per insert.
func BenchmarkMySQLEngineInsertReset(b *testing.B) {
	for _, mode := range []string{"reset", "last", "keep"} {
		b.Run(mode, func(b *testing.B) {
			c := benchConn(b, engines[0].open)
			tbl := fmt.Sprintf("bench_ins_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
			ctx := context.Background()
			if _, err := c.Exec(ctx, "CREATE TABLE "+tbl+" (id INT AUTO_INCREMENT PRIMARY KEY, v INT)", nil, 0); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _, _ = c.Exec(context.Background(), "DROP TABLE IF EXISTS "+tbl, nil, 0) })
			q := "INSERT INTO " + tbl + " (v) VALUES (:v)"
			params := []engine.Param{{Name: "v", Value: engine.Long(7)}}
			b.ReportAllocs()
			cpu := startCPU()
			run := c.Exec
			if mode == "last" {
				run = c.(engine.LastExecer).ExecLast
			}
			for b.Loop() {
				if _, err := run(ctx, q, params, 0); err != nil {
					b.Fatal(err)
				}
				if mode != "keep" && c.Dirty() {
					if err := c.Reset(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			cpu.report(b)
		})
	}
}
