package lane

import (
	"bytes"
	"net/http"
)

// verdict is what the parser made of the bytes at the start of a buffer.
type verdict int

const (
	needMore verdict = iota // no complete header block yet
	serve                   // a request the lean path serves
	handOff                 // anything else: net/http gets the bytes
)

// head is one parsed request head. Strings in it are substrings of block
// (one string per request); the header map is the connection's, cleared
// for each request.
type head struct {
	target string // request-target, one of the configured paths
	host   string
	length int  // Content-Length
	close  bool // Connection: close
	size   int  // bytes of the header block, including the empty line
}

var (
	crlf2    = []byte("\r\n\r\n")
	postLine = []byte("POST ")
	proto11  = []byte(" HTTP/1.1")
)

// parseHead parses the request head at the start of b into h and hdr. It
// serves only what it can take exactly as net/http would: an HTTP/1.1 POST
// to one of paths, with CRLF line ends, one Host, one valid Content-Length
// of at most maxBody, no Transfer-Encoding, Expect or Upgrade, no
// Connection options but close and keep-alive, and header names and values
// net/http accepts. Everything else (including every malformed request) is
// handed off, so net/http answers it as it always has.
func parseHead(b []byte, paths []string, maxHeader, maxBody int, h *head, hdr http.Header) verdict {
	end := bytes.Index(b, crlf2)
	if end < 0 {
		if len(b) >= maxHeader || !plausibleStart(b) {
			return handOff
		}
		return needMore
	}
	if end+4 > maxHeader {
		return handOff
	}
	line, rest, _ := bytes.Cut(b[:end+2], []byte("\r\n"))
	if len(line) < len(postLine)+len(proto11) || !bytes.HasPrefix(line, postLine) || !bytes.HasSuffix(line, proto11) {
		return handOff
	}
	target := line[len(postLine) : len(line)-len(proto11)]
	p := matchPath(target, paths)
	if p == "" {
		return handOff
	}
	*h = head{size: end + 4, length: -1}
	block := string(rest) // the one allocation for every value
	if !parseFields(block, h, hdr) || h.host == "" || h.length < 0 || h.length > maxBody {
		return handOff
	}
	h.target = p
	if string(target) != p {
		h.target = string(target) // a case variant: keep what the client sent
	}
	return serve
}

// plausibleStart reports whether an incomplete head could still become a
// request the lean path serves, so that an obviously different one (GET,
// HTTP/1.0 …) goes to net/http without waiting for its end.
func plausibleStart(b []byte) bool {
	n := min(len(b), len(postLine))
	return bytes.Equal(b[:n], postLine[:n])
}

// matchPath returns the path of paths that target equals (ASCII
// case-insensitively), or "".
func matchPath(target []byte, paths []string) string {
	for _, p := range paths {
		if len(p) == len(target) && bytes.EqualFold(target, []byte(p)) {
			return p
		}
	}
	return ""
}

// parseFields reads the header lines of block (each ending in CRLF) into
// hdr, and Host, Content-Length and Connection into h. It returns false
// for anything the lean path leaves to net/http.
func parseFields(block string, h *head, hdr http.Header) bool {
	vals := make([]string, 0, 16) // backs every single-valued field
	for len(block) > 0 {
		i := indexCRLF(block)
		if i < 0 {
			return false // a bare LF
		}
		line := block[:i]
		block = block[i+2:]
		colon := -1
		for j := 0; j < len(line); j++ {
			if line[j] == ':' {
				colon = j
				break
			}
			if !isToken(line[j]) {
				return false // obs-fold, space before the colon, bad name
			}
		}
		if colon <= 0 {
			return false
		}
		value := trimOWS(line[colon+1:])
		if !validValue(value) {
			return false
		}
		key := canonicalKey(line[:colon])
		if !h.field(key, value) {
			return false
		}
		if key == "Host" {
			continue // net/http keeps it in Request.Host only
		}
		if vv, ok := hdr[key]; ok {
			hdr[key] = append(vv[:len(vv):len(vv)], value)
		} else {
			vals = append(vals, value)
			hdr[key] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	return true
}

// field notes the fields the lean path acts on; false hands the request off.
func (h *head) field(key, value string) bool {
	switch key {
	case "Host":
		if h.host != "" || value == "" || !validHost(value) {
			return false
		}
		h.host = value
	case "Content-Length":
		if h.length >= 0 {
			return false
		}
		h.length = parseLength(value)
		return h.length >= 0
	case "Connection":
		switch {
		case asciiEqualFold(value, "close"):
			h.close = true
		case asciiEqualFold(value, "keep-alive"):
		default:
			return false
		}
	case "Transfer-Encoding", "Expect", "Upgrade", "Te", "Trailer":
		return false
	}
	return true
}

func indexCRLF(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\r' && s[i+1] == '\n' {
			return i
		}
		if s[i] == '\n' {
			return -1
		}
	}
	return -1
}

// parseLength parses a Content-Length: decimal digits only, at most 10 of
// them; -1 otherwise.
func parseLength(s string) int {
	if s == "" || len(s) > 10 {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// validValue is httpguts.ValidHeaderFieldValue: no control bytes but tab.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost accepts the host[:port] forms clients send (names, IPv4,
// bracketed IPv6); anything else is left to net/http's own check.
func validHost(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}

func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != lower(t[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isToken reports whether c may appear in a header name (RFC 7230 tchar).
func isToken(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
