package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// fakeAPI is a recording fake of ghapi.API with just enough state for the domain's rules.
type fakeAPI struct {
	mu       sync.Mutex
	calls    []string
	deps     []*github.Deployment // newest last
	statuses map[int64][]*github.DeploymentStatus
	nextID   int64
	failOn   map[string]error // call name -> error
}

var _ ghapi.API = (*fakeAPI)(nil)

func newFake() *fakeAPI {
	return &fakeAPI{statuses: map[int64][]*github.DeploymentStatus{}, nextID: 100, failOn: map[string]error{}}
}

func (f *fakeAPI) record(name string) error {
	f.calls = append(f.calls, name)
	return f.failOn[name]
}

func (f *fakeAPI) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeAPI) CreateDeployment(_ context.Context, owner, repo string, req *github.DeploymentRequest) (*github.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("create"); err != nil {
		return nil, err
	}
	f.nextID++
	payload, _ := json.Marshal(req.Payload)
	d := &github.Deployment{ID: github.Int64(f.nextID), Ref: req.Ref, SHA: github.String("abc1234def"), Task: req.Task,
		Environment: req.Environment, Description: req.Description, Payload: payload,
		URL:       github.String(fmt.Sprintf("https://api.github.com/repos/%s/%s/deployments/%d", owner, repo, f.nextID)),
		CreatedAt: &github.Timestamp{}}
	f.deps = append(f.deps, d)
	return d, nil
}

func (f *fakeAPI) GetDeployment(_ context.Context, _, _ string, id int64) (*github.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.record("get")
	for _, d := range f.deps {
		if d.GetID() == id {
			return d, nil
		}
	}
	return nil, fmt.Errorf("not found")
}

func (f *fakeAPI) ListDeployments(_ context.Context, _, _ string, opts *github.DeploymentsListOptions) ([]*github.Deployment, ghapi.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(fmt.Sprintf("list page=%d", max(opts.Page, 1))); err != nil {
		return nil, ghapi.Page{}, err
	}
	var all []*github.Deployment
	for i := len(f.deps) - 1; i >= 0; i-- {
		if opts.Environment == "" || f.deps[i].GetEnvironment() == opts.Environment {
			all = append(all, f.deps[i])
		}
	}
	per, page := opts.PerPage, max(opts.Page, 1)
	lo, hi := (page-1)*per, page*per
	if lo > len(all) {
		lo = len(all)
	}
	if hi >= len(all) {
		return all[lo:], ghapi.Page{}, nil
	}
	return all[lo:hi], ghapi.Page{Next: page + 1}, nil
}

func (f *fakeAPI) FindDeployments(ctx context.Context, o, r string, opts *github.DeploymentsListOptions, since time.Time) ([]*github.Deployment, error) {
	var out []*github.Deployment
	for page := 1; ; page++ {
		o2 := *opts
		o2.PerPage, o2.Page = 100, page
		deps, next, err := f.ListDeployments(ctx, o, r, &o2)
		if err != nil {
			return nil, err
		}
		for _, d := range deps {
			if !d.GetCreatedAt().Before(since) {
				out = append(out, d)
			}
		}
		if next.Next == 0 {
			return out, nil
		}
	}
}

func (f *fakeAPI) DeleteDeployment(_ context.Context, _, _ string, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.record(fmt.Sprintf("delete %d", id))
}

func (f *fakeAPI) CreateDeploymentStatus(_ context.Context, _, _ string, id int64, req *github.DeploymentStatusRequest) (*github.DeploymentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("status " + req.GetState()); err != nil {
		return nil, err
	}
	f.nextID++
	st := &github.DeploymentStatus{ID: github.Int64(f.nextID), State: req.State, EnvironmentURL: req.EnvironmentURL, LogURL: req.LogURL}
	f.statuses[id] = append(f.statuses[id], st)
	return st, nil
}

func (f *fakeAPI) ListDeploymentStatuses(_ context.Context, _, _ string, id int64, _ *github.ListOptions) ([]*github.DeploymentStatus, ghapi.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.record("statuses")
	sts := f.statuses[id]
	if len(sts) == 0 {
		return nil, ghapi.Page{}, nil
	}
	return []*github.DeploymentStatus{sts[len(sts)-1]}, ghapi.Page{}, nil
}

func (f *fakeAPI) CommitSHA(_ context.Context, _, _, ref string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("commit " + ref); err != nil {
		return "", err
	}
	return "abc1234def", nil
}

func (f *fakeAPI) DeleteEnvironment(_ context.Context, _, _, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.record("delete-environment " + name)
}

// mapState is an in-memory StateStore.
type mapState map[string]string

func (m mapState) State(k string) string       { return m[k] }
func (m mapState) SaveState(k, v string) error { m[k] = v; return nil }
