package deploy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// wait: main waits for a deployment of environment (a name or a glob) for a commit, made by anyone
// or by creator, until its latest status is success. It fails fast, without waiting out the
// timeout, when that deployment fails, errors, goes inactive, or is superseded by a newer
// deployment to its environment for another commit.

// PollSchedule is how often wait polls: every Initial for the first Fast after the start and
// after each change it sees, then growing ×Factor up to Max; each interval ±Jitter.
type PollSchedule struct {
	Initial, Max time.Duration
	// Fast is how long the schedule stays at Initial after the start and after a change (0: it
	// grows at once).
	Fast   time.Duration
	Factor float64
	Jitter float64 // 0.2 = ±20%
}

// DefaultPoll is the schedule wait uses: a look every second (±20%) for the first minute and for
// a minute after each change it sees (a deploy that has started tends to move on soon), then
// growing ×1.5 to one look every 30 s. Wait's looks are conditional requests: an unchanged
// answer is a 304, which GitHub does not count against the primary rate limit, so the fast
// looks cost requests but almost no rate limit.
func DefaultPoll() PollSchedule {
	return PollSchedule{Initial: time.Second, Fast: time.Minute, Max: 30 * time.Second, Factor: 1.5, Jitter: 0.2}
}

func (p PollSchedule) next(cur time.Duration, rnd func() float64) (wait, grown time.Duration) {
	wait = time.Duration(float64(cur) * (1 + p.Jitter*(2*rnd()-1)))
	grown = min(time.Duration(float64(cur)*p.Factor), p.Max)
	return wait, grown
}

// WaitReason is how a wait ended without success.
type WaitReason int

// Why a wait failed.
const (
	WaitFailed          WaitReason = iota + 1 // the deployment's latest status is failure or error
	WaitInactive                              // the deployment went inactive (replaced or torn down)
	WaitSuperseded                            // a newer deployment to its environment, for another commit
	WaitNothingAppeared                       // no matching deployment within the time allowed
	WaitTimedOut                              // a deployment appeared but did not succeed in time
)

// WaitError is a wait that ended without a successful deployment.
type WaitError struct {
	Reason      WaitReason
	Environment string // the pattern waited for
	SHA         string
	Creator     string
	Waited      time.Duration
	Deployment  *Listed // the deployment waited on, when one appeared
	Newer       *Listed // for WaitSuperseded: the deployment that replaced it
}

func (e *WaitError) Error() string {
	what := fmt.Sprintf("a deployment of %s to %s", ShortSHA(e.SHA), e.Environment)
	if e.Creator != "" {
		what += " by " + e.Creator
	}
	d := e.Deployment
	switch e.Reason {
	case WaitFailed:
		return fmt.Sprintf("%s: deployment %d ended %s after %s (log: %s)", what, d.ID, d.State, e.Waited.Round(time.Second), orNone(d.LogURL))
	case WaitInactive:
		return fmt.Sprintf("%s: deployment %d went inactive (replaced or torn down) after %s", what, d.ID, e.Waited.Round(time.Second))
	case WaitSuperseded:
		return fmt.Sprintf("%s: deployment %d was superseded by deployment %d of %s before it succeeded (after %s)", what, d.ID, e.Newer.ID, ShortSHA(e.Newer.SHA), e.Waited.Round(time.Second))
	case WaitNothingAppeared:
		return fmt.Sprintf("waited %s for %s: none appeared", e.Waited.Round(time.Second), what)
	}
	return fmt.Sprintf("waited %s for %s: deployment %d is still %s", e.Waited.Round(time.Second), what, d.ID, orNone(d.State))
}

func orNone(s string) string {
	if s == "" {
		return "without a status"
	}
	return s
}

// ShortSHA is a commit's SHA as people read it: its first 7 characters.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// WaitReport is what a wait did, for the summary.
type WaitReport struct {
	Environment string // the pattern
	SHA         string
	Creator     string
	Waited      time.Duration
	Polls       int
}

func (d *Deployer) mainWait(ctx context.Context, j Job, r *Report) error {
	s := j.Settings
	sha := j.SHA
	if len(sha) < 40 {
		// GitHub lists deployments by full SHA only: resolve a short one first.
		full, err := d.API.CommitSHA(ctx, d.Owner, d.Repo, sha)
		if err != nil {
			if ghapi.KindOf(err) == ghapi.KindValidation { // 422: no commit has it (GitHub's answer)
				return &ShortSHAError{SHA: sha, Err: err}
			}
			return Fail(err, ghapi.OpGetCommit, sha)
		}
		sha = full
	}
	start := d.now()
	wr := &WaitReport{Environment: s.Environment, SHA: sha, Creator: s.Creator}
	r.Wait = wr
	defer func() { wr.Waited = d.now().Sub(start) }()
	appear := s.AppearTimeout
	if appear <= 0 {
		appear = s.WaitTimeout
	}
	deadline, appearBy := start.Add(s.WaitTimeout), start.Add(appear)
	poll := d.Poll
	if poll.Initial <= 0 {
		poll = DefaultPoll()
	}
	seen := ""
	w := &watch{d: d, s: s, sha: sha}
	fail := func(reason WaitReason, newer *Listed) error {
		cur := w.cur
		if cur != nil {
			r.fromListed(cur) // the outputs and the summary show what was found
		}
		return &WaitError{Reason: reason, Environment: s.Environment, SHA: sha, Creator: s.Creator, Waited: d.now().Sub(start), Deployment: cur, Newer: newer}
	}
	loop := pollLoop{schedule: poll, fastFrom: start, deadline: deadline,
		paused: "GitHub's rate limit pauses the wait", what: "waiting for " + s.Environment}
	return d.poll(ctx, loop, func(ctx context.Context) (pollStep, error) {
		wr.Polls++
		newer, err := w.look(ctx)
		if err != nil {
			return pollStep{}, err
		}
		now := d.now()
		moved := false
		if cur := w.cur; cur != nil {
			if st := fmt.Sprintf("%d %s", cur.ID, cur.State); st != seen {
				seen = st
				moved = true // something moves: look often again for a while
				d.notef("deployment %d of %s to %s by %s: %s", cur.ID, ShortSHA(cur.SHA), cur.Environment, cur.Creator, orNone(cur.State))
			}
			switch cur.State {
			case "success":
				r.fromListed(cur)
				return pollStep{done: true}, nil
			case "failure", "error":
				return pollStep{done: true, err: fail(WaitFailed, nil)}, nil
			case "inactive":
				return pollStep{done: true, err: fail(WaitInactive, nil)}, nil
			}
			if newer != nil {
				return pollStep{done: true, err: fail(WaitSuperseded, newer)}, nil
			}
		} else if seen == "" {
			seen = "none"
			d.notef("no deployment of %s to %s yet", ShortSHA(sha), s.Environment)
		}
		switch {
		case w.cur == nil && !now.Before(appearBy):
			return pollStep{done: true, err: fail(WaitNothingAppeared, nil)}, nil
		case !now.Before(deadline):
			return pollStep{done: true, err: fail(WaitTimedOut, nil)}, nil
		}
		limit := deadline
		if w.cur == nil && appearBy.Before(limit) {
			limit = appearBy
		}
		return pollStep{moved: moved, now: now, until: limit}, nil
	})
}

// ShortSHAError: a short SHA given to wait (sha, --sha) did not resolve to one commit of the
// repository.
type ShortSHAError struct {
	SHA string
	Err error
}

func (e *ShortSHAError) Error() string {
	return fmt.Sprintf("the short SHA %q names no commit of the repository (or more than one): pass the commit's full 40-character SHA (%v)", e.SHA, e.Err)
}

func (e *ShortSHAError) Unwrap() error { return e.Err }

// watch is what one wait knows between looks. Each look costs as few answers that count against
// the primary rate limit as the question allows: the deployment's statuses and one listing of
// its environment, both conditional requests (304 when unchanged, which is free), and the
// listing of the environment is at once where the deployment appears and where a newer one
// shows up. A status moves the deployment's updated_at, so the listing changes with it: a
// status that ends the wait is read from the statuses alone, before any listing.
type watch struct {
	d   *Deployer
	s   *Settings
	sha string
	cur *Listed // the newest matching deployment, with its latest status; nil until one appears
}

// look is one poll: it updates w.cur and returns the deployment that supersedes it, if any.
func (w *watch) look(ctx context.Context) (*Listed, error) {
	d, s := w.d, w.s
	if w.cur != nil {
		l := *w.cur
		if err := d.latest(ctx, &l); err != nil {
			return nil, err
		}
		w.cur = &l
		if final(l.State) {
			return nil, nil
		}
	}
	env := s.Environment
	if isPattern(env) {
		if w.cur == nil {
			// Which environment is not known yet: look for the commit's deployments anywhere.
			dep, err := d.newestMatching(ctx, s, w.sha)
			if err != nil || dep == nil {
				return nil, err
			}
			if err := w.follow(ctx, dep); err != nil || final(w.cur.State) {
				return nil, err
			}
		}
		env = w.cur.Environment
	}
	opts := &github.DeploymentsListOptions{Environment: env, Task: s.Task, ListOptions: github.ListOptions{PerPage: 30}}
	page, next, err := d.API.ListDeployments(ctx, d.Owner, d.Repo, opts)
	if err != nil {
		return nil, Fail(err, ghapi.OpListDeployments, "")
	}
	var found *github.Deployment
	for _, dep := range page {
		if w.matches(dep) && (found == nil || newerDeployment(dep, found)) {
			found = dep
		}
	}
	if found == nil && w.cur == nil && next.Next != 0 {
		// A busy environment: the commit's deployment may be older than this page.
		if found, err = d.newestMatching(ctx, s, w.sha); err != nil {
			return nil, err
		}
	}
	if found != nil && (w.cur == nil || laterThan(found, w.cur)) {
		if err := w.follow(ctx, found); err != nil || final(w.cur.State) {
			return nil, err
		}
	}
	if w.cur == nil || len(page) == 0 {
		return nil, nil
	}
	// The newest deployment to the environment, when it is for another commit and newer: the
	// one waited for will not go live. Timestamps have whole seconds: ids break ties.
	n := page[0]
	if n.GetSHA() == w.cur.SHA || !laterThan(n, w.cur) {
		return nil, nil
	}
	l := listedFrom(n)
	return &l, nil
}

// laterThan reports dep made after l (timestamps have whole seconds: ids, which only grow, break
// ties).
func laterThan(dep *github.Deployment, l *Listed) bool {
	at := dep.GetCreatedAt().Time
	return at.After(l.CreatedAt) || at.Equal(l.CreatedAt) && dep.GetID() > l.ID
}

// follow makes dep the deployment waited on, with its latest status.
func (w *watch) follow(ctx context.Context, dep *github.Deployment) error {
	l := listedFrom(dep)
	if err := w.d.latest(ctx, &l); err != nil {
		return err
	}
	w.cur = &l
	return nil
}

func (w *watch) matches(dep *github.Deployment) bool {
	if !matchEnvironment(w.s.Environment, dep.GetEnvironment()) || dep.GetSHA() != w.sha {
		return false
	}
	return w.s.Creator == "" || strings.EqualFold(dep.GetCreator().GetLogin(), w.s.Creator)
}

// final reports a state that ends a wait.
func final(state string) bool {
	switch state {
	case "success", "failure", "error", "inactive":
		return true
	}
	return false
}

// newestMatching is the newest deployment for sha whose environment matches the pattern and whose
// creator is s.Creator (if set), or nil.
func (d *Deployer) newestMatching(ctx context.Context, s *Settings, sha string) (*github.Deployment, error) {
	opts := &github.DeploymentsListOptions{SHA: sha, Task: s.Task, ListOptions: github.ListOptions{PerPage: 100}}
	if !isPattern(s.Environment) {
		opts.Environment = s.Environment
	}
	var best *github.Deployment
	err := ghapi.EachPage(func(page int) ([]*github.Deployment, ghapi.Page, error) {
		opts.Page = page
		return d.API.ListDeployments(ctx, d.Owner, d.Repo, opts)
	}, func(page []*github.Deployment) (bool, error) {
		for _, dep := range page {
			if !matchEnvironment(s.Environment, dep.GetEnvironment()) || dep.GetSHA() != sha {
				continue
			}
			if s.Creator != "" && !strings.EqualFold(dep.GetCreator().GetLogin(), s.Creator) {
				continue
			}
			if best == nil || newerDeployment(dep, best) {
				best = dep
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, Fail(err, ghapi.OpListDeployments, "")
	}
	return best, nil
}

func newerDeployment(a, b *github.Deployment) bool {
	at, bt := a.GetCreatedAt().Time, b.GetCreatedAt().Time
	if !at.Equal(bt) {
		return at.After(bt)
	}
	return a.GetID() > b.GetID()
}

// isPattern reports whether s uses a wildcard: only * and ? are (an environment may well be
// called "preview [eu]").
func isPattern(s string) bool { return strings.ContainsAny(s, "*?") }

// matchEnvironment matches an environment name against a name or pattern; environment names are
// not case sensitive on GitHub. An exact name always matches itself; in a pattern, * is any
// characters but / and ? one, and everything else (brackets, backslashes) stands for itself.
func matchEnvironment(pattern, name string) bool {
	if strings.EqualFold(pattern, name) {
		return true
	}
	if !isPattern(pattern) {
		return false
	}
	literal := strings.NewReplacer(`\`, `\\`, `[`, `\[`).Replace(strings.ToLower(pattern))
	ok, err := path.Match(literal, strings.ToLower(name))
	return err == nil && ok
}

func (d *Deployer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deployer) rand() float64 {
	if d.Rand != nil {
		return d.Rand()
	}
	return rand.Float64()
}

func (d *Deployer) sleep(ctx context.Context, dur time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, dur)
	}
	return ghapi.Sleep(ctx, dur)
}

func (d *Deployer) notef(format string, args ...any) {
	if d.Notef != nil {
		d.Notef(format, args...)
	}
}
