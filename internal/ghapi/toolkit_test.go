package ghapi_test

// The toolkit calls against the emulator (every exchange checked against GitHub's OpenAPI
// description): what they return, and that a comment whose answer is lost is adopted, not made
// twice.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

const (
	tkOwner = "octo-org"
	tkRepo  = "hello-world"
	tkToken = "ghs_toolkitTOKEN0123456789"
)

func toolkitClient(t *testing.T, e *emulator.Emulator) *ghapi.Client {
	t.Helper()
	c, err := ghapi.New(ghapi.Options{Token: tkToken, APIURL: e.URL(),
		Retry: ghapi.RetryPolicy{Initial: time.Millisecond, Max: 5 * time.Millisecond, AttemptTimeout: 5 * time.Second, MaxElapsed: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPullRequestAndPermission(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	pr, _, err := e.OpenPullRequest(tkOwner, tkRepo, emulator.PullRequest{Head: "patch-1", HeadRepo: "mallory/hello-world"})
	if err != nil {
		t.Fatal(err)
	}
	for login, role := range map[string]string{"max": emulator.RoleMaintain, "tom": emulator.RoleTriage} {
		if err := e.SetRole(tkOwner, tkRepo, login, role); err != nil {
			t.Fatal(err)
		}
	}
	e.AddUser(emulator.User{Login: "nobody"})
	c := toolkitClient(t, e)
	ctx := context.Background()
	got, err := c.GetPullRequest(ctx, tkOwner, tkRepo, pr.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetState() != "open" || got.GetHead().GetSHA() != pr.HeadSHA || got.GetHead().GetRepo().GetFullName() != "mallory/hello-world" {
		t.Errorf("pull request %s head %s in %s", got.GetState(), got.GetHead().GetSHA(), got.GetHead().GetRepo().GetFullName())
	}
	for login, want := range map[string]ghapi.Permission{
		"max":    {Permission: "write", RoleName: "maintain"}, // role_name is what go-github's struct lacks
		"tom":    {Permission: "read", RoleName: "triage"},
		"nobody": {Permission: "none", RoleName: "none"},
	} {
		p, err := c.CollaboratorPermission(ctx, tkOwner, tkRepo, login)
		if err != nil || p != want {
			t.Errorf("%s: %+v, %v; want %+v", login, p, err, want)
		}
	}
	if _, err := c.CollaboratorPermission(ctx, tkOwner, tkRepo, "ghost-user"); !ghapi.IsNotFound(err) {
		t.Errorf("unknown login: %v, want 404", err)
	}
}

func TestCommentsAndReactions(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	pr, _, err := e.OpenPullRequest(tkOwner, tkRepo, emulator.PullRequest{Head: "feature-x"})
	if err != nil {
		t.Fatal(err)
	}
	cmd, _, err := e.AddComment(tkOwner, tkRepo, pr.Number, "alice", "/deploy")
	if err != nil {
		t.Fatal(err)
	}
	c := toolkitClient(t, e)
	ctx := context.Background()
	for range 2 { // the second is GitHub's 200 "already there"
		if err := c.ReactToIssueComment(ctx, tkOwner, tkRepo, cmd.ID, "eyes"); err != nil {
			t.Fatal(err)
		}
	}
	// The create's answer is lost once: the retry finds the comment and adopts it.
	e.AddFault(emulator.Fault{Method: "POST", PathContains: fmt.Sprintf("/issues/%d/comments", pr.Number), Kind: emulator.FaultLostResponse})
	cm, err := c.CreateIssueComment(ctx, tkOwner, tkRepo, pr.Number, "deploying\n<!-- marker 1 -->")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EditIssueComment(ctx, tkOwner, tkRepo, cm.GetID(), "deployed\n<!-- marker 1 -->"); err != nil {
		t.Fatal(err)
	}
	got := e.Comments(tkOwner, tkRepo, pr.Number)
	if len(got) != 2 || got[1].ID != cm.GetID() || got[1].Body != "deployed\n<!-- marker 1 -->" {
		t.Fatalf("comments %+v (want the command and one reply, edited)", got)
	}
	if len(got[0].Reactions) != 1 || got[0].Reactions[0].Content != "eyes" {
		t.Errorf("reactions %+v", got[0].Reactions)
	}
}

func TestChecksAndStatuses(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	sha := emulator.DefaultRepo().Branches["main"]
	for i := range 130 { // more than a page
		if _, err := e.CreateCheckRun(tkOwner, tkRepo, emulator.CheckRun{Name: fmt.Sprintf("check-%03d", i), HeadSHA: sha, Status: "completed", Conclusion: "success"}); err != nil {
			t.Fatal(err)
		}
	}
	// A re-run: only the latest run of a name counts.
	if _, err := e.CreateCheckRun(tkOwner, tkRepo, emulator.CheckRun{Name: "check-000", HeadSHA: sha, Status: "in_progress"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := e.AddCommitStatus(tkOwner, tkRepo, emulator.CommitStatus{SHA: sha, Context: fmt.Sprintf("ci/%d", i), State: "success"}); err != nil {
			t.Fatal(err)
		}
	}
	c := toolkitClient(t, e)
	ctx := context.Background()
	runs, err := c.ListCheckRuns(ctx, tkOwner, tkRepo, sha)
	if err != nil {
		t.Fatal(err)
	}
	inProgress := 0
	for _, r := range runs {
		if r.GetStatus() != "completed" {
			inProgress++
		}
	}
	if len(runs) != 130 || inProgress != 1 {
		t.Errorf("%d runs (%d in progress), want 130 with the re-run in progress", len(runs), inProgress)
	}
	cs, err := c.CombinedStatus(ctx, tkOwner, tkRepo, "main")
	if err != nil {
		t.Fatal(err)
	}
	if cs.GetSHA() != sha || len(cs.Statuses) != 3 || cs.GetState() != "success" {
		t.Errorf("combined %s %s %d statuses", cs.GetSHA(), cs.GetState(), len(cs.Statuses))
	}
	none, err := c.CombinedStatus(ctx, tkOwner, tkRepo, "v1.0.0")
	if err != nil || none.GetState() != "pending" || none.GetTotalCount() != 0 {
		t.Errorf("no statuses: %s %d %v (GitHub says pending, total_count 0)", none.GetState(), none.GetTotalCount(), err)
	}
}

// TestDefaultBranchFile: the file as the default branch has it (another branch's copy is not
// read), sent with no ref; a missing file is IsNotFound, errors name the policy file.
func TestDefaultBranchFile(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	c := toolkitClient(t, e)
	ctx := context.Background()
	const path = ".github/deployments.yml"
	if _, err := c.DefaultBranchFile(ctx, tkOwner, tkRepo, path); !ghapi.IsNotFound(err) {
		t.Fatalf("no file: %v, want a 404", err)
	}
	if _, err := e.PutFile(tkOwner, tkRepo, "", path, []byte("environments:\n  production:\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutFile(tkOwner, tkRepo, "feature-x", path, []byte("environments: {}\n")); err != nil {
		t.Fatal(err)
	}
	got, err := c.DefaultBranchFile(ctx, tkOwner, tkRepo, path)
	if err != nil || string(got) != "environments:\n  production:\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	reqs := e.Requests()
	if last := reqs[len(reqs)-1]; last.Path != "/repos/"+tkOwner+"/"+tkRepo+"/contents/"+path || last.RawQuery != "" {
		t.Errorf("request %s?%s, want the contents path with no query", last.Path, last.RawQuery)
	}
	_, err = c.DefaultBranchFile(ctx, tkOwner, "missing-repo", path)
	var api *ghapi.APIError
	if !errors.As(err, &api) || api.Op != ghapi.OpGetPolicyFile {
		t.Errorf("error %v, want an APIError of %s", err, ghapi.OpGetPolicyFile)
	}
}

// TestLostCommentOnLastAttemptStillAdopted: when the budget allows one attempt only and its answer
// is lost, the one last look finds the comment: it is returned (and logged as adopted), not
// reported as a failure that a caller would answer with a second comment.
func TestLostCommentOnLastAttemptStillAdopted(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	pr, _, err := e.OpenPullRequest(tkOwner, tkRepo, emulator.PullRequest{Head: "feature-x"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs []string
	c, err := ghapi.New(ghapi.Options{Token: tkToken, APIURL: e.URL(),
		Logf: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, fmt.Sprintf(format, args...))
		},
		// The first backoff (an hour) does not fit the budget: the first attempt is the last.
		Retry: ghapi.RetryPolicy{Initial: time.Hour, MaxElapsed: time.Minute, AttemptTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	e.AddFault(emulator.Fault{Method: "POST", PathContains: fmt.Sprintf("/issues/%d/comments", pr.Number), Kind: emulator.FaultLostResponse})
	cm, err := c.CreateIssueComment(context.Background(), tkOwner, tkRepo, pr.Number, "deploying\n<!-- marker 2 -->")
	if err != nil {
		t.Fatalf("err = %v, want the lost comment adopted", err)
	}
	got := e.Comments(tkOwner, tkRepo, pr.Number)
	if len(got) != 1 || got[0].ID != cm.GetID() {
		t.Fatalf("comments %+v, want exactly the one adopted (%d)", got, cm.GetID())
	}
	mu.Lock()
	defer mu.Unlock()
	want := fmt.Sprintf("create comment: response lost; adopted comment %d", cm.GetID())
	if !slices.Contains(logs, want) {
		t.Errorf("logs %q, want %q", logs, want)
	}
}
