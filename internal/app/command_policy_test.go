package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// Command mode applies .github/deployments.yml from the default branch (issue 21: "inputs can
// narrow it, never widen it"), through the runner simulation against the emulator.

const policyPath = ".github/deployments.yml"

// putPolicy commits the policy file on branch ("" = the default branch) and returns the commit.
func (c *chatops) putPolicy(t *testing.T, branch, file string) string {
	t.Helper()
	sha, err := c.e.PutFile(owner, repoName, branch, policyPath, []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// policyRun runs login's command with the step's with: and returns the result, the bot's last
// comment, whether the deploy step ran, and the requests the job made.
func (c *chatops) policyRun(t *testing.T, login, body string, with map[string]string) (*actionsim.Result, string, bool, []string) {
	t.Helper()
	_, ev := c.comment(t, login, body)
	before := len(c.e.Requests())
	shipped := false
	j := c.job(t, ev, with)
	j.StepsAfter = []actionsim.Step{{ID: "ship", If: "steps.deploy.outputs.triggered == 'true'", Run: func(context.Context, *actionsim.StepRun) error { shipped = true; return nil }}}
	res := run(t, j)
	bot := botComments(c.e, c.pr.Number)
	last := ""
	if len(bot) > 0 {
		last = bot[len(bot)-1].Body
	}
	assertNoToken(t, res)
	return res, last, shipped, requestsSince(c.e, before)
}

// refused checks a command was refused by the policy: the job failed, nothing was deployed to
// env, the reply says each of want.
func refused(t *testing.T, c *chatops, res *actionsim.Result, reply string, shipped bool, env string, want ...string) {
	t.Helper()
	if !res.Failed() || shipped {
		t.Fatalf("failed %v, shipped %v: want the command refused\n%s", res.Failed(), shipped, res.Stdout)
	}
	for _, d := range c.e.Deployments(owner, repoName) {
		if d.Environment == env {
			t.Fatalf("deployment %d to %s", d.ID, env)
		}
	}
	for _, s := range want {
		if !strings.Contains(reply, s) {
			t.Errorf("reply lacks %q:\n%s", s, reply)
		}
	}
}

func TestCommandPolicyRole(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	c.putPolicy(t, "", "environments:\n  production:\n    allowed-permission: maintain\n")
	// The pull request's own copy would let writers in: it is not read.
	head := c.putPolicy(t, "feature-x", "environments:\n  production:\n    allowed-permission: write\n")
	mustCheck(t, c.e, emulator.CheckRun{Name: "ci", HeadSHA: head, Status: "completed", Conclusion: "success"})
	res, reply, shipped, _ := c.policyRun(t, "alice", "/deploy production", nil)
	refused(t, c, res, reply, shipped, "production", "@alice `/deploy production` was not run", "alice has the write role",
		"deploying to production needs maintain or above", "allowed-permission in .github/deployments.yml on the default branch")
	testkit.Golden(t, "testdata/comment/refused-policy-role.md", visible(reply))
	// The maintainer deploys; staging (not in the file) keeps the input's write.
	if res, _, shipped, _ := c.policyRun(t, "max", "/deploy production", nil); res.Failed() || !shipped {
		t.Fatalf("maintainer: %v", res.StageErrors)
	}
	if res, _, shipped, _ := c.policyRun(t, "alice", "/deploy staging", nil); res.Failed() || !shipped {
		t.Fatalf("writer to staging: %v", res.StageErrors)
	}
}

func TestCommandPolicyChecksRequired(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	c.putPolicy(t, "", "environments:\n  production:\n    checks: required\n")
	mustCheck(t, c.e, emulator.CheckRun{Name: "flaky-e2e", HeadSHA: featureSHA, Status: "completed", Conclusion: "failure"})
	with := map[string]string{"ignore-checks": "flaky-e2e"}
	res, reply, shipped, _ := c.policyRun(t, "alice", "/deploy production", with)
	refused(t, c, res, reply, shipped, "production", "check `flaky-e2e` failure", "are not green",
		"requires green checks for this environment, so `ignore-checks` does not apply")
	if !strings.Contains(res.Log["pre"], "ignore-checks (flaky-e2e) is not applied") {
		t.Errorf("pre's log does not say ignore-checks was overridden:\n%s", res.Log["pre"])
	}
	// Staging is not in the file: ignore-checks still applies there.
	if res, _, shipped, _ := c.policyRun(t, "alice", "/deploy staging", with); res.Failed() || !shipped {
		t.Fatalf("staging with ignore-checks: %v", res.StageErrors)
	}
}

func TestCommandPolicyFreeze(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	now := time.Now().UTC()
	c.putPolicy(t, "", fmt.Sprintf("environments:\n  production:\n    freezes:\n      - from: %s\n        until: %s\n        reason: \"incident @ada [review](https://evil.example)\"\n",
		now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339)))
	res, reply, shipped, reqs := c.policyRun(t, "alice", "/deploy production", nil)
	refused(t, c, res, reply, shipped, "production", "production is closed", "frozen from", ".github/deployments.yml on the default branch", "comment again when it opens")
	// The reason is the file's text: shown inert (no mention, no link).
	if outside := codeSpanRE.ReplaceAllString(visible(reply), "`…`"); strings.Contains(outside, "@ada") || strings.Contains(outside, "evil.example") {
		t.Errorf("the freeze's reason renders outside a code span:\n%s", reply)
	}
	// Refused before the pull request is read: reaction, permission, policy, reply.
	if len(reqs) != 4 {
		t.Errorf("%d requests, want 4:\n%s", len(reqs), strings.Join(reqs, "\n"))
	}
}

func TestCommandPolicySoak(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	c.putPolicy(t, "", "environments:\n  production:\n    after:\n      environment: staging\n      soak: 30m\n")
	// Not deployed to staging yet.
	res, reply, shipped, _ := c.policyRun(t, "alice", "/deploy production", nil)
	refused(t, c, res, reply, shipped, "production", "requires a commit to be live in staging before it goes to production", "nothing is live there", "/deploy staging")
	// Live in staging from now: the soak is not over, and the reply says when to come back.
	start := time.Now().UTC()
	if res, _, shipped, _ := c.policyRun(t, "alice", "/deploy staging", nil); res.Failed() || !shipped {
		t.Fatalf("staging: %v", res.StageErrors)
	}
	res, reply, shipped, reqs := c.policyRun(t, "alice", "/deploy production", nil)
	refused(t, c, res, reply, shipped, "production", "to have been live in staging for 30m0s", "comment again after")
	// reaction, permission, policy, pull request, check suites, staging's deployments, the
	// live one's statuses, the reply (docs/chatops.md quotes it).
	if len(reqs) != 8 {
		t.Errorf("%d requests, want 8:\n%s", len(reqs), strings.Join(reqs, "\n"))
	}
	back := start.Add(30 * time.Minute).Format("2006-01-02 15:04")
	if !strings.Contains(reply, back) && !strings.Contains(reply, start.Add(31*time.Minute).Format("2006-01-02 15:04")) {
		t.Errorf("reply does not say to come back at about %s:\n%s", back, reply)
	}
}

// TestCommandPolicySoakOver: the emulator's records are an hour old (its clock), so the commit
// has been live in staging for an hour by the action's clock: production deploys.
func TestCommandPolicySoakOver(t *testing.T) {
	t.Parallel()
	clk := testkit.NewClock(time.Now().Add(-time.Hour))
	c := newChatopsWith(t, emulator.Config{Now: clk.Now})
	c.putPolicy(t, "", "environments:\n  production:\n    after:\n      environment: staging\n      soak: 30m\n")
	if res, _, shipped, _ := c.policyRun(t, "alice", "/deploy staging", nil); res.Failed() || !shipped {
		t.Fatalf("staging: %v", res.StageErrors)
	}
	clk.Advance(time.Minute)
	res, _, shipped, _ := c.policyRun(t, "alice", "/deploy production", nil)
	if res.Failed() || !shipped {
		t.Fatalf("production after the soak: %v\n%s", res.StageErrors, res.Log["pre"])
	}
	if !strings.Contains(res.Log["pre"], "has been live in staging since") {
		t.Errorf("pre's log:\n%s", res.Log["pre"])
	}
}

func TestCommandPolicyBadFile(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	c.putPolicy(t, "", "environments:\n  production:\n    allowed-permission: boss\n    checks: yes\n")
	res, reply, shipped, reqs := c.policyRun(t, "alice", "/deploy staging", nil)
	refused(t, c, res, reply, shipped, "staging", "is not valid, so nothing deploys until it is fixed there", "line 3", "line 4")
	testkit.Golden(t, "testdata/comment/refused-policy-invalid.md", visible(reply))
	if len(reqs) != 4 {
		t.Errorf("%d requests, want 4 (reaction, permission, policy, reply):\n%s", len(reqs), strings.Join(reqs, "\n"))
	}
	// Someone without a role hears nothing of the file.
	res, reply, shipped, _ = c.policyRun(t, "eve", "/deploy staging", nil)
	refused(t, c, res, reply, shipped, "staging", "@eve the command was not run: deploying from comments needs the write role")
	if strings.Contains(reply, "boss") {
		t.Errorf("the reply to eve shows the file:\n%s", reply)
	}
}

// TestCommandNoPolicyFile: without the file nothing changes but one request, a 404 (the full list
// is pinned in TestCommandRequests).
func TestCommandNoPolicyFile(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	res, _, shipped, reqs := c.policyRun(t, "alice", "/deploy production", map[string]string{"ignore-checks": "ci", "allow-no-checks": "true"})
	if res.Failed() || !shipped {
		t.Fatalf("%v", res.StageErrors)
	}
	n := 0
	for _, r := range reqs {
		if strings.HasSuffix(r, "/contents/"+policyPath) {
			n++
		}
	}
	if n != 1 || len(reqs) != 14 {
		t.Errorf("%d policy reads in %d requests, want 1 in 14:\n%s", n, len(reqs), strings.Join(reqs, "\n"))
	}
}
