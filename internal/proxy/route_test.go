package proxy

import (
	"errors"
	"testing"
)

// fakeRoute serves one address; picks fail while none.
type fakeRoute struct {
	addr string
	open int
}

func (r *fakeRoute) Pick() (string, func(), error) {
	if r.addr == "" {
		return "", nil, errors.New("no reader")
	}
	r.open++
	return r.addr, func() { r.open-- }, nil
}

func (r *fakeRoute) Serves(addr string) bool { return addr == r.addr }

func TestDial(t *testing.T) {
	writer := func() string { return "w:1" }
	open := func(addr string) (string, error) {
		if addr == "down:1" {
			return "", ErrBackendDown
		}
		return addr, nil
	}
	if c, _, err := Dial(nil, nil, "fixed:1", open); err != nil || c != "fixed:1" {
		t.Fatalf("fixed: %q %v", c, err)
	}
	if c, _, err := Dial(nil, writer, "fixed:1", open); err != nil || c != "w:1" {
		t.Fatalf("writer: %q %v", c, err)
	}
	r := &fakeRoute{addr: "r:1"}
	c, done, err := Dial(r, writer, "fixed:1", open)
	if err != nil || c != "r:1" || r.open != 1 {
		t.Fatalf("route: %q %v open %d", c, err, r.open)
	}
	done()
	if Stale(r, writer, "r:1") || !Stale(r, writer, "w:1") || !Stale(nil, writer, "r:1") || Stale(nil, nil, "x:1") {
		t.Fatal("Stale: want a connection stale once its route or writer moved")
	}
	r.addr = "down:1"
	if _, _, err := Dial(r, writer, "", open); !errors.Is(err, ErrBackendDown) || r.open != 0 {
		t.Fatalf("failed dial: %v, open %d; want the pick given back", err, r.open)
	}
	r.addr = ""
	_, _, err = Dial(r, writer, "", open)
	if !errors.Is(err, ErrNoReader) || !errors.Is(err, ErrBackendDown) || !Retryable(err) {
		t.Fatalf("no reader: %v; want ErrNoReader and ErrBackendDown (retryable)", err)
	}
}
