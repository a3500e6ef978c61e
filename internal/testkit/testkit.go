// Package testkit is the one set of test utilities the suites share: the repository root, golden
// files, and a job that uses the repository's action.yml (job.go). It is imported by tests only.
package testkit

import (
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// update is -update on every test binary that uses Golden: rewrite golden files from the output.
var update = flag.Bool("update", false, "rewrite golden files under testdata/ from the current output")

var (
	rootOnce sync.Once
	root     string
	rootErr  error
)

// Root is the repository root (the directory holding go.mod), found by walking up from the
// test's working directory.
func Root(tb testing.TB) string {
	tb.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				root = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = os.ErrNotExist
				return
			}
			dir = parent
		}
	})
	if rootErr != nil {
		tb.Fatalf("testkit: no go.mod above the working directory: %v", rootErr)
	}
	return root
}

// Path is a path under the repository root, from slash-separated parts.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	return filepath.Join(Root(tb), filepath.FromSlash(rel))
}

// Golden compares got with the file at rel (relative to the repository root, for example
// "testdata/cli/help.golden"). With -update it rewrites the file instead.
func Golden(tb testing.TB, rel, got string) {
	tb.Helper()
	path := Path(tb, rel)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		tb.Errorf("%s differs from the golden file (run the test with -update and review the diff)\n--- got:\n%s\n--- want:\n%s", rel, got, want)
	}
}

// Update reports whether the test binary runs with -update (rewrite generated files).
func Update() bool { return *update }
