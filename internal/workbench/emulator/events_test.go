package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// TestEventPayloads: the events the scripting methods return (and the REST endpoints cause)
// validate against GitHub's webhook schemas in toolkit.openapi.json, carry what a workflow reads
// from GITHUB_EVENT_PATH, and reach subscribed webhooks in order.
func TestEventPayloads(t *testing.T) {
	v := webhookSpec(t)
	a := start(t, emulator.Config{})
	e := a.e
	all := newReceiver(t)
	deploymentsOnly := newReceiver(t)
	e.AddHook(all.srv.URL, "s3cret", "*")
	e.AddHook(deploymentsOnly.srv.URL, "")
	if err := e.SetRole(owner, repo, "tina", emulator.RoleTriage); err != nil {
		t.Fatal(err)
	}

	var events []emulator.Event
	add := func(ev emulator.Event, err error) emulator.Event {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
		return ev
	}
	add3 := func(_ any, ev emulator.Event, err error) emulator.Event { t.Helper(); return add(ev, err) }

	pr, opened, err := e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "patch-1", HeadRepo: "alice/" + repo, Title: "Fix"})
	add(opened, err)
	c, created, err := e.AddComment(owner, repo, pr.Number, "tina", "/deploy staging")
	add(created, err)
	edited := add3(e.EditComment(owner, repo, c.ID, "/deploy production"))
	deleted := add(e.DeleteComment(owner, repo, c.ID))
	issue := must(e.OpenIssue(owner, repo, "bob", "Bug", ""))(t)
	onIssue := add3(e.AddComment(owner, repo, issue, "bob", "/deploy staging"))
	synced := add(e.PushPullRequest(owner, repo, pr.Number, emulator.Commit{Message: "more"}))
	run := must(e.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "build", HeadSHA: synced.Payload["after"].(string), App: "ci"}))(t)
	completed := add(e.CompleteCheckRun(owner, repo, run.ID, "success"))
	second, secondOpened, err := e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "feature-x"})
	add(secondOpened, err)
	closed := add(e.ClosePullRequest(owner, repo, pr.Number, "octo-org"))
	merged := add(e.MergePullRequest(owner, repo, second.Number, ""))
	// REST-caused events are delivered too (they are not returned to anyone)
	a.do("POST", repoURL+"/issues/"+jsonNum(pr.Number)+"/comments", map[string]any{"body": "Deployed"}).must(t, 201)
	restRun := a.do("POST", repoURL+"/check-runs", map[string]any{"name": "lint", "head_sha": seed.Branches["main"]}).must(t, 201).obj()
	a.do("PATCH", repoURL+"/check-runs/"+jsonNum(restRun["id"]), map[string]any{"conclusion": "neutral"}).must(t, 200)

	schema := map[string]string{
		"issue_comment/created": "issue-comment-created", "pull_request/opened": "pull-request-opened",
		"pull_request/closed": "pull-request-closed", "pull_request/synchronize": "pull-request-synchronize",
		"check_run/completed": "check-run-completed",
	}
	check := func(name, action string, raw []byte) {
		t.Helper()
		key, ok := schema[name+"/"+action]
		if !ok {
			// edited and deleted have no schema in the file: check them against the created one
			// with the action (and edited's changes) taken out, which keeps issue and comment.
			var p map[string]any
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			p["action"] = "created"
			delete(p, "changes")
			raw, _ = json.Marshal(p)
			key = schema[name+"/created"]
		}
		if err := v.ValidateWebhook(key, raw); err != nil {
			t.Errorf("%s %s: %v", name, action, err)
		}
	}
	for _, ev := range events {
		check(ev.Name, ev.Action, ev.JSON())
	}

	// what a ChatOps workflow reads
	eq(t, "created action", created.Action, "created")
	eq(t, "comment body", get(created.Payload, "comment.body"), any("/deploy staging"))
	eq(t, "commenter", get(created.Payload, "comment.user.login"), any("tina"))
	eq(t, "sender", get(created.Payload, "sender.login"), any("tina"))
	eq(t, "association", get(created.Payload, "comment.author_association"), any("COLLABORATOR"))
	eq(t, "issue number", get(created.Payload, "issue.number"), any(float64(pr.Number)))
	if get(created.Payload, "issue.pull_request.url") != a.base+repoURL+"/pulls/"+jsonNum(pr.Number) {
		t.Errorf("issue.pull_request.url = %v", get(created.Payload, "issue.pull_request.url"))
	}
	if get(onIssue.Payload, "issue.pull_request") != nil {
		t.Errorf("a plain issue's comment has issue.pull_request")
	}
	eq(t, "repository", get(created.Payload, "repository.full_name"), any(owner+"/"+repo))
	eq(t, "edited from", get(edited.Payload, "changes.body.from"), any("/deploy staging"))
	eq(t, "edited body", get(edited.Payload, "comment.body"), any("/deploy production"))
	eq(t, "deleted", deleted.Action, "deleted")
	eq(t, "opened head repo", get(opened.Payload, "pull_request.head.repo.full_name"), any("alice/"+repo))
	eq(t, "opened sender", get(opened.Payload, "sender.login"), any("alice"))
	eq(t, "synchronize after", get(synced.Payload, "pull_request.head.sha"), synced.Payload["after"])
	eq(t, "check_run conclusion", get(completed.Payload, "check_run.conclusion"), any("success"))
	eq(t, "check_run app", get(completed.Payload, "check_run.app.slug"), any("ci"))
	eq(t, "check_run sender", get(completed.Payload, "sender.login"), any("ci[bot]"))
	eq(t, "closed not merged", get(closed.Payload, "pull_request.merged"), any(false))
	eq(t, "merged", get(merged.Payload, "pull_request.merged"), any(true))

	// the file a runner simulation points GITHUB_EVENT_PATH at
	path := filepath.Join(t.TempDir(), "event.json")
	if err := created.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(b, created.JSON()) {
		t.Errorf("event file differs from the payload (%v)", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	got := all.all()
	// returned events, in order, are exactly what was delivered; then the REST-caused ones
	if len(got) != len(events)+2 {
		t.Fatalf("delivered %d, want %d", len(got), len(events)+2)
	}
	for i, ev := range events {
		eq(t, "delivered event", got[i].header.Get("X-GitHub-Event"), ev.Name)
		if !bytes.Equal(got[i].body, ev.JSON()) {
			t.Errorf("delivery %d (%s %s) differs from the returned payload", i, ev.Name, ev.Action)
		}
		eq(t, "signature", got[i].header.Get("X-Hub-Signature-256"), emulator.Sign("s3cret", got[i].body))
	}
	for i, want := range []string{"issue_comment/created", "check_run/completed"} {
		g := got[len(events)+i]
		var p map[string]any
		if err := json.Unmarshal(g.body, &p); err != nil {
			t.Fatal(err)
		}
		eq(t, "REST event", g.header.Get("X-GitHub-Event")+"/"+p["action"].(string), want)
		check(g.header.Get("X-GitHub-Event"), p["action"].(string), g.body)
	}
	if n := len(deploymentsOnly.all()); n != 0 {
		t.Errorf("a hook subscribed to deployment events got %d other events", n)
	}
}
