package endpoints

import (
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// serve runs the checks in API Gateway's order — source, key, rate,
// quota, then the request itself — and the SQL. It writes the success
// response and returns its status, or returns the error to write.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, s *set, ep *endpoint, vals map[string]string, keyID *string) (int, error) {
	if err := checkSource(ep, r.RemoteAddr); err != nil {
		return 0, err
	}
	if ep.cfg.APIKeyRequired {
		id, err := h.admitKey(r, s, ep)
		*keyID = id
		if err != nil {
			return 0, err
		}
	}
	body, err := readBody(w, r, ep)
	if err != nil {
		return 0, err
	}
	params, err := ep.dec.decode(vals, r.URL.Query(), r.Header, body)
	if err != nil {
		var pe *ParamError
		if errors.As(err, &pe) {
			return 0, &httpError{Status: http.StatusBadRequest, Msg: "Invalid request: " + pe.Error(), Field: pe.Field}
		}
		return 0, err
	}
	if ep.method == http.MethodGet {
		return h.serveGet(w, r, ep, params, *keyID)
	}
	return h.serveWrite(w, r, ep, params, *keyID)
}

// checkSource enforces allow_cidrs on the TCP peer address (r.RemoteAddr;
// X-Forwarded-For is not trusted).
func checkSource(ep *endpoint, remote string) error {
	if len(ep.allow) == 0 {
		return nil
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return forbidden(fmt.Errorf("unparsable remote address %q", remote))
	}
	addr = addr.Unmap()
	for _, p := range ep.allow {
		if p.Contains(addr) {
			return nil
		}
	}
	return forbidden(fmt.Errorf("source %s not in allow_cidrs", addr))
}

// admitKey checks x-api-key, the key's plan for this endpoint, its rate
// and its quotas, and counts the request. It returns the key ID.
func (h *Handler) admitKey(r *http.Request, s *set, ep *endpoint) (string, error) {
	v := r.Header.Get("X-Api-Key")
	if v == "" {
		return "", forbidden(errors.New("no x-api-key"))
	}
	k := s.keys[HashKey(v)]
	if k == nil {
		return "", forbidden(errors.New("unknown x-api-key"))
	}
	p, ok := k.planFor(ep.name, s.plans)
	if !ok {
		return k.id, forbidden(fmt.Errorf("key %s has no usage plan covering endpoint %s", k.id, ep.name))
	}
	var quotas []quota
	if p != nil {
		if p.cfg.Rate > 0 {
			if ok, wait := h.limiter.allow(k.id+"\x00"+p.id, p.cfg.Rate, p.burst); !ok {
				h.m.throttle(ep.name, "rate")
				return k.id, &httpError{Status: http.StatusTooManyRequests, Msg: "Too Many Requests",
					RetryAfter: int(math.Ceil(wait.Seconds()))}
			}
		}
		quotas = p.quotas
	}
	qe, err := h.usage.admit(r.Context(), k.id, quotas)
	if err != nil {
		return k.id, &httpError{Status: http.StatusInternalServerError, Msg: msgInternal, Err: err}
	}
	if qe != nil {
		h.m.throttle(ep.name, "quota")
		wait := qe.reset.Sub(h.opts.Now())
		return k.id, &httpError{Status: http.StatusTooManyRequests,
			Msg:        "Limit Exceeded: the " + periodWord(qe.period) + " quota of " + strconv.FormatInt(qe.limit, 10) + " requests is used up",
			RetryAfter: max(1, int(math.Ceil(wait.Seconds()))),
			Extra:      map[string]any{"quota": periodWord(qe.period), "resets": qe.reset.Format(time.RFC3339)}}
	}
	return k.id, nil
}

// readBody enforces the endpoint's body limit (413) and JSON content type
// (415) and returns the body.
func readBody(w http.ResponseWriter, r *http.Request, ep *endpoint) ([]byte, error) {
	tooLarge := &httpError{Status: http.StatusRequestEntityTooLarge,
		Msg: "Request body larger than " + strconv.Itoa(ep.maxBody) + " bytes"}
	if r.ContentLength > int64(ep.maxBody) {
		return nil, tooLarge
	}
	if r.ContentLength == 0 {
		return nil, nil
	}
	if ct := r.Header.Get("Content-Type"); ep.dec.hasBody() || ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, &httpError{Status: http.StatusUnsupportedMediaType,
				Msg: "Unsupported Media Type: send Content-Type: application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(ep.maxBody)))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, &httpError{Status: http.StatusBadRequest, Msg: "Could not read the request body", Err: err}
	}
	return body, nil
}
