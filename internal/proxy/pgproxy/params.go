package pgproxy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// replayTimeout bounds replaying parameters on a borrowed backend.
const replayTimeout = 10 * time.Second

// replay makes b (pool id id) have the client's tracked parameters:
// set_config for values that differ, RESET for ones the client never set.
// One round trip, only when something differs (lazy, like PgDog and
// Odyssey). b is reset first (DISCARD ALL and init_query in the same round
// trip, ahead of the replay) when it may hold state the proxy cannot see
// (isolation: strict, or its holder ran what the proxy cannot vouch for)
// and that state is another client's, or this client's from before it
// moved to another connection, which may since hold newer values of it (a
// function's set_config run on each).
func (s *session) replay(ctx context.Context, b *backend, id uint64) error {
	s.mu.Lock()
	reset := s.lastBackend.Foreign(s.ps.ID, b.owner, id) && (s.srv.strict || b.dirty)
	want, have := s.params, b.params
	if reset {
		have = nil
	}
	sql := ""
	if reset || !sameSet(b.paramsID, s.paramsID) {
		sql = replaySQL(want, have)
	}
	if sql == "" && !reset {
		b.paramsID = s.paramsID
	}
	s.mu.Unlock()
	b.owner = s.ps.ID
	if sql == "" && !reset {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, replayTimeout)
	defer cancel()
	var batch []string
	if reset {
		batch = b.resetSQL()
	}
	if sql != "" {
		batch = append(batch, sql)
	}
	res, err := b.execBatch(ctx, batch...)
	if err != nil {
		return errorf("08006", "server connection lost", err)
	}
	if reset {
		if res.firstTag != "DISCARD ALL" {
			// Never hand over a session that may not be reset.
			b.broken.Store(true)
			return errorf("08006", "could not reset the server session", res.err)
		}
		b.clean()
		b.owner = s.ps.ID
	}
	if res.err != nil {
		if pe, ok := res.err.(*pgconn.PgError); ok {
			return errorf(pe.Code, pe.Message, res.err)
		}
		return errorf("XX000", "could not apply session parameters", res.err)
	}
	s.mu.Lock()
	b.params = cloneMap(want)
	b.paramsID = s.paramsID
	s.mu.Unlock()
	return nil
}

// setParam sets parameter n to v for the client and on b alike; b holds
// the client's set afterwards if it held it before. s.mu is held.
func (s *session) setParam(b *backend, n, v string) {
	same := sameSet(b.paramsID, s.paramsID)
	s.params[n] = v
	b.params[n] = v
	s.paramsID = s.srv.paramSets.id(s.params)
	b.paramsID = 0
	if same {
		b.paramsID = s.paramsID
	}
}

// sameSet reports whether two parameter set ids name the same known set.
func sameSet(a, b uint64) bool { return a != 0 && a == b }

// paramSets names the sets of tracked parameters the sessions and the
// backends of a proxy hold, equal sets with the same id, so that a borrow
// finds its backend's parameters equal to its client's by comparing two
// numbers instead of two maps; most clients of an application log in with
// the same ones. An id is computed when a set changes (a SET, a replay),
// never per borrow. 0 means not named (a set with a value unknown, or
// beyond maxParamSets): the maps are compared.
type paramSets struct {
	mu  sync.Mutex
	ids map[string]uint64 // canonical form (paramsKey) → id
}

// maxParamSets bounds the sets named, against clients that would make
// the table grow with endless distinct values.
const maxParamSets = 4096

// id returns the id of the set m, naming it on first sight.
func (ps *paramSets) id(m map[string]string) uint64 {
	key, ok := paramsKey(m)
	if !ok {
		return 0
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if id, ok := ps.ids[key]; ok {
		return id
	}
	if len(ps.ids) >= maxParamSets {
		return 0
	}
	if ps.ids == nil {
		ps.ids = map[string]uint64{}
	}
	id := uint64(len(ps.ids)) + 1
	ps.ids[key] = id
	return id
}

// paramsKey is m's canonical form: its entries sorted, each name and value
// ended by a NUL; false when one holds a NUL (as unknownParam does).
func paramsKey(m map[string]string) (string, bool) {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 {
			return "", false
		}
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(v)
		b.WriteByte(0)
	}
	return b.String(), true
}

// replaySQL returns the statements that turn have into want, or "".
func replaySQL(want, have map[string]string) string {
	if sameParams(want, have) { // the common case, on every borrow
		return ""
	}
	var sets, resets []string
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			sets = append(sets, "pg_catalog.set_config("+quoteLiteral(k)+", "+quoteLiteral(v)+", false)")
		}
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			resets = append(resets, "RESET "+quoteIdent(k))
		}
	}
	if len(sets) == 0 && len(resets) == 0 {
		return ""
	}
	slices.Sort(sets)
	slices.Sort(resets)
	var b strings.Builder
	if len(sets) > 0 {
		b.WriteString("SELECT " + strings.Join(sets, ", ") + ";")
	}
	for _, r := range resets {
		b.WriteString(r + ";")
	}
	return b.String()
}

// sameParams reports whether a and b hold the same parameters: with equal
// sizes, b holds every entry of a only if it holds nothing else.
func sameParams(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// captureSQL reads the current values of names.
func captureSQL(names []string) string {
	cols := make([]string, len(names))
	for i, n := range names {
		cols[i] = "pg_catalog.current_setting(" + quoteLiteral(n) + ")"
	}
	return "SELECT " + strings.Join(cols, ", ")
}

// applyCapture stores captured values as the client's and b's; s.mu is held.
func (s *session) applyCapture(b *backend, names, values []string) {
	for i, n := range names {
		if i < len(values) {
			s.setParam(b, n, values[i])
		}
	}
}

// trackStatus follows ParameterStatus reports of tracked parameters; s.mu is held.
func (s *session) trackStatus(b *backend, body []byte) {
	name, rest, ok := cstring(body)
	if !ok {
		return
	}
	val, _, ok := cstring(rest)
	if !ok {
		return
	}
	n := lower(string(name))
	if trackedParams[n] || s.startupParams[n] != "" {
		s.setParam(b, n, string(val))
	}
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// stmtInfo is one distinct statement (full SQL text and parameter types)
// with its server-side name, shared by all clients.
type stmtInfo struct {
	name  string
	query string
	types []byte // Parse's parameter type section: Int16 n, n × Int32 OID
	class sqlClass
}

// stmtRegistry maps statement text to shared names: keyed by the full text,
// never by a hash alone (Odyssey#1345).
type stmtRegistry struct {
	seq atomic.Uint64
	mu  sync.RWMutex // guards m; every Parse looks up, few add
	m   map[string]*stmtInfo
}

// maxRegistry bounds the registry; when full it starts afresh (names keep
// counting up, so they never collide).
const maxRegistry = 100000

func newStmtRegistry() *stmtRegistry { return &stmtRegistry{m: map[string]*stmtInfo{}} }

// get returns the statement for a Parse body's "query\0types" part
// (looked up without copying it).
func (r *stmtRegistry) get(queryAndTypes []byte) *stmtInfo {
	r.mu.RLock()
	info, ok := r.m[string(queryAndTypes)]
	r.mu.RUnlock()
	if ok {
		return info
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if info, ok := r.m[string(queryAndTypes)]; ok {
		return info
	}
	if len(r.m) >= maxRegistry {
		r.m = map[string]*stmtInfo{}
	}
	query, types, _ := cstring(queryAndTypes)
	info = &stmtInfo{name: fmt.Sprintf("sqlgate_%d", r.seq.Add(1)), query: string(query),
		types: append([]byte(nil), types...), class: classify(string(query))}
	r.m[string(queryAndTypes)] = info
	return info
}

// errorMessage returns the server's message of a PgError in err, or "".
func errorMessage(err error) string {
	var pe *pgconn.PgError
	if ok := asPgError(err, &pe); ok {
		return pe.Message
	}
	return ""
}
