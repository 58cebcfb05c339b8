package engine

// Dialect selects the lexical rules of the SQL placeholder parser.
type Dialect int

// The SQL dialects sqlgate parses.
const (
	DialectMySQL    Dialect = iota // backslash escapes in strings, `quoted` identifiers, # comments, ? markers
	DialectPostgres                // $tag$ dollar quotes, E'' strings, :: casts, $n markers
	DialectSQLite                  // standard strings, [ident], ? markers
)

// Statement is a SQL text with its ":name" placeholders rewritten to the
// engine's positional markers (? or $1, $2, …).
type Statement struct {
	SQL   string   // rewritten SQL
	Names []string // Names[i] is the parameter name of positional marker i
	// Multi is true when the text holds more than one statement (a ';'
	// followed by anything but whitespace/comments): the Data API rejects it.
	Multi bool
}

// Rewrite parses sql for ":name" placeholders (name = letters, digits, _;
// purely numeric names such as ":1" too), skipping string literals, quoted
// identifiers, comments, PostgreSQL "::" casts and dollar quotes. The same
// name may appear several times; for PostgreSQL each distinct name gets one
// $n, for ? dialects each occurrence gets its own marker.
func Rewrite(sql string, d Dialect) (Statement, error) {
	return rewrite(sql, d)
}

// Order returns the parameter values in marker order for st, or a
// *ParamError naming a placeholder with no parameter. Parameters not used by
// the statement are ignored.
func Order(st Statement, params []Param) ([]Param, error) {
	return order(st, params)
}

// Prepare rewrites sql for dialect d and orders params to match its
// markers. Text holding several statements is refused with a validation
// *ParamError, as Aurora v2 refuses it.
func Prepare(sql string, d Dialect, params []Param) (Statement, []Param, error) {
	st, err := Rewrite(sql, d)
	if err != nil {
		return st, nil, err
	}
	if st.Multi {
		return st, nil, &ParamError{Msg: "Multistatements aren't supported.", Validation: true}
	}
	ordered, err := Order(st, params)
	return st, ordered, err
}
