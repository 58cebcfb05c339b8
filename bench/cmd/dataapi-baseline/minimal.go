package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// minimal is the baseline handler: verify, decode, query, encode.
type minimal struct {
	creds  aws.Credentials
	region string
	signer *v4.Signer
	pg     chan *pgx.Conn // a pool: one connection per borrower
	my     *sql.DB
}

func newMinimal(ctx context.Context, akid, secret, region, pgURL, myDSN string, conns int) (*minimal, error) {
	if akid == "" || secret == "" {
		return nil, errors.New("-akid and -secret are required")
	}
	m := &minimal{creds: aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, region: region, signer: v4.NewSigner()}
	if pgURL != "" {
		m.pg = make(chan *pgx.Conn, conns)
		for range conns {
			c, err := pgx.Connect(ctx, pgURL)
			if err != nil {
				return nil, fmt.Errorf("postgres: %w", err)
			}
			m.pg <- c
		}
	}
	if myDSN != "" {
		db, err := sql.Open("mysql", myDSN)
		if err != nil {
			return nil, fmt.Errorf("mysql: %w", err)
		}
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		m.my = db
	}
	return m, nil
}

type request struct {
	ResourceArn string `json:"resourceArn"`
	SecretArn   string `json:"secretArn"`
	SQL         string `json:"sql"`
	Database    string `json:"database"`
	Parameters  []struct {
		Name  string         `json:"name"`
		Value map[string]any `json:"value"`
	} `json:"parameters"`
}

type field struct {
	LongValue    *int64   `json:"longValue,omitempty"`
	DoubleValue  *float64 `json:"doubleValue,omitempty"`
	StringValue  *string  `json:"stringValue,omitempty"`
	BooleanValue *bool    `json:"booleanValue,omitempty"`
	IsNull       *bool    `json:"isNull,omitempty"`
}

type response struct {
	NumberOfRecordsUpdated int64     `json:"numberOfRecordsUpdated"`
	Records                [][]field `json:"records,omitempty"`
}

func (m *minimal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, `{"message":"bad body"}`, http.StatusBadRequest)
		return
	}
	if err := m.verify(r, body); err != nil {
		w.Header().Set("x-amzn-ErrorType", "ForbiddenException")
		http.Error(w, `{"message":"`+err.Error()+`"}`, http.StatusForbidden)
		return
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"message":"bad json"}`, http.StatusBadRequest)
		return
	}
	var resp response
	cluster := req.ResourceArn[strings.LastIndexByte(req.ResourceArn, ':')+1:]
	switch {
	case cluster == "pg" && m.pg != nil:
		err = m.runPG(r.Context(), &req, &resp)
	case cluster == "maria" && m.my != nil:
		err = m.runMySQL(r.Context(), &req, &resp)
	default:
		err = errors.New("unknown cluster " + cluster)
	}
	if err != nil {
		w.Header().Set("x-amzn-ErrorType", "BadRequestException")
		b, _ := json.Marshal(map[string]string{"message": err.Error()})
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(b)
		return
	}
	b, _ := json.Marshal(&resp)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// verify re-signs the request's signed headers with the SDK's signer and
// compares signatures in constant time.
func (m *minimal) verify(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return errors.New("missing signature")
	}
	var cred, signed, sig string
	for _, part := range strings.Split(auth[len(algo):], ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[0] != m.creds.AccessKeyID {
		return errors.New("unknown access key")
	}
	t, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || time.Since(t).Abs() > 5*time.Minute {
		return errors.New("bad or stale X-Amz-Date")
	}
	c, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return err
	}
	for _, h := range strings.Split(signed, ";") {
		switch h {
		case "host":
		case "content-length":
			c.ContentLength = r.ContentLength
		default:
			c.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	if err := m.signer.SignHTTP(r.Context(), m.creds, c, hex.EncodeToString(sum[:]), scope[3], scope[2], t); err != nil {
		return err
	}
	_, want, _ := strings.Cut(c.Header.Get("Authorization"), "Signature=")
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return errors.New("signature mismatch")
	}
	return nil
}

// bind turns :name placeholders into the driver's ($n or ?) and returns
// the arguments in order.
func bind(req *request, dollar bool) (string, []any) {
	if len(req.Parameters) == 0 {
		return req.SQL, nil
	}
	vals := map[string]any{}
	for _, p := range req.Parameters {
		for k, v := range p.Value {
			switch k {
			case "longValue":
				vals[p.Name] = int64(v.(float64))
			case "isNull":
				vals[p.Name] = nil
			default:
				vals[p.Name] = v
			}
		}
	}
	var b strings.Builder
	var args []any
	s := req.SQL
	for i := 0; i < len(s); i++ {
		if s[i] != ':' || i+1 >= len(s) || s[i+1] == ':' {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		args = append(args, vals[s[i+1:j]])
		if dollar {
			b.WriteString("$" + strconv.Itoa(len(args)))
		} else {
			b.WriteByte('?')
		}
		i = j - 1
	}
	return b.String(), args
}

func (m *minimal) runPG(ctx context.Context, req *request, resp *response) error {
	c := <-m.pg
	defer func() { m.pg <- c }()
	q, args := bind(req, true)
	rows, err := c.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		rec := make([]field, len(vals))
		for i, v := range vals {
			rec[i] = toField(v)
		}
		resp.Records = append(resp.Records, rec)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if tag := rows.CommandTag(); !tag.Select() {
		resp.NumberOfRecordsUpdated = tag.RowsAffected()
	}
	return nil
}

func (m *minimal) runMySQL(ctx context.Context, req *request, resp *response) error {
	q, args := bind(req, false)
	rows, err := m.my.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, _ := rows.ColumnTypes()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		rec := make([]field, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok && strings.Contains(cols[i].DatabaseTypeName(), "INT") {
				n, _ := strconv.ParseInt(string(b), 10, 64)
				v = n
			}
			rec[i] = toField(v)
		}
		resp.Records = append(resp.Records, rec)
	}
	return rows.Err()
}

func toField(v any) field {
	switch x := v.(type) {
	case nil:
		t := true
		return field{IsNull: &t}
	case int64:
		return field{LongValue: &x}
	case int32:
		n := int64(x)
		return field{LongValue: &n}
	case int16:
		n := int64(x)
		return field{LongValue: &n}
	case float64:
		return field{DoubleValue: &x}
	case float32:
		f := float64(x)
		return field{DoubleValue: &f}
	case bool:
		return field{BooleanValue: &x}
	case string:
		return field{StringValue: &x}
	case []byte:
		s := string(x)
		return field{StringValue: &s}
	case time.Time:
		s := x.Format("2006-01-02 15:04:05.999999")
		return field{StringValue: &s}
	case driver.Valuer: // pgtype.Numeric and friends
		if dv, err := x.Value(); err == nil {
			if _, again := dv.(driver.Valuer); !again {
				return toField(dv)
			}
		}
		s := fmt.Sprint(x)
		return field{StringValue: &s}
	default:
		s := fmt.Sprint(x)
		return field{StringValue: &s}
	}
}
