package server

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.response.json from the server's answers")

// TestDataAPI_Golden replays testdata/golden/NAME.request.json, in name
// order, as signed raw POSTs against the embedded SQLite cluster and
// compares each response body (names containing "batch" go to
// /BatchExecute, the others to /Execute) byte for byte with NAME.response.json (the
// body plus a final newline). Error bodies must also agree with their
// x-amzn-ErrorType header. Run with -update to rewrite the responses, and
// review the diff: exactly one member per Field, longs as JSON integers,
// doubles with a fraction or exponent.
func TestDataAPI_Golden(t *testing.T) {
	env := newTestEnv(t, configFor())
	requests, err := filepath.Glob(filepath.Join("testdata", "golden", "*.request.json"))
	if err != nil || len(requests) == 0 {
		t.Fatalf("no golden requests: %v", err)
	}
	for _, reqFile := range requests {
		name := strings.TrimSuffix(filepath.Base(reqFile), ".request.json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(reqFile)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(body) {
				t.Fatalf("%s is not valid JSON", reqFile)
			}
			path := "/Execute"
			if strings.Contains(name, "batch") {
				path = "/BatchExecute"
			}
			got := env.send(t, rawRequest{Path: path, Body: bytes.TrimSpace(body)})
			switch {
			case got.Type != "":
				if got.ErrorType != got.Type || got.Status < 400 || got.Status >= 500 {
					t.Errorf("error %d with header %q and __type %q", got.Status, got.ErrorType, got.Type)
				}
			case got.Status != 200:
				t.Errorf("status %d without __type: %s", got.Status, got.Body)
			}
			respFile := filepath.Join("testdata", "golden", name+".response.json")
			if *update {
				if err := os.WriteFile(respFile, append(got.Body, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(respFile)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Body, bytes.TrimSuffix(want, []byte("\n"))) {
				t.Errorf("response differs from %s\n got: %s\nwant: %s", respFile, got.Body, want)
			}
		})
	}
}
