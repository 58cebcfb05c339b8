package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoSleepInTests keeps sleeping out of the tests: a test waits for
// another goroutine or process by polling (testdb.Eventually) and lets
// time pass only through testdb.Elapse, so time.Sleep is called in
// internal/testdb alone.
func TestNoSleepInTests(t *testing.T) {
	root := "../.."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "node_modules" || name == "testdata" || strings.HasPrefix(name, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if !strings.HasSuffix(path, "_test.go") || strings.HasPrefix(rel, filepath.Join("internal", "testdb")) {
			return nil
		}
		for _, pos := range sleepCalls(t, path) {
			t.Errorf("%s:%d calls time.Sleep; poll with testdb.Eventually, or testdb.Elapse when time itself is the subject", rel, pos.Line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sleepCalls returns where the file calls time.Sleep.
func sleepCalls(t *testing.T, path string) []token.Position {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var at []token.Position
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "time" && sel.Sel.Name == "Sleep" {
				at = append(at, fset.Position(sel.Pos()))
			}
		}
		return true
	})
	return at
}
