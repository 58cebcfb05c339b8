package dataapi

import (
	"context"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/txn"
)

const rollbackTimeout = 10 * time.Second

// begin is BeginTransaction: it pins a pooled connection to a new id. The
// database is fixed here for the transaction's lifetime.
func (a *API) begin(ctx context.Context, body []byte) (string, []byte, error) {
	var req beginRequest
	if err := decodeJSON(body, &req); err != nil {
		return "", nil, err
	}
	t, err := a.resolve(ctx, "BeginTransaction", req.ResourceARN, req.SecretARN, req.Database)
	if err != nil {
		return "", nil, err
	}
	sess, err := t.cl.Exec.OpenTx(ctx, principalOf(ctx, t.cl.Exec), t.creds)
	if err != nil {
		return t.cl.Name, nil, mapError(err, 0)
	}
	if err := sess.Begin(ctx); err != nil {
		sess.Close()
		return t.cl.Name, nil, mapError(err, sess.ID())
	}
	tx := &txn.Tx{ID: txn.NewID(), Cluster: t.cl.Name, Database: t.creds.Database,
		SecretARN: t.secretARN, Session: sess,
		Idle: t.cl.Limits.TxIdleTimeout, MaxLife: t.cl.Limits.TxMaxLifetime}
	a.txns.Add(tx)
	a.txns.Release(tx)
	b := appendString([]byte(`{"transactionId":`), tx.ID)
	return t.cl.Name, append(b, '}'), nil
}

// end is CommitTransaction (commit=true) or RollbackTransaction.
func (a *API) end(ctx context.Context, body []byte, commit bool) (string, []byte, error) {
	var req endRequest
	if err := decodeJSON(body, &req); err != nil {
		return "", nil, err
	}
	action := "RollbackTransaction"
	if commit {
		action = "CommitTransaction"
	}
	if strings.TrimSpace(req.TransactionID) == "" {
		return "", nil, notNull("transactionId")
	}
	t, err := a.resolve(ctx, action, req.ResourceARN, req.SecretARN, "")
	if err != nil {
		return "", nil, err
	}
	tx, err := a.acquireTx(req.TransactionID, t)
	if err != nil {
		return t.cl.Name, nil, mapError(err, 0)
	}
	a.txns.Remove(tx, "")
	if !commit {
		txn.Abort(tx)
		return t.cl.Name, []byte(`{"transactionStatus":"Rollback Complete"}`), nil
	}
	connID := tx.Session.ID()
	if err := tx.Session.Commit(context.WithoutCancel(ctx)); err != nil {
		txn.Abort(tx)
		return t.cl.Name, nil, mapError(err, connID)
	}
	tx.Session.Close()
	return t.cl.Name, []byte(`{"transactionStatus":"Transaction Committed"}`), nil
}
