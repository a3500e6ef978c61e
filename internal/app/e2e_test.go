package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/deployment-action/deployment-action/internal/app"
	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

const (
	owner    = testkit.Owner
	repoName = testkit.Repo
	testTok  = "ghs_e2eTOKENe2eTOKENe2eTOKEN0123"
)

func newJob(t testing.TB, e *emulator.Emulator, with map[string]string) *actionsim.Job {
	return testkit.NewJob(app.Run, testkit.Action(t), e.URL(), testTok, with)
}

func run(t testing.TB, j *actionsim.Job) *actionsim.Result { t.Helper(); return testkit.Run(t, j) }

// writes lists the content-changing requests the emulator saw, e.g. "POST /repos/o/r/deployments".
func writes(e *emulator.Emulator) []string {
	var out []string
	for _, r := range e.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

var states = testkit.States

func onlyDeployment(t testing.TB, e *emulator.Emulator) emulator.Deployment {
	t.Helper()
	deps := e.Deployments(owner, repoName)
	if len(deps) != 1 {
		t.Fatalf("want 1 deployment, got %d", len(deps))
	}
	return deps[0]
}

func assertNoToken(t testing.TB, res *actionsim.Result) {
	t.Helper()
	var all []string
	// Log is the job log as the runner shows it (stdout and stderr with commands consumed); the
	// raw stdout carries the token only inside the ::add-mask:: command that hides it.
	masked := false
	for _, m := range res.Masks {
		masked = masked || m == testTok
	}
	if !masked {
		t.Error("the token was not registered with ::add-mask::")
	}
	for _, m := range []map[string]string{res.Log, res.Outputs, res.State, res.Env, res.Summaries} {
		for k, v := range m {
			all = append(all, k, v)
		}
	}
	for _, err := range res.StageErrors {
		all = append(all, err.Error())
	}
	if strings.Contains(strings.Join(all, "\n"), testTok) {
		t.Fatal("the token appears in the job's output, state, summary or errors")
	}
}

func TestAutoLifecycle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		local     bool
		failStep  bool
		cancel    bool
		wantState string
		wantJob   string
	}{
		{name: "success", wantState: "success", wantJob: "success"},
		{name: "failing step", failStep: true, wantState: "failure", wantJob: "failure"},
		{name: "cancelled", cancel: true, wantState: "error", wantJob: "cancelled"},
		{name: "local action without pre", local: true, wantState: "success", wantJob: "success"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := emulatortest.Start(t, emulator.Config{})
			j := newJob(t, e, map[string]string{"environment": "staging", "environment-url": "${{ steps.app.outputs.url }}"})
			j.Local = tc.local
			j.StepsAfter = []actionsim.Step{{ID: "app", Run: func(ctx context.Context, s *actionsim.StepRun) error {
				s.SetOutput("url", "https://staging.example.com")
				if tc.cancel {
					s.Cancel()
				}
				if tc.failStep {
					return fmt.Errorf("deploy script failed")
				}
				return nil
			}}}
			res := run(t, j)
			if res.JobStatus != tc.wantJob {
				t.Fatalf("job status %s, want %s (stage errors %v)", res.JobStatus, tc.wantJob, res.StageErrors)
			}
			if len(res.StageErrors) > 0 {
				t.Fatalf("stage errors: %v\n%s", res.StageErrors, res.Stdout)
			}
			d := onlyDeployment(t, e)
			want := []string{"in_progress", tc.wantState}
			if got := states(d); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("statuses %v, want %v", got, want)
			}
			final := d.Statuses[len(d.Statuses)-1]
			if final.EnvironmentURL != "https://staging.example.com" {
				t.Errorf("final environment_url %q: the later step's output must reach post", final.EnvironmentURL)
			}
			wantLog := "https://github.com/octo-org/hello-world/actions/runs/1658821493/job/314"
			if final.LogURL != wantLog || d.Statuses[0].LogURL != wantLog {
				t.Errorf("log urls %q / %q, want the job's page %s", d.Statuses[0].LogURL, final.LogURL, wantLog)
			}
			// Exactly 4 requests: the lock read (404: staging is free), create, initial state,
			// final state. No other look-ups.
			wantReq := []string{"GET /repos/octo-org/hello-world/contents/lock.json", "POST /repos/octo-org/hello-world/deployments",
				fmt.Sprintf("POST /repos/octo-org/hello-world/deployments/%d/statuses", d.ID),
				fmt.Sprintf("POST /repos/octo-org/hello-world/deployments/%d/statuses", d.ID)}
			if got := writes(e); strings.Join(got, "\n") != strings.Join(wantReq, "\n") {
				t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantReq, "\n"))
			}
			if res.Outputs["deployment-id"] != fmt.Sprint(d.ID) || res.Outputs["state"] != "in_progress" || res.Outputs["environment"] != "staging" ||
				res.Outputs["log-url"] != wantLog || res.Outputs["status-id"] == "" || !strings.HasSuffix(res.Outputs["deployment-url"], fmt.Sprintf("/deployments/%d", d.ID)) {
				t.Errorf("outputs %v", res.Outputs)
			}
			if !strings.Contains(res.Summaries["main"], "Deployment to staging") || !strings.Contains(res.Summaries["post"], tc.wantState) {
				t.Errorf("summaries %q", res.Summaries)
			}
			if n := res.AnnotationsAt("notice"); len(n) != 1 || n[0].Stage != "post" || !strings.HasSuffix(n[0].Message, "staging: "+tc.wantState) {
				t.Errorf("want one notice from post with the final state, got %+v", n)
			}
			if d.Ref != "main" || d.Task != "deploy" || d.Environment != "staging" || d.Production || d.Transient {
				t.Errorf("deployment %+v", d)
			}
			assertNoToken(t, res)
		})
	}
}

func TestMatrixLegsAreIndependent(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	envs := []string{"eu", "us", "ap", "staging"}
	var wg sync.WaitGroup
	results := make([]*actionsim.Result, len(envs))
	for i, env := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := newJob(t, e, map[string]string{"environment": "${{ matrix.region }}"})
			j.Contexts.Matrix = map[string]string{"region": env}
			j.Contexts.CheckRunID = fmt.Sprint(1000 + i)
			res, err := j.Run(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = res
		}()
	}
	wg.Wait()
	byEnv := map[string]emulator.Deployment{}
	for _, d := range e.Deployments(owner, repoName) {
		byEnv[d.Environment] = d
	}
	if len(byEnv) != len(envs) || len(e.Requests()) != 4*len(envs) { // lock read, create, two statuses
		t.Fatalf("%d deployments, %d requests for %d legs", len(byEnv), len(e.Requests()), len(envs))
	}
	for i, env := range envs {
		d, res := byEnv[env], results[i]
		if res == nil {
			continue
		}
		if res.Outputs["deployment-id"] != fmt.Sprint(d.ID) {
			t.Errorf("leg %s got deployment %s, its own is %d", env, res.Outputs["deployment-id"], d.ID)
		}
		wantLog := fmt.Sprintf("/job/%d", 1000+i)
		for _, s := range d.Statuses {
			if !strings.HasSuffix(s.LogURL, wantLog) {
				t.Errorf("leg %s status log url %s, want its own job %s", env, s.LogURL, wantLog)
			}
		}
		if got := states(d); strings.Join(got, ",") != "in_progress,success" {
			t.Errorf("leg %s states %v", env, got)
		}
	}
}

func TestGHES(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	j := newJob(t, e, map[string]string{"environment": "qa"})
	j.Env["GITHUB_API_URL"] = e.URL() + "/api/v3"
	j.Env["GITHUB_SERVER_URL"] = "https://ghes.example.com"
	j.Contexts.CheckRunID = "" // GHES has no job.check_run_id
	res := run(t, j)
	if len(res.StageErrors) > 0 {
		t.Fatal(res.StageErrors)
	}
	d := onlyDeployment(t, e)
	want := "https://ghes.example.com/octo-org/hello-world/actions/runs/1658821493/attempts/1"
	if got := d.Statuses[len(d.Statuses)-1].LogURL; got != want {
		t.Errorf("GHES log url %q, want %q", got, want)
	}
	if !strings.Contains(res.Outputs["deployment-url"], "/api/v3/repos/") {
		t.Errorf("deployment-url %q should be the GHES API URL", res.Outputs["deployment-url"])
	}
}

func TestExplicitModes(t *testing.T) {
	t.Parallel()
	t.Run("trigger is three requests", func(t *testing.T) {
		t.Parallel()
		e := emulatortest.Start(t, emulator.Config{})
		res := run(t, newJob(t, e, map[string]string{"mode": "trigger", "environment": "production", "environment-url": "https://example.com"}))
		d := onlyDeployment(t, e)
		// The lock read, the create, the status.
		if got := states(d); strings.Join(got, ",") != "success" || len(e.Requests()) != 3 || !d.Production {
			t.Fatalf("states %v, %d requests, production=%v; errors %v", got, len(e.Requests()), d.Production, res.StageErrors)
		}
		if res.Outputs["state"] != "success" || res.Outputs["environment-url"] != "https://example.com" {
			t.Errorf("outputs %v", res.Outputs)
		}
	})
	t.Run("start then finish in two steps", func(t *testing.T) {
		t.Parallel()
		e := emulatortest.Start(t, emulator.Config{})
		start := run(t, newJob(t, e, map[string]string{"mode": "start", "environment": "dev"}))
		id := start.Outputs["deployment-id"]
		if id == "" || len(start.Ran) == 0 {
			t.Fatalf("start outputs %v errors %v", start.Outputs, start.StageErrors)
		}
		finish := run(t, newJob(t, e, map[string]string{"mode": "finish", "deployment-id": id, "environment-url": "https://dev.example.com"}))
		d := onlyDeployment(t, e)
		if got := states(d); strings.Join(got, ",") != "in_progress,success" || finish.Outputs["state"] != "success" {
			t.Fatalf("states %v outputs %v errors %v", got, finish.Outputs, finish.StageErrors)
		}
		if len(e.Requests()) != 4 {
			t.Errorf("%d requests for start+finish, want 4 (the lock read, create, two statuses)", len(e.Requests()))
		}
	})
	t.Run("status on the event's deployment", func(t *testing.T) {
		t.Parallel()
		e := emulatortest.Start(t, emulator.Config{})
		start := run(t, newJob(t, e, map[string]string{"mode": "start", "environment": "dev"}))
		j := newJob(t, e, map[string]string{"mode": "status", "state": "queued"})
		j.Env["GITHUB_EVENT_NAME"] = "deployment"
		var id int64
		fmt.Sscan(start.Outputs["deployment-id"], &id)
		j.Event = map[string]any{"deployment": map[string]any{"id": id, "ref": "main"}}
		res := run(t, j)
		d := onlyDeployment(t, e)
		if got := states(d); strings.Join(got, ",") != "in_progress,queued" {
			t.Fatalf("states %v errors %v", got, res.StageErrors)
		}
	})
	t.Run("deactivate and delete", func(t *testing.T) {
		t.Parallel()
		e := emulatortest.Start(t, emulator.Config{})
		for i := 0; i < 3; i++ {
			run(t, newJob(t, e, map[string]string{"mode": "trigger", "environment": "pr-7", "transient-environment": "true"}))
		}
		run(t, newJob(t, e, map[string]string{"mode": "trigger", "environment": "keep"}))
		res := run(t, newJob(t, e, map[string]string{"mode": "deactivate", "environment": "pr-7"}))
		for _, d := range e.Deployments(owner, repoName) {
			last := d.Statuses[len(d.Statuses)-1].State
			if (d.Environment == "pr-7") != (last == "inactive") {
				t.Errorf("deployment %d in %s is %s after deactivate", d.ID, d.Environment, last)
			}
		}
		if !strings.Contains(res.Summaries["main"], "| 3 | 3 | 0 | 0 | 0 |") {
			t.Errorf("deactivate summary %q", res.Summaries["main"])
		}
		res = run(t, newJob(t, e, map[string]string{"mode": "delete", "environment": "pr-7"}))
		deps := e.Deployments(owner, repoName)
		if len(deps) != 1 || deps[0].Environment != "keep" || len(res.StageErrors) > 0 {
			t.Fatalf("after delete: %d deployments, errors %v", len(deps), res.StageErrors)
		}
	})
	t.Run("delete whose answers are lost, and an environment already gone", func(t *testing.T) {
		t.Parallel()
		e := emulatortest.Start(t, emulator.Config{})
		for i := 0; i < 3; i++ {
			run(t, newJob(t, e, map[string]string{"mode": "trigger", "environment": "pr-8", "transient-environment": "true"}))
		}
		// Every DELETE is carried out, then its answer is lost: each retry finds the deployment
		// gone (404), which means done; and the environment is already gone before it is deleted.
		e.AddFault(emulator.Fault{Method: "DELETE", PathContains: "/deployments/", Kind: emulator.FaultLostResponse, Times: 3})
		res := run(t, newJob(t, e, map[string]string{"mode": "delete", "environment": "pr-8", "delete-environment": "true"}))
		if res.Failed() || len(e.Deployments(owner, repoName)) != 0 {
			t.Fatalf("errors %v, %d deployments left", res.StageErrors, len(e.Deployments(owner, repoName)))
		}
		if !strings.Contains(res.Summaries["main"], "| 3 | 3 | 0 | 3 | 0 |") {
			t.Errorf("summary %q, want 3 found, 3 made inactive, 3 deleted", res.Summaries["main"])
		}
		res = run(t, newJob(t, e, map[string]string{"mode": "delete", "environment": "pr-8", "delete-environment": "true"}))
		if res.Failed() {
			t.Errorf("a clean-up of an environment already gone failed: %v", res.StageErrors)
		}
	})
}

// TestErrorsNameTheFix checks the messages users get for GitHub's refusals.
func TestErrorsNameTheFix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		with  map[string]string
		cfg   emulator.Config
		setup func(e *emulator.Emulator)
		want  []string
	}{
		{name: "409 required contexts", with: map[string]string{"required-contexts": "*"},
			setup: func(e *emulator.Emulator) {
				e.SetCommitStatus(owner, repoName, emulator.DefaultRepo().Branches["main"], "ci/test", "failure")
			},
			want: []string{"409", "ci/test (failure)", "required-contexts"}},
		{name: "202 auto-merge", with: map[string]string{"ref": "feature-x", "auto-merge": "true"}, want: []string{"202", "auto-merge: false", "no deployment"}},
		{name: "403 permissions", cfg: emulator.Config{Tokens: map[string]emulator.Permissions{testTok: {DeploymentsRead: true}}}, want: []string{"403", "deployments: write"}},
		{name: "404 repository", with: map[string]string{"repository": "octo-org/missing"}, want: []string{"404", "`repository`"}},
		{name: "422 unknown ref", with: map[string]string{"ref": "no-such-branch"}, want: []string{"422", "`ref` input", "no-such-branch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := emulatortest.Start(t, tc.cfg)
			if tc.setup != nil {
				tc.setup(e)
			}
			res := run(t, newJob(t, e, tc.with))
			if res.JobStatus != "failure" {
				t.Fatalf("job status %s, want failure", res.JobStatus)
			}
			errs := res.AnnotationsAt("error")
			if len(errs) == 0 {
				t.Fatalf("no error annotation; stdout %v", res.Stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs[0].Message, w) {
					t.Errorf("error %q does not mention %q", errs[0].Message, w)
				}
			}
			if n := len(e.Deployments(owner, repoName)); n != 0 {
				t.Errorf("%d deployments created", n)
			}
			assertNoToken(t, res)
		})
	}
}

func TestPostFinishesDespiteAnInvalidLateInput(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	j := newJob(t, e, map[string]string{"environment": "qa", "environment-url": "${{ steps.app.outputs.url }}"})
	j.StepsAfter = []actionsim.Step{{ID: "app", Run: func(ctx context.Context, s *actionsim.StepRun) error {
		s.SetOutput("url", "not a url") // a deploy script printed garbage
		return nil
	}}}
	res := run(t, j)
	d := onlyDeployment(t, e)
	if got := states(d); strings.Join(got, ",") != "in_progress,success" {
		t.Fatalf("states %v: post must still finish the deployment (errors %v)", got, res.StageErrors)
	}
	if w := res.AnnotationsAt("warning"); len(w) == 0 || !strings.Contains(w[0].Message, "environment-url") {
		t.Errorf("want a warning naming environment-url, got %v", w)
	}
}
