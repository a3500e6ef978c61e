package app_test

// The consumer side through the runner simulation: wait for a deployment a third-party deployer
// makes (scripted in the emulator), latest, and the promotion gate.

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

var mainSHA = emulator.DefaultRepo().Branches["main"]

// deployer scripts a bot that deploys ref to env and walks it through states, each after step.
func deployer(t *testing.T, e *emulator.Emulator, user, ref, env string, step time.Duration, states ...string) *emulator.DeployerRun {
	t.Helper()
	var sts []emulator.DeployerStatus
	for _, s := range states {
		sts = append(sts, emulator.DeployerStatus{After: step, State: s, EnvironmentURL: "https://" + strings.ReplaceAll(env, "/", "-") + ".example.com",
			LogURL: "https://ci.example.com/" + user})
	}
	run, err := e.StartDeployer(emulator.Deployer{User: user, Owner: owner, Name: repoName, Ref: ref, Environment: env, Statuses: sts})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// waitJob is a job whose action step waits (polling every 10 ms, as the loopback emulator allows).
func waitJob(t *testing.T, e *emulator.Emulator, with map[string]string) *actionsim.Job {
	j := newJob(t, e, with)
	j.Env["DEPLOYMENT_ACTION_POLL_INTERVAL"] = "10ms"
	return j
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// postStatus adds a deployment status over HTTP, as a deployer would.
func postStatus(t *testing.T, e *emulator.Emulator, id int64, state string) {
	t.Helper()
	body := strings.NewReader(`{"state":"` + state + `","auto_inactive":false}`)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, fmt.Sprintf("%s/repos/%s/%s/deployments/%d/statuses", e.URL(), owner, repoName, id), body)
	req.Header.Set("Authorization", "Bearer "+testTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status: %d", resp.StatusCode)
	}
}

func infoLines(res *actionsim.Result, sub string) int {
	n := 0
	for _, l := range strings.Split(res.Log["main"], "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "::") {
			n++
		}
	}
	return n
}

func TestWaitSucceedsWhenTheDeploymentDoes(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	bot := deployer(t, e, "vercel[bot]", mainSHA, "preview/pr-7", 30*time.Millisecond, "pending", "in_progress", "success")
	deployer(t, e, "netlify[bot]", mainSHA, "staging", time.Millisecond, "success") // another environment: not it
	res := run(t, waitJob(t, e, map[string]string{"mode": "wait", "environment": "preview/*", "creator": "vercel[bot]"}))
	if res.Failed() {
		t.Fatalf("errors %v\n%s", res.StageErrors, res.Log["main"])
	}
	o := res.Outputs
	if o["deployment-id"] != itoa(bot.DeploymentID()) || o["state"] != "success" || o["environment"] != "preview/pr-7" ||
		o["environment-url"] != "https://preview-pr-7.example.com" || o["creator"] != "vercel[bot]" || o["sha"] != mainSHA || o["log-url"] == "" {
		t.Errorf("outputs %v", o)
	}
	if n := infoLines(res, ": success"); n != 1 {
		t.Errorf("%d log lines for the success state, want 1 (one line per state change):\n%s", n, res.Log["main"])
	}
	if n := infoLines(res, ": pending"); n > 1 {
		t.Errorf("%d log lines for pending, want at most 1", n)
	}
	sum := res.Summaries["main"]
	if !strings.Contains(sum, "Waited for a deployment of `"+mainSHA[:7]+"` to preview/\\*") || !strings.Contains(sum, "requests") ||
		!strings.Contains(sum, "https://preview-pr-7.example.com") {
		t.Errorf("summary:\n%s", sum)
	}
	// wait only reads (the scripted bots act on the emulator directly, not over HTTP).
	var w []string
	for _, r := range e.Requests() {
		if r.Method != "GET" {
			w = append(w, r.Method+" "+r.Path)
		}
	}
	if len(w) != 0 {
		t.Errorf("wait wrote to GitHub: %v", w)
	}
}

func TestWaitFailsFast(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *emulator.Emulator)
		with  map[string]string
		want  []string
	}{
		{name: "failure", setup: func(t *testing.T, e *emulator.Emulator) {
			deployer(t, e, "vercel[bot]", mainSHA, "preview/pr-7", 20*time.Millisecond, "in_progress", "failure")
		}, want: []string{"ended failure", "https://ci.example.com/vercel[bot]"}},
		{name: "error", setup: func(t *testing.T, e *emulator.Emulator) {
			deployer(t, e, "vercel[bot]", mainSHA, "preview/pr-7", 20*time.Millisecond, "error")
		}, want: []string{"ended error"}},
		{name: "superseded by a newer commit", setup: func(t *testing.T, e *emulator.Emulator) {
			first := deployer(t, e, "vercel[bot]", mainSHA, "preview/pr-7", time.Millisecond, "in_progress")
			if err := first.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			deployer(t, e, "vercel[bot]", emulator.DefaultRepo().Branches["feature-x"], "preview/pr-7", time.Millisecond, "in_progress")
		}, want: []string{"superseded", emulator.DefaultRepo().Branches["feature-x"][:7]}},
		{name: "nothing appears", with: map[string]string{"appear-timeout": "300ms"},
			want: []string{"no a deployment", "appeared within", "appear-timeout"}},
		{name: "never finishes", setup: func(t *testing.T, e *emulator.Emulator) {
			deployer(t, e, "vercel[bot]", mainSHA, "preview/pr-7", time.Millisecond, "queued")
		}, with: map[string]string{"wait-timeout": "400ms"}, want: []string{"did not finish within", "still queued", "wait-timeout"}},
		{name: "another creator only", setup: func(t *testing.T, e *emulator.Emulator) {
			deployer(t, e, "netlify[bot]", mainSHA, "preview/pr-7", time.Millisecond, "success")
		}, with: map[string]string{"appear-timeout": "300ms"}, want: []string{"by vercel[bot]", "appeared within"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := emulatortest.Start(t, emulator.Config{})
			if tc.setup != nil {
				tc.setup(t, e)
			}
			with := map[string]string{"mode": "wait", "environment": "preview/*", "creator": "vercel[bot]", "wait-timeout": "1h"}
			for k, v := range tc.with {
				with[k] = v
			}
			start := time.Now()
			res := run(t, waitJob(t, e, with))
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("took %s: the wait did not fail fast", took)
			}
			err := res.StageErrors["main"]
			if err == nil {
				t.Fatalf("main succeeded; outputs %v", res.Outputs)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestWaitIsCancelledAtOnce: the run is cancelled while the step waits; the step stops promptly.
func TestWaitIsCancelledAtOnce(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	j := waitJob(t, e, map[string]string{"mode": "wait", "environment": "staging", "wait-timeout": "1h"})
	j.Env["DEPLOYMENT_ACTION_POLL_INTERVAL"] = "" // the real schedule: a cancel must not wait for the next look
	ctx, cancel := context.WithCancel(context.Background())
	polled := make(chan struct{}, 1)
	e.AddFault(emulator.Fault{Method: "GET", PathContains: "/deployments", Kind: emulator.FaultLatency, Delay: time.Millisecond, Times: 1 << 30,
		Match: func(*http.Request) bool {
			select {
			case polled <- struct{}{}:
			default:
			}
			return true
		}})
	go func() { <-polled; cancel() }()
	start := time.Now()
	res, err := j.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the cancelled wait took %s to stop", took)
	}
	if res.JobStatus != "cancelled" {
		t.Errorf("job %s, want cancelled", res.JobStatus)
	}
}

// TestWaitRidesOutRateLimits: a secondary rate limit in the middle of a wait is waited out.
func TestWaitRidesOutRateLimits(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	e.AddFault(emulator.Fault{Method: "GET", PathContains: "/deployments", Kind: emulator.FaultSecondaryLimit, RetryAfter: 1, Times: 2})
	deployer(t, e, "vercel[bot]", mainSHA, "staging", 20*time.Millisecond, "in_progress", "success")
	res := run(t, waitJob(t, e, map[string]string{"mode": "wait", "environment": "staging"}))
	if res.Failed() || res.Outputs["state"] != "success" {
		t.Fatalf("errors %v outputs %v", res.StageErrors, res.Outputs)
	}
}

func TestLatest(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	feature := emulator.DefaultRepo().Branches["feature-x"]
	// Out of order: the older deployment (main) finishes after the newer one (feature-x), so main
	// is what runs in production now. A third, newest, deployment failed.
	older := deployer(t, e, "ci[bot]", mainSHA, "production", time.Millisecond, "in_progress")
	if err := older.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	newer := deployer(t, e, "ci[bot]", feature, "production", time.Millisecond, "in_progress", "success")
	if err := newer.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	fin := deployer(t, e, "ci[bot]", mainSHA, "production", time.Millisecond) // no status: unfinished
	_ = fin.Wait(context.Background())
	postStatus(t, e, older.DeploymentID(), "success")
	failed := deployer(t, e, "ci[bot]", feature, "production", time.Millisecond, "failure")
	_ = failed.Wait(context.Background())

	res := run(t, newJob(t, e, map[string]string{"mode": "latest", "environment": "production"}))
	if res.Failed() || res.Outputs["deployment-id"] != itoa(older.DeploymentID()) || res.Outputs["sha"] != mainSHA || res.Outputs["created-at"] == "" {
		t.Fatalf("errors %v outputs %v; want deployment %d (the last to succeed)", res.StageErrors, res.Outputs, older.DeploymentID())
	}
	if !strings.Contains(res.Summaries["main"], "### Live in production") {
		t.Errorf("summary:\n%s", res.Summaries["main"])
	}

	// A roll-back looks for what was live before the current commit.
	res = run(t, newJob(t, e, map[string]string{"mode": "latest", "environment": "production", "exclude-sha": mainSHA}))
	if res.Failed() || res.Outputs["deployment-id"] != itoa(newer.DeploymentID()) || res.Outputs["sha"] != feature {
		t.Errorf("exclude-sha: errors %v outputs %v; want deployment %d of feature-x", res.StageErrors, res.Outputs, newer.DeploymentID())
	}

	res = run(t, newJob(t, e, map[string]string{"mode": "latest", "environment": "qa"}))
	if err := res.StageErrors["main"]; err == nil || !strings.Contains(err.Error(), "no deployment is live in qa") || !strings.Contains(err.Error(), "allow-none") {
		t.Errorf("nothing live: err %v", err)
	}
	res = run(t, newJob(t, e, map[string]string{"mode": "latest", "environment": "qa", "allow-none": "true"}))
	if res.Failed() || res.Outputs["deployment-id"] != "" {
		t.Errorf("allow-none: errors %v outputs %v", res.StageErrors, res.Outputs)
	}
}

// TestPromotionGate: auto refuses, before creating anything, to deploy a commit that is not the
// one live in require-deployed-in, naming both commits; the live one is promoted.
func TestPromotionGate(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	staging := deployer(t, e, "ci[bot]", mainSHA, "staging", time.Millisecond, "success")
	if err := staging.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	feature := emulator.DefaultRepo().Branches["feature-x"]
	res := run(t, newJob(t, e, map[string]string{"environment": "production", "ref": "feature-x", "require-deployed-in": "staging"}))
	err := res.StageErrors["pre"]
	if err == nil || !strings.Contains(err.Error(), feature[:7]) || !strings.Contains(err.Error(), mainSHA[:7]) || !strings.Contains(err.Error(), "require-deployed-in") {
		t.Fatalf("gate: err %v, want a refusal naming both commits", err)
	}
	for _, d := range e.Deployments(owner, repoName) {
		if d.Environment == "production" {
			t.Fatalf("a production deployment was created: %+v", d)
		}
	}
	res = run(t, newJob(t, e, map[string]string{"environment": "production", "ref": "main", "require-deployed-in": "staging"}))
	if res.Failed() {
		t.Fatalf("promoting the live commit: %v", res.StageErrors)
	}
	n := 0
	for _, d := range e.Deployments(owner, repoName) {
		if d.Environment == "production" && d.SHA == mainSHA && states(d)[len(d.Statuses)-1] == "success" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d successful production deployments of main, want 1", n)
	}
}

// TestPromotionGateDeploysTheCheckedCommit: main moves between the gate's look and the create
// (a push lands while the job reads what is live in staging). The commit that was checked, live
// in staging, is what goes to production, not the new head.
func TestPromotionGateDeploysTheCheckedCommit(t *testing.T) {
	t.Parallel()
	var once sync.Once
	var e *emulator.Emulator
	var pushed atomic.Value
	e = emulatortest.Start(t, emulator.Config{Observe: func(req *http.Request, _ []byte, _ int, _ http.Header, _ []byte) {
		if req.Method == "GET" && strings.HasSuffix(req.URL.Path, "/deployments") && req.URL.Query().Get("environment") == "staging" {
			once.Do(func() { // after the handler, before the job sees the answer
				if sha, err := e.Push(owner, repoName, "main", emulator.Commit{Message: "landed meanwhile"}); err == nil {
					pushed.Store(sha)
				}
			})
		}
	}})
	staging := deployer(t, e, "ci[bot]", mainSHA, "staging", time.Millisecond, "success")
	if err := staging.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := run(t, newJob(t, e, map[string]string{"environment": "production", "ref": "main", "require-deployed-in": "staging"}))
	if res.Failed() {
		t.Fatalf("promotion: %v", res.StageErrors)
	}
	if pushed.Load() == nil {
		t.Fatal("main did not move during the job: the test proves nothing")
	}
	for _, d := range e.Deployments(owner, repoName) {
		if d.Environment == "production" && d.SHA != mainSHA {
			t.Fatalf("production got %s, want the checked %s", d.SHA, mainSHA)
		}
	}
}
