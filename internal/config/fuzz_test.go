package config

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// yamlBlock matches the fenced YAML examples in docs/.
var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// FuzzParse feeds arbitrary config files (seeded with every YAML example
// in docs/) through Parse and the validators: never a panic, and a parsed
// config always has its defaults and at least one cluster.
func FuzzParse(f *testing.F) {
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range docs {
		b, err := os.ReadFile(d)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range yamlBlock.FindAllSubmatch(b, -1) {
			f.Add(m[1])
		}
	}
	f.Add([]byte("clusters: [{name: a, engine: postgres, address: 'h:1', proxy: {listen: ':0'}}]"))
	f.Add([]byte("endpoints: {a: {cluster: x, path: '/{id}/{id}', methods: {GET: {sql: ['select 1']}}}}"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("listen: {http: ${SQLGATE_NOPE}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		if len(c.Clusters) == 0 || c.DataDir == "" || c.Region == "" || c.AccountID == "" {
			t.Fatalf("defaults missing: %+v", c)
		}
		_ = c.Validate()
		_ = c.ValidateEndpoints()
	})
}
