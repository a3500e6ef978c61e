package app_test

// The checks gate for the modes that create (wait-for-checks), through the runner simulation.

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// TestWaitForChecksBeforeCreating: auto with wait-for-checks creates nothing until the commit's
// checks are green, leaves this job's own check run out, and sends conditional requests.
func TestWaitForChecksBeforeCreating(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var looks atomic.Int32
	var once sync.Once
	e := emulatortest.Start(t, emulator.Config{Observe: func(req *http.Request, _ []byte, _ int, _ http.Header, _ []byte) {
		if strings.HasSuffix(req.URL.Path, "/check-runs") && looks.Add(1) >= 2 {
			once.Do(func() { close(release) })
		}
	}})
	build := mustCheck(t, e, emulator.CheckRun{Name: "build", HeadSHA: mainSHA, Status: "in_progress"})
	own := mustCheck(t, e, emulator.CheckRun{Name: "deploy", HeadSHA: mainSHA, Status: "in_progress"})
	script := e.Run("ci", emulator.Step{Gate: release, Do: func() error {
		_, err := e.CompleteCheckRun(owner, repoName, build.ID, "success")
		return err
	}})
	j := waitJob(t, e, map[string]string{"environment": "staging", "wait-for-checks": "true"})
	j.Contexts.CheckRunID = fmt.Sprint(own.ID)
	res := run(t, j)
	if res.Failed() {
		t.Fatalf("errors %v\n%s", res.StageErrors, res.Log["pre"])
	}
	if err := script.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := onlyDeployment(t, e)
	if strings.Join(states(d), ",") != "in_progress,success" {
		t.Errorf("states %v", states(d))
	}
	var create, lastLook, notModified int
	for i, r := range e.Requests() {
		switch {
		case strings.HasSuffix(r.Path, "/check-runs"):
			lastLook = i
		case r.Method == "POST" && strings.HasSuffix(r.Path, "/deployments"):
			create = i
		}
		if r.Status == http.StatusNotModified {
			notModified++
		}
	}
	if create < lastLook || notModified == 0 {
		t.Errorf("create at request %d, last look at %d, %d answered 304", create, lastLook, notModified)
	}
	if !strings.Contains(res.Summaries["main"], "Checks of `6dcb09b`: 1 green, left out: deploy (this job), after waiting") {
		t.Errorf("summary:\n%s", res.Summaries["main"])
	}
}

// TestWaitForChecksRefuses: a failing check stops the create at job start; the job fails, and
// post has nothing to finish.
func TestWaitForChecksRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *emulator.Emulator)
		with  map[string]string
		want  []string
	}{
		{name: "red check", setup: func(t *testing.T, e *emulator.Emulator) {
			mustCheck(t, e, emulator.CheckRun{Name: "test", HeadSHA: mainSHA, Status: "completed", Conclusion: "cancelled"})
		}, want: []string{"check `test` cancelled", "ignore-checks"}},
		{name: "pending past the timeout", setup: func(t *testing.T, e *emulator.Emulator) {
			if _, err := e.AddCommitStatus(owner, repoName, emulator.CommitStatus{SHA: mainSHA, Context: "ci/jenkins", State: "pending"}); err != nil {
				t.Fatal(err)
			}
		}, with: map[string]string{"checks-timeout": "200ms"}, want: []string{"status `ci/jenkins` pending", "checks-timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := emulatortest.Start(t, emulator.Config{})
			tc.setup(t, e)
			with := map[string]string{"environment": "staging", "wait-for-checks": "true"}
			for k, v := range tc.with {
				with[k] = v
			}
			res := run(t, waitJob(t, e, with))
			if res.JobStatus != "failure" || res.StageErrors["pre"] == nil {
				t.Fatalf("job %s, errors %v", res.JobStatus, res.StageErrors)
			}
			for _, s := range tc.want {
				if !strings.Contains(res.StageErrors["pre"].Error(), s) {
					t.Errorf("error lacks %q: %v", s, res.StageErrors["pre"])
				}
			}
			if n := len(e.Deployments(owner, repoName)); n != 0 {
				t.Errorf("%d deployments", n)
			}
			for _, r := range e.Requests() {
				if r.Method != "GET" {
					t.Errorf("wrote %s %s", r.Method, r.Path)
				}
			}
		})
	}
}
