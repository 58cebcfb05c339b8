package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The targets.
const (
	targetRatio     = 0.5                    // sqlgate/direct throughput at N=32
	targetAddedP50  = 300 * time.Microsecond // at N=1
	stretchRatio    = 0.8
	stretchAddedP50 = 150 * time.Microsecond
)

// benchCase is one row of the table.
type benchCase struct {
	engine, client string // client: direct | sqlgate-sdk | sqlgate-raw
	n              int
	op             op
	res            result
}

func (c *benchCase) name() string { return fmt.Sprintf("%s/N=%d/%s", c.engine, c.n, c.client) }

// TestBenchDataAPI compares SELECT 1 through sqlgate with the direct driver.
// It runs only with SQLGATE_BENCH=1. Knobs: SQLGATE_BENCH_DURATION (3s),
// SQLGATE_BENCH_WARMUP (1s, first round only), SQLGATE_BENCH_ROUNDS (3,
// the duration is split over interleaved rounds), SQLGATE_BENCH_N ("1,32") and
// SQLGATE_BENCH_CASES, a regexp over case names such as
// "postgres/N=32/sqlgate-sdk".
func TestBenchDataAPI(t *testing.T) {
	if os.Getenv("SQLGATE_BENCH") != "1" {
		t.Skip("benchmark: set SQLGATE_BENCH=1 (see bench/run.sh)")
	}
	dur := envDuration(t, "SQLGATE_BENCH_DURATION", 3*time.Second)
	warm := envDuration(t, "SQLGATE_BENCH_WARMUP", time.Second)
	rounds := envInts(t, "SQLGATE_BENCH_ROUNDS", []int{3})[0]
	ns := envInts(t, "SQLGATE_BENCH_N", []int{1, 32})
	filter := regexp.MustCompile(os.Getenv("SQLGATE_BENCH_CASES"))

	ts := targets(t)
	e := startServer(t, ts)
	var cases []*benchCase
	for _, tg := range ts {
		sdk, raw := e.sdkOp(tg), e.rawOp(t, tg)
		for _, n := range ns {
			add := func(client string, mk func() op) {
				c := &benchCase{engine: tg.engine, client: client, n: n}
				if filter.MatchString(c.name()) {
					c.op = mk()
					cases = append(cases, c)
				}
			}
			if tg.dsn != "" {
				add("direct", func() op { return directOp(t, tg, n) })
			}
			add("sqlgate-sdk", func() op { return sdk })
			add("sqlgate-raw", func() op { return raw })
		}
	}
	runRounds(t, cases, rounds, warm, dur)
	fmt.Printf("\nSELECT 1, %v per case in %d interleaved rounds after %v warm-up; GOMAXPROCS=%d\n\n",
		dur, rounds, warm, runtime.GOMAXPROCS(0))
	writeTable(os.Stdout, cases)
}

// writeTable prints every case and, for sqlgate rows, the comparison with
// the direct row of the same engine and N, then the targets.
func writeTable(w io.Writer, cases []*benchCase) {
	direct := map[string]*benchCase{}
	for _, c := range cases {
		if c.client == "direct" {
			direct[c.engine+"/"+strconv.Itoa(c.n)] = c
		}
	}
	fmt.Fprintln(w, "| engine | N | client | ops/s | p50 | p99 | CPU/op | ratio vs direct | added p50 | added p99 | added CPU/op |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	var verdicts []string
	for _, c := range cases {
		ratio, ap50, ap99, acpu := "", "", "", ""
		if d := direct[c.engine+"/"+strconv.Itoa(c.n)]; d != nil && c != d {
			r := c.res.opsPerSec() / d.res.opsPerSec()
			add50, add99 := c.res.pct(.5)-d.res.pct(.5), c.res.pct(.99)-d.res.pct(.99)
			ratio, ap50, ap99 = fmt.Sprintf("%.2f×", r), us(add50), us(add99)
			acpu = us(c.res.cpuPerOp() - d.res.cpuPerOp())
			switch c.n {
			case 32:
				verdicts = append(verdicts, fmt.Sprintf("%s: throughput %.2f× direct — target ≥ %.1f× %s, stretch ≥ %.1f× %s",
					c.name(), r, targetRatio, pass(r >= targetRatio), stretchRatio, pass(r >= stretchRatio)))
			case 1:
				verdicts = append(verdicts, fmt.Sprintf("%s: added p50 %s — target ≤ %s %s, stretch ≤ %s %s",
					c.name(), us(add50), us(targetAddedP50), pass(add50 <= targetAddedP50), us(stretchAddedP50), pass(add50 <= stretchAddedP50)))
			}
		}
		fmt.Fprintf(w, "| %s | %d | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", c.engine, c.n, c.client,
			c.res.opsPerSec(), us(c.res.pct(.5)), us(c.res.pct(.99)), us(c.res.cpuPerOp()), ratio, ap50, ap99, acpu)
	}
	if len(verdicts) > 0 {
		fmt.Fprintln(w, "\nTargets:")
		for _, v := range verdicts {
			fmt.Fprintln(w, "- "+v)
		}
	}
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

func pass(ok bool) string {
	if ok {
		return "MET"
	}
	return "MISSED"
}

func envDuration(t *testing.T, key string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return d
}

func envInts(t *testing.T, key string, def []int) []int {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("%s: bad count %q", key, f)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkExecuteStatement is the N=1 case as a standard Go benchmark, for
// benchstat comparisons and `-cpuprofile` on a single engine and client:
//
//	go test -run '^$' -bench 'ExecuteStatement/postgres/sqlgate-raw' -cpuprofile cpu.out ./bench/
func BenchmarkExecuteStatement(b *testing.B) {
	ts := targets(b)
	e := startServer(b, ts)
	for _, tg := range ts {
		if tg.dsn != "" {
			b.Run(tg.engine+"/direct", func(b *testing.B) { loop(b, directOp(b, tg, 1)) })
		}
		b.Run(tg.engine+"/sqlgate-sdk", func(b *testing.B) { loop(b, e.sdkOp(tg)) })
		b.Run(tg.engine+"/sqlgate-raw", func(b *testing.B) { loop(b, e.rawOp(b, tg)) })
	}
}

func loop(b *testing.B, o op) {
	ctx := context.Background()
	for b.Loop() {
		if err := o(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
