package gate_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/gate"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/lock"
	"github.com/deployment-action/deployment-action/internal/policy"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

const owner, repo, token = "octo-org", "hello-world", "inst-t0k3n"

const rules = `environments:
  production:
    checks: required
    after: {environment: staging, soak: 30m}
  qa:
    windows:
      - days: sat-sun
  locked: {}
  preview:
    checks: required
`

type world struct {
	t   *testing.T
	em  *emulator.Emulator
	api *ghapi.Client
	now time.Time
	g   *gate.Gate
	sha string
}

func newWorld(t *testing.T, file string) *world {
	w := &world{t: t, now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)} // a Monday
	clock := func() time.Time { return w.now }
	w.em = emulatortest.Start(t, emulator.Config{Now: clock})
	var err error
	w.api, err = ghapi.New(ghapi.Options{Token: token, APIURL: w.em.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if file != "" {
		if w.sha, err = w.em.PutFile(owner, repo, "", policy.Path, []byte(file)); err != nil {
			t.Fatal(err)
		}
	} else if w.sha, err = w.em.Push(owner, repo, "main", emulator.Commit{}); err != nil {
		t.Fatal(err)
	}
	w.g = &gate.Gate{APIURL: w.em.URL(), Policies: &policy.Loader{}, Web: "https://github.com", Now: clock}
	return w
}

func (w *world) deploy(env, state string) {
	w.t.Helper()
	ctx := context.Background()
	d, err := w.api.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{Ref: github.String(w.sha), Environment: github.String(env), RequiredContexts: &[]string{}, AutoMerge: github.Bool(false)})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.api.CreateDeploymentStatus(ctx, owner, repo, d.GetID(), &github.DeploymentStatusRequest{State: github.String(state)}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) request(env, sender string) gate.Request {
	w.t.Helper()
	_, ev, err := w.em.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: env, SHA: w.sha, Sender: sender})
	if err != nil {
		w.t.Fatal(err)
	}
	req, ok, err := gate.ParseRequest(ev.JSON())
	if err != nil || !ok {
		w.t.Fatalf("parse: %v %v", ok, err)
	}
	return req
}

func (w *world) handle(req gate.Request) gate.Outcome {
	w.t.Helper()
	facts := &gate.GitHub{API: w.api, BaseURL: w.em.URL(), Token: token, Owner: owner, Repo: repo, Now: func() time.Time { return w.now }}
	out, err := w.g.Handle(context.Background(), facts, policy.HTTPFetcher{BaseURL: w.em.URL(), Token: token}, http.DefaultClient, token, req)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func (w *world) run(req gate.Request) emulator.RunState {
	w.t.Helper()
	st, err := w.em.WorkflowRun(owner, repo, req.RunID)
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

// Promotion: held while the soak runs (no answer), approved once it is over, once.
func TestSoakHoldsThenApprovesOnce(t *testing.T) {
	w := newWorld(t, rules)
	if _, err := w.em.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "test", HeadSHA: w.sha, Status: "completed", Conclusion: "success"}); err != nil {
		t.Fatal(err)
	}
	w.deploy("staging", "success")
	w.now = w.now.Add(10 * time.Minute)
	req := w.request("Production", "octocat")
	out := w.handle(req)
	if out.Verdict.State != gate.Pending || out.Answered || !out.Verdict.RecheckAt.Equal(time.Date(2026, 12, 7, 10, 30, 0, 0, time.UTC)) {
		t.Fatalf("during the soak: %+v", out)
	}
	if st := w.run(req); st.Status != "waiting" || st.Answer != nil {
		t.Fatalf("run during the soak: %+v", st)
	}
	w.now = out.Verdict.RecheckAt
	out = w.handle(req)
	st := w.run(req)
	if !out.Answered || st.Status != "in_progress" || st.Answer == nil || st.Answer.State != "approved" {
		t.Fatalf("after the soak: %+v %+v", out, st)
	}
	for _, want := range []string{"1 checks green", "live in staging since 2026-12-07T10:00:00Z (soak 30m0s)", "[.github/deployments.yml](https://github.com/octo-org/hello-world/blob/HEAD/.github/deployments.yml)"} {
		if !strings.Contains(st.Answer.Comment, want) {
			t.Errorf("comment %q lacks %q", st.Answer.Comment, want)
		}
	}
	// A redelivery (or another replica) gives no second answer.
	if again := w.handle(req); !again.Skipped || again.Answered {
		t.Fatalf("redelivery: %+v", again)
	}
	// GitHub refuses a second answer: Answer says so without failing.
	if err := gate.Answer(context.Background(), nil, w.em.URL(), token, req, gate.Verdict{State: gate.Rejected, Comment: "x"}); !errors.Is(err, gate.ErrAnswered) {
		t.Fatalf("second answer: %v", err)
	}
	if st := w.run(req); st.Refused != 1 || st.Answer.State != "approved" {
		t.Fatalf("after a refused second answer: %+v", st)
	}
}

func TestRejections(t *testing.T) {
	cases := []struct {
		name, env, sender string
		setup             func(w *world)
		want              []string
	}{
		{"never deployed to staging", "production", "octocat", func(w *world) {
			w.em.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "test", HeadSHA: w.sha, Status: "completed", Conclusion: "success"})
		}, []string{"was never deployed to staging"}},
		{"staging failed", "production", "octocat", func(w *world) {
			w.em.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "test", HeadSHA: w.sha, Status: "completed", Conclusion: "success"})
			w.deploy("staging", "failure")
		}, []string{"was never deployed to staging"}},
		{"a failing check is named", "production", "octocat", func(w *world) {
			w.em.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "unit", HeadSHA: w.sha, Status: "completed", Conclusion: "success"})
			w.em.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "lint", HeadSHA: w.sha, Status: "completed", Conclusion: "failure", DetailsURL: "https://ci.example/lint"})
		}, []string{"failed: [lint](", "(failure)"}},
		{"no check reported", "preview", "octocat", func(w *world) {}, []string{"No check has reported"}},
		{"outside the window", "qa", "octocat", func(w *world) {}, []string{"qa is closed: outside the deploy windows (sat-sun all day UTC)"}},
		{"locked by someone else", "locked", "octocat", func(w *world) {
			w.lock("locked", "alice", "db @migration")
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, rules)
			c.setup(w)
			req := w.request(c.env, c.sender)
			out := w.handle(req)
			st := w.run(req)
			if !out.Answered || st.Answer == nil || st.Answer.State != "rejected" || st.Status != "completed" || st.Conclusion != "failure" {
				t.Fatalf("%+v %+v", out, st)
			}
			want := c.want
			if c.name == "locked by someone else" {
				want = []string{"locked is locked by @alice: db @\u200bmigration"}
			}
			for _, s := range want {
				if !strings.Contains(st.Answer.Comment, s) {
					t.Errorf("comment %q lacks %q", st.Answer.Comment, s)
				}
			}
		})
	}
}

func (w *world) lock(env, holder, reason string) {
	w.t.Helper()
	s := lock.New(w.api, owner, repo, func() time.Time { return w.now })
	if won, _, err := s.Acquire(context.Background(), lock.Lock{Environment: env, Holder: holder, Reason: reason, Source: lock.SourceCLI}); err != nil || !won {
		w.t.Fatalf("lock: %v %v", won, err)
	}
}

// The lock's holder passes; no rules and no file approve at once.
func TestApprovals(t *testing.T) {
	w := newWorld(t, rules)
	w.lock("locked", "alice", "")
	for _, c := range []struct{ env, sender, want string }{
		{"locked", "alice", "No rules for locked"},
		{"dev", "octocat", "No rules for dev"},
	} {
		req := w.request(c.env, c.sender)
		out := w.handle(req)
		if st := w.run(req); !out.Answered || st.Answer == nil || st.Answer.State != "approved" || !strings.Contains(st.Answer.Comment, c.want) {
			t.Fatalf("%s: %+v %+v", c.env, out, st)
		}
	}
	w2 := newWorld(t, "")
	req := w2.request("production", "octocat")
	if out := w2.handle(req); !out.Answered || out.Verdict.State != gate.Approved {
		t.Fatalf("no policy file: %+v", out)
	}
}

// A bad policy file rejects and says what to fix.
func TestBadPolicyRejects(t *testing.T) {
	w := newWorld(t, "environments:\n  production:\n    checks: yes\n")
	req := w.request("production", "octocat")
	w.handle(req)
	st := w.run(req)
	if st.Answer == nil || st.Answer.State != "rejected" || !strings.Contains(st.Answer.Comment, "line 3: environments.production.checks") || !strings.Contains(st.Answer.Comment, "fix: write checks: required") {
		t.Fatalf("%+v", st.Answer)
	}
}

// The token goes to GitHub only: an answer ignores the payload's callback host.
func TestAnswerGoesToTheAPIOnly(t *testing.T) {
	w := newWorld(t, "")
	req := w.request("dev", "octocat")
	req.CallbackURL = "http://127.0.0.1:1/steal"
	if out := w.handle(req); !out.Answered {
		t.Fatalf("%+v", out)
	}
	if st := w.run(req); st.Answer == nil || st.Answer.State != "approved" {
		t.Fatalf("%+v", st)
	}
}
