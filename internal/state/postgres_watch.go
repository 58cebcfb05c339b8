package state

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Reconnect backoff of a Watch connection: the first retry is immediate,
// then waits grow from minBackoff to maxBackoff.
const (
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
	watchTimeout = 10 * time.Second // per connect or ping
)

// Watch implements Watcher with LISTEN on a connection of its own, outside
// the pool. A lost connection is re-established with backoff; since writes
// in between are not replayed, fn then gets (WatchAll, ""). A connection
// silent for pingEvery is pinged, so a dead server is noticed even when TCP
// is not told.
func (p *Postgres) Watch(ctx context.Context, fn func(ns, key string)) error {
	if p.done.Err() != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(p.done, cancel)()

	conn, err := p.listen(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watch: %w", err)
	}
	for {
		fn(WatchAll, "")
		err := p.receive(ctx, conn, fn)
		closeConn(conn)
		if ctx.Err() != nil {
			return nil
		}
		p.log.Warn("state watch connection lost, reconnecting", "err", err)
		if conn = p.reconnect(ctx); conn == nil {
			return nil
		}
	}
}

// listen opens a connection and subscribes it to the store's channel.
func (p *Postgres) listen(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, watchTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, p.connCfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("listen: %w", err)
	}
	if p.testHookListen != nil {
		p.testHookListen(conn.PgConn().PID())
	}
	return conn, nil
}

// reconnect calls listen until it succeeds, or returns nil when ctx is done.
func (p *Postgres) reconnect(ctx context.Context) *pgx.Conn {
	backoff := minBackoff
	for {
		conn, err := p.listen(ctx)
		if err == nil {
			p.log.Info("state watch reconnected")
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := backoff/2 + rand.N(backoff/2+1) // jitter, so nodes spread out
		p.log.Warn("state watch reconnect failed", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// receive delivers notifications from conn until ctx is done or conn fails.
func (p *Postgres) receive(ctx context.Context, conn *pgx.Conn, fn func(ns, key string)) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, p.pingEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if n != nil {
			ns, key := parsePayload(n.Payload)
			fn(ns, key)
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) && !conn.IsClosed():
			pctx, cancel := context.WithTimeout(ctx, watchTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		default:
			return fmt.Errorf("wait for notification: %w", err)
		}
	}
}

// parsePayload inverts notifyPayload; a payload without the separator means
// "anything in that namespace".
func parsePayload(payload string) (ns, key string) {
	ns, key, _ = strings.Cut(payload, "\x1f")
	return ns, key
}
