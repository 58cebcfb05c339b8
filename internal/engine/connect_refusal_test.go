package engine

import (
	"errors"
	"testing"
)

func TestConnectRefusal(t *testing.T) {
	tests := []struct {
		e           DBError
		unavailable bool
	}{
		{DBError{Message: "FATAL: the database system is shutting down", SQLState: "57P03"}, true},
		{DBError{Message: "FATAL: terminating connection due to administrator command", SQLState: "57P01"}, true},
		{DBError{Message: "FATAL: sorry, too many clients already", SQLState: "53300"}, true},
		{DBError{Message: "Too many connections", Code: 1040, SQLState: "HY000"}, true},
		{DBError{Message: "Server shutdown in progress", Code: 1053, SQLState: "08S01"}, true},
		{DBError{Message: "password authentication failed", SQLState: "28P01"}, false},
		{DBError{Message: "database \"x\" does not exist", SQLState: "3D000"}, false},
		{DBError{Message: "Access denied", Code: 1045, SQLState: "28000"}, false},
	}
	for _, tt := range tests {
		err := ConnectRefusal(&tt.e)
		var dbe *DBError
		if got := errors.Is(err, ErrUnavailable); got != tt.unavailable || got == errors.As(err, &dbe) {
			t.Errorf("ConnectRefusal(%s): %v, want unavailable %v (and a DBError otherwise)", tt.e.SQLState, err, tt.unavailable)
		}
	}
}
