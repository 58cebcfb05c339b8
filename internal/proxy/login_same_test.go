package proxy

import (
	"reflect"
	"strings"
	"testing"
)

// Login.same answers as == does: for each field, a login that differs
// only there is not the same, and an equal one built from other strings
// is.
func TestLoginSame(t *testing.T) {
	base := Login{User: "u", Password: "p", Database: "d", SecretARN: "s", ViaIAM: false, Instance: "h:1"}
	copied := Login{User: strings.Clone("u"), Password: strings.Clone("p"), Database: strings.Clone("d"),
		SecretARN: strings.Clone("s"), Instance: strings.Clone("h:1")}
	if !base.same(&copied) || !base.same(&base) {
		t.Fatal("equal logins are not the same")
	}
	typ := reflect.TypeFor[Login]()
	for i := range typ.NumField() {
		other := base
		f := reflect.ValueOf(&other).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Bool:
			f.SetBool(!f.Bool())
		default:
			t.Fatalf("Login.%s is a %s: teach same and this test about it", typ.Field(i).Name, f.Kind())
		}
		if base.same(&other) || other.same(&base) {
			t.Errorf("logins differing in %s are the same", typ.Field(i).Name)
		}
	}
}
