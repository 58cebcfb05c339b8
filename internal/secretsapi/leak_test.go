package secretsapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sqlgate/sqlgate/internal/secrets"
)

// TestAPI_NoPlaintextAtRest plants a unique value through every write path,
// provokes errors around it, then checks that neither the database files
// (main, WAL, SHM) nor the captured log contain it in any common encoding.
func TestAPI_NoPlaintextAtRest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	planted := "PLANTED-" + secrets.NewVersionID() + "-VALUE"
	plantedBin := []byte("BINARY-" + secrets.NewVersionID())

	c, err := e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("leak"), SecretString: aws.String(planted)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("leak"), SecretBinary: plantedBin}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: c.ARN, SecretString: aws.String(planted + "2")}); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("leak"), VersionId: c.VersionId})
	if err != nil || *got.SecretString != planted {
		t.Fatalf("get: %v", err)
	}
	// Failing requests that carry the value.
	_, _ = e.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("leak"), SecretString: aws.String("x"), ClientRequestToken: c.VersionId})
	_, _ = e.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String(planted)})
	_, _ = e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("leak"), SecretString: aws.String(planted)})
	_, _ = e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name"), SecretString: aws.String(planted)})
	e.post(t, "secretsmanager.PutSecretValue", `{"SecretId":"leak","SecretString":"`+planted+`",`) // malformed
	e.post(t, "secretsmanager.PutSecretValue", `{"SecretId":"leak","SecretString":"`+planted+`","SecretBinary":"AAAA"}`)
	e.post(t, "secretsmanager.PutSecretValue", `{"SecretId":"leak","SecretString":["`+planted+`"]}`)
	e.post(t, "secretsmanager.PutSecretValue", `{"SecretId":"leak","SecretString":"x`+planted+`\q"}`)
	// Also a denied caller.
	req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(`{"SecretId":"leak","SecretString":"`+planted+`"}`))
	req.Header.Set("X-Amz-Target", "secretsmanager.PutSecretValue")
	req.Header.Set(testHeaderUser, "mallory")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	needles := map[string][]byte{}
	for _, v := range [][]byte{[]byte(planted), plantedBin} {
		needles[string(v)] = v
		needles["base64 "+string(v)] = []byte(base64.StdEncoding.EncodeToString(v))
		needles["hex "+string(v)] = []byte(hex.EncodeToString(v))
	}
	check := func(where string, data []byte) {
		t.Helper()
		for name, n := range needles {
			if bytes.Contains(data, n) {
				t.Errorf("%s contains planted value (%s)", where, name)
			}
		}
	}
	scanDB := func(phase string) {
		files, _ := filepath.Glob(e.dbPath + "*")
		if len(files) == 0 {
			t.Fatal("no database files")
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			check(phase+" "+filepath.Base(f), data)
		}
	}
	scanDB("open")
	if err := e.st.Close(); err != nil { // checkpoint the WAL into the main file
		t.Fatal(err)
	}
	scanDB("closed")
	logs := []byte(e.logs.String())
	if !bytes.Contains(logs, []byte("request rejected")) {
		t.Fatalf("log capture empty: %s", logs)
	}
	check("log", logs)
}
