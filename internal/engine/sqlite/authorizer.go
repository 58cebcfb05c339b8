package sqlite

import (
	"database/sql"
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

// restrict installs the authorizer on the physical connection behind c.
func restrict(c *sql.Conn) error {
	return c.Raw(func(dc any) error {
		r, ok := dc.(sqlite.AuthorizerRegisterer)
		if !ok {
			return fmt.Errorf("sqlite driver has no authorizer")
		}
		return r.RegisterAuthorizer(authorize)
	})
}
