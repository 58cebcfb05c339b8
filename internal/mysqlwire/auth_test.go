package mysqlwire

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"
)

// fakeAuthServer accepts one connection and runs the server side of an
// authentication exchange (MariaDB has no caching_sha2_password, so its
// client paths are checked against this, built from the package's own
// server-side encoders).
func fakeAuthServer(t *testing.T, mode, password string) (addr string, result chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	result = make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			result <- err
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		result <- serveAuth(NewPacketConn(nc), mode, password)
	}()
	return ln.Addr().String(), result
}

func serveAuth(pc *PacketConn, mode, password string) error {
	scramble := NewScramble()
	g := &Greeting{Version: "8.0.36-fake", ConnID: 42, Scramble: scramble, Caps: ClientCaps | CapFoundRows | CapConnectWithDB | CapSSL,
		Charset: DefaultCharset, Status: StatusAutocommit, Plugin: PluginSHA2}
	if err := pc.Send(g.Encode()); err != nil {
		return err
	}
	p, err := pc.ReadPacket()
	if err != nil {
		return err
	}
	if mode == "tls" {
		if p, err = serverTLS(pc, p); err != nil {
			return err
		}
	}
	resp, err := ParseHandshakeResponse(p)
	if err != nil {
		return err
	}
	if resp.Plugin != PluginSHA2 || !CheckScramble(resp.Auth, ScrambleSHA2(scramble, password)) {
		return errors.New("bad fast-auth scramble")
	}
	ok := OK{Status: StatusAutocommit}.Encode(nil, ClientCaps)
	switch mode {
	case "fast":
		if err := pc.Send([]byte{HdrAuthMore, 3}); err != nil {
			return err
		}
	case "tls": // full auth over TLS: the password in clear, NUL-terminated
		if err := pc.Send([]byte{HdrAuthMore, 4}); err != nil {
			return err
		}
		p, err := pc.ReadPacket()
		if err != nil {
			return err
		}
		if string(p) != password+"\x00" {
			return errors.New("bad cleartext password over TLS")
		}
	case "full":
		if err := fullAuth(pc, scramble, password); err != nil {
			_ = pc.Send((&Error{Code: 1045, State: "28000", Msg: "Access denied"}).Packet())
			return err
		}
	case "switch":
		s2 := NewScramble()
		if err := pc.Send(AuthSwitchRequest(PluginNative, s2)); err != nil {
			return err
		}
		p, err := pc.ReadPacket()
		if err != nil {
			return err
		}
		if !bytes.Equal(p, ScrambleNative(s2, password)) {
			return errors.New("bad native scramble after switch")
		}
	case "deny":
		return pc.Send((&Error{Code: 1045, State: "28000", Msg: "Access denied for user"}).Packet())
	}
	return pc.Send(ok)
}

// fullAuth is caching_sha2_password's full authentication over plaintext:
// the client asks for the public key and sends the RSA-encrypted password.
func fullAuth(pc *PacketConn, scramble []byte, password string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	if err := pc.Send([]byte{HdrAuthMore, 4}); err != nil {
		return err
	}
	p, err := pc.ReadPacket()
	if err != nil || !bytes.Equal(p, []byte{2}) {
		return errors.Join(err, errors.New("client did not request the public key"))
	}
	if err := pc.Send(append([]byte{HdrAuthMore}, PublicKeyPEM(key)...)); err != nil {
		return err
	}
	enc, err := pc.ReadPacket()
	if err != nil {
		return err
	}
	got, err := DecryptPassword(key, enc, scramble)
	if err != nil {
		return err
	}
	if got != password {
		return errors.New("decrypted password differs")
	}
	return nil
}

func TestClient_AuthExchanges(t *testing.T) {
	for _, mode := range []string{"fast", "full", "switch", "deny", "tls"} {
		t.Run(mode, func(t *testing.T) {
			addr, result := fakeAuthServer(t, mode, "s3cret")
			opts := Options{Address: addr, User: "u", Password: "s3cret", Database: "db", Timeout: 10 * time.Second}
			if mode == "tls" {
				opts.TLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // self-signed test server
			}
			c, err := Dial(t.Context(), opts)
			if serr := <-result; serr != nil {
				t.Fatalf("server side: %v", serr)
			}
			if mode == "deny" {
				var se *Error
				if !errors.As(err, &se) || se.Code != 1045 {
					t.Fatalf("err = %v, want 1045", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			if mode == "tls" && !c.tls {
				t.Fatal("connection not upgraded to TLS")
			}
			if c.ConnID() != 42 || c.Caps()&CapFoundRows != 0 {
				t.Fatalf("conn id %d, caps %#x", c.ConnID(), c.Caps())
			}
		})
	}
}

// serverTLS answers an SSLRequest: a TLS handshake with a throw-away
// certificate, then the real HandshakeResponse over TLS.
func serverTLS(pc *PacketConn, req []byte) ([]byte, error) {
	if len(req) != SSLRequestLen || uint32(req[1])<<8&CapSSL == 0 {
		return nil, errors.New("expected an SSLRequest")
	}
	cert, err := selfSigned()
	if err != nil {
		return nil, err
	}
	tc := tls.Server(pc.UpgradeConn(), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	pc.Reset(tc)
	return pc.ReadPacket()
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
