package deploy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// latest: main finds the deployment live in an environment now.

// overlap bounds how far back Live looks: a deployment created this long before the newest success
// is taken to have finished before it. GitHub-hosted jobs run at most 6 h; deploys that overlap
// are usually minutes apart.
const overlap = time.Hour

// Live returns the deployment live in environment: the one whose latest status is success and
// came last (deployments may finish out of order: a newer one can succeed before an older one
// does). Inactive, failed and unfinished deployments are not live. reads counts the status
// requests it made. No live deployment is (nil, n, nil).
//
// A deployment's updated_at moves whenever a status is added, so the listing alone says which
// deployments can have succeeded after the best success found so far: only those are read,
// newest change first. Older pages are read only while they can matter: within an hour
// (overlap) of that success, and only while the page just read shows deployments older than the
// live one that changed after it succeeded (deploys that overlap); a page of older deployments
// that all settled before it ends the look-up.
func (d *Deployer) Live(ctx context.Context, environment, task string) (live *Listed, reads int, err error) {
	return d.liveExcept(ctx, environment, task, "")
}

// liveExcept is Live among the deployments of commits other than exclude ("" excludes none): what
// was live before exclude went out, for a roll-back.
func (d *Deployer) liveExcept(ctx context.Context, environment, task, exclude string) (live *Listed, reads int, err error) {
	opts := &github.DeploymentsListOptions{Environment: environment, Task: task, ListOptions: github.ListOptions{PerPage: 100}}
	err = ghapi.EachPage(func(page int) ([]*github.Deployment, ghapi.Page, error) {
		opts.Page = page
		deps, next, err := d.API.ListDeployments(ctx, d.Owner, d.Repo, opts)
		return deps, next, Fail(err, ghapi.OpListDeployments, "")
	}, func(page []*github.Deployment) (bool, error) {
		var cands []*github.Deployment
		for _, dep := range page {
			if exclude == "" || !strings.HasPrefix(dep.GetSHA(), exclude) {
				cands = append(cands, dep)
			}
		}
		// Newest change first; a deployment without updated_at (unknown) is read in any case.
		sort.SliceStable(cands, func(i, j int) bool { return changedAfter(cands[i], cands[j]) })
		for _, dep := range cands {
			if live != nil && settledBefore(dep, live.StatusAt) {
				break // neither it nor any after it can have succeeded later
			}
			l := listedFrom(dep)
			reads++
			if err := d.latest(ctx, &l); err != nil {
				return false, err
			}
			if l.State == "success" && (live == nil || succeededLater(&l, live)) {
				live = &l
			}
		}
		// An older page can matter only within overlap of the live success, and only while this
		// page shows deploys that overlap it.
		stale := live != nil && len(page) > 0 &&
			(page[len(page)-1].GetCreatedAt().Before(live.StatusAt.Add(-overlap)) || !overlapping(cands, live))
		return !stale, nil
	})
	if err != nil {
		return nil, reads, err
	}
	return live, reads, nil
}

// changedAfter orders deployments by updated_at, newest first; an unknown updated_at sorts first.
func changedAfter(a, b *github.Deployment) bool {
	if a.UpdatedAt == nil || b.UpdatedAt == nil {
		return a.UpdatedAt == nil && b.UpdatedAt != nil
	}
	return a.UpdatedAt.After(b.UpdatedAt.Time)
}

// settledBefore reports a deployment whose last change (so its latest status) came before t.
// Timestamps have whole seconds: a change in the same second is not before.
func settledBefore(dep *github.Deployment, t time.Time) bool {
	return dep.UpdatedAt != nil && dep.UpdatedAt.Before(t)
}

// overlapping reports a deployment older than live among deps that changed after live succeeded
// (or whose changes are unknown): deploys to the environment overlap, so an even older one may
// have finished late too.
func overlapping(deps []*github.Deployment, live *Listed) bool {
	for _, dep := range deps {
		if dep.GetID() == live.ID || laterThan(dep, live) {
			continue
		}
		if dep.UpdatedAt == nil || dep.UpdatedAt.After(live.StatusAt) {
			return true
		}
	}
	return false
}

// succeededLater orders successes by time; timestamps have whole seconds, so status ids (which
// only grow) break ties.
func succeededLater(a, b *Listed) bool {
	if !a.StatusAt.Equal(b.StatusAt) {
		return a.StatusAt.After(b.StatusAt)
	}
	return a.StatusID > b.StatusID
}

func (d *Deployer) mainLatest(ctx context.Context, j Job, r *Report) error {
	s := j.Settings
	live, _, err := d.liveExcept(ctx, s.Environment, s.Task, s.ExcludeSHA)
	if err != nil {
		return err
	}
	if live == nil {
		if s.AllowNone {
			r.Skipped = fmt.Sprintf("no deployment is live in %s", s.Environment)
			return nil
		}
		return &NotLiveError{Environment: s.Environment}
	}
	r.fromListed(live)
	return nil
}

// NotLiveError: no deployment of the environment has success as its latest status.
type NotLiveError struct{ Environment string }

func (e *NotLiveError) Error() string {
	return fmt.Sprintf("no deployment is live in %s (none has success as its latest status)", e.Environment)
}

// GateError is the promotion gate's refusal: the commit to deploy is not the one live in the
// environment it must come from.
type GateError struct {
	Environment string // require-deployed-in
	Ref, SHA    string // what was to be deployed
	Live        *Listed
}

func (e *GateError) Error() string {
	if e.Live == nil {
		return fmt.Sprintf("%s (%s) is not live in %s: nothing is live there", e.Ref, ShortSHA(e.SHA), e.Environment)
	}
	return fmt.Sprintf("%s (%s) is not live in %s: deployment %d of %s is", e.Ref, ShortSHA(e.SHA), e.Environment, e.Live.ID, ShortSHA(e.Live.SHA))
}

// gate refuses a create unless the commit to deploy is live in s.RequireDeployedIn; it returns
// the commit it checked ("" when there is no gate), which is what gets deployed.
func (d *Deployer) gate(ctx context.Context, j Job) (string, error) {
	env := j.Settings.RequireDeployedIn
	if env == "" {
		return "", nil
	}
	sha, err := d.API.CommitSHA(ctx, d.Owner, d.Repo, j.Ref)
	if err != nil {
		return "", Fail(err, ghapi.OpGetCommit, j.Ref)
	}
	live, _, err := d.Live(ctx, env, j.Settings.Task)
	if err != nil {
		return "", err
	}
	if live == nil || live.SHA != sha {
		return "", &GateError{Environment: env, Ref: j.Ref, SHA: sha, Live: live}
	}
	d.notef("%s (%s) is live in %s (deployment %d): promotion allowed", j.Ref, ShortSHA(sha), env, live.ID)
	return sha, nil
}

func (r *Report) fromListed(l *Listed) {
	r.DeploymentID, r.DeploymentURL, r.Environment = l.ID, l.URL, l.Environment
	r.Ref, r.SHA, r.Creator, r.CreatedAt = l.Ref, l.SHA, l.Creator, l.CreatedAt
	r.State, r.StatusID, r.EnvironmentURL, r.LogURL = l.State, l.StatusID, l.EnvironmentURL, l.LogURL
}
