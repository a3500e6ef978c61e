package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/google/go-github/v62/github"
)

func mustMode(name string) Mode {
	m, ok := LookupMode(name)
	if !ok {
		panic("no mode " + name)
	}
	return m
}

func settings(mode string) *Settings {
	return &Settings{Mode: mustMode(mode), Enabled: true, Environment: "staging", Task: "deploy", InitialState: "in_progress",
		AutoInactive: true, CancelledState: "error", JobStatus: "success", Owner: "o", Repo: "r"}
}

var testRun = Run{ServerURL: "https://github.com", Repository: "o/r", RunID: "77", RunAttempt: "1", CheckRunID: 5}

func stage(t *testing.T, d *Deployer, st mapState, name Stage, s *Settings) *Report {
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
			s := settings("auto")
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
	s := settings("auto")
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
	boom := errors.New("boom")
	f.failOn["status in_progress"] = boom
	d := &Deployer{API: f, Owner: "o", Repo: "r"}
	st := mapState{}
	s := settings("auto")
	_, err := d.Stage(context.Background(), Job{Stage: StagePre, Settings: s, Run: testRun, Ref: "main", State: st})
	var fl *Failure
	if !errors.Is(err, boom) || !errors.As(err, &fl) || fl.Op != ghapi.OpCreateDeploymentStatus {
		t.Fatalf("pre: err = %v (%T), want the status call's error as a Failure of %s", err, err, ghapi.OpCreateDeploymentStatus)
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
func interruptedCreate(t *testing.T, d *Deployer, s *Settings) mapState {
	t.Helper()
	reqID := NewRequestID()
	st := mapState{KeyRequestID: reqID, KeyFinish: "auto", KeyMainRan: "1"}
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
	s := settings("auto")
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
	rep := stage(t, d, mapState{}, StagePost, settings("auto"))
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
		{"trigger", "", []string{"create", "status success"}},
		{"trigger", "failure", []string{"create", "status failure"}},
		{"start", "", []string{"create", "status in_progress"}},
		{"status", "queued", []string{"status queued"}},
		{"finish", "", []string{"status success"}},
	} {
		t.Run(tc.mode+tc.state, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			d := &Deployer{API: f, Owner: "o", Repo: "r"}
			s := settings(tc.mode)
			s.State, s.DeploymentID = tc.state, 42
			for _, name := range []Stage{StagePre, StageMain, StagePost} {
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
	spec.RequiredContexts = RequiredContexts{All: true}
	req = spec.request()
	if req.Payload != "plain text" || req.RequiredContexts != nil {
		t.Errorf("string payload / all contexts: payload=%v contexts=%v", req.Payload, req.RequiredContexts)
	}
	spec.RequiredContexts = RequiredContexts{List: []string{"ci/build"}}
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

// lateCommitAPI hides the first create from the first listings, as GitHub may when a request was
// cut off mid-flight and is still being processed.
type lateCommitAPI struct {
	*fakeAPI
	hidden int
}

func (l *lateCommitAPI) FindDeployments(ctx context.Context, o, r string, opts *github.DeploymentsListOptions, since time.Time) ([]*github.Deployment, error) {
	if l.hidden > 0 {
		l.hidden--
		return nil, nil
	}
	return l.fakeAPI.FindDeployments(ctx, o, r, opts, since)
}

func TestPostWaitsForALateCommittedCreate(t *testing.T) {
	t.Parallel()
	f := newFake()
	api := &lateCommitAPI{fakeAPI: f, hidden: 2}
	var slept []time.Duration // the injected sleep: the pauses post takes, in no real time
	d := &Deployer{API: api, Owner: "o", Repo: "r", RecoverWaits: []time.Duration{0, time.Second, 2 * time.Second},
		Sleep: func(ctx context.Context, dur time.Duration) error { slept = append(slept, dur); return ctx.Err() }}
	s := settings("auto")
	st := interruptedCreate(t, d, s)
	slept = nil
	rep := stage(t, d, st, StagePost, s)
	if !rep.Recovered || rep.State != "success" {
		t.Fatalf("post gave up before the create showed up: %+v", rep)
	}
	if want := []time.Duration{0, time.Second, 2 * time.Second}; !slices.Equal(slept, want) {
		t.Errorf("post paused %v before its look-ups, want %v (the third look finds it)", slept, want)
	}
	d.RecoverWaits = []time.Duration{0, time.Second}
	api.hidden = 5
	slept = nil
	rep = stage(t, d, mapState{KeyRequestID: "never-created", KeyFinish: "auto"}, StagePost, s)
	if rep.Skipped == "" || !slices.Equal(slept, []time.Duration{0, time.Second}) {
		t.Errorf("a create that never happened must be reported as skipped after every pause: %+v, paused %v", rep, slept)
	}
}

// TestRefusedCreateLeavesPostNothingToLookFor: a create GitHub answered with a refusal made no
// deployment, so post does not spend seconds looking for one; an unknown outcome (here a
// transport failure) keeps the request id for post's look-up.
func TestRefusedCreateLeavesPostNothingToLookFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		err     error
		input   string // the input the failure names
		keepsID bool
	}{
		{"422", &ghapi.APIError{Status: 422, Message: "No ref found for: nope"}, "ref", false},
		{"403", &ghapi.APIError{Status: 403, Message: "Resource not accessible by integration"}, "token", false},
		{"lost", &ghapi.RetryError{Op: ghapi.OpCreateDeployment, Attempts: 3, Err: errors.New("connection reset")}, "", true},
	} {
		f := newFake()
		f.failOn["create"] = tc.err
		d := &Deployer{API: f, Owner: "o", Repo: "r"}
		st := mapState{}
		_, err := d.Stage(context.Background(), Job{Stage: StagePre, Settings: settings("auto"), Run: testRun, Ref: "main", State: st})
		var fl *Failure
		if !errors.Is(err, tc.err) || !errors.As(err, &fl) || fl.Op != ghapi.OpCreateDeployment || fl.Input != tc.input || fl.Value != "main" {
			t.Fatalf("%s: pre err = %v (%T %+v), want the create's error as a Failure of create deployment naming %q = main", tc.name, err, err, fl, tc.input)
		}
		if kept := st[KeyRequestID] != "" && st[KeyFinish] != ""; kept != tc.keepsID {
			t.Errorf("%s: state %v, want the request id kept: %v", tc.name, st, tc.keepsID)
		}
	}
}

// A pre killed mid-create with a string payload (which carries no request id): post finishes
// the one deployment with that payload and no status, not the twin another job already reports
// on; with two such deployments it cannot tell and leaves both, saying so.
func TestPostRecoversInterruptedStringPayloadCreate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		unclaimedTwin bool
		recovered     bool
	}{{"beside another job's reported twin", false, true}, {"beside an unreported twin", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFake()
			d := &Deployer{API: f, Owner: "o", Repo: "r"}
			s := settings("auto")
			s.Payload = "deploy-v1"
			spec := CreateSpec{Ref: "main", Task: "deploy", Environment: "staging", Payload: "deploy-v1"}
			other, err := d.Create(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.SetStatus(ctx, other.GetID(), StatusSpec{State: "in_progress", LogURL: "https://github.com/o/r/actions/runs/76/job/1"}); err != nil {
				t.Fatal(err)
			}
			if tc.unclaimedTwin {
				if _, err := d.Create(ctx, spec); err != nil {
					t.Fatal(err)
				}
			}
			j := Job{Stage: StagePre, Settings: s, Run: testRun, Ref: "main"}
			id, _ := json.Marshal(j.identity())
			st := mapState{KeyRequestID: NewRequestID(), KeyFinish: "auto", KeyMainRan: "1", KeyInputs: string(id)}
			ours, err := d.Create(ctx, j.createSpec(st[KeyRequestID]))
			if err != nil {
				t.Fatal(err)
			}
			s.JobStatus = "success"
			rep := stage(t, d, st, StagePost, s)
			if rep.Recovered != tc.recovered {
				t.Fatalf("recovered = %v, want %v (report %+v)", rep.Recovered, tc.recovered, rep)
			}
			if !tc.recovered {
				if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "left as it is") {
					t.Fatalf("warnings %q", rep.Warnings)
				}
				return
			}
			if rep.DeploymentID != ours.GetID() || rep.State != "success" {
				t.Fatalf("post finished %d as %q, want ours (%d) success", rep.DeploymentID, rep.State, ours.GetID())
			}
			if got := f.statuses[other.GetID()]; len(got) != 1 {
				t.Errorf("the other job's deployment got %d statuses, want its own 1", len(got))
			}
		})
	}
}
