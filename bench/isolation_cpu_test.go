package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestBenchIsolationCPU measures the server CPU per ExecuteStatement of
// several running `sqlgate serve` processes (bench/dataapi_isolation_cpu.sh
// starts them: the binary before the session-isolation machinery and the
// one with it), from /proc/PID/stat, over interleaved rounds.
//
// SQLGATE_BENCH_ISO_SERVERS is "label=http://host:port@pid,…";
// SQLGATE_BENCH_ISO_TABLE the table (id serial/auto-increment, v int) the
// "INSERT :v" workload writes, and TABLE_plain (v int, no generated key)
// the "INSERT plain" one — an insert that leaves no session state, where
// the first leaves a generated id (LAST_INSERT_ID, currval) to clear; SQLGATE_BENCH_ISO_N requests per measurement;
// SQLGATE_BENCH_ISO_ROUNDS rounds; SQLGATE_BENCH_ISO_ROOT "akid:secret".
func TestBenchIsolationCPU(t *testing.T) {
	spec := os.Getenv("SQLGATE_BENCH_ISO_SERVERS")
	if spec == "" {
		t.Skip("SQLGATE_BENCH_ISO_SERVERS not set (run bench/dataapi_isolation_cpu.sh)")
	}
	type server struct{ label, url, pid string }
	var servers []server
	for _, s := range strings.Split(spec, ",") {
		label, rest, _ := strings.Cut(s, "=")
		url, pid, _ := strings.Cut(rest, "@")
		servers = append(servers, server{label, url, pid})
	}
	n := envInt("SQLGATE_BENCH_ISO_N", 10000)
	rounds := envInt("SQLGATE_BENCH_ISO_ROUNDS", 5)
	akid, secret, _ := strings.Cut(os.Getenv("SQLGATE_BENCH_ISO_ROOT"), ":")
	table := os.Getenv("SQLGATE_BENCH_ISO_TABLE")
	const conc = 4
	workloads := []struct{ cluster, name, body string }{
		{"pg", "SELECT 1", `"sql":"SELECT 1"`},
		{"pg", "INSERT :v", `"sql":"INSERT INTO ` + table + ` (v) VALUES (:v)","parameters":[{"name":"v","value":{"longValue":7}}]`},
		{"pg", "INSERT plain", `"sql":"INSERT INTO ` + table + `_plain (v) VALUES (:v)","parameters":[{"name":"v","value":{"longValue":7}}]`},
		{"maria", "SELECT 1", `"sql":"SELECT 1"`},
		{"maria", "INSERT :v", `"sql":"INSERT INTO ` + table + ` (v) VALUES (:v)","parameters":[{"name":"v","value":{"longValue":7}}]`},
		{"maria", "INSERT plain", `"sql":"INSERT INTO ` + table + `_plain (v) VALUES (:v)","parameters":[{"name":"v","value":{"longValue":7}}]`},
	}
	hc := newHTTPClient()
	results := map[string][]float64{} // workload|label → µs/op per round
	for round := 1; round <= rounds; round++ {
		for wi, w := range workloads {
			for si := range servers {
				s := servers[(si+round+wi)%len(servers)] // alternate who goes first
				arn := "arn:aws:rds:us-east-1:000000000000:cluster:" + w.cluster
				body := []byte(`{"resourceArn":"` + arn + `","secretArn":"app-` + w.cluster + `",` + w.body + `}`)
				c := &rawClient{hc: hc, url: s.url + "/Execute", body: body,
					sig: &signer{akid: akid, secret: secret, region: benchRegion, service: "rds-data"}}
				if b, err := c.do(context.Background()); err != nil || !json.Valid(b) {
					t.Fatalf("%s %s/%s: %v %s", s.label, w.cluster, w.name, err, b)
				}
				runN(t, c, n/10, conc) // warm-up
				before := cpuTicks(t, s.pid)
				runN(t, c, n, conc)
				us := float64(cpuTicks(t, s.pid)-before) * 1e6 / float64(clockTicks) / float64(n)
				key := w.cluster + " " + w.name + "|" + s.label
				results[key] = append(results[key], us)
				t.Logf("round %d %s %s/%s: %.1f µs/op", round, s.label, w.cluster, w.name, us)
			}
		}
	}
	fmt.Printf("\n| workload | %s |\n|---|", strings.Join(labels(servers, func(s server) string { return s.label + " (median µs/op, rounds)" }), " | "))
	for range servers {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, w := range workloads {
		fmt.Printf("| %s %s |", w.cluster, w.name)
		var base float64
		for i, s := range servers {
			r := results[w.cluster+" "+w.name+"|"+s.label]
			m := median(r)
			if i == 0 {
				base = m
				fmt.Printf(" %.1f (%s) |", m, fmtAll(r))
				continue
			}
			fmt.Printf(" %.1f (%s) %+.1f %% |", m, fmtAll(r), 100*(m-base)/base)
		}
		fmt.Println()
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times (100 on Linux).
const clockTicks = 100

func labels[T any](xs []T, f func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

func runN(t *testing.T, c *rawClient, n, conc int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	per := n / conc
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				if _, err := c.do(context.Background()); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

// cpuTicks returns utime+stime of pid from /proc/PID/stat.
func cpuTicks(t *testing.T, pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 (state) on
	ut, _ := strconv.ParseInt(f[11], 10, 64)                 // field 14
	st, _ := strconv.ParseInt(f[12], 10, 64)                 // field 15
	return ut + st
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtAll(xs []float64) string {
	var p []string
	for _, x := range xs {
		p = append(p, strconv.FormatFloat(x, 'f', 1, 64))
	}
	return strings.Join(p, ", ")
}
