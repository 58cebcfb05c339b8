package mysqlproxy

// ERR packets: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html
// Error numbers: https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html

import (
	"errors"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/fairshare"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// MySQL error numbers the proxy itself sends.
const (
	erConCount          = 1040 // ER_CON_COUNT_ERROR
	erHandshake         = 1043 // ER_HANDSHAKE_ERROR
	erAccessDenied      = 1045 // ER_ACCESS_DENIED_ERROR
	erUnknownCommand    = 1047 // ER_UNKNOWN_COM_ERROR
	erServerShutdown    = 1053 // ER_SERVER_SHUTDOWN
	erNoSuchThread      = 1094 // ER_NO_SUCH_THREAD
	erKillDenied        = 1095 // ER_KILL_DENIED_ERROR
	erNotAllowed        = 1148 // ER_NOT_ALLOWED_COMMAND
	erLockWaitTimeout   = 1205 // ER_LOCK_WAIT_TIMEOUT
	erUnknownStmt       = 1243 // ER_UNKNOWN_STMT_HANDLER
	erNotSupportedAuth  = 1251 // ER_NOT_SUPPORTED_AUTH_MODE
	erNeedReprepare     = 1615 // ER_NEED_REPREPARE
	erSecureTransport   = 3159 // ER_SECURE_TRANSPORT_REQUIRED
	crServerLost        = 2013 // CR_SERVER_LOST
	crConnectionRefused = 2003 // CR_CONN_HOST_ERROR
)

// Error is a MySQL error: one the proxy sends to a client, or one a backend
// sent. Msg is what the client sees; Err, when set, is the cause for the log.
type Error struct {
	Code  uint16
	State string // SQLSTATE, 5 characters
	Msg   string
	Err   error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("mysql error %d (%s): %s: %v", e.Code, e.State, e.Msg, e.Err)
	}
	return fmt.Sprintf("mysql error %d (%s): %s", e.Code, e.State, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports that the statement never reached the database.
func (e *Error) Retryable() bool { return e.Err != nil && proxy.Retryable(e.Err) }

// Packet encodes e as an ERR packet for a CLIENT_PROTOCOL_41 client.
func (e *Error) Packet() []byte {
	return (&mysqlwire.Error{Code: e.Code, State: e.State, Msg: e.Msg}).Packet()
}

// parseErr decodes an ERR packet from a CLIENT_PROTOCOL_41 server.
func parseErr(p []byte) *Error { return fromWire(mysqlwire.ParseErr(p)) }

// fromWire turns an error a server reported into the proxy's Error.
// SQLState returns the error's SQLSTATE (proxy.LoginRefused reads it).
func (e *Error) SQLState() string { return e.State }

func fromWire(e *mysqlwire.Error) *Error {
	return &Error{Code: e.Code, State: e.State, Msg: e.Msg}
}

func newError(code uint16, state, format string, args ...any) *Error {
	return &Error{Code: code, State: state, Msg: fmt.Sprintf(format, args...)}
}

func accessDenied(user, host string, password bool) *Error {
	using := "NO"
	if password {
		using = "YES"
	}
	return newError(erAccessDenied, "28000", "Access denied for user '%s'@'%s' (using password: %s)", user, host, using)
}

// borrowError maps a failure to get a backend connection to the error the
// client sees, keeping the cause for the log.
func borrowError(err error) *Error {
	var me *Error
	switch {
	case errors.As(err, &me):
		return me
	case errors.Is(err, proxy.ErrBorrowTimeout):
		return &Error{Code: erLockWaitTimeout, State: "HY000", Err: err,
			Msg: "Timed out waiting for a database connection from the proxy pool (borrow_timeout); try again"}
	case errors.Is(err, proxy.ErrShuttingDown), errors.Is(err, proxy.ErrPoolClosed):
		return &Error{Code: erServerShutdown, State: "08S01", Msg: "Proxy shutdown in progress", Err: err}
	case errors.Is(err, fairshare.ErrLimit):
		return &Error{Code: erConCount, State: "08004", Msg: "Too many connections: " + err.Error(), Err: err}
	case errors.Is(err, proxy.ErrNoReader):
		return &Error{Code: crConnectionRefused, State: "08S01", Err: err,
			Msg: "No reader instance is available through the proxy: none is healthy with replication lag within max_replica_lag"}
	case errors.Is(err, proxy.ErrTooManyClients):
		return &Error{Code: erConCount, State: "08004", Msg: "Too many connections", Err: err}
	}
	return &Error{Code: crConnectionRefused, State: "08S01", Msg: "Can't connect to the database through the proxy", Err: err}
}

// lostError is sent when the backend connection fails mid-command.
func lostError(err error) *Error {
	return &Error{Code: crServerLost, State: "08S01", Msg: "Lost connection to the database during query", Err: err}
}
