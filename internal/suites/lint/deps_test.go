package lint

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

const module = "github.com/deployment-action/deployment-action"

// notShipped are the packages the shipped binary (the repository root's main package: the action
// stages, the CLI and the server) must not link: the development tool and its emulator, runner
// simulation, demo and OpenAPI validator, the test suites and their utilities, and the
// libraries only those use. gopkg.in/yaml.v3 ships: the server reads its config file and each
// repository's .github/deployments.yml; the other YAML libraries do not. An entry ending in "*" matches every path it starts; any other
// matches itself and the paths below it.
var notShipped = []string{
	module + "/internal/workbench",
	module + "/internal/suites",
	module + "/internal/testkit",
	module + "/cmd",
	"gopkg.in/yaml.v2",
	"github.com/getkin/kin-openapi",
	"go.yaml.in",
}

// forbidden returns the packages of deps that notShipped rules out.
func forbidden(deps []string) []string {
	var bad []string
	for _, p := range deps {
		for _, f := range notShipped {
			prefix, glob := strings.CutSuffix(f, "*")
			if glob && strings.HasPrefix(p, prefix) || !glob && (p == f || strings.HasPrefix(p, f+"/")) {
				bad = append(bad, p)
				break
			}
		}
	}
	return bad
}

func TestForbiddenMatchesWhatItShould(t *testing.T) {
	t.Parallel()
	deps := []string{
		"fmt", module, module + "/internal/app", module + "/internal/workbench", module + "/internal/workbench/emulator",
		module + "/internal/testkit", module + "/internal/testkitten", module + "/cmd/workbench", "gopkg.in/yaml.v3",
		"gopkg.in/yaml.v2", "github.com/getkin/kin-openapi/openapi3", "go.yaml.in/yaml/v4", "github.com/google/go-github/v62/github",
		module + "/cmdline", "gopkg.in/yamlx",
	}
	want := []string{
		module + "/internal/workbench", module + "/internal/workbench/emulator", module + "/internal/testkit",
		module + "/cmd/workbench", "gopkg.in/yaml.v2", "github.com/getkin/kin-openapi/openapi3", "go.yaml.in/yaml/v4",
	}
	if got := forbidden(deps); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("forbidden(%v)\n = %v\nwant %v", deps, got, want)
	}
}

// TestShippedBinaryLinksOnlyTheProduct: `go list -deps .` at the repository root (what `go
// build .` and the Dockerfile compile) names none of notShipped.
func TestShippedBinaryLinksOnlyTheProduct(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Dir = testkit.Root(t)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps .: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	// The list must be the binary's: its main package and the entry point it calls.
	for _, want := range []string{module, module + "/internal/app"} {
		if !contains(deps, want) {
			t.Fatalf("go list -deps . does not list %s: is the root still the action's main package?\n%s", want, out)
		}
	}
	for _, p := range forbidden(deps) {
		t.Errorf("the shipped binary links %s (only the action stages and the CLI belong in it; see `go list -deps .` and `go mod why -m`)", p)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
