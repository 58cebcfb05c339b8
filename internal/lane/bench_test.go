package lane

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

var benchReq = post("/Execute", `{"resourceArn":"arn:aws:rds:us-east-1:000000000000:cluster:pg","secretArn":"arn:aws:secretsmanager:us-east-1:000000000000:secret:app-pg","sql":"SELECT 1"}`,
	"Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261206/us-east-1/rds-data/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	"X-Amz-Date: 20261206T040000Z", "User-Agent: sqlgate-bench", "Accept-Encoding: gzip")

var benchResp = []byte(`{"numberOfRecordsUpdated":0,"records":[[{"longValue":1}]]}`)

func benchHandler(w http.ResponseWriter, r *http.Request) {
	var buf [512]byte
	n, _ := r.Body.Read(buf[:])
	if n == 0 || r.Header.Get("Authorization") == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-RequestId", "0f0e0d0c-0b0a-0908-0706-050403020100")
	_, _ = w.Write(benchResp)
}

// BenchmarkServe is one keep-alive request and response over loopback
// TCP, served by the lean path or by net/http (allocations include the
// client's, which makes none).
func BenchmarkServe(b *testing.B) {
	for _, lean := range []bool{true, false} {
		name := "net-http"
		if lean {
			name = "lean"
		}
		b.Run(name, func(b *testing.B) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			var l net.Listener = inner
			var ll *Listener
			if lean {
				ll = New(inner, Config{Handler: http.HandlerFunc(benchHandler), Paths: []string{"/Execute"},
					ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
					IdleTimeout: 2 * time.Minute, MaxBodyBytes: 4 << 20})
				l = ll
			}
			hs := &http.Server{Handler: http.HandlerFunc(benchHandler), ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(l) }()
			defer func() {
				_ = hs.Shutdown(context.Background())
				if ll != nil {
					_ = ll.Shutdown(context.Background())
				}
				<-errc
			}()
			c, err := net.Dial("tcp", inner.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			req, buf := []byte(benchReq), make([]byte, 4096)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(req); err != nil {
					b.Fatal(err)
				}
				if err := readOne(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// readOne reads one Content-Length response into buf.
func readOne(c net.Conn, buf []byte) error {
	n := 0
	for {
		m, err := c.Read(buf[n:])
		if err != nil {
			return err
		}
		n += m
		end := bytes.Index(buf[:n], []byte("\r\n\r\n"))
		if end < 0 {
			continue
		}
		i := bytes.Index(buf[:end], []byte("Content-Length: "))
		if i < 0 {
			return strconv.ErrSyntax
		}
		j := bytes.IndexByte(buf[i:end+2], '\r')
		cl, err := strconv.Atoi(string(buf[i+16 : i+j]))
		if err != nil {
			return err
		}
		if n >= end+4+cl {
			return nil
		}
	}
}

func BenchmarkParseHead(b *testing.B) {
	req, hdr := []byte(benchReq), http.Header{}
	paths := []string{"/BatchExecute", "/BeginTransaction", "/CommitTransaction", "/Execute", "/ExecuteSql", "/RollbackTransaction"}
	var h head
	b.ReportAllocs()
	for range b.N {
		clear(hdr)
		if parseHead(req, paths, 68<<10, 4<<20, &h, hdr) != serve {
			b.Fatal("not served")
		}
	}
}
