// Command dataapi-baseline is the frozen yardstick of bench/dataapi_cpu.sh:
// the smallest honest Go server doing what an ExecuteStatement call needs,
// run as its own process beside `sqlgate serve`. It is deliberately left
// unchanged once committed, so numbers taken on different days compare.
//
// Two modes:
//
//   - minimal: net/http, SigV4 verification with the AWS SDK's v4 signer
//     (one fixed access key), encoding/json for the request and the
//     response, and a pool of pgx connections (prepared statements cached
//     by pgx) or database/sql over go-sql-driver/mysql. No IAM, no secrets,
//     no metrics, no logs.
//   - hello: net/http answering every POST with a fixed JSON body (no
//     authentication, no database), the floor of net/http itself.
//
// The cluster is chosen by the last segment of resourceArn: "pg" or
// "maria". /debug/pprof/ on -pprof reports allocations (MemStats Mallocs)
// for the benchmark's allocations-per-request column.
//
//	dataapi-baseline -mode minimal -listen 127.0.0.1:9001 -pprof 127.0.0.1:9002 \
//	  -akid AKIA… -secret … -pg postgres://… -mysql 'user:pw@tcp(…)/db'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	mode := flag.String("mode", "minimal", "minimal | hello")
	listen := flag.String("listen", "127.0.0.1:9001", "HTTP address")
	pprofAddr := flag.String("pprof", "", "address for /debug/pprof/ (allocation counts)")
	akid := flag.String("akid", "", "the one access key id accepted")
	secret := flag.String("secret", "", "its secret access key")
	region := flag.String("region", "us-east-1", "signing region")
	pgURL := flag.String("pg", "", "PostgreSQL URL for cluster \"pg\"")
	myDSN := flag.String("mysql", "", "go-sql-driver DSN for cluster \"maria\"")
	conns := flag.Int("conns", 16, "connections per database")
	flag.Parse()

	var h http.Handler
	switch *mode {
	case "hello":
		h = http.HandlerFunc(hello)
	case "minimal":
		m, err := newMinimal(context.Background(), *akid, *secret, *region, *pgURL, *myDSN, *conns)
		if err != nil {
			log.Fatal(err)
		}
		h = m
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	if *pprofAddr != "" {
		go servePprof(*pprofAddr)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(os.Stderr, "dataapi-baseline: %s on http://%s\n", *mode, ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

var helloBody = []byte(`{"numberOfRecordsUpdated":0,"records":[[{"longValue":1}]]}`)

// hello answers any POST with a fixed ExecuteStatement-shaped body after
// reading the request body, the way a real handler must.
func hello(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var buf [4096]byte
	for {
		if _, err := r.Body.Read(buf[:]); err != nil {
			break
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(helloBody)
}

func servePprof(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	log.Println(http.ListenAndServe(addr, mux))
}
