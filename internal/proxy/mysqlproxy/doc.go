// Package mysqlproxy is the MySQL/MariaDB front end of the sqlgate proxy
// (RDS Proxy analog, docs/proxy.md). Clients log in with an auth secret's
// username and password (mysql_native_password, caching_sha2_password with
// fast and full auth, or mysql_clear_password over TLS or loopback, which
// is also how IAM auth tokens arrive) and share backend connections that
// the proxy logs into with the secret's credentials.
//
// Multiplexing follows the protocol, never SQL alone: a client borrows a
// backend per command and keeps it while SERVER_STATUS_IN_TRANS is set in
// OK/EOF status flags. Backends run with session tracking on
// (session_track_*), so every OK reports changed system variables, the
// schema and a state-change flag. Tracked variables (RDS Proxy's list,
// state.go) and the schema are replayed lazily on whichever backend a
// client borrows; anything else (user variables, temporary tables, LOCK
// TABLES, GET_LOCK, SQL PREPARE, SQL_CALC_FOUND_ROWS, cursors) pins the
// session, and pinned backends are reset with COM_RESET_CONNECTION (plus
// COM_INIT_DB, as MariaDB keeps the schema) before reuse. A state-change
// flag counts as tracked state only on a plain SET or USE; stored routine
// calls, whose effects the trackers report only in part, mark the backend
// for a reset before another client borrows it, and isolation: strict
// resets on every hand-over to a different client (backend_reset.go). A
// client without a default database never gets a backend with one
// (COM_CHANGE_USER clears it).
// Binary-protocol prepared statements never pin: client statement ids map
// to SQL text and are prepared lazily per backend (stmt.go).
// Under load, the state-free autocommit commands of sessions queued for a
// backend go to it in one write and their replies are relayed in order,
// each to its own client (pipeline.go).
//
// The packet codec is our own (packet.go, wire.go, handshake.go) rather
// than vitess go/mysql or go-mysql's server package: a proxy relays most
// packets untouched and needs frame-level control that those libraries
// hide behind materialised result sets (streaming rows frame by frame,
// renumbering sequence ids when it converts EOF to OK, rewriting statement
// ids), the server and client halves are each a few hundred lines, and it
// keeps the module set to the one MySQL dependency CONTRIBUTING.md allows
// (go-sql-driver/mysql, used only by tests here). Every decoder is fuzzed
// (fuzz_test.go).
//
// Protocol reference: https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html;
// behaviour as users see it: docs/proxy.md.
package mysqlproxy
