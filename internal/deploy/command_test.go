package deploy

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body                  string
		addressed, understood bool
		env                   string
	}{
		{"/deploy", true, true, ""},
		{"/deploy staging", true, true, "staging"},
		{"/deploy to staging", true, true, "staging"},
		{"/DEPLOY TO Production", true, true, "Production"},
		{"  /deploy \t  staging  ", true, true, "staging"},
		{"\n\n /deploy staging\r\nmore text\n/deploy production", true, true, "staging"},
		{"/deploy\u00a0staging", true, true, "staging"}, // a no-break space is whitespace too
		{"/deploy to", true, false, ""},
		{"/deploy staging now", true, false, ""},
		{"/deploy to staging please", true, false, ""},
		{"/deploystaging", false, false, ""},
		{"/deployment", false, false, ""},
		{"please /deploy staging", false, false, ""},
		{"> /deploy staging", false, false, ""},
		{"`/deploy staging`", false, false, ""},
		{"", false, false, ""},
		{"LGTM\n/deploy staging", false, false, ""},
	} {
		got := ParseCommand(tc.body, "/deploy")
		if got.Addressed != tc.addressed || got.Understood != tc.understood || got.Environment != tc.env {
			t.Errorf("%q: %+v, want addressed %v understood %v environment %q", tc.body, got, tc.addressed, tc.understood, tc.env)
		}
	}
	if l := ParseCommand("/Ship to eu", "/ship"); !l.Understood || l.Environment != "eu" {
		t.Errorf("another command word: %+v", l)
	}
}

func TestEffectiveRole(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    ghapi.Permission
		want string
	}{
		{ghapi.Permission{Permission: "write", RoleName: "maintain"}, "maintain"},
		{ghapi.Permission{Permission: "read", RoleName: "triage"}, "triage"},
		{ghapi.Permission{Permission: "write", RoleName: "deployer"}, "write"}, // a custom role: its base level
		{ghapi.Permission{Permission: "admin"}, "admin"},                       // no role_name (older GitHub)
		{ghapi.Permission{Permission: "none", RoleName: "none"}, "none"},
		{ghapi.Permission{}, "none"},
	} {
		if got := EffectiveRole(tc.p); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.p, got, tc.want)
		}
	}
	if !(roleRank("read") < roleRank("triage") && roleRank("triage") < roleRank("write") && roleRank("write") < roleRank("maintain") &&
		roleRank("maintain") < roleRank("admin") && roleRank("none") == 0) {
		t.Error("roles are not ordered read < triage < write < maintain < admin")
	}
}

func commandSettings() *Settings {
	s := settings("command")
	s.Environment = ""
	s.Command, s.Environments, s.AllowedPermission = "/deploy", []string{"staging", "production"}, "write"
	s.ChecksTimeout = time.Minute
	return s
}

func commandFake() *fakeAPI {
	f := newFake()
	f.kit.perms = map[string]ghapi.Permission{"alice": {Permission: "write", RoleName: "write"}}
	f.kit.pr = &github.PullRequest{State: github.String("open"), Head: &github.PullRequestBranch{Ref: github.String("feature-x"), SHA: github.String("abc1234def"),
		Repo: &github.Repository{FullName: github.String("o/r")}}}
	// CI has reported on the head: zero checks would be refused.
	f.kit.looks = []checksFixture{{statuses: []*github.RepoStatus{{Context: github.String("ci"), State: github.String("success")}}}}
	return f
}

func commentEvent(body string) *CommentEvent {
	return &CommentEvent{Event: "issue_comment", Action: "created", Number: 7, PullRequest: true, CommentID: 42, Body: body, Author: "alice",
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func runCommand(t *testing.T, d *Deployer, st mapState, stg Stage, s *Settings, ev *CommentEvent, run Run) (*Report, error) {
	t.Helper()
	return d.Stage(context.Background(), Job{Stage: stg, Settings: s, Run: run, State: st, Comment: ev})
}

// TestCommandDeletedFork: a fork that was deleted (head.repo null) is a fork: refused without
// allow-forks. (The emulator's pull request answers match GitHub's here, which its OpenAPI
// description does not allow, so this case is a unit test.)
func TestCommandDeletedFork(t *testing.T) {
	t.Parallel()
	f := commandFake()
	f.kit.pr.Head.Repo = nil
	d := &Deployer{API: f, Owner: "o", Repo: "r"}
	_, err := runCommand(t, d, mapState{}, StagePre, commandSettings(), commentEvent("/deploy"), testRun)
	var ref *Refusal
	if !errors.As(err, &ref) || ref.Reason != RefuseFork || ref.HeadRepo != "" {
		t.Fatalf("err %v, want a fork refusal", err)
	}
	// The policy is read (404: no file) before the pull request.
	want := []string{"react 42 eyes", "permission alice", "file .github/deployments.yml", "get pr 7", "comment 7"}
	if got := f.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	if !strings.Contains(f.kit.comments[0].GetBody(), "deleted") {
		t.Errorf("reply %q", f.kit.comments[0].GetBody())
	}
	s := commandSettings()
	s.AllowForks = true
	f2 := commandFake()
	f2.kit.pr.Head.Repo = nil
	if _, err := runCommand(t, &Deployer{API: f2, Owner: "o", Repo: "r"}, mapState{}, StagePre, s, commentEvent("/deploy"), testRun); err != nil {
		t.Fatalf("with allow-forks: %v", err)
	}
}

// TestCommandStagesShareTheWork: pre handles the command; main reports it without a request;
// post finishes it and edits the one comment; a comment that cannot be written is a warning.
func TestCommandStagesShareTheWork(t *testing.T) {
	t.Parallel()
	f := commandFake()
	d := &Deployer{API: f, Owner: "o", Repo: "r"}
	st := mapState{}
	s := commandSettings()
	ev := commentEvent("/deploy production")
	pre, err := runCommand(t, d, st, StagePre, s, ev, testRun)
	if err != nil {
		t.Fatal(err)
	}
	if pre.Environment != "production" || pre.State != "in_progress" || pre.Command.ResultID == 0 {
		t.Fatalf("pre %+v", pre)
	}
	n := len(f.Calls())
	main, err := runCommand(t, d, st, StageMain, s, ev, testRun)
	if err != nil || len(f.Calls()) != n {
		t.Fatalf("main: %v; calls %q", err, f.Calls()[n:])
	}
	if main.DeploymentID != pre.DeploymentID || main.Ref != "feature-x" || main.SHA != "abc1234def" || !main.Command.Triggered || main.Command.PR != 7 {
		t.Errorf("main %+v", main)
	}
	post := *s
	post.Mode = Finishing()
	post.JobStatus = "failure"
	f.failOn[fmt.Sprintf("edit comment %d", pre.Command.ResultID)] = errors.New("boom")
	rep, err := runCommand(t, d, st, StagePost, &post, ev, testRun)
	if err != nil {
		t.Fatal(err)
	}
	if rep.State != "failure" || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "result comment") {
		t.Errorf("post %+v", rep)
	}
	want := []string{"status failure", fmt.Sprintf("edit comment %d", pre.Command.ResultID), "react 42 -1"}
	if got := f.Calls()[n:]; !reflect.DeepEqual(got, want) {
		t.Errorf("post calls %q, want %q", got, want)
	}
}

// TestCommandRerunPinsTheCommit: a re-run deploys the commit the earlier attempt deployed, not
// the pull request's head of now.
func TestCommandRerunPinsTheCommit(t *testing.T) {
	t.Parallel()
	f := commandFake()
	d := &Deployer{API: f, Owner: "o", Repo: "r"}
	ev := commentEvent("/deploy")
	if _, err := runCommand(t, d, mapState{}, StagePre, commandSettings(), ev, testRun); err != nil {
		t.Fatal(err)
	}
	f.deps[0].SHA = github.String("0000000old") // what the first attempt deployed
	f.deps[0].CreatedAt = &github.Timestamp{Time: ev.CreatedAt.Add(time.Second)}
	second := testRun
	second.RunAttempt = "2"
	rep, err := runCommand(t, d, mapState{}, StagePre, commandSettings(), ev, second)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Command.SHA != "0000000old" || rep.Command.Pinned != f.deps[0].GetID() {
		t.Errorf("re-run deploys %s (pinned %d), want the first attempt's commit", rep.Command.SHA, rep.Command.Pinned)
	}
	if ref := f.deps[1].GetRef(); ref != "0000000old" {
		t.Errorf("second deployment's ref %s", ref)
	}
	// Another run's deployment for the same comment is not an earlier attempt.
	other := testRun
	other.RunID, other.RunAttempt = "78", "2"
	rep, err = runCommand(t, d, mapState{}, StagePre, commandSettings(), ev, other)
	if err != nil || rep.Command.Pinned != 0 || rep.Command.SHA != "abc1234def" {
		t.Errorf("another run: %v, pinned %d sha %s", err, rep.Command.Pinned, rep.Command.SHA)
	}
}

func TestChecksGate(t *testing.T) {
	t.Parallel()
	run := func(name, status, conclusion string, id int64, app string) *github.CheckRun {
		cr := &github.CheckRun{ID: github.Int64(id), Name: github.String(name), Status: github.String(status), App: &github.App{Slug: github.String(app)}}
		if conclusion != "" {
			cr.Conclusion = github.String(conclusion)
		}
		return cr
	}
	status := func(ctx, state string) *github.RepoStatus {
		return &github.RepoStatus{Context: github.String(ctx), State: github.String(state)}
	}
	for _, tc := range []struct {
		name      string
		run       Run
		ignore    []string
		looks     []checksFixture
		want      ChecksReason // 0: green
		names     []string     // failed or pending
		nLooks    int
		ignored   []string
		required  []string
		allowNone bool
	}{
		{name: "nothing reported is refused at once", looks: nil, want: ChecksNone, nLooks: 1},
		{name: "nothing reported with allow-no-checks", looks: nil, allowNone: true, nLooks: 1},
		{name: "only ignored or own checks is nothing reported", ignore: []string{"flaky"}, run: Run{CheckRunID: 9}, looks: []checksFixture{{runs: []*github.CheckRun{
			run("flaky", "completed", "success", 1, "x"), run("deploy", "in_progress", "", 9, "github-actions")}}}, want: ChecksNone, nLooks: 1,
			ignored: []string{"flaky", "deploy (this job)"}},
		{name: "a required check missing is pending", required: []string{"build"}, looks: []checksFixture{{statuses: []*github.RepoStatus{status("ci", "success")}}},
			want: ChecksTimedOut, names: []string{"build"}},
		{name: "a required check that appears and passes", required: []string{"Build"}, looks: []checksFixture{
			{statuses: []*github.RepoStatus{status("ci", "success")}},
			{runs: []*github.CheckRun{run("build", "completed", "success", 1, "x")}, statuses: []*github.RepoStatus{status("ci", "success")}}}, nLooks: 2},
		{name: "green", looks: []checksFixture{{runs: []*github.CheckRun{run("a", "completed", "success", 1, "x"), run("b", "completed", "neutral", 2, "x"),
			run("c", "completed", "skipped", 3, "x")}, statuses: []*github.RepoStatus{status("ci", "success")}}}, nLooks: 1},
		{name: "pending then green", looks: []checksFixture{
			{runs: []*github.CheckRun{run("a", "queued", "", 1, "x")}, statuses: []*github.RepoStatus{status("ci", "pending")}},
			{runs: []*github.CheckRun{run("a", "in_progress", "", 1, "x")}, statuses: []*github.RepoStatus{status("ci", "success")}},
			{runs: []*github.CheckRun{run("a", "completed", "success", 1, "x")}, statuses: []*github.RepoStatus{status("ci", "success")}}}, nLooks: 3},
		{name: "failure fails fast", looks: []checksFixture{{runs: []*github.CheckRun{run("a", "in_progress", "", 1, "x"), run("b", "completed", "timed_out", 2, "x")},
			statuses: []*github.RepoStatus{status("ci", "error")}}}, want: ChecksFailed, names: []string{"b", "ci"}, nLooks: 1},
		{name: "action required is not green", looks: []checksFixture{{runs: []*github.CheckRun{run("a", "completed", "action_required", 1, "x")}}},
			want: ChecksFailed, names: []string{"a"}, nLooks: 1},
		{name: "pending past the timeout", looks: []checksFixture{{runs: []*github.CheckRun{run("slow", "in_progress", "", 1, "x")}}},
			want: ChecksTimedOut, names: []string{"slow"}},
		{name: "own run by id", run: Run{CheckRunID: 9, Job: "deploy"}, looks: []checksFixture{{runs: []*github.CheckRun{run("whatever", "in_progress", "", 9, "github-actions"),
			run("build", "completed", "success", 2, "x")}}}, nLooks: 1, ignored: []string{"whatever (this job)"}},
		{name: "own run by name without an id (GHES)", run: Run{Job: "deploy"}, looks: []checksFixture{{runs: []*github.CheckRun{run("deploy", "in_progress", "", 9, "github-actions"),
			run("deploy", "in_progress", "", 10, "other-app")}}}, want: ChecksTimedOut, names: []string{"deploy"}, ignored: []string{"deploy (this job)"}},
		{name: "ignore-checks", ignore: []string{"Flaky", "ci/legacy"}, looks: []checksFixture{{runs: []*github.CheckRun{run("flaky", "completed", "failure", 1, "x")},
			statuses: []*github.RepoStatus{status("ci/legacy", "pending"), status("ci", "success")}}}, nLooks: 1, ignored: []string{"flaky", "ci/legacy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			f.kit.looks = tc.looks
			var clock time.Time
			d := &Deployer{API: f, Owner: "o", Repo: "r", Now: func() time.Time { return clock }, Rand: func() float64 { return 0.5 },
				Sleep: func(_ context.Context, dur time.Duration) error { clock = clock.Add(dur); return nil }}
			s := settings("start")
			s.WaitForChecks, s.ChecksTimeout, s.IgnoreChecks = true, time.Minute, tc.ignore
			s.RequiredChecks, s.AllowNoChecks = tc.required, tc.allowNone
			rep, err := d.Stage(context.Background(), Job{Stage: StageMain, Settings: s, Run: tc.run, Ref: "main", State: mapState{}})
			var ce *ChecksError
			switch {
			case tc.want == 0 && err != nil:
				t.Fatalf("err %v, want green", err)
			case tc.want == 0:
				if rep.DeploymentID == 0 {
					t.Error("nothing created")
				}
			case !errors.As(err, &ce) || ce.Reason != tc.want:
				t.Fatalf("err %v, want reason %d", err, tc.want)
			default:
				var names []string
				for _, c := range append(ce.Failed, ce.Pending...) {
					names = append(names, c.Name)
				}
				if tc.want == ChecksFailed {
					names = names[:len(ce.Failed)]
				}
				if !reflect.DeepEqual(names, tc.names) {
					t.Errorf("checks named %q, want %q", names, tc.names)
				}
				if strings.Contains(strings.Join(f.Calls(), ","), "create") {
					t.Error("created despite the checks")
				}
				if tc.want == ChecksTimedOut && ce.Waited < time.Minute {
					t.Errorf("gave up after %s", ce.Waited)
				}
			}
			if tc.nLooks != 0 && rep.Checks.Polls != tc.nLooks {
				t.Errorf("%d looks, want %d", rep.Checks.Polls, tc.nLooks)
			}
			if !reflect.DeepEqual(rep.Checks.Ignored, tc.ignored) {
				t.Errorf("ignored %q, want %q", rep.Checks.Ignored, tc.ignored)
			}
		})
	}
}
