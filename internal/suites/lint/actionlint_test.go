// Package lint checks what the compiler does not. actionlint runs over the project's workflows
// (.github/workflows) and the example workflows under testdata/workflows; it also reads the root
// action.yml for `uses: ./` steps, so a broken action manifest fails here too. deps_test.go keeps
// the development tools out of the shipped binary.
//
// Without actionlint the test skips, unless DEPLOYMENT_ACTION_REQUIRE_TOOLS=1 (CI), where a
// missing actionlint is a failure. Install: go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
package lint

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

const requireToolsEnv = "DEPLOYMENT_ACTION_REQUIRE_TOOLS"

func actionlintPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("actionlint"); err == nil {
		return p
	}
	// `go install` puts it in GOBIN or GOPATH/bin, which may not be on PATH.
	var candidates []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
			candidates = append(candidates, filepath.Join(strings.TrimSpace(lines[0]), "actionlint"))
		}
		if len(lines) > 1 {
			for _, gp := range filepath.SplitList(strings.TrimSpace(lines[1])) {
				candidates = append(candidates, filepath.Join(gp, "bin", "actionlint"))
			}
		}
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	msg := "actionlint is not installed (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)"
	if os.Getenv(requireToolsEnv) == "1" {
		t.Fatalf("%s; %s=1: required", msg, requireToolsEnv)
	}
	t.Skip(msg)
	return ""
}

func workflowFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{
		".github/workflows/*.yml", ".github/workflows/*.yaml",
		"testdata/workflows/*.yml", "testdata/workflows/*.yaml",
	} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	return files
}

func TestActionlint(t *testing.T) {
	bin := actionlintPath(t)
	root := testkit.Root(t)
	files := workflowFiles(t, root)
	if len(files) == 0 {
		t.Fatal("no workflow files found under .github/workflows or testdata/workflows")
	}
	if out, err := exec.Command(bin, "-version").Output(); err == nil {
		t.Logf("actionlint %s", strings.SplitN(string(out), "\n", 2)[0])
	}
	rel := make([]string, len(files))
	for i, f := range files {
		r, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		rel[i] = r
	}
	t.Logf("checking %d workflow files: %s", len(rel), strings.Join(rel, " "))

	cmd := exec.Command(bin, append([]string{"-no-color", "-oneline"}, rel...)...)
	cmd.Dir = root // actionlint finds .github/actionlint.yaml and ./action.yml from here
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		// Exit 1 means problems were found: one line each.
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			t.Errorf("actionlint: %s", line)
		}
	default:
		t.Fatalf("actionlint failed to run: %v\n%s", err, out)
	}
}
