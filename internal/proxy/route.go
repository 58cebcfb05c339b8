package proxy

import "fmt"

// Target returns the address a front end's new backend connection dials:
// route's pick for a read-only endpoint, else the cluster's current
// writer, else the fixed address. done (never nil) is called once when
// the connection closes or its dial failed. With no instance to pick the
// error wraps ErrNoReader and ErrBackendDown.
func Target(route Route, writer func() string, fixed string) (addr string, done func(), err error) {
	switch {
	case route != nil:
		addr, done, err := route.Pick()
		if err != nil {
			return "", nil, fmt.Errorf("%w: %w: %w", ErrNoReader, ErrBackendDown, err)
		}
		return addr, done, nil
	case writer != nil:
		return writer(), noop, nil
	}
	return fixed, noop, nil
}

func noop() {}

// Stale reports whether a backend connection to addr must not be reused:
// route no longer serves addr, or addr is no longer the writer.
func Stale(route Route, writer func() string, addr string) bool {
	switch {
	case route != nil:
		return !route.Serves(addr)
	case writer != nil:
		return writer() != addr
	}
	return false
}

// Dial opens a front end's backend connection at the address Target
// picks, with open; when open fails the pick is given back. Call done
// once when the connection closes.
func Dial[C any](route Route, writer func() string, fixed string, open func(addr string) (C, error)) (c C, done func(), err error) {
	addr, done, err := Target(route, writer, fixed)
	if err != nil {
		return c, nil, err
	}
	if c, err = open(addr); err != nil {
		done()
		return c, nil, err
	}
	return c, done, nil
}
