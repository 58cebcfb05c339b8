package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestArchitectureDoc keeps docs/architecture.md a true map of the code:
// every package path it names is a directory with Go files, and every
// qualified identifier (pkg.Name, pkg.Type.Method) exists in that package.
func TestArchitectureDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := packageDirs(t)
	for _, path := range docPaths(string(doc)) {
		if _, ok := pkgs[filepath.Base(path)]; !ok || !hasGoFiles(filepath.Join("../..", path)) {
			t.Errorf("docs/architecture.md names %s, which is not a Go package", path)
		}
	}
	decls := map[string]map[string]bool{}
	for _, ref := range qualifiedRefs(string(doc), pkgs) {
		dir := pkgs[ref[0]]
		if decls[dir] == nil {
			decls[dir] = declaredNames(t, dir)
		}
		for _, name := range ref[1:] {
			if !decls[dir][name] {
				t.Errorf("docs/architecture.md names %s, but %s declares no %s", strings.Join(ref, "."), dir, name)
			}
		}
	}
}

// docPaths returns the package paths in backquotes, with {a,b} expanded
// and "x, y" lists split.
func docPaths(doc string) []string {
	var out []string
	doc = regexp.MustCompile("(?s)```.*?```").ReplaceAllString(doc, "")
	for _, m := range regexp.MustCompile("`([^`\n]+)`").FindAllStringSubmatch(doc, -1) {
		for _, p := range strings.Split(m[1], ", ") {
			if !strings.HasPrefix(p, "internal/") && p != "cmd/sqlgate" {
				continue
			}
			if i := strings.Index(p, "{"); i >= 0 && strings.HasSuffix(p, "}") {
				for _, alt := range strings.Split(p[i+1:len(p)-1], ",") {
					out = append(out, p[:i]+alt)
				}
				continue
			}
			out = append(out, p)
		}
	}
	return out
}

var qualified = regexp.MustCompile(`\b([a-z][a-z0-9]*)\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?`)

// qualifiedRefs returns pkg.Name[.Name] references whose first part is a
// package name (file names such as proxy.md are skipped).
func qualifiedRefs(doc string, pkgs map[string]string) [][]string {
	var out [][]string
	for _, m := range qualified.FindAllStringSubmatch(doc, -1) {
		if _, ok := pkgs[m[1]]; !ok {
			continue
		}
		switch m[2] {
		case "md", "go", "yaml", "json", "sh", "listen":
			continue
		}
		ref := []string{m[1], m[2]}
		if m[3] != "" {
			ref = append(ref, m[3])
		}
		out = append(out, ref)
	}
	return out
}

// packageDirs maps each package's last path element to its directory.
func packageDirs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{"sqlgate": "../../cmd/sqlgate"}
	err := filepath.WalkDir("../../internal", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && hasGoFiles(p) {
			out[filepath.Base(p)] = p
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hasGoFiles(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	return len(m) > 0
}

// declaredNames returns every top-level name of the package in dir and
// every method, struct field and interface method declared in it.
func declaredNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				names[n.Name.Name] = true
			case *ast.TypeSpec:
				names[n.Name.Name] = true
			case *ast.ValueSpec:
				for _, id := range n.Names {
					names[id.Name] = true
				}
			case *ast.Field:
				for _, id := range n.Names {
					names[id.Name] = true
				}
			}
			return true
		})
	}
	return names
}
