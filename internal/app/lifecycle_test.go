package app_test

// The lifecycle under the runner's real rules: pre runs at job start, ignores the step's if:, and
// sees every steps.* value empty. Each test runs a whole job through the runner simulation with
// the real entry point against the emulator.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// stepSetting is an earlier step that sets outputs (it runs after pre, before main).
func stepSetting(id string, outputs map[string]string) actionsim.Step {
	return actionsim.Step{ID: id, Run: func(_ context.Context, s *actionsim.StepRun) error {
		for k, v := range outputs {
			s.SetOutput(k, v)
		}
		return nil
	}}
}

// rawGET reads a resource from the emulator over HTTP, keeping numbers as GitHub sent them.
func rawGET(t *testing.T, e *emulator.Emulator, path string, v any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+testTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func warnings(res *actionsim.Result) string {
	var out []string
	for _, a := range res.AnnotationsAt("warning") {
		out = append(out, a.Stage+": "+a.Message)
	}
	return strings.Join(out, "\n")
}

func creates(e *emulator.Emulator) int {
	n := 0
	for _, r := range e.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/deployments") {
			n++
		}
	}
	return n
}

// TestTokenFromAnEarlierStep is recipe 4 (docs/recipes.md): the token comes from
// actions/create-github-app-token's output, empty at job start. Pre leaves the create to main
// instead of failing the job at set-up; main creates with the app's token, post finishes it.
func TestTokenFromAnEarlierStep(t *testing.T) {
	t.Parallel()
	const appTok = "ghs_APPtokenAPPtokenAPPtoken000001"
	e := emulatortest.Start(t, emulator.Config{Tokens: map[string]emulator.Permissions{
		appTok:  {DeploymentsWrite: true},
		testTok: {DeploymentsRead: true}, // the job's GITHUB_TOKEN: cannot create deployments
	}})
	j := newJob(t, e, map[string]string{"token": "${{ steps.app.outputs.token }}", "environment": "staging"})
	j.StepsBefore = []actionsim.Step{stepSetting("app", map[string]string{"token": appTok})}
	res := run(t, j)
	if res.Failed() {
		t.Fatalf("stage errors: %v\n%s", res.StageErrors, res.Log)
	}
	d := onlyDeployment(t, e)
	if got := strings.Join(states(d), ","); got != "in_progress,success" || d.Environment != "staging" {
		t.Fatalf("deployment to %s with %s, want staging in_progress,success", d.Environment, got)
	}
	if res.Outputs["deployment-id"] == "" {
		t.Error("main wrote no deployment-id output")
	}
	if !strings.Contains(res.Summaries["main"], "token") {
		t.Errorf("the summary does not say why this step created the deployment:\n%s", res.Summaries["main"])
	}
	for _, st := range []string{"pre", "main", "post"} {
		if strings.Contains(res.Log[st], appTok) {
			t.Fatalf("%s printed the app token", st)
		}
	}
}

// TestStepIfSkipLeavesNothingThatClaims: pre ignores the step's if:, so it creates the deployment
// at job start; when the step is then skipped in a job that succeeds, post removes it (nothing
// claims success for a deploy that did not happen) and says why, once.
func TestStepIfSkipLeavesNothingThatClaims(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	j := newJob(t, e, map[string]string{"environment": "production"})
	j.MainIf = "github.ref == 'refs/heads/release'" // a PR run: false
	res := run(t, j)
	if res.Failed() || res.JobStatus != "success" {
		t.Fatalf("job %s, errors %v", res.JobStatus, res.StageErrors)
	}
	if res.Steps["deploy"].Outcome != "skipped" {
		t.Fatalf("main outcome %q, want skipped", res.Steps["deploy"].Outcome)
	}
	if n := creates(e); n != 1 {
		t.Fatalf("%d creates, want 1 (pre's)", n)
	}
	if deps := e.Deployments(owner, repoName); len(deps) != 0 {
		t.Fatalf("%d deployments left (%v), want none", len(deps), states(deps[0]))
	}
	w := warnings(res)
	if strings.Count(w, "skipped by its if:") != 1 || !strings.Contains(w, "jobs.<id>.if") || !strings.Contains(w, "enabled") {
		t.Errorf("want one warning explaining job-level if: and enabled, got:\n%s", w)
	}
	// A job that failed before the step: the step did not run because of the failure, not its
	// if:, and the deployment is a failed deploy.
	e2 := emulatortest.Start(t, emulator.Config{})
	j2 := newJob(t, e2, map[string]string{"environment": "production"})
	j2.StepsBefore = []actionsim.Step{{ID: "build", Run: func(context.Context, *actionsim.StepRun) error { return context.Canceled }}}
	res2 := run(t, j2)
	if got := strings.Join(states(onlyDeployment(t, e2)), ","); res2.JobStatus != "failure" || got != "in_progress,failure" {
		t.Errorf("failed job: status %s, states %s; want failure and in_progress,failure", res2.JobStatus, got)
	}
}

// TestEnabledIsEvaluatedAtJobStart: enabled: false stops every stage, pre included; no request.
func TestEnabledIsEvaluatedAtJobStart(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	res := run(t, newJob(t, e, map[string]string{"environment": "production", "enabled": "${{ github.ref == 'refs/heads/release' }}"}))
	if res.Failed() {
		t.Fatalf("errors %v", res.StageErrors)
	}
	if n := len(e.Requests()); n != 0 {
		t.Fatalf("%d requests, want none: %v", n, writes(e))
	}
	if len(res.Outputs) != 0 {
		t.Errorf("outputs %v, want none", res.Outputs)
	}
}

// TestValuesFromEarlierSteps: inputs whose values come from an earlier step are empty at job
// start. environment and mode make pre wait for main; a value that only differs at main makes
// main replace pre's deployment (warning naming the input). Never a production deployment behind
// the user's back, never a deployment left in progress.
func TestValuesFromEarlierSteps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		with    map[string]string
		outputs map[string]string
		check   func(t *testing.T, e *emulator.Emulator, res *actionsim.Result)
	}{
		{
			name:    "environment",
			with:    map[string]string{"environment": "${{ steps.x.outputs.env }}"},
			outputs: map[string]string{"env": "pr-7"},
			check: func(t *testing.T, e *emulator.Emulator, res *actionsim.Result) {
				d := onlyDeployment(t, e)
				if d.Environment != "pr-7" || strings.Join(states(d), ",") != "in_progress,success" {
					t.Errorf("deployment to %s with %v, want pr-7 in_progress,success", d.Environment, states(d))
				}
				if creates(e) != 1 {
					t.Errorf("%d creates, want 1 (main's)", creates(e))
				}
			},
		},
		{
			name:    "mode",
			with:    map[string]string{"environment": "staging", "mode": "${{ steps.x.outputs.mode }}"},
			outputs: map[string]string{"mode": "trigger"},
			check: func(t *testing.T, e *emulator.Emulator, res *actionsim.Result) {
				d := onlyDeployment(t, e)
				if got := strings.Join(states(d), ","); got != "success" {
					t.Errorf("states %s, want success (trigger, made by main only)", got)
				}
			},
		},
		{
			name:    "mode with a fallback known at job start",
			with:    map[string]string{"environment": "staging", "mode": "${{ steps.x.outputs.mode || 'auto' }}"},
			outputs: map[string]string{"mode": "trigger"},
			check: func(t *testing.T, e *emulator.Emulator, res *actionsim.Result) {
				d := onlyDeployment(t, e) // pre's auto deployment is gone
				if got := strings.Join(states(d), ","); got != "success" {
					t.Errorf("states %s, want success", got)
				}
				if !strings.Contains(warnings(res), "`mode`") {
					t.Errorf("no warning naming mode:\n%s", warnings(res))
				}
			},
		},
		{
			name:    "payload",
			with:    map[string]string{"environment": "staging", "payload": "${{ steps.x.outputs.payload }}"},
			outputs: map[string]string{"payload": `{"build": 42, "big": 12345678901234567890}`},
			check: func(t *testing.T, e *emulator.Emulator, res *actionsim.Result) {
				d := onlyDeployment(t, e)
				var got struct{ Payload map[string]json.RawMessage }
				rawGET(t, e, fmt.Sprintf("/repos/%s/%s/deployments/%d", owner, repoName, d.ID), &got)
				if p := got.Payload; string(p["build"]) != "42" || string(p["big"]) != "12345678901234567890" {
					t.Errorf("payload %v, want build 42 and the big number exact", p)
				}
				if got := strings.Join(states(d), ","); got != "in_progress,success" {
					t.Errorf("states %s", got)
				}
				if w := warnings(res); !strings.Contains(w, "`payload`") || !strings.Contains(w, "removed") {
					t.Errorf("want a warning naming payload:\n%s", w)
				}
			},
		},
		{
			name:    "ref",
			with:    map[string]string{"environment": "staging", "ref": "${{ steps.x.outputs.sha }}"},
			outputs: map[string]string{"sha": emulator.DefaultRepo().Tags["v1.0.0"]},
			check: func(t *testing.T, e *emulator.Emulator, res *actionsim.Result) {
				d := onlyDeployment(t, e)
				if d.SHA != emulator.DefaultRepo().Tags["v1.0.0"] {
					t.Errorf("deployed %s, want the step's sha", d.SHA)
				}
				if !strings.Contains(warnings(res), "`ref`") {
					t.Errorf("no warning naming ref:\n%s", warnings(res))
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := emulatortest.Start(t, emulator.Config{})
			j := newJob(t, e, tc.with)
			j.StepsBefore = []actionsim.Step{stepSetting("x", tc.outputs)}
			res := run(t, j)
			if res.Failed() {
				t.Fatalf("stage errors %v\n%s", res.StageErrors, res.Log)
			}
			for _, d := range e.Deployments(owner, repoName) {
				if d.Environment == "production" {
					t.Errorf("a production deployment was made: %+v", d)
				}
				if st := states(d); len(st) == 0 || st[len(st)-1] == "in_progress" {
					t.Errorf("deployment %d left %v", d.ID, st)
				}
			}
			tc.check(t, e, res)
			assertNoToken(t, res)
		})
	}
}

// TestPostNamesTheDeploymentItLeaves: when post cannot finish (here GitHub refuses every final
// status), its error says which deployment is left in which state, and how to finish it.
func TestPostNamesTheDeploymentItLeaves(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	j := newJob(t, e, map[string]string{"environment": "staging"})
	j.StepsAfter = []actionsim.Step{{ID: "app", Run: func(context.Context, *actionsim.StepRun) error {
		e.AddFault(emulator.Fault{Method: "POST", PathContains: "/statuses", Kind: emulator.FaultStatus, Status: 422, Times: 1 << 30})
		return nil
	}}}
	res := run(t, j)
	d := onlyDeployment(t, e)
	err := res.StageErrors["post"]
	want := fmt.Sprintf("deployment %d to staging is left in_progress", d.ID)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "`mode: status`") {
		t.Fatalf("post error %v, want it to say %q and how to finish it", err, want)
	}
}
