// Package reliability holds the suites that check the action's guarantees as a user sees them:
// whole jobs under injected faults, bad inputs, secrets and workflow-command injection, signals
// to the real binary, and re-runs. Every test runs the real entry point (app.Run or the built
// binary) against the in-process emulator on 127.0.0.1.
package reliability

import (
	"sort"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/app"
	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

const (
	owner    = testkit.Owner
	repoName = testkit.Repo
	// canary is the token every job uses: recognisable wherever it leaks.
	canary = "ghp_LEAKCANARY0123456789abcdefABCDEF01"
)

func loadAction(t testing.TB) *actionsim.Action { t.Helper(); return testkit.Action(t) }

// newJob is one job using the action against apiURL, with the canary token.
func newJob(_ testing.TB, a *actionsim.Action, apiURL string, with map[string]string) *actionsim.Job {
	return testkit.NewJob(app.Run, a, apiURL, canary, with)
}

func runJob(t testing.TB, j *actionsim.Job) *actionsim.Result { t.Helper(); return testkit.Run(t, j) }

// quiet keeps the emulator's diagnostics out of the test log (hundreds of jobs run here).
func quiet(string, ...any) {}

var states = testkit.States

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
