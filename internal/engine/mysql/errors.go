package mysql

import (
	"errors"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

var (
	errBroken = fmt.Errorf("mysql: connection is broken: %w", engine.ErrUnavailable)
	// errPktTooLarge: a statement longer than maxQuery is refused before
	// it is sent (Connector/J's PacketTooBigException).
	errPktTooLarge = &engine.DBError{Message: "Packet for query is too large.", SQLState: "S1000"}
)

// maxQuery bounds the statement text sent in one COM_QUERY.
const maxQuery = 64 << 20

// fatalCodes are server errors after which the session is gone.
var fatalCodes = map[int]bool{
	1053: true, // ER_SERVER_SHUTDOWN
	1152: true, // ER_ABORTING_CONNECTION
	1927: true, // ER_CONNECTION_KILLED (MariaDB)
	4031: true, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
}

func asDBError(err error) (*engine.DBError, bool) {
	var se *mysqlwire.Error
	if !errors.As(err, &se) {
		return nil, false
	}
	return dbError(se), true
}

// dbError keeps the server's number, SQLSTATE (HY000 when the server sent
// none) and message.
func dbError(se *mysqlwire.Error) *engine.DBError {
	state := se.State
	if len(state) != 5 {
		state = "HY000"
	}
	return &engine.DBError{Message: se.Msg, Code: int(se.Code), SQLState: state}
}
