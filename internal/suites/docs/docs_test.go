// Package docs keeps the README and the pages under docs/ in step with what they document: the
// example workflows under testdata/workflows, the inputs and outputs declared in action.yml, and
// the links between the pages.
package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"gopkg.in/yaml.v3"
)

// inputsPage holds the generated inputs and outputs tables.
const inputsPage = "docs/inputs.md"

// pages are the user documentation, as paths relative to the repository root: README.md and
// every docs/*.md.
func pages(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testkit.Root(t), "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"README.md"}
	for _, f := range files {
		out = append(out, filepath.ToSlash(filepath.Join("docs", filepath.Base(f))))
	}
	sort.Strings(out[1:])
	return out
}

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testkit.Root(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var exampleRE = regexp.MustCompile("(?s)<!-- example: ([^ ]+) -->\n```yaml\n(.*?)```\n")

// TestDocsExamplesAreTheCheckedFiles: every workflow in the README and docs/ is byte for byte a
// file that the actionlint test checks, and every such file is shown on one of those pages.
func TestDocsExamplesAreTheCheckedFiles(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, page := range pages(t) {
		for _, m := range exampleRE.FindAllStringSubmatch(read(t, page), -1) {
			path, snippet := m[1], m[2]
			seen[filepath.Clean(path)] = true
			b, err := os.ReadFile(filepath.Join(testkit.Root(t), path))
			if err != nil {
				t.Errorf("%s shows %s, which does not exist: %v", page, path, err)
				continue
			}
			if string(b) != snippet {
				t.Errorf("%s's copy of %s differs from the file (the file is what actionlint checks): update one of them", page, path)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(testkit.Root(t), "testdata/workflows/*.yml"))
	if len(files) == 0 {
		t.Fatal("no example workflows found")
	}
	for _, f := range files {
		rel, _ := filepath.Rel(testkit.Root(t), f)
		if !seen[rel] {
			t.Errorf("%s is not shown in the README or docs/", rel)
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

// TestInputsReferenceMatchesActionYML: the inputs/outputs reference cannot drift from action.yml.
func TestInputsReferenceMatchesActionYML(t *testing.T) {
	t.Parallel()
	got, want := read(t, inputsPage), referenceTables(t)
	const start, end = "<!-- inputs:start -->\n", "<!-- inputs:end -->"
	i, j := strings.Index(got, start), strings.Index(got, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no inputs:start/inputs:end markers", inputsPage)
	}
	if cur := got[i+len(start) : j]; cur != want {
		if testkit.Update() {
			if err := os.WriteFile(filepath.Join(testkit.Root(t), inputsPage), []byte(got[:i+len(start)]+want+got[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s's inputs/outputs tables differ from action.yml: run `go test ./internal/suites/docs -update`.\nwant:\n%s", inputsPage, want)
	}
}
