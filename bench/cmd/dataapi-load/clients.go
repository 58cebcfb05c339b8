package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
)

var sharedHTTP = &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}

var (
	sdkOnce sync.Once
	sdk     *rdsdata.Client
)

type sdkClient struct {
	in *rdsdata.ExecuteStatementInput
}

func newSDKClient(c *config) (*sdkClient, error) {
	sdkOnce.Do(func() {
		sdk = rdsdata.New(rdsdata.Options{BaseEndpoint: aws.String(c.url), Region: c.region, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(c.akid, c.secret, ""), HTTPClient: sharedHTTP})
	})
	in := &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(c.resourceArn), SecretArn: aws.String(c.secretArn), Sql: aws.String(c.sqlQ)}
	if c.param >= 0 {
		in.Parameters = []types.SqlParameter{{Name: aws.String("v"), Value: &types.FieldMemberLongValue{Value: c.param}}}
	}
	return &sdkClient{in: in}, nil
}

func (s *sdkClient) do(ctx context.Context) error {
	_, err := sdk.ExecuteStatement(ctx, s.in)
	return err
}

// rawClient is one keep-alive HTTP/1.1 connection writing a fixed body.
type rawClient struct {
	addr, host, path string
	body             []byte
	bodyHash         string
	akid, scopeTail  string // scopeTail: "/region/rds-data/aws4_request"
	secret, region   string

	conn net.Conn
	br   *bufio.Reader
	buf  bytes.Buffer
	day  string
	key  []byte
	mac  hash.Hash
	sum  [64]byte
}

func newRawClient(c *config) (*rawClient, error) {
	u, err := url.Parse(c.url)
	if err != nil {
		return nil, err
	}
	req := map[string]any{"resourceArn": c.resourceArn, "secretArn": c.secretArn, "sql": c.sqlQ}
	if c.param >= 0 {
		req["parameters"] = []any{map[string]any{"name": "v", "value": map[string]any{"longValue": c.param}}}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(body)
	return &rawClient{addr: u.Host, host: u.Host, path: "/Execute", body: body, bodyHash: hex.EncodeToString(h[:]),
		akid: c.akid, secret: c.secret, region: c.region, scopeTail: "/" + c.region + "/rds-data/aws4_request"}, nil
}

func hmacSum(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// authorization signs content-type;host;x-amz-date and the body hash.
func (r *rawClient) authorization(amzDate string) string {
	day := amzDate[:8]
	if r.day != day {
		k := hmacSum([]byte("AWS4"+r.secret), day)
		k = hmacSum(k, r.region)
		k = hmacSum(k, "rds-data")
		r.key, r.day = hmacSum(k, "aws4_request"), day
		r.mac = hmac.New(sha256.New, r.key)
	}
	const signed = "content-type;host;x-amz-date"
	canonical := "POST\n" + r.path + "\n\ncontent-type:application/x-amz-json-1.1\nhost:" + r.host +
		"\nx-amz-date:" + amzDate + "\n\n" + signed + "\n" + r.bodyHash
	ch := sha256.Sum256([]byte(canonical))
	scope := day + r.scopeTail
	r.mac.Reset()
	r.mac.Write([]byte("AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(ch[:])))
	sig := r.mac.Sum(r.sum[:0])
	return "AWS4-HMAC-SHA256 Credential=" + r.akid + "/" + scope + ", SignedHeaders=" + signed + ", Signature=" + hex.EncodeToString(sig)
}

func (r *rawClient) do(_ context.Context) error {
	if r.conn == nil {
		c, err := net.Dial("tcp", r.addr)
		if err != nil {
			return err
		}
		r.conn, r.br = c, bufio.NewReaderSize(c, 64<<10)
	}
	amzDate := time.Now().UTC().Format("20060102T150405Z")
	r.buf.Reset()
	r.buf.WriteString("POST " + r.path + " HTTP/1.1\r\nHost: " + r.host + "\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Date: " +
		amzDate + "\r\nAuthorization: " + r.authorization(amzDate) + "\r\nContent-Length: " + strconv.Itoa(len(r.body)) + "\r\n\r\n")
	r.buf.Write(r.body)
	if _, err := r.conn.Write(r.buf.Bytes()); err != nil {
		r.reset()
		return err
	}
	if err := r.readResponse(); err != nil {
		r.reset()
		return err
	}
	return nil
}

func (r *rawClient) reset() {
	if r.conn != nil {
		_ = r.conn.Close()
	}
	r.conn, r.br = nil, nil
}

// readResponse reads one response (Content-Length or chunked) and fails on
// a status other than 200.
func (r *rawClient) readResponse() error {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	status := 0
	if len(line) >= 12 {
		status, _ = strconv.Atoi(string(line[9:12]))
	}
	length, chunked, closeConn := -1, false, false
	for {
		h, err := r.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(h) <= 2 {
			break
		}
		k, v, _ := strings.Cut(strings.TrimSpace(string(h)), ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "content-length":
			length, _ = strconv.Atoi(v)
		case "transfer-encoding":
			chunked = strings.EqualFold(v, "chunked")
		case "connection":
			closeConn = strings.EqualFold(v, "close")
		}
	}
	var body []byte
	switch {
	case chunked:
		body, err = io.ReadAll(newChunked(r.br))
	case length >= 0:
		body = make([]byte, length)
		_, err = io.ReadFull(r.br, body)
	default:
		return errors.New("response without length")
	}
	if err != nil {
		return err
	}
	if closeConn {
		r.reset()
	}
	if status != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", status, body)
	}
	return nil
}

// chunked decodes a chunked transfer-encoded body.
type chunked struct {
	br   *bufio.Reader
	left int
	done bool
}

func newChunked(br *bufio.Reader) *chunked { return &chunked{br: br} }

func (c *chunked) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		s, _, _ := strings.Cut(strings.TrimSpace(string(line)), ";")
		n, err := strconv.ParseInt(s, 16, 64)
		if err != nil {
			return 0, fmt.Errorf("bad chunk size %q", s)
		}
		if n == 0 {
			for { // trailers until the blank line
				l, err := c.br.ReadSlice('\n')
				if err != nil {
					return 0, err
				}
				if len(l) <= 2 {
					break
				}
			}
			c.done = true
			return 0, io.EOF
		}
		c.left = int(n)
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= n
	if c.left == 0 && err == nil {
		if _, err = c.br.Discard(2); err != nil {
			return n, err
		}
	}
	return n, err
}
