package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

func ghErrStatus(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return er.Response.StatusCode
	}
	return 0
}

func TestRepository(t *testing.T) {
	a := start(t, emulator.Config{})
	gh := ghClient(t, a, false)
	ctx := context.Background()

	r, _, err := gh.Repositories.Get(ctx, owner, repo)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "full_name", r.GetFullName(), owner+"/"+repo)
	eq(t, "default_branch", r.GetDefaultBranch(), "main")
	eq(t, "owner type", r.GetOwner().GetType(), "Organization")
	eq(t, "organization", r.GetOrganization().GetLogin(), owner)
	eq(t, "fork", r.GetFork(), false)
	eq(t, "admin with a full token", r.GetPermissions()["admin"], true)
	// its url is followable and names the same repository
	again := a.do("GET", r.GetURL(), nil).must(t, 200).obj()
	eq(t, "followed id", again["id"], any(float64(r.GetID())))
	a.do("GET", "/repos/octo-org/nope", nil).must(t, 404)

	// a user's fork: owner is a User, parent and source name the original
	if _, err := a.e.Fork(owner, repo, "alice"); err != nil {
		t.Fatal(err)
	}
	f, _, err := gh.Repositories.Get(ctx, "alice", repo)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "fork", f.GetFork(), true)
	eq(t, "fork owner type", f.GetOwner().GetType(), "User")
	eq(t, "parent", f.GetParent().GetFullName(), owner+"/"+repo)
	eq(t, "source", f.GetSource().GetFullName(), owner+"/"+repo)
	if f.Organization != nil {
		t.Errorf("a user's repository has organization %v", f.GetOrganization().GetLogin())
	}

	// a token acting as a user with a role sees that role's permissions
	a.e.SetTokenUser("triager-token", "tina")
	if err := a.e.SetRole(owner, repo, "tina", emulator.RoleTriage); err != nil {
		t.Fatal(err)
	}
	p := a.as("triager-token").do("GET", repoURL, nil).must(t, 200).obj()["permissions"].(map[string]any)
	eq(t, "triage", p["triage"], any(true))
	eq(t, "push", p["push"], any(false))
	eq(t, "pull", p["pull"], any(true))
}

func TestGetCommit(t *testing.T) {
	a := start(t, emulator.Config{})
	gh := ghClient(t, a, false)
	ctx := context.Background()
	main := seed.Branches["main"]
	for _, ref := range []string{"main", "heads/main", "refs/heads/main", main, main[:7], "v1.0.0"} {
		c, _, err := gh.Repositories.GetCommit(ctx, owner, repo, ref, nil)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		want := main
		if ref == "v1.0.0" {
			want = seed.Tags["v1.0.0"]
		}
		eq(t, "sha of "+ref, c.GetSHA(), want)
	}
	for _, ref := range []string{"nope", main[:6], strings.Repeat("0", 40)} {
		_, _, err := gh.Repositories.GetCommit(ctx, owner, repo, ref, nil)
		eq(t, "status for "+ref, ghErrStatus(err), 422)
	}

	// a push: new head with its parent, message and author
	sha := must(a.e.Push(owner, repo, "main", emulator.Commit{Message: "Ship it", Author: "alice"}))(t)
	c, _, err := gh.Repositories.GetCommit(ctx, owner, repo, "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "new head", c.GetSHA(), sha)
	eq(t, "message", c.GetCommit().GetMessage(), "Ship it")
	eq(t, "author", c.GetAuthor().GetLogin(), "alice")
	if len(c.Parents) != 1 || c.Parents[0].GetSHA() != main {
		t.Errorf("parents %v, want [%s]", c.Parents, main)
	}
	// the commit's url is followable
	a.do("GET", c.GetURL(), nil).must(t, 200)
	// a new branch
	b := must(a.e.Push(owner, repo, "release/1", emulator.Commit{}))(t)
	eq(t, "new branch", a.do("GET", repoURL+"/commits/release/1", nil).must(t, 200).obj()["sha"], any(b))
}

func TestCheckRuns(t *testing.T) {
	a := start(t, emulator.Config{})
	gh := ghClient(t, a, false)
	ctx := context.Background()
	main := seed.Branches["main"]

	// The default token acts as github-actions[bot]: its runs belong to GitHub Actions (15368).
	build, resp, err := gh.Checks.CreateCheckRun(ctx, owner, repo, github.CreateCheckRunOptions{Name: "build", HeadSHA: main})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "create status", resp.StatusCode, 201)
	eq(t, "status", build.GetStatus(), "queued")
	eq(t, "app", build.GetApp().GetID(), int64(15368))
	if build.Conclusion != nil || build.CompletedAt != nil {
		t.Errorf("queued run has conclusion %v / completed_at %v", build.Conclusion, build.CompletedAt)
	}
	// another app's run, and a re-run of build
	vercel := must(a.e.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "Vercel", HeadSHA: "main", App: "vercel",
		Status: "completed", Conclusion: "success", DetailsURL: "https://vercel.example/1"}))(t)
	rerun, _, err := gh.Checks.CreateCheckRun(ctx, owner, repo, github.CreateCheckRunOptions{Name: "build", HeadSHA: main,
		Status: github.String("in_progress")})
	if err != nil {
		t.Fatal(err)
	}

	list := func(opts *github.ListCheckRunsOptions) (int, []string) {
		t.Helper()
		res, _, err := gh.Checks.ListCheckRunsForRef(ctx, owner, repo, "main", opts)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range res.CheckRuns {
			names = append(names, r.GetName()+":"+r.GetStatus())
		}
		return res.GetTotal(), names
	}
	n, names := list(nil)
	eq(t, "latest: one run per name", strings.Join(names, ","), "build:in_progress,Vercel:completed")
	eq(t, "total", n, 2)
	_, names = list(&github.ListCheckRunsOptions{Filter: github.String("all")})
	eq(t, "all", strings.Join(names, ","), "build:in_progress,Vercel:completed,build:queued")
	_, names = list(&github.ListCheckRunsOptions{CheckName: github.String("build"), Filter: github.String("all")})
	eq(t, "check_name", strings.Join(names, ","), "build:in_progress,build:queued")
	_, names = list(&github.ListCheckRunsOptions{Status: github.String("completed")})
	eq(t, "status", strings.Join(names, ","), "Vercel:completed")
	_, names = list(&github.ListCheckRunsOptions{AppID: github.Int64(vercel.AppID)})
	eq(t, "app_id", strings.Join(names, ","), "Vercel:completed")

	// paging with Link
	var paged []string
	opts := &github.ListCheckRunsOptions{Filter: github.String("all"), ListOptions: github.ListOptions{PerPage: 2}}
	for {
		res, resp, err := gh.Checks.ListCheckRunsForRef(ctx, owner, repo, main, opts)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "total on every page", res.GetTotal(), 3)
		for _, r := range res.CheckRuns {
			paged = append(paged, r.GetName())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	eq(t, "paged", strings.Join(paged, ","), "build,Vercel,build")

	// get, then complete with a conclusion: status completed, completed_at set
	got, _, err := gh.Checks.GetCheckRun(ctx, owner, repo, rerun.GetID())
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "get", got.GetStatus(), "in_progress")
	done, _, err := gh.Checks.UpdateCheckRun(ctx, owner, repo, rerun.GetID(), github.UpdateCheckRunOptions{Name: "build",
		Conclusion: github.String("failure"), Output: &github.CheckRunOutput{Title: github.String("Build"), Summary: github.String("1 failed")}})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "completed", done.GetStatus(), "completed")
	eq(t, "conclusion", done.GetConclusion(), "failure")
	eq(t, "summary", done.GetOutput().GetSummary(), "1 failed")
	if done.CompletedAt == nil {
		t.Errorf("completed_at not set")
	}
	a.do("GET", repoURL+"/check-runs/999999", nil).must(t, 404)
	a.do("GET", repoURL+"/commits/nope/check-runs", nil).must(t, 404)

	// check suites: one per app and commit, aggregated
	suites, _, err := gh.Checks.ListCheckSuitesForRef(ctx, owner, repo, "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "suites", suites.GetTotal(), 2)
	for _, s := range suites.CheckSuites {
		switch s.GetApp().GetSlug() {
		case "github-actions":
			eq(t, "actions suite", s.GetStatus()+"/"+s.GetConclusion(), "in_progress/")
		case "vercel":
			eq(t, "vercel suite", s.GetStatus()+"/"+s.GetConclusion(), "completed/success")
		default:
			t.Errorf("suite of app %q", s.GetApp().GetSlug())
		}
	}

	// A person's token cannot create check runs (only GitHub Apps can).
	a.e.SetTokenUser("pat", "alice")
	res := a.as("pat").do("POST", repoURL+"/check-runs", map[string]any{"name": "x", "head_sha": main}).must(t, 403)
	eq(t, "message", res.obj()["message"], any("You must authenticate via a GitHub App."))
}

// Refusals the description does not list for the checks endpoints (it documents only 201/200):
// no conformance hook.
func TestCheckRunValidation(t *testing.T) {
	a := startRaw(t, emulator.Config{})
	main := seed.Branches["main"]
	a.do("POST", repoURL+"/check-runs", map[string]any{"name": "x", "head_sha": main, "status": "completed"}).must(t, 422)
	a.do("POST", repoURL+"/check-runs", map[string]any{"name": "x", "head_sha": strings.Repeat("1", 40)}).must(t, 422)
	a.do("POST", repoURL+"/check-runs", map[string]any{"head_sha": main}).must(t, 422)
	run := a.do("POST", repoURL+"/check-runs", map[string]any{"name": "x", "head_sha": main}).must(t, 201).obj()
	id := jsonNum(run["id"])
	a.do("PATCH", repoURL+"/check-runs/"+id, map[string]any{"status": "completed"}).must(t, 422)
	a.do("PATCH", repoURL+"/check-runs/"+id, map[string]any{"conclusion": "stale"}).must(t, 422)
	res := a.do("PATCH", repoURL+"/check-runs/"+id, map[string]any{"status": "completed", "conclusion": "success"}).must(t, 200).obj()
	eq(t, "status", res["status"], any("completed"))
	// back to in_progress clears the conclusion
	res = a.do("PATCH", repoURL+"/check-runs/"+id, map[string]any{"status": "in_progress"}).must(t, 200).obj()
	if res["conclusion"] != nil || res["completed_at"] != nil {
		t.Errorf("in_progress run: conclusion %v completed_at %v", res["conclusion"], res["completed_at"])
	}
	// Go API refusals
	for _, cr := range []emulator.CheckRun{
		{HeadSHA: "main"},
		{Name: "x", HeadSHA: "nope"},
		{Name: "x", HeadSHA: "main", Status: "completed"},
		{Name: "x", HeadSHA: "main", Status: "queued", Conclusion: "success"},
		{Name: "x", HeadSHA: "main", Status: "waiting"},
	} {
		if _, err := a.e.CreateCheckRun(owner, repo, cr); err == nil {
			t.Errorf("CreateCheckRun(%+v) accepted", cr)
		}
	}
}

func TestPullRequests(t *testing.T) {
	a := start(t, emulator.Config{})
	gh := ghClient(t, a, false)
	ctx := context.Background()
	e := a.e

	same := must3(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "feature-x", Title: "Feature X", User: "bob"}))(t)
	fork := must3(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "patch-1", HeadRepo: "alice/" + repo, Title: "Fix typo"}))(t)
	draft := must3(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "wip", Draft: true}))(t)
	toClose := must3(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "abandoned"}))(t)
	toMerge := must3(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "ready"}))(t)
	issue := must(e.OpenIssue(owner, repo, "carol", "Bug", "it breaks"))(t)
	must(e.ClosePullRequest(owner, repo, toClose.Number, ""))(t)
	must(e.MergePullRequest(owner, repo, toMerge.Number, "octocat"))(t)

	p, _, err := gh.PullRequests.Get(ctx, owner, repo, fork.Number)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "state", p.GetState(), "open")
	eq(t, "fork head repo", p.GetHead().GetRepo().GetFullName(), "alice/"+repo)
	eq(t, "fork head label", p.GetHead().GetLabel(), "alice:patch-1")
	eq(t, "fork head user", p.GetHead().GetUser().GetLogin(), "alice")
	eq(t, "author", p.GetUser().GetLogin(), "alice")
	// base.sha is the base branch's current head (main moved with the merge above)
	eq(t, "base", p.GetBase().GetRef()+"@"+p.GetBase().GetSHA(), "main@"+a.do("GET", repoURL+"/commits/main", nil).must(t, 200).obj()["sha"].(string))
	eq(t, "base repo", p.GetBase().GetRepo().GetFullName(), owner+"/"+repo)
	eq(t, "mergeable", p.GetMergeable(), true)
	eq(t, "mergeable_state", p.GetMergeableState(), "clean")
	// The fork's head commit is known to the base repository (refs/pull/N/head), so checks and
	// statuses can be read and written on it there, while the branch exists only in the fork.
	a.do("GET", repoURL+"/commits/"+fork.HeadSHA, nil).must(t, 200)
	a.do("POST", repoURL+"/statuses/"+fork.HeadSHA, map[string]any{"state": "success", "context": "ci"}).must(t, 201)
	a.do("GET", repoURL+"/commits/patch-1", nil).must(t, 422)
	a.do("GET", "/repos/alice/"+repo+"/commits/patch-1", nil).must(t, 200)

	p, _, _ = gh.PullRequests.Get(ctx, owner, repo, same.Number)
	eq(t, "same-repo head", p.GetHead().GetRepo().GetFullName(), owner+"/"+repo)
	eq(t, "same-repo head sha", p.GetHead().GetSHA(), seed.Branches["feature-x"])
	p, _, _ = gh.PullRequests.Get(ctx, owner, repo, draft.Number)
	eq(t, "draft", p.GetDraft(), true)
	eq(t, "draft state", p.GetMergeableState(), "draft")
	p, _, _ = gh.PullRequests.Get(ctx, owner, repo, toClose.Number)
	eq(t, "closed", p.GetState()+"/"+fmtBool(p.GetMerged()), "closed/false")
	if p.ClosedAt == nil || p.MergedAt != nil {
		t.Errorf("closed: closed_at %v merged_at %v", p.ClosedAt, p.MergedAt)
	}
	p, _, _ = gh.PullRequests.Get(ctx, owner, repo, toMerge.Number)
	eq(t, "merged", p.GetState()+"/"+fmtBool(p.GetMerged()), "closed/true")
	eq(t, "merged_by", p.GetMergedBy().GetLogin(), "octocat")
	if p.MergedAt == nil || p.Mergeable != nil {
		t.Errorf("merged: merged_at %v mergeable %v", p.MergedAt, p.Mergeable)
	}
	// the merge moved main to the merge commit
	mc := a.do("GET", repoURL+"/commits/main", nil).must(t, 200).obj()
	eq(t, "merge commit", mc["sha"], any(p.GetMergeCommitSHA()))
	eq(t, "merge parents", len(mc["parents"].([]any)), 2)

	_, _, err = gh.PullRequests.Get(ctx, owner, repo, issue)
	eq(t, "a plain issue is no pull request", ghErrStatus(err), 404)
	_, _, err = gh.PullRequests.Get(ctx, owner, repo, 999)
	eq(t, "unknown", ghErrStatus(err), 404)

	numbers := func(opts *github.PullRequestListOptions) string {
		t.Helper()
		ps, _, err := gh.PullRequests.List(ctx, owner, repo, opts)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, jsonNum(p.GetNumber()))
		}
		return strings.Join(out, ",")
	}
	eq(t, "open (default), newest first", numbers(nil), "3,2,1")
	eq(t, "closed", numbers(&github.PullRequestListOptions{State: "closed"}), "5,4")
	eq(t, "all asc", numbers(&github.PullRequestListOptions{State: "all", Direction: "asc"}), "1,2,3,4,5")
	eq(t, "head owner:branch", numbers(&github.PullRequestListOptions{Head: "alice:patch-1"}), "2")
	eq(t, "head of another owner", numbers(&github.PullRequestListOptions{Head: owner + ":patch-1"}), "")
	eq(t, "base", numbers(&github.PullRequestListOptions{State: "all", Base: "main"}), "5,4,3,2,1")
	eq(t, "base none", numbers(&github.PullRequestListOptions{Base: "develop"}), "")
	var paged []string
	opts := &github.PullRequestListOptions{State: "all", ListOptions: github.ListOptions{PerPage: 2}}
	for {
		ps, resp, err := gh.PullRequests.List(ctx, owner, repo, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			paged = append(paged, jsonNum(p.GetNumber()))
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	eq(t, "paged", strings.Join(paged, ","), "5,4,3,2,1")
	a.do("GET", repoURL+"/pulls?state=merged", nil).must(t, 422)

	// a push to the fork's branch moves the pull request's head
	ev, err := e.PushPullRequest(owner, repo, fork.Number, emulator.Commit{})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "synchronize before", get(ev.Payload, "before"), any(fork.HeadSHA))
	p, _, _ = gh.PullRequests.Get(ctx, owner, repo, fork.Number)
	eq(t, "moved head", p.GetHead().GetSHA(), get(ev.Payload, "after").(string))
	eq(t, "commits", p.GetCommits(), 2)
}

func fmtBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// GitHub sends head.repo null once a fork is deleted although the description says non-null
// (github/rest-api-description#161): no conformance hook.
func TestPullRequestFromDeletedFork(t *testing.T) {
	a := startRaw(t, emulator.Config{})
	pr := must3(a.e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "patch-1", HeadRepo: "alice/" + repo}))(t)
	if err := a.e.DeleteRepo("alice", repo); err != nil {
		t.Fatal(err)
	}
	p := a.do("GET", repoURL+"/pulls/"+jsonNum(pr.Number), nil).must(t, 200).obj()
	if head := p["head"].(map[string]any); head["repo"] != nil || head["sha"] != pr.HeadSHA || head["label"] != "alice:patch-1" {
		t.Errorf("head after the fork was deleted: %v", head)
	}
	a.do("GET", repoURL+"/commits/"+pr.HeadSHA, nil).must(t, 200)
	if _, err := a.e.PushPullRequest(owner, repo, pr.Number, emulator.Commit{}); err == nil {
		t.Errorf("push to a deleted fork accepted")
	}
}

func TestIssueCommentsAndReactions(t *testing.T) {
	a := start(t, emulator.Config{})
	gh := ghClient(t, a, false)
	ctx := context.Background()
	e := a.e
	pr := must3(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "feature-x"}))(t)
	issue := must(e.OpenIssue(owner, repo, "", "Bug", ""))(t)

	// the bot answers on the pull request and on the issue (same endpoints)
	c, resp, err := gh.Issues.CreateComment(ctx, owner, repo, pr.Number, &github.IssueComment{Body: github.String("Deploying…")})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "201", resp.StatusCode, 201)
	eq(t, "Location", resp.Header.Get("Location"), c.GetURL())
	eq(t, "author", c.GetUser().GetLogin(), "github-actions[bot]")
	eq(t, "association", c.GetAuthorAssociation(), "NONE")
	if !strings.HasSuffix(c.GetHTMLURL(), "/pull/"+jsonNum(pr.Number)+"#issuecomment-"+jsonNum(c.GetID())) {
		t.Errorf("html_url %q", c.GetHTMLURL())
	}
	a.do("GET", resp.Header.Get("Location"), nil).must(t, 200)
	if _, _, err := gh.Issues.CreateComment(ctx, owner, repo, issue, &github.IssueComment{Body: github.String("on the issue")}); err != nil {
		t.Fatal(err)
	}
	_, _, err = gh.Issues.CreateComment(ctx, owner, repo, 999, &github.IssueComment{Body: github.String("x")})
	eq(t, "unknown issue", ghErrStatus(err), 404)

	// someone else's comment (Go API), then list: oldest first
	if err := e.SetRole(owner, repo, "mia", emulator.RoleMaintain); err != nil {
		t.Fatal(err)
	}
	theirs, _, err := e.AddComment(owner, repo, pr.Number, "mia", "/deploy staging")
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := gh.Issues.ListComments(ctx, owner, repo, pr.Number, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].GetID() != c.GetID() || list[1].GetBody() != "/deploy staging" {
		t.Fatalf("list %v", list)
	}
	eq(t, "collaborator association", list[1].GetAuthorAssociation(), "COLLABORATOR")

	// edit and delete
	edited, _, err := gh.Issues.EditComment(ctx, owner, repo, c.GetID(), &github.IssueComment{Body: github.String("Deployed ✓")})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "edited", edited.GetBody(), "Deployed ✓")
	got, _, _ := gh.Issues.GetComment(ctx, owner, repo, c.GetID())
	eq(t, "get after edit", got.GetBody(), "Deployed ✓")

	// reactions: 201 when created, 200 with the same body when already there
	r1, resp, err := gh.Reactions.CreateIssueCommentReaction(ctx, owner, repo, theirs.ID, "eyes")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "created", resp.StatusCode, 201)
	again := a.do("POST", repoURL+"/issues/comments/"+jsonNum(theirs.ID)+"/reactions", map[string]any{"content": "eyes"}).must(t, 200)
	eq(t, "same reaction id", again.obj()["id"], any(float64(r1.GetID())))
	_, resp, err = gh.Reactions.CreateIssueCommentReaction(ctx, owner, repo, theirs.ID, "eyes")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("repeated reaction: %v %v", resp.StatusCode, err)
	}
	if _, _, err := gh.Reactions.CreateIssueCommentReaction(ctx, owner, repo, theirs.ID, "rocket"); err != nil {
		t.Fatal(err)
	}
	a.do("POST", repoURL+"/issues/comments/"+jsonNum(theirs.ID)+"/reactions", map[string]any{"content": "tada"}).must(t, 422)
	rs, _, err := gh.Reactions.ListIssueCommentReactions(ctx, owner, repo, theirs.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "reactions", len(rs), 2)
	only := a.do("GET", repoURL+"/issues/comments/"+jsonNum(theirs.ID)+"/reactions?content=rocket", nil).must(t, 200).arr()
	eq(t, "content filter", len(only), 1)
	rollup := a.do("GET", repoURL+"/issues/comments/"+jsonNum(theirs.ID), nil).must(t, 200).obj()["reactions"]
	eq(t, "rollup eyes", get(rollup, "eyes"), any(1.0))
	eq(t, "rollup total", get(rollup, "total_count"), any(2.0))
	if _, err := gh.Reactions.DeleteIssueCommentReaction(ctx, owner, repo, theirs.ID, r1.GetID()); err != nil {
		t.Fatal(err)
	}
	a.do("DELETE", repoURL+"/issues/comments/"+jsonNum(theirs.ID)+"/reactions/"+jsonNum(r1.GetID()), nil).must(t, 404)
	snap := e.Comments(owner, repo, pr.Number)
	if len(snap) != 2 || len(snap[1].Reactions) != 1 || snap[1].Reactions[0].Content != "rocket" || snap[1].Reactions[0].User != "github-actions[bot]" {
		t.Errorf("snapshot %+v", snap)
	}

	if _, err := gh.Issues.DeleteComment(ctx, owner, repo, c.GetID()); err != nil {
		t.Fatal(err)
	}
	a.do("GET", repoURL+"/issues/comments/"+jsonNum(c.GetID()), nil).must(t, 404)
	eq(t, "after delete", len(e.Comments(owner, repo, pr.Number)), 1)
	a.do("GET", repoURL+"/issues/999/comments", nil).must(t, 404)
}

func TestCollaboratorPermission(t *testing.T) {
	a := start(t, emulator.Config{})
	gh := ghClient(t, a, false)
	ctx := context.Background()
	for _, c := range []struct{ role, permission, roleName string }{
		{emulator.RoleAdmin, "admin", "admin"},
		{emulator.RoleMaintain, "write", "maintain"},
		{emulator.RoleWrite, "write", "write"},
		{emulator.RoleTriage, "read", "triage"},
		{emulator.RoleRead, "read", "read"},
		{emulator.RoleNone, "none", "none"},
	} {
		login := "user-" + c.roleName
		if err := a.e.SetRole(owner, repo, login, c.role); err != nil {
			t.Fatal(err)
		}
		res := a.do("GET", repoURL+"/collaborators/"+login+"/permission", nil).must(t, 200).obj()
		eq(t, login+" permission", res["permission"], any(c.permission))
		eq(t, login+" role_name", res["role_name"], any(c.roleName))
		eq(t, login+" user", get(res, "user.login"), any(login))
		pl, _, err := gh.Repositories.GetPermissionLevel(ctx, owner, repo, login)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "go-github "+login, pl.GetPermission(), c.permission)
	}
	// a role can be taken away
	if err := a.e.SetRole(owner, repo, "user-admin", emulator.RoleNone); err != nil {
		t.Fatal(err)
	}
	eq(t, "removed", a.do("GET", repoURL+"/collaborators/user-admin/permission", nil).must(t, 200).obj()["permission"], any("none"))
	_, _, err := gh.Repositories.GetPermissionLevel(ctx, owner, repo, "nobody-knows-me")
	eq(t, "unknown user", ghErrStatus(err), 404)
	// the owner of a user's repository is its admin
	if _, err := a.e.Fork(owner, repo, "alice"); err != nil {
		t.Fatal(err)
	}
	eq(t, "owner", a.do("GET", "/repos/alice/"+repo+"/collaborators/alice/permission", nil).must(t, 200).obj()["role_name"], any("admin"))
	n := must(a.e.OpenIssue("alice", repo, "", "todo", ""))(t)
	c := must3(a.e.AddComment("alice", repo, n, "alice", "mine"))(t)
	got := a.do("GET", "/repos/alice/"+repo+"/issues/comments/"+jsonNum(c.ID), nil).must(t, 200).obj()
	eq(t, "owner association", got["author_association"], any("OWNER"))
	is, _ := a.e.Issue("alice", repo, n)
	eq(t, "issue author defaults to the owner (a user)", is.User, "alice")
	n = must(a.e.OpenIssue(owner, repo, "", "todo", ""))(t)
	is, _ = a.e.Issue(owner, repo, n)
	eq(t, "issue author of an organization's repository", is.User, "octocat")
	if err := a.e.SetRole(owner, repo, "x", "owner"); err == nil {
		t.Errorf("unknown role accepted")
	}
	_ = http.StatusOK
}

// TestScriptingAPI covers the snapshot and helper methods tests use besides the HTTP routes.
func TestScriptingAPI(t *testing.T) {
	a := start(t, emulator.Config{})
	e := a.e

	// commit statuses by another system, visible in the combined status with their creator
	id := must(e.AddCommitStatus(owner, repo, emulator.CommitStatus{SHA: "main", Context: "Vercel", State: "pending",
		TargetURL: "https://vercel.example/1", Description: "Building", Creator: "vercel[bot]"}))(t)
	if id == 0 {
		t.Errorf("no id")
	}
	st := a.do("GET", repoURL+"/commits/main/statuses", nil).must(t, 200).arr()
	eq(t, "status creator", get(st[0], "creator.login"), any("vercel[bot]"))
	eq(t, "status target_url", get(st[0], "target_url"), any("https://vercel.example/1"))
	must(e.AddCommitStatus(owner, repo, emulator.CommitStatus{SHA: seed.Branches["main"][:8], Context: "Vercel", State: "success"}))(t)
	eq(t, "combined", a.do("GET", repoURL+"/commits/main/status", nil).must(t, 200).obj()["state"], any("success"))
	if _, err := e.AddCommitStatus(owner, repo, emulator.CommitStatus{SHA: "main", State: "done"}); err == nil {
		t.Errorf("bad state accepted")
	}
	if _, err := e.AddCommitStatus(owner, repo, emulator.CommitStatus{SHA: "nope", State: "success"}); err == nil {
		t.Errorf("unknown commit accepted")
	}

	// reactions by people; the same one twice is kept once
	pr := must3(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "feature-x", Title: "X", Body: "body"}))(t)
	c := must3(e.AddComment(owner, repo, pr.Number, "alice", "/deploy"))(t)
	r1 := must(e.React(owner, repo, c.ID, "bob", "+1"))(t)
	r2 := must(e.React(owner, repo, c.ID, "bob", "+1"))(t)
	eq(t, "same reaction", r2.ID, r1.ID)
	if _, err := e.React(owner, repo, c.ID, "bob", "tada"); err == nil {
		t.Errorf("bad content accepted")
	}
	eq(t, "reactions", len(e.Comments(owner, repo, pr.Number)[0].Reactions), 1)

	// snapshots
	prs := e.PullRequests(owner, repo)
	if len(prs) != 1 || prs[0].Title != "X" || prs[0].Body != "body" || prs[0].State != "open" || prs[0].Head != "feature-x" ||
		prs[0].HeadSHA != seed.Branches["feature-x"] || prs[0].BaseSHA != seed.Branches["main"] || prs[0].User != "octocat" {
		t.Errorf("pull requests %+v", prs)
	}
	is, ok := e.Issue(owner, repo, pr.Number)
	if !ok || is.PullRequest == nil || len(is.Comments) != 1 {
		t.Errorf("issue %+v", is)
	}
	if _, ok := e.Issue(owner, repo, 99); ok {
		t.Errorf("issue 99 exists")
	}
	logins := map[string]string{}
	for _, u := range e.Users() {
		logins[u.Login] = u.Type
	}
	for login, typ := range map[string]string{"github-actions[bot]": "Bot", "octo-org": "Organization", "alice": "User", "vercel[bot]": "Bot"} {
		eq(t, "user "+login, logins[login], typ)
	}

	// check runs: update back and forth, completion only once
	run := must(e.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "build", HeadSHA: "feature-x", Title: "Build", Summary: "running"}))(t)
	upd, ev, err := e.UpdateCheckRun(owner, repo, run.ID, "in_progress", "")
	if err != nil || ev != nil || upd.Status != "in_progress" {
		t.Errorf("in_progress: %+v %v %v", upd, ev, err)
	}
	if _, err := e.CompleteCheckRun(owner, repo, run.ID, "failure"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CompleteCheckRun(owner, repo, run.ID, "success"); err == nil {
		t.Errorf("completing a completed run accepted")
	}
	runs := e.CheckRuns(owner, repo, "feature-x")
	if len(runs) != 1 || runs[0].Summary != "running" || runs[0].AppID != 15368 || runs[0].CompletedAt.IsZero() {
		t.Errorf("check runs %+v", runs)
	}
	// the REST list shows the pull request the run belongs to
	list := a.do("GET", repoURL+"/commits/feature-x/check-runs", nil).must(t, 200).obj()["check_runs"].([]any)
	eq(t, "pull_requests", get(list[0].(map[string]any)["pull_requests"].([]any)[0], "number"), any(float64(pr.Number)))
	suites := a.do("GET", repoURL+"/commits/feature-x/check-suites?check_name=build&app_id=15368", nil).must(t, 200).obj()
	eq(t, "suite", suites["total_count"], any(1.0))
	eq(t, "suite conclusion", get(suites["check_suites"].([]any)[0], "conclusion"), any("failure"))
	eq(t, "no suite", a.do("GET", repoURL+"/commits/feature-x/check-suites?check_name=lint", nil).must(t, 200).obj()["total_count"], any(0.0))

	// refusals
	for name, err := range map[string]error{
		"no head":         second(e.OpenPullRequest(owner, repo, emulator.PullRequest{})),
		"unknown base":    second(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "x", Base: "develop"})),
		"head is base":    second(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "main"})),
		"bad head repo":   second(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "x", HeadRepo: "alice"})),
		"renamed fork":    second(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "x", HeadRepo: "alice/other"})),
		"closed push":     pushClosed(t, e),
		"unknown pull":    second2(e.ClosePullRequest(owner, repo, 99, "")),
		"bad sha":         second2(e.Push(owner, repo, "main", emulator.Commit{SHA: "xyz"})),
		"unknown repo":    second2(e.Push(owner, "nope", "main", emulator.Commit{})),
		"unknown role":    e.SetRole(owner, repo, "bob", "owner"),
		"unknown comment": second3(e.EditComment(owner, repo, 1, "x")),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func second[A, B any](_ A, _ B, err error) error  { return err }
func second2[A any](_ A, err error) error         { return err }
func second3[A, B any](_ A, _ B, err error) error { return err }

func pushClosed(t *testing.T, e *emulator.Emulator) error {
	pr := must3(e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "to-close"}))(t)
	must(e.ClosePullRequest(owner, repo, pr.Number, ""))(t)
	if _, err := e.ClosePullRequest(owner, repo, pr.Number, ""); err == nil {
		t.Errorf("closing twice accepted")
	}
	_, err := e.PushPullRequest(owner, repo, pr.Number, emulator.Commit{})
	return err
}
