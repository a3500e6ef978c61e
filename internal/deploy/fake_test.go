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
	kit      fakeToolkit
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

func (f *fakeAPI) CommitParents(_ context.Context, _, _, sha string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return nil, f.record("parents " + sha)
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

// ---- ChatOps and the checks gate ----

// fakeToolkit is the fake's pull request, permissions, comments and checks.
type fakeToolkit struct {
	pr       *github.PullRequest
	perms    map[string]ghapi.Permission // by login; missing = 404
	comments []*github.IssueComment
	// looks are the check runs and statuses each look at the checks sees, in turn; the last one
	// repeats.
	looks []checksFixture
	// suites are the check suites of any ref (nil: one pushed to feature-x in 2020)
	suites []*github.CheckSuite
	look   int
	// policy is .github/deployments.yml on the default branch (nil: no file, 404).
	policy []byte
}

type checksFixture struct {
	runs     []*github.CheckRun
	statuses []*github.RepoStatus
}

func (f *fakeAPI) GetPullRequest(_ context.Context, _, _ string, number int) (*github.PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(fmt.Sprintf("get pr %d", number)); err != nil {
		return nil, err
	}
	return f.kit.pr, nil
}

func (f *fakeAPI) CollaboratorPermission(_ context.Context, _, _, login string) (ghapi.Permission, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("permission " + login); err != nil {
		return ghapi.Permission{}, err
	}
	p, ok := f.kit.perms[login]
	if !ok {
		return p, &ghapi.APIError{Op: ghapi.OpGetPermission, Status: 404, Message: "Not Found"}
	}
	return p, nil
}

func (f *fakeAPI) CreateIssueComment(_ context.Context, _, _ string, number int, body string) (*github.IssueComment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(fmt.Sprintf("comment %d", number)); err != nil {
		return nil, err
	}
	f.nextID++
	c := &github.IssueComment{ID: github.Int64(f.nextID), Body: github.String(body)}
	f.kit.comments = append(f.kit.comments, c)
	return c, nil
}

func (f *fakeAPI) EditIssueComment(_ context.Context, _, _ string, id int64, body string) (*github.IssueComment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(fmt.Sprintf("edit comment %d", id)); err != nil {
		return nil, err
	}
	for _, c := range f.kit.comments {
		if c.GetID() == id {
			c.Body = github.String(body)
			return c, nil
		}
	}
	return nil, &ghapi.APIError{Op: ghapi.OpUpdateComment, Status: 404, Message: "Not Found"}
}

func (f *fakeAPI) ReactToIssueComment(_ context.Context, _, _ string, id int64, content string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.record(fmt.Sprintf("react %d %s", id, content))
}

func (f *fakeAPI) ListCheckRuns(_ context.Context, _, _, ref string) ([]*github.CheckRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("check runs " + ref); err != nil {
		return nil, err
	}
	if len(f.kit.looks) == 0 {
		return nil, nil
	}
	return f.kit.looks[min(f.kit.look, len(f.kit.looks)-1)].runs, nil
}

func (f *fakeAPI) ListCheckSuites(_ context.Context, _, _, ref string) ([]*github.CheckSuite, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("check suites " + ref); err != nil {
		return nil, err
	}
	if f.kit.suites != nil {
		return f.kit.suites, nil
	}
	// By default the head was pushed to its branch long before any comment.
	pushed := github.Timestamp{Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	return []*github.CheckSuite{{HeadSHA: github.String(ref), HeadBranch: github.String("feature-x"), CreatedAt: &pushed}}, nil
}

func (f *fakeAPI) CombinedStatus(_ context.Context, _, _, ref string) (*github.CombinedStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("combined status " + ref); err != nil {
		return nil, err
	}
	sha := "abc1234def" // what main points at; a sha resolves to itself
	if ref != "main" && ref != "" {
		sha = ref
	}
	cs := &github.CombinedStatus{SHA: github.String(sha), State: github.String("pending"), TotalCount: github.Int(0)}
	if len(f.kit.looks) > 0 {
		fx := f.kit.looks[min(f.kit.look, len(f.kit.looks)-1)]
		f.kit.look++
		cs.Statuses, cs.TotalCount = fx.statuses, github.Int(len(fx.statuses))
	}
	return cs, nil
}

func (f *fakeAPI) DefaultBranchFile(_ context.Context, _, _, path string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("file " + path); err != nil {
		return nil, err
	}
	if f.kit.policy == nil || path != ".github/deployments.yml" {
		return nil, &ghapi.APIError{Op: ghapi.OpGetPolicyFile, Status: 404, Message: "Not Found"}
	}
	return f.kit.policy, nil
}
