package server

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

// The access line formatted here is what slog's handler writes for the
// same record, in both formats; values slog would quote or escape go
// through slog itself.
func TestAccessLine_AsSlog(t *testing.T) {
	at := time.Date(2026, 12, 6, 4, 5, 6, 7008000, time.UTC)
	entries := []accessEntry{
		{"rds-data:ExecuteStatement", "arn:aws:iam::000000000000:user/app+1@x.y_z-w,v", "pg", "OK"},
		{"", "", "", "InvalidSignatureException"},
		{"rds-data:ExecuteStatement", "arn:aws:iam::000000000000:user/has=equals", "pg", "OK"},
		{"secretsmanager:Get Value", "arn:aws:iam::000000000000:root", "", "OK"},
		{"iam:x\"y\\z", "ü", "", "OK"},
	}
	durs := []time.Duration{0, 999 * time.Nanosecond, 1500 * time.Microsecond, 83 * time.Microsecond, 2*time.Second + 3*time.Millisecond}
	for _, json := range []bool{false, true} {
		for _, e := range entries {
			for _, d := range durs {
				var want bytes.Buffer
				var h slog.Handler = slog.NewTextHandler(&want, nil)
				if json {
					h = slog.NewJSONHandler(&want, nil)
				}
				r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
				r.AddAttrs(slog.String("id", "0f0e0d0c-0b0a-0908-0706-050403020100"), slog.String("method", "POST"),
					slog.String("path", "/Execute"), slog.String("action", e.action), slog.String("principal", e.principal),
					slog.String("cluster", e.cluster), slog.Int("status", 200), slog.String("outcome", e.outcome),
					slog.Duration("dur", d.Round(time.Microsecond)))
				if err := h.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				if !plain(e.action, e.principal, e.cluster, e.outcome) {
					continue // slog writes these
				}
				got := appendAccess(nil, json, at, "0f0e0d0c-0b0a-0908-0706-050403020100", "POST", "/Execute", e, 200, d.Round(time.Microsecond))
				if string(got) != want.String() {
					t.Errorf("json=%v\ngot  %s\nwant %s", json, got, want.String())
				}
			}
		}
	}
}

// Through NewLogger a plain entry takes the shortcut and a narrowed
// logger or a non-plain entry takes slog; the lines look the same.
func TestAccessLine_Logger(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log := NewLogger(&buf, format)
		accessLine(log, "id-1", "POST", "/Execute", accessEntry{"rds-data:ExecuteStatement", "arn:x", "pg", "OK"}, 200, time.Millisecond)
		accessLine(log, "id-2", "POST", "/Execute", accessEntry{"rds-data:ExecuteStatement", "a b", "pg", "OK"}, 200, time.Millisecond)
		accessLine(log.With("component", "x"), "id-3", "POST", "/", accessEntry{}, 403, time.Millisecond)
		lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
		if len(lines) != 3 {
			t.Fatalf("%s: %d lines: %s", format, len(lines), buf.Bytes())
		}
		for i, want := range []string{"id-1", "id-2", "id-3"} {
			if !bytes.Contains(lines[i], []byte(want)) || !bytes.Contains(lines[i], []byte("request")) {
				t.Errorf("%s line %d: %s", format, i, lines[i])
			}
		}
	}
}

func BenchmarkAccessLine(b *testing.B) {
	e := accessEntry{"rds-data:ExecuteStatement", "arn:aws:iam::000000000000:user/app", "pg", "OK"}
	for _, format := range []string{"text", "json"} {
		log := NewLogger(discard{}, format)
		b.Run(format+"/direct", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				accessLine(log, "0f0e0d0c-0b0a-0908-0706-050403020100", "POST", "/Execute", e, 200, 83*time.Microsecond)
			}
		})
		b.Run(format+"/slog", func(b *testing.B) {
			slogOnly := slog.New(log.Handler().(*lineHandler).Handler)
			b.ReportAllocs()
			for range b.N {
				accessLine(slogOnly, "0f0e0d0c-0b0a-0908-0706-050403020100", "POST", "/Execute", e, 200, 83*time.Microsecond)
			}
		})
	}
}
