package endpoints

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/exec"
)

// serveGet runs a GET endpoint's SELECT for one page: limit+1 rows from
// the cursor's offset, so the answer knows whether a next page exists.
func (h *Handler) serveGet(w http.ResponseWriter, r *http.Request, ep *endpoint, params []engine.Param, keyID string) (int, error) {
	q := r.URL.Query()
	limit := int64(ep.pageSize)
	if v := q["limit"]; len(v) > 0 {
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil || n < 1 || n > int64(ep.maxPage) || len(v) > 1 {
			return 0, &httpError{Status: http.StatusBadRequest, Field: "limit",
				Msg: "Invalid request: limit: want an integer from 1 to " + strconv.Itoa(ep.maxPage)}
		}
		limit = n
	}
	var offset int64
	if v := q["next"]; len(v) > 0 {
		n, ok := decodeCursor(v[0])
		if !ok || len(v) > 1 {
			return 0, &httpError{Status: http.StatusBadRequest, Field: "next", Msg: "Invalid request: next: not a cursor from this API"}
		}
		offset = n
	}
	sql := ep.sql[0]
	if !ep.selfPaged {
		// A derived table pages any SELECT; statements whose inner ORDER
		// BY a database may drop (MySQL, MariaDB) page with :limit/:offset.
		sql = "SELECT * FROM (" + sql + "\n) sqlgate_page LIMIT :limit OFFSET :offset"
	}
	params = append(params, engine.Param{Name: "limit", Value: engine.Long(limit + 1)},
		engine.Param{Name: "offset", Value: engine.Long(offset)})
	var res *engine.Result
	err := h.withSession(r.Context(), ep, keyID, func(ctx context.Context, sess *exec.Session) error {
		var err error
		res, err = sess.Exec(ctx, exec.Statement{SQL: sql, Params: params})
		return err
	})
	if err != nil {
		return 0, h.dbError(ep, err)
	}
	rows, next := len(res.Rows), ""
	if int64(rows) > limit {
		rows, next = int(limit), encodeCursor(offset+limit)
	}
	writeBody(w, ep.status, appendItems(make([]byte, 0, 256), res, rows, next))
	return ep.status, nil
}

// serveWrite runs a POST/PUT/PATCH/DELETE endpoint's statements, in one
// transaction when declared.
func (h *Handler) serveWrite(w http.ResponseWriter, r *http.Request, ep *endpoint, params []engine.Param, keyID string) (int, error) {
	var updated int64
	var gen *engine.Result
	err := h.withSession(r.Context(), ep, keyID, func(ctx context.Context, sess *exec.Session) error {
		if !ep.cfg.Transaction {
			res, err := sess.Exec(ctx, exec.Statement{SQL: ep.sql[0], Params: params})
			if err != nil {
				return err
			}
			updated, gen = res.RowsAffected, res
			return nil
		}
		if err := sess.Begin(ctx); err != nil {
			return err
		}
		for _, sql := range ep.sql {
			res, err := sess.Exec(ctx, exec.Statement{SQL: sql, Params: params})
			if err != nil {
				return err // Close rolls the transaction back
			}
			updated += res.RowsAffected
			if (res.HasResultSet && len(res.Rows) > 0) || len(res.Generated) > 0 {
				gen = res
			}
		}
		return sess.Commit(ctx)
	})
	if err != nil {
		return 0, h.dbError(ep, err)
	}
	writeBody(w, ep.status, appendWrite(make([]byte, 0, 64), updated, gen))
	return ep.status, nil
}

// withSession resolves the endpoint's secret, opens a session on its
// cluster (the endpoint's database, else the cluster default) and runs fn;
// the session is given back clean whatever fn did. The call counts against
// the API key's share of the cluster (keyID "": the endpoint needs no key,
// and only the cluster's budget applies).
func (h *Handler) withSession(ctx context.Context, ep *endpoint, keyID string, fn func(context.Context, *exec.Session) error) error {
	creds, err := h.credentials(ctx, ep)
	if err != nil {
		return err
	}
	sess, err := ep.backend.OpenAs(ctx, principal(keyID), creds)
	if err != nil {
		return err
	}
	defer sess.Close()
	return fn(ctx, sess)
}

// principal is an API key's name in the cluster's per-principal limits.
func principal(keyID string) string {
	if keyID == "" {
		return ""
	}
	return "apikey:" + keyID
}

// errSecret wraps a secret that cannot be read or parsed: a config error,
// answered with a generic 500.
var errSecret = errors.New("endpoint secret")

func (h *Handler) credentials(ctx context.Context, ep *endpoint) (engine.Credentials, error) {
	arn, value, err := h.opts.Secrets.SecretString(ctx, ep.cfg.Secret)
	if err != nil {
		return engine.Credentials{}, errors.Join(errSecret, err)
	}
	sec, err := exec.ParseSecret(value)
	if err != nil {
		return engine.Credentials{}, errors.Join(errSecret, fmt.Errorf("secret %s: %w", ep.cfg.Secret, err))
	}
	return sec.CredentialsOf(arn, ep.cfg.Database), nil
}

// dbError maps an execution error to the client's answer. Database
// messages reach the client only with expose_db_errors.
func (h *Handler) dbError(ep *endpoint, err error) *httpError {
	var dbe *engine.DBError
	switch exec.Classify(err) {
	case exec.ClassExhausted:
		return &httpError{Status: http.StatusServiceUnavailable, Msg: msgUnavailable, RetryAfter: 1, Err: err}
	case exec.ClassThrottled:
		h.m.throttle(ep.name, "share")
		return &httpError{Status: http.StatusTooManyRequests, RetryAfter: 1, Err: err,
			Msg: "Too Many Requests: this API key holds its share of the database's connections (max_connections_per_principal)"}
	case exec.ClassTimeout:
		return &httpError{Status: http.StatusGatewayTimeout, Msg: msgTimeout, Err: err}
	case exec.ClassUnavailable:
		return &httpError{Status: http.StatusServiceUnavailable, Msg: msgUnavailable, Err: err}
	case exec.ClassDatabase:
		errors.As(err, &dbe)
		he := &httpError{Status: http.StatusInternalServerError, Msg: msgInternal, Err: err}
		switch class := dbe.SQLState[:min(2, len(dbe.SQLState))]; class {
		case "23": // integrity constraint violation
			he.Status, he.Msg = http.StatusConflict, "Conflict: the request violates a database constraint"
		case "22": // data exception (value out of range, bad format, …)
			he.Status, he.Msg = http.StatusBadRequest, "Invalid request: the database rejected a value"
		}
		if ep.cfg.ExposeDBErrors {
			he.Msg = dbe.Error()
			he.Extra = map[string]any{"sqlState": dbe.SQLState}
		}
		return he
	}
	return &httpError{Status: http.StatusInternalServerError, Msg: msgInternal, Err: err}
}
