package deploy

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// ListSpec filters a listing; empty fields match everything.
type ListSpec struct {
	Environment, Ref, Task string
	Limit                  int // at most this many deployments, newest first; 0 means 30
}

// Listed is one deployment with its latest status.
type Listed struct {
	ID             int64
	URL            string
	Environment    string
	Ref, SHA, Task string
	Description    string
	Creator        string
	CreatedAt      time.Time
	// From the latest status; State is "" when the deployment has no status yet.
	State          string
	StatusID       int64
	EnvironmentURL string
	LogURL         string
	StatusAt       time.Time
}

// List returns up to spec.Limit deployments, newest first, each with its latest state. GitHub
// only gives a deployment's state through its statuses, so that is one request per deployment:
// they run with bounded concurrency (Deployer.Concurrency) and the client paces rate limits.
func (d *Deployer) List(ctx context.Context, spec ListSpec) ([]Listed, error) {
	limit := spec.Limit
	if limit <= 0 {
		limit = 30
	}
	opts := &github.DeploymentsListOptions{Environment: spec.Environment, Ref: spec.Ref, Task: spec.Task,
		ListOptions: github.ListOptions{PerPage: min(limit, 100)}}
	var deps []*github.Deployment
	err := ghapi.EachPage(func(page int) ([]*github.Deployment, ghapi.Page, error) {
		opts.Page = page
		return d.API.ListDeployments(ctx, d.Owner, d.Repo, opts)
	}, func(page []*github.Deployment) (bool, error) {
		deps = append(deps, page...)
		return len(deps) < limit, nil
	})
	if err != nil {
		return nil, Fail(err, ghapi.OpListDeployments, "")
	}
	if len(deps) > limit {
		deps = deps[:limit]
	}

	out := make([]Listed, len(deps))
	for i, dep := range deps {
		out[i] = listedFrom(dep)
	}
	conc := d.Concurrency
	if conc <= 0 {
		conc = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, conc)
		errOnce  sync.Once
		firstErr error
	)
	for i := range out {
		sem <- struct{}{}
		if ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func(l *Listed) {
			defer func() { <-sem; wg.Done() }()
			// Each goroutine writes only its own element, so no lock is needed for out.
			if err := d.latest(ctx, l); err != nil {
				errOnce.Do(func() { firstErr = err; cancel() })
			}
		}(&out[i])
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns one deployment with its latest status. A deployment that does not exist is a
// Failure naming deployment-id, so a mistyped id reads as such rather than as a missing repository.
func (d *Deployer) Get(ctx context.Context, id int64) (*Listed, error) {
	dep, err := d.API.GetDeployment(ctx, d.Owner, d.Repo, id)
	if err != nil {
		return nil, Fail(err, ghapi.OpGetDeployment, strconv.FormatInt(id, 10))
	}
	l := listedFrom(dep)
	if err := d.latest(ctx, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

func (d *Deployer) latest(ctx context.Context, l *Listed) error {
	sts, _, err := d.API.ListDeploymentStatuses(ctx, d.Owner, d.Repo, l.ID, &github.ListOptions{PerPage: 1})
	if err != nil {
		return &ItemError{ID: l.ID, Err: Fail(err, ghapi.OpListDeploymentStatuses, strconv.FormatInt(l.ID, 10))}
	}
	if len(sts) > 0 {
		st := sts[0]
		l.State, l.StatusID = st.GetState(), st.GetID()
		l.EnvironmentURL, l.LogURL = st.GetEnvironmentURL(), st.GetLogURL()
		l.StatusAt = st.GetCreatedAt().Time
	}
	return nil
}

func listedFrom(dep *github.Deployment) Listed {
	return Listed{ID: dep.GetID(), URL: dep.GetURL(), Environment: dep.GetEnvironment(), Ref: dep.GetRef(),
		SHA: dep.GetSHA(), Task: dep.GetTask(), Description: dep.GetDescription(),
		Creator: dep.GetCreator().GetLogin(), CreatedAt: dep.GetCreatedAt().Time}
}
