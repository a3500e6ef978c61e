package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// State keys kept between stages (GITHUB_STATE → STATE_<key>).
const (
	KeyRequestID      = "request-id"
	KeyCreatedAt      = "created-at"
	KeyDeploymentID   = "deployment-id"
	KeyDeploymentURL  = "deployment-url"
	KeyEnvironment    = "environment"
	KeyEnvironmentURL = "environment-url"
	KeyLogURL         = "log-url"
	KeyStatusID       = "status-id"
	KeyState          = "state"
	KeyRef            = "ref"
	KeySHA            = "sha"
	// KeyFinish names the mode whose post finishes the deployment at job end (auto); set before
	// the create, so that post finishes whatever was started, whatever the inputs say then.
	KeyFinish = "finish"
	// KeyInputs holds the identity (JSON) the deployment was created with: main compares its own
	// inputs with it, post uses it to find an interrupted create.
	KeyInputs = "inputs"
	// KeyMainRan is set by main: a post that finds it missing in a job that did not fail knows
	// the step was skipped by its if:.
	KeyMainRan = "main-ran"
	// KeyDeferred says why pre left the create to main (an input not known at job start).
	KeyDeferred = "deferred"
)

// StateStore carries values from pre to main and post.
type StateStore interface {
	State(name string) string
	SaveState(name, value string) error
}

// Job is one stage's input: the validated settings and the run around it.
type Job struct {
	Stage    Stage
	Settings *Settings
	Run      Run
	Ref      string        // resolved ref to deploy (settings.Ref or the event's)
	SHA      string        // resolved commit to wait for (settings.SHA or the run's)
	State    StateStore    // never nil: the CLI passes an in-memory one
	Comment  *CommentEvent // the triggering comment (issue_comment events), for command mode
	// Prior is the deployment an Existing mode acts on, as read before the stage (the CLI reads
	// it first, so that a wrong id fails before anything is written), or nil. Its environment URL
	// is carried into the new status, and the report names its environment, ref and commit.
	Prior *Listed
	// LockActor is the commenter of a command deploy, who deploys through their own lock; ""
	// for a push deploy.
	LockActor string
}

// Report is what a stage did, for outputs, the summary and the CLI.
type Report struct {
	Mode           Mode // the mode that acted (in post: the one that started the deployment)
	Stage          Stage
	Skipped        string // why the stage did nothing
	DeploymentID   int64
	DeploymentURL  string // the API's URL of the deployment
	Page           string // the environment's deployments page on GitHub
	Environment    string
	Ref, SHA       string
	EnvironmentURL string
	LogURL         string
	StatusID       int64
	State          string
	CreatedHere    bool      // this stage created the deployment
	Recovered      bool      // post found a deployment whose create had been interrupted
	Retired        bool      // post removed a deployment whose step was skipped by its if:
	Replaced       *Replaced // main removed pre's deployment: its inputs changed after job start
	Deferred       string    // why pre left the create to main (an input not known at job start)
	Creator        string
	CreatedAt      time.Time
	Wait           *WaitReport // what wait waited for
	// Requests and NotModified count the stage's HTTP requests and the 304s among them, when its
	// client sent conditional requests (when the API counts them: ghapi.Client does).
	Requests, NotModified int64
	Rerun                 bool
	RunAttempt            string
	Warnings              []string
	Cleanup               *CleanupReport
	Checks                *ChecksReport // what the checks gate saw (wait-for-checks, command)
	Command               *Command      // command mode: the command (Triggered false: the comment was none)
}

// Stage runs one stage of the action. Post acts on what the job started (the state), whatever the
// inputs say at job end; main first reconciles what pre did with its own inputs; then the mode's
// function for the stage runs, if it has one.
func (d *Deployer) Stage(ctx context.Context, j Job) (*Report, error) {
	s := j.Settings
	r := &Report{Mode: s.Mode, Stage: j.Stage, Environment: s.Environment, Rerun: j.Run.Rerun(), RunAttempt: j.Run.RunAttempt}
	defer d.count(r)
	switch j.Stage {
	case StagePost:
		return r, d.post(ctx, j, r)
	case StageMain:
		if err := j.State.SaveState(KeyMainRan, "1"); err != nil {
			return r, fmt.Errorf("saving state: %w", err)
		}
		if err := d.reconcile(ctx, j, r); err != nil {
			return r, err
		}
	}
	if !s.Enabled {
		r.Skipped = "enabled is false: nothing to do"
		return r, nil
	}
	f := s.Mode.stage(j.Stage)
	if f == nil {
		r.Skipped = fmt.Sprintf("mode %s: nothing to do in %s", s.Mode.Name, j.Stage)
		return r, nil
	}
	if p := j.Prior; p != nil && j.State.State(KeyEnvironmentURL) == "" {
		if err := j.State.SaveState(KeyEnvironmentURL, p.EnvironmentURL); err != nil {
			return r, fmt.Errorf("saving state: %w", err)
		}
	}
	err := f(d, ctx, j, r)
	if p := j.Prior; p != nil {
		r.Environment, r.Ref, r.SHA = p.Environment, p.Ref, p.SHA
		if r.DeploymentURL == "" {
			r.DeploymentURL = p.URL
		}
	}
	r.Page = d.page(j.Run, r.Environment)
	if r.Checks == nil && j.Stage == StageMain && r.DeploymentID != 0 {
		r.Checks = loadChecks(j.State) // what pre's checks gate saw, for main's summary
	}
	return r, err
}

// count fills in the requests the stage sent, when the API counts them.
func (d *Deployer) count(r *Report) {
	if c, ok := d.API.(interface{ Stats() ghapi.Stats }); ok {
		st := c.Stats()
		r.Requests, r.NotModified = st.Requests, st.NotModified
	}
}

// page is the environment's deployments page on GitHub (where people look at a deployment; the
// API URL is JSON), or "" outside Actions.
func (d *Deployer) page(run Run, environment string) string {
	if run.ServerURL == "" || environment == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/%s/deployments/%s", trimSlash(run.ServerURL), d.Owner, d.Repo, url.PathEscape(environment))
}

// post finishes what this job started for the job's end (state KeyFinish), with the post function
// of the mode that started it.
func (d *Deployer) post(ctx context.Context, j Job, r *Report) error {
	name := j.State.State(KeyFinish)
	if name == "" {
		r.Skipped = "nothing was started in this job for post to finish"
		return nil
	}
	modes := d.Modes
	if modes == nil {
		modes = Modes()
	}
	m, ok := modes.Lookup(name)
	if !ok || m.Post == nil {
		return fmt.Errorf("state names mode %q, which has nothing to finish", name)
	}
	r.Mode = m
	err := m.Post(d, ctx, j, r)
	r.Page = d.page(j.Run, r.Environment)
	return err
}

func (j Job) createSpec(requestID string) CreateSpec {
	s := j.Settings
	return CreateSpec{Ref: j.Ref, Task: s.Task, Environment: s.Environment, Description: s.Description, Payload: s.Payload,
		AutoMerge: s.AutoMerge, RequiredContexts: s.RequiredContexts, Transient: s.TransientEnvironment,
		Production: s.ProductionEnvironment, RequestID: requestID, Run: j.Run, LogURL: j.logURL()}
}

// exactly is the job creating the deployment of sha itself, the commit a gate checked: from a
// branch name GitHub would deploy whatever the branch points at by then. Auto-merge is off, as
// a merge would make another commit. "" leaves the job as it is.
func (j Job) exactly(sha string) Job {
	if sha == "" || strings.EqualFold(j.Ref, sha) {
		return j
	}
	s := *j.Settings
	s.AutoMerge = false
	j.Settings, j.Ref = &s, sha
	return j
}

// start creates the deployment and sets the initial state.
func (d *Deployer) start(ctx context.Context, j Job, r *Report) error {
	if err := d.create(ctx, j, r); err != nil {
		return err
	}
	return d.setInitial(ctx, j, r)
}

// create saves a request id (and, for a mode that finishes at job end, that intention and the
// deployment's identity) before the call, and the deployment right after it, so a stage
// interrupted at any point leaves post able to find and finish the deployment.
func (d *Deployer) create(ctx context.Context, j Job, r *Report) error {
	if err := d.lockGate(ctx, j, r); err != nil {
		return err
	}
	asked := j // the identity later stages compare is the inputs', not the pinned commit
	if j.Settings.WaitForChecks {
		if err := d.waitForChecks(ctx, j, r); err != nil {
			return err
		}
		if err := saveChecks(j.State, r.Checks); err != nil {
			return err
		}
		j = j.exactly(r.Checks.SHA)
	}
	sha, err := d.gate(ctx, j)
	if err != nil {
		return err
	}
	j = j.exactly(sha)
	reqID := NewRequestID()
	save := map[string]string{KeyRequestID: reqID, KeyCreatedAt: time.Now().UTC().Format(time.RFC3339)}
	if j.Settings.Mode.Post != nil {
		id, err := json.Marshal(asked.identity())
		if err != nil {
			return fmt.Errorf("saving state: %w", err)
		}
		save[KeyFinish], save[KeyInputs] = j.Settings.Mode.Name, string(id)
	}
	for _, k := range []string{KeyInputs, KeyCreatedAt, KeyRequestID, KeyFinish} {
		if v, ok := save[k]; ok {
			if err := j.State.SaveState(k, v); err != nil {
				return fmt.Errorf("saving state: %w", err)
			}
		}
	}
	dep, err := d.Create(ctx, j.createSpec(reqID))
	if err != nil {
		if refused(err) {
			// GitHub answered, and made nothing: post need not look for a deployment.
			for _, k := range []string{KeyFinish, KeyRequestID, KeyInputs} {
				_ = j.State.SaveState(k, "")
			}
		}
		return err
	}
	r.CreatedHere = true
	return saveDeployment(j, r, dep)
}

// refused reports a create GitHub answered without making a deployment (as opposed to one whose
// outcome is unknown: a lost answer, a timeout, a rate limit that outlasted the retries).
func refused(err error) bool {
	switch ghapi.KindOf(err) {
	case ghapi.KindUnauthorized, ghapi.KindForbidden, ghapi.KindNotFound, ghapi.KindConflict, ghapi.KindValidation, ghapi.KindAutoMerged:
		return true
	}
	return false
}

// saveDeployment records the deployment in the report and, first thing, in the state.
func saveDeployment(j Job, r *Report, dep *github.Deployment) error {
	r.fromDeployment(dep)
	for k, v := range map[string]string{KeyDeploymentID: strconv.FormatInt(dep.GetID(), 10), KeyDeploymentURL: dep.GetURL(),
		KeyEnvironment: dep.GetEnvironment(), KeyRef: dep.GetRef(), KeySHA: dep.GetSHA()} {
		if err := j.State.SaveState(k, v); err != nil {
			return fmt.Errorf("saving state: %w", err)
		}
	}
	return nil
}

func (d *Deployer) setInitial(ctx context.Context, j Job, r *Report) error {
	return d.status(ctx, j, r, j.Settings.InitialState, j.Settings.EnvironmentURL)
}

// status sets a state on r's deployment, carrying the environment URL so no status clears it.
func (d *Deployer) status(ctx context.Context, j Job, r *Report, state, envURL string) error {
	s := j.Settings
	if envURL == "" {
		envURL = j.State.State(KeyEnvironmentURL)
	}
	logURL := j.logURL()
	st, err := d.SetStatus(ctx, r.DeploymentID, StatusSpec{State: state, Description: s.Description, EnvironmentURL: envURL, LogURL: logURL, AutoInactive: s.AutoInactive})
	if err != nil {
		return err
	}
	r.StatusID, r.State, r.EnvironmentURL, r.LogURL = st.GetID(), st.GetState(), envURL, logURL
	if r.EnvironmentURL == "" {
		r.EnvironmentURL = st.GetEnvironmentURL()
	}
	if r.DeploymentURL == "" {
		r.DeploymentURL = st.GetDeploymentURL()
	}
	if j.Stage == StagePre || j.Stage == StageMain {
		for k, v := range map[string]string{KeyStatusID: strconv.FormatInt(r.StatusID, 10), KeyState: r.State,
			KeyEnvironmentURL: envURL, KeyLogURL: logURL} {
			if err := j.State.SaveState(k, v); err != nil {
				return fmt.Errorf("saving state: %w", err)
			}
		}
	}
	return nil
}

// recover finds the deployment that an interrupted create (whose request id was saved) made.
func (d *Deployer) recover(ctx context.Context, j Job, r *Report) error {
	reqID := j.State.State(KeyRequestID)
	if reqID == "" {
		r.Skipped = "no deployment was created (pre and main did not get that far): nothing to finish"
		return nil
	}
	since, _ := time.Parse(time.RFC3339, j.State.State(KeyCreatedAt))
	spec := j.createSpec(reqID)
	if id, ok := savedIdentity(j.State); ok {
		// Look for what was created, not for what the inputs say now.
		spec.Environment, spec.Ref, spec.Task = id.Environment, id.Ref, id.Task
		if id.StringPayload {
			return d.unrecognisable(ctx, j, r, id, since)
		}
	}
	var dep *github.Deployment
	// A create cut off mid-request may still be committed by GitHub a moment later: look again
	// briefly before concluding that it never happened.
	for _, wait := range d.recoverWaits() {
		if err := d.sleep(ctx, wait); err != nil {
			return fmt.Errorf("looking for the deployment an interrupted stage created: %w", err)
		}
		var err error
		if dep, err = d.FindByRequestID(ctx, spec, since); err != nil {
			return fmt.Errorf("looking for the deployment an interrupted stage created: %w", err)
		}
		if dep != nil {
			break
		}
	}
	if dep == nil {
		r.Skipped = "the create was interrupted before GitHub made the deployment: nothing to finish"
		return nil
	}
	r.Recovered = true
	return saveDeployment(j, r, dep)
}

// recoverWaits are the pauses before each look-up for an interrupted create.
func (d *Deployer) recoverWaits() []time.Duration {
	if d.RecoverWaits != nil {
		return d.RecoverWaits
	}
	return []time.Duration{0, time.Second, 2 * time.Second}
}

func (r *Report) fromDeployment(dep *github.Deployment) {
	r.DeploymentID, r.DeploymentURL, r.Environment = dep.GetID(), dep.GetURL(), dep.GetEnvironment()
	r.Ref, r.SHA = dep.GetRef(), dep.GetSHA()
}

func (r *Report) fromState(st StateStore) {
	r.DeploymentID, _ = strconv.ParseInt(st.State(KeyDeploymentID), 10, 64)
	r.DeploymentURL = st.State(KeyDeploymentURL)
	if env := st.State(KeyEnvironment); env != "" {
		r.Environment = env
	}
	r.Ref, r.SHA = st.State(KeyRef), st.State(KeySHA)
	r.EnvironmentURL, r.LogURL = st.State(KeyEnvironmentURL), st.State(KeyLogURL)
	r.StatusID, _ = strconv.ParseInt(st.State(KeyStatusID), 10, 64)
	r.State = st.State(KeyState)
}

// logURL is the log URL the job writes into its statuses: log-url, or the job's page.
func (j Job) logURL() string {
	if j.Settings.LogURL != "" {
		return j.Settings.LogURL
	}
	return j.Run.LogURL()
}
