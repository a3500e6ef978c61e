package reliability

import (
	"regexp"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// fixRE finds guidance after a colon: what the user should do about the input.
var fixRE = regexp.MustCompile(`: [^\n]*\b(use|set|pass|leave|shorten|separate)\b`)

type badInput struct {
	name  string
	with  map[string]string
	token *string // the job's github.token when the default is used; nil = the canary
	names []string
}

func badInputCases() []badInput {
	empty := ""
	long := strings.Repeat("d", 141)
	return []badInput{
		{name: "empty token", token: &empty, names: []string{"token"}},
		{name: "empty token given explicitly", with: map[string]string{"token": ""}, token: &empty, names: []string{"token"}},
		{name: "token with a space", with: map[string]string{"token": "ghp_abc def"}, names: []string{"token"}},
		{name: "token with a newline", with: map[string]string{"token": "ghp_abcdef\n"}, names: []string{"token"}},
		{name: "repository without owner", with: map[string]string{"repository": "hello-world"}, names: []string{"repository"}},
		{name: "repository with two slashes", with: map[string]string{"repository": "octo-org/hello/world"}, names: []string{"repository"}},
		{name: "repository owner starting with a hyphen", with: map[string]string{"repository": "-octo/hello"}, names: []string{"repository"}},
		{name: "repository with a space", with: map[string]string{"repository": "octo org/hello"}, names: []string{"repository"}},
		{name: "repository name ..", with: map[string]string{"repository": "octo-org/.."}, names: []string{"repository"}},
		{name: "repository name .", with: map[string]string{"repository": "octo-org/."}, names: []string{"repository"}},
		{name: "payload using the action's own key", with: map[string]string{"payload": `{"deployment_action": {"request_id": "mine"}}`}, names: []string{"payload"}},
		{name: "non-boolean enabled", with: map[string]string{"enabled": "sometimes"}, names: []string{"enabled"}},
		{name: "wait without an environment", with: map[string]string{"mode": "wait"}, names: []string{"environment"}},
		{name: "latest without an environment", with: map[string]string{"mode": "latest"}, names: []string{"environment"}},
		{name: "negative wait-timeout", with: map[string]string{"mode": "wait", "environment": "staging", "wait-timeout": "-5m"}, names: []string{"wait-timeout"}},
		{name: "wait-timeout that is not a duration", with: map[string]string{"mode": "wait", "environment": "staging", "wait-timeout": "soon"}, names: []string{"wait-timeout"}},
		{name: "appear-timeout longer than wait-timeout", with: map[string]string{"mode": "wait", "environment": "staging", "wait-timeout": "1m", "appear-timeout": "5m"}, names: []string{"appear-timeout"}},
		{name: "sha that is not a commit", with: map[string]string{"mode": "wait", "environment": "staging", "sha": "main"}, names: []string{"sha"}},
		{name: "creator with a space", with: map[string]string{"mode": "wait", "environment": "staging", "creator": "vercel bot"}, names: []string{"creator"}},
		{name: "repository as a URL", with: map[string]string{"repository": "https://github.com/octo-org/hello-world"}, names: []string{"repository"}},
		{name: "unknown mode", with: map[string]string{"mode": "sometimes"}, names: []string{"mode"}},
		{name: "payload with broken JSON", with: map[string]string{"payload": `{"region": "eu"`}, names: []string{"payload"}},
		{name: "payload as a JSON array", with: map[string]string{"payload": `["eu", "us"]`}, names: []string{"payload"}},
		{name: "payload as a broken JSON string", with: map[string]string{"payload": `"unterminated`}, names: []string{"payload"}},
		{name: "description of 141 characters", with: map[string]string{"description": long}, names: []string{"description"}},
		{name: "unknown state", with: map[string]string{"mode": "trigger", "state": "done"}, names: []string{"state"}},
		{name: "status mode without state", with: map[string]string{"mode": "status", "deployment-id": "7"}, names: []string{"state"}},
		{name: "unknown initial-state", with: map[string]string{"initial-state": "success"}, names: []string{"initial-state"}},
		{name: "ftp environment-url", with: map[string]string{"environment-url": "ftp://files.example.com"}, names: []string{"environment-url"}},
		{name: "javascript environment-url", with: map[string]string{"environment-url": "javascript:alert(1)"}, names: []string{"environment-url"}},
		{name: "relative environment-url", with: map[string]string{"environment-url": "/app/staging"}, names: []string{"environment-url"}},
		{name: "environment-url without host", with: map[string]string{"environment-url": "https://"}, names: []string{"environment-url"}},
		{name: "log-url that is not a URL", with: map[string]string{"log-url": "see the job log"}, names: []string{"log-url"}},
		{name: "negative deployment-id", with: map[string]string{"mode": "finish", "deployment-id": "-5"}, names: []string{"deployment-id"}},
		{name: "zero deployment-id", with: map[string]string{"mode": "finish", "deployment-id": "0"}, names: []string{"deployment-id"}},
		{name: "non-numeric deployment-id", with: map[string]string{"mode": "status", "state": "success", "deployment-id": "abc"}, names: []string{"deployment-id"}},
		{name: "finish without deployment-id", with: map[string]string{"mode": "finish"}, names: []string{"deployment-id"}},
		{name: "status without deployment-id", with: map[string]string{"mode": "status", "state": "success"}, names: []string{"deployment-id"}},
		{name: "required-contexts with two commas", with: map[string]string{"required-contexts": "ci/test,,ci/lint"}, names: []string{"required-contexts"}},
		{name: "required-contexts with only commas", with: map[string]string{"required-contexts": ",,"}, names: []string{"required-contexts"}},
		{name: "required-contexts mixing * and names", with: map[string]string{"required-contexts": "*,ci/test"}, names: []string{"required-contexts"}},
		{name: "non-boolean auto-merge", with: map[string]string{"auto-merge": "yes"}, names: []string{"auto-merge"}},
		{name: "non-boolean transient-environment", with: map[string]string{"transient-environment": "1"}, names: []string{"transient-environment"}},
		{name: "non-boolean production-environment", with: map[string]string{"production-environment": "maybe"}, names: []string{"production-environment"}},
		{name: "non-boolean auto-inactive", with: map[string]string{"auto-inactive": "nope"}, names: []string{"auto-inactive"}},
		{name: "non-boolean delete-environment", with: map[string]string{"mode": "delete", "environment": "pr-1", "delete-environment": "sure"}, names: []string{"delete-environment"}},
		{name: "cancelled-state that is not final", with: map[string]string{"cancelled-state": "success"}, names: []string{"cancelled-state"}},
		{name: "blank environment for trigger", with: map[string]string{"mode": "trigger", "environment": "   "}, names: []string{"environment"}},
		{name: "delete without an environment", with: map[string]string{"mode": "delete"}, names: []string{"environment"}},
		{name: "environment with a newline", with: map[string]string{"environment": "stag\ning"}, names: []string{"environment"}},
		{name: "environment over 255 characters", with: map[string]string{"environment": strings.Repeat("e", 256)}, names: []string{"environment"}},
		{name: "unknown job-status", with: map[string]string{"job-status": "done"}, names: []string{"job-status"}},
		{name: "non-numeric job-check-run-id", with: map[string]string{"job-check-run-id": "abc"}, names: []string{"job-check-run-id"}},
		{name: "ref with a space", with: map[string]string{"ref": "feature x"}, names: []string{"ref"}},
		{name: "blank task", with: map[string]string{"task": "  "}, names: []string{"task"}},
		{name: "command without environments", with: map[string]string{"mode": "command"}, names: []string{"environments"}},
		{name: "command with blank environments", with: map[string]string{"mode": "command", "environments": " ,\n"}, names: []string{"environments"}},
		{name: "command with a pattern among environments", with: map[string]string{"mode": "command", "environments": "staging, pr-*"}, names: []string{"environments"}},
		{name: "unknown allowed-permission", with: map[string]string{"mode": "command", "environments": "staging", "allowed-permission": "owner"}, names: []string{"allowed-permission"}},
		{name: "non-boolean allow-forks", with: map[string]string{"mode": "command", "environments": "staging", "allow-forks": "sometimes"}, names: []string{"allow-forks"}},
		{name: "command of two words", with: map[string]string{"mode": "command", "environments": "staging", "command": "/deploy now"}, names: []string{"command"}},
		{name: "checks-timeout that is not a duration", with: map[string]string{"mode": "command", "environments": "staging", "checks-timeout": "soon"}, names: []string{"checks-timeout"}},
		{name: "zero checks-timeout", with: map[string]string{"wait-for-checks": "true", "checks-timeout": "0s"}, names: []string{"checks-timeout"}},
		{name: "ignore-checks with '*'", with: map[string]string{"mode": "command", "environments": "staging", "ignore-checks": "*"}, names: []string{"ignore-checks"}},
		{name: "non-boolean wait-for-checks", with: map[string]string{"wait-for-checks": "yes"}, names: []string{"wait-for-checks"}},
		{name: "several at once", with: map[string]string{"mode": "sometimes", "payload": "[1]", "environment-url": "ftp://x.example.com",
			"auto-merge": "yes", "cancelled-state": "success", "repository": "nope"},
			names: []string{"mode", "payload", "environment-url", "auto-merge", "cancelled-state", "repository"}},
	}
}

// TestBadInputs runs every kind of bad input through the real entry point (main, then post, as
// the runner runs a local action) and checks the user gets one message per stage that names the
// input and says what to do, the stage fails, and GitHub is never called.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	a := loadAction(t)
	cases := badInputCases()
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := emulatortest.Start(t, emulator.Config{Logf: quiet})
			j := newJob(t, a, e.URL(), tc.with)
			j.Local = true // main validates first, as with `uses: ./`
			if tc.token != nil {
				j.Contexts.Token = *tc.token
			}
			res := runJob(t, j)
			if res.StageErrors["main"] == nil {
				t.Fatalf("main did not fail; stdout:\n%s", res.Stdout["main"])
			}
			if res.JobStatus != "failure" {
				t.Errorf("job status %s, want failure", res.JobStatus)
			}
			var errs []actionsim.Annotation
			for _, an := range res.AnnotationsAt("error") {
				if an.Stage == "main" {
					errs = append(errs, an)
				}
			}
			if len(errs) != 1 {
				t.Fatalf("main printed %d error messages, want exactly 1: %+v", len(errs), errs)
			}
			msg := errs[0].Message
			t.Logf("message: %s", msg)
			for _, n := range tc.names {
				if !strings.Contains(msg, n) {
					t.Errorf("message does not name the input %q: %s", n, msg)
				}
			}
			if len(tc.names) > 1 {
				for _, n := range tc.names {
					if !strings.Contains(msg, "- "+n) {
						t.Errorf("input %q is not one line of the list: %s", n, msg)
					}
				}
			}
			hasFix := true
			for _, line := range strings.Split(msg, "\n") {
				if strings.TrimSpace(line) != "" && !strings.HasSuffix(line, "invalid inputs:") && !fixRE.MatchString(line) {
					hasFix = false
				}
			}
			if !hasFix {
				t.Errorf("message gives no fix (': ' then use/set/pass/leave/...): %s", msg)
			}
			if msg != strings.TrimSpace(res.StageErrors["main"].Error()) {
				t.Errorf("annotation %q differs from the stage's error %q", msg, res.StageErrors["main"])
			}
			for _, an := range res.AnnotationsAt("error") {
				if an.Stage == "post" && an.Message != msg {
					t.Errorf("post reported something else: %q", an.Message)
				}
			}
			if reqs := e.Requests(); len(reqs) != 0 {
				t.Errorf("the emulator saw %d requests, want 0: first %s %s", len(reqs), reqs[0].Method, reqs[0].Path)
			}
			if strings.Contains(everything(res), canary) {
				t.Error("the token leaked")
			}
		})
	}
}

// TestBadInputStopsThePublishedActionAtPre: with the published action (pre runs), a bad input
// fails the job at set-up, main is skipped, and nothing reaches GitHub.
func TestBadInputStopsThePublishedActionAtPre(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{Logf: quiet})
	res := runJob(t, newJob(t, loadAction(t), e.URL(), map[string]string{"mode": "sometimes"}))
	if res.StageErrors["pre"] == nil || res.Steps["deploy"].Outcome != "skipped" {
		t.Fatalf("pre error %v, main outcome %q", res.StageErrors["pre"], res.Steps["deploy"].Outcome)
	}
	perStage := map[string]int{}
	for _, an := range res.AnnotationsAt("error") {
		perStage[an.Stage]++
		if !strings.Contains(an.Message, "mode") {
			t.Errorf("%s: %q does not name the input", an.Stage, an.Message)
		}
	}
	if perStage["pre"] != 1 || perStage["post"] != 0 {
		t.Errorf("error messages per stage %v, want one in pre and none repeated by post (nothing was started)", perStage)
	}
	if n := len(e.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}
