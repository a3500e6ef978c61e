// Package jobtest is the one setup the end-to-end, reliability and benchmark suites share: a job
// that uses the repository's action.yml, run by the runner simulation with the real entry point
// (app.Run) against an emulator's default repository.
package jobtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/deployment-action/deployment-action/internal/actionsim"
	"github.com/deployment-action/deployment-action/internal/app"
	"github.com/deployment-action/deployment-action/internal/emulator"
)

// The emulator's default repository, which every job deploys.
const (
	Owner = "octo-org"
	Repo  = "hello-world"
)

// Action loads the repository's action.yml (found by walking up to go.mod).
func Action(tb testing.TB) *actionsim.Action {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("jobtest: no go.mod above the working directory")
		}
		dir = parent
	}
	a, err := actionsim.LoadAction(filepath.Join(dir, "action.yml"))
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// NewJob is one job using the action against apiURL with the step's `with:`, as the runner would
// run it: github.token is token, job.check_run_id is 314, the commit is main's.
func NewJob(a *actionsim.Action, apiURL, token string, with map[string]string) *actionsim.Job {
	env := actionsim.DefaultEnv(apiURL)
	env["GITHUB_REPOSITORY"] = Owner + "/" + Repo
	env["GITHUB_REPOSITORY_OWNER"] = Owner
	env["GITHUB_SHA"] = emulator.DefaultRepo().Branches["main"]
	return &actionsim.Job{
		Action:   a,
		Entry:    app.Run,
		ID:       "deploy",
		With:     with,
		Env:      env,
		Contexts: actionsim.Contexts{Token: token, CheckRunID: "314"},
	}
}

// Run runs the job; only a broken setup fails the test (stage failures are in the result).
func Run(tb testing.TB, j *actionsim.Job) *actionsim.Result {
	tb.Helper()
	res, err := j.Run(context.Background())
	if err != nil {
		tb.Fatalf("job: %v", err)
	}
	return res
}

// States lists a deployment's states, oldest first.
func States(d emulator.Deployment) []string {
	out := make([]string, 0, len(d.Statuses))
	for _, s := range d.Statuses {
		out = append(out, s.State)
	}
	return out
}
