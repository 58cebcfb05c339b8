package lane

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// writevAbove is the body size above which the head and body go out in
// one writev instead of being copied together.
const writevAbove = 16 << 10

// response is the lean path's http.ResponseWriter: it buffers the whole
// body and writes the response with a Content-Length when the handler
// returns. The head is rendered when the status is written, so later
// header changes are ignored as in net/http.
type response struct {
	header  http.Header
	status  int
	wrote   bool
	hasType bool // Content-Type was set at WriteHeader
	close   bool // the handler set Connection: close
	out     []byte
	body    []byte
	bufs    net.Buffers
}

var _ http.ResponseWriter = (*response)(nil)

func (w *response) reset() {
	clear(w.header)
	w.status, w.wrote, w.hasType, w.close = 0, false, false, false
	w.out, w.body = w.out[:0], w.body[:0]
}

func (w *response) Header() http.Header { return w.header }

// WriteHeader records the status and renders the head. Informational
// (1xx) statuses are not sent: no handler on the lean path uses them.
func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.wrote || code < 200 {
		return
	}
	w.wrote, w.status = true, code
	w.out = appendStatusLine(w.out, code)
	for k, vv := range w.header {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Date":
			continue // the lean path frames the response itself
		case "Connection":
			for _, v := range vv {
				w.close = w.close || strings.EqualFold(strings.TrimSpace(v), "close")
			}
			continue
		case "Content-Type":
			w.hasType = true
		}
		if !validKey(k) {
			continue
		}
		for _, v := range vv {
			w.out = append(w.out, k...)
			w.out = append(w.out, ": "...)
			w.out = appendValue(w.out, v)
			w.out = append(w.out, "\r\n"...)
		}
	}
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

func (w *response) wantsClose() bool { return w.close }

// writeTo finishes the head (Content-Type if none, Content-Length, Date,
// Connection: close) and writes the response to nc.
func (w *response) writeTo(nc net.Conn, closeAfter bool) error {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if bodyAllowed(w.status) {
		if !w.hasType && len(w.body) > 0 {
			w.out = append(w.out, "Content-Type: "...)
			w.out = append(w.out, http.DetectContentType(w.body)...)
			w.out = append(w.out, "\r\n"...)
		}
		w.out = append(w.out, "Content-Length: "...)
		w.out = strconv.AppendInt(w.out, int64(len(w.body)), 10)
		w.out = append(w.out, "\r\n"...)
	}
	w.out = append(w.out, "Date: "...)
	w.out = append(w.out, httpDate()...)
	w.out = append(w.out, "\r\n"...)
	if closeAfter {
		w.out = append(w.out, "Connection: close\r\n"...)
	}
	w.out = append(w.out, "\r\n"...)
	var err error
	if len(w.body) > writevAbove {
		w.bufs = append(w.bufs[:0], w.out, w.body)
		_, err = w.bufs.WriteTo(nc)
	} else {
		w.out = append(w.out, w.body...)
		_, err = nc.Write(w.out)
	}
	if cap(w.body) > keepBuf {
		w.body = nil
	}
	if cap(w.out) > keepBuf {
		w.out = nil
	}
	return err
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

func appendStatusLine(b []byte, code int) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	if text := http.StatusText(code); text != "" {
		b = append(b, text...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(code), 10)
	}
	return append(b, "\r\n"...)
}

// appendValue appends v as net/http writes a header value: surrounding
// white space trimmed, CR and LF replaced by spaces.
func appendValue(b []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isToken(k[i]) {
			return false
		}
	}
	return true
}

// dateCache is the Date header of the current second.
var dateCache atomic.Pointer[dated]

type dated struct {
	sec  int64
	text string
}

func httpDate() string {
	now := time.Now()
	if d := dateCache.Load(); d != nil && d.sec == now.Unix() {
		return d.text
	}
	d := &dated{sec: now.Unix(), text: now.UTC().Format(http.TimeFormat)}
	dateCache.Store(d)
	return d.text
}
