package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/config"
	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// TestCreateWaitsForChecks: --wait-for-checks and its companions gate create as the action's
// inputs do: a red check refuses (naming --ignore-checks), a left-out one does not count,
// a required one that never reports times out (naming --checks-timeout).
func TestCreateWaitsForChecks(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	sha := emulator.DefaultRepo().Branches["main"]
	for _, cr := range []emulator.CheckRun{
		{Name: "build", HeadSHA: sha, Status: "completed", Conclusion: "failure"},
		{Name: "test", HeadSHA: sha, Status: "completed", Conclusion: "success"},
	} {
		if _, err := e.CreateCheckRun("octo-org", "hello-world", cr); err != nil {
			t.Fatal(err)
		}
	}
	vars := env(e, "DEPLOYMENT_ACTION_POLL_INTERVAL", "10ms")
	create := []string{"create", "--ref", "main", "--environment", "staging", "--wait-for-checks"}

	res := run(t, vars, create...)
	msg := errString(res.err)
	if res.exitCode() != 1 || !strings.Contains(msg, `check "build" failure`) || !strings.Contains(msg, "--ignore-checks") {
		t.Errorf("a red check: exit %d, %s", res.exitCode(), msg)
	}
	if n := len(e.Deployments("octo-org", "hello-world")); n != 0 {
		t.Fatalf("%d deployments after a refusal", n)
	}

	res = run(t, vars, append(create, "--ignore-checks", "build", "--required-checks", "smoke", "--checks-timeout", "50ms")...)
	if msg := errString(res.err); res.exitCode() != 1 || !strings.Contains(msg, "still pending") || !strings.Contains(msg, "--checks-timeout") {
		t.Errorf("a required check that never reports: exit %d, %s", res.exitCode(), msg)
	}

	out := mustRun(t, vars, append(create, "--ignore-checks", "build", "--required-checks", "test", "--json")...)
	var got struct {
		DeploymentID int64  `json:"deployment_id"`
		SHA          string `json:"sha"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.DeploymentID == 0 || got.SHA != sha {
		t.Errorf("green once build is left out: %s (%v)", out, err)
	}
	if res := run(t, vars, "create", "--ref", "main", "--checks-timeout", "soon"); res.exitCode() != 2 || !strings.Contains(errString(res.err), "--checks-timeout") {
		t.Errorf("a bad --checks-timeout: exit %d, %v", res.exitCode(), res.err)
	}
}

// TestLatestExcludeSHA: --exclude-sha finds what was live before a commit (a roll-back).
func TestLatestExcludeSHA(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	vars := env(e)
	repoSeed := emulator.DefaultRepo()
	mustRun(t, vars, "trigger", "--ref", "v1.0.0", "--environment", "production")
	mustRun(t, vars, "trigger", "--ref", "main", "--environment", "production")
	sha := func(args ...string) string {
		var got struct {
			SHA string `json:"sha"`
		}
		out := mustRun(t, vars, append(args, "--json")...)
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return got.SHA
	}
	if got := sha("latest", "--environment", "production"); got != repoSeed.Branches["main"] {
		t.Fatalf("latest = %s, want main's %s", got, repoSeed.Branches["main"])
	}
	if got := sha("latest", "--environment", "production", "--exclude-sha", repoSeed.Branches["main"]); got != repoSeed.Tags["v1.0.0"] {
		t.Errorf("latest --exclude-sha main = %s, want v1.0.0's %s", got, repoSeed.Tags["v1.0.0"])
	}
}

// TestDeploymentLineLinksThePage: the text output's Deployment: line is the environment's page
// on GitHub's web host that matches the API, not the API URL.
func TestDeploymentLineLinksThePage(t *testing.T) {
	t.Parallel()
	s := &deploy.Settings{Owner: "octo-org", Repo: "hello-world"}
	rep := &deploy.Report{DeploymentID: 7, Environment: "preview [eu]", DeploymentURL: "https://api.github.com/repos/octo-org/hello-world/deployments/7"}
	for _, tc := range []struct {
		env  config.Env
		want string
	}{
		{config.Env{APIURL: "https://api.github.com"}, "https://github.com/octo-org/hello-world/deployments/preview%20%5Beu%5D"},
		{config.Env{APIURL: "https://ghes.example.com/api/v3"}, "https://ghes.example.com/octo-org/hello-world/deployments/preview%20%5Beu%5D"},
		{config.Env{APIURL: "https://api.octocorp.ghe.com/"}, "https://octocorp.ghe.com/octo-org/hello-world/deployments/preview%20%5Beu%5D"},
		// In a run: step the runner says where GitHub is.
		{config.Env{Actions: true, ServerURL: "https://ghes.internal/", APIURL: "https://ghes.internal/api/v3"}, "https://ghes.internal/octo-org/hello-world/deployments/preview%20%5Beu%5D"},
	} {
		if got := environmentPage(webRoot(tc.env), s, rep); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.env, got, tc.want)
		}
	}
	// GH_HOST names a GHES host: the page is on it.
	vars := map[string]string{"GH_HOST": "ghes.example.com"}
	if got := webRoot(config.Env{APIURL: apiURL(func(k string) string { return vars[k] })}); got != "https://ghes.example.com" {
		t.Errorf("GH_HOST web root = %s", got)
	}
}
