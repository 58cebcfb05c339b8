package mysql

import (
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/engine"
)

var (
	errBroken      = fmt.Errorf("mysql: connection is broken: %w", engine.ErrUnavailable)
	errPktTooLarge = mysql.ErrPktTooLarge
)

// fatalCodes are server errors after which the session is gone.
var fatalCodes = map[int]bool{
	1053: true, // ER_SERVER_SHUTDOWN
	1152: true, // ER_ABORTING_CONNECTION
	1927: true, // ER_CONNECTION_KILLED (MariaDB)
	4031: true, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
}

func asDBError(err error) (*engine.DBError, bool) {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return nil, false
	}
	return dbError(me), true
}

// dbError keeps the server's number and SQLSTATE (HY000 when the server sent none).
func dbError(me *mysql.MySQLError) *engine.DBError {
	state := string(me.SQLState[:])
	if me.SQLState[0] == 0 {
		state = "HY000"
	}
	return &engine.DBError{Message: me.Message, Code: int(me.Number), SQLState: state}
}
