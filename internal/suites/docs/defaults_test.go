package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/deployment-action/deployment-action/internal/config"
	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/testkit"
)

func actionInputs(t *testing.T) []field {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testkit.Root(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionYML
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return fields(a.Inputs)
}

// codeDefaults maps each config.Inputs field's input name to the default in its struct tag.
func codeDefaults() map[string]string {
	out := map[string]string{}
	for _, d := range config.DeclaredInputs() {
		out[d.Name] = d.Default
	}
	return out
}

// TestDefaultsMatchActionYML: every default exists once in the code (config.Inputs' tags, which
// the action and the CLI both load through) and must be action.yml's. An input whose action.yml
// default is an expression (github.token, job.status) has none in the code: the runner
// evaluates it, and the CLI supplies its own source (GH_TOKEN, -R).
func TestDefaultsMatchActionYML(t *testing.T) {
	t.Parallel()
	code := codeDefaults()
	seen := map[string]bool{}
	for _, in := range actionInputs(t) {
		seen[in.name] = true
		def, ok := code[in.name]
		switch {
		case !ok:
			t.Errorf("action.yml declares %q, which config.Inputs does not read", in.name)
		case strings.Contains(in.def, "${{"):
			if def != "" {
				t.Errorf("%s: action.yml's default is the expression %q, but the code defaults it to %q", in.name, in.def, def)
			}
		case def != in.def:
			t.Errorf("%s: action.yml's default is %q, the code's %q", in.name, in.def, def)
		}
	}
	for name := range code {
		if !seen[name] {
			t.Errorf("config.Inputs reads %q, which action.yml does not declare", name)
		}
	}
}

// TestModesDocumented: action.yml's mode input lists every mode, and every input a mode reads is
// one action.yml declares.
func TestModesDocumented(t *testing.T) {
	t.Parallel()
	declared := map[string]string{}
	for _, in := range actionInputs(t) {
		declared[in.name] = in.description
	}
	for _, m := range deploy.Modes() {
		if !strings.Contains(declared["mode"], m.Name) {
			t.Errorf("action.yml's mode description does not mention %q", m.Name)
		}
		for _, in := range m.Inputs {
			if _, ok := declared[in]; !ok {
				t.Errorf("mode %s reads %q, which action.yml does not declare", m.Name, in)
			}
		}
	}
}
