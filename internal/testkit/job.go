package testkit

// The job the end-to-end, reliability and benchmark suites share: the repository's action.yml,
// run by the runner simulation with the real entry point (app.Run, passed in: this package
// must not import the product, whose in-package tests use it) against an emulator's
// default repository.

import (
	"context"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// The emulator's default repository, which every job deploys.
const (
	Owner = "octo-org"
	Repo  = "hello-world"
)

// Action loads the repository's action.yml (found by walking up to go.mod).
func Action(tb testing.TB) *actionsim.Action {
	tb.Helper()
	a, err := actionsim.LoadAction(Path(tb, "action.yml"))
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// NewJob is one job using the action against apiURL with the step's `with:`, as the runner would
// run it: github.token is token, job.check_run_id is 314, the commit is main's. entry runs the
// stages in-process (normally app.Run); it may be nil when the caller sets the job's Exec (a
// container, a child process) instead.
func NewJob(entry actionsim.EntryFunc, a *actionsim.Action, apiURL, token string, with map[string]string) *actionsim.Job {
	env := actionsim.DefaultEnv(apiURL)
	env["GITHUB_REPOSITORY"] = Owner + "/" + Repo
	env["GITHUB_REPOSITORY_OWNER"] = Owner
	env["GITHUB_SHA"] = emulator.DefaultRepo().Branches["main"]
	return &actionsim.Job{
		Action:   a,
		Entry:    entry,
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
