// Package explain turns the action's typed problems and failures (config.Problems,
// deploy.Failure and the errors that carry them) into sentences that name what to change. The
// action and the CLI speak of the same inputs in different words (`ref: main` in YAML, --ref main
// on a command line); each passes its Dialect, so neither parses the other's prose.
package explain

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/config"
	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/lock"
	"github.com/deployment-action/deployment-action/internal/policy"
)

// Dialect is how one front end names things.
type Dialect interface {
	// Subject starts a line about an input: "environment-url" (action), "--environment-url" (CLI).
	Subject(input string) string
	// Input names an input inside a sentence: "`environment-url`", "--environment-url".
	Input(input string) string
	// Assign shows an input set to a value: "`ref: main`", "--ref main".
	Assign(input, value string) string
	// Mode names a mode: "the `deactivate` mode", "the deactivate command".
	Mode(name string) string
	// Missing is the front end's own fix for an empty input (where the token or the repository
	// come from), or "" to use the problem's.
	Missing(input string) string
	// LeaveEmpty says how to leave an input out and what that does: does is the action's words
	// ("for the run's commit"); a front end whose default differs says its own.
	LeaveEmpty(input, does string) string
	// Permission says how to give the token the access a call needs.
	Permission(need Access) string
	// TokenSource says where the token came from, after "check ".
	TokenSource() string
	// Literal shows text someone else wrote (a comment, a check's name, a branch) inert: it
	// can neither mention, link nor format where the sentence is shown.
	Literal(s string) string
}

// Error explains err in d's words: problems and failures fully, anything else as it is.
func Error(d Dialect, err error) string {
	if err == nil {
		return ""
	}
	var ps config.Problems
	if errors.As(err, &ps) {
		return Problems(d, ps)
	}
	// The outermost error of the chain that is explained decides; what wrapped it (with %w)
	// keeps its words in front, so "finishing deployment 7: <403>" keeps the permission advice.
	for e := err; e != nil; e = errors.Unwrap(e) {
		if s := known(d, e); s != "" {
			if e != err {
				if pre, cut := strings.CutSuffix(err.Error(), e.Error()); cut {
					return pre + s
				}
			}
			return s
		}
	}
	return err.Error()
}

// known explains err itself (not what it wraps) when it is one of the typed errors, else "".
func known(d Dialect, err error) string {
	switch e := err.(type) {
	case *deploy.Failure:
		return Failure(d, e)
	case *deploy.ItemError:
		return fmt.Sprintf("deployment %d: %s", e.ID, Error(d, e.Err))
	case *deploy.WaitError:
		return wait(d, e)
	case *deploy.ShortSHAError:
		return fmt.Sprintf("%s %q is a short SHA that names no commit of the repository (or more than one): pass the commit's full 40-character SHA", d.Subject("sha"), e.SHA)
	case *deploy.NotLiveError:
		return fmt.Sprintf("no deployment is live in %s (none has success as its latest status): deploy there first, or set %s to get empty outputs instead",
			e.Environment, d.Assign("allow-none", "true"))
	case *deploy.GateError:
		live := "nothing is live there"
		if e.Live != nil {
			live = fmt.Sprintf("it runs %s (deployment %d, %s)", deploy.ShortSHA(e.Live.SHA), e.Live.ID, e.Live.Ref)
		}
		return fmt.Sprintf("refusing to deploy %s (%s): it is not live in %s, and %s requires it: %s. Deploy this commit to %s first, or deploy the commit that is live there",
			e.Ref, deploy.ShortSHA(e.SHA), e.Environment, d.Input("require-deployed-in"), live, e.Environment)
	case *deploy.Unfinished:
		return fmt.Sprintf("%s; deployment %d to %s is left %s: set its state with %s and %s",
			Error(d, e.Err), e.ID, e.Environment, leftState(e.State), d.Mode("status"), d.Assign("deployment-id", fmt.Sprint(e.ID)))
	case *deploy.Refusal:
		return refusal(d, e)
	case *deploy.LockedError:
		return locked(d, e)
	case *deploy.LockRefusal:
		return lockRefusal(e)
	case *deploy.EventError:
		ev := e.Event
		if ev == "" {
			ev = "an unknown event"
		}
		return fmt.Sprintf("%s reads pull request comments, and this run was triggered by %s, not issue_comment: nothing was requested. Run the job on: issue_comment (types: [created]), or use another mode for %s",
			d.Mode("command"), ev, ev)
	case *deploy.ChecksError:
		return checks(d, e)
	case *deploy.CleanupError:
		parts := make([]string, len(e.Errs))
		for i, x := range e.Errs {
			parts[i] = Error(d, x)
		}
		return fmt.Sprintf("clean-up of %s: %d of %d deployments failed: %s", e.Environment, e.Failed, e.Found, strings.Join(parts, "\n"))
	}
	return ""
}

// Problems explains every problem, one per line.
func Problems(d Dialect, ps config.Problems) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = Problem(d, p)
	}
	if len(lines) == 1 {
		return "invalid input: " + lines[0]
	}
	return fmt.Sprintf("%d invalid inputs:\n  - %s", len(lines), strings.Join(lines, "\n  - "))
}

// Problem explains one problem: the input, what is wrong, what to do.
func Problem(d Dialect, p config.Problem) string {
	s := d.Subject(p.Input)
	if p.Missing {
		if fix := d.Missing(p.Input); fix != "" {
			return s + " " + p.Reason + ": " + fix
		}
	}
	if p.Value != "" {
		s += fmt.Sprintf(" %q", p.Value)
	}
	s += " " + p.Reason + ": " + p.Fix
	if p.Empty != "" {
		s += ", or " + d.LeaveEmpty(p.Input, p.Empty)
	}
	if p.Example != "" {
		s += ", for example " + d.Assign(p.Input, p.Example)
	}
	return s
}

// doing is what the action was doing when an operation failed.
func doing(op ghapi.Op) string {
	switch op {
	case ghapi.OpCreateDeployment:
		return "creating the deployment"
	case ghapi.OpCreateDeploymentStatus:
		return "setting the deployment status"
	case ghapi.OpListDeployments, ghapi.OpListDeploymentStatuses:
		return "listing deployments"
	case ghapi.OpGetDeployment:
		return "reading the deployment"
	case ghapi.OpDeleteDeployment:
		return "deleting the deployment"
	case ghapi.OpDeleteEnvironment:
		return "deleting the environment"
	case ghapi.OpGetPullRequest:
		return "reading the pull request"
	case ghapi.OpGetPermission:
		return "reading the commenter's permission"
	case ghapi.OpCreateComment, ghapi.OpUpdateComment:
		return "commenting on the pull request"
	case ghapi.OpCreateReaction:
		return "reacting to the comment"
	case ghapi.OpListCheckRuns:
		return "reading the check runs"
	case ghapi.OpListCheckSuites:
		return "reading the check suites (when the head was pushed)"
	case ghapi.OpGetCombinedStatus:
		return "reading the commit statuses"
	case ghapi.OpGetRepository, ghapi.OpGetRef:
		return "reading the default branch (to make a lock branch from it)"
	case ghapi.OpListRefs:
		return "listing the lock branches"
	case ghapi.OpCreateRef:
		return "creating the lock branch"
	case ghapi.OpDeleteRef:
		return "deleting the lock branch"
	case ghapi.OpGetContents:
		return "reading the environment's lock"
	case ghapi.OpGetPolicyFile:
		return "reading the deployment policy (.github/deployments.yml on the default branch)"
	case ghapi.OpPutContents:
		return "writing the lock file"
	}
	return op.String()
}

// Failure explains an API failure: what happened and the input or permission that fixes it.
func Failure(d Dialect, f *deploy.Failure) string {
	what := doing(f.Op)
	var api *ghapi.APIError
	msg := ""
	if errors.As(f.Err, &api) {
		msg = api.Message
	}
	switch f.Kind {
	case ghapi.KindUnknownOutcome:
		var uo *ghapi.UnknownOutcomeError
		if errors.As(f.Err, &uo) {
			ids := make([]string, len(uo.Candidates))
			for i, id := range uo.Candidates {
				ids[i] = fmt.Sprint(id)
			}
			if uo.StringPayload {
				return fmt.Sprintf("%s: GitHub's answer was lost, and deployment %s matches this request; with a string payload it could as well be another job's identical request "+
					"(another matrix leg, an earlier attempt), so it was neither adopted nor created a second time. Check it on the environment's page; "+
					"pass %s as a JSON object so the action can add its request id and recognise its own deployment", what, strings.Join(ids, ", "), d.Input("payload"))
			}
			return fmt.Sprintf("%s: GitHub's answer was lost, and deployments %s all match this request, so none was adopted and none created a second time. Check them on the environment's page",
				what, strings.Join(ids, ", "))
		}
	case ghapi.KindAutoMerged:
		return fmt.Sprintf("GitHub merged the default branch into %q instead of creating a deployment (HTTP 202; auto-merge is on), so no deployment exists: "+
			"set %s (the default) or run again now that the branch is up to date", f.Value, d.Assign("auto-merge", "false"))
	case ghapi.KindRateLimited:
		var rl *ghapi.RateLimitError
		if errors.As(f.Err, &rl) {
			kind := "rate limit (requests per hour)"
			if rl.Secondary {
				kind = "secondary rate limit (too many content-creating requests in a short time)"
			}
			return fmt.Sprintf("%s: GitHub's %s stopped the request, and it lifts at %s, later than the action may wait: "+
				"run again after that, or spread the work (fewer parallel jobs, a separate token with its own limits)", what, kind, rl.Reset.UTC().Format("15:04:05 UTC"))
		}
	case ghapi.KindUnauthorized:
		return fmt.Sprintf("%s: GitHub rejected the token (401 %s): check %s", what, msg, d.TokenSource())
	case ghapi.KindForbidden:
		if f.Input == "delete-environment" {
			return fmt.Sprintf("%s: 403 %s: deleting an environment needs administration write on the repository, which GITHUB_TOKEN cannot have: "+
				"pass a GitHub App or fine-grained token with Administration: write as %s, or set %s", what, msg, d.Input("token"), d.Assign("delete-environment", "false"))
		}
		return fmt.Sprintf("%s: 403 %s: %s", what, msg, d.Permission(Needs(f.Op)))
	case ghapi.KindNotFound:
		// GitHub answers 404, not 403, when a token may not see a private repository or lacks the
		// permission a call needs on it: a missing thing and a missing permission look the same.
		perm := "GitHub also answers 404 when the token may not see a private repository or lacks a permission on it: " + d.Permission(Needs(f.Op))
		if f.Input == "deployment-id" {
			return fmt.Sprintf("%s: deployment %s was not found (404): check %s and %s; %s",
				what, f.Value, d.Input("deployment-id"), d.Input("repository"), perm)
		}
		return fmt.Sprintf("%s: GitHub answered 404 Not Found: check that %s (owner/name) names an existing repository; %s",
			what, d.Input("repository"), perm)
	case ghapi.KindConflict:
		if f.Input == "auto-merge" {
			return fmt.Sprintf("%s: 409 %s: GitHub could not merge the default branch into %q: merge it yourself, or set %s", what, msg, f.Value, d.Assign("auto-merge", "false"))
		}
		ctxs := ""
		if api != nil && len(api.Contexts()) > 0 {
			var parts []string
			for _, c := range api.Contexts() {
				parts = append(parts, fmt.Sprintf("%s (%s)", c.Context, c.State))
			}
			ctxs = " Failing contexts: " + strings.Join(parts, ", ") + "."
		}
		return fmt.Sprintf("%s: 409 %s%s The %s input controls which commit statuses must be success: leave it empty to check none, list the ones you need, or wait for them to pass",
			what, msg, ctxs, d.Input("required-contexts"))
	case ghapi.KindValidation:
		hint := ""
		switch f.Input {
		case "ref":
			hint = fmt.Sprintf(" Check the %s input (%q): it must be a branch, tag or commit SHA that exists in the repository.", d.Input("ref"), f.Value)
		case "state":
			hint = fmt.Sprintf(" Check the %s, %s (at most 140 characters), %s and %s inputs.", d.Input("state"), d.Input("description"), d.Input("environment-url"), d.Input("log-url"))
		case "mode":
			hint = fmt.Sprintf(" Only inactive deployments can be deleted: run %s first (%s does both).", d.Mode("deactivate"), d.Mode("delete"))
		case "":
		default:
			hint = fmt.Sprintf(" GitHub refused the %s input: check its value.", d.Input(f.Input))
		}
		status := 422
		if api != nil {
			status = api.Status
		}
		return fmt.Sprintf("%s: %d %s%s%s", what, status, msg, detail(api), hint)
	}
	// The error names its call ("list deployments: ..."); what we were doing says it already.
	return fmt.Sprintf("%s: %s", what, strings.TrimPrefix(f.Err.Error(), f.Op.String()+": "))
}

// detail lists GitHub's field errors after its message.
func detail(e *ghapi.APIError) string {
	if e == nil || len(e.Errors) == 0 {
		return ""
	}
	var parts []string
	for _, fe := range e.Errors {
		var words []string
		msg := fe.Message
		if msg == e.Message {
			msg = "" // GitHub often repeats its message in the field error: say it once
		}
		for _, w := range []string{fe.Field, fe.Code, msg} {
			if w != "" {
				words = append(words, w)
			}
		}
		if s := strings.Join(words, " "); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")."
}

func leftState(s string) string {
	if s == "" {
		return "without a final state"
	}
	return s
}

// wait explains how a wait ended without success, and what to change.
func wait(d Dialect, e *deploy.WaitError) string {
	what := "a deployment"
	if e.SHA != "" {
		what += " of " + deploy.ShortSHA(e.SHA)
	}
	what += " to " + e.Environment
	if e.Creator != "" {
		what += " by " + e.Creator
	}
	waited := e.Waited.Round(time.Second)
	dep := e.Deployment
	switch e.Reason {
	case deploy.WaitFailed:
		return fmt.Sprintf("%s ended %s: deployment %d (log: %s), after %s", what, dep.State, dep.ID, cmp.Or(dep.LogURL, "none"), waited)
	case deploy.WaitInactive:
		return fmt.Sprintf("%s went inactive before it succeeded: deployment %d was replaced or torn down, after %s", what, dep.ID, waited)
	case deploy.WaitSuperseded:
		return fmt.Sprintf("%s was superseded: deployment %d of %s to %s is newer, so deployment %d will not go live (after %s)",
			what, e.Newer.ID, deploy.ShortSHA(e.Newer.SHA), e.Newer.Environment, dep.ID, waited)
	case deploy.WaitNothingAppeared:
		return fmt.Sprintf("no %s appeared within %s: check %s (a name or a pattern), %s, %s and %s, or allow more time with %s (at most %s: raise both)",
			strings.TrimPrefix(what, "a "), waited, d.Input("environment"), d.Input("sha"), d.Input("creator"), d.Input("task"), d.Input("appear-timeout"), d.Input("wait-timeout"))
	}
	return fmt.Sprintf("%s did not finish within %s: deployment %d is still %s; allow more time with %s", what, waited, dep.ID, leftState(dep.State), d.Input("wait-timeout"))
}

// Access is what a call needs of the token: a scope of a workflow's permissions block (which is
// also a fine-grained token's or GitHub App's repository permission) and a level.
type Access struct {
	Scope string // "deployments", "contents", "checks", "statuses", "pull-requests", "issues", "administration", "metadata"
	Level string // "read" or "write"
	Or    string // another scope that grants the same at this level, or ""
}

// String is the permissions-block form: "deployments: write".
func (a Access) String() string { return a.Scope + ": " + a.Level }

// Each is a, then its alternative if it has one: what a front end lists, joined with "or".
func (a Access) Each() []Access {
	out := []Access{{Scope: a.Scope, Level: a.Level}}
	if a.Or != "" {
		out = append(out, Access{Scope: a.Or, Level: a.Level})
	}
	return out
}

// FineGrained is the permission as GitHub's token and App settings name it: "Deployments: write".
func (a Access) FineGrained() string {
	name := map[string]string{"deployments": "Deployments", "contents": "Contents", "checks": "Checks", "statuses": "Commit statuses",
		"pull-requests": "Pull requests", "issues": "Issues", "administration": "Administration", "metadata": "Metadata"}[a.Scope]
	if name == "" {
		name = a.Scope
	}
	return name + ": " + a.Level
}

// Classic is the classic token's scope that grants it: repo_deployment covers deployments only,
// repo everything on a private repository.
func (a Access) Classic() string {
	if a.Scope == "deployments" {
		return "repo_deployment"
	}
	return "repo"
}

// Needs is the access op needs (GitHub's documented fine-grained permission for the endpoint).
func Needs(op ghapi.Op) Access {
	switch op {
	case ghapi.OpCreateDeployment, ghapi.OpCreateDeploymentStatus, ghapi.OpDeleteDeployment:
		return Access{Scope: "deployments", Level: "write"}
	case ghapi.OpGetDeployment, ghapi.OpListDeployments, ghapi.OpListDeploymentStatuses:
		return Access{Scope: "deployments", Level: "read"}
	case ghapi.OpDeleteEnvironment:
		return Access{Scope: "administration", Level: "write"}
	case ghapi.OpGetCommit, ghapi.OpGetRef, ghapi.OpListRefs, ghapi.OpGetContents, ghapi.OpGetPolicyFile:
		return Access{Scope: "contents", Level: "read"}
	case ghapi.OpCreateRef, ghapi.OpDeleteRef, ghapi.OpPutContents:
		return Access{Scope: "contents", Level: "write"}
	case ghapi.OpGetPullRequest:
		return Access{Scope: "pull-requests", Level: "read"}
	case ghapi.OpCreateComment, ghapi.OpUpdateComment, ghapi.OpCreateReaction:
		// A pull request's comments are issue comments: GitHub takes either permission.
		return Access{Scope: "issues", Level: "write", Or: "pull-requests"}
	case ghapi.OpListCheckRuns, ghapi.OpListCheckSuites:
		return Access{Scope: "checks", Level: "read"}
	case ghapi.OpGetCombinedStatus:
		return Access{Scope: "statuses", Level: "read"}
	case ghapi.OpGetRepository, ghapi.OpGetPermission:
		return Access{Scope: "metadata", Level: "read"}
	}
	return Access{Scope: "deployments", Level: "write"}
}

// refusal explains why a command was not run and what would make it run; the commenter reads it
// on the pull request, the workflow's author in the job log.
func refusal(d Dialect, e *deploy.Refusal) string {
	c := e.Command
	envs := strings.Join(e.Environments, ", ")
	switch e.Reason {
	case deploy.RefuseNotUnderstood:
		return fmt.Sprintf("%s says more than this workflow understands: write %s, %s <environment> or %s to <environment> alone on the first line (environments: %s; later lines are free text)",
			d.Literal(c.Text), e.Word, e.Word, e.Word, envs)
	case deploy.RefuseNotPullRequest:
		return fmt.Sprintf("#%d is an issue, not a pull request, so there is no commit to deploy: comment on the pull request whose head commit should go out", c.PR)
	case deploy.RefuseUnknownEnvironment:
		return fmt.Sprintf("%s is not an environment this workflow deploys to: use one of %s (the workflow's %s input)", d.Literal(c.Asked), envs, d.Input("environments"))
	case deploy.RefusePermission:
		if e.Minimal() {
			// Someone with no role on the repository hears only that much.
			return fmt.Sprintf("deploying from comments needs the %s role or above on this repository", e.Required)
		}
		who := c.Actor
		if e.Rerunner != "" {
			who = e.Rerunner + ", who re-ran the job,"
		}
		if e.ByPolicy {
			return fmt.Sprintf("%s has the %s role on this repository, and deploying to %s needs %s or above (allowed-permission in %s on the default branch): ask someone who has it to comment the command, or an admin for that role",
				who, e.Role, c.Environment, e.Required, policy.Path)
		}
		return fmt.Sprintf("%s has the %s role on this repository, and deploying needs %s or above (the workflow's %s): ask someone who has it to comment the command, or an admin for that role",
			who, e.Role, e.Required, d.Input("allowed-permission"))
	case deploy.RefuseClosed:
		state := "closed"
		if e.Merged {
			state = "merged"
		}
		return fmt.Sprintf("pull request #%d is %s, and only an open pull request's head is deployed: reopen it, or deploy its branch another way", c.PR, state)
	case deploy.RefuseHeadMoved:
		when := "GitHub has no record that it was pushed to " + d.Literal(c.HeadRef) + " before the comment"
		if !e.PushedAfter.IsZero() {
			when = fmt.Sprintf("it was pushed to %s at %s, after the comment (written at %s)", d.Literal(c.HeadRef),
				e.PushedAfter.UTC().Format("15:04:05 UTC"), c.CreatedAt.UTC().Format("15:04:05 UTC"))
		}
		was := "the commit the command was written for"
		if e.WasHead != "" {
			was = "the commit the command was written for (" + deploy.ShortSHA(e.WasHead) + ")"
		}
		return fmt.Sprintf("the head of pull request #%d moved after the command: it is now %s, and %s, so it is not %s. Nothing was deployed: look at %s, then comment %s again",
			c.PR, deploy.ShortSHA(c.SHA), when, was, deploy.ShortSHA(c.SHA), e.Word)
	case deploy.RefusePolicyInvalid:
		lines := make([]string, len(e.Problems.Problems))
		for i, p := range e.Problems.Problems {
			lines[i] = "\n  - " + policyProblem(d, p)
		}
		return fmt.Sprintf("the deployment policy %s on the default branch is not valid, so nothing deploys until it is fixed there (a pull request cannot change it for itself):%s", policy.Path, strings.Join(lines, ""))
	case deploy.RefusePolicyClosed:
		return fmt.Sprintf("%s is closed: %s (%s on the default branch). Nothing was deployed: comment again when it opens", c.Environment, d.Literal(e.Closed), policy.Path)
	case deploy.RefusePolicyNotLive:
		live := "nothing is live there"
		if e.Live != nil {
			live = fmt.Sprintf("%s is (deployment %d)", deploy.ShortSHA(e.Live.SHA), e.Live.ID)
		}
		return fmt.Sprintf("%s requires a commit to be live in %s before it goes to %s, and %s is not: %s. Nothing was deployed: deploy it to %s first (%s %s), then comment again",
			policy.Path, e.After.Environment, c.Environment, deploy.ShortSHA(c.SHA), live, e.After.Environment, e.Word, e.After.Environment)
	case deploy.RefusePolicySoaking:
		return fmt.Sprintf("%s requires %s to have been live in %s for %s before it goes to %s; it has been live there since %s. Nothing was deployed: comment again after %s",
			policy.Path, deploy.ShortSHA(c.SHA), e.After.Environment, e.After.Soak, c.Environment,
			e.Live.StatusAt.UTC().Format("2006-01-02 15:04:05 UTC"), e.ReadyAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	case deploy.RefuseFork:
		fork := "a fork that was deleted"
		if e.HeadRepo != "" {
			fork = "the fork " + e.HeadRepo
		}
		return fmt.Sprintf("pull request #%d comes from %s, and this workflow does not deploy forks: the deploy job runs with this repository's token and secrets, and a fork's head is code its author controls. "+
			"Push the reviewed branch to this repository and deploy from a pull request of that branch (or, if every fork's head is reviewed before anyone deploys it, set %s)", c.PR, fork, d.Assign("allow-forks", "true"))
	}
	return e.Error()
}

// policyProblem is one problem of a policy file: where, what, the fix. The file's own text
// (keys, values) is shown literally; the fix is the parser's own words.
func policyProblem(d Dialect, p policy.Problem) string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(d.Literal(p.Key) + ": ")
	}
	b.WriteString(d.Literal(p.Message))
	if p.Fix != "" {
		b.WriteString(" (fix: " + p.Fix + ")")
	}
	return b.String()
}

// checks explains the checks gate's refusal: which checks, where to look, what to do.
func checks(d Dialect, e *deploy.ChecksError) string {
	what := e.Ref
	if e.SHA != "" {
		what = deploy.ShortSHA(e.SHA)
		if e.Ref != "" && !strings.HasPrefix(e.SHA, e.Ref) {
			what = fmt.Sprintf("%s (%s)", e.Ref, deploy.ShortSHA(e.SHA))
		}
	}
	list := func(cs []deploy.Check) string {
		parts := make([]string, len(cs))
		for i, c := range cs {
			kind := "check"
			if c.Kind == deploy.CommitStatus {
				kind = "status"
			}
			parts[i] = fmt.Sprintf("%s %s %s", kind, d.Literal(c.Name), c.State)
			if c.URL != "" {
				parts[i] += " (" + d.Literal(c.URL) + ")"
			}
		}
		return strings.Join(parts, ", ")
	}
	if e.Policy && e.Reason == deploy.ChecksNone {
		return fmt.Sprintf("no checks were reported for %s, and %s on the default branch requires green checks for this environment (at least one reported; %s does not apply). Nothing was deployed: deploy again once its checks report",
			what, policy.Path, d.Input("allow-no-checks"))
	}
	if e.Policy && e.Reason == deploy.ChecksFailed {
		return fmt.Sprintf("the checks of %s are not green: %s. Nothing was deployed: fix them (or re-run them) and deploy again; %s on the default branch requires green checks for this environment, so %s does not apply",
			what, list(e.Failed), policy.Path, d.Input("ignore-checks"))
	}
	if e.Reason == deploy.ChecksNone {
		return fmt.Sprintf("no checks were reported for %s: a commit nobody has checked is not green (CI has not started, awaits approval, or its workflows were removed). Nothing was deployed: deploy again once its checks report, name the checks that must pass in %s, or set %s to deploy commits without checks",
			what, d.Input("required-checks"), d.Assign("allow-no-checks", "true"))
	}
	if e.Reason == deploy.ChecksFailed {
		return fmt.Sprintf("the checks of %s are not green: %s. Nothing was deployed: fix them (or re-run them) and deploy again, or name a check that must not block deploys in %s",
			what, list(e.Failed), d.Input("ignore-checks"))
	}
	return fmt.Sprintf("the checks of %s were still pending after %s: %s. Nothing was deployed: deploy again once they finish, or allow more time with %s",
		what, e.Waited.Round(time.Second), list(e.Pending), d.Input("checks-timeout"))
}

// heldBy describes a lock: who, since when, why.
func heldBy(l lock.Lock) string {
	who := l.Holder
	if who == "" {
		who = "nobody this action knows (the branch " + l.Branch + " was not written by it)"
	}
	s := fmt.Sprintf("%s is locked by %s since %s", l.Environment, who, l.Created.UTC().Format("2006-01-02 15:04 UTC"))
	if l.Reason != "" {
		s += fmt.Sprintf(" (%q)", l.Reason)
	}
	if !l.Expires.IsZero() {
		s += ", until " + l.Expires.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s
}

// locked explains a deploy refused by a lock.
func locked(d Dialect, e *deploy.LockedError) string {
	l := e.Lock
	if e.Push {
		return fmt.Sprintf("refusing to deploy: %s. Nothing was created. Wait until it is unlocked (the holder's /unlock %s, or delete the branch %s), or set %s on this step to deploy through the lock",
			heldBy(l), l.Environment, l.Branch, d.Assign("ignore-locks", "true"))
	}
	return fmt.Sprintf("refusing to deploy: %s. Only %s can deploy there until %s unlocks it with %s (a maintainer or admin can unlock it too)",
		heldBy(l), cmp.Or(l.Holder, "none"), cmp.Or(l.Holder, "none"), e.Unlock)
}

// lockRefusal explains a refused lock command.
func lockRefusal(e *deploy.LockRefusal) string {
	take, release, list := deploy.LockWords(e.Word)
	switch e.Reason {
	case deploy.LockNotUnderstood:
		return fmt.Sprintf("%q is not a lock command this workflow understands: write %s <environment> [duration such as 2h or 3d, at most 90d] [reason], %s <environment> or %s alone on the first line",
			e.Command.Text, take, release, list)
	case deploy.LockHeld:
		if e.Verb == deploy.LockRelease {
			return fmt.Sprintf("%s, and only the holder or someone with the maintain or admin role can unlock it", heldBy(e.Lock))
		}
		return fmt.Sprintf("%s: ask %s to run %s %s, or wait until it is released", heldBy(e.Lock), cmp.Or(e.Lock.Holder, "none"), release, e.Lock.Environment)
	case deploy.LockNotHeld:
		if e.Expired {
			return fmt.Sprintf("%s is not locked: %s's lock expired at %s", e.Command.Environment, e.Lock.Holder, e.Lock.Expires.UTC().Format("2006-01-02 15:04 UTC"))
		}
		return fmt.Sprintf("%s is not locked", e.Command.Environment)
	}
	return e.Error()
}

// Explained is an error with its message in one front end's words (Error's answer); it wraps
// the original, so callers still examine it with errors.As. Code is the exit code a command
// line ends with (0: the caller's default).
type Explained struct {
	Msg  string
	Err  error
	Code int
}

func (e *Explained) Error() string { return e.Msg }
func (e *Explained) Unwrap() error { return e.Err }

// ExitCode is Code, or 1.
func (e *Explained) ExitCode() int {
	if e.Code != 0 {
		return e.Code
	}
	return 1
}
