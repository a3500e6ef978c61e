package deploy

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/policy"
)

// command (ChatOps): a comment on a pull request (`/deploy staging`) deploys the pull request's
// head commit. The stage that handles it (pre, or main when pre left the work to it) reads the
// comment from the event, acknowledges it with a reaction, checks who asked, for what and for
// which commit, and only then creates the deployment of the head SHA and sets it in_progress,
// with one result comment on the pull request. A refusal creates nothing: one reply says why,
// and the step fails. Post sets the final state from the job's status, as auto does, edits the
// result comment and adds a final reaction.

// KeyCommand holds the command being handled (JSON): main and post read it instead of handling
// the comment again.
const KeyCommand = "command"

// CommentEvent is what command mode reads from the triggering event (the app fills it from
// GITHUB_EVENT_NAME and the payload).
type CommentEvent struct {
	Event       string // GITHUB_EVENT_NAME
	Action      string // created, edited, deleted
	Number      int    // the issue's or pull request's number
	PullRequest bool   // the issue is a pull request (issue.pull_request is present)
	CommentID   int64
	CommentURL  string // the comment's html_url
	Body        string
	Author      string // the comment author's login
	CreatedAt   time.Time
}

// CommandLine is what the grammar reads in a comment.
type CommandLine struct {
	Text        string // the first line, trimmed
	Addressed   bool   // it starts with the command word: the comment is for us
	Understood  bool   // it follows the grammar
	Environment string // the environment as written; "" means the default (the first allowed)

	// Lock is a lock command (lockcmd.go); nil for a deploy.
	Lock *LockLine
}

// ParseCommand reads a comment's first non-blank line, trimmed. It is addressed to us when its
// first word is word (any case); it is understood when the word stands alone, or is followed
// by an environment, or by "to" and an environment, separated by any whitespace. Later lines
// are free text.
func ParseCommand(body, word string) CommandLine {
	first, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	first = strings.TrimSpace(first)
	f := strings.Fields(first)
	if len(f) == 0 || !strings.EqualFold(f[0], word) {
		return CommandLine{Text: first}
	}
	l := CommandLine{Text: first, Addressed: true}
	l.Environment, l.Understood = ParseTarget(f[1:])
	return l
}

// ParseTarget reads the words after a deploy command's word, the grammar PR comments and Slack
// share: nothing (the default environment, ""), <environment>, or to <environment>. ok is false
// for anything else.
func ParseTarget(words []string) (environment string, ok bool) {
	switch {
	case len(words) == 0:
		return "", true
	case len(words) == 1 && !strings.EqualFold(words[0], "to"):
		return words[0], true
	case len(words) == 2 && strings.EqualFold(words[0], "to"):
		return words[1], true
	}
	return "", false
}

// Command is a command being handled: what the comment asked, and what was found out.
type Command struct {
	Triggered   bool      `json:"-"`
	Text        string    `json:"text"`            // the command line (clipped)
	Asked       string    `json:"asked,omitempty"` // the environment as written
	Environment string    `json:"environment,omitempty"`
	PR          int       `json:"pr"`
	Actor       string    `json:"actor"`
	CommentID   int64     `json:"comment_id"`
	CommentURL  string    `json:"comment_url"`
	CreatedAt   time.Time `json:"created_at"`
	HeadRef     string    `json:"head_ref,omitempty"`
	HeadRepo    string    `json:"head_repo,omitempty"` // owner/name of a fork's head
	SHA         string    `json:"sha,omitempty"`       // the commit deployed
	// Pinned is the earlier attempt's deployment whose commit a re-run deploys again.
	Pinned int64 `json:"pinned,omitempty"`
	// ResultID is the result comment (0 until made).
	ResultID int64 `json:"result_id,omitempty"`
	// Lock is the lock command run ("lock", "unlock", "locks"); "" for a deploy.
	Lock string `json:"lock,omitempty"`
	// ChecksRequired: the policy requires the environment's checks (ignore-checks and
	// allow-no-checks are not applied).
	ChecksRequired bool `json:"checks_required,omitempty"`
}

// CommandTexts renders what command mode writes on a pull request. The app renders it (through
// internal/explain and its summaries): the domain keeps no prose.
type CommandTexts interface {
	// Reply is the one reply to a command that was refused, or failed before any deployment.
	Reply(c *Command, err error) string
	// Result is the result comment: while deploying (State in_progress) and at the end.
	Result(c *Command, r *Report) string
}

// RefusalReason is why a command was refused before anything was created.
type RefusalReason int

// Why a command was refused.
const (
	RefuseNotUnderstood      RefusalReason = iota + 1 // the first line starts with the command but says more than the grammar allows
	RefuseNotPullRequest                              // the comment is on an issue
	RefuseUnknownEnvironment                          // the environment is not in environments
	RefusePermission                                  // the commenter's role is below allowed-permission
	RefuseClosed                                      // the pull request is closed (or merged)
	RefuseFork                                        // the head is in a fork and allow-forks is false
	RefuseHeadMoved                                   // the head cannot be proven to be the one the comment was written for
	RefusePolicyInvalid                               // .github/deployments.yml does not parse (Problems)
	RefusePolicyClosed                                // the policy's deploy windows or a freeze (Closed)
	RefusePolicyNotLive                               // after: the head is not live in After.Environment (Live: what is, or nil)
	RefusePolicySoaking                               // after: live there, but the soak ends at ReadyAt
)

// Refusal is a command refused by its rules; nothing was created.
type Refusal struct {
	Reason       RefusalReason
	Command      *Command
	Word         string   // the command word (for the grammar)
	Environments []string // the allow list
	Role         string   // RefusePermission: the commenter's role ("none" when not a collaborator)
	Required     string   // RefusePermission: allowed-permission
	Merged       bool     // RefuseClosed: merged rather than closed
	HeadRepo     string   // RefuseFork: the fork ("" when it was deleted)
	Rerunner     string   // RefusePermission: the login that re-ran the job, when it is the one refused
	// RefuseHeadMoved: PushedAfter is when GitHub first recorded the head on its branch after
	// the comment (zero when it has no record of it on the branch at all).
	PushedAfter time.Time
	WasHead     string // RefuseHeadMoved: the head when the comment was written, when found
	// ByPolicy (RefusePermission): Required is the policy's allowed-permission, above the input's.
	ByPolicy bool
	// The policy refusals: the file ("owner/repo:.github/deployments.yml"), its problems, why
	// the environment is closed, the after: rule, what is live there and when the soak ends.
	Policy   string
	Problems *policy.FileError
	Closed   string
	After    *policy.After
	Live     *Listed
	ReadyAt  time.Time
}

// Minimal reports whether the refusal goes to someone with no role on the repository: the reply
// then says no more than that (none of their text, no list of environments).
func (e *Refusal) Minimal() bool { return e.Reason == RefusePermission && e.Role == "none" }

func (e *Refusal) Error() string {
	c := e.Command
	switch e.Reason {
	case RefuseNotUnderstood:
		return fmt.Sprintf("%q is not understood: use %s, %s <environment> or %s to <environment>", c.Text, e.Word, e.Word, e.Word)
	case RefuseNotPullRequest:
		return fmt.Sprintf("#%d is an issue, not a pull request: there is no commit to deploy", c.PR)
	case RefuseUnknownEnvironment:
		return fmt.Sprintf("%q is not an environment this workflow deploys to (%s)", c.Asked, strings.Join(e.Environments, ", "))
	case RefusePermission:
		who := c.Actor
		if e.Rerunner != "" {
			who = e.Rerunner + " (who re-ran the job)"
		}
		if e.ByPolicy {
			return fmt.Sprintf("%s has the %s role on the repository; deploying to %s needs %s or above (%s)", who, e.Role, c.Environment, e.Required, policy.Path)
		}
		return fmt.Sprintf("%s has the %s role on the repository; deploying needs %s or above", who, e.Role, e.Required)
	case RefuseClosed:
		if e.Merged {
			return fmt.Sprintf("pull request #%d is merged", c.PR)
		}
		return fmt.Sprintf("pull request #%d is closed", c.PR)
	case RefuseFork:
		return fmt.Sprintf("pull request #%d comes from a fork (%s) and allow-forks is false", c.PR, orDeleted(e.HeadRepo))
	case RefuseHeadMoved:
		return fmt.Sprintf("the head of #%d (%s) was not proven to be the commit the command was written for", c.PR, ShortSHA(c.SHA))
	case RefusePolicyInvalid:
		return e.Problems.Error()
	case RefusePolicyClosed:
		return fmt.Sprintf("%s is closed by %s: %s", c.Environment, policy.Path, e.Closed)
	case RefusePolicyNotLive:
		return fmt.Sprintf("%s is not live in %s, and %s requires it before %s", ShortSHA(c.SHA), e.After.Environment, policy.Path, c.Environment)
	case RefusePolicySoaking:
		return fmt.Sprintf("%s soaks in %s until %s (%s)", ShortSHA(c.SHA), e.After.Environment, e.ReadyAt.UTC().Format(time.RFC3339), policy.Path)
	}
	return "command refused"
}

func orDeleted(repo string) string {
	if repo == "" {
		return "deleted"
	}
	return repo
}

// EventError is command mode run by an event other than issue_comment: a workflow wired to the
// wrong trigger would otherwise succeed quietly with triggered=false. Nothing was requested.
type EventError struct {
	Event string // GITHUB_EVENT_NAME ("" when unknown)
}

func (e *EventError) Error() string {
	return fmt.Sprintf("command mode handles issue_comment events, not %s", cmp.Or(e.Event, "-"))
}

// wrongEvent is the EventError for a run not triggered by issue_comment, or nil.
func wrongEvent(j Job) error {
	if ev := j.Comment; ev == nil || ev.Event != "issue_comment" {
		e := &EventError{}
		if ev != nil {
			e.Event = ev.Event
		}
		return e
	}
	return nil
}

// readCommand is the command in the event, or nil and why there is none for us.
func readCommand(j Job) (*Command, CommandLine, string) {
	ev := j.Comment
	switch {
	case ev == nil || ev.Event != "issue_comment":
		return nil, CommandLine{}, "not an issue_comment event: no command"
	case ev.Action != "created":
		return nil, CommandLine{}, fmt.Sprintf("a comment was %s, not created: no command", ev.Action)
	}
	l := ParseCommand(ev.Body, j.Settings.Command)
	if ll, ok := parseLockLine(ev.Body, j.Settings.Command); !l.Addressed && ok {
		l = ll
	}
	if !l.Addressed {
		return nil, l, fmt.Sprintf("the comment does not start with %s: no command", j.Settings.Command)
	}
	return &Command{Triggered: true, Text: clipRunes(l.Text, 60), Asked: l.Environment, PR: ev.Number, Actor: ev.Author,
		CommentID: ev.CommentID, CommentURL: ev.CommentURL, CreatedAt: ev.CreatedAt}, l, ""
}

func (d *Deployer) preCommand(ctx context.Context, j Job, r *Report) error {
	if wrongEvent(j) != nil {
		// Pre ignores the step's if: (a workflow on push and issue_comment may guard the step
		// with one), so main, which honours it, reports the wrong event.
		r.Command, r.Skipped = &Command{}, "not an issue_comment event: main reports it"
		return nil
	}
	c, l, why := readCommand(j)
	if c == nil {
		r.Command, r.Skipped = &Command{}, why
		return nil
	}
	return d.handleCommand(ctx, j, r, c, l)
}

func (d *Deployer) mainCommand(ctx context.Context, j Job, r *Report) error {
	if c := loadCommand(j.State); c != nil {
		// Pre handled the command: report what it did (and finish an interrupted start).
		r.Command = c
		if c.Lock != "" {
			c.Triggered, r.Skipped = false, "the lock command was handled at job start"
			return nil
		}
		if j.State.State(KeyFinish) == "" {
			r.Skipped = "the command was refused at job start"
			return nil
		}
		err := d.mainAuto(ctx, c.job(j), r)
		r.Ref, r.SHA = c.HeadRef, orSHA(r.SHA, c.SHA)
		return err
	}
	if err := wrongEvent(j); err != nil {
		return err
	}
	c, l, why := readCommand(j)
	if c == nil {
		r.Command, r.Skipped = &Command{}, why
		return nil
	}
	r.Deferred = j.State.State(KeyDeferred)
	return d.handleCommand(ctx, j, r, c, l)
}

func orSHA(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// handleCommand runs a command: acknowledge, check, deploy, comment.
func (d *Deployer) handleCommand(ctx context.Context, j Job, r *Report, c *Command, l CommandLine) (err error) {
	s := j.Settings
	r.Command = c
	// Saved first: whatever happens next, main and post know this command was handled here.
	if err := saveCommand(j.State, c); err != nil {
		return err
	}
	d.notef("%s asked on #%d: %s", c.Actor, c.PR, c.Text)
	if err := d.API.ReactToIssueComment(ctx, d.Owner, d.Repo, c.CommentID, "eyes"); err != nil {
		// No reply: a token that cannot react cannot comment either.
		return Fail(err, ghapi.OpCreateReaction, "")
	}
	defer func() {
		// One reply for a command that ends before any deployment exists; after that, post
		// reports in the result comment.
		if err != nil && r.DeploymentID == 0 && ctx.Err() == nil {
			d.reply(ctx, j, c, err)
		}
	}()
	refuse := func(reason RefusalReason) *Refusal {
		return &Refusal{Reason: reason, Command: c, Word: s.Command, Environments: s.Environments, Required: s.AllowedPermission}
	}
	if l.Lock != nil {
		return d.lockCommand(ctx, j, r, c, l) // who asked is checked first there too
	}
	// Who asked, first: a refusal of what the comment says is only for someone allowed to
	// deploy, so that nobody else can make the bot post anything about their text.
	roles, err := d.commandRoles(ctx, j, c, refuse)
	if err != nil {
		return err
	}
	if !l.Understood {
		return refuse(RefuseNotUnderstood)
	}
	if !j.Comment.PullRequest {
		return refuse(RefuseNotPullRequest)
	}
	env, ok := pickEnvironment(s.Environments, c.Asked)
	if !ok {
		return refuse(RefuseUnknownEnvironment)
	}
	c.Environment = env
	rules, err := d.applyPolicy(ctx, s, c, roles, refuse)
	if err != nil {
		return err
	}
	if err := d.readPullRequest(ctx, s, c, refuse); err != nil {
		return err
	}
	if j.Run.Rerun() {
		// A re-run repeats the command: the commit the earlier attempt deployed, not whatever
		// was pushed since.
		if err := d.pinEarlierAttempt(ctx, j, c); err != nil {
			return err
		}
	}
	if err := d.provenHead(ctx, c, refuse); err != nil {
		return err
	}
	if err := d.afterRule(ctx, rules, c.SHA, refuse); err != nil {
		return err
	}
	if err := saveCommand(j.State, c); err != nil {
		return err
	}
	return d.deployCommand(ctx, j, r, c)
}

// commandRoles checks the commenter's role and, for a re-run by someone else, the re-runner's:
// the lower of the two decides (a re-run must not borrow the commenter's role).
func (d *Deployer) commandRoles(ctx context.Context, j Job, c *Command, refuse func(RefusalReason) *Refusal) ([]checkedRole, error) {
	s := j.Settings
	perm, err := d.checkRole(ctx, c.Actor, s.AllowedPermission, refuse)
	if err != nil {
		return nil, err
	}
	roles := []checkedRole{{perm: perm}}
	if j.Run.TriggeringActor != "" && !strings.EqualFold(j.Run.TriggeringActor, c.Actor) {
		perm, err := d.checkRole(ctx, j.Run.TriggeringActor, s.AllowedPermission, func(reason RefusalReason) *Refusal {
			ref := refuse(reason)
			ref.Rerunner = j.Run.TriggeringActor
			return ref
		})
		if err != nil {
			return nil, err
		}
		roles = append(roles, checkedRole{perm: perm, rerunner: j.Run.TriggeringActor})
	}
	return roles, nil
}

// applyPolicy applies the policy on the default branch: the inputs narrow it, never widen it
// (policy.go). The rules are the zero value when the repository has no policy file.
func (d *Deployer) applyPolicy(ctx context.Context, s *Settings, c *Command, roles []checkedRole, refuse func(RefusalReason) *Refusal) (policy.Environment, error) {
	rules, found, err := d.commandPolicy(ctx, c, refuse)
	if err != nil || !found {
		return rules, err
	}
	if err := stricterRole(rules, s.AllowedPermission, roles, refuse); err != nil {
		return rules, err
	}
	if err := d.closedNow(rules, refuse); err != nil {
		return rules, err
	}
	if c.ChecksRequired = rules.ChecksRequired; c.ChecksRequired {
		d.noteStrictChecks(s, c.Environment)
	}
	return rules, nil
}

// readPullRequest reads the pull request's head, and refuses a closed one and, unless allowed,
// a fork's.
func (d *Deployer) readPullRequest(ctx context.Context, s *Settings, c *Command, refuse func(RefusalReason) *Refusal) error {
	pr, err := d.API.GetPullRequest(ctx, d.Owner, d.Repo, c.PR)
	if err != nil {
		return Fail(err, ghapi.OpGetPullRequest, "")
	}
	c.HeadRef, c.SHA = pr.GetHead().GetRef(), pr.GetHead().GetSHA()
	head := pr.GetHead().GetRepo()
	fork := head == nil || !strings.EqualFold(head.GetFullName(), d.Owner+"/"+d.Repo)
	if fork && head != nil {
		c.HeadRepo = head.GetFullName()
	}
	if pr.GetState() != "open" {
		ref := refuse(RefuseClosed)
		ref.Merged = pr.GetMerged()
		return ref
	}
	if fork && !s.AllowForks {
		ref := refuse(RefuseFork)
		ref.HeadRepo = c.HeadRepo
		return ref
	}
	return nil
}

// deployCommand creates the deployment of the proven head, sets its first state and comments
// the result.
func (d *Deployer) deployCommand(ctx context.Context, j Job, r *Report, c *Command) error {
	jj := c.job(j)
	if err := d.create(ctx, jj, r); err != nil {
		var ce *ChecksError
		if errors.As(err, &ce) {
			ce.Policy = c.ChecksRequired
		}
		return err
	}
	r.Ref = c.HeadRef
	if err := d.setInitial(ctx, jj, r); err != nil {
		return err
	}
	r.Page = d.page(j.Run, r.Environment)
	body := d.resultText(c, r, j.Run)
	cm, err := d.API.CreateIssueComment(ctx, d.Owner, d.Repo, c.PR, body)
	if err != nil {
		// The deployment goes on; post makes the result comment at the end.
		r.Warnings = append(r.Warnings, fmt.Sprintf("could not comment on #%d (%v); the result is commented when the job ends", c.PR, err))
		return nil
	}
	c.ResultID = cm.GetID()
	return saveCommand(j.State, c)
}

// provenHead refuses unless GitHub's own records show that c.SHA was the head of the pull
// request's branch when the comment was written: a check suite of that commit on that branch
// created no later than the comment (GitHub creates one per app when a commit is pushed), and
// none created after it (the branch was pushed, or force-pushed back, to this commit since).
// Commit dates are the pusher's to set and are never read. Timestamps have second resolution:
// a push in the comment's own second counts as before it.
func (d *Deployer) provenHead(ctx context.Context, c *Command, refuse func(RefusalReason) *Refusal) error {
	suites, err := d.API.ListCheckSuites(ctx, d.Owner, d.Repo, c.SHA)
	if err != nil {
		return Fail(err, ghapi.OpListCheckSuites, c.SHA)
	}
	at := c.CreatedAt.Truncate(time.Second)
	var before bool
	var after time.Time
	for _, s := range suites {
		if !strings.EqualFold(s.GetHeadBranch(), c.HeadRef) {
			continue // the commit on another branch says nothing of this one's head
		}
		switch t := s.GetCreatedAt().Time; {
		case t.After(at):
			if after.IsZero() || t.Before(after) {
				after = t
			}
		default:
			before = true
		}
	}
	if before && after.IsZero() && !c.CreatedAt.IsZero() {
		return nil
	}
	ref := refuse(RefuseHeadMoved)
	ref.PushedAfter = after
	ref.WasHead = d.headAt(ctx, c)
	return ref
}

// headAt finds, for the reply, the commit that was the head when the comment was written: the
// nearest first-parent ancestor of the current head that GitHub recorded on the branch no later
// than the comment (a push after it adds commits on top). It looks at most a few commits back,
// and "" means unknown (a force-push, or an error: the refusal stands either way).
func (d *Deployer) headAt(ctx context.Context, c *Command) string {
	at := c.CreatedAt.Truncate(time.Second)
	sha := c.SHA
	for range 3 {
		parents, err := d.API.CommitParents(ctx, d.Owner, d.Repo, sha)
		if err != nil || len(parents) == 0 {
			return ""
		}
		sha = parents[0]
		suites, err := d.API.ListCheckSuites(ctx, d.Owner, d.Repo, sha)
		if err != nil {
			return ""
		}
		for _, s := range suites {
			if strings.EqualFold(s.GetHeadBranch(), c.HeadRef) && !s.GetCreatedAt().Time.After(at) {
				return sha
			}
		}
	}
	return ""
}

// checkRole refuses login when its role on the repository is below required; it returns the
// permission read (a 404 reads as none).
func (d *Deployer) checkRole(ctx context.Context, login, required string, refuse func(RefusalReason) *Refusal) (ghapi.Permission, error) {
	perm, err := d.API.CollaboratorPermission(ctx, d.Owner, d.Repo, login)
	if err != nil && !ghapi.IsNotFound(err) {
		return perm, Fail(err, ghapi.OpGetPermission, "")
	}
	if role := EffectiveRole(perm); roleRank(role) < roleRank(required) {
		ref := refuse(RefusePermission)
		ref.Role = shownRole(perm)
		return perm, ref
	}
	return perm, nil
}

// pickEnvironment finds the environment asked for in the allow list (names are not case
// sensitive on GitHub); "" asks for the first.
func pickEnvironment(list []string, asked string) (string, bool) {
	if len(list) == 0 {
		return "", false
	}
	if asked == "" {
		return list[0], true
	}
	for _, e := range list {
		if strings.EqualFold(e, asked) {
			return e, true
		}
	}
	return "", false
}

// RoleAtLeast reports whether role (EffectiveRole's answer) is min or above.
func RoleAtLeast(role, min string) bool { return roleRank(role) >= roleRank(min) && roleRank(role) > 0 }

func roleRank(role string) int {
	for i, r := range Roles {
		if r == role {
			return i + 1
		}
	}
	return 0
}

// EffectiveRole is the role a permission answer grants: role_name when it is a built-in role,
// else (a custom role, an older GitHub) the legacy permission (admin, write, read), else none.
func EffectiveRole(p ghapi.Permission) string {
	if roleRank(p.RoleName) > 0 {
		return p.RoleName
	}
	switch p.Permission {
	case "admin", "write", "read":
		return p.Permission
	}
	return "none"
}

func shownRole(p ghapi.Permission) string {
	switch {
	case p.RoleName != "" && roleRank(p.RoleName) == 0 && p.Permission != "" && p.Permission != p.RoleName:
		return fmt.Sprintf("%s (%s)", p.RoleName, p.Permission)
	case p.RoleName != "":
		return p.RoleName
	case p.Permission != "":
		return p.Permission
	}
	return "none"
}

// job is the job as the deployment is made: the command's environment, its head SHA as the ref,
// the command in the payload, and the checks gate on.
func (c *Command) job(j Job) Job {
	s := *j.Settings
	s.Environment = c.Environment
	s.Payload = map[string]any{"command": c.Text, "comment_id": c.CommentID, "comment_url": c.CommentURL, "commenter": c.Actor, "pull_request": c.PR}
	s.RequiredContexts = RequiredContexts{}
	s.RequireDeployedIn = ""
	s.WaitForChecks = true
	s.InitialState = "in_progress"
	if c.ChecksRequired {
		// The policy requires the checks: the inputs cannot turn them off.
		s.IgnoreChecks, s.AllowNoChecks = nil, false
	}
	if s.Description == "" {
		s.Description = clipRunes(fmt.Sprintf("%s by @%s on #%d", c.Text, c.Actor, c.PR), 140)
	}
	jj := j
	jj.Settings, jj.Ref, jj.LockActor = &s, c.SHA, c.Actor
	return jj
}

// pinEarlierAttempt finds the deployment an earlier attempt of this run made for this comment
// (its payload names both) and deploys its commit again.
func (d *Deployer) pinEarlierAttempt(ctx context.Context, j Job, c *Command) error {
	if c.CreatedAt.IsZero() {
		return nil
	}
	deps, err := d.API.FindDeployments(ctx, d.Owner, d.Repo, &github.DeploymentsListOptions{Environment: c.Environment, Task: j.Settings.Task}, c.CreatedAt)
	if err != nil {
		return Fail(err, ghapi.OpListDeployments, "")
	}
	for _, dep := range deps { // newest first
		if commentIDOf(dep) != c.CommentID || runIDOf(dep) != j.Run.RunID {
			continue
		}
		if dep.GetSHA() != c.SHA {
			d.notef("attempt %s deploys %s again, as deployment %d of the earlier attempt did (the pull request's head is now %s)",
				j.Run.RunAttempt, ShortSHA(dep.GetSHA()), dep.GetID(), ShortSHA(c.SHA))
		}
		c.Pinned, c.SHA = dep.GetID(), dep.GetSHA()
		return nil
	}
	return nil
}

func decodePayload(dep *github.Deployment) map[string]any {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(dep.Payload))
	dec.UseNumber()
	if len(dep.Payload) == 0 || dec.Decode(&m) != nil {
		return nil
	}
	return m
}

func commentIDOf(dep *github.Deployment) int64 {
	n, _ := decodePayload(dep)["comment_id"].(json.Number)
	id, _ := n.Int64()
	return id
}

func runIDOf(dep *github.Deployment) string {
	meta, _ := decodePayload(dep)[PayloadKey].(map[string]any)
	id, _ := meta["run_id"].(string)
	return id
}

// postCommand finishes the deployment as auto does, then edits the result comment (making it
// if the start could not) and adds the final reaction. A comment that cannot be written is a
// warning: the deployment's state is what matters.
func (d *Deployer) postCommand(ctx context.Context, j Job, r *Report) error {
	c := loadCommand(j.State)
	err := d.postAuto(ctx, j, r)
	if c == nil || r.DeploymentID == 0 {
		return err
	}
	r.Command = c
	r.Ref = c.HeadRef
	r.Page = d.page(j.Run, r.Environment)
	body := d.resultText(c, r, j.Run)
	var cerr error
	if c.ResultID != 0 {
		_, cerr = d.API.EditIssueComment(ctx, d.Owner, d.Repo, c.ResultID, body)
	} else {
		var cm *github.IssueComment
		if cm, cerr = d.API.CreateIssueComment(ctx, d.Owner, d.Repo, c.PR, body); cerr == nil {
			c.ResultID = cm.GetID()
		}
	}
	if cerr != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("could not write the result comment on #%d: %v", c.PR, cerr))
	}
	if reaction := finalReaction(r); reaction != "" {
		if rerr := d.API.ReactToIssueComment(ctx, d.Owner, d.Repo, c.CommentID, reaction); rerr != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("could not react to the command on #%d: %v", c.PR, rerr))
		}
	}
	return err
}

// finalReaction is rocket for a deployment that succeeded, -1 for one that did not, none for one
// removed because its step was skipped.
func finalReaction(r *Report) string {
	switch {
	case r.Retired:
		return ""
	case r.State == "success":
		return "rocket"
	}
	return "-1"
}

// reply answers a command that ended before any deployment (best effort: the error that ended
// it is what the step reports).
func (d *Deployer) reply(ctx context.Context, j Job, c *Command, cause error) {
	var body string
	if d.Texts != nil {
		body = d.Texts.Reply(c, cause)
	} else {
		body = fmt.Sprintf("@%s %s was not run: %v", c.Actor, c.Text, cause)
	}
	body += marker("reply", c, j.Run)
	if _, err := d.API.CreateIssueComment(ctx, d.Owner, d.Repo, c.PR, body); err != nil {
		d.debugf("could not reply on #%d: %v", c.PR, err)
	}
}

func (d *Deployer) resultText(c *Command, r *Report, run Run) string {
	var body string
	if d.Texts != nil {
		body = d.Texts.Result(c, r)
	} else {
		body = fmt.Sprintf("%s of %s to %s: %s", c.Text, ShortSHA(r.SHA), r.Environment, r.State)
	}
	return body + marker("result", c, run)
}

// marker ends a comment with an invisible line naming the command and the run attempt: it makes
// the body unique, so a create whose answer was lost adopts this comment and no other.
func marker(kind string, c *Command, run Run) string {
	return fmt.Sprintf("\n\n<!-- deployment-action %s: comment %d, run %s attempt %s -->\n", kind, c.CommentID, cmp.Or(run.RunID, "-"), cmp.Or(run.RunAttempt, "-"))
}

func saveCommand(st StateStore, c *Command) error {
	b, err := json.Marshal(c)
	if err == nil {
		err = st.SaveState(KeyCommand, string(b))
	}
	if err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

func loadCommand(st StateStore) *Command {
	raw := st.State(KeyCommand)
	if raw == "" {
		return nil
	}
	var c Command
	if json.Unmarshal([]byte(raw), &c) != nil {
		return nil
	}
	c.Triggered = true
	return &c
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-3]) + "..."
}
