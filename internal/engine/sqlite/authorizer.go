package sqlite

import (
	"fmt"
	"strings"

	sqlite "modernc.org/sqlite"
)

// SQL arriving through the Data API runs with the privileges of the
// sqlgate process, so it must not reach files outside its cluster:
// ATTACH/DETACH (and VACUUM INTO, which attaches its target) would open any
// path — the state store included — and some pragmas change how the file
// is written. The authorizer refuses them when the statement is compiled.

// safePragmas are the pragmas user SQL may run with an argument:
// introspection and per-connection settings that cannot touch other files.
// Any pragma may be read (no argument).
var safePragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true, "index_info": true,
	"index_xinfo": true, "foreign_key_list": true, "foreign_key_check": true, "foreign_keys": true,
	"integrity_check": true, "quick_check": true, "user_version": true, "schema_version": true,
	"collation_list": true, "function_list": true, "pragma_list": true, "compile_options": true,
	"defer_foreign_keys": true, "recursive_triggers": true, "case_sensitive_like": true,
	"data_version": true, "page_count": true, "page_size": true, "freelist_count": true,
	"encoding": true, "application_id": true, "optimize": true, "busy_timeout": true,
}

func authorize(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthAttach, sqlite.AuthDetach:
		return sqlite.AuthorizerDeny
	case sqlite.AuthPragma:
		if arg2 != "" && !safePragmas[strings.ToLower(arg1)] {
			return sqlite.AuthorizerDeny
		}
	}
	return sqlite.AuthorizerOK
}

// The same callback tracks session state (Dirty): it sees every action a
// statement compiles to, so it knows exactly when a statement sets a
// pragma, creates or drops a temporary table, index, view or trigger, or
// controls a transaction. (Attached databases cannot exist: ATTACH is
// refused above.)
func (c *Conn) authorize(action sqlite.AuthorizerActionCode, arg1, arg2, db, trigger string) sqlite.AuthorizerReturnCode {
	rc := authorize(action, arg1, arg2, db, trigger)
	if rc != sqlite.AuthorizerOK || c.own {
		return rc
	}
	switch action {
	case sqlite.AuthPragma:
		if arg2 != "" {
			c.state |= statePragma
		}
	case sqlite.AuthCreateTempIndex, sqlite.AuthCreateTempTable, sqlite.AuthCreateTempTrigger, sqlite.AuthCreateTempView,
		sqlite.AuthDropTempIndex, sqlite.AuthDropTempTable, sqlite.AuthDropTempTrigger, sqlite.AuthDropTempView:
		c.state |= stateTemp
	case sqlite.AuthTransaction, sqlite.AuthSavepoint:
		c.state |= stateTx
	}
	return rc
}

// restrict installs c's authorizer on the physical connection behind it.
func (c *Conn) restrict() error {
	return c.c.Raw(func(dc any) error {
		r, ok := dc.(sqlite.AuthorizerRegisterer)
		if !ok {
			return fmt.Errorf("sqlite driver has no authorizer")
		}
		return r.RegisterAuthorizer(c.authorize)
	})
}
