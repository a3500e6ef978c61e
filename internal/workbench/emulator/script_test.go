package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestDeployer: a scripted vercel[bot] creates a deployment and walks it through statuses; a
// poller (the future wait mode) sees each state in turn. Gates pace the script, so nothing
// depends on timing.
func TestDeployer(t *testing.T) {
	a := start(t, emulator.Config{})
	rc := newReceiver(t)
	a.e.AddHook(rc.srv.URL, "")
	gates := []chan struct{}{make(chan struct{}), make(chan struct{})}
	run, err := a.e.StartDeployer(emulator.Deployer{
		User: "vercel[bot]", Owner: owner, Name: repo, Ref: "main", Environment: "Preview",
		Payload: map[string]any{"vercel": true},
		Statuses: []emulator.DeployerStatus{
			{State: "pending"},
			{State: "in_progress", LogURL: "https://vercel.example/logs/1", Gate: gates[0]},
			{State: "success", LogURL: "https://vercel.example/logs/1", EnvironmentURL: "https://preview.example", Gate: gates[1], After: 10 * time.Millisecond},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := waitCtx(t)
	next := func(want string) emulator.StepEvent {
		t.Helper()
		select {
		case ev, ok := <-run.Steps():
			if !ok {
				t.Fatalf("steps closed before %q (err %v)", want, run.Err())
			}
			if ev.Name != want || ev.Err != nil {
				t.Fatalf("step %+v, want %q", ev, want)
			}
			return ev
		case <-ctx.Done():
			t.Fatalf("no step %q", want)
		}
		return emulator.StepEvent{}
	}
	states := func() string {
		t.Helper()
		sts := a.do("GET", repoURL+"/deployments/"+jsonNum(run.DeploymentID())+"/statuses", nil).must(t, 200).arr()
		var out []string
		for _, s := range sts {
			out = append(out, s.(map[string]any)["state"].(string))
		}
		return strings.Join(out, ",")
	}

	eq(t, "step 0", next("create deployment").Index, 0)
	if run.DeploymentID() == 0 {
		t.Fatal("no deployment id after step 0")
	}
	eq(t, "step 1", next("status pending").Index, 1)
	// the script waits at the gate: the poller sees pending and nothing else
	list := a.do("GET", repoURL+"/deployments?environment=Preview", nil).must(t, 200).arr()
	if len(list) != 1 || get(list[0], "creator.login") != "vercel[bot]" || get(list[0], "payload.vercel") != true {
		t.Fatalf("deployments %v", list)
	}
	eq(t, "after pending", states(), "pending")
	close(gates[0])
	next("status in_progress")
	eq(t, "after in_progress", states(), "in_progress,pending")
	close(gates[1])
	if err := run.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	eq(t, "after success", states(), "success,in_progress,pending")
	// the last step's event is still buffered; the channel is closed after it
	var rest []string
	for ev := range run.Steps() {
		rest = append(rest, ev.Name)
	}
	eq(t, "remaining steps", strings.Join(rest, ","), "status success")
	d := a.e.Deployments(owner, repo)[0]
	eq(t, "creator", d.Creator, "vercel[bot]")
	last := d.Statuses[len(d.Statuses)-1]
	eq(t, "environment_url", last.EnvironmentURL, "https://preview.example")
	eq(t, "status creator", last.Creator, "vercel[bot]")

	if err := a.e.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, g := range rc.all() {
		var p map[string]any
		if err := json.Unmarshal(g.body, &p); err != nil {
			t.Fatal(err)
		}
		events = append(events, g.header.Get("X-GitHub-Event")+"/"+get(p, "sender.login").(string))
	}
	eq(t, "deliveries", strings.Join(events, ","), "deployment/vercel[bot],deployment_status/vercel[bot],deployment_status/vercel[bot],deployment_status/vercel[bot]")
}

func TestDeployerRefusesBadInput(t *testing.T) {
	e := emulator.New(emulator.Config{})
	t.Cleanup(func() { e.Close() })
	e.AddRepo(emulator.DefaultRepo())
	for _, d := range []emulator.Deployer{
		{Owner: owner, Name: "missing", Ref: "main"},
		{Owner: owner, Name: repo, Ref: "no-such-branch"},
		{Owner: owner, Name: repo, Ref: "main", Statuses: []emulator.DeployerStatus{{State: "done"}}},
		{Owner: owner, Name: repo, Ref: "main", Statuses: []emulator.DeployerStatus{{State: "success", EnvironmentURL: "ftp://x"}}},
	} {
		if _, err := e.StartDeployer(d); err == nil {
			t.Errorf("StartDeployer(%+v) accepted", d)
		}
	}
}

func TestScriptEnds(t *testing.T) {
	e := emulator.New(emulator.Config{})
	t.Cleanup(func() { e.Close() })
	e.AddRepo(emulator.DefaultRepo())
	ctx := waitCtx(t)

	// a failing step ends the script; the next one does not run
	boom := errors.New("boom")
	ran := false
	s := e.Run("failing",
		emulator.Step{Name: "ok", Do: func() error { return nil }},
		emulator.Step{Name: "fails", Do: func() error { return boom }},
		emulator.Step{Name: "never", Do: func() error { ran = true; return nil }},
	)
	if err := s.Wait(ctx); !errors.Is(err, boom) || !strings.Contains(err.Error(), "step 1 (fails)") {
		t.Errorf("err %v", err)
	}
	var names []string
	for ev := range s.Steps() {
		names = append(names, ev.Name)
	}
	eq(t, "steps", strings.Join(names, ","), "ok,fails")
	eq(t, "third step ran", ran, false)

	// Stop and Close end a waiting script with ErrClosed
	stopped := e.Run("stopped", emulator.Step{After: time.Hour})
	stopped.Stop()
	if err := stopped.Wait(ctx); !errors.Is(err, emulator.ErrClosed) {
		t.Errorf("stopped: %v", err)
	}
	gate := make(chan struct{})
	waiting := e.Run("waiting", emulator.Step{Gate: gate})
	closing := e.Run("long", emulator.Step{After: time.Hour})
	dep, err := e.StartDeployer(emulator.Deployer{Owner: owner, Name: repo, Ref: "main", After: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*emulator.Script{waiting, closing, dep.Script} {
		select {
		case <-s.Done():
		default:
			t.Fatalf("%s still running after Close", s.Name())
		}
		if !errors.Is(s.Err(), emulator.ErrClosed) {
			t.Errorf("%s: %v", s.Name(), s.Err())
		}
	}
	eq(t, "deployment never created", dep.DeploymentID(), int64(0))
	// after Close a script ends at once
	if err := e.Run("late", emulator.Step{}).Wait(ctx); !errors.Is(err, emulator.ErrClosed) {
		t.Errorf("late: %v", err)
	}
}

// TestChatOpsScenario is the shape of a ChatOps test: a pull request from a fork, a
// "/deploy staging" comment by a triage user (its event written for the runner), the head's
// check run completed later by a script, and vercel[bot] deploying the head.
func TestChatOpsScenario(t *testing.T) {
	a := start(t, emulator.Config{})
	e := a.e
	ctx := waitCtx(t)

	must(struct{}{}, e.SetRole(owner, repo, "tina", emulator.RoleTriage))(t)
	pr := must3(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "patch-1", HeadRepo: "alice/hello-world"}))(t)
	_, ev, err := e.AddComment(owner, repo, pr.Number, "tina", "/deploy staging")
	if err != nil {
		t.Fatal(err)
	}
	eventPath := filepath.Join(t.TempDir(), "event.json")
	must(struct{}{}, ev.WriteFile(eventPath))(t)
	run := must(e.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "ci", HeadSHA: pr.HeadSHA, Status: "in_progress"}))(t)
	ci := e.Run("ci", emulator.Step{After: 20 * time.Millisecond, Do: func() error {
		_, err := e.CompleteCheckRun(owner, repo, run.ID, "success")
		return err
	}})
	dep := must(e.StartDeployer(emulator.Deployer{User: "vercel[bot]", Owner: owner, Name: repo, Ref: pr.HeadSHA,
		Environment: "staging", Statuses: []emulator.DeployerStatus{{State: "in_progress"},
			{After: 20 * time.Millisecond, State: "success", EnvironmentURL: "https://staging.example"}}}))(t)

	// What the ChatOps feature would read, over HTTP.
	b, _ := os.ReadFile(eventPath)
	var payload map[string]any
	must(struct{}{}, json.Unmarshal(b, &payload))(t)
	num := jsonNum(get(payload, "issue.number"))
	p := a.do("GET", repoURL+"/pulls/"+num, nil).must(t, 200).obj()
	eq(t, "fork", get(p, "head.repo.fork"), any(true))
	perm := a.do("GET", repoURL+"/collaborators/"+get(payload, "comment.user.login").(string)+"/permission", nil).must(t, 200).obj()
	eq(t, "permission", perm["permission"], any("read"))
	eq(t, "role", perm["role_name"], any("triage"))
	if err := ci.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	runs := a.do("GET", repoURL+"/commits/"+get(p, "head.sha").(string)+"/check-runs", nil).must(t, 200).obj()
	eq(t, "check", get(runs["check_runs"].([]any)[0], "conclusion"), any("success"))
	if err := dep.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	st := a.do("GET", repoURL+"/deployments/"+jsonNum(dep.DeploymentID())+"/statuses", nil).must(t, 200).arr()
	eq(t, "deployed", get(st[0], "state"), any("success"))
	eq(t, "deployed sha", a.e.Deployments(owner, repo)[0].SHA, pr.HeadSHA)
	a.do("POST", repoURL+"/issues/comments/"+jsonNum(get(payload, "comment.id"))+"/reactions", map[string]any{"content": "rocket"}).must(t, 201)
}

// TestScriptsAndClientsConcurrently runs a deployer and check-run scripts while clients poll
// with conditional requests (for the race detector).
func TestScriptsAndClientsConcurrently(t *testing.T) {
	a := start(t, emulator.Config{})
	e := a.e
	ctx := waitCtx(t)
	var scripts []*emulator.Script
	for i := 0; i < 4; i++ {
		run := must(e.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "c" + jsonNum(i), HeadSHA: "main"}))(t)
		scripts = append(scripts, e.Run("c", emulator.Step{After: time.Millisecond, Do: func() error {
			_, err := e.CompleteCheckRun(owner, repo, run.ID, "success")
			return err
		}}))
		d := must(e.StartDeployer(emulator.Deployer{User: "vercel[bot]", Owner: owner, Name: repo, Ref: "main",
			Environment: "e" + jsonNum(i), Statuses: []emulator.DeployerStatus{{State: "in_progress"}, {State: "success"}}}))(t)
		scripts = append(scripts, d.Script)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			etag := ""
			for i := 0; i < 20; i++ {
				req, _ := http.NewRequest("GET", a.base+repoURL+"/commits/main/check-runs", nil)
				req.Header.Set("Authorization", "Bearer t")
				if etag != "" {
					req.Header.Set("If-None-Match", etag)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 && resp.StatusCode != 304 {
					t.Errorf("status %d", resp.StatusCode)
				}
				etag = resp.Header.Get("ETag")
			}
		}()
	}
	for _, s := range scripts {
		if err := s.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	eq(t, "deployments", len(e.Deployments(owner, repo)), 4)
	for _, r := range e.CheckRuns(owner, repo, "main") {
		eq(t, r.Name, r.Conclusion, "success")
	}
}
