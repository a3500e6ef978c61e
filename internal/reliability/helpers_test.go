// Package reliability holds the suites that check the action's guarantees as a user sees them:
// whole jobs under injected faults, bad inputs, secrets and workflow-command injection, signals
// to the real binary, and re-runs. Every test runs the real entry point (app.Run or the built
// binary) against the in-process emulator on 127.0.0.1.
package reliability

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/actionsim"
	"github.com/deployment-action/deployment-action/internal/app"
	"github.com/deployment-action/deployment-action/internal/emulator"
)

const (
	owner    = "octo-org"
	repoName = "hello-world"
	// canary is the token every job uses: recognisable wherever it leaks.
	canary = "ghp_LEAKCANARY0123456789abcdefABCDEF01"
)

// loadAction reads the repository's action.yml.
func loadAction(t testing.TB) *actionsim.Action {
	t.Helper()
	a, err := actionsim.LoadAction("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// newJob is one job using the action against apiURL, as the runner would run it.
func newJob(t testing.TB, a *actionsim.Action, apiURL string, with map[string]string) *actionsim.Job {
	t.Helper()
	env := actionsim.DefaultEnv(apiURL)
	env["GITHUB_REPOSITORY"] = owner + "/" + repoName
	env["GITHUB_REPOSITORY_OWNER"] = owner
	env["GITHUB_SHA"] = emulator.DefaultRepo().Branches["main"]
	return &actionsim.Job{
		Action:   a,
		Entry:    app.Run,
		ID:       "deploy",
		With:     with,
		Env:      env,
		Contexts: actionsim.Contexts{Token: canary, CheckRunID: "314"},
	}
}

func runJob(t testing.TB, j *actionsim.Job) *actionsim.Result {
	t.Helper()
	res, err := j.Run(context.Background())
	if err != nil {
		t.Fatalf("job: %v", err)
	}
	return res
}

// quiet keeps the emulator's diagnostics out of the test log (hundreds of jobs run here).
func quiet(string, ...any) {}

func states(d emulator.Deployment) []string {
	var out []string
	for _, s := range d.Statuses {
		out = append(out, s.State)
	}
	return out
}

func latestState(d emulator.Deployment) string {
	if len(d.Statuses) == 0 {
		return ""
	}
	return d.Statuses[len(d.Statuses)-1].State
}

func isFinal(state string) bool {
	switch state {
	case "success", "failure", "error", "inactive":
		return true
	}
	return false
}

// everything is every piece of text the job left behind: raw stdout/stderr, the runner's log,
// outputs, state, env, summaries, annotations, commands, the runner's own messages and the
// stages' errors. The one sanctioned place for the token, the action's own "::add-mask::TOKEN"
// line (which the runner consumes and never shows), is left out.
func everything(res *actionsim.Result) string {
	var all []string
	maskLine := "::add-mask::" + canary
	for _, m := range []map[string]string{res.Stdout, res.Stderr, res.Log, res.Outputs, res.State, res.Env, res.Summaries} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			all = append(all, k, strings.ReplaceAll(m[k], maskLine, "(mask)"))
		}
	}
	for _, env := range res.StageEnv {
		for k, v := range env {
			if strings.HasPrefix(k, "STATE_") {
				all = append(all, k, v)
			}
		}
	}
	for _, a := range res.Annotations {
		all = append(all, a.Message)
		for k, v := range a.Properties {
			all = append(all, k, v)
		}
	}
	for _, cs := range res.Commands {
		for _, c := range cs {
			if c.Name == "add-mask" && c.Data == canary {
				continue
			}
			all = append(all, c.Name, c.Data)
		}
	}
	all = append(all, res.RunnerLog...)
	all = append(all, res.Summary)
	for _, err := range res.StageErrors {
		all = append(all, err.Error())
	}
	return strings.Join(all, "\n")
}
