// Command dataapi-load is the load generator of bench/dataapi_cpu.sh, run
// as its own process so that its CPU is not the server's. It sends one
// ExecuteStatement, over and over from -n workers for -duration after a
// -warmup, with one of two clients:
//
//   - sdk: the aws-sdk-go-v2 rdsdata client (retries off);
//   - raw: one keep-alive HTTP/1.1 connection per worker writing a
//     pre-encoded body, signed per request (SigV4, signing key cached per
//     day), and reading the response with a minimal parser;
//   - direct: the statement on the database itself (pgx or
//     go-sql-driver/mysql), the reference for added latency.
//
// With -pid it reads the server's utime+stime from /proc/PID/stat around
// the timed window; with -allocs (a /debug/pprof/ base URL) it reads the
// server's MemStats Mallocs around it. It prints one tab-separated line:
//
//	ops  ops/s  p50µs  p99µs  server-cpu-µs/op  allocs/op  errors  first-error
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	url, akid, secret, region    string
	resourceArn, secretArn, sqlQ string
	param                        int64 // -param: a longValue for :v, or -1 for none
	client                       string
	n                            int
	duration, warmup             time.Duration
	pid, allocsURL               string
	directPG, directMySQL        string
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "http://127.0.0.1:8080", "server base URL")
	flag.StringVar(&c.akid, "akid", "", "access key id")
	flag.StringVar(&c.secret, "secret", "", "secret access key")
	flag.StringVar(&c.region, "region", "us-east-1", "region")
	flag.StringVar(&c.resourceArn, "resource-arn", "arn:aws:rds:us-east-1:000000000000:cluster:pg", "resourceArn")
	flag.StringVar(&c.secretArn, "secret-arn", "app-pg", "secretArn")
	flag.StringVar(&c.sqlQ, "sql", "SELECT 1", "statement")
	flag.Int64Var(&c.param, "param", -1, "longValue bound to :v (-1: no parameters)")
	flag.StringVar(&c.client, "client", "raw", "raw | sdk | direct (the database itself: -direct-pg / -direct-mysql)")
	flag.StringVar(&c.directPG, "direct-pg", "", "PostgreSQL URL for -client direct")
	flag.StringVar(&c.directMySQL, "direct-mysql", "", "go-sql-driver DSN for -client direct")
	flag.IntVar(&c.n, "n", 32, "workers")
	flag.DurationVar(&c.duration, "duration", 3*time.Second, "timed window")
	flag.DurationVar(&c.warmup, "warmup", 500*time.Millisecond, "untimed warm-up")
	flag.StringVar(&c.pid, "pid", "", "server PID for CPU from /proc")
	flag.StringVar(&c.allocsURL, "allocs", "", "server /debug/pprof/ base URL for allocation counts")
	flag.Parse()
	if err := run(&c); err != nil {
		fmt.Fprintln(os.Stderr, "dataapi-load:", err)
		os.Exit(1)
	}
}

type doer interface {
	do(ctx context.Context) error
}

func run(c *config) error {
	workers := make([]doer, c.n)
	for i := range workers {
		var err error
		switch c.client {
		case "sdk":
			workers[i], err = newSDKClient(c)
		case "direct":
			workers[i], err = newDirectClient(c)
		default:
			workers[i], err = newRawClient(c)
		}
		if err != nil {
			return err
		}
	}
	if err := workers[0].do(context.Background()); err != nil {
		return fmt.Errorf("first request: %w", err)
	}
	drive(workers, c.warmup)
	cpu0, err := cpuTicks(c.pid)
	if err != nil {
		return err
	}
	m0, err := mallocs(c.allocsURL)
	if err != nil {
		return err
	}
	res := drive(workers, c.duration)
	cpu1, _ := cpuTicks(c.pid)
	m1, _ := mallocs(c.allocsURL)
	ops := len(res.lat)
	if ops == 0 {
		return fmt.Errorf("no successful requests; %d errors, first: %v", res.errs, res.first)
	}
	slices.Sort(res.lat)
	pct := func(p float64) float64 { return float64(res.lat[int(p*float64(ops-1))]) / 1e3 }
	cpu, allocs := "-", "-"
	if c.pid != "" {
		cpu = fmt.Sprintf("%.1f", float64(cpu1-cpu0)*1e6/100/float64(ops)) // USER_HZ = 100
	}
	if c.allocsURL != "" {
		allocs = fmt.Sprintf("%.0f", float64(m1-m0)/float64(ops))
	}
	first := "-"
	if res.first != nil {
		first = strings.ReplaceAll(res.first.Error(), "\t", " ")
	}
	fmt.Printf("%d\t%.0f\t%.0f\t%.0f\t%s\t%s\t%d\t%s\n", ops, float64(ops)/c.duration.Seconds(), pct(.5), pct(.99), cpu, allocs, res.errs, first)
	return nil
}

type result struct {
	lat   []int64 // ns
	errs  int
	first error
}

// drive runs every worker in a loop for d and merges their latencies.
func drive(workers []doer, d time.Duration) result {
	ctx := context.Background()
	var stop atomic.Bool
	var mu sync.Mutex
	var all result
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r result
			for !stop.Load() {
				t0 := time.Now()
				if err := w.do(ctx); err != nil {
					r.errs++
					if r.first == nil {
						r.first = err
					}
					continue
				}
				r.lat = append(r.lat, int64(time.Since(t0)))
			}
			mu.Lock()
			all.lat = append(all.lat, r.lat...)
			all.errs += r.errs
			if all.first == nil {
				all.first = r.first
			}
			mu.Unlock()
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return all
}

// cpuTicks returns utime+stime of pid from /proc/PID/stat ("" → 0).
func cpuTicks(pid string) (int64, error) {
	if pid == "" {
		return 0, nil
	}
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st, nil
}

var mallocsRe = regexp.MustCompile(`# Mallocs = (\d+)`)

// mallocs reads runtime.MemStats.Mallocs from a pprof heap page.
func mallocs(base string) (int64, error) {
	if base == "" {
		return 0, nil
	}
	resp, err := http.Get(strings.TrimSuffix(base, "/") + "/heap?debug=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(bufio.NewReader(resp.Body))
	if err != nil {
		return 0, err
	}
	m := mallocsRe.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no Mallocs in %s heap page", base)
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}
