package emulator

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// This file holds the state behind the "toolkit" endpoints (commits, pull requests, issues and
// their comments and reactions, check runs) and the Go API tests use to script what people and
// other systems do. Every exported method is safe for concurrent use.

type commitInfo struct {
	sha     string
	message string
	author  *user // nil: no GitHub account (author null)
	parents []string
	date    time.Time
}

type issue struct {
	id                   int64
	number               int
	title, body          string
	user                 *user
	state                string // open, closed
	createdAt, updatedAt time.Time
	closedAt             time.Time // zero while open
	pr                   *pull     // nil for a plain issue
}

type pull struct {
	id        int64
	headRepo  *repo // nil once the head repository (a fork) is deleted
	headOwner *user // kept for the label when headRepo is gone
	headRef   string
	headSHA   string
	baseRef   string
	draft     bool
	merged    bool
	mergedAt  time.Time
	mergedBy  *user
	mergeSHA  string
}

type comment struct {
	id                   int64
	issue                *issue
	user                 *user
	body                 string
	createdAt, updatedAt time.Time
	reactions            []*reaction // oldest first
}

type reaction struct {
	id        int64
	user      *user
	content   string
	createdAt time.Time
}

type app struct {
	id          int64
	slug, name  string
	owner       *user
	createdAt   time.Time
	permissions map[string]string
	events      []string
}

type checkSuite struct {
	id         int64
	headSHA    string
	headBranch string // "" = null
	app        *app
	createdAt  time.Time
	updatedAt  time.Time
}

type checkRun struct {
	id                     int64
	name, headSHA          string
	status, conclusion     string // conclusion "" = null
	startedAt, completedAt time.Time
	app                    *app
	suite                  *checkSuite
	detailsURL, externalID string
	title, summary, text   *string
}

func (r *repo) commit(sha string) *commitInfo {
	if c := r.commitMeta[sha]; c != nil {
		return c
	}
	return &commitInfo{sha: sha, message: "Commit " + sha[:7], date: r.createdAt}
}

// sortedIssues lists issues and pull requests by number.
func (r *repo) sortedIssues() []*issue {
	out := make([]*issue, 0, len(r.issues))
	for _, is := range r.issues {
		out = append(out, is)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].number < out[j].number })
	return out
}

func (r *repo) findComment(id int64) (int, *comment) {
	for i, c := range r.comments {
		if c.id == id {
			return i, c
		}
	}
	return -1, nil
}

func (r *repo) findCheckRun(id int64) *checkRun {
	for _, c := range r.checkRuns {
		if c.id == id {
			return c
		}
	}
	return nil
}

// ---- apps ----

// githubActionsApp is the app behind GITHUB_TOKEN (and the check runs of workflow jobs).
func (e *Emulator) appLocked(slug string) *app {
	if slug == "" {
		slug = "github-actions"
	}
	if a := e.apps[slug]; a != nil {
		return a
	}
	a := &app{slug: slug, name: slug, createdAt: time.Date(2018, 7, 30, 9, 30, 17, 0, time.UTC),
		permissions: map[string]string{"checks": "write", "metadata": "read", "statuses": "write"},
		events:      []string{"check_run", "check_suite"}}
	if slug == "github-actions" {
		a.id, a.name = 15368, "GitHub Actions"
		a.owner = &user{login: "github", id: 9919, typ: "Organization"}
	} else {
		a.id = derivedID("App", slug)%1000000 + 100000
		a.owner = &user{login: slug, id: derivedID("Organization", slug), typ: "Organization"}
	}
	e.apps[slug] = a
	return a
}

// ---- commits and branches ----

// Commit describes a commit pushed with Push.
type Commit struct {
	// SHA is the new commit's sha; "" = derived (deterministic in the order of pushes).
	SHA string
	// Message is the commit message; "" = "Update <branch>".
	Message string
	// Author is the login of the commit's GitHub author; "" = none (author null in the API; the
	// pull_request synchronize events it causes are then sent by the repository's owner if a
	// user, else octocat).
	Author string
}

// Push moves branch of owner/name to a new commit whose parent is the branch's previous head
// (creating the branch when it does not exist) and returns the new sha. Open pull requests
// whose head is that branch of that repository follow it: their head sha moves and a
// pull_request "synchronize" event is delivered to webhooks.
func (e *Emulator) Push(owner, name, branch string, c Commit) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sha, _, err := e.pushLocked(owner, name, branch, c)
	return sha, err
}

// synced is a pull request moved by a push.
type synced struct {
	base   *repo
	number int
	ev     Event
}

func (e *Emulator) pushLocked(owner, name, branch string, c Commit) (string, []synced, error) {
	r := e.repoLocked(owner, name)
	if r == nil {
		return "", nil, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	if branch == "" {
		return "", nil, fmt.Errorf("emulator: push to %s/%s: empty branch name", owner, name)
	}
	parent := r.branches[branch]
	r.pushes++
	sha := strings.ToLower(c.SHA)
	if sha == "" {
		sha = FakeSHA(fmt.Sprintf("%s:%s:%s:%d", repoKey(r.owner, r.name), branch, parent, r.pushes))
	} else if len(sha) != 40 || !isHex(sha) {
		return "", nil, fmt.Errorf("emulator: push %q: a sha is 40 hex characters", c.SHA)
	}
	msg := c.Message
	if msg == "" {
		msg = "Update " + branch
	}
	ci := &commitInfo{sha: sha, message: msg, date: e.now().UTC()}
	if c.Author != "" {
		ci.author = e.userLocked(c.Author)
	}
	if parent != "" {
		ci.parents = []string{parent}
	}
	r.commitMeta[sha] = ci
	r.commits[sha] = true
	r.branches[branch] = sha
	delete(r.behind, branch)
	// GitHub asks every checks app for a suite when a commit is pushed: the suite's created_at
	// is its own record of when the commit reached the branch (command mode's proof).
	e.pushSuiteLocked(r, sha, branch)

	// Open pull requests with this head follow the push (in any repository: a fork's branch is
	// the head of pull requests in its parent).
	var evs []synced
	sender := ci.author
	if sender == nil {
		sender = e.actorLocked(r)
	}
	for _, base := range e.sortedReposLocked() {
		for _, is := range base.sortedIssues() {
			p := is.pr
			if p == nil || is.state != "open" || p.headRepo != r || p.headRef != branch || p.headSHA == sha {
				continue
			}
			before := p.headSHA
			p.headSHA = sha
			base.commits[sha] = true // refs/pull/N/head makes the commit known to the base
			if base != r {
				e.pushSuiteLocked(base, sha, p.headRef) // the base's pull_request workflows
			}
			if base != r {
				base.commitMeta[sha] = ci
			}
			is.updatedAt = ci.date
			evs = append(evs, synced{base, is.number, e.emitLocked(base, "pull_request", obj{
				"action": "synchronize", "number": is.number, "before": before, "after": sha,
				"pull_request": base.pullJSON(e.baseLocked(), is, true),
			}, sender)})
		}
	}
	return sha, evs, nil
}

func (e *Emulator) sortedReposLocked() []*repo {
	out := make([]*repo, 0, len(e.repos))
	for _, r := range e.repos {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return repoKey(out[i].owner, out[i].name) < repoKey(out[j].owner, out[j].name) })
	return out
}

// Fork creates forkOwner's fork of owner/name (same name, the parent's branches and tags; its
// owner a User account unless known otherwise) and returns its full name. It returns the
// existing fork when there is one.
func (e *Emulator) Fork(owner, name, forkOwner string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, err := e.forkLocked(owner, name, forkOwner)
	if err != nil {
		return "", err
	}
	return f.owner + "/" + f.name, nil
}

func (e *Emulator) forkLocked(owner, name, forkOwner string) (*repo, error) {
	p := e.repoLocked(owner, name)
	if p == nil {
		return nil, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	if f := e.repoLocked(forkOwner, p.name); f != nil {
		if f.parent != p {
			return nil, fmt.Errorf("emulator: %s/%s exists and is not a fork of %s/%s", forkOwner, p.name, p.owner, p.name)
		}
		return f, nil
	}
	e.addUserLocked(User{Login: forkOwner})
	f := &repo{owner: forkOwner, name: p.name, private: p.private, defaultBranch: p.defaultBranch, parent: p,
		branches: map[string]string{}, tags: map[string]string{}, behind: map[string]bool{},
		conflicts: map[string]bool{}, commits: map[string]bool{}, envs: map[string]*environment{},
		commitStatus: map[string][]*commitStatus{}, createdAt: e.now().UTC(),
		roles: map[string]string{}, commitMeta: map[string]*commitInfo{}, issues: map[int]*issue{}}
	f.id = derivedID("Repository", repoKey(forkOwner, p.name))%900000000 + 100000000
	for k, v := range p.branches {
		f.branches[k] = v
	}
	for k, v := range p.tags {
		f.tags[k] = v
	}
	for k := range p.commits {
		f.commits[k] = true
	}
	e.addRepoLocked(f)
	return f, nil
}

// DeleteRepo deletes a repository. Pull requests whose head it was keep their head ref and sha
// but report head.repo null (as GitHub does for a deleted fork).
func (e *Emulator) DeleteRepo(owner, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	delete(e.repos, repoKey(owner, name))
	hooks := e.hooks[:0:0]
	for _, h := range e.hooks {
		if h.repo != r {
			hooks = append(hooks, h)
		}
	}
	e.hooks = hooks
	for _, o := range e.repos {
		for _, is := range o.issues {
			if is.pr != nil && is.pr.headRepo == r {
				is.pr.headRepo = nil
			}
		}
		if o.parent == r {
			o.parent = nil
		}
	}
	return nil
}

// ---- issues and pull requests ----

// Issue is a snapshot of an issue or a pull request (PullRequest non-nil).
type Issue struct {
	Number      int
	ID          int64
	Title, Body string
	User        string // login of the author
	State       string // open, closed
	PullRequest *PullRequest
	Comments    []Comment // oldest first
}

// PullRequest describes a pull request to open (OpenPullRequest) and is its snapshot.
type PullRequest struct {
	// Number and ID are set by the emulator.
	Number int
	ID     int64
	// Title and Body; Title "" = "Update <Head>".
	Title, Body string
	// User is the author's login; "" = the head repository's owner if a user, else octocat.
	User string
	// Head is the head branch. When it does not exist in the head repository it is created by a
	// push of a new commit (at HeadSHA when given).
	Head string
	// HeadRepo is "owner/name" of a fork (created as forkOwner's fork when missing); "" = the
	// base repository itself.
	HeadRepo string
	// HeadSHA: when set, the head branch is first moved there (a push). Read back: the head sha.
	HeadSHA string
	// Base is the base branch; "" = the default branch.
	Base string
	// Draft opens a draft pull request.
	Draft bool
	// Read back only.
	State          string // open, closed
	Merged         bool
	MergeCommitSHA string
	BaseSHA        string
}

// OpenPullRequest opens a pull request on owner/name and returns its snapshot and the
// pull_request "opened" event (also delivered to webhooks). As on GitHub the head commit
// becomes known to the base repository (refs/pull/N/head), also for a fork.
func (e *Emulator) OpenPullRequest(owner, name string, pr PullRequest) (PullRequest, Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	base := e.repoLocked(owner, name)
	if base == nil {
		return PullRequest{}, Event{}, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	if pr.Head == "" {
		return PullRequest{}, Event{}, fmt.Errorf("emulator: open pull request on %s/%s: Head (the head branch) is required", owner, name)
	}
	if pr.Base == "" {
		pr.Base = base.defaultBranch
	}
	if _, ok := base.branches[pr.Base]; !ok {
		return PullRequest{}, Event{}, fmt.Errorf("emulator: open pull request on %s/%s: no base branch %q", owner, name, pr.Base)
	}
	head := base
	if pr.HeadRepo != "" && !strings.EqualFold(pr.HeadRepo, base.owner+"/"+base.name) {
		fo, fn, ok := strings.Cut(pr.HeadRepo, "/")
		if !ok || fo == "" || fn == "" {
			return PullRequest{}, Event{}, fmt.Errorf("emulator: HeadRepo %q: want owner/name", pr.HeadRepo)
		}
		head = e.repoLocked(fo, fn)
		if head == nil {
			if !strings.EqualFold(fn, base.name) {
				return PullRequest{}, Event{}, fmt.Errorf("emulator: HeadRepo %q does not exist (a fork created here keeps the name %q)", pr.HeadRepo, base.name)
			}
			var err error
			if head, err = e.forkLocked(base.owner, base.name, fo); err != nil {
				return PullRequest{}, Event{}, err
			}
		}
	}
	if head == base && pr.Head == pr.Base {
		return PullRequest{}, Event{}, fmt.Errorf("emulator: open pull request on %s/%s: head and base are both %q", owner, name, pr.Base)
	}
	if cur, ok := head.branches[pr.Head]; !ok || (pr.HeadSHA != "" && !strings.EqualFold(cur, pr.HeadSHA)) {
		if _, _, err := e.pushLocked(head.owner, head.name, pr.Head, Commit{SHA: pr.HeadSHA}); err != nil {
			return PullRequest{}, Event{}, err
		}
	}
	author := e.actorLocked(head)
	if pr.User != "" {
		author = e.userLocked(pr.User)
	}
	title := pr.Title
	if title == "" {
		title = "Update " + pr.Head
	}
	now := e.now().UTC()
	is := &issue{id: e.newID(), number: base.nextNumber(), title: title, body: pr.Body, user: author, state: "open",
		createdAt: now, updatedAt: now}
	sha := head.branches[pr.Head]
	is.pr = &pull{id: e.newID(), headRepo: head, headOwner: head.ownerUser, headRef: pr.Head, headSHA: sha,
		baseRef: pr.Base, draft: pr.Draft}
	base.commits[sha] = true
	if head != base {
		base.commitMeta[sha] = head.commit(sha)
		e.pushSuiteLocked(base, sha, pr.Head) // the base's pull_request workflows for a fork's head
	}
	base.issues[is.number] = is
	ev := e.emitLocked(base, "pull_request", obj{
		"action": "opened", "number": is.number, "pull_request": base.pullJSON(e.baseLocked(), is, true),
	}, author)
	return base.pullSnapshot(is), ev, nil
}

// defaultActor is who acts when a scripting call names nobody: the repository's owner when that
// is a user, else octocat.
const defaultActor = "octocat"

func (e *Emulator) actorLocked(r *repo) *user {
	if r.ownerUser.typ != "Organization" {
		return r.ownerUser
	}
	return e.userLocked(defaultActor)
}

func (r *repo) nextNumber() int {
	r.lastNumber++
	return r.lastNumber
}

func (e *Emulator) pullLocked(owner, name string, number int) (*repo, *issue, error) {
	r := e.repoLocked(owner, name)
	if r == nil {
		return nil, nil, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	is := r.issues[number]
	if is == nil || is.pr == nil {
		return nil, nil, fmt.Errorf("emulator: %s/%s has no pull request #%d", owner, name, number)
	}
	return r, is, nil
}

// PushPullRequest pushes a new commit (c.SHA, or a derived one) to the head branch of pull
// request number, in its head repository, and returns the "synchronize" event.
func (e *Emulator) PushPullRequest(owner, name string, number int, c Commit) (Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, is, err := e.pullLocked(owner, name, number)
	if err != nil {
		return Event{}, err
	}
	p := is.pr
	if p.headRepo == nil {
		return Event{}, fmt.Errorf("emulator: pull request #%d: its head repository was deleted", number)
	}
	if is.state != "open" {
		return Event{}, fmt.Errorf("emulator: pull request #%d is closed", number)
	}
	_, evs, err := e.pushLocked(p.headRepo.owner, p.headRepo.name, p.headRef, c)
	if err != nil {
		return Event{}, err
	}
	for _, s := range evs {
		if s.base == r && s.number == number {
			return s.ev, nil
		}
	}
	return Event{}, fmt.Errorf("emulator: pull request #%d did not move (the head is already at %s)", number, p.headSHA)
}

// ClosePullRequest closes pull request number without merging it and returns the "closed"
// event (merged false). by is the login of who closed it ("" = the author).
func (e *Emulator) ClosePullRequest(owner, name string, number int, by string) (Event, error) {
	return e.closePull(owner, name, number, by, false)
}

// MergePullRequest merges pull request number: the base branch moves to a new merge commit
// (parents: the old base head and the pull request's head) and the "closed" event (merged
// true) is returned. by is the login of who merged it ("" = the base repository's owner if a
// user, else octocat).
func (e *Emulator) MergePullRequest(owner, name string, number int, by string) (Event, error) {
	return e.closePull(owner, name, number, by, true)
}

func (e *Emulator) closePull(owner, name string, number int, by string, merge bool) (Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, is, err := e.pullLocked(owner, name, number)
	if err != nil {
		return Event{}, err
	}
	if is.state != "open" {
		return Event{}, fmt.Errorf("emulator: pull request #%d is already closed", number)
	}
	actor := is.user
	if merge {
		actor = e.actorLocked(r)
	}
	if by != "" {
		actor = e.userLocked(by)
	}
	now := e.now().UTC()
	is.state, is.closedAt, is.updatedAt = "closed", now, now
	if merge {
		p := is.pr
		baseHead := r.branches[p.baseRef]
		r.pushes++
		sha := FakeSHA(fmt.Sprintf("%s:merge:%d:%s:%s", repoKey(r.owner, r.name), number, baseHead, p.headSHA))
		r.commitMeta[sha] = &commitInfo{sha: sha, author: actor, date: now, parents: []string{baseHead, p.headSHA},
			message: fmt.Sprintf("Merge pull request #%d from %s:%s", number, p.headOwner.login, p.headRef)}
		r.commits[sha] = true
		r.branches[p.baseRef] = sha
		p.merged, p.mergedAt, p.mergedBy, p.mergeSHA = true, now, actor, sha
	}
	return e.emitLocked(r, "pull_request", obj{
		"action": "closed", "number": number, "pull_request": r.pullJSON(e.baseLocked(), is, true),
	}, actor), nil
}

// PullRequests returns snapshots of owner/name's pull requests, by number.
func (e *Emulator) PullRequests(owner, name string) []PullRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return nil
	}
	var out []PullRequest
	for _, is := range r.sortedIssues() {
		if is.pr != nil {
			out = append(out, r.pullSnapshot(is))
		}
	}
	return out
}

func (r *repo) pullSnapshot(is *issue) PullRequest {
	p := is.pr
	out := PullRequest{Number: is.number, ID: p.id, Title: is.title, Body: is.body, User: is.user.login,
		Head: p.headRef, HeadSHA: p.headSHA, Base: p.baseRef, Draft: p.draft, State: is.state,
		Merged: p.merged, MergeCommitSHA: p.mergeSHA, BaseSHA: r.branches[p.baseRef]}
	if p.headRepo != nil && p.headRepo != r {
		out.HeadRepo = p.headRepo.owner + "/" + p.headRepo.name
	}
	return out
}

// OpenIssue opens a plain issue (not a pull request) by login ("" = the repository's owner if a
// user, else octocat) and returns its number.
func (e *Emulator) OpenIssue(owner, name, login, title, body string) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return 0, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	u := e.actorLocked(r)
	if login != "" {
		u = e.userLocked(login)
	}
	now := e.now().UTC()
	is := &issue{id: e.newID(), number: r.nextNumber(), title: title, body: body, user: u, state: "open", createdAt: now, updatedAt: now}
	r.issues[is.number] = is
	return is.number, nil
}

// Issue returns a snapshot of issue or pull request number with its comments.
func (e *Emulator) Issue(owner, name string, number int) (Issue, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil || r.issues[number] == nil {
		return Issue{}, false
	}
	is := r.issues[number]
	out := Issue{Number: is.number, ID: is.id, Title: is.title, Body: is.body, User: is.user.login, State: is.state}
	if is.pr != nil {
		p := r.pullSnapshot(is)
		out.PullRequest = &p
	}
	for _, c := range r.comments {
		if c.issue == is {
			out.Comments = append(out.Comments, c.snapshot())
		}
	}
	return out, true
}

// ---- comments and reactions ----

// Comment is a snapshot of an issue comment.
type Comment struct {
	ID        int64
	Issue     int
	User      string // login
	Body      string
	Reactions []Reaction // oldest first
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Reaction is a snapshot of a reaction.
type Reaction struct {
	ID      int64
	User    string // login
	Content string
}

func (c *comment) snapshot() Comment {
	out := Comment{ID: c.id, Issue: c.issue.number, User: c.user.login, Body: c.body, CreatedAt: c.createdAt, UpdatedAt: c.updatedAt}
	for _, r := range c.reactions {
		out.Reactions = append(out.Reactions, Reaction{ID: r.id, User: r.user.login, Content: r.content})
	}
	return out
}

// AddComment adds a comment by login (registered if unknown) to issue or pull request number
// and returns it with the issue_comment "created" event (also delivered to webhooks).
func (e *Emulator) AddComment(owner, name string, number int, login, body string) (Comment, Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return Comment{}, Event{}, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	is := r.issues[number]
	if is == nil {
		return Comment{}, Event{}, fmt.Errorf("emulator: %s/%s has no issue or pull request #%d", owner, name, number)
	}
	c, ev := e.addCommentLocked(r, is, e.userLocked(login), body, e.baseLocked())
	return c.snapshot(), ev, nil
}

func (e *Emulator) addCommentLocked(r *repo, is *issue, u *user, body, base string) (*comment, Event) {
	now := e.now().UTC()
	c := &comment{id: e.newID(), issue: is, user: u, body: body, createdAt: now, updatedAt: now}
	r.comments = append(r.comments, c)
	is.updatedAt = now
	ev := e.emitLocked(r, "issue_comment", obj{
		"action": "created", "issue": r.issueHookJSON(base, is), "comment": r.commentJSON(base, c),
	}, u)
	return c, ev
}

// EditComment replaces comment id's body and returns the issue_comment "edited" event (with
// changes.body.from). The sender is the comment's author.
func (e *Emulator) EditComment(owner, name string, id int64, body string) (Comment, Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, c, err := e.commentLocked(owner, name, id)
	if err != nil {
		return Comment{}, Event{}, err
	}
	ev := e.editCommentLocked(r, c, c.user, body, e.baseLocked())
	return c.snapshot(), ev, nil
}

func (e *Emulator) editCommentLocked(r *repo, c *comment, by *user, body, base string) Event {
	from := c.body
	c.body = body
	c.updatedAt = e.now().UTC()
	return e.emitLocked(r, "issue_comment", obj{
		"action": "edited", "changes": obj{"body": obj{"from": from}},
		"issue": r.issueHookJSON(base, c.issue), "comment": r.commentJSON(base, c),
	}, by)
}

// DeleteComment deletes comment id and returns the issue_comment "deleted" event.
func (e *Emulator) DeleteComment(owner, name string, id int64) (Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, c, err := e.commentLocked(owner, name, id)
	if err != nil {
		return Event{}, err
	}
	return e.deleteCommentLocked(r, c, c.user, e.baseLocked()), nil
}

func (e *Emulator) deleteCommentLocked(r *repo, c *comment, by *user, base string) Event {
	i, _ := r.findComment(c.id)
	r.comments = append(r.comments[:i:i], r.comments[i+1:]...)
	return e.emitLocked(r, "issue_comment", obj{
		"action": "deleted", "issue": r.issueHookJSON(base, c.issue), "comment": r.commentJSON(base, c),
	}, by)
}

func (e *Emulator) commentLocked(owner, name string, id int64) (*repo, *comment, error) {
	r := e.repoLocked(owner, name)
	if r == nil {
		return nil, nil, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	_, c := r.findComment(id)
	if c == nil {
		return nil, nil, fmt.Errorf("emulator: %s/%s has no issue comment %d", owner, name, id)
	}
	return r, c, nil
}

// Comments returns the comments of issue or pull request number, oldest first.
func (e *Emulator) Comments(owner, name string, number int) []Comment {
	is, _ := e.Issue(owner, name, number)
	return is.Comments
}

// React adds login's reaction (+1, -1, laugh, confused, heart, hooray, rocket, eyes) to a comment,
// as the REST endpoint would (an existing identical reaction is kept).
func (e *Emulator) React(owner, name string, commentID int64, login, content string) (Reaction, error) {
	if !reactionContents[content] {
		return Reaction{}, fmt.Errorf("emulator: reaction %q: want one of +1, -1, laugh, confused, heart, hooray, rocket, eyes", content)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, c, err := e.commentLocked(owner, name, commentID)
	if err != nil {
		return Reaction{}, err
	}
	rc, _ := e.reactLocked(c, e.userLocked(login), content)
	return Reaction{ID: rc.id, User: rc.user.login, Content: rc.content}, nil
}

var reactionContents = map[string]bool{"+1": true, "-1": true, "laugh": true, "confused": true, "heart": true, "hooray": true, "rocket": true, "eyes": true}

func (e *Emulator) reactLocked(c *comment, u *user, content string) (*reaction, bool) {
	for _, rc := range c.reactions {
		if rc.user == u && rc.content == content {
			return rc, false
		}
	}
	rc := &reaction{id: e.newID(), user: u, content: content, createdAt: e.now().UTC()}
	c.reactions = append(c.reactions, rc)
	return rc, true
}

// ---- check runs ----

// CheckRun describes a check run to create (CreateCheckRun) and is its snapshot.
type CheckRun struct {
	ID int64 // set by the emulator
	// Name is the check's name (required).
	Name string
	// HeadSHA is the commit (a full sha, a unique prefix, a branch or a tag); required.
	HeadSHA string
	// App is the slug of the app that owns the run; "" = github-actions (id 15368). Other slugs
	// get a derived id (AppID reads it back).
	App   string
	AppID int64
	// Status is queued (default), in_progress or completed.
	Status string
	// Conclusion is required when Status is completed.
	Conclusion string
	DetailsURL string
	// Title and Summary become the run's output.
	Title, Summary string
	StartedAt      time.Time
	CompletedAt    time.Time
}

var checkConclusions = map[string]bool{"action_required": true, "cancelled": true, "failure": true, "neutral": true,
	"success": true, "skipped": true, "stale": true, "timed_out": true}

// CreateCheckRun creates a check run as its app would. A completed run also delivers a check_run
// "completed" event.
func (e *Emulator) CreateCheckRun(owner, name string, cr CheckRun) (CheckRun, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return CheckRun{}, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	if cr.Name == "" {
		return CheckRun{}, fmt.Errorf("emulator: check run on %s/%s: Name is required", owner, name)
	}
	sha, _, ok := r.resolveRef(cr.HeadSHA)
	if !ok {
		return CheckRun{}, fmt.Errorf("emulator: check run %q: HeadSHA %q is not a known commit, branch or tag of %s/%s", cr.Name, cr.HeadSHA, owner, name)
	}
	status := cr.Status
	if status == "" {
		status = "queued"
	}
	if err := checkTransition(status, cr.Conclusion); err != nil {
		return CheckRun{}, fmt.Errorf("emulator: check run %q: %w", cr.Name, err)
	}
	run := e.newCheckRunLocked(r, e.appLocked(cr.App), cr.Name, sha)
	run.detailsURL = cr.DetailsURL
	if cr.Title != "" || cr.Summary != "" {
		run.title, run.summary = &cr.Title, &cr.Summary
	}
	if !cr.StartedAt.IsZero() {
		run.startedAt = cr.StartedAt.UTC()
	}
	e.setCheckStatusLocked(r, run, status, cr.Conclusion, cr.CompletedAt, nil, e.baseLocked())
	return run.snapshot(), nil
}

func checkTransition(status, conclusion string) error {
	switch status {
	case "queued", "in_progress":
		if conclusion != "" {
			return fmt.Errorf("a conclusion (%q) sets status completed; status %q was given", conclusion, status)
		}
	case "completed":
		if conclusion == "" {
			return fmt.Errorf("status completed needs a conclusion")
		}
	default:
		return fmt.Errorf("status %q: want queued, in_progress or completed", status)
	}
	if conclusion != "" && !checkConclusions[conclusion] {
		return fmt.Errorf("conclusion %q: want action_required, cancelled, failure, neutral, success, skipped, stale or timed_out", conclusion)
	}
	return nil
}

// pushSuiteLocked records a queued GitHub Actions check suite for sha on branch, made now.
func (e *Emulator) pushSuiteLocked(r *repo, sha, branch string) {
	now := e.now().UTC()
	r.checkSuites = append(r.checkSuites, &checkSuite{id: e.newID(), headSHA: sha, headBranch: branch, app: e.appLocked(""), createdAt: now, updatedAt: now})
}

func (e *Emulator) newCheckRunLocked(r *repo, a *app, name, sha string) *checkRun {
	now := e.now().UTC()
	var suite *checkSuite
	for _, s := range r.checkSuites {
		if s.headSHA == sha && s.app == a {
			suite = s
		}
	}
	if suite == nil {
		suite = &checkSuite{id: e.newID(), headSHA: sha, app: a, createdAt: now, updatedAt: now}
		for _, b := range sortedKeys(r.branches) {
			if r.branches[b] == sha {
				suite.headBranch = b
				break
			}
		}
		r.checkSuites = append(r.checkSuites, suite)
	}
	run := &checkRun{id: e.newID(), name: name, headSHA: sha, app: a, suite: suite, startedAt: now}
	r.checkRuns = append(r.checkRuns, run)
	suite.updatedAt = now
	return run
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// setCheckStatusLocked moves a run to status/conclusion; completing it sets completed_at
// (completedAt, or now) and delivers check_run "completed" (returned). sender nil = the app's
// bot.
func (e *Emulator) setCheckStatusLocked(r *repo, run *checkRun, status, conclusion string, completedAt time.Time, sender *user, base string) *Event {
	wasCompleted := run.status == "completed"
	run.status, run.conclusion = status, conclusion
	run.suite.updatedAt = e.now().UTC()
	if status != "completed" {
		run.completedAt = time.Time{}
		return nil
	}
	if completedAt.IsZero() {
		completedAt = e.now()
	}
	run.completedAt = completedAt.UTC()
	if wasCompleted {
		return nil
	}
	if sender == nil {
		sender = e.appBotLocked(run.app)
	}
	ev := e.emitLocked(r, "check_run", obj{"action": "completed", "check_run": r.checkRunHookJSON(base, run)}, sender)
	return &ev
}

// appBotLocked is the bot account an app acts as (slug[bot]).
func (e *Emulator) appBotLocked(a *app) *user {
	if a.slug == "github-actions" {
		return actionsBot
	}
	return e.addUserLocked(User{Login: a.slug + "[bot]", Type: "Bot"})
}

// UpdateCheckRun moves check run id to status (queued, in_progress, completed) with conclusion
// (required for completed; a conclusion alone means completed) and returns its snapshot;
// completing it delivers check_run "completed", whose payload the second result holds (nil
// otherwise). A completed run's conclusion may be changed (no new event), as on GitHub.
func (e *Emulator) UpdateCheckRun(owner, name string, id int64, status, conclusion string) (CheckRun, *Event, error) {
	return e.updateCheckRun(owner, name, id, status, conclusion, false)
}

// CompleteCheckRun completes check run id with conclusion and returns the check_run
// "completed" event; a run already completed is an error (and left as it is).
func (e *Emulator) CompleteCheckRun(owner, name string, id int64, conclusion string) (Event, error) {
	_, ev, err := e.updateCheckRun(owner, name, id, "completed", conclusion, true)
	if err != nil {
		return Event{}, err
	}
	return *ev, nil
}

func (e *Emulator) updateCheckRun(owner, name string, id int64, status, conclusion string, once bool) (CheckRun, *Event, error) {
	if status == "" && conclusion != "" {
		status = "completed"
	}
	if err := checkTransition(status, conclusion); err != nil {
		return CheckRun{}, nil, fmt.Errorf("emulator: check run %d: %w", id, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return CheckRun{}, nil, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	run := r.findCheckRun(id)
	if run == nil {
		return CheckRun{}, nil, fmt.Errorf("emulator: %s/%s has no check run %d", owner, name, id)
	}
	if once && run.status == "completed" {
		return CheckRun{}, nil, fmt.Errorf("emulator: check run %d was already completed (%s)", id, run.conclusion)
	}
	ev := e.setCheckStatusLocked(r, run, status, conclusion, time.Time{}, nil, e.baseLocked())
	return run.snapshot(), ev, nil
}

// CheckRuns returns owner/name's check runs for a commit (sha, prefix, branch or tag), oldest
// first.
func (e *Emulator) CheckRuns(owner, name, ref string) []CheckRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return nil
	}
	sha, _, ok := r.resolveRef(ref)
	if !ok {
		return nil
	}
	var out []CheckRun
	for _, run := range r.checkRuns {
		if run.headSHA == sha {
			out = append(out, run.snapshot())
		}
	}
	return out
}

func (run *checkRun) snapshot() CheckRun {
	out := CheckRun{ID: run.id, Name: run.name, HeadSHA: run.headSHA, App: run.app.slug, AppID: run.app.id,
		Status: run.status, Conclusion: run.conclusion, DetailsURL: run.detailsURL,
		StartedAt: run.startedAt, CompletedAt: run.completedAt}
	if run.title != nil {
		out.Title = *run.title
	}
	if run.summary != nil {
		out.Summary = *run.summary
	}
	return out
}

// ---- commit statuses ----

// CommitStatus describes a commit status to add with AddCommitStatus.
type CommitStatus struct {
	SHA         string // a full sha, a unique prefix, a branch or a tag
	Context     string // "" = "default"
	State       string // error, failure, pending, success
	TargetURL   string
	Description string
	Creator     string // login; "" = github-actions[bot]
}

// AddCommitStatus adds a commit status to a known commit (as POST .../statuses/{sha} would).
func (e *Emulator) AddCommitStatus(owner, name string, s CommitStatus) (int64, error) {
	if !commitStates[s.State] {
		return 0, fmt.Errorf("emulator: commit status state %q: want error, failure, pending or success", s.State)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return 0, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	sha, _, ok := r.resolveRef(s.SHA)
	if !ok {
		return 0, fmt.Errorf("emulator: commit status: %q is not a known commit, branch or tag of %s/%s", s.SHA, owner, name)
	}
	if s.Context == "" {
		s.Context = "default"
	}
	cs := &commitStatus{id: e.newID(), state: s.State, context: s.Context, createdAt: e.now().UTC()}
	if s.TargetURL != "" {
		cs.targetURL = &s.TargetURL
	}
	if s.Description != "" {
		cs.description = &s.Description
	}
	if s.Creator != "" {
		cs.creator = e.userLocked(s.Creator)
	}
	r.commitStatus[sha] = append(r.commitStatus[sha], cs)
	return cs.id, nil
}
