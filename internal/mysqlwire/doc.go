// Package mysqlwire is sqlgate's MySQL/MariaDB client/server protocol codec:
// packet framing, the basic data types, the generic OK/ERR/EOF packets,
// the connection phase (handshake v10, HandshakeResponse41, the
// mysql_native_password and caching_sha2_password scrambles), session-state
// tracking blocks, column definitions and text and binary result rows.
//
// On top of the codec, Client is a small client for the database side of a
// connection: it dials (TCP, optional TLS), logs in, and runs COM_QUERY
// (text protocol), COM_STMT_PREPARE/EXECUTE/CLOSE (binary protocol),
// COM_PING, COM_INIT_DB and COM_RESET_CONNECTION, keeping the server status
// flags and the session-state changes the server reports in OK packets
// (CLIENT_SESSION_TRACK). The MySQL engine (internal/engine/mysql) runs on
// it. The server-side encoders (greeting, OK, ERR, EOF, column
// definitions, auth switch, scrambles and the RSA exchange) are here too,
// so that both legs of the MySQL proxy can use the same codec.
//
// The package does no I/O scheduling of its own: a Client is used by one
// goroutine at a time, and its owner bounds each command with deadlines or
// by closing the connection.
//
// Protocol reference:
// https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html and
// https://mariadb.com/kb/en/clientserver-protocol/.
//
// Every decoder returns ErrMalformed (wrapped) for truncated or inconsistent
// input and never panics; each has a fuzz target with a seed corpus.
package mysqlwire
