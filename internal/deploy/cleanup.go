package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/google/go-github/v62/github"
)

// deactivate and delete: main makes every deployment of an environment inactive and, for
// delete, deletes them (and the environment itself with delete-environment).
func (d *Deployer) mainCleanup(ctx context.Context, j Job, r *Report) error {
	s := j.Settings
	del := s.Mode.Deletes
	rep, err := d.Cleanup(ctx, CleanupSpec{Environment: s.Environment, Delete: del, DeleteEnvironment: del && s.DeleteEnvironment})
	r.Cleanup = rep
	return err
}

// CleanupSpec says what to clean up.
type CleanupSpec struct {
	Environment       string
	Delete            bool // delete the deployments after making them inactive
	DeleteEnvironment bool // then delete the environment itself
}

// CleanupReport counts what a clean-up did.
type CleanupReport struct {
	Environment        string
	Found              int // deployments of the environment
	Deactivated        int // inactive statuses set
	AlreadyInactive    int // left untouched
	Deleted            int // deployments deleted
	Failed             int // deployments that could not be handled (see the error)
	EnvironmentDeleted bool
	IDs                []int64 // every deployment found, newest first
}

// Cleanup makes every deployment of an environment inactive (all pages, skipping those already
// inactive) and, for delete, deletes them. Pages are read once, sequentially; the per-deployment
// work runs with bounded concurrency, and the client's rate-limit handling paces it.
func (d *Deployer) Cleanup(ctx context.Context, spec CleanupSpec) (*CleanupReport, error) {
	rep := &CleanupReport{Environment: spec.Environment}
	var deps []*github.Deployment
	opts := &github.DeploymentsListOptions{Environment: spec.Environment, ListOptions: github.ListOptions{PerPage: 100}}
	err := ghapi.EachPage(func(page int) ([]*github.Deployment, ghapi.Page, error) {
		opts.Page = page
		return d.API.ListDeployments(ctx, d.Owner, d.Repo, opts)
	}, func(page []*github.Deployment) (bool, error) {
		deps = append(deps, page...)
		return true, nil
	})
	if err != nil {
		return rep, Fail(err, ghapi.OpListDeployments, "")
	}
	rep.Found = len(deps)
	for _, dep := range deps {
		rep.IDs = append(rep.IDs, dep.GetID())
	}

	limit := d.Concurrency
	if limit <= 0 {
		limit = 4
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, limit)
	)
	for _, dep := range deps {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(dep *github.Deployment) {
			defer func() { <-sem; wg.Done() }()
			deactivated, deleted, err := d.cleanOne(ctx, dep.GetID(), spec.Delete)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				rep.Failed++
				errs = append(errs, &ItemError{ID: dep.GetID(), Err: err})
			case deactivated:
				rep.Deactivated++
			default:
				rep.AlreadyInactive++
			}
			if deleted {
				rep.Deleted++
			}
		}(dep)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 && spec.DeleteEnvironment {
		if err := d.API.DeleteEnvironment(ctx, d.Owner, d.Repo, spec.Environment); err != nil {
			errs = append(errs, Fail(err, ghapi.OpDeleteEnvironment, spec.Environment))
		} else {
			rep.EnvironmentDeleted = true
		}
	}
	if len(errs) > 0 {
		return rep, &CleanupError{Environment: spec.Environment, Failed: rep.Failed, Found: rep.Found, Errs: errs}
	}
	return rep, nil
}

// CleanupError lists what a clean-up could not do: *ItemError for deployments, and the
// environment's own failure or the cancellation.
type CleanupError struct {
	Environment   string
	Failed, Found int
	Errs          []error
}

func (e *CleanupError) Error() string {
	return fmt.Sprintf("clean-up of %s: %d of %d deployments failed: %v", e.Environment, e.Failed, e.Found, errors.Join(e.Errs...))
}

func (e *CleanupError) Unwrap() []error { return e.Errs }

// ItemError is the failure of one deployment among many.
type ItemError struct {
	ID  int64
	Err error
}

func (e *ItemError) Error() string { return fmt.Sprintf("deployment %d: %v", e.ID, e.Err) }
func (e *ItemError) Unwrap() error { return e.Err }

// cleanOne makes one deployment inactive unless it already is, then deletes it when asked.
func (d *Deployer) cleanOne(ctx context.Context, id int64, del bool) (deactivated, deleted bool, err error) {
	sts, _, err := d.API.ListDeploymentStatuses(ctx, d.Owner, d.Repo, id, &github.ListOptions{PerPage: 1})
	if err != nil {
		return false, false, Fail(err, ghapi.OpListDeploymentStatuses, fmt.Sprint(id))
	}
	if len(sts) == 0 || sts[0].GetState() != "inactive" {
		if _, err := d.SetStatus(ctx, id, StatusSpec{State: "inactive"}); err != nil {
			return false, false, err
		}
		deactivated = true
	}
	if del {
		if err := d.API.DeleteDeployment(ctx, d.Owner, d.Repo, id); err != nil {
			return deactivated, false, Fail(err, ghapi.OpDeleteDeployment, fmt.Sprint(id))
		}
		deleted = true
	}
	return deactivated, deleted, nil
}
