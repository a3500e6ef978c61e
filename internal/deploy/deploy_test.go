package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/config"
	"github.com/deployment-action/deployment-action/internal/ghapi"
)

func settings(mode string) *config.Settings {
	return &config.Settings{Mode: mode, Environment: "staging", Task: "deploy", InitialState: "in_progress",
		AutoInactive: true, CancelledState: "error", JobStatus: "success", Owner: "o", Repo: "r"}
}

var testRun = Run{ServerURL: "https://github.com", Repository: "o/r", RunID: "77", RunAttempt: "1", CheckRunID: 5}

func stage(t *testing.T, d *Deployer, st mapState, name string, s *config.Settings) *Report {
	t.Helper()
	rep, err := d.Stage(context.Background(), Job{Stage: name, Settings: s, Run: testRun, Ref: "main", State: st})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rep
}

func TestAutoLifecycleIsThreeRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ job, want string }{{"success", "success"}, {"failure", "failure"}, {"cancelled", "error"}} {
		t.Run(tc.job, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			d := &Deployer{API: f, Owner: "o", Repo: "r"}
			st := mapState{}
			s := settings(config.ModeAuto)
			stage(t, d, st, StagePre, s)
			main := stage(t, d, st, StageMain, s)
			if main.DeploymentID == 0 || main.State != "in_progress" || main.LogURL != "https://github.com/o/r/actions/runs/77/job/5" {
				t.Errorf("main report = %+v", main)
			}
			post := *s
			post.JobStatus = tc.job
			post.EnvironmentURL = "https://staging.example.com" // from a later step, re-read in post
			rep := stage(t, d, st, StagePost, &post)
			want := []string{"create", "status in_progress", "status " + tc.want}
			if got := f.Calls(); !reflect.DeepEqual(got, want) {
				t.Fatalf("calls = %q, want %q", got, want)
			}
			last := f.statuses[rep.DeploymentID]
			if got := last[len(last)-1].GetEnvironmentURL(); got != "https://staging.example.com" {
				t.Errorf("final status environment_url = %q", got)
			}
		})
	}
}

func TestLocalActionMainCreates(t *testing.T) {
	t.Parallel()
	f := newFake()
	d := &Deployer{API: f, Owner: "o", Repo: "r"}
	st := mapState{}
	s := settings(config.ModeAuto)
	s.EnvironmentURL = "https://pr-1.example.com"
	main := stage(t, d, st, StageMain, s) // no pre: a `uses: ./` action
	if !main.CreatedHere || main.State != "in_progress" {
		t.Fatalf("main did not create: %+v", main)
	}
	post := *s
	post.EnvironmentURL = "" // not given in post: the one set earlier is carried, never cleared
	stage(t, d, st, StagePost, &post)
	sts := f.statuses[main.DeploymentID]
	if got := sts[len(sts)-1]; got.GetState() != "success" || got.GetEnvironmentURL() != "https://pr-1.example.com" {
		t.Errorf("final status = %s %q", got.GetState(), got.GetEnvironmentURL())
	}
}

func TestFailedInitialStatusIsRepairedAndFinished(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.failOn["status in_progress"] = errors.New("boom")
	d := &Deployer{API: f, Owner: "o", Repo: "r"}
	st := mapState{}
	s := settings(config.ModeAuto)
	if _, err := d.Stage(context.Background(), Job{Stage: StagePre, Settings: s, Run: testRun, Ref: "main", State: st}); err == nil {
		t.Fatal("pre: want the status error reported")
	}
	if st[KeyDeploymentID] == "" {
		t.Fatal("pre did not save the deployment id before the status call")
	}
	delete(f.failOn, "status in_progress")
	stage(t, d, st, StageMain, s)
	stage(t, d, st, StagePost, s)
	want := []string{"create", "status in_progress", "status in_progress", "status success"}
	if got := f.Calls(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls = %q, want %q", got, want)
	}
}

// interruptedCreate makes the state a stage leaves when its create reached GitHub but the stage
// died before saving the deployment's id: only the request id is known.
func interruptedCreate(t *testing.T, d *Deployer, s *config.Settings) mapState {
	t.Helper()
	reqID := NewRequestID()
	st := mapState{KeyRequestID: reqID}
	j := Job{Stage: StagePre, Settings: s, Run: testRun, Ref: "main", State: st}
	if _, err := d.Create(context.Background(), j.createSpec(reqID)); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPostRecoversInterruptedCreate(t *testing.T) {
	t.Parallel()
	f := newFake()
	d := &Deployer{API: f, Owner: "o", Repo: "r"}
	s := settings(config.ModeAuto)
	st := interruptedCreate(t, d, s)
	s.JobStatus = "cancelled"
	rep := stage(t, d, st, StagePost, s)
	if !rep.Recovered || rep.State != "error" {
		t.Fatalf("post report = %+v", rep)
	}
}

func TestPostWithoutDeploymentDoesNothing(t *testing.T) {
	t.Parallel()
	f := newFake()
	d := &Deployer{API: f, Owner: "o", Repo: "r"}
	rep := stage(t, d, mapState{}, StagePost, settings(config.ModeAuto))
	if rep.Skipped == "" || len(f.Calls()) != 0 {
		t.Fatalf("post made calls %q (skipped=%q)", f.Calls(), rep.Skipped)
	}
}

func TestModesRequestCounts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode, state string
		want        []string
	}{
		{config.ModeTrigger, "", []string{"create", "status success"}},
		{config.ModeTrigger, "failure", []string{"create", "status failure"}},
		{config.ModeStart, "", []string{"create", "status in_progress"}},
		{config.ModeStatus, "queued", []string{"status queued"}},
		{config.ModeFinish, "", []string{"status success"}},
	} {
		t.Run(tc.mode+tc.state, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			d := &Deployer{API: f, Owner: "o", Repo: "r"}
			s := settings(tc.mode)
			s.State, s.DeploymentID = tc.state, 42
			for _, name := range []string{StagePre, StageMain, StagePost} {
				stage(t, d, mapState{}, name, s)
			}
			if got := f.Calls(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("calls = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCreateRequestBody(t *testing.T) {
	t.Parallel()
	spec := CreateSpec{Ref: "main", Task: "deploy", Environment: "prod", Payload: map[string]any{"region": "eu"}, RequestID: "abc", Run: testRun}
	req := spec.request()
	if req.RequiredContexts == nil || len(*req.RequiredContexts) != 0 {
		t.Errorf("default required_contexts = %v, want [] (check none)", req.RequiredContexts)
	}
	if req.GetAutoMerge() {
		t.Error("auto_merge must default to false")
	}
	b, _ := json.Marshal(req.Payload)
	if !strings.Contains(string(b), `"region":"eu"`) || !strings.Contains(string(b), `"request_id":"abc"`) {
		t.Errorf("payload = %s", b)
	}
	if _, ok := spec.Payload.(map[string]any)[PayloadKey]; ok {
		t.Error("request() changed the caller's payload map")
	}
	spec.Payload = "plain text"
	spec.RequiredContexts = config.RequiredContexts{All: true}
	req = spec.request()
	if req.Payload != "plain text" || req.RequiredContexts != nil {
		t.Errorf("string payload / all contexts: payload=%v contexts=%v", req.Payload, req.RequiredContexts)
	}
	spec.RequiredContexts = config.RequiredContexts{List: []string{"ci/build"}}
	if got := *spec.request().RequiredContexts; !reflect.DeepEqual(got, []string{"ci/build"}) {
		t.Errorf("listed contexts = %v", got)
	}
}

func TestLogURL(t *testing.T) {
	t.Parallel()
	ghes := Run{ServerURL: "https://ghes.example.com/", Repository: "o/r", RunID: "9", RunAttempt: "2"}
	if got := ghes.LogURL(); got != "https://ghes.example.com/o/r/actions/runs/9/attempts/2" {
		t.Errorf("GHES log url = %q", got)
	}
	if got := (Run{}).LogURL(); got != "" {
		t.Errorf("outside Actions log url = %q", got)
	}
	if !ghes.Rerun() || testRun.Rerun() {
		t.Error("Rerun() wrong")
	}
}

func TestCleanupAllPagesSkipsInactive(t *testing.T) {
	t.Parallel()
	for _, del := range []bool{false, true} {
		f := newFake()
		d := &Deployer{API: f, Owner: "o", Repo: "r", Concurrency: 3}
		for i := 0; i < 250; i++ {
			dep, _ := f.CreateDeployment(context.Background(), "o", "r", &github.DeploymentRequest{Environment: github.String("pr-1"), Ref: github.String("x")})
			if i%5 == 0 {
				_, _ = f.CreateDeploymentStatus(context.Background(), "o", "r", dep.GetID(), &github.DeploymentStatusRequest{State: github.String("inactive")})
			}
		}
		_, _ = f.CreateDeployment(context.Background(), "o", "r", &github.DeploymentRequest{Environment: github.String("other"), Ref: github.String("x")})
		f.calls = nil
		rep, err := d.Cleanup(context.Background(), CleanupSpec{Environment: "pr-1", Delete: del})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Found != 250 || rep.Deactivated != 200 || rep.AlreadyInactive != 50 {
			t.Errorf("report = %+v", rep)
		}
		counts := map[string]int{}
		for _, c := range f.Calls() {
			if strings.HasPrefix(c, "delete ") {
				c = "delete"
			}
			counts[c]++
		}
		if counts["list page=1"] != 1 || counts["list page=2"] != 1 || counts["list page=3"] != 1 || counts["status inactive"] != 200 || counts["statuses"] != 250 {
			t.Errorf("calls = %v", counts)
		}
		if del && (rep.Deleted != 250 || counts["delete"] != 250) {
			t.Errorf("deleted = %d", rep.Deleted)
		}
	}
}

func TestExplainNamesTheFix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		o    op
		want string
	}{
		{&ghapi.AutoMergedError{Message: "Auto-merged main into x"}, opCreate, "auto-merge: false"},
		{&ghapi.APIError{Status: 409, Message: "Conflict: Commit status checks failed for main.", Errors: []ghapi.FieldError{{Contexts: []ghapi.ContextState{{Context: "ci/test", State: "failure"}}}}}, opCreate, "ci/test (failure)"},
		{&ghapi.APIError{Status: 403, Message: "Resource not accessible by integration"}, opCreate, "deployments: write"},
		{&ghapi.APIError{Status: 403, Message: "Resource not accessible by integration"}, opDeleteEnv, "Administration: write"},
		{&ghapi.APIError{Status: 404, Message: "Not Found"}, opStatus, "deployment-id"},
		{&ghapi.APIError{Status: 404, Message: "Not Found"}, opCreate, "`repository`"},
		{&ghapi.APIError{Status: 422, Message: "No ref found for: nope"}, opCreate, "`ref` input"},
		{&ghapi.RateLimitError{Secondary: true, Reset: time.Date(2026, 1, 1, 10, 0, 5, 0, time.UTC), Err: &ghapi.APIError{Status: 403, Message: "You have exceeded a secondary rate limit"}}, opCreate, "secondary rate limit"},
		{&ghapi.RateLimitError{Reset: time.Date(2026, 1, 1, 10, 0, 5, 0, time.UTC), Err: &ghapi.APIError{Status: 403}}, opStatus, "10:00:05 UTC"},
	}
	for _, c := range cases {
		got := explain(c.err, c.o, "nope", "").Error()
		if !strings.Contains(got, c.want) {
			t.Errorf("explain(%v) = %q, want it to mention %q", c.err, got, c.want)
		}
	}
}

// lateCommitAPI hides the first create from the first listings, as GitHub may when a request was
// cut off mid-flight and is still being processed.
type lateCommitAPI struct {
	*fakeAPI
	hidden int
}

func (l *lateCommitAPI) ListDeployments(ctx context.Context, o, r string, opts *github.DeploymentsListOptions) ([]*github.Deployment, ghapi.Page, error) {
	if l.hidden > 0 {
		l.hidden--
		return nil, ghapi.Page{}, nil
	}
	return l.fakeAPI.ListDeployments(ctx, o, r, opts)
}

func TestPostWaitsForALateCommittedCreate(t *testing.T) {
	t.Parallel()
	f := newFake()
	api := &lateCommitAPI{fakeAPI: f, hidden: 2}
	d := &Deployer{API: api, Owner: "o", Repo: "r", RecoverWaits: []time.Duration{0, time.Millisecond, time.Millisecond}}
	s := settings(config.ModeAuto)
	st := interruptedCreate(t, d, s)
	rep := stage(t, d, st, StagePost, s)
	if !rep.Recovered || rep.State != "success" {
		t.Fatalf("post gave up before the create showed up: %+v", rep)
	}
	d.RecoverWaits = []time.Duration{0, time.Millisecond}
	api.hidden = 5
	rep = stage(t, d, mapState{KeyRequestID: "never-created"}, StagePost, s)
	if rep.Skipped == "" {
		t.Errorf("a create that never happened must be reported as skipped: %+v", rep)
	}
}
