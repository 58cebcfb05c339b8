package engine

// The statement inspector: what one statement does to its session, read
// from its text with the shared Scanner. It never allocates.

// TxControl says whether a statement controls transactions.
type TxControl uint8

// The transaction-control classes.
const (
	TxNone TxControl = iota
	// TxBegin opens a transaction: BEGIN, START TRANSACTION, XA START.
	TxBegin
	// TxEnd ends one: COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION,
	// COMMIT/ROLLBACK PREPARED, XA END/PREPARE/COMMIT/ROLLBACK.
	TxEnd
	// TxSavepoint works inside one: SAVEPOINT, RELEASE [SAVEPOINT],
	// ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT].
	TxSavepoint
	// TxMode changes how later statements are grouped into transactions:
	// SET autocommit (MySQL), SET SESSION CHARACTERISTICS AS TRANSACTION
	// (PostgreSQL), SET SESSION TRANSACTION (MySQL).
	TxMode
)

// Effect says what a statement may leave in its session once it ends
// (outside an explicit transaction).
type Effect uint8

// The effects, from none to the worst.
const (
	// EffectNone: nothing the text shows outlives the statement.
	EffectNone Effect = iota
	// EffectSequences: may advance a sequence, which sets the session's
	// currval/lastval (PostgreSQL INSERT, MERGE, nextval).
	EffectSequences
	// EffectSession: may leave session state (SET, temporary objects,
	// prepared statements, cursors, locks, listeners, user variables,
	// functions sqlgate cannot vouch for, anything unknown).
	EffectSession
	// EffectPermanent: leaves state no reset can undo (PostgreSQL LOAD).
	EffectPermanent
)

// Info is what Inspect reads from one statement.
type Info struct {
	Tx     TxControl
	Effect Effect
	// Verb is the statement's first keyword as written ("" when none).
	Verb string
}

// Inspect reads one statement (no ';'-separated list; see Split). It errs
// towards EffectSession: a statement it does not know leaves state.
// MySQL executable comments are read as the code they are.
func Inspect(sql string, d Dialect) Info {
	in := inspector{sc: NewScanner(sql, d, true), src: sql, d: d}
	return in.run()
}

// InspectTx reads only whether a statement controls transactions (Info's
// Tx and Verb), which needs only its first words.
func InspectTx(sql string, d Dialect) Info {
	in := inspector{sc: NewScanner(sql, d, true), src: sql, d: d}
	first := in.first()
	if first.Kind != TokWord {
		return Info{}
	}
	return Info{Verb: in.text(first), Tx: in.txControl(first)}
}

type inspector struct {
	sc  Scanner
	src string
	d   Dialect
}

// next returns the next significant token (no space or comment).
func (in *inspector) next() Token {
	for {
		t := in.sc.Next()
		if t.Kind != TokSpace && t.Kind != TokComment {
			return t
		}
	}
}

func (in *inspector) text(t Token) string { return in.src[t.Start:t.End] }

// is reports whether t is the keyword kw (upper case), case-insensitively.
func (in *inspector) is(t Token, kw string) bool {
	return t.Kind == TokWord && equalFold(in.text(t), kw)
}

func (in *inspector) punct(t Token, c byte) bool {
	return t.Kind == TokPunct && in.src[t.Start] == c
}

// first returns the first significant token after any opening parentheses.
func (in *inspector) first() Token {
	t := in.next()
	for in.punct(t, '(') {
		t = in.next()
	}
	return t
}

func (in *inspector) run() Info {
	first := in.first()
	if first.Kind != TokWord {
		if first.Kind == TokEOF {
			return Info{}
		}
		return Info{Effect: EffectSession}
	}
	info := Info{Verb: in.text(first)}
	save := in.sc.Pos()
	if info.Tx = in.txControl(first); info.Tx != TxNone {
		info.Effect = EffectSession
		return info
	}
	in.sc.SetPos(save)
	info.Effect = in.effect(first)
	return info
}

// txControl classifies first and the words after it.
func (in *inspector) txControl(first Token) TxControl {
	switch upperKeyword(in.text(first)) {
	case "BEGIN":
		if t := in.next(); in.is(t, "NOT") { // MariaDB BEGIN NOT ATOMIC: a compound statement
			return TxNone
		}
		return TxBegin
	case "START":
		if in.is(in.next(), "TRANSACTION") {
			return TxBegin
		}
	case "COMMIT", "END", "ABORT":
		return TxEnd
	case "ROLLBACK":
		t := in.next()
		if in.is(t, "WORK") || in.is(t, "TRANSACTION") || in.is(t, "TRAN") {
			t = in.next()
		}
		if in.is(t, "TO") {
			return TxSavepoint
		}
		return TxEnd
	case "SAVEPOINT", "RELEASE":
		return TxSavepoint
	case "PREPARE":
		if in.is(in.next(), "TRANSACTION") && in.next().Kind == TokString {
			return TxEnd
		}
	case "XA":
		if t := in.next(); in.is(t, "START") || in.is(t, "BEGIN") {
			return TxBegin
		}
		return TxEnd
	case "SET":
		return in.setTx()
	}
	return TxNone
}

// setTx finds SET autocommit and session-wide transaction characteristics.
func (in *inspector) setTx() TxControl {
	t := in.next()
	if in.is(t, "SESSION") {
		t = in.next()
		if in.is(t, "CHARACTERISTICS") || (in.d == DialectMySQL && in.is(t, "TRANSACTION")) {
			return TxMode
		}
	}
	for ; t.Kind != TokEOF; t = in.next() {
		if t.Kind != TokWord {
			continue
		}
		w := in.text(t)
		for len(w) > 2 && w[0] == '@' && w[1] == '@' { // @@autocommit, @@session.autocommit
			w = w[2:]
		}
		if equalFold(w, "AUTOCOMMIT") {
			return TxMode
		}
	}
	return TxNone
}

// cleanVerbs are statements that leave no session state by themselves;
// what they call is checked separately.
var cleanVerbs = map[string]Effect{
	"SELECT": EffectNone, "WITH": EffectNone, "VALUES": EffectNone, "TABLE": EffectNone,
	"UPDATE": EffectNone, "DELETE": EffectNone, "EXPLAIN": EffectNone, "SHOW": EffectNone,
	"INSERT": EffectSequences, "MERGE": EffectSequences, "REPLACE": EffectSequences, "UPSERT": EffectSequences,
	"CREATE": EffectNone, "ALTER": EffectNone, "DROP": EffectNone, "COMMENT": EffectNone, "GRANT": EffectNone,
	"REVOKE": EffectNone, "TRUNCATE": EffectNone, "VACUUM": EffectNone, "ANALYZE": EffectNone,
	"REINDEX": EffectNone, "CLUSTER": EffectNone, "CHECKPOINT": EffectNone, "REFRESH": EffectNone,
	"NOTIFY": EffectNone, "DESCRIBE": EffectNone, "DESC": EffectNone, "PRAGMA": EffectSession,
}

// effect reads the whole statement after its first word.
func (in *inspector) effect(first Token) Effect {
	verb := upperKeyword(in.text(first))
	if verb == "LOAD" && in.d == DialectPostgres {
		return EffectPermanent
	}
	eff, ok := cleanVerbs[verb]
	if !ok {
		return EffectSession
	}
	w := window{prev: first, prevWord: first}
	for t := in.next(); t.Kind != TokEOF; t = in.next() {
		e := in.token(t, w, verb)
		if e > eff {
			eff = e
		}
		if eff == EffectSession {
			return eff
		}
		w.prev2, w.prev = w.prev, t
		if t.Kind == TokWord || t.Kind == TokQuoted {
			w.prevWord = t
		}
	}
	return eff
}

// window holds the significant tokens before the current one.
type window struct {
	prev, prev2 Token // the last two
	prevWord    Token // the last word or quoted identifier
}

// token judges one token given the ones before it.
func (in *inspector) token(t Token, w window, verb string) Effect {
	prev, prevWord := w.prev, w.prevWord
	switch t.Kind {
	case TokWord:
		word := in.text(t)
		switch {
		case word[0] == '@': // MySQL user or system variable
			return EffectSession
		case equalFold(word, "TEMP"), equalFold(word, "TEMPORARY"), equalFold(word, "PG_TEMP"):
			return EffectSession
		case equalFold(word, "INTO") && !in.insertInto(prevWord):
			return EffectSession // SELECT … INTO (a new table, variables or a file)
		case equalFold(word, "DEFAULT") && verb == "UPDATE":
			return EffectSequences
		}
	case TokPunct:
		if in.src[t.Start] == '(' && (prev.Kind == TokWord || prev.Kind == TokQuoted) {
			return in.call(prev, w.prev2)
		}
	}
	return EffectNone
}

// insertInto reports whether INTO after word belongs to INSERT, REPLACE or MERGE.
func (in *inspector) insertInto(word Token) bool {
	switch upperKeyword(in.text(word)) {
	case "INSERT", "MERGE", "REPLACE", "IGNORE", "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY":
		return true
	}
	return false
}

// call judges name( — a function call unless name is a keyword, a type
// with modifiers or a table, column list or alias context.
func (in *inspector) call(name, before Token) Effect {
	if before.Kind == TokPunct && in.src[before.Start] == '.' {
		return EffectSession // schema.function( — unknown
	}
	if before.Kind == TokWord && nameContext[upperKeyword(in.text(before))] {
		return EffectNone
	}
	if name.Kind == TokQuoted {
		return EffectSession
	}
	w := lowerKeyword(in.text(name))
	if w == "nextval" || w == "setval" {
		return EffectSequences
	}
	if callKeywords[w] || safeFuncs[w] {
		return EffectNone
	}
	return EffectSession
}

// nameContext are keywords after which "name (" is a table, type or alias
// with a column list, not a call.
var nameContext = map[string]bool{
	"INTO": true, "TABLE": true, "REFERENCES": true, "EXISTS": true, "ON": true, "USING": true, "AS": true,
	"WITH": true, "RECURSIVE": true, "VIEW": true, "FUNCTION": true, "PROCEDURE": true, "INDEX": true,
	"TYPE": true, "UPDATE": true, "JOIN": true, "FROM": true, "OF": true, "INCLUDE": true,
}

// callKeywords are words followed by '(' in SQL syntax, not calls.
var callKeywords = set(`in values exists any all some array row over filter using on conflict key unique check as into
where and or not select from join lateral by when then else returning set distinct include with default generated
primary foreign references table of window range rows groups cube rollup sets within group between like ilike similar
is case limit offset fetch except union intersect recursive materialized null explain analyze partition for
char character varchar numeric decimal dec timestamp timestamptz time timetz interval bit varbit float double
precision int integer smallint bigint varying nchar national binary varbinary datetime year enum
operator cast extract overlay position substring trim coalesce nullif greatest least treat xmlelement
xmlforest xmlattributes xmlconcat xmlparse xmlroot xmlserialize xmlpi xmlexists json jsonb nulls first last asc desc`)

// safeFuncs are built-in functions that touch no session state.
var safeFuncs = set(`count sum avg min max lower upper length char_length character_length octet_length bit_length substr
btrim ltrim rtrim replace concat concat_ws strpos left right lpad rpad repeat reverse split_part format initcap
to_char to_date to_timestamp to_number now date_trunc date_part age abs ceil ceiling floor round trunc mod power
pow sqrt cbrt exp ln log log10 sign pi random gen_random_uuid currval lastval uuid md5 sha1 sha2 sha224 sha256 sha384 sha512
encode decode json_build_object jsonb_build_object json_build_array jsonb_build_array json_agg jsonb_agg
json_object_agg jsonb_object_agg array_agg string_agg group_concat row_number rank dense_rank percent_rank
cume_dist lag lead first_value last_value nth_value ntile unnest array_length array_position array_remove
array_append array_prepend array_cat array_to_string string_to_array cardinality generate_series jsonb_set
to_json to_jsonb json_extract_path json_extract_path_text jsonb_extract_path jsonb_extract_path_text
jsonb_array_elements json_array_elements jsonb_array_elements_text json_array_elements_text jsonb_each json_each
jsonb_each_text json_each_text jsonb_typeof json_typeof jsonb_pretty jsonb_strip_nulls json_object
json_extract json_unquote json_array json_contains json_length json_keys json_valid bool_and bool_or every
regexp_replace regexp_match regexp_matches regexp_split_to_array regexp_like regexp_substr regexp_instr
clock_timestamp statement_timestamp transaction_timestamp timeofday make_date make_time make_timestamp
make_timestamptz make_interval date_add date_sub datediff date_format str_to_date curdate curtime
current_timestamp current_date current_time localtime localtimestamp sysdate utc_timestamp unix_timestamp
from_unixtime quote_ident quote_literal quote_nullable pg_typeof version current_setting pg_backend_pid
connection_id database schema current_user session_user user current_database current_schema
if ifnull isnull nvl iif instr locate char chr ascii ord hex unhex bin oct conv length lengthb
width_bucket corr covar_pop covar_samp stddev stddev_pop stddev_samp variance var_pop var_samp
percentile_cont percentile_disc mode string_to_table translate starts_with to_hex bit_count
typeof quote printf julianday strftime date time datetime unixepoch total changes last_insert_rowid
zeroblob randomblob likelihood unlikely glob soundex lcase ucase mid space field elt find_in_set
make_set export_set insert_str format_bytes uuid_short is_uuid`)

func set(words string) map[string]bool {
	m := map[string]bool{}
	start := -1
	for i := 0; i <= len(words); i++ {
		if i == len(words) || isSpace(words[i]) {
			if start >= 0 {
				m[words[start:i]] = true
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return m
}

// equalFold compares ASCII case-insensitively; kw is upper case.
func equalFold(s, kw string) bool {
	if len(s) != len(kw) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}

// upperKeyword returns w in upper case when it is short and ASCII (map
// lookups with it do not allocate), else "".
func upperKeyword(w string) string { return foldKeyword(w, 'a', 'z', 'A'-'a') }

// lowerKeyword is upperKeyword's lower-case twin.
func lowerKeyword(w string) string { return foldKeyword(w, 'A', 'Z', 'a'-'A') }

func foldKeyword(w string, lo, hi byte, delta int) string {
	var buf [32]byte
	if len(w) > len(buf) {
		return ""
	}
	same := true
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 0x80 {
			return ""
		}
		if c >= lo && c <= hi {
			c = byte(int(c) + delta)
			same = false
		}
		buf[i] = c
	}
	if same {
		return w
	}
	return internKeyword(buf[:len(w)])
}

// internKeyword returns the known keyword spelled b, or "" — without
// allocating (the compiler does not allocate for string(b) in map lookups).
func internKeyword(b []byte) string {
	if k, ok := keywordIntern[string(b)]; ok {
		return k
	}
	return ""
}

var keywordIntern = func() map[string]string {
	m := map[string]string{}
	add := func(s map[string]bool) {
		for k := range s {
			m[k] = k
			up := []byte(k)
			for i, c := range up {
				if c >= 'a' && c <= 'z' {
					up[i] = c - ('a' - 'A')
				}
			}
			m[string(up)] = string(up)
		}
	}
	add(callKeywords)
	add(safeFuncs)
	add(nameContext)
	verbs := map[string]bool{}
	for k := range cleanVerbs {
		verbs[k] = true
	}
	for _, k := range []string{"BEGIN", "START", "COMMIT", "END", "ABORT", "ROLLBACK", "SAVEPOINT", "RELEASE",
		"PREPARE", "XA", "SET", "LOAD", "nextval", "setval", "INSERT", "MERGE", "REPLACE", "IGNORE",
		"LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY"} {
		verbs[k] = true
	}
	add(verbs)
	return m
}()
