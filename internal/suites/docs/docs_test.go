// Package docs keeps the README in step with what it documents: the example workflows under
// testdata/workflows and the inputs and outputs declared in action.yml.
package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"gopkg.in/yaml.v3"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testkit.Root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var exampleRE = regexp.MustCompile("(?s)<!-- example: ([^ ]+) -->\n```yaml\n(.*?)```\n")

// TestReadmeExamplesAreTheCheckedFiles: every workflow in the README is byte for byte a file
// that the actionlint test checks, and every such file is shown in the README.
func TestReadmeExamplesAreTheCheckedFiles(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, m := range exampleRE.FindAllStringSubmatch(readme(t), -1) {
		path, snippet := m[1], m[2]
		seen[filepath.Clean(path)] = true
		b, err := os.ReadFile(filepath.Join(testkit.Root(t), path))
		if err != nil {
			t.Errorf("README shows %s, which does not exist: %v", path, err)
			continue
		}
		if string(b) != snippet {
			t.Errorf("README's copy of %s differs from the file (the file is what actionlint checks): update one of them", path)
		}
	}
	files, _ := filepath.Glob(filepath.Join(testkit.Root(t), "testdata/workflows/*.yml"))
	if len(files) == 0 {
		t.Fatal("no example workflows found")
	}
	for _, f := range files {
		rel, _ := filepath.Rel(testkit.Root(t), f)
		if !seen[rel] {
			t.Errorf("%s is not shown in the README", rel)
		}
	}
}

type actionYML struct {
	Inputs  yaml.Node `yaml:"inputs"`
	Outputs yaml.Node `yaml:"outputs"`
}

type field struct {
	name, description, def string
}

func fields(n yaml.Node) []field {
	var out []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		var v struct {
			Description string `yaml:"description"`
			Default     string `yaml:"default"`
		}
		_ = n.Content[i+1].Decode(&v)
		out = append(out, field{n.Content[i].Value, v.Description, v.Default})
	}
	return out
}

func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }

// referenceTables renders the inputs and outputs tables from action.yml.
func referenceTables(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testkit.Root(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionYML
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString("| input | default | description |\n|---|---|---|\n")
	for _, f := range fields(a.Inputs) {
		def := "`" + f.def + "`"
		if f.def == "" {
			def = "—"
		}
		fmt.Fprintf(&sb, "| `%s` | %s | %s |\n", f.name, cell(def), cell(f.description))
	}
	sb.WriteString("\n| output | description |\n|---|---|\n")
	for _, f := range fields(a.Outputs) {
		fmt.Fprintf(&sb, "| `%s` | %s |\n", f.name, cell(f.description))
	}
	return sb.String()
}

// TestReadmeReferenceMatchesActionYML: the inputs/outputs reference cannot drift from action.yml.
func TestReadmeReferenceMatchesActionYML(t *testing.T) {
	t.Parallel()
	got, want := readme(t), referenceTables(t)
	const start, end = "<!-- inputs:start -->\n", "<!-- inputs:end -->"
	i, j := strings.Index(got, start), strings.Index(got, end)
	if i < 0 || j < i {
		t.Fatal("README has no inputs:start/inputs:end markers")
	}
	if cur := got[i+len(start) : j]; cur != want {
		if testkit.Update() {
			if err := os.WriteFile(filepath.Join(testkit.Root(t), "README.md"), []byte(got[:i+len(start)]+want+got[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README's inputs/outputs tables differ from action.yml: run `go test ./internal/suites/docs -update`.\nwant:\n%s", want)
	}
}
