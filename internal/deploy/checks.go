package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// The checks gate: before a create, wait until the commit's checks are green. Green is every
// check run (the latest of each name) completed as success, neutral or skipped, every
// commit-status context success, and every name in RequiredChecks reported (a missing one is
// pending). A commit with no check run and no status at all is refused at once unless
// AllowNoChecks: zero checks is not green. A failed check ends the wait at once; pending ones are polled
// (conditional requests) until ChecksTimeout. This job's own check run, and the names in
// IgnoreChecks, are left out: the job cannot wait for itself.

// DefaultChecksTimeout is how long the gate waits when the settings say nothing.
const DefaultChecksTimeout = 10 * time.Minute

// Check is one check run or commit status the gate looked at.
type Check struct {
	Name  string
	Kind  CheckKind
	State string // a check run's status (queued, in_progress) or conclusion; a status's state
	URL   string // the check run's page (details URL when it has none) or the status's target URL
}

// CheckKind tells a check run from a commit status.
type CheckKind int

// Kinds of checks.
const (
	CheckRun CheckKind = iota + 1
	CommitStatus
)

// ChecksReason is how the gate refused.
type ChecksReason int

// Why the gate refused.
const (
	ChecksFailed   ChecksReason = iota + 1 // a check failed (listed in Failed)
	ChecksTimedOut                         // checks were still pending when the time ran out
	ChecksNone                             // no check run and no commit status at all (and allow-no-checks is false)
)

// ChecksError is the checks gate's refusal: nothing was created.
type ChecksError struct {
	Reason   ChecksReason
	Ref, SHA string // what was checked (SHA as GitHub resolved it; "" if unknown)
	Failed   []Check
	Pending  []Check
	Waited   time.Duration
	Timeout  time.Duration
	// Policy: the environment's policy requires the checks (command mode), so ignore-checks
	// and allow-no-checks were not applied and are no way out.
	Policy bool
}

func (e *ChecksError) Error() string {
	what := e.Ref
	if e.SHA != "" && !strings.HasPrefix(e.SHA, e.Ref) {
		what = fmt.Sprintf("%s (%s)", e.Ref, ShortSHA(e.SHA))
	} else if e.SHA != "" {
		what = ShortSHA(e.SHA)
	}
	switch e.Reason {
	case ChecksFailed:
		return fmt.Sprintf("checks of %s failed: %s", what, checkList(e.Failed))
	case ChecksNone:
		return fmt.Sprintf("no checks were reported for %s", what)
	}
	return fmt.Sprintf("checks of %s still pending after %s: %s", what, e.Waited.Round(time.Second), checkList(e.Pending))
}

func checkList(cs []Check) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s (%s)", c.Name, c.State)
	}
	return strings.Join(parts, ", ")
}

// ChecksReport is what the gate saw, for the summary.
type ChecksReport struct {
	Ref, SHA string
	Passed   int      // check runs and statuses that are green
	Ignored  []string // left out: this job's own run, ignore-checks
	Waited   time.Duration
	Polls    int
}

// checksLook is one look at a commit's checks.
type checksLook struct {
	sha                     string
	passed                  int
	failed, pending         []Check
	ignored                 []string
	runs, statuses, ownRuns int
	reported                int      // check runs and statuses looked at (not this job's, not ignored)
	seen                    []string // their names
}

// saw reports whether a check run or status of that name was reported (names are not case
// sensitive, as on GitHub).
func (l *checksLook) saw(name string) bool {
	for _, n := range l.seen {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// lookAtChecks reads ref's check runs and commit statuses once and sorts them.
func (d *Deployer) lookAtChecks(ctx context.Context, j Job, ref string) (*checksLook, error) {
	return d.sortChecks(ctx, ref, j.Settings.IgnoreChecks, j.Settings.RequiredChecks, func(cr *github.CheckRun) bool { return ownRun(j.Run, cr) })
}

// ChecksSeen is one look at a commit's checks (ChecksNow).
type ChecksSeen struct {
	SHA             string
	Passed          int
	Failed, Pending []Check // by name
	Left            []string
}

// ChecksNow looks once at ref's check runs and commit statuses with the checks gate's rule of
// green; own says which check runs to leave out (the protection rule leaves out the run it is
// holding, which cannot finish before it is answered).
func (d *Deployer) ChecksNow(ctx context.Context, ref string, own func(*github.CheckRun) bool) (ChecksSeen, error) {
	l, err := d.sortChecks(ctx, ref, nil, nil, own)
	if err != nil {
		return ChecksSeen{}, err
	}
	return ChecksSeen{SHA: l.sha, Passed: l.passed, Failed: l.failed, Pending: l.pending, Left: l.ignored}, nil
}

func (d *Deployer) sortChecks(ctx context.Context, ref string, ignore, required []string, own func(*github.CheckRun) bool) (*checksLook, error) {
	runs, err := d.API.ListCheckRuns(ctx, d.Owner, d.Repo, ref)
	if err != nil {
		return nil, Fail(err, ghapi.OpListCheckRuns, ref)
	}
	cs, err := d.API.CombinedStatus(ctx, d.Owner, d.Repo, ref)
	if err != nil {
		return nil, Fail(err, ghapi.OpGetCombinedStatus, ref)
	}
	l := &checksLook{sha: cs.GetSHA()}
	for _, cr := range runs {
		if l.sha == "" {
			l.sha = cr.GetHeadSHA()
		}
		name := cr.GetName()
		switch {
		case own != nil && own(cr):
			l.ignored = append(l.ignored, name+" (this job)")
			continue
		case ignored(ignore, name):
			l.ignored = append(l.ignored, name)
			continue
		}
		l.seen = append(l.seen, name)
		c := Check{Name: name, Kind: CheckRun, State: cr.GetStatus(), URL: cr.GetHTMLURL()}
		if c.URL == "" {
			c.URL = cr.GetDetailsURL()
		}
		if cr.GetStatus() != "completed" {
			l.pending = append(l.pending, c)
			continue
		}
		c.State = cr.GetConclusion()
		switch c.State {
		case "success", "neutral", "skipped":
			l.passed++
		default: // failure, cancelled, timed_out, action_required, stale
			l.failed = append(l.failed, c)
		}
	}
	for _, st := range cs.Statuses {
		name := st.GetContext()
		if ignored(ignore, name) {
			l.ignored = append(l.ignored, name)
			continue
		}
		l.seen = append(l.seen, name)
		c := Check{Name: name, Kind: CommitStatus, State: st.GetState(), URL: st.GetTargetURL()}
		switch c.State {
		case "success":
			l.passed++
		case "pending":
			l.pending = append(l.pending, c)
		default: // failure, error
			l.failed = append(l.failed, c)
		}
	}
	l.reported = l.passed + len(l.failed) + len(l.pending)
	for _, name := range required {
		if !l.saw(name) {
			l.pending = append(l.pending, Check{Name: name, State: "missing"})
		}
	}
	for _, list := range [][]Check{l.failed, l.pending} {
		sort.SliceStable(list, func(a, b int) bool { return list[a].Name < list[b].Name })
	}
	return l, nil
}

// ownRun recognises this job's own check run: by its id (job.check_run_id, github.com), else, on
// GHES where that id is empty, as the unfinished GitHub Actions run named like the job's id.
func ownRun(run Run, cr *github.CheckRun) bool {
	if run.CheckRunID > 0 {
		return cr.GetID() == run.CheckRunID
	}
	return run.Job != "" && cr.GetName() == run.Job && cr.GetStatus() != "completed" && cr.GetApp().GetSlug() == "github-actions"
}

func ignored(list []string, name string) bool {
	for _, n := range list {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// waitForChecks is the gate: it returns nil once ref's checks are green, a *ChecksError when
// one fails or the time runs out, or the API's error.
func (d *Deployer) waitForChecks(ctx context.Context, j Job, r *Report) error {
	ref := j.Ref
	timeout := j.Settings.ChecksTimeout
	if timeout <= 0 {
		timeout = DefaultChecksTimeout
	}
	start := d.now()
	deadline := start.Add(timeout)
	poll := d.Poll
	if poll.Initial <= 0 {
		poll = DefaultPoll()
	}
	rep := &ChecksReport{Ref: ref}
	r.Checks = rep
	seen := ""
	loop := pollLoop{schedule: poll, deadline: deadline, // no fast phase: the interval grows from the first look
		paused: "GitHub's rate limit pauses the wait for checks", what: "waiting for the checks of " + ref}
	return d.poll(ctx, loop, func(ctx context.Context) (pollStep, error) {
		rep.Polls++
		l, err := d.lookAtChecks(ctx, j, ref)
		rep.Waited = d.now().Sub(start)
		if err != nil {
			return pollStep{}, err
		}
		rep.SHA, rep.Passed, rep.Ignored = l.sha, l.passed, l.ignored
		fail := func(reason ChecksReason) (pollStep, error) {
			return pollStep{done: true, err: &ChecksError{Reason: reason, Ref: ref, SHA: l.sha, Failed: l.failed, Pending: l.pending, Waited: rep.Waited, Timeout: timeout}}, nil
		}
		if len(l.failed) > 0 {
			return fail(ChecksFailed)
		}
		if l.reported == 0 && len(j.Settings.RequiredChecks) == 0 && !j.Settings.AllowNoChecks {
			// Nobody has checked this commit: CI that has not started, a fork's run awaiting
			// approval, or a change that deleted the workflows. That is not green.
			return fail(ChecksNone)
		}
		if len(l.pending) == 0 {
			d.notef("checks of %s are green: %d passed%s", shownRef(l.sha, ref), l.passed, ignoredNote(l.ignored))
			return pollStep{done: true}, nil
		}
		if now := checkList(l.pending); now != seen {
			seen = now
			d.notef("waiting for %d checks of %s: %s", len(l.pending), shownRef(l.sha, ref), now)
		}
		now := d.now()
		if !now.Before(deadline) {
			return fail(ChecksTimedOut)
		}
		return pollStep{now: now, until: deadline}, nil
	})
}

func shownRef(sha, ref string) string {
	if sha != "" {
		return ShortSHA(sha)
	}
	return ref
}

func ignoredNote(ig []string) string {
	if len(ig) == 0 {
		return ""
	}
	return ", ignored: " + strings.Join(ig, ", ")
}

// KeyChecks holds what the checks gate saw (JSON), for main's summary when pre created.
const KeyChecks = "checks"

func saveChecks(st StateStore, c *ChecksReport) error {
	b, err := json.Marshal(c)
	if err == nil {
		err = st.SaveState(KeyChecks, string(b))
	}
	if err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

func loadChecks(st StateStore) *ChecksReport {
	var c ChecksReport
	if raw := st.State(KeyChecks); raw == "" || json.Unmarshal([]byte(raw), &c) != nil {
		return nil
	}
	return &c
}
