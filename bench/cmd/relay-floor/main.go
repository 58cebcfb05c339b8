// Command relay-floor is a yardstick for the proxies' CPU per transaction:
// the least work a TCP relay can do per transaction, written in Go three
// ways, run as its own process beside `sqlgate serve` and PgBouncer by
// bench/pgbench_cpu.sh with FLOOR=1.
//
// It relays each client connection to a connection of its own to the
// backend (one to one: no pooling, no parsing, no authentication), so it
// does less than a pooling proxy must; what it measures is the cost of
// the runtime model underneath:
//
//   - goroutine: two goroutines per connection pair, each reading one
//     side with net.Conn and writing what it read to the other; every
//     wait is the Go runtime's netpoller (a failed read, a park, a wake).
//
//   - epoll: one goroutine runs a level-triggered epoll loop over raw
//     descriptors taken out of the runtime's netpoller, as an event-loop
//     proxy (PgBouncer, haproxy) does: one epoll_wait serves every socket
//     that is ready, and a read is made only when epoll reported data.
//     The epoll descriptor waits in the netpoller, so the loop parks
//     like any goroutine when nothing is ready (Linux only).
//
//   - coro: the goroutine mode's blocking-style copy loop, run as
//     coroutines (iter.Pull) that the epoll loop resumes when their
//     socket is readable: whether code written for goroutines can keep
//     its shape and still wait in one event loop (Linux only).
//
//     relay-floor -mode epoll -listen 127.0.0.1:6500 -backend 127.0.0.1:5432
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
)

func main() {
	mode := flag.String("mode", "goroutine", "goroutine, epoll or coro")
	listen := flag.String("listen", "127.0.0.1:6500", "address to accept clients on")
	backend := flag.String("backend", "127.0.0.1:5432", "address to relay each client to")
	flag.Parse()
	serve, err := server(*mode)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(acceptLoop(ln, *backend, serve))
}

// server returns the mode's function taking over a connection pair.
func server(mode string) (func(client, server *net.TCPConn), error) {
	switch mode {
	case "goroutine":
		return pipeGoroutines, nil
	case "epoll", "coro":
		loop, err := newEventLoop(mode == "coro")
		if err != nil {
			return nil, err
		}
		go loop.run()
		return loop.add, nil
	}
	return nil, fmt.Errorf("mode %q: want goroutine, epoll or coro", mode)
}

// acceptLoop dials the backend for every client it accepts and hands the
// pair to serve, until the listener fails.
func acceptLoop(ln net.Listener, backend string, serve func(client, server *net.TCPConn)) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		s, err := net.Dial("tcp", backend)
		if err != nil {
			log.Print(err)
			_ = c.Close()
			continue
		}
		serve(c.(*net.TCPConn), s.(*net.TCPConn))
	}
}

// pipeGoroutines relays the pair with one goroutine per direction.
func pipeGoroutines(client, server *net.TCPConn) {
	go pipe(client, server)
	go pipe(server, client)
}

// pipe copies src to dst through a buffer (not io.Copy, which would
// splice), then closes both.
func pipe(src, dst net.Conn) {
	defer func() { _ = src.Close(); _ = dst.Close() }()
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF or a failure: the pair ends either way
		}
	}
}
