package demo

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

// The scene's workflow on: deployment is the recipe's (docs/recipes.md #5): the same uses of
// the action with the same with:, under the same conditions, around a deploy step.
func TestSlackSceneRunsTheRecipesDeployer(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testkit.Root(t), "testdata", "workflows", "deployer.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			Steps []struct {
				ID   string            `yaml:"id"`
				If   string            `yaml:"if"`
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	if _, ok := wf.On["deployment"]; !ok || len(wf.On) != 1 {
		t.Errorf("deployer.yml runs on %v, want deployment only", wf.On)
	}
	var got []string
	var withs []map[string]string
	for _, s := range wf.Jobs["deploy"].Steps {
		switch {
		case strings.HasPrefix(s.Uses, "deployment-action/deployment-action@"):
			got = append(got, "action if "+s.If)
			withs = append(withs, s.With)
		case s.ID == "deploy":
			got = append(got, "deploy")
		}
	}
	want := []string{"action if ", "deploy", "action if success()", "action if failure() || cancelled()"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("deployer.yml's steps %q, want %q", got, want)
	}
	u := deployerUses()
	for i, w := range []map[string]string{u.start, u.success, u.failure} {
		if !maps.Equal(withs[i], w) {
			t.Errorf("use %d of the action: deployer.yml has with: %v, the scene runs %v", i+1, withs[i], w)
		}
	}
}

func TestSlackTextReadsAsSlackShowsIt(t *testing.T) {
	for in, want := range map[string]string{
		"<@U0ALICE> deployed <http://h/o/r|o/r> to *production*\n:white_check_mark: success · <https://x.example/a|log>": "@alice deployed o/r to *production* / :white_check_mark: success · log",
		":no_entry: @rita has read &lt;not&gt; &amp; <@U0RITA>":                                                          ":no_entry: @rita has read <not> & @rita",
		"<@U0OTHER> hi":     "@U0OTHER hi",
		"no  links\n\nhere": "no links / / here",
	} {
		if got := slackText(in); got != want {
			t.Errorf("slackText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := slackLinks("<http://h/o/r|o/r> <https://p.example|https://p.example> <https://l|log>"); strings.Join(got, ",") != "o/r: http://h/o/r,log: https://l" {
		t.Errorf("slackLinks = %q: want label: URL, skipping links that show their URL", got)
	}
}
