package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// The emulator's clock in these tests: GitHub's timestamps (a comment's created_at, a check
// suite's) come from it, so "pushed after the comment" is a fact of GitHub's records.
func newTimedChatops(t *testing.T) (*chatops, *testkit.Clock) {
	t.Helper()
	clk := testkit.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	return newChatopsWith(t, emulator.Config{Now: clk.Now}), clk
}

// refusedHeadMoved runs the job and checks the attack was refused: no deployment, a failed job,
// and one reply naming the new head and asking for a fresh comment.
func refusedHeadMoved(t *testing.T, c *chatops, j *actionsim.Job, number int, head string) {
	t.Helper()
	ran := false
	j.StepsAfter = []actionsim.Step{{ID: "ship", Run: func(context.Context, *actionsim.StepRun) error { ran = true; return nil }}}
	res := run(t, j)
	if res.JobStatus != "failure" {
		t.Fatalf("job %s, errors %v: want the command refused", res.JobStatus, res.StageErrors)
	}
	if ran {
		t.Error("the deploy step ran")
	}
	for _, d := range c.e.Deployments(owner, repoName) {
		if d.SHA == head {
			t.Fatalf("deployment %d of the unreviewed commit %s", d.ID, head)
		}
	}
	bot := botComments(c.e, number)
	if len(bot) == 0 {
		t.Fatal("no reply")
	}
	reply := bot[len(bot)-1].Body
	for _, s := range []string{"moved after the command", "it is now " + head[:7], "comment /deploy again"} {
		if !strings.Contains(reply, s) {
			t.Errorf("reply lacks %q:\n%s", s, reply)
		}
	}
}

// TestCommandAttackPushAfterComment: a maintainer reviews A and comments; the author pushes B
// before the job reads the pull request. B is not deployed.
func TestCommandAttackPushAfterComment(t *testing.T) {
	t.Parallel()
	c, clk := newTimedChatops(t)
	clk.Advance(time.Minute)
	_, ev := c.comment(t, "ada", "/deploy production")
	clk.Advance(20 * time.Second) // the job waits in its concurrency group
	if _, err := c.e.PushPullRequest(owner, repoName, c.pr.Number, emulator.Commit{Message: "not reviewed"}); err != nil {
		t.Fatal(err)
	}
	head := c.e.PullRequests(owner, repoName)[0].HeadSHA
	mustCheck(t, c.e, emulator.CheckRun{Name: "ci", HeadSHA: head, Status: "completed", Conclusion: "success"})
	refusedHeadMoved(t, c, c.job(t, ev, nil), c.pr.Number, head)
	reply := botComments(c.e, c.pr.Number)[0].Body
	if !strings.Contains(reply, "pushed to `feature-x` at 09:01:20 UTC, after the comment (written at 09:01:00 UTC)") {
		t.Errorf("reply does not say when, from GitHub's records:\n%s", reply)
	}
	// Both commits are named: the new head, and the one the command was written for.
	if !strings.Contains(reply, "not the commit the command was written for ("+c.pr.HeadSHA[:7]+")") {
		t.Errorf("reply does not name the reviewed commit %s:\n%s", c.pr.HeadSHA[:7], reply)
	}
}

// TestCommandAttackForkPushAfterComment: the same with allow-forks: an outsider's push after the
// comment is not deployed with the base repository's secrets.
func TestCommandAttackForkPushAfterComment(t *testing.T) {
	t.Parallel()
	c, clk := newTimedChatops(t)
	pr, _, err := c.e.OpenPullRequest(owner, repoName, emulator.PullRequest{Head: "patch-1", HeadRepo: "mallory/hello-world"})
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, c.e, emulator.CheckRun{Name: "ci", HeadSHA: pr.HeadSHA, Status: "completed", Conclusion: "success"})
	clk.Advance(time.Minute)
	_, ev, err := c.e.AddComment(owner, repoName, pr.Number, "ada", "/deploy")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Second)
	if _, err := c.e.PushPullRequest(owner, repoName, pr.Number, emulator.Commit{Message: "steal secrets"}); err != nil {
		t.Fatal(err)
	}
	var head string
	for _, p := range c.e.PullRequests(owner, repoName) {
		if p.Number == pr.Number {
			head = p.HeadSHA
		}
	}
	mustCheck(t, c.e, emulator.CheckRun{Name: "ci", HeadSHA: head, Status: "completed", Conclusion: "success"})
	refusedHeadMoved(t, c, c.job(t, ev, map[string]string{"allow-forks": "true"}), pr.Number, head)
}

// TestCommandAttackPrepushedCommit: a writer pushes B to another branch before the comment, then
// moves the pull request's branch to B after it. B's older record on the other branch proves
// nothing about this branch.
func TestCommandAttackPrepushedCommit(t *testing.T) {
	t.Parallel()
	c, clk := newTimedChatops(t)
	b, err := c.e.Push(owner, repoName, "elsewhere", emulator.Commit{Message: "B"})
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, c.e, emulator.CheckRun{Name: "ci", HeadSHA: b, Status: "completed", Conclusion: "success"})
	clk.Advance(time.Minute)
	_, ev := c.comment(t, "ada", "/deploy")
	clk.Advance(time.Second)
	if _, err := c.e.PushPullRequest(owner, repoName, c.pr.Number, emulator.Commit{SHA: b}); err != nil {
		t.Fatal(err)
	}
	refusedHeadMoved(t, c, c.job(t, ev, nil), c.pr.Number, b)
}

// TestCommandAttackForcePushBack: after the comment the branch is force-pushed back to an older
// commit that was the head once, before the comment. It is not the one the command was for.
func TestCommandAttackForcePushBack(t *testing.T) {
	t.Parallel()
	c, clk := newTimedChatops(t)
	old := c.pr.HeadSHA
	clk.Advance(time.Minute)
	if _, err := c.e.PushPullRequest(owner, repoName, c.pr.Number, emulator.Commit{Message: "the fix that was reviewed"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	_, ev := c.comment(t, "ada", "/deploy")
	clk.Advance(time.Second)
	if _, err := c.e.PushPullRequest(owner, repoName, c.pr.Number, emulator.Commit{SHA: old}); err != nil {
		t.Fatal(err)
	}
	refusedHeadMoved(t, c, c.job(t, ev, nil), c.pr.Number, old)
}

// TestCommandAttackRerunAfterRefusal: alice's command is refused (red build); someone pushes a new
// head and re-runs the job. The new head is not deployed "requested by alice", and a re-runner
// whose own role is too low is refused by name.
func TestCommandAttackRerunAfterRefusal(t *testing.T) {
	t.Parallel()
	t.Run("new head", func(t *testing.T) {
		t.Parallel()
		c, clk := newTimedChatops(t)
		mustCheck(t, c.e, emulator.CheckRun{Name: "test", HeadSHA: c.pr.HeadSHA, Status: "completed", Conclusion: "failure"})
		clk.Advance(time.Minute)
		_, ev := c.comment(t, "ada", "/deploy")
		if res := run(t, c.job(t, ev, nil)); res.JobStatus != "failure" {
			t.Fatalf("first attempt %s: want refused (red build)", res.JobStatus)
		}
		clk.Advance(time.Minute)
		if _, err := c.e.PushPullRequest(owner, repoName, c.pr.Number, emulator.Commit{Message: "sneaky"}); err != nil {
			t.Fatal(err)
		}
		head := c.e.PullRequests(owner, repoName)[0].HeadSHA
		mustCheck(t, c.e, emulator.CheckRun{Name: "test", HeadSHA: head, Status: "completed", Conclusion: "success"})
		j := c.job(t, ev, nil)
		j.Env["GITHUB_RUN_ATTEMPT"], j.Env["GITHUB_TRIGGERING_ACTOR"] = "2", "bob"
		refusedHeadMoved(t, c, j, c.pr.Number, head)
	})
	t.Run("re-runner's role", func(t *testing.T) {
		t.Parallel()
		c, _ := newTimedChatops(t)
		_, ev := c.comment(t, "ada", "/deploy")
		j := c.job(t, ev, nil)
		j.Env["GITHUB_RUN_ATTEMPT"], j.Env["GITHUB_TRIGGERING_ACTOR"] = "2", "rita"
		res := run(t, j)
		if res.JobStatus != "failure" || len(c.e.Deployments(owner, repoName)) != 0 {
			t.Fatalf("job %s with %d deployments: a reader's re-run borrowed ada's role", res.JobStatus, len(c.e.Deployments(owner, repoName)))
		}
		reply := botComments(c.e, c.pr.Number)[0].Body
		if !strings.Contains(reply, "rita, who re-ran the job, has the read role") {
			t.Errorf("reply does not name the re-runner:\n%s", reply)
		}
	})
}

// TestCommandHeadProvenDeploysExactly: the commit proven to be the head at comment time is the
// one created, by SHA.
func TestCommandHeadProvenDeploysExactly(t *testing.T) {
	t.Parallel()
	c, clk := newTimedChatops(t)
	clk.Advance(time.Minute)
	_, ev := c.comment(t, "ada", "/deploy")
	res := run(t, c.job(t, ev, nil))
	if res.Failed() {
		t.Fatalf("errors %v", res.StageErrors)
	}
	d := onlyDeployment(t, c.e)
	if d.SHA != c.pr.HeadSHA || d.Ref != c.pr.HeadSHA {
		t.Errorf("deployment of ref %s (sha %s), want exactly %s", d.Ref, d.SHA, c.pr.HeadSHA)
	}
}
