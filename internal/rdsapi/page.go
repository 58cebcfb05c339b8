package rdsapi

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// Paging of the describe calls, as RDS does it: MaxRecords (20 to 100,
// default 100) bounds a page; a Marker in the answer names where the next
// page starts, and the client sends it back unchanged. The marker is
// opaque to clients: base64url of "offset:key", where key identifies the
// last record returned. The next page starts after that record, wherever
// it is now (records created or deleted between pages neither repeat nor
// skip others); when the record is gone, at the offset.

const (
	minRecords = 20
	maxRecords = 100
)

// pageSpec is a request's MaxRecords and decoded Marker.
type pageSpec struct {
	max    int
	offset int    // records before the page (from the marker)
	after  string // key of the last record of the previous page
}

// readPage reads MaxRecords and Marker; a bad value fails f with
// InvalidParameterValue.
func readPage(f *form) pageSpec {
	p := pageSpec{max: maxRecords}
	if n := f.optInt("MaxRecords", minRecords, maxRecords); n != nil {
		p.max = *n
	}
	if !f.has("Marker") || f.str("Marker") == "" {
		return p
	}
	raw, err := base64.RawURLEncoding.DecodeString(f.str("Marker"))
	off, key, ok := strings.Cut(string(raw), ":")
	n, nerr := strconv.Atoi(off)
	if err != nil || !ok || nerr != nil || n < 0 || strconv.Itoa(n) != off {
		f.fail(errInvalid("The parameter Marker is not a valid pagination token: " + short(f.str("Marker"))))
		return p
	}
	p.offset, p.after = n, key
	return p
}

// pageOf returns the records of one page of items and the marker of the
// next page ("" on the last page); key identifies a record.
func pageOf[T any](p pageSpec, items []T, key func(T) string) ([]T, string) {
	start := 0
	if p.after != "" || p.offset > 0 {
		start = min(p.offset, len(items))
		if i := slices.IndexFunc(items, func(x T) bool { return key(x) == p.after }); i >= 0 {
			start = i + 1
		}
	}
	end := min(start+p.max, len(items))
	out := items[start:end]
	if end == len(items) {
		return out, ""
	}
	return out, base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end) + ":" + key(items[end-1])))
}

// filter is one Filters.Filter.N entry.
type filter struct {
	name   string
	values []string
}

// readFilters decodes Filters.Filter.N.Name / .Values.Value.M and checks
// the names against allowed (none allowed: the call takes no filters, as
// the proxy describe calls on RDS, which document Filters as not
// supported).
func readFilters(f *form, allowed ...string) []filter {
	var out []filter
	for _, s := range f.structs("Filters.Filter") {
		ft := filter{name: s.str("Name"), values: s.list("Values.Value")}
		f.sub(s)
		switch {
		case ft.name == "":
			f.fail(errMissing("Filters.Filter.Name"))
		case len(allowed) == 0:
			f.fail(errInvalid("Filters are not supported by this action; " + short(ft.name) + " is not a valid filter."))
		case !slices.Contains(allowed, ft.name):
			f.fail(errInvalid("Unrecognized filter name: " + short(ft.name) + ". Valid filters: " + strings.Join(allowed, ", ") + "."))
		case len(ft.values) == 0:
			f.fail(errInvalid("The filter " + ft.name + " needs at least one value."))
		}
		out = append(out, ft)
	}
	return out
}

// matchAll reports whether every filter accepts the record: value gives
// the record's values for a filter name (one matching value is enough).
func matchAll(filters []filter, value func(name string) []string) bool {
	for _, ft := range filters {
		have := value(ft.name)
		if !slices.ContainsFunc(ft.values, func(v string) bool { return slices.Contains(have, v) }) {
			return false
		}
	}
	return true
}
