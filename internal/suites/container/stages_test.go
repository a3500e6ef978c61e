package container

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// TestStages runs the image's pre, main and post exactly as the runner does (one container per
// stage, state carried between them, outputs kept from main only) against the emulator.
func TestStages(t *testing.T) {
	f := built(t)
	scenarios := []struct {
		name       string
		stages     []string // "pre" is absent for a local action (uses: ./)
		local      bool
		step       string // what the user's step between main and post does: "" (succeeds), "fail", "cancel"
		postStatus string // job.status when post runs
		wantFinal  string
	}{
		{name: "success", stages: []string{"pre", "main", "post"}, postStatus: "success", wantFinal: "success"},
		{name: "failure", stages: []string{"pre", "main", "post"}, step: "fail", postStatus: "failure", wantFinal: "failure"},
		// cancelled-state defaults to error (GitHub has no cancelled deployment state).
		{name: "cancelled", stages: []string{"pre", "main", "post"}, step: "cancel", postStatus: "cancelled", wantFinal: "error"},
		// The runner never runs pre for `uses: ./`: main must create the deployment.
		{name: "local-action-without-pre", stages: []string{"main", "post"}, local: true, postStatus: "success", wantFinal: "success"},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			e := emulatortest.Start(t, emulator.Config{})
			j := newJob(t, f, e.URL())
			j.Local = sc.local
			step := sc.step
			j.StepsAfter = []actionsim.Step{{ID: "deploy-app", Run: func(_ context.Context, s *actionsim.StepRun) error {
				switch step {
				case "fail":
					return errors.New("the deploy script failed")
				case "cancel":
					s.Cancel()
				}
				return nil
			}}}
			deployments := func() []emulator.Deployment { return e.Deployments("octo-org", "hello-world") }
			wantLog := j.logURL()
			outputs := map[string]string{} // kept from main only, as the runner does

			j.check = func(stage string, res stageResult) {
				if res.err != nil {
					t.Fatalf("%s failed: %v", stage, res.err)
				}
				if stage == "main" {
					outputs = res.outputs
				}
				ds := deployments()
				switch stage {
				case "pre":
					if len(ds) != 1 {
						t.Fatalf("after pre: %d deployments, want 1", len(ds))
					}
					d := ds[0]
					if d.Environment != "production" || d.Ref != "main" {
						t.Errorf("deployment: environment %q ref %q, want production/main", d.Environment, d.Ref)
					}
					if n := len(d.Statuses); n == 0 || d.Statuses[n-1].State != "in_progress" {
						t.Errorf("after pre: statuses %+v, want the latest in_progress", d.Statuses)
					} else if got := d.Statuses[n-1].LogURL; got != wantLog {
						t.Errorf("in_progress log_url = %q, want %q", got, wantLog)
					}
					if len(res.state) == 0 {
						t.Errorf("pre saved no state: main and post could not find the deployment")
					}
					if len(res.outputs) != 0 {
						t.Logf("note: pre wrote outputs %v; the runner drops them", res.outputs)
					}
				case "main":
					if len(ds) != 1 {
						t.Fatalf("after main: %d deployments, want exactly 1", len(ds))
					}
					d := ds[0]
					n := len(d.Statuses)
					if n == 0 || d.Statuses[n-1].State != "in_progress" {
						t.Fatalf("after main: statuses %+v, want the latest in_progress", d.Statuses)
					}
					id := strconv.FormatInt(d.ID, 10)
					// The API's own URL of the deployment: with a base URL that is not
					// api.github.com the client may use the GHES form (<base>/api/v3/…).
					if got := outputs["deployment-url"]; !strings.HasPrefix(got, e.URL()+"/") ||
						!strings.HasSuffix(got, "/repos/octo-org/hello-world/deployments/"+id) {
						t.Errorf("output deployment-url = %q, want %s[/api/v3]/repos/octo-org/hello-world/deployments/%s", got, e.URL(), id)
					}
					want := map[string]string{
						"deployment-id": id,
						"log-url":       wantLog,
						"status-id":     strconv.FormatInt(d.Statuses[n-1].ID, 10),
						"environment":   "production",
						"state":         "in_progress",
					}
					for k, v := range want {
						if got, ok := outputs[k]; !ok {
							t.Errorf("main did not write output %s", k)
						} else if got != v {
							t.Errorf("output %s = %q, want %q", k, got, v)
						}
					}
				case "post":
					if len(ds) != 1 {
						t.Fatalf("after post: %d deployments, want 1", len(ds))
					}
					d := ds[0]
					n := len(d.Statuses)
					if n == 0 || d.Statuses[n-1].State != sc.wantFinal {
						var states []string
						for _, s := range d.Statuses {
							states = append(states, s.State)
						}
						t.Errorf("after post (job %s): statuses [%s], want the latest %s", sc.postStatus, strings.Join(states, " "), sc.wantFinal)
					} else if got := d.Statuses[n-1].LogURL; got != wantLog {
						t.Errorf("final log_url = %q, want %q", got, wantLog)
					}
				}
			}

			res := j.run()
			if got := strings.Join(res.Ran, ","); got != strings.Join(sc.stages, ",") {
				t.Fatalf("stages that ran: %s, want %s", got, strings.Join(sc.stages, ","))
			}
			if got := res.StageEnv["post"][actionsim.InputEnvName("job-status")]; got != sc.postStatus {
				t.Errorf("post ran with job-status %q, want %q", got, sc.postStatus)
			}
			for k, v := range outputs {
				if res.Outputs[k] != v {
					t.Errorf("the runner kept output %s = %q, main wrote %q", k, res.Outputs[k], v)
				}
			}
			// Every request reached the emulator authenticated and nothing failed server-side.
			for _, r := range e.Requests() {
				if r.Status >= 500 || r.Status == 401 {
					t.Errorf("request %s %s answered %d", r.Method, r.Path, r.Status)
				}
			}
			j.checkNoToken(res)
		})
	}
}
