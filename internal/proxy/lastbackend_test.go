package proxy

import "testing"

// Foreign: another session's connection, or the session's own older one
// after it moved, may hold state it must not see; its last one may not.
func TestLastBackend_Foreign(t *testing.T) {
	var l LastBackend
	steps := []struct {
		prev, id uint64
		want     bool
	}{
		{0, 1, false}, // a fresh connection
		{7, 2, true},  // another session's
		{5, 2, false}, // its own, the one it borrowed last
		{5, 1, true},  // its own, but it used 2 since
		{5, 1, false}, // and 1 again right after
	}
	for i, s := range steps {
		if got := l.Foreign(5, s.prev, s.id); got != s.want {
			t.Fatalf("step %d: Foreign(5, %d, %d) = %v, want %v", i, s.prev, s.id, got, s.want)
		}
	}
	l = 0 // the client reset its session
	if !l.Foreign(5, 5, 1) {
		t.Fatal("its own connection after a reset was not foreign")
	}
}
