package emulator_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

func TestTokenActsAsUser(t *testing.T) {
	a := start(t, emulator.Config{})
	rc := newReceiver(t)
	a.e.AddHook(rc.srv.URL, "")
	a.e.SetTokenUser("vercel-token", "vercel[bot]")
	vercel := a.as("vercel-token")

	d := vercel.createDeployment(map[string]any{"ref": "main", "environment": "preview", "required_contexts": []string{}})
	eq(t, "creator", get(d, "creator.login"), any("vercel[bot]"))
	eq(t, "creator type", get(d, "creator.type"), any("Bot"))
	st := vercel.addStatus(d["id"], map[string]any{"state": "success", "environment_url": "https://preview.example"})
	eq(t, "status creator", get(st, "creator.login"), any("vercel[bot]"))
	cs := vercel.do("POST", repoURL+"/statuses/"+seed.Branches["main"], map[string]any{"state": "success", "context": "Vercel"}).must(t, 201).obj()
	eq(t, "commit status creator", get(cs, "creator.login"), any("vercel[bot]"))
	// other tokens still act as github-actions[bot]
	mine := a.createDeployment(map[string]any{"ref": "main", "environment": "preview", "required_contexts": []string{}})
	eq(t, "default creator", get(mine, "creator.login"), any("github-actions[bot]"))
	eq(t, "default creator id", get(mine, "creator.id"), any(41898282.0))

	deps := a.e.Deployments(owner, repo)
	eq(t, "snapshot creator", deps[0].Creator, "vercel[bot]")
	eq(t, "snapshot status creator", deps[0].Statuses[0].Creator, "vercel[bot]")
	eq(t, "snapshot default creator", deps[1].Creator, "github-actions[bot]")

	// the webhooks name the token's user as sender
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.e.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	var senders []string
	for _, g := range rc.all() {
		var p map[string]any
		if err := json.Unmarshal(g.body, &p); err != nil {
			t.Fatal(err)
		}
		senders = append(senders, get(p, "sender.login").(string))
	}
	eq(t, "senders", len(senders), 3)
	eq(t, "sender 0", senders[0], "vercel[bot]")
	eq(t, "sender 1", senders[1], "vercel[bot]")
	eq(t, "sender 2", senders[2], "github-actions[bot]")

	// users: registered once, deterministic ids, Bot for [bot] logins
	u := a.e.AddUser(emulator.User{Login: "vercel[bot]"})
	eq(t, "type", u.Type, "Bot")
	eq(t, "id stable", get(d, "creator.id"), any(float64(u.ID)))
	v := a.e.AddUser(emulator.User{Login: "renovate", ID: 29139614, Type: "Bot"})
	eq(t, "given id", v.ID, int64(29139614))
}

// TestScopedPermissions: the toolkit scopes refuse like GitHub (403 "Resource not accessible
// by integration"), and Permissions literals without them keep their meaning.
func TestScopedPermissions(t *testing.T) {
	a := start(t, emulator.Config{Tokens: map[string]emulator.Permissions{
		"reader":   {DeploymentsRead: true},
		"writer":   {DeploymentsWrite: true, DeploymentsRead: true},
		"none":     {},
		"no-check": {DeploymentsWrite: true, Checks: emulator.AccessNone},
		"chatops": {Issues: emulator.AccessWrite, PullRequests: emulator.AccessRead, Checks: emulator.AccessRead,
			Statuses: emulator.AccessRead, Contents: emulator.AccessRead},
		"prs": {PullRequests: emulator.AccessWrite},
	}})
	pr := must3(a.e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "feature-x"}))(t)
	issue := must(a.e.OpenIssue(owner, repo, "", "Bug", ""))(t)
	c := must3(a.e.AddComment(owner, repo, pr.Number, "alice", "/deploy staging"))(t)
	run := must(a.e.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "build", HeadSHA: "main"}))(t)
	comments := func(n int) string { return repoURL + "/issues/" + jsonNum(n) + "/comments" }
	reactions := repoURL + "/issues/comments/" + jsonNum(c.ID) + "/reactions"
	main := seed.Branches["main"]

	for _, c := range []struct {
		token, method, path string
		body                any
		want                int
	}{
		// metadata is always readable
		{"none", "GET", repoURL, nil, 200},
		{"none", "GET", repoURL + "/collaborators/alice/permission", nil, 200},
		{"none", "GET", repoURL + "/pulls", nil, 403},
		{"none", "GET", repoURL + "/commits/main", nil, 403},
		{"none", "GET", repoURL + "/commits/main/check-runs", nil, 403},
		{"none", "GET", comments(pr.Number), nil, 403},
		// a legacy read-only token reads everything and writes nothing
		{"reader", "GET", repoURL + "/commits/main/check-runs", nil, 200},
		{"reader", "GET", repoURL + "/pulls/" + jsonNum(pr.Number), nil, 200},
		{"reader", "GET", repoURL + "/commits/main/status", nil, 200},
		{"reader", "POST", comments(pr.Number), map[string]any{"body": "x"}, 403},
		{"reader", "PATCH", repoURL + "/check-runs/" + jsonNum(run.ID), map[string]any{"status": "in_progress"}, 403},
		{"reader", "POST", repoURL + "/statuses/" + main, map[string]any{"state": "success"}, 403},
		// a legacy writer writes (as before: commit statuses with DeploymentsWrite)
		{"writer", "POST", repoURL + "/statuses/" + main, map[string]any{"state": "success"}, 201},
		{"writer", "POST", comments(issue), map[string]any{"body": "x"}, 201},
		// an explicit none wins over the legacy level
		{"no-check", "GET", repoURL + "/commits/main/check-runs", nil, 403},
		{"no-check", "GET", repoURL + "/commits/main/check-suites", nil, 403},
		{"no-check", "GET", repoURL + "/check-runs/" + jsonNum(run.ID), nil, 403},
		{"no-check", "POST", repoURL + "/deployments", map[string]any{"ref": "main", "required_contexts": []string{}}, 201},
		// the ChatOps token: issues write, the rest read
		{"chatops", "POST", comments(pr.Number), map[string]any{"body": "Deploying"}, 201},
		{"chatops", "POST", reactions, map[string]any{"content": "eyes"}, 201},
		{"chatops", "GET", repoURL + "/pulls/" + jsonNum(pr.Number), nil, 200},
		{"chatops", "GET", repoURL + "/commits/" + main + "/check-runs", nil, 200},
		{"chatops", "GET", repoURL + "/commits/" + main + "/status", nil, 200},
		{"chatops", "GET", repoURL + "/commits/" + main, nil, 200},
		{"chatops", "PATCH", repoURL + "/check-runs/" + jsonNum(run.ID), map[string]any{"status": "in_progress"}, 403},
		{"chatops", "POST", repoURL + "/statuses/" + main, map[string]any{"state": "success"}, 403},
		{"chatops", "POST", repoURL + "/deployments", map[string]any{"ref": "main"}, 403},
		{"chatops", "GET", repoURL + "/deployments", nil, 403},
		// pull_requests write reaches a pull request's conversation, not a plain issue's
		{"prs", "POST", comments(pr.Number), map[string]any{"body": "x"}, 201},
		{"prs", "POST", reactions, map[string]any{"content": "rocket"}, 201},
		{"prs", "POST", comments(issue), map[string]any{"body": "x"}, 403},
		{"prs", "GET", comments(issue), nil, 403},
		{"prs", "GET", repoURL + "/commits/main/check-runs", nil, 403},
	} {
		res := a.as(c.token).do(c.method, c.path, c.body)
		if res.status != c.want {
			t.Errorf("%s: %s %s = %d, want %d (%s)", c.token, c.method, c.path, res.status, c.want, res.raw)
			continue
		}
		if c.want == 403 {
			eq(t, c.token+" "+c.path+" message", res.obj()["message"], any("Resource not accessible by integration"))
		}
	}
}
