package server

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// lineHandler is the process logger's handler (NewLogger): slog's text or
// JSON handler, plus what the access log needs to format its line itself
// — byte for byte what that handler would write — instead of going
// through slog's generic record formatting on every request. Loggers
// derived with With/WithGroup get slog's handler alone, so a narrowed
// logger never takes the shortcut.
type lineHandler struct {
	slog.Handler
	w    io.Writer
	json bool
}

var _ slog.Handler = (*lineHandler)(nil)

// accessLine writes one access-log line for the logger log: formatted
// here when log is a NewLogger logger at Info and every value is plain
// (printable ASCII without quotes, backslashes or '='), through slog
// otherwise. The fields and their order are the same either way.
func accessLine(log *slog.Logger, reqID, method, path string, e accessEntry, status int, dur time.Duration) {
	now := time.Now()
	dur = dur.Round(time.Microsecond)
	if lh, ok := log.Handler().(*lineHandler); ok && lh.Enabled(context.Background(), slog.LevelInfo) &&
		plain(reqID, method, path, e.action, e.principal, e.cluster, e.outcome) {
		bp := linePool.Get().(*[]byte)
		b := appendAccess((*bp)[:0], lh.json, now, reqID, method, path, e, status, dur)
		_, _ = lh.w.Write(b)
		*bp = b
		linePool.Put(bp)
		return
	}
	log.LogAttrs(context.Background(), slog.LevelInfo, "request", slog.String("id", reqID),
		slog.String("method", method), slog.String("path", path),
		slog.String("action", e.action), slog.String("principal", e.principal), slog.String("cluster", e.cluster),
		slog.Int("status", status), slog.String("outcome", e.outcome), slog.Duration("dur", dur))
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// appendAccess formats the line as slog's JSON or text handler does.
func appendAccess(b []byte, json bool, now time.Time, reqID, method, path string, e accessEntry, status int, dur time.Duration) []byte {
	kv := func(b []byte, k, v string, first bool) []byte {
		switch {
		case json && first:
			b = append(b, '"')
		case json:
			b = append(b, ',', '"')
		case !first:
			b = append(b, ' ')
		}
		b = append(b, k...)
		if json {
			b = append(b, '"', ':', '"')
			b = append(b, v...)
			return append(b, '"')
		}
		b = append(b, '=')
		if v == "" {
			return append(b, '"', '"')
		}
		return append(b, v...)
	}
	if json {
		b = append(b, '{')
		b = append(b, `"time":"`...)
		b = now.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
		b = kv(b, "level", "INFO", true)
	} else {
		b = append(b, "time="...)
		b = appendRFC3339Millis(b, now)
		b = kv(b, "level", "INFO", false)
	}
	b = kv(b, "msg", "request", false)
	b = kv(b, "id", reqID, false)
	b = kv(b, "method", method, false)
	b = kv(b, "path", path, false)
	b = kv(b, "action", e.action, false)
	b = kv(b, "principal", e.principal, false)
	b = kv(b, "cluster", e.cluster, false)
	if json {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
	} else {
		b = append(b, " status="...)
		b = strconv.AppendInt(b, int64(status), 10)
	}
	b = kv(b, "outcome", e.outcome, false)
	if json {
		b = append(b, `,"dur":`...)
		b = strconv.AppendInt(b, int64(dur), 10)
		return append(b, "}\n"...)
	}
	b = append(b, " dur="...)
	b = append(b, dur.String()...)
	return append(b, '\n')
}

// appendRFC3339Millis is slog's text handler's time format.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// plain reports whether both slog handlers write every value verbatim
// (an empty one is "" in both).
func plain(vals ...string) bool {
	for _, v := range vals {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '=' {
				return false
			}
		}
	}
	return true
}
