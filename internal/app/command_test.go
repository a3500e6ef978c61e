package app_test

// command mode (ChatOps) through the runner simulation: issue_comment events made by the
// emulator (the exact payloads it would deliver), the job as the runner runs it, and what the
// pull request shows afterwards (reactions, the result comment, replies).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

var featureSHA = emulator.DefaultRepo().Branches["feature-x"]

// chatops is one repository with an open pull request from feature-x and users with roles.
type chatops struct {
	e  *emulator.Emulator
	pr emulator.PullRequest
}

func newChatops(t *testing.T) *chatops { t.Helper(); return newChatopsWith(t, emulator.Config{}) }

func newChatopsWith(t *testing.T, cfg emulator.Config) *chatops {
	t.Helper()
	e := emulatortest.Start(t, cfg)
	pr, _, err := e.OpenPullRequest(owner, repoName, emulator.PullRequest{Head: "feature-x", User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	for login, role := range map[string]string{"alice": emulator.RoleWrite, "bob": emulator.RoleWrite, "rita": emulator.RoleRead,
		"tom": emulator.RoleTriage, "ada": emulator.RoleAdmin, "max": emulator.RoleMaintain} {
		if err := e.SetRole(owner, repoName, login, role); err != nil {
			t.Fatal(err)
		}
	}
	// CI reported green on the head (a commit with no checks at all is refused).
	mustCheck(t, e, emulator.CheckRun{Name: "ci", HeadSHA: pr.HeadSHA, Status: "completed", Conclusion: "success"})
	return &chatops{e: e, pr: pr}
}

// comment adds a comment by login to the pull request and returns its event.
func (c *chatops) comment(t *testing.T, login, body string) (emulator.Comment, emulator.Event) {
	t.Helper()
	cm, ev, err := c.e.AddComment(owner, repoName, c.pr.Number, login, body)
	if err != nil {
		t.Fatal(err)
	}
	return cm, ev
}

// job is the command job for an issue_comment event, with the step's with: over the defaults
// (mode command, environments staging and production), polling every 10 ms.
func (c *chatops) job(t *testing.T, ev emulator.Event, with map[string]string) *actionsim.Job {
	w := map[string]string{"mode": "command", "environments": "staging, production"}
	for k, v := range with {
		w[k] = v
	}
	j := newJob(t, c.e, w)
	j.Env["GITHUB_EVENT_NAME"] = ev.Name
	j.Env["DEPLOYMENT_ACTION_POLL_INTERVAL"] = "10ms"
	// The runner's actor is the event's sender; a re-run changes only the triggering actor.
	if sender, _ := ev.Payload["sender"].(map[string]any); sender != nil {
		if login, _ := sender["login"].(string); login != "" {
			j.Env["GITHUB_ACTOR"], j.Env["GITHUB_TRIGGERING_ACTOR"] = login, login
		}
	}
	j.Event = ev.Payload
	return j
}

// requests lists the emulator's requests as "METHOD path", query left out.
func requests(e *emulator.Emulator) []string {
	var out []string
	for _, r := range e.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// requestsSince lists the requests after the first n.
func requestsSince(e *emulator.Emulator, n int) []string { return requests(e)[n:] }

func reactions(t *testing.T, e *emulator.Emulator, pr int, commentID int64) []string {
	t.Helper()
	for _, cm := range e.Comments(owner, repoName, pr) {
		if cm.ID == commentID {
			var out []string
			for _, r := range cm.Reactions {
				out = append(out, r.Content)
			}
			return out
		}
	}
	t.Fatalf("comment %d is gone", commentID)
	return nil
}

// botComments are the comments the action made (everything not by a person of the test).
func botComments(e *emulator.Emulator, pr int) []emulator.Comment {
	var out []emulator.Comment
	for _, cm := range e.Comments(owner, repoName, pr) {
		if cm.User == emulator.DefaultUser {
			out = append(out, cm)
		}
	}
	return out
}

var (
	codeSpanRE = regexp.MustCompile("`[^`]*`")
	markerRE   = regexp.MustCompile(`(?s)\n*<!-- deployment-action [^>]*-->\n?`)
	emulatorRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
)

// visible is a comment's body as people read it (the invisible marker left out), with the
// emulator's address as github.com's, for golden files.
func visible(body string) string {
	return emulatorRE.ReplaceAllString(markerRE.ReplaceAllString(body, "\n"), "https://github.com")
}

func TestCommandDeploysThePullRequestHead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fail      bool
		cancel    bool
		wantState string
		wantJob   string
		reaction  string
		headline  string
	}{
		{name: "success", wantState: "success", wantJob: "success", reaction: "rocket", headline: "**Deployed**"},
		{name: "failing deploy step", fail: true, wantState: "failure", wantJob: "failure", reaction: "-1", headline: "**Deploy failed:**"},
		{name: "cancelled", cancel: true, wantState: "error", wantJob: "cancelled", reaction: "-1", headline: "**Deploy did not complete:**"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newChatops(t)
			cm, ev := c.comment(t, "alice", "/deploy staging\nplease, the new login page")
			j := c.job(t, ev, map[string]string{"environment-url": "${{ steps.ship.outputs.url }}"})
			var seenSHA, seenTriggered string
			j.StepsAfter = []actionsim.Step{{ID: "ship", If: "steps.deploy.outputs.triggered == 'true'", Run: func(ctx context.Context, s *actionsim.StepRun) error {
				seenSHA, seenTriggered = "x", "true"
				s.SetOutput("url", "https://staging.example.com")
				// What the PR shows while the deploy runs: eyes, and one result comment that says so.
				got := botComments(c.e, c.pr.Number)
				if len(got) != 1 || !strings.Contains(got[0].Body, "**Deploying** `a84d88e`") {
					t.Fatalf("while deploying, bot comments %+v", got)
				}
				if tc.name == "success" {
					testkit.Golden(t, "testdata/comment/result-deploying.md", visible(got[0].Body))
				}
				if tc.cancel {
					s.Cancel()
				}
				if tc.fail {
					return fmt.Errorf("deploy script failed")
				}
				return nil
			}}}
			res := run(t, j)
			if res.JobStatus != tc.wantJob {
				t.Fatalf("job %s, want %s; errors %v\n%s", res.JobStatus, tc.wantJob, res.StageErrors, res.Stdout)
			}
			if len(res.StageErrors) > 0 {
				t.Fatalf("stage errors %v", res.StageErrors)
			}
			if seenTriggered != "true" || seenSHA == "" {
				t.Fatal("the deploy step did not run on triggered == 'true'")
			}
			d := onlyDeployment(t, c.e)
			if d.SHA != featureSHA || d.Ref != featureSHA || d.Environment != "staging" {
				t.Errorf("deployment %+v: want the head sha %s (as the ref too) to staging", d, featureSHA)
			}
			if got := strings.Join(states(d), ","); got != "in_progress,"+tc.wantState {
				t.Errorf("states %s", got)
			}
			if final := d.Statuses[len(d.Statuses)-1]; final.EnvironmentURL != "https://staging.example.com" {
				t.Errorf("final environment url %q", final.EnvironmentURL)
			}
			for _, k := range []string{`"command":"/deploy staging"`, `"commenter":"alice"`, fmt.Sprintf(`"pull_request":%d`, c.pr.Number),
				fmt.Sprintf(`"comment_id":%d`, cm.ID), `"request_id":`} {
				if b, _ := json.Marshal(d.Payload); !strings.Contains(string(b), k) {
					t.Errorf("payload %s lacks %s", d.Payload, k)
				}
			}
			o := res.Outputs
			want := map[string]string{"triggered": "true", "environment": "staging", "sha": featureSHA, "ref": "feature-x",
				"pr-number": fmt.Sprint(c.pr.Number), "deployment-id": fmt.Sprint(d.ID), "actor": "alice", "state": "in_progress"}
			for k, v := range want {
				if o[k] != v {
					t.Errorf("output %s = %q, want %q (all: %v)", k, o[k], v, o)
				}
			}
			if got := strings.Join(reactions(t, c.e, c.pr.Number, cm.ID), ","); got != "eyes,"+tc.reaction {
				t.Errorf("reactions %s, want eyes,%s", got, tc.reaction)
			}
			bot := botComments(c.e, c.pr.Number)
			if len(bot) != 1 {
				t.Fatalf("%d bot comments, want the one result comment", len(bot))
			}
			body := bot[0].Body
			for _, s := range []string{tc.headline, "`a84d88e` (`feature-x`) to **staging**", "| " + strings.ReplaceAll(tc.wantState, "_", "\\_") + " |",
				"https://staging.example.com", "/actions/runs/1658821493/job/314", "Requested by alice"} {
				if !strings.Contains(body, s) {
					t.Errorf("result comment lacks %q:\n%s", s, body)
				}
			}
			if !strings.Contains(res.Summaries["main"], "Requested by alice on #") || !strings.Contains(res.Summaries["post"], tc.wantState) {
				t.Errorf("summaries %q", res.Summaries)
			}
			testkit.Golden(t, "testdata/comment/result-"+tc.wantState+".md", visible(body))
			if tc.name == "success" {
				testkit.Golden(t, "testdata/summary/command.md", visible(res.Summaries["main"]))
			}
			assertNoToken(t, res)
		})
	}
}

// TestCommandRequests pins the number of requests per command: what docs/chatops.md quotes.
func TestCommandRequests(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	_, ev := c.comment(t, "alice", "/deploy")
	res := run(t, c.job(t, ev, nil))
	if res.Failed() {
		t.Fatalf("errors %v", res.StageErrors)
	}
	got := requests(c.e)
	d := onlyDeployment(t, c.e)
	bot := botComments(c.e, c.pr.Number)
	base := "/repos/" + owner + "/" + repoName
	want := []string{
		// pre
		"POST " + base + "/issues/comments/" + fmt.Sprint(commentOf(ev)) + "/reactions",
		"GET " + base + "/collaborators/alice/permission",
		"GET " + base + "/contents/.github/deployments.yml", // the policy: 404, no file
		"GET " + base + "/pulls/" + fmt.Sprint(c.pr.Number),
		"GET " + base + "/commits/" + featureSHA + "/check-suites", // when the head was pushed
		"GET " + base + "/contents/lock.json",                      // the lock gate: 404, staging is free
		"GET " + base + "/commits/" + featureSHA + "/check-runs",
		"GET " + base + "/commits/" + featureSHA + "/status",
		"POST " + base + "/deployments",
		"POST " + base + "/deployments/" + fmt.Sprint(d.ID) + "/statuses",
		"POST " + base + "/issues/" + fmt.Sprint(c.pr.Number) + "/comments",
		// post
		"POST " + base + "/deployments/" + fmt.Sprint(d.ID) + "/statuses",
		"PATCH " + base + "/issues/comments/" + fmt.Sprint(bot[0].ID),
		"POST " + base + "/issues/comments/" + fmt.Sprint(commentOf(ev)) + "/reactions",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d.Environment != "staging" {
		t.Errorf("environment %s: the first allowed is the default", d.Environment)
	}
	t.Logf("requests per allowed command: %d (pre %d, main 0, post 3)", len(got), len(got)-3)
	if len(got) != 14 { // 12 before locks, + the lock read, + the policy read
		t.Errorf("%d requests per allowed command, want 14", len(got))
	}
}

func commentOf(ev emulator.Event) int64 {
	cm, _ := ev.Payload["comment"].(map[string]any)
	id, _ := cm["id"].(float64)
	return int64(id)
}

// TestCommandIgnored: comments that are not commands, and edited or deleted ones, do nothing at
// all: no request, triggered=false, the step succeeds.
func TestCommandIgnored(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ev   func(t *testing.T, c *chatops) emulator.Event
	}{
		{name: "ordinary comment", ev: func(t *testing.T, c *chatops) emulator.Event {
			_, ev := c.comment(t, "alice", "Looks good to me. We could /deploy staging later.")
			return ev
		}},
		{name: "a longer word", ev: func(t *testing.T, c *chatops) emulator.Event {
			_, ev := c.comment(t, "alice", "/deployment staging")
			return ev
		}},
		{name: "quoted command", ev: func(t *testing.T, c *chatops) emulator.Event {
			_, ev := c.comment(t, "alice", "> /deploy staging\n\nwhy?")
			return ev
		}},
		{name: "edited comment", ev: func(t *testing.T, c *chatops) emulator.Event {
			cm, _ := c.comment(t, "alice", "hello")
			_, ev, err := c.e.EditComment(owner, repoName, cm.ID, "/deploy staging")
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}},
		{name: "deleted comment", ev: func(t *testing.T, c *chatops) emulator.Event {
			cm, _ := c.comment(t, "alice", "/deploy staging")
			ev, err := c.e.DeleteComment(owner, repoName, cm.ID)
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newChatops(t)
			ev := tc.ev(t, c)
			before := len(c.e.Requests())
			ran := false
			j := c.job(t, ev, nil)
			j.StepsAfter = []actionsim.Step{{ID: "ship", If: "steps.deploy.outputs.triggered == 'true'", Run: func(context.Context, *actionsim.StepRun) error {
				ran = true
				return nil
			}}}
			res := run(t, j)
			if res.Failed() || res.JobStatus != "success" {
				t.Fatalf("job %s, errors %v", res.JobStatus, res.StageErrors)
			}
			if got := requestsSince(c.e, before); len(got) != 0 {
				t.Errorf("requests %v, want none", got)
			}
			if res.Outputs["triggered"] != "false" || len(res.Outputs) != 1 {
				t.Errorf("outputs %v, want triggered=false only", res.Outputs)
			}
			if ran {
				t.Error("the deploy step ran")
			}
			if res.Summary != "" {
				t.Errorf("summary %q, want none", res.Summary)
			}
		})
	}
}

// TestCommandOutsideIssueComment: command mode in a workflow run by another event fails, naming
// issue_comment, with no request at all (it used to succeed quietly with triggered=false).
func TestCommandOutsideIssueComment(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"pull_request", "push"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newChatops(t)
			ev, err := c.e.PushPullRequest(owner, repoName, c.pr.Number, emulator.Commit{})
			if err != nil {
				t.Fatal(err)
			}
			ev.Name = name
			before := len(c.e.Requests())
			res := run(t, c.job(t, ev, nil))
			if !res.Failed() || res.JobStatus != "failure" {
				t.Fatalf("job %s, errors %v: want a failure", res.JobStatus, res.StageErrors)
			}
			if got := fmt.Sprint(res.StageErrors["main"]); !strings.Contains(got, "triggered by "+name+", not issue_comment") || !strings.Contains(got, "on: issue_comment") {
				t.Errorf("main's error %q does not name issue_comment and the fix", got)
			}
			if res.StageErrors["pre"] != nil {
				t.Errorf("pre failed (%s): it ignores the step's if:, so main reports the event", res.StageErrors["pre"])
			}
			if got := requestsSince(c.e, before); len(got) != 0 {
				t.Errorf("requests %v, want none", got)
			}
			if len(c.e.Deployments(owner, repoName)) != 0 {
				t.Error("a deployment was created")
			}
		})
	}
}

// TestCommandRefused: each rule that refuses a command leaves no deployment, one reply that
// says why and what to do, and a failed job (pre fails at job start; post has nothing to do).
func TestCommandRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		login  string
		body   string
		with   map[string]string
		setup  func(t *testing.T, c *chatops) int // returns the issue or PR to comment on (0: the PR)
		reply  []string
		nReq   int // requests in all: reaction, the look-ups, the reply
		golden string
		inert  []string // user-written text that may appear only inside code spans
	}{
		{name: "a link and a mention in the command", login: "alice", body: "/deploy to [staging](https://evil.example/login) @ada",
			reply: []string{"says more than"}, inert: []string{"evil.example", "@ada", "[staging]"}, nReq: 3, golden: "refused-inert-link"},
		{name: "a team mention as the environment", login: "alice", body: "/deploy @octo-org/admins",
			reply: []string{"is not an environment"}, inert: []string{"@octo-org/admins"}, nReq: 3},
		{name: "backticks cannot close the code span", login: "alice", body: "/deploy `x`@ada",
			reply: []string{"is not an environment"}, inert: []string{"@ada"}, nReq: 3},
		{name: "check names with HTML and links", login: "alice", body: "/deploy", setup: func(t *testing.T, c *chatops) int {
			mustCheck(t, c.e, emulator.CheckRun{Name: "<img src=https://evil.example/x.png>", HeadSHA: featureSHA, Status: "completed", Conclusion: "failure"})
			mustCheck(t, c.e, emulator.CheckRun{Name: "[login](https://evil.example/login) <!-- hidden --> @ada", HeadSHA: featureSHA, Status: "completed", Conclusion: "failure",
				DetailsURL: "https://evil.example/details"})
			return 0
		}, reply: []string{"are not green"}, inert: []string{"<img", "evil.example", "<!--", "@ada"}, nReq: 9},
		{name: "reader", login: "rita", body: "/deploy", reply: []string{"@rita", "rita has the read role", "needs write or above", "`allowed-permission`"}, nReq: 3, golden: "refused-permission"},
		{name: "triager", login: "tom", body: "/deploy", reply: []string{"tom has the triage role", "needs write"}, nReq: 3},
		{name: "not a collaborator", login: "eve", body: "/deploy", reply: []string{"@eve the command was not run: deploying from comments needs the write role or above"}, nReq: 3, golden: "refused-no-role"},
		{name: "not a collaborator's text is never echoed", login: "eve", body: "/deploy to [staging](https://evil.example/login) @ada", reply: []string{"@eve the command was not run"}, nReq: 3},
		{name: "writer below maintain", login: "alice", body: "/deploy", with: map[string]string{"allowed-permission": "maintain"}, reply: []string{"alice has the write role", "needs maintain"}, nReq: 3},
		{name: "unknown environment", login: "alice", body: "/deploy prod", reply: []string{"`prod` is not an environment", "staging, production", "`environments`"}, nReq: 3, golden: "refused-environment"},
		{name: "trailing words", login: "alice", body: "/deploy staging now please", reply: []string{"says more than", "/deploy <environment>", "/deploy to <environment>"}, nReq: 3},
		{name: "to without environment", login: "alice", body: "/deploy to", reply: []string{"says more than"}, nReq: 3},
		{name: "an issue", login: "alice", body: "/deploy", setup: func(t *testing.T, c *chatops) int {
			n, err := c.e.OpenIssue(owner, repoName, "alice", "Outage", "")
			if err != nil {
				t.Fatal(err)
			}
			return n
		}, reply: []string{"is an issue, not a pull request"}, nReq: 3},
		{name: "closed pull request", login: "alice", body: "/deploy", setup: func(t *testing.T, c *chatops) int {
			if _, err := c.e.ClosePullRequest(owner, repoName, c.pr.Number, ""); err != nil {
				t.Fatal(err)
			}
			return 0
		}, reply: []string{"is closed", "reopen it"}, nReq: 5},
		{name: "merged pull request", login: "alice", body: "/deploy", setup: func(t *testing.T, c *chatops) int {
			if _, err := c.e.MergePullRequest(owner, repoName, c.pr.Number, ""); err != nil {
				t.Fatal(err)
			}
			return 0
		}, reply: []string{"is merged"}, nReq: 5},
		{name: "fork", login: "ada", body: "/deploy", setup: func(t *testing.T, c *chatops) int {
			pr, _, err := c.e.OpenPullRequest(owner, repoName, emulator.PullRequest{Head: "patch-1", HeadRepo: "mallory/hello-world"})
			if err != nil {
				t.Fatal(err)
			}
			return pr.Number
		}, reply: []string{"comes from the fork mallory/hello-world", "`allow-forks: true`", "token and secrets"}, nReq: 5, golden: "refused-fork"},
		{name: "failing check", login: "alice", body: "/deploy", setup: func(t *testing.T, c *chatops) int {
			mustCheck(t, c.e, emulator.CheckRun{Name: "test", HeadSHA: featureSHA, Status: "completed", Conclusion: "failure", DetailsURL: "https://ci.example.com/1"})
			mustCheck(t, c.e, emulator.CheckRun{Name: "lint", HeadSHA: featureSHA, Status: "in_progress"})
			return 0
		}, reply: []string{"check `test` failure", "are not green", "`ignore-checks`"}, nReq: 9, golden: "refused-checks"},
		{name: "failing status", login: "alice", body: "/deploy", setup: func(t *testing.T, c *chatops) int {
			if _, err := c.e.AddCommitStatus(owner, repoName, emulator.CommitStatus{SHA: featureSHA, Context: "ci/jenkins", State: "error", TargetURL: "https://jenkins.example.com/9"}); err != nil {
				t.Fatal(err)
			}
			return 0
		}, reply: []string{"status `ci/jenkins` error (`https://jenkins.example.com/9`)"}, nReq: 9},
		{name: "checks pending past the timeout", login: "alice", body: "/deploy", with: map[string]string{"checks-timeout": "300ms"}, setup: func(t *testing.T, c *chatops) int {
			mustCheck(t, c.e, emulator.CheckRun{Name: "e2e", HeadSHA: featureSHA, Status: "in_progress"})
			return 0
		}, reply: []string{"still pending after", "check `e2e` in_progress", "`checks-timeout`"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newChatops(t)
			number := c.pr.Number
			if tc.setup != nil {
				if n := tc.setup(t, c); n != 0 {
					number = n
				}
			}
			cm, ev, err := c.e.AddComment(owner, repoName, number, tc.login, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			before := len(c.e.Requests())
			ran := false
			j := c.job(t, ev, tc.with)
			j.StepsAfter = []actionsim.Step{{ID: "ship", Run: func(context.Context, *actionsim.StepRun) error { ran = true; return nil }}}
			res := run(t, j)
			if res.JobStatus != "failure" || res.StageErrors["pre"] == nil {
				t.Fatalf("job %s, stage errors %v: want pre to fail the job", res.JobStatus, res.StageErrors)
			}
			if ran || res.Steps["deploy"].Outcome != "skipped" {
				t.Errorf("steps after a refusal ran (deploy step %q)", res.Steps["deploy"].Outcome)
			}
			if n := len(c.e.Deployments(owner, repoName)); n != 0 {
				t.Errorf("%d deployments, want none", n)
			}
			reqs := requestsSince(c.e, before)
			if tc.nReq != 0 && len(reqs) != tc.nReq {
				t.Errorf("%d requests, want %d:\n%s", len(reqs), tc.nReq, strings.Join(reqs, "\n"))
			}
			bot := botComments(c.e, number)
			if len(bot) != 1 {
				t.Fatalf("%d bot comments, want one reply", len(bot))
			}
			for _, s := range tc.reply {
				if !strings.Contains(bot[0].Body, s) {
					t.Errorf("reply lacks %q:\n%s", s, bot[0].Body)
				}
			}
			outside := codeSpanRE.ReplaceAllString(visible(bot[0].Body), "`…`")
			for _, s := range tc.inert {
				if strings.Contains(outside, s) {
					t.Errorf("%q is live in the reply (outside a code span):\n%s", s, bot[0].Body)
				}
			}
			if strings.HasPrefix(strings.TrimSpace(bot[0].Body), "/deploy") {
				t.Error("the reply starts like a command")
			}
			if got := strings.Join(reactions(t, c.e, number, cm.ID), ","); got != "eyes" {
				t.Errorf("reactions %s, want eyes", got)
			}
			errs := res.AnnotationsAt("error")
			if len(errs) != 1 || errs[0].Stage != "pre" {
				t.Errorf("error annotations %+v, want one from pre", errs)
			}
			if tc.golden != "" {
				testkit.Golden(t, "testdata/comment/"+tc.golden+".md", visible(bot[0].Body))
			}
		})
	}
}

func mustCheck(t *testing.T, e *emulator.Emulator, cr emulator.CheckRun) emulator.CheckRun {
	t.Helper()
	run, err := e.CreateCheckRun(owner, repoName, cr)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestCommandAllowed: who may deploy and how the command may be written.
func TestCommandAllowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, login, body string
		with              map[string]string
		setup             func(t *testing.T, c *chatops) int
		env               string
	}{
		{name: "admin", login: "ada", body: "/deploy production", env: "production"},
		{name: "maintainer with allowed-permission maintain", login: "max", body: "/deploy", with: map[string]string{"allowed-permission": "maintain"}, env: "staging"},
		{name: "reader with allowed-permission read", login: "rita", body: "/deploy", with: map[string]string{"allowed-permission": "read"}, env: "staging"},
		{name: "extra spaces and capitals", login: "alice", body: "  \n\t/DEPLOY   To\t  PRODUCTION  \r\nthanks", env: "production"},
		{name: "tabs and to", login: "alice", body: "/deploy\tto\tstaging", env: "staging"},
		{name: "other command word", login: "alice", body: "/Ship production", with: map[string]string{"command": "/ship"}, env: "production"},
		{name: "trailing lines", login: "alice", body: "/deploy staging\n\n/deploy production is for tomorrow", env: "staging"},
		{name: "fork with allow-forks", login: "ada", body: "/deploy", with: map[string]string{"allow-forks": "true"}, setup: func(t *testing.T, c *chatops) int {
			pr, _, err := c.e.OpenPullRequest(owner, repoName, emulator.PullRequest{Head: "patch-1", HeadRepo: "mallory/hello-world"})
			if err != nil {
				t.Fatal(err)
			}
			mustCheck(t, c.e, emulator.CheckRun{Name: "ci", HeadSHA: pr.HeadSHA, Status: "completed", Conclusion: "success"})
			return pr.Number
		}, env: "staging"},
		{name: "draft pull request", login: "alice", body: "/deploy", setup: func(t *testing.T, c *chatops) int {
			pr, _, err := c.e.OpenPullRequest(owner, repoName, emulator.PullRequest{Head: "draft-1", Draft: true})
			if err != nil {
				t.Fatal(err)
			}
			mustCheck(t, c.e, emulator.CheckRun{Name: "ci", HeadSHA: pr.HeadSHA, Status: "completed", Conclusion: "success"})
			return pr.Number
		}, env: "staging"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newChatops(t)
			number := c.pr.Number
			if tc.setup != nil {
				number = tc.setup(t, c)
			}
			_, ev, err := c.e.AddComment(owner, repoName, number, tc.login, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			res := run(t, c.job(t, ev, tc.with))
			if res.Failed() {
				t.Fatalf("errors %v\n%s", res.StageErrors, res.Stdout)
			}
			d := onlyDeployment(t, c.e)
			var head string
			for _, pr := range c.e.PullRequests(owner, repoName) {
				if pr.Number == number {
					head = pr.HeadSHA
				}
			}
			if d.Environment != tc.env || d.SHA != head || states(d)[len(d.Statuses)-1] != "success" {
				t.Errorf("deployment %s of %s (%v), want %s of %s", d.Environment, d.SHA, states(d), tc.env, head)
			}
			if res.Outputs["actor"] != tc.login || res.Outputs["environment"] != tc.env {
				t.Errorf("outputs %v", res.Outputs)
			}
		})
	}
}

// TestCommandWaitsForChecks: pending checks are waited for (conditional requests), this job's
// own check run is left out, as are the names in ignore-checks.
func TestCommandWaitsForChecks(t *testing.T) {
	t.Parallel()
	// The pending checks finish once the job has looked at them three times.
	release := make(chan struct{})
	var looks atomic.Int32
	var once sync.Once
	c := newChatopsWith(t, emulator.Config{Observe: func(req *http.Request, _ []byte, _ int, _ http.Header, _ []byte) {
		if strings.HasSuffix(req.URL.Path, "/check-runs") && looks.Add(1) >= 3 {
			once.Do(func() { close(release) })
		}
	}})
	test := mustCheck(t, c.e, emulator.CheckRun{Name: "test", HeadSHA: featureSHA, Status: "in_progress"})
	mustCheck(t, c.e, emulator.CheckRun{Name: "lint", HeadSHA: featureSHA, Status: "completed", Conclusion: "success"})
	mustCheck(t, c.e, emulator.CheckRun{Name: "docs", HeadSHA: featureSHA, Status: "completed", Conclusion: "skipped"})
	mustCheck(t, c.e, emulator.CheckRun{Name: "flaky", HeadSHA: featureSHA, Status: "completed", Conclusion: "failure"})
	own := mustCheck(t, c.e, emulator.CheckRun{Name: "deploy", HeadSHA: featureSHA, Status: "in_progress"})
	if _, err := c.e.AddCommitStatus(owner, repoName, emulator.CommitStatus{SHA: featureSHA, Context: "ci/jenkins", State: "pending"}); err != nil {
		t.Fatal(err)
	}
	_, ev := c.comment(t, "alice", "/deploy")
	script := c.e.Run("ci", emulator.Step{Gate: release, Do: func() error {
		if _, err := c.e.AddCommitStatus(owner, repoName, emulator.CommitStatus{SHA: featureSHA, Context: "ci/jenkins", State: "success"}); err != nil {
			return err
		}
		_, err := c.e.CompleteCheckRun(owner, repoName, test.ID, "success")
		return err
	}})
	j := c.job(t, ev, map[string]string{"ignore-checks": "flaky"})
	j.Contexts.CheckRunID = fmt.Sprint(own.ID)
	res := run(t, j)
	if res.Failed() {
		t.Fatalf("errors %v\n%s", res.StageErrors, res.Log["pre"])
	}
	if err := script.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := onlyDeployment(t, c.e)
	// Created only after the checks went green.
	var lastLook, create int
	var notModified int
	for i, r := range c.e.Requests() {
		switch {
		case strings.HasSuffix(r.Path, "/check-runs"):
			lastLook = i
		case r.Method == "POST" && strings.HasSuffix(r.Path, "/deployments"):
			create = i
		}
		if r.Status == 304 {
			notModified++
		}
	}
	if create < lastLook {
		t.Error("the deployment was created before the last look at the checks")
	}
	if notModified == 0 {
		t.Error("no look was answered 304: the polls are not conditional requests")
	}
	if d.SHA != featureSHA {
		t.Errorf("deployed %s", d.SHA)
	}
	log := res.Log["pre"]
	for _, s := range []string{"waiting for 2 checks of a84d88e", "checks of a84d88e are green", "deploy (this job)", "flaky"} {
		if !strings.Contains(log, s) {
			t.Errorf("pre's log lacks %q:\n%s", s, log)
		}
	}
	if sum := res.Summaries["main"]; !strings.Contains(sum, "Checks of `a84d88e`: 5 green, left out: deploy (this job), flaky") {
		t.Errorf("summary:\n%s", sum)
	}
}

// TestCommandHandledByMain: when pre cannot act (a local action, which has no pre; a token from
// an earlier step, empty at job start), main handles the command and post finishes it.
func TestCommandHandledByMain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		local bool
		with  map[string]string
	}{
		{name: "local action", local: true},
		{name: "token from an earlier step", with: map[string]string{"token": "${{ steps.app.outputs.token }}"}},
		{name: "environments from an earlier step", with: map[string]string{"environments": "${{ steps.app.outputs.envs }}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newChatops(t)
			cm, ev := c.comment(t, "alice", "/deploy to production")
			j := c.job(t, ev, tc.with)
			j.Local = tc.local
			j.StepsBefore = []actionsim.Step{{ID: "app", Run: func(_ context.Context, s *actionsim.StepRun) error {
				if n := len(c.e.Requests()); n != 0 {
					t.Errorf("%d requests before main: pre must leave the command to main", n)
				}
				s.SetOutput("token", testTok)
				s.SetOutput("envs", "staging\nproduction")
				return nil
			}}}
			res := run(t, j)
			if res.Failed() {
				t.Fatalf("errors %v\n%s", res.StageErrors, res.Stdout)
			}
			d := onlyDeployment(t, c.e)
			if d.Environment != "production" || strings.Join(states(d), ",") != "in_progress,success" {
				t.Errorf("deployment %s %v", d.Environment, states(d))
			}
			if res.Outputs["triggered"] != "true" || res.Outputs["deployment-id"] != fmt.Sprint(d.ID) {
				t.Errorf("outputs %v", res.Outputs)
			}
			if got := strings.Join(reactions(t, c.e, c.pr.Number, cm.ID), ","); got != "eyes,rocket" {
				t.Errorf("reactions %s", got)
			}
			if bot := botComments(c.e, c.pr.Number); len(bot) != 1 || !strings.Contains(bot[0].Body, "**Deployed**") {
				t.Errorf("bot comments %+v", bot)
			}
		})
	}
}

// TestCommandRerun: each attempt is a new job. A re-run deploys the commit the first attempt
// deployed (a push since then does not change what goes out) and posts its own result comment;
// the first attempt's comment keeps its outcome.
func TestCommandRerun(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	cm, ev := c.comment(t, "alice", "/deploy")
	first := c.job(t, ev, nil)
	first.StepsAfter = []actionsim.Step{{ID: "ship", Run: func(context.Context, *actionsim.StepRun) error { return fmt.Errorf("flaky deploy") }}}
	if res := run(t, first); res.JobStatus != "failure" {
		t.Fatalf("first attempt: %s", res.JobStatus)
	}
	if _, err := c.e.PushPullRequest(owner, repoName, c.pr.Number, emulator.Commit{Message: "pushed after the command"}); err != nil {
		t.Fatal(err)
	}
	second := c.job(t, ev, nil)
	second.Env["GITHUB_RUN_ATTEMPT"] = "2"
	before := len(c.e.Requests())
	res := run(t, second)
	if res.Failed() {
		t.Fatalf("second attempt: %v", res.StageErrors)
	}
	// One request more than a first attempt: the look-up of the earlier attempt's deployment.
	if got := requestsSince(c.e, before); len(got) != 15 {
		t.Errorf("the re-run made %d requests, want 15:\n%s", len(got), strings.Join(got, "\n"))
	}
	deps := c.e.Deployments(owner, repoName)
	if len(deps) != 2 || deps[1].SHA != featureSHA || deps[0].SHA != featureSHA {
		t.Fatalf("deployments %+v, want two of %s", deps, featureSHA)
	}
	if got := strings.Join(states(deps[1]), ","); got != "in_progress,success" {
		t.Errorf("second attempt's states %s", got)
	}
	bot := botComments(c.e, c.pr.Number)
	if len(bot) != 2 || !strings.Contains(bot[0].Body, "**Deploy failed:**") || !strings.Contains(bot[1].Body, "**Deployed**") ||
		!strings.Contains(bot[1].Body, fmt.Sprintf("attempt 2 of the run deploys the commit of deployment %d again", deps[0].ID)) {
		t.Errorf("result comments:\n%s\n---\n%s", bot[0].Body, bot[len(bot)-1].Body)
	}
	if !strings.Contains(res.Log["pre"], "deploys a84d88e again") {
		t.Errorf("pre's log does not say the head moved:\n%s", res.Log["pre"])
	}
	// The command's reactions: eyes once (GitHub keeps one per user and content), -1 and rocket.
	if got := strings.Join(reactions(t, c.e, c.pr.Number, cm.ID), ","); got != "eyes,-1,rocket" {
		t.Errorf("reactions %s", got)
	}
}

// TestCommandSerialisedPerEnvironment is the concurrency recipe at work: two pull requests'
// commands for the same environment run one after the other (as a concurrency group makes
// them); each has its own deployment and result comment, and the later success makes the
// earlier deployment inactive, so the environment shows exactly what runs there.
func TestCommandSerialisedPerEnvironment(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	other, _, err := c.e.OpenPullRequest(owner, repoName, emulator.PullRequest{Head: "feature-y", User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, c.e, emulator.CheckRun{Name: "ci", HeadSHA: other.HeadSHA, Status: "completed", Conclusion: "success"})
	_, ev1 := c.comment(t, "alice", "/deploy staging")
	_, ev2, err := c.e.AddComment(owner, repoName, other.Number, "bob", "/deploy staging")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []emulator.Event{ev1, ev2} {
		if res := run(t, c.job(t, ev, nil)); res.Failed() {
			t.Fatalf("errors %v", res.StageErrors)
		}
	}
	deps := c.e.Deployments(owner, repoName)
	if len(deps) != 2 || deps[0].SHA != featureSHA || deps[1].SHA != other.HeadSHA {
		t.Fatalf("deployments %+v", deps)
	}
	if got := states(deps[0]); got[len(got)-1] != "inactive" {
		t.Errorf("the first deployment ends %v: the later success must make it inactive", got)
	}
	if got := states(deps[1]); got[len(got)-1] != "success" {
		t.Errorf("the second deployment ends %v", got)
	}
	if n := len(botComments(c.e, c.pr.Number)) + len(botComments(c.e, other.Number)); n != 2 {
		t.Errorf("%d result comments, want one per pull request", n)
	}
}

// TestCommandPermissions: the workflow's permissions: what each missing one does, and that the
// message names it.
func TestCommandPermissions(t *testing.T) {
	t.Parallel()
	full := emulator.Permissions{DeploymentsWrite: true, DeploymentsRead: true, Contents: emulator.AccessRead, Checks: emulator.AccessRead,
		Statuses: emulator.AccessRead, PullRequests: emulator.AccessWrite, Issues: emulator.AccessWrite}
	for _, tc := range []struct {
		name   string
		change func(p *emulator.Permissions)
		want   string
		reply  bool
	}{
		{name: "the documented set is enough", change: func(*emulator.Permissions) {}},
		{name: "no pull-requests or issues write", change: func(p *emulator.Permissions) { p.PullRequests, p.Issues = emulator.AccessRead, emulator.AccessRead },
			want: "`permissions: pull-requests: write`"},
		{name: "no checks read", change: func(p *emulator.Permissions) { p.Checks = emulator.AccessNone }, want: "`permissions: checks: read`", reply: true},
		{name: "no statuses read", change: func(p *emulator.Permissions) { p.Statuses = emulator.AccessNone }, want: "`permissions: statuses: read`", reply: true},
		{name: "no deployments write", change: func(p *emulator.Permissions) { p.DeploymentsWrite = false }, want: "deployments: write", reply: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := full
			tc.change(&p)
			c := newChatopsWith(t, emulator.Config{Tokens: map[string]emulator.Permissions{testTok: p}})
			_, ev := c.comment(t, "alice", "/deploy")
			res := run(t, c.job(t, ev, nil))
			if tc.want == "" {
				if res.Failed() {
					t.Fatalf("errors %v", res.StageErrors)
				}
				return
			}
			err := res.StageErrors["pre"]
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("pre error %v, want it to name %s", err, tc.want)
			}
			if n := len(c.e.Deployments(owner, repoName)); n != 0 {
				t.Errorf("%d deployments", n)
			}
			if got := len(botComments(c.e, c.pr.Number)); (got == 1) != tc.reply {
				t.Errorf("%d replies, want reply=%v", got, tc.reply)
			}
		})
	}
}
