package pgproxy

// A light SQL classifier for session state the proxy cannot share between
// clients: it reads the leading keywords of each statement and, in texts
// with "(" or INTO, the function calls and INTO TEMP (classify_expr.go);
// it never parses SQL, and errs on the side of pinning or resetting.

import (
	"strings"
)

// trackedParams are session parameters the proxy replays on whichever
// backend a client borrows instead of pinning (PgBouncer's
// list plus search_path and the common timeouts).
var trackedParams = map[string]bool{
	"client_encoding": true, "datestyle": true, "timezone": true, "intervalstyle": true,
	"search_path": true, "application_name": true, "standard_conforming_strings": true,
	"statement_timeout": true, "lock_timeout": true, "idle_in_transaction_session_timeout": true,
	"extra_float_digits": true, "bytea_output": true, "default_transaction_isolation": true,
	"default_transaction_read_only": true, "default_transaction_deferrable": true,
	"work_mem": true, "jit": true, "timezone_abbreviations": true, "xmloption": true,
	"lc_messages": true, "lc_monetary": true, "lc_numeric": true, "lc_time": true,
}

// reportedParams are the tracked parameters every supported server
// reports with ParameterStatus whenever they change, however they were
// set.
var reportedParams = map[string]bool{
	"client_encoding": true, "datestyle": true, "timezone": true, "intervalstyle": true,
	"application_name": true, "standard_conforming_strings": true,
}

// Pin reasons (metric label values).
const (
	pinSet       = "SQL changed session settings that the proxy doesn't track"
	pinListen    = "LISTEN"
	pinPrepare   = "SQL PREPARE"
	pinHold      = "WITH HOLD cursor"
	pinTemp      = "temporary object"
	pinAdvisory  = "session advisory lock"
	pinLoad      = "LOAD"
	pinSetConfig = "set_config of an untracked or non-literal parameter"
	pinDo        = "DO block"
	pinCall      = "CALL of a procedure"
)

// sqlClass is what a query text does to session state.
type sqlClass struct {
	pin string // non-empty: pin the session
	// dirty names what the proxy cannot see into but need not pin for
	// (a function call): the session is reset before another client
	// gets the connection.
	dirty      string
	track      []string // tracked parameters it may change
	resetAll   bool     // RESET ALL or DISCARD ALL
	deallocAll bool     // DEALLOCATE ALL or DISCARD ALL
	// deallocate is the name when the whole text is one "DEALLOCATE name".
	deallocate string
	// pipe: one plain SELECT, INSERT, UPDATE, DELETE, WITH, VALUES or
	// TABLE statement that touches no session state and calls no
	// function the proxy cannot vouch for; in autocommit it may share a
	// backend write with other clients' statements (pipeline.go).
	pipe bool
}

// detach returns c without references into the text it was classified
// from (classifyQuery classifies a reused buffer in place).
func (c sqlClass) detach() sqlClass {
	c.deallocate = strings.Clone(c.deallocate)
	if len(c.track) > 0 {
		track := make([]string, len(c.track))
		for i, t := range c.track {
			track[i] = strings.Clone(t)
		}
		c.track = track
	}
	return c
}

// classify inspects every statement of sql.
func classify(sql string) sqlClass {
	m, t := scanText(sql)
	if c, ok := classifyPlain(sql, m, t); ok {
		return c
	}
	return classifyFull(sql, m)
}

// classifyFull is classify once the text's marks are known, for any text.
func classifyFull(sql string, m marks) sqlClass {
	var c sqlClass
	classifyMarks(sql, m, &c)
	lx := lexer{s: sql}
	nStmts := 0
	for !lx.done() {
		nStmts++
		if words := lx.statement(); len(words) > 0 {
			classifyStatement(words, &c)
		}
	}
	return c.finish(nStmts, m, pipeWord(sql))
}

// classifyMarks looks closer at what the marks m of sql point to.
func classifyMarks(sql string, m marks, c *sqlClass) {
	if m&(markAdvisory|markTryAdvisory) != 0 {
		c.pin = pinAdvisory
	}
	for rest := sql; m&markSetConfig != 0; {
		i := indexFold(rest, "set_config")
		if i < 0 {
			break
		}
		rest = rest[i+len("set_config"):]
		classifySetConfig(rest, c)
	}
	if m&(markParen|markInto) != 0 {
		scanExprs(sql, c)
	}
}

// finish completes the class of a text of nStmts statements with marks
// m; pipeWord: its first word leads a statement that may be pipelined.
func (c sqlClass) finish(nStmts int, m marks, pipeWord bool) sqlClass {
	if nStmts != 1 {
		c.deallocate = ""
	}
	if c.pin != "" {
		c.dirty = "" // a pinned session is reset when it ends anyway
	}
	c.pipe = nStmts == 1 && c.pin == "" && c.dirty == "" && len(c.track) == 0 && !c.resetAll &&
		!c.deallocAll && c.deallocate == "" && pipeWord && m&markSleep == 0
	return c
}

// pipeWord reports whether sql starts with a keyword that leads a
// statement that may be pipelined (wordKind). pg_sleep is
// left out of pipelines on top (classify): a pipelined statement cannot
// be cancelled, and a sleep is what clients cancel.
func pipeWord(sql string) bool {
	lx := lexer{s: sql}
	lx.skipSpace()
	if lx.i >= len(sql) || !isWordChar(sql[lx.i]) {
		return false
	}
	return isPipeWord(sql[lx.i:lx.wordEnd()])
}

// isPipeWord reports whether w, in any case, leads a statement that may
// be pipelined: SELECT, INSERT, UPDATE, DELETE, WITH, VALUES or TABLE.
func isPipeWord(w string) bool {
	_, pipe := wordKind(w)
	return pipe
}

func (c *sqlClass) pinAs(reason string) {
	if c.pin == "" {
		c.pin = reason
	}
}

func classifyStatement(w []string, c *sqlClass) {
	at := func(i int) string {
		if i < len(w) {
			return w[i]
		}
		return ""
	}
	switch w[0] {
	case "set":
		classifySet(w[1:], c)
	case "reset":
		switch name := at(1); name {
		case "all":
			c.resetAll = true
		case "role", "session":
		default:
			trackOrPin(name, c)
		}
	case "listen":
		c.pinAs(pinListen)
	case "prepare":
		if at(1) != "transaction" {
			c.pinAs(pinPrepare)
		}
	case "deallocate":
		name := at(1)
		if name == "prepare" {
			name = at(2)
		}
		if name == "all" {
			c.deallocAll = true
		} else {
			c.deallocate = name
		}
	case "discard":
		if at(1) == "all" {
			c.resetAll, c.deallocAll = true, true
		}
	case "declare":
		for i := 1; i+1 < len(w); i++ {
			if w[i] == "with" && w[i+1] == "hold" {
				c.pinAs(pinHold)
			}
		}
	case "create":
		classifyCreate(w, c)
	case "load":
		c.pinAs(pinLoad)
	case "do":
		c.pinAs(pinDo)
	case "call":
		c.pinAs(pinCall)
	}
}

func classifySet(w []string, c *sqlClass) {
	if len(w) == 0 {
		return
	}
	switch w[0] {
	case "local", "transaction", "constraints":
		return // transaction-scoped
	case "session":
		w = w[1:]
		if len(w) == 0 || w[0] == "authorization" || w[0] == "characteristics" {
			c.pinAs(pinSet)
			return
		}
	}
	switch w[0] {
	case "role":
		c.pinAs(pinSet)
	case "time":
		trackOrPin("timezone", c)
	case "names":
		trackOrPin("client_encoding", c)
	case "schema":
		trackOrPin("search_path", c)
	default:
		trackOrPin(w[0], c)
	}
}

func trackOrPin(name string, c *sqlClass) {
	if trackedParams[name] {
		c.track = append(c.track, name)
		return
	}
	c.pinAs(pinSet)
}

func classifyCreate(w []string, c *sqlClass) {
	for _, x := range w {
		if strings.HasPrefix(x, "pg_temp") { // pg_temp.x, pg_temp_3.x
			c.pinAs(pinTemp)
			return
		}
	}
	temp := false
	for i := 1; i < len(w) && i < 6; i++ {
		switch w[i] {
		case "temp", "temporary":
			temp = true
		case "table", "view", "sequence":
			if !temp {
				return
			}
			for j := i; j+2 < len(w); j++ {
				if w[j] == "on" && w[j+1] == "commit" && w[j+2] == "drop" {
					return
				}
			}
			c.pinAs(pinTemp)
			return
		}
	}
}

// classifySetConfig handles set_config('name', value, is_local): tracked
// names with a literal name are tracked, is_local=true is ignored, the rest pins.
func classifySetConfig(rest string, c *sqlClass) {
	lx := lexer{s: rest}
	if t, _ := lx.token(); t != "(" {
		return // a column or function named like it
	}
	name, kind := lx.token()
	if kind != tokString {
		c.pinAs(pinSetConfig)
		return
	}
	depth, args := 0, []string{}
	for !lx.done() {
		t, k := lx.token()
		if k == tokPunct {
			switch t {
			case "(":
				depth++
			case ")":
				if depth == 0 {
					if len(args) > 0 && (args[len(args)-1] == "true" || args[len(args)-1] == "t") {
						return
					}
					trackOrPinSetConfig(strings.ToLower(name), c)
					return
				}
				depth--
			}
			continue
		}
		args = append(args, t)
	}
	c.pinAs(pinSetConfig)
}

func trackOrPinSetConfig(name string, c *sqlClass) {
	if trackedParams[name] {
		c.track = append(c.track, name)
		return
	}
	c.pinAs(pinSetConfig)
}

// indexFold returns the index of the first lower-case ASCII sub in s,
// ignoring the case of ASCII letters in s, or -1.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 == sub[0] && hasPrefixFold(s[i:], sub) {
			return i
		}
	}
	return -1
}
