package pgproxy

// Expression-level checks, run only on texts that contain "(" or "into"
// (so never on the plain statements of the clean path): calls of
// functions the proxy cannot vouch for, and SELECT ... INTO TEMP.

import "strings"

// safeFuncs are built-in functions known not to change session state
// (pg_catalog; a "pg_catalog." prefix is ignored). Any other call marks
// the session dirty: the function may run SET ROLE, set_config, create
// temporary tables, LISTEN or take advisory locks where the proxy cannot
// see it, so the connection is reset before another client gets it.
var safeFuncs = setOf(
	// aggregates and window functions
	"count", "sum", "avg", "min", "max", "array_agg", "string_agg", "json_agg", "jsonb_agg",
	"json_object_agg", "jsonb_object_agg", "bool_and", "bool_or", "every", "row_number", "rank",
	"dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
	// conditionals and comparisons
	"coalesce", "nullif", "greatest", "least",
	// strings
	"lower", "upper", "length", "char_length", "character_length", "octet_length", "substring", "substr",
	"trim", "btrim", "ltrim", "rtrim", "replace", "concat", "concat_ws", "format", "position", "strpos",
	"split_part", "left", "right", "lpad", "rpad", "repeat", "reverse", "initcap", "md5", "encode", "decode",
	"regexp_replace", "regexp_match", "regexp_matches", "regexp_split_to_array", "string_to_array",
	"array_to_string", "quote_ident", "quote_literal", "quote_nullable", "to_hex", "ascii", "chr", "translate",
	// numbers
	"abs", "round", "floor", "ceil", "ceiling", "trunc", "mod", "power", "sqrt", "exp", "ln", "log", "sign",
	"pi", "random", "width_bucket",
	// dates and times
	"now", "clock_timestamp", "statement_timestamp", "transaction_timestamp", "timeofday", "date_trunc",
	"date_part", "extract", "age", "to_char", "to_date", "to_timestamp", "to_number", "make_date",
	"make_time", "make_timestamp", "make_timestamptz", "make_interval", "isfinite", "justify_days",
	"justify_hours", "justify_interval", "date_bin",
	// arrays, JSON, sets
	"array_length", "array_position", "array_positions", "array_append", "array_prepend", "array_cat",
	"array_remove", "array_upper", "array_lower", "cardinality", "unnest", "generate_series",
	"generate_subscripts", "to_json", "to_jsonb", "row_to_json", "array_to_json", "json_build_object",
	"jsonb_build_object", "json_build_array", "jsonb_build_array", "jsonb_set", "jsonb_insert",
	"jsonb_strip_nulls", "jsonb_pretty", "json_array_elements", "jsonb_array_elements",
	"json_array_elements_text", "jsonb_array_elements_text", "json_each", "jsonb_each", "json_each_text",
	"jsonb_each_text", "json_extract_path", "jsonb_extract_path", "json_extract_path_text",
	"jsonb_extract_path_text", "json_typeof", "jsonb_typeof", "json_array_length", "jsonb_array_length",
	"jsonb_object_keys", "json_object_keys", "jsonb_path_query", "jsonb_path_exists",
	// information
	"current_setting", "current_database", "current_schema", "current_schemas", "current_user",
	"session_user", "version", "pg_backend_pid", "pg_typeof", "txid_current", "pg_current_xact_id",
	"gen_random_uuid", "pg_sleep", "pg_column_size", "pg_relation_size", "pg_total_relation_size",
	"pg_database_size", "pg_size_pretty", "has_table_privilege", "has_schema_privilege", "to_regclass",
	"pg_get_userbyid", "obj_description", "col_description", "format_type", "pg_get_expr",
	"pg_table_is_visible", "pg_get_indexdef", "pg_get_constraintdef", "pg_encoding_to_char",
	"pg_is_in_recovery", "inet_server_addr", "inet_server_port", "pg_listening_channels",
	// classified on their own (tracked, or pinning)
	"set_config", "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock",
	"pg_try_advisory_lock_shared",
	// advisory locks scoped to the transaction
	"pg_advisory_xact_lock", "pg_advisory_xact_lock_shared", "pg_try_advisory_xact_lock",
	"pg_try_advisory_xact_lock_shared",
)

// notCalls are keywords and type names that may precede "(" without
// being a function call.
var notCalls = setOf(
	"in", "exists", "values", "any", "all", "some", "as", "into", "table", "join", "on", "using", "over",
	"filter", "within", "partition", "by", "cast", "key", "unique", "check", "default", "with", "array",
	"row", "and", "or", "not", "select", "where", "when", "then", "else", "returning", "lateral", "set",
	"is", "like", "ilike", "between", "case", "distinct", "group", "order", "having", "limit", "offset",
	"union", "except", "intersect", "conflict", "primary", "foreign", "references", "from", "view",
	"grouping", "rollup", "cube", "sets", "nulls", "include", "tablesample", "similar", "to", "escape",
	"interval", "numeric", "decimal", "varchar", "char", "character", "varying", "bit", "timestamp",
	"time", "float", "precision", "explain", "analyze", "vacuum", "do", "update", "delete", "insert",
	"exclude", "generated", "identity", "storage", "if", "return", "do", "nothing", "trim", "overlay",
	"substring", "position", "extract", "coalesce", "nullif", "greatest", "least", "xmlelement",
)

// notCallAfter are words after which "name (" is a table, alias or index
// column list, not a call.
var notCallAfter = setOf("into", "table", "references", "on", "with", "as", "view", "copy", "type",
	"using", "index", "update", "only", "exists")

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// scanExprs looks at every token of sql for calls the proxy cannot vouch
// for (dirty) and SELECT ... INTO TEMP (pin). Its tokens are slices of
// sql (lexer.rawToken), so an INSERT ... VALUES (...) costs no allocation.
func scanExprs(sql string, c *sqlClass) {
	lx := lexer{s: sql}
	var prev, prev2 token
	for {
		t := lx.rawToken()
		if t.kind == tokEnd {
			return
		}
		switch {
		case t.kind == tokPunct && t.text == "(":
			if (prev.kind == tokWord || prev.kind == tokIdent) && isCall(prev, prev2) && c.dirty == "" {
				c.dirty = "call of " + prev.value()
			}
		case t.is("into") && !prev.is("insert") && !prev.is("merge"):
			if intoTemp(&lx) {
				c.pinAs(pinTemp)
			}
		}
		if t.kind == tokPunct && t.text != "(" {
			prev, prev2 = t, token{}
			continue
		}
		prev2, prev = prev, t
	}
}

// isCall reports whether name followed by "(" calls a function the
// proxy cannot vouch for; before is the token ahead of name.
func isCall(name, before token) bool {
	if name.kind == tokWord && name.in(notCalls) || before.in(notCallAfter) {
		return false
	}
	if name.kind == tokWord && hasPrefixFold(name.text, "pg_catalog.") || name.kind != tokWord && strings.HasPrefix(name.text, "pg_catalog.") {
		name.text = name.text[len("pg_catalog."):]
	}
	return !name.in(safeFuncs)
}

// intoTemp reports whether the tokens after INTO name a temporary table.
func intoTemp(lx *lexer) bool {
	save := lx.i
	defer func() { lx.i = save }()
	t, _ := lx.token()
	if t == "local" || t == "global" {
		t, _ = lx.token()
	}
	return t == "temp" || t == "temporary"
}
