// Package deploy is the domain: what each stage and mode does with a deployment. It has no I/O of
// its own; it talks to GitHub through ghapi.API and keeps state through a StateStore, so unit tests
// use fakes and end-to-end tests use the real client against the emulator.
package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// PayloadKey is the key this action adds to object payloads. Its request_id lets a create whose
// response was lost be recognised (and adopted) instead of creating a second deployment.
const PayloadKey = "deployment_action"

// Deployer performs deployment operations on one repository.
type Deployer struct {
	API         ghapi.API
	Owner, Repo string
	Logf        func(format string, args ...any) // debug lines; may be nil
	// Modes are the modes post may find named in the state; nil means Modes().
	Modes Table
	// Concurrency bounds parallel requests in clean-ups; 0 means 4.
	Concurrency int
	// RecoverWaits are the pauses before each look-up for a create that was interrupted
	// mid-request (nil: 0, 1 s, 2 s). Tests shorten them.
	RecoverWaits []time.Duration
	// Notef receives lines a user reads in the log (what wait sees change); may be nil.
	Notef func(format string, args ...any)
	// Poll is wait's schedule (zero: DefaultPoll). Now, Rand and Sleep replace the clock, the
	// jitter's source and the pause between looks in tests; nil means the real ones.
	Poll  PollSchedule
	Now   func() time.Time
	Rand  func() float64
	Sleep func(ctx context.Context, d time.Duration) error
	// Texts renders the comments command mode writes on a pull request (nil: plain text).
	Texts CommandTexts
	// Locks is the deployment lock storage (nil: no lock commands, no lock gate; unit tests).
	Locks Locks
}

func (d *Deployer) debugf(format string, args ...any) {
	if d.Logf != nil {
		d.Logf(format, args...)
	}
}

// Run describes the workflow run a deployment belongs to.
type Run struct {
	ServerURL  string // GITHUB_SERVER_URL, for links (GHES, ghe.com)
	Repository string // GITHUB_REPOSITORY: the run's repository, which owns the job page
	RunID      string
	RunAttempt string
	Job        string
	CheckRunID int64 // job.check_run_id: the job's own page
	// TriggeringActor is GITHUB_TRIGGERING_ACTOR: who started this attempt (on a re-run, who
	// re-ran it). Command mode checks their role too.
	TriggeringActor string
}

// LogURL is the link a status carries by default: the job's own page when the job id is known
// (github.com), else the run attempt's page (GHES has no job.check_run_id), else nothing (outside
// Actions). It costs no API call.
func (r Run) LogURL() string {
	if r.ServerURL == "" || r.Repository == "" || r.RunID == "" {
		return ""
	}
	base := fmt.Sprintf("%s/%s/actions/runs/%s", trimSlash(r.ServerURL), r.Repository, r.RunID)
	if r.CheckRunID > 0 {
		return fmt.Sprintf("%s/job/%d", base, r.CheckRunID)
	}
	if r.RunAttempt != "" {
		return base + "/attempts/" + r.RunAttempt
	}
	return base
}

// Rerun says whether this run is a re-run attempt.
func (r Run) Rerun() bool {
	n, err := strconv.Atoi(r.RunAttempt)
	return err == nil && n > 1
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// CreateSpec is everything a new deployment is made of.
type CreateSpec struct {
	Ref, Task, Environment, Description string
	Payload                             any // nil, map[string]any or string
	AutoMerge                           bool
	RequiredContexts                    RequiredContexts
	Transient                           bool
	Production                          *bool
	RequestID                           string // unique per create; see PayloadKey
	Run                                 Run
	// LogURL is the log URL the job writes into its statuses (recognising its own deployment
	// after a lost create with a string payload).
	LogURL string
}

// NewRequestID returns a random id for CreateSpec.RequestID.
func NewRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// request builds the one and only create-deployment body.
func (c CreateSpec) request() *github.DeploymentRequest {
	req := &github.DeploymentRequest{
		Ref:                   github.String(c.Ref),
		Task:                  github.String(c.Task),
		AutoMerge:             github.Bool(c.AutoMerge),
		Environment:           github.String(c.Environment),
		Description:           github.String(c.Description),
		TransientEnvironment:  github.Bool(c.Transient),
		ProductionEnvironment: c.Production,
	}
	// GitHub checks every context when required_contexts is omitted; the action's default is to
	// check none (the running workflow's own checks are still pending), so send [] then.
	if !c.RequiredContexts.All {
		list := append([]string{}, c.RequiredContexts.List...)
		req.RequiredContexts = &list
	}
	switch p := c.Payload.(type) {
	case string:
		req.Payload = p // strings go as given: GitHub returns them unchanged
	default:
		m := map[string]any{}
		if pm, ok := c.Payload.(map[string]any); ok {
			maps.Copy(m, pm)
		}
		if c.RequestID != "" {
			meta := map[string]any{"request_id": c.RequestID}
			if c.Run.RunID != "" {
				meta["run_id"] = c.Run.RunID
				meta["run_attempt"] = c.Run.RunAttempt
			}
			if c.Run.Job != "" {
				meta["job"] = c.Run.Job
			}
			m[PayloadKey] = meta
		}
		req.Payload = m
	}
	return req
}

// Create creates a deployment (adopting it if the create's response was lost: see ghapi.API).
func (d *Deployer) Create(ctx context.Context, spec CreateSpec) (*github.Deployment, error) {
	if spec.LogURL != "" {
		ctx = ghapi.WithLogURL(ctx, spec.LogURL)
	}
	dep, err := d.API.CreateDeployment(ctx, d.Owner, d.Repo, spec.request())
	if err != nil {
		return nil, Fail(err, ghapi.OpCreateDeployment, spec.Ref)
	}
	d.debugf("created deployment %d for %s in %s", dep.GetID(), dep.GetRef(), dep.GetEnvironment())
	return dep, nil
}

// StatusSpec is one deployment status.
type StatusSpec struct {
	State, Description, EnvironmentURL, LogURL string
	AutoInactive                               bool
}

// SetStatus adds a status to deployment id; the one place a status body is built.
func (d *Deployer) SetStatus(ctx context.Context, id int64, s StatusSpec) (*github.DeploymentStatus, error) {
	req := &github.DeploymentStatusRequest{
		State:        github.String(s.State),
		AutoInactive: github.Bool(s.AutoInactive),
	}
	if s.Description != "" {
		req.Description = github.String(s.Description)
	}
	if s.EnvironmentURL != "" {
		req.EnvironmentURL = github.String(s.EnvironmentURL)
	}
	if s.LogURL != "" {
		req.LogURL = github.String(s.LogURL)
	}
	st, err := d.API.CreateDeploymentStatus(ctx, d.Owner, d.Repo, id, req)
	if err != nil {
		return nil, Fail(err, ghapi.OpCreateDeploymentStatus, strconv.FormatInt(id, 10))
	}
	d.debugf("deployment %d is now %s (status %d)", id, s.State, st.GetID())
	return st, nil
}

// FindByRequestID looks for the deployment a create with this request id produced. It is how
// post recovers a deployment whose create was interrupted before its id could be saved.
func (d *Deployer) FindByRequestID(ctx context.Context, spec CreateSpec, since time.Time) (*github.Deployment, error) {
	opts := &github.DeploymentsListOptions{Ref: spec.Ref, Environment: spec.Environment, Task: spec.Task}
	deps, err := d.API.FindDeployments(ctx, d.Owner, d.Repo, opts, since)
	if err != nil {
		return nil, Fail(err, ghapi.OpListDeployments, "")
	}
	for _, dep := range deps {
		if requestIDOf(dep) == spec.RequestID {
			return dep, nil
		}
	}
	return nil, nil
}

func requestIDOf(dep *github.Deployment) string {
	var m map[string]any
	if raw := dep.Payload; len(raw) > 0 {
		if err := jsonUnmarshal(raw, &m); err != nil {
			return ""
		}
	}
	meta, _ := m[PayloadKey].(map[string]any)
	id, _ := meta["request_id"].(string)
	return id
}

// FinalState maps the job's status to the deployment's final state.
func FinalState(jobStatus, cancelledState string) (state string, known bool) {
	switch jobStatus {
	case "success":
		return "success", true
	case "failure":
		return "failure", true
	case "cancelled":
		return cancelledState, true
	}
	// Unknown status (not run by the runner): a deployment must not stay in progress.
	return "error", false
}
