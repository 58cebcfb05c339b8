package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Changed returns the settings that differ between a and b as paths in the
// configuration file's terms, e.g. "listen.http" or
// "clusters[orders].proxy.idle_client_timeout". List elements that have a
// name (clusters, endpoints, api_keys…) are matched by it, so reordering
// a list changes nothing and an added or removed element is one path,
// e.g. "clusters[reports]". Both configurations should be validated
// (defaults applied), so that a default spelled out is no change.
func Changed(a, b *Config) []string {
	var out []string
	diffValue(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), "", &out)
	return out
}

func diffValue(a, b reflect.Value, path string, out *[]string) {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				*out = append(*out, path)
			}
			return
		}
		diffValue(a.Elem(), b.Elem(), path, out)
	case reflect.Struct:
		diffStruct(a, b, path, out)
	case reflect.Slice:
		diffSlice(a, b, path, out)
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, path)
		}
	}
}

// diffStruct compares the fields the YAML file can set; a struct without
// any (time.Time, say) is one value.
func diffStruct(a, b reflect.Value, path string, out *[]string) {
	t := a.Type()
	settable := false
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		settable = true
		diffValue(a.Field(i), b.Field(i), join(path, name), out)
	}
	if !settable && !reflect.DeepEqual(a.Interface(), b.Interface()) {
		*out = append(*out, path)
	}
}

// diffSlice matches elements by their name when they have one, else by
// position; a list of another length whose elements have no name is one
// change.
func diffSlice(a, b reflect.Value, path string, out *[]string) {
	if keyed(a.Type().Elem()) {
		bs := map[string]reflect.Value{}
		for i := range b.Len() {
			bs[elemName(b.Index(i))] = b.Index(i)
		}
		seen := map[string]bool{}
		for i := range a.Len() {
			n := elemName(a.Index(i))
			seen[n] = true
			p := fmt.Sprintf("%s[%s]", path, n)
			if bv, ok := bs[n]; ok {
				diffValue(a.Index(i), bv, p, out)
			} else {
				*out = append(*out, p)
			}
		}
		for i := range b.Len() {
			if n := elemName(b.Index(i)); !seen[n] {
				*out = append(*out, fmt.Sprintf("%s[%s]", path, n))
			}
		}
		return
	}
	if a.Len() != b.Len() {
		*out = append(*out, path)
		return
	}
	for i := range a.Len() {
		diffValue(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
	}
}

// keyed reports whether list elements of type t are named by a string
// field `name` (or, for instances, `address`).
func keyed(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	_, ok := keyField(t)
	return ok
}

func keyField(t reflect.Type) (int, bool) {
	for _, key := range []string{"name", "address"} {
		for i := range t.NumField() {
			f := t.Field(i)
			if yamlName(f) == key && f.Type.Kind() == reflect.String {
				return i, true
			}
		}
	}
	return 0, false
}

func elemName(v reflect.Value) string {
	i, _ := keyField(v.Type())
	return v.Field(i).String()
}

// yamlName is the key a field has in the file, "" for fields it cannot
// set.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" {
		return ""
	}
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
