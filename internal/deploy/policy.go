package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/policy"
)

// Command mode applies the repository's deployment policy, .github/deployments.yml on the
// default branch (internal/policy), when the file exists: the same file the server's Slack
// commands and the protection rule (internal/gate) apply. The step's inputs can narrow it, never
// widen it:
//
//   - allowed-permission: the higher of the input and the environment's allowed-permission.
//   - checks: required: the checks gate runs as always, and ignore-checks and allow-no-checks
//     are not applied to that environment (a check named there still counts; zero checks refuse).
//   - windows and freezes: a command outside a window, or in a freeze, is refused.
//   - after: {environment, soak}: the head must be live in that environment (latest's rule), for
//     soak. A soak not over refuses with the time to comment again: a job cannot wait 30 minutes.
//   - confirm: true asks for a button in Slack; a pull request has none, and a comment is itself
//     a deliberate request, so command mode ignores confirm (and says so in the log).
//
// A file that does not parse refuses every command, listing its problems; a file that cannot
// be read (403: the workflow lacks contents: read; 5xx) fails the command: neither allows. No
// file: nothing changes but one request more (a 404).
//
// The rules are policy.Environment's (Allows' ranks, Closed), latest's (Live) and CheckAfter's,
// as gate.Decide applies them.

// policyFetcher is the policy Loader's fetcher over ghapi.API.
type policyFetcher struct{ api ghapi.API }

func (f policyFetcher) FetchFile(ctx context.Context, owner, repo, path, _ string) (policy.Answer, error) {
	b, err := f.api.DefaultBranchFile(ctx, owner, repo, path)
	switch {
	case ghapi.IsNotFound(err):
		return policy.Answer{NotFound: true}, nil
	case err != nil:
		return policy.Answer{}, err
	}
	return policy.Answer{Content: b}, nil
}

// commandPolicy reads the policy and returns the rules of c.Environment. A bad file is a
// RefusePolicyInvalid; a failed read is a Failure. found is false without a file.
func (d *Deployer) commandPolicy(ctx context.Context, c *Command, refuse func(RefusalReason) *Refusal) (env policy.Environment, found bool, err error) {
	var l policy.Loader // one read per job: no cache to keep
	p, err := l.Load(ctx, policyFetcher{d.API}, d.Owner, d.Repo)
	var fe *policy.FileError
	switch {
	case errors.As(err, &fe):
		ref := refuse(RefusePolicyInvalid)
		ref.Policy, ref.Problems = fe.File, fe
		return env, true, ref
	case err != nil:
		return env, false, Fail(err, ghapi.OpGetPolicyFile, "")
	}
	env, named := p.Environment(c.Environment)
	if !p.Found {
		d.debugf("no %s on the default branch: the inputs alone apply", policy.Path)
		return env, false, nil
	}
	if !named {
		d.notef("%s names no environment %s: the inputs alone apply", policy.Path, c.Environment)
		return env, true, nil
	}
	d.notef("%s applies to %s: %s", policy.Path, c.Environment, rulesOf(env))
	if env.Confirm {
		d.notef("%s asks %s for a confirmation (confirm: true): a pull request has no button, and the comment is the confirmation", policy.Path, c.Environment)
	}
	return env, true, nil
}

// rulesOf lists an environment's rules for the log.
func rulesOf(e policy.Environment) string {
	parts := []string{"allowed-permission " + e.AllowedPermission}
	if e.ChecksRequired {
		parts = append(parts, "checks required")
	}
	if e.After != nil {
		parts = append(parts, fmt.Sprintf("after %s (soak %s)", e.After.Environment, e.After.Soak))
	}
	if len(e.Windows) > 0 {
		parts = append(parts, fmt.Sprintf("%d deploy windows", len(e.Windows)))
	}
	if len(e.Freezes) > 0 {
		parts = append(parts, fmt.Sprintf("%d freezes", len(e.Freezes)))
	}
	if e.Confirm {
		parts = append(parts, "confirm")
	}
	return strings.Join(parts, ", ")
}

// stricterRole refuses when the policy asks for more than the input did and a role checked
// against the input (the commenter's, a re-runner's) is below it.
func stricterRole(env policy.Environment, input string, roles []checkedRole, refuse func(RefusalReason) *Refusal) error {
	need := env.AllowedPermission
	if roleRank(need) <= roleRank(input) {
		return nil
	}
	for _, r := range roles {
		if roleRank(EffectiveRole(r.perm)) < roleRank(need) {
			ref := refuse(RefusePermission)
			ref.Role, ref.Required, ref.ByPolicy, ref.Rerunner = shownRole(r.perm), need, true, r.rerunner
			return ref
		}
	}
	return nil
}

// checkedRole is a permission checkRole read (once: the policy's check reuses it).
type checkedRole struct {
	perm     ghapi.Permission
	rerunner string // "" for the commenter
}

// closedNow refuses a command outside the environment's deploy windows or in a freeze.
func (d *Deployer) closedNow(env policy.Environment, refuse func(RefusalReason) *Refusal) error {
	if why, closed := env.Closed(d.now()); closed {
		ref := refuse(RefusePolicyClosed)
		ref.Closed = why
		return ref
	}
	return nil
}

// afterRule refuses unless sha has been live in the after: environment for the soak.
func (d *Deployer) afterRule(ctx context.Context, env policy.Environment, sha string, refuse func(RefusalReason) *Refusal) error {
	a := env.After
	if a == nil {
		return nil
	}
	live, _, err := d.Live(ctx, a.Environment, "")
	if err != nil {
		return err
	}
	switch standing, ready := CheckAfter(live, sha, *a, d.now()); standing {
	case AfterNotLive:
		ref := refuse(RefusePolicyNotLive)
		ref.After, ref.Live = a, live
		return ref
	case AfterSoaking:
		ref := refuse(RefusePolicySoaking)
		ref.After, ref.Live, ref.ReadyAt = a, live, ready
		return ref
	}
	d.notef("%s has been live in %s since %s (soak %s)", ShortSHA(sha), a.Environment, live.StatusAt.UTC().Format(time.RFC3339), a.Soak)
	return nil
}

// AfterStanding is where a commit stands against an after: rule.
type AfterStanding int

// Where a commit stands.
const (
	AfterNotLive AfterStanding = iota // not the live deployment there (never deployed, or replaced)
	AfterSoaking                      // live there, for less than the soak: ready at the time returned
	AfterMet                          // live there for the soak
)

// CheckAfter is the after: rule, shared by command mode, Slack and the protection rule: sha must
// be the one live in a.Environment (live, by latest's rule; nil when none is) since a.Soak
// before now.
func CheckAfter(live *Listed, sha string, a policy.After, now time.Time) (AfterStanding, time.Time) {
	if live == nil || !strings.EqualFold(live.SHA, sha) {
		return AfterNotLive, time.Time{}
	}
	if ready := live.StatusAt.Add(a.Soak); now.Before(ready) {
		return AfterSoaking, ready
	}
	return AfterMet, time.Time{}
}

// noteStrictChecks says in the log which inputs a policy's checks: required overrides (Command.job
// drops them).
func (d *Deployer) noteStrictChecks(s *Settings, environment string) {
	if len(s.IgnoreChecks) > 0 {
		d.notef("%s requires the checks of %s: ignore-checks (%s) is not applied", policy.Path, environment, strings.Join(s.IgnoreChecks, ", "))
	}
	if s.AllowNoChecks {
		d.notef("%s requires the checks of %s: allow-no-checks is not applied (a commit without checks is refused)", policy.Path, environment)
	}
}
