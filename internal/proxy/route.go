package proxy

// Target returns the address a front end's new backend connection dials:
// the instance the pool routed the borrow to (Login.Instance), else the
// cluster's current writer, else the fixed address.
func Target(instance string, writer func() string, fixed string) string {
	switch {
	case instance != "":
		return instance
	case writer != nil:
		return writer()
	}
	return fixed
}

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
