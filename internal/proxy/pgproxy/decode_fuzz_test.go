package pgproxy

// Direct fuzz targets for the decoders the proxy runs on bytes it did not
// produce: backend frames (framing, accounting, DataRow, ErrorResponse,
// ParameterStatus), the start-up packet, and both SCRAM client messages.
// Where pgproto3 decodes the same message, its result is the reference.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sqlgate/sqlgate/internal/framebuf"
)

// maxFuzzFrame bounds the frame lengths FuzzBackendFrames feeds: the reader
// allocates a frame's buffer from its header before reading the body, so a
// header claiming 200 MiB costs 200 MiB whatever the input length.
const maxFuzzFrame = 1 << 16

// frameLensWithin reports that every frame header in data claims at most max bytes.
func frameLensWithin(data []byte, max int) bool {
	for len(data) >= 5 {
		n := int(int32(binary.BigEndian.Uint32(data[1:5])))
		if n > max {
			return false
		}
		if n < 4 || 1+n > len(data) {
			return true
		}
		data = data[1+n:]
	}
	return true
}

// FuzzBackendFrames drains arbitrary backend output the way settle and the
// proxy's own queries do: framing and accounting never panic, and the
// first DataRow and ErrorResponse decode like pgproto3 decodes them.
func FuzzBackendFrames(f *testing.F) {
	row := appendFrame(nil, 'D', []byte{0, 2, 0, 0, 0, 2}, []byte("on"), []byte{0xff, 0xff, 0xff, 0xff})
	errResp := (&pgError{Severity: "ERROR", Code: "42601", Msg: "syntax error"}).encode()
	status := appendFrame(nil, 'S', []byte("search_path\x00a, b\x00"))
	f.Add(append(append(append(row, errResp...), status...), readyForQuery('I')...))
	f.Add(append(appendFrame(nil, 'C', []byte("SELECT 1\x00")), readyForQuery('T')...))
	f.Add(append(appendFrame(nil, 'H', []byte{0, 0, 0}), appendFrame(nil, 'd', []byte("x"))...))
	f.Add(appendFrame(nil, 'G', []byte{0, 0, 0}))
	f.Add(appendFrame(nil, 'D', []byte{0, 3, 0, 0, 0, 9, 'a'}))
	f.Add([]byte{'Z', 0, 0, 0, 3})
	f.Add([]byte{'D', 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		if !frameLensWithin(data, maxFuzzFrame) {
			return
		}
		b := &backend{r: msgReader{br: framebuf.NewReader(bytes.NewReader(data), 64)}, params: map[string]string{}}
		b.inflight.Store(1 << 20)
		b.txStatus.Store('I')
		var q execResult
		if err := b.drain(context.Background(), &q); err == nil {
			t.Fatal("drain ended without an error before every reply arrived")
		}
		for n, v := range b.params {
			if !trackedParams[n] || strings.IndexByte(v, 0) >= 0 {
				t.Fatalf("ParameterStatus noted %q = %q", n, v)
			}
		}
		checkFirstFrames(t, data)
	})
}

// checkFirstFrames compares the proxy's decoding of each complete DataRow
// and ErrorResponse in data with pgproto3's.
func checkFirstFrames(t *testing.T, data []byte) {
	for len(data) >= 5 {
		n := int(int32(binary.BigEndian.Uint32(data[1:5])))
		if n < 4 || 1+n > len(data) {
			return
		}
		typ, body := data[0], data[5:1+n]
		data = data[1+n:]
		switch typ {
		case 'D':
			compareDataRow(t, body)
		case 'E':
			compareError(t, body)
		}
	}
}

func compareDataRow(t *testing.T, body []byte) {
	var ref pgproto3.DataRow
	if ref.Decode(body) != nil {
		return
	}
	got := decodeDataRow(body)
	if len(got) != len(ref.Values) {
		t.Fatalf("DataRow %x: %d values, pgproto3 %d", body, len(got), len(ref.Values))
	}
	for i, v := range ref.Values {
		if got[i] != string(v) {
			t.Fatalf("DataRow %x: value %d = %q, pgproto3 %q", body, i, got[i], v)
		}
	}
}

// compareError checks a well-formed ErrorResponse body: fields of a type
// byte and a NUL-terminated value, then a final NUL.
func compareError(t *testing.T, body []byte) {
	rest := body
	for len(rest) > 0 && rest[0] != 0 {
		i := bytes.IndexByte(rest[1:], 0)
		if i < 0 {
			return
		}
		rest = rest[2+i:]
	}
	if len(rest) != 1 {
		return // not exactly one terminator at the end
	}
	var ref pgproto3.ErrorResponse
	if ref.Decode(body) != nil {
		t.Fatalf("pgproto3 rejects well-formed ErrorResponse %q", body)
	}
	var got *pgconn.PgError
	if !errors.As(decodeError(body), &got) {
		t.Fatalf("decodeError(%q) is not a *pgconn.PgError", body)
	}
	if got.Severity != ref.Severity || got.Code != ref.Code || got.Message != ref.Message {
		t.Fatalf("ErrorResponse %q: got %+v, pgproto3 %+v", body, got, ref)
	}
}

// FuzzParseStartup reads a start-up packet and decodes its parameters:
// never a panic; errors are SQLSTATE errors for the client; the plain
// parameters match pgproto3's StartupMessage.
func FuzzParseStartup(f *testing.F) {
	f.Add(startupPacket("user", "u", "database", "d"))
	f.Add(startupPacket("user", "u", "options", "-c search_path=a --work-mem=64kB -cstatement_timeout=5"))
	f.Add(startupPacket("user", "u", "options", "-c"))
	f.Add(startupPacket("user", "u", "options", "--x"))
	f.Add(startupPacket("user"))
	f.Add([]byte{0, 0, 0, 8, 4, 210, 22, 47})
	f.Add([]byte{0, 0, 0, 16, 4, 210, 22, 46, 0, 0, 0, 1, 0, 0, 0, 2})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		code, body, err := (&startupConn{br: framebuf.NewReader(bytes.NewReader(pkt), 4096)}).read()
		if err != nil {
			return
		}
		params, err := parseStartup(body)
		if err != nil {
			if pe, ok := err.(*pgError); !ok || len(pe.Code) != 5 {
				t.Fatalf("parseStartup error %v is not a SQLSTATE error", err)
			}
			return
		}
		if _, ok := params["options"]; ok {
			t.Fatalf("options left in %v", params)
		}
		if code != protocol30 || bytes.Contains(body, []byte("options\x00")) {
			return
		}
		var ref pgproto3.StartupMessage
		if ref.Decode(append(binary.BigEndian.AppendUint32(nil, code), body...)) != nil {
			return
		}
		if len(ref.Parameters) != len(params) {
			t.Fatalf("parameters %v, pgproto3 %v", params, ref.Parameters)
		}
		for k, v := range ref.Parameters {
			if params[k] != v {
				t.Fatalf("parameter %q = %q, pgproto3 %q", k, params[k], v)
			}
		}
	})
}

// fuzzSCRAM holds the keys of one password: deriving them runs PBKDF2.
var fuzzSCRAM = newSCRAMCache()

const fuzzSCRAMPassword = "pencil"

// FuzzSCRAM runs the server side of SCRAM-SHA-256 on an arbitrary
// client-first-message. When it is accepted, an arbitrary
// client-final-message must be refused, and the message a real client
// computes from the server-first-message must be accepted with a server
// signature that client can verify.
func FuzzSCRAM(f *testing.F) {
	f.Add([]byte("n,,n=,r=rOprNGfwEbeRWgbNEkqO"), []byte("c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	f.Add([]byte("y,,n=user,r=abc"), []byte("c=eSws,r=abc,p="))
	f.Add([]byte("n,a=authz,n=u,r=x,ext=1"), []byte("p=,c=,r="))
	f.Add([]byte("p=tls-server-end-point,,n=,r=a"), []byte(",p=AAAA"))
	f.Add([]byte("n,"), []byte(""))
	f.Fuzz(func(t *testing.T, clientFirst, clientFinal []byte) {
		sc := &scramServer{keys: []scramKeys{fuzzSCRAM.get(fuzzSCRAMPassword)}, salt: fuzzSCRAM.salt}
		serverFirst, err := sc.first(clientFirst)
		if err != nil {
			return
		}
		if v, err := sc.final(clientFinal); err == nil {
			t.Fatalf("arbitrary client-final %q accepted: %q", clientFinal, v)
		}
		final, wantSig, err := scramClientFinal(sc.gs2Header, sc.clientFirstBare, serverFirst)
		if err != nil {
			t.Fatalf("server-first %q: %v", serverFirst, err)
		}
		got, err := sc.final([]byte(final))
		if err != nil {
			t.Fatalf("correct client-final %q refused: %v", final, err)
		}
		if got != "v="+wantSig {
			t.Fatalf("server-final %q, want v=%s", got, wantSig)
		}
	})
}

// scramClientFinal is the client side of RFC 5802 §3 for fuzzSCRAMPassword:
// it parses server-first and returns client-final and the expected server
// signature.
func scramClientFinal(gs2Header, clientFirstBare, serverFirst string) (final, serverSig string, err error) {
	attrs := map[string]string{}
	for _, a := range strings.Split(serverFirst, ",") {
		if k, v, ok := strings.Cut(a, "="); ok {
			attrs[k] = v
		}
	}
	salt, err := base64.StdEncoding.DecodeString(attrs["s"])
	if err != nil {
		return "", "", err
	}
	iter, err := strconv.Atoi(attrs["i"])
	if err != nil {
		return "", "", err
	}
	key := attrs["s"] + "," + attrs["i"]
	salted, ok := fuzzSalted.Load(key)
	if !ok {
		salted, _ = fuzzSalted.LoadOrStore(key, pbkdf2SHA256([]byte(fuzzSCRAMPassword), salt, iter))
	}
	return clientFinalFrom(salted.([]byte), gs2Header, clientFirstBare, serverFirst, attrs["r"])
}

// fuzzSalted caches SaltedPassword per salt and iteration count.
var fuzzSalted sync.Map

func clientFinalFrom(salted []byte, gs2Header, clientFirstBare, serverFirst, nonce string) (final, serverSig string, err error) {
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(gs2Header)) + ",r=" + nonce
	authMsg := []byte(clientFirstBare + "," + serverFirst + "," + withoutProof)
	sig := hmacSHA256(stored[:], authMsg)
	for i := range clientKey {
		clientKey[i] ^= sig[i]
	}
	serverKey := hmacSHA256(salted, []byte("Server Key"))
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(clientKey),
		base64.StdEncoding.EncodeToString(hmacSHA256(serverKey, authMsg)), nil
}
