package deploy

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// Command mode applies .github/deployments.yml from the default branch (policy.go): the recording
// fake's file, the commands, what is created and what each refusal carries.

var policyNow = time.Date(2026, 12, 24, 10, 0, 0, 0, time.UTC)

// policyCommand runs pre for body with the fake's policy file; the clock is policyNow.
func policyCommand(t *testing.T, f *fakeAPI, s *Settings, body string) (*Report, error) {
	t.Helper()
	d := &Deployer{API: f, Owner: "o", Repo: "r", Now: func() time.Time { return policyNow }}
	return runCommand(t, d, mapState{}, StagePre, s, commentEvent(body), testRun)
}

func refusalOf(t *testing.T, err error, want RefusalReason) *Refusal {
	t.Helper()
	var ref *Refusal
	if !errors.As(err, &ref) || ref.Reason != want {
		t.Fatalf("err %v, want refusal %d", err, want)
	}
	return ref
}

func created(f *fakeAPI) bool { return slices.Contains(f.Calls(), "create") }

func TestCommandPolicyStricterRole(t *testing.T) {
	t.Parallel()
	file := []byte("environments:\n  production:\n    allowed-permission: maintain\n")
	f := commandFake()
	f.kit.policy = file
	_, err := policyCommand(t, f, commandSettings(), "/deploy production")
	ref := refusalOf(t, err, RefusePermission)
	if !ref.ByPolicy || ref.Required != "maintain" || ref.Role != "write" || created(f) {
		t.Fatalf("refusal %+v, created %v", ref, created(f))
	}
	// The role read for the input is reused: one permission request.
	if n := strings.Count(strings.Join(f.Calls(), "\n"), "permission alice"); n != 1 {
		t.Errorf("%d permission requests: %q", n, f.Calls())
	}
	if len(f.kit.comments) != 1 || !strings.Contains(f.kit.comments[0].GetBody(), "maintain") {
		t.Errorf("reply %+v", f.kit.comments)
	}

	// An environment the file does not name keeps the input's rule.
	f = commandFake()
	f.kit.policy = file
	if _, err := policyCommand(t, f, commandSettings(), "/deploy staging"); err != nil || !created(f) {
		t.Fatalf("staging: %v, created %v", err, created(f))
	}
	// A maintainer deploys to production.
	f = commandFake()
	f.kit.policy = file
	f.kit.perms["alice"] = ghapi.Permission{Permission: "write", RoleName: "maintain"}
	if _, err := policyCommand(t, f, commandSettings(), "/deploy production"); err != nil || !created(f) {
		t.Fatalf("maintainer: %v, created %v", err, created(f))
	}
	// The input is higher than the policy: the input decides (the higher of the two).
	f = commandFake()
	f.kit.policy = file
	f.kit.perms["alice"] = ghapi.Permission{Permission: "write", RoleName: "maintain"}
	s := commandSettings()
	s.AllowedPermission = "admin"
	ref = refusalOf(t, func() error { _, err := policyCommand(t, f, s, "/deploy production"); return err }(), RefusePermission)
	if ref.ByPolicy || ref.Required != "admin" {
		t.Errorf("refusal %+v, want the input's admin", ref)
	}
	// A re-run by a writer of a maintainer's command: the re-runner is below the policy's role.
	f = commandFake()
	f.kit.policy = file
	f.kit.perms["alice"] = ghapi.Permission{Permission: "write", RoleName: "maintain"}
	f.kit.perms["rick"] = ghapi.Permission{Permission: "write", RoleName: "write"}
	run := testRun
	run.TriggeringActor = "rick"
	d := &Deployer{API: f, Owner: "o", Repo: "r", Now: func() time.Time { return policyNow }}
	_, err = runCommand(t, d, mapState{}, StagePre, commandSettings(), commentEvent("/deploy production"), run)
	if ref := refusalOf(t, err, RefusePermission); ref.Rerunner != "rick" || !ref.ByPolicy || created(f) {
		t.Errorf("re-run refusal %+v", ref)
	}
}

func TestCommandPolicyChecksCannotBeTurnedOff(t *testing.T) {
	t.Parallel()
	file := []byte("environments:\n  production:\n    checks: required\n")
	red := []checksFixture{{statuses: []*github.RepoStatus{
		{Context: github.String("ci"), State: github.String("success")},
		{Context: github.String("lint"), State: github.String("failure")}}}}
	s := commandSettings()
	s.IgnoreChecks = []string{"lint"}

	f := commandFake()
	f.kit.policy, f.kit.looks = file, red
	_, err := policyCommand(t, f, s, "/deploy production")
	var ce *ChecksError
	if !errors.As(err, &ce) || ce.Reason != ChecksFailed || len(ce.Failed) != 1 || ce.Failed[0].Name != "lint" || !ce.Policy || created(f) {
		t.Fatalf("production with ignore-checks: lint: %v, created %v", err, created(f))
	}
	// Staging is not in the file: ignore-checks applies as before.
	f = commandFake()
	f.kit.policy, f.kit.looks = file, red
	if _, err := policyCommand(t, f, s, "/deploy staging"); err != nil || !created(f) {
		t.Fatalf("staging: %v, created %v", err, created(f))
	}
	// allow-no-checks does not let a commit without checks through either.
	s = commandSettings()
	s.AllowNoChecks = true
	f = commandFake()
	f.kit.policy, f.kit.looks = file, nil
	if _, err := policyCommand(t, f, s, "/deploy production"); !errors.As(err, &ce) || ce.Reason != ChecksNone || !ce.Policy || created(f) {
		t.Fatalf("production with allow-no-checks: %v", err)
	}
	f = commandFake()
	f.kit.policy, f.kit.looks = file, nil
	if _, err := policyCommand(t, f, s, "/deploy staging"); err != nil || !created(f) {
		t.Fatalf("staging with allow-no-checks: %v", err)
	}
}

func TestCommandPolicyFreeze(t *testing.T) {
	t.Parallel()
	file := []byte("environments:\n  production:\n    freezes:\n      - from: 2026-12-20T00:00:00Z\n        until: 2027-01-04T00:00:00Z\n        reason: end-of-year freeze\n")
	f := commandFake()
	f.kit.policy = file
	_, err := policyCommand(t, f, commandSettings(), "/deploy production")
	ref := refusalOf(t, err, RefusePolicyClosed)
	if !strings.Contains(ref.Closed, "end-of-year freeze") || created(f) {
		t.Fatalf("refusal %+v", ref)
	}
	// Refused before the pull request is read.
	if slices.Contains(f.Calls(), "get pr 7") {
		t.Errorf("calls %q", f.Calls())
	}
	// After the freeze, the same file deploys.
	f = commandFake()
	f.kit.policy = file
	d := &Deployer{API: f, Owner: "o", Repo: "r", Now: func() time.Time { return time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC) }}
	if _, err := runCommand(t, d, mapState{}, StagePre, commandSettings(), commentEvent("/deploy production"), testRun); err != nil || !created(f) {
		t.Fatalf("after the freeze: %v", err)
	}
}

// TestCommandPolicyWindows: policyNow is a Thursday, 10:00 UTC (11:00 in Berlin).
func TestCommandPolicyWindows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		window string
		open   bool
	}{
		{"days: mon-fri\n        hours: \"09:00-17:00\"", true},
		{"days: [sat, sun]", false},
		{"hours: \"11:00-12:00\"\n        time-zone: Europe/Berlin", true},
		{"hours: \"10:00-11:00\"\n        time-zone: Europe/Berlin", false},
	} {
		f := commandFake()
		f.kit.policy = []byte("environments:\n  production:\n    windows:\n      - " + tc.window + "\n")
		_, err := policyCommand(t, f, commandSettings(), "/deploy production")
		if tc.open {
			if err != nil || !created(f) {
				t.Errorf("%s: %v, want deployed", tc.window, err)
			}
			continue
		}
		if ref := refusalOf(t, err, RefusePolicyClosed); !strings.Contains(ref.Closed, "outside the deploy windows") || created(f) {
			t.Errorf("%s: refusal %+v", tc.window, ref)
		}
	}
}

// liveIn adds a deployment of sha to env whose latest status is success at at.
func liveIn(f *fakeAPI, env, sha string, at time.Time) {
	f.nextID++
	id := f.nextID
	f.deps = append(f.deps, &github.Deployment{ID: github.Int64(id), SHA: github.String(sha), Ref: github.String(sha), Environment: github.String(env),
		Task: github.String("deploy"), CreatedAt: &github.Timestamp{Time: at.Add(-time.Minute)}})
	f.nextID++
	f.statuses[id] = []*github.DeploymentStatus{{ID: github.Int64(f.nextID), State: github.String("success"), CreatedAt: &github.Timestamp{Time: at}}}
}

func TestCommandPolicySoak(t *testing.T) {
	t.Parallel()
	file := []byte("environments:\n  production:\n    after:\n      environment: staging\n      soak: 30m\n")
	// Live in staging for 10 minutes: refused, with when to come back.
	f := commandFake()
	f.kit.policy = file
	liveIn(f, "staging", "abc1234def", policyNow.Add(-10*time.Minute))
	_, err := policyCommand(t, f, commandSettings(), "/deploy production")
	ref := refusalOf(t, err, RefusePolicySoaking)
	if want := policyNow.Add(20 * time.Minute); !ref.ReadyAt.Equal(want) || created(f) {
		t.Fatalf("ready at %s, want %s; created %v", ref.ReadyAt, want, created(f))
	}
	if body := f.kit.comments[0].GetBody(); !strings.Contains(body, "10:20:00") {
		t.Errorf("reply does not say when to come back: %s", body)
	}
	// Another commit is live in staging: refused (it cannot pass by waiting).
	f = commandFake()
	f.kit.policy = file
	liveIn(f, "staging", "0000000other", policyNow.Add(-time.Hour))
	_, err = policyCommand(t, f, commandSettings(), "/deploy production")
	if ref := refusalOf(t, err, RefusePolicyNotLive); ref.Live == nil || ref.Live.SHA != "0000000other" || created(f) {
		t.Fatalf("refusal %+v", ref)
	}
	// Never deployed to staging.
	f = commandFake()
	f.kit.policy = file
	_, err = policyCommand(t, f, commandSettings(), "/deploy production")
	if ref := refusalOf(t, err, RefusePolicyNotLive); ref.Live != nil {
		t.Fatalf("refusal %+v", ref)
	}
	// The soak is over: deployed.
	f = commandFake()
	f.kit.policy = file
	liveIn(f, "staging", "abc1234def", policyNow.Add(-30*time.Minute))
	if _, err := policyCommand(t, f, commandSettings(), "/deploy production"); err != nil || !created(f) {
		t.Fatalf("soaked: %v", err)
	}
}

func TestCommandPolicyBadFileRefuses(t *testing.T) {
	t.Parallel()
	f := commandFake()
	f.kit.policy = []byte("environments:\n  production:\n    allowed-permission: boss\n    soak: 30m\n")
	_, err := policyCommand(t, f, commandSettings(), "/deploy staging") // any environment
	ref := refusalOf(t, err, RefusePolicyInvalid)
	if ref.Problems == nil || len(ref.Problems.Problems) != 2 || created(f) || slices.Contains(f.Calls(), "get pr 7") {
		t.Fatalf("refusal %+v; calls %q", ref, f.Calls())
	}
	body := f.kit.comments[0].GetBody()
	for _, s := range []string{"boss", "line 3", "line 4", "soak"} {
		if !strings.Contains(body, s) {
			t.Errorf("reply lacks %q: %s", s, body)
		}
	}
	// A file that cannot be read fails the command: nothing deploys.
	f = commandFake()
	f.failOn["file .github/deployments.yml"] = &ghapi.APIError{Op: ghapi.OpGetPolicyFile, Status: 403, Message: "Resource not accessible by integration"}
	_, err = policyCommand(t, f, commandSettings(), "/deploy staging")
	var fail *Failure
	if !errors.As(err, &fail) || fail.Op != ghapi.OpGetPolicyFile || created(f) {
		t.Fatalf("unreadable policy: %v, created %v", err, created(f))
	}
}

func TestCommandNoPolicyFile(t *testing.T) {
	t.Parallel()
	s := commandSettings()
	s.IgnoreChecks, s.AllowNoChecks = []string{"lint"}, true
	f := commandFake()
	f.kit.looks = nil // no checks: allow-no-checks lets it through, as before
	if _, err := policyCommand(t, f, s, "/deploy production"); err != nil {
		t.Fatal(err)
	}
	want := []string{"react 42 eyes", "permission alice", "file .github/deployments.yml", "get pr 7", "check suites abc1234def",
		"check runs abc1234def", "combined status abc1234def", "create", "status in_progress", "comment 7"}
	if got := f.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls\n%q\nwant\n%q", got, want)
	}
}
