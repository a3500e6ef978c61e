package app_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/testkit"
)

// TestPerEnvironmentRecipeAgreesWithTheGrammar runs the route job's shell script of docs/chatops.md's
// per-environment concurrency recipe (testdata/workflows/chatops-per-environment.yml) with bash,
// on comments the action accepts, and checks it names the environment the action deploys to:
// else two deploys to one environment could run at once.
func TestPerEnvironmentRecipeAgreesWithTheGrammar(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		if os.Getenv("DEPLOYMENT_ACTION_REQUIRE_TOOLS") == "1" {
			t.Fatal("bash is required")
		}
		t.Skip("bash is not installed")
	}
	raw, err := os.ReadFile(testkit.Path(t, "testdata/workflows/chatops-per-environment.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs struct {
			Route struct {
				Steps []struct {
					Env map[string]string `yaml:"env"`
					Run string            `yaml:"run"`
				} `yaml:"steps"`
			} `yaml:"route"`
			Deploy struct {
				Steps []struct {
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"deploy"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	if len(wf.Jobs.Route.Steps) != 1 || wf.Jobs.Route.Steps[0].Run == "" {
		t.Fatal("the route job has no script")
	}
	step := wf.Jobs.Route.Steps[0]
	var envs []string
	for _, e := range strings.Split(wf.Jobs.Deploy.Steps[0].With["environments"], ",") {
		envs = append(envs, strings.TrimSpace(e))
	}
	if step.Env["DEFAULT"] != envs[0] {
		t.Fatalf("the route's DEFAULT %q is not the first environment %q", step.Env["DEFAULT"], envs[0])
	}
	for _, body := range []string{
		"/deploy",
		"/deploy staging",
		"/deploy production",
		"/DEPLOY TO Production",
		"  /deploy \t to \t  staging  \r\nthanks",
		"\n\n/Deploy PRODUCTION\n/deploy staging",
		"/deploy to production\n\nrollback plan: /deploy staging",
	} {
		l := deploy.ParseCommand(body, "/deploy")
		if !l.Understood {
			t.Fatalf("%q: the action does not accept it", body)
		}
		want := envs[0]
		if l.Environment != "" {
			want = l.Environment
		}
		out := t.TempDir() + "/output"
		cmd := exec.Command(bash, "-e", "-c", step.Run)
		cmd.Env = append(os.Environ(), "BODY="+body, "DEFAULT="+step.Env["DEFAULT"], "GITHUB_OUTPUT="+out)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%q: %v\n%s", body, err, stderr.String())
		}
		got, _ := os.ReadFile(out)
		if string(got) != "environment="+strings.ToLower(want)+"\n" {
			t.Errorf("%q: the route says %q, the action deploys to %s", body, got, want)
		}
	}
}
