// Package engine runs SQL against one backend database connection and maps the
// database's values and column types to the Aurora Data API's Field union.
//
// There is one implementation per database family (mysql, postgres, sqlite).
// Each opens raw connections (Conn); pooling, budgets and transaction pinning
// live in internal/pool and internal/txn, and the HTTP wire format lives in
// internal/dataapi. The type mapping follows docs/dataapi.md ("Types").
package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Kind says which member of the Data API Field union a Value carries.
type Kind uint8

// The Field union members.
const (
	KindNull Kind = iota
	KindBool
	KindLong
	KindDouble
	KindString
	KindBlob
	KindArray
)

// Value is one Data API Field: exactly one member is meaningful, chosen by Kind.
type Value struct {
	Kind   Kind
	Bool   bool
	Long   int64
	Double float64
	String string
	Blob   []byte
	// Array holds the elements of a KindArray value. Elements are KindNull,
	// KindBool, KindLong, KindDouble, KindString or (nested) KindArray.
	Array []Value
	// ElemKind is the element kind of an array (also when Array is empty), so
	// the wire layer can choose longValues/stringValues/… for "[]".
	ElemKind Kind
}

// Null, Long, … are short constructors for Values.
func Null() Value            { return Value{Kind: KindNull} }
func Bool(b bool) Value      { return Value{Kind: KindBool, Bool: b} }
func Long(n int64) Value     { return Value{Kind: KindLong, Long: n} }
func Double(f float64) Value { return Value{Kind: KindDouble, Double: f} }
func String(s string) Value  { return Value{Kind: KindString, String: s} }
func Blob(b []byte) Value    { return Value{Kind: KindBlob, Blob: b} }

// TypeHint is the Data API SqlParameter.typeHint: how a stringValue is bound.
type TypeHint string

// The type hints the Data API defines.
const (
	HintNone      TypeHint = ""
	HintDate      TypeHint = "DATE"
	HintTime      TypeHint = "TIME"
	HintTimestamp TypeHint = "TIMESTAMP"
	HintDecimal   TypeHint = "DECIMAL"
	HintJSON      TypeHint = "JSON"
	HintUUID      TypeHint = "UUID"
)

// Param is one named SQL parameter (":name" in the statement; Name has no colon).
type Param struct {
	Name  string
	Value Value
	Hint  TypeHint
}

// Column is the Data API ColumnMetadata of one result column, with JDBC
// semantics (Type is a java.sql.Types code, Nullable 0/1/2).
type Column struct {
	Name                string
	Label               string
	TypeName            string
	Type                int32
	Precision           int32
	Scale               int32
	Nullable            int32
	IsSigned            bool
	IsAutoIncrement     bool
	IsCaseSensitive     bool
	IsCurrency          bool
	SchemaName          string
	TableName           string
	ArrayBaseColumnType int32
}

// JDBC java.sql.Types codes used in Column.Type.
const (
	JDBCBit           = -7
	JDBCTinyInt       = -6
	JDBCSmallInt      = 5
	JDBCInteger       = 4
	JDBCBigInt        = -5
	JDBCFloat         = 6
	JDBCReal          = 7
	JDBCDouble        = 8
	JDBCNumeric       = 2
	JDBCDecimal       = 3
	JDBCChar          = 1
	JDBCVarchar       = 12
	JDBCLongVarchar   = -1
	JDBCDate          = 91
	JDBCTime          = 92
	JDBCTimestamp     = 93
	JDBCBinary        = -2
	JDBCVarbinary     = -3
	JDBCLongVarbinary = -4
	JDBCOther         = 1111
	JDBCBoolean       = 16
	JDBCArray         = 2003
	JDBCBlob          = 2004
	JDBCClob          = 2005
)

// Result is what one statement produced.
type Result struct {
	// HasResultSet is true when the statement returned a result set (SELECT,
	// SHOW, … RETURNING), even an empty one; Columns and Rows are set then.
	HasResultSet bool
	Columns      []Column
	Rows         [][]Value
	// RowsAffected is the number of rows changed by DML (0 for result sets and DDL).
	RowsAffected int64
	// Generated holds generated keys: MySQL's LAST_INSERT_ID for an insert
	// into an AUTO_INCREMENT table (empty elsewhere).
	Generated []Value
	// Decimal[i] is true when column i is DECIMAL/NUMERIC: its Values are
	// KindString and resultSetOptions.decimalReturnType may turn them into numbers.
	Decimal []bool
	// Cells, when set, holds the rows instead of Rows, decoded value by
	// value (see WithLazyDecode and At).
	Cells Cells `json:"-"`
}

// Credentials select the database login: from a secret, plus the database
// named by the request (empty = the engine's default).
type Credentials struct {
	User     string
	Password string
	Database string
	// Secret is the ARN of the secret User and Password came from (empty:
	// none). It is not part of the login: a door that fails to log in may
	// retry with the other version of that secret while it rotates.
	Secret string
}

// Engine opens backend connections for one cluster.
type Engine interface {
	// Connect opens one new backend connection logged in with creds.
	Connect(ctx context.Context, creds Credentials) (Conn, error)
	// Name is "mysql", "postgres" or "sqlite".
	Name() string
	// Close releases engine-wide resources (e.g. a SQLite file handle).
	Close() error
}

// Conn is one backend connection. It is not safe for concurrent use: the
// pool hands it to one caller at a time.
type Conn interface {
	// Exec runs one statement with named parameters bound by the engine
	// (":name" placeholders, see Parse). Cancelling ctx stops the statement on
	// the backend (not merely the client side). maxBytes > 0 bounds the
	// approximate size of the result; exceeding it returns ErrResultTooLarge.
	Exec(ctx context.Context, sql string, params []Param, maxBytes int) (*Result, error)
	// Begin, Commit and Rollback control an explicit transaction.
	Begin(ctx context.Context) error
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
	// ID is the backend's connection/process id (Data API dbConnectionId).
	ID() int64
	// Ping checks the connection is usable (for pool health checks).
	Ping(ctx context.Context) error
	// Close closes the connection. A broken connection is closed, never reused.
	Close() error
	// Broken reports whether the connection failed in a way that makes it
	// unusable (network error, cancelled mid-protocol).
	Broken() bool
	// Dirty reports whether anything run since Connect or the last Reset
	// may have left session state behind: variables, the current database,
	// the character set, a role, temporary tables or objects, prepared
	// statements, locks, or an open transaction. It errs on the side of
	// true: a connection it calls clean must behave, for the next caller,
	// exactly like a new one logged in with the same credentials.
	Dirty() bool
	// Reset returns a dirty session to the state right after Connect (the
	// login database current, no transaction, no session state), as cheaply
	// as the engine can prove it (MySQL COM_RESET_CONNECTION, PostgreSQL
	// ROLLBACK + DISCARD ALL). On error the connection must be closed.
	Reset(ctx context.Context) error
}

// LastExecer is implemented by a Conn that can run a statement as the
// last its caller sends on the session, outside a transaction: the session
// is reset (Dirty, Reset) right after, so the engine may clear, in the
// statement's own round trip, session state the statement itself leaves
// (the MySQL engine clears a generated LAST_INSERT_ID that way instead of
// a command of its own at the reset). Results are exactly Exec's.
type LastExecer interface {
	ExecLast(ctx context.Context, sql string, params []Param, maxBytes int) (*Result, error)
}

// ErrResetUnsupported is returned by Reset when the engine cannot prove a
// session clean; the caller closes the connection instead.
var ErrResetUnsupported = errors.New("session reset unsupported")

// ErrResultTooLarge is returned by Exec when the result exceeds maxBytes.
var ErrResultTooLarge = errors.New("result too large")

// ErrUnavailable wraps errors that mean the backend could not be reached
// (connect refused, connection lost): the Data API maps them to 503-class errors.
var ErrUnavailable = errors.New("database unavailable")

// ErrTimeout is returned when ctx's deadline stopped a statement.
var ErrTimeout = errors.New("statement timed out")

// DBError is an error reported by the database for the user's SQL. Message is
// formatted as the Data API v2 shows it.
type DBError struct {
	Message  string // engine message, e.g. `ERROR: relation "x" does not exist`
	SQLState string // five-character SQLSTATE when known
	Code     int    // MySQL error number (0 elsewhere)
}

// LoginRefused reports whether err is the database refusing a login
// (SQLSTATE class 28, invalid authorization: MySQL 1045, PostgreSQL
// 28P01), as opposed to an unreachable server or a broken connection.
func LoginRefused(err error) bool {
	var e *DBError
	return errors.As(err, &e) && strings.HasPrefix(e.SQLState, "28")
}

// ConnectRefusal maps a server error answered to a login attempt: the
// server shutting down, starting up or promoting (PostgreSQL 57P0x,
// MariaDB 1053 08S01), a connection exception (class 08) or no room for a
// connection (class 53, MySQL 1040) means the server cannot take
// connections now — ErrUnavailable, which callers retry — while anything
// else (a refused login, an unknown database) stays the server's error.
func ConnectRefusal(e *DBError) error {
	s := e.SQLState
	if strings.HasPrefix(s, "57P") || strings.HasPrefix(s, "08") || strings.HasPrefix(s, "53") || e.Code == 1040 {
		return fmt.Errorf("%w: %s", ErrUnavailable, e.Error())
	}
	return e
}

func (e *DBError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("%s; Error code: %d; SQLState: %s", e.Message, e.Code, e.SQLState)
	}
	if e.SQLState != "" {
		return fmt.Sprintf("%s; SQLState: %s", e.Message, e.SQLState)
	}
	return e.Message
}

// UnsupportedTypeError is returned when a result column has a type the Data
// API cannot represent (interval, money, multi-dimensional arrays, …).
type UnsupportedTypeError struct{ TypeName string }

func (e *UnsupportedTypeError) Error() string {
	return "The result contains the unsupported data type " + e.TypeName + "."
}

// ParamError is a problem with the request's parameters (missing, unknown,
// wrongly typed, unsupported array). The Data API maps it to a 400.
type ParamError struct {
	Msg        string
	Validation bool // true: ValidationException; false: BadRequestException
}

func (e *ParamError) Error() string { return e.Msg }

// Interrupter is a Conn whose running statement another goroutine can stop
// without a context. The execution service runs statements on it under a
// context whose Done is nil (so the driver arms no per-statement watch) and
// calls Interrupt only when one must stop: at its timeout or when its
// caller went away. By then ctx.Err() says why, and Interrupt acts as the
// end of Exec's ctx would: the statement stops on the backend and Exec
// returns the same error. Interrupt is a no-op while no Exec runs; an
// Exec interrupted does not return before the interrupt's work is done, so
// it cannot reach the connection's next statement.
type Interrupter interface {
	Interrupt()
}
