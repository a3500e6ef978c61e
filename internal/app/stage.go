package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/actions"
	"github.com/deployment-action/deployment-action/internal/config"
	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/explain"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/lock"
)

// Budgets. A call may wait out GitHub's secondary rate limit, whose Retry-After is often 60 s
// (a matrix of many legs meets it), so a stage allows a few minutes per call. Post of a
// cancelled job runs inside the runner's cancel window (5 min for all post steps): it keeps to a
// minute. After a signal, a short grace lets the request in flight finish before the runner's
// SIGTERM (7.5 s after SIGINT).
const (
	callBudget      = 3 * time.Minute
	cancelledBudget = 60 * time.Second
	signalGrace     = 5 * time.Second
)

// RunStage runs one action stage with the runner's environment. Its error is explained in the
// action's words (inputs named as YAML), printed once as an error annotation and returned.
func RunStage(ctx context.Context, stage deploy.Stage, getenv func(string) string, stdout io.Writer) error {
	return RunStageWith(ctx, deploy.Modes(), stage, getenv, stdout)
}

// RunStageWith is RunStage with the given mode table (RunStage's is deploy.Modes()).
func RunStageWith(ctx context.Context, modes deploy.Table, stage deploy.Stage, getenv func(string) string, stdout io.Writer) error {
	r := actions.New(getenv, stdout)
	err := runStage(ctx, modes, stage, getenv, r)
	if err != nil {
		err = &explain.Explained{Msg: explain.Error(actionWords{}, err), Err: err}
		r.Errorf("%s", err.Error())
	}
	return err
}

// runStage loads the configuration (the only read of the environment), validates it for the
// stage, runs the stage and writes what it did.
func runStage(ctx context.Context, modes deploy.Table, stage deploy.Stage, getenv func(string) string, r *actions.Runner) error {
	cfg, err := config.Load(ctx, config.ActionInputs(getenv), config.EnvLookuper(getenv))
	if err != nil {
		return err
	}
	cfg.Modes = modes
	event, err := readEvent(cfg.Env.EventPath)
	if err != nil {
		return err
	}
	s, done, err := settings(stage, cfg, event, r)
	if done || err != nil {
		return err
	}
	// The runner masks github.token and secrets by itself, but a token can also arrive through
	// another step's output: register it so the log never shows it either way.
	r.Mask(s.Token.Value())
	ref := s.Ref
	if s.Mode.Creates && ref == "" {
		if ref = defaultRef(cfg.Env, event, s.Owner+"/"+s.Repo); ref == "" {
			return config.Problems{{Input: "ref", Missing: true, Reason: "is empty and the run has no ref to default to", Fix: "set it to a branch, tag or commit SHA"}}
		}
	}

	if stage == deploy.StagePost {
		// Post must finish the deployment even after a cancellation: detach from the signal, but
		// stop soon after one so the runner does not have to kill us.
		var cancel context.CancelFunc
		parent := ctx
		ctx, cancel = context.WithTimeout(context.WithoutCancel(parent), budget(stage, s))
		defer cancel()
		stop := context.AfterFunc(parent, func() { time.AfterFunc(signalGrace, cancel) })
		defer stop()
	}

	api, err := deploy.NewClient(s, deploy.ClientOptions{APIURL: cfg.Env.APIURL, Logf: r.Debugf,
		Notef: r.Infof, // one line per retry reaches the job log
		Retry: ghapi.RetryPolicy{MaxElapsed: budget(stage, s)}})
	if err != nil {
		return err
	}
	d := &deploy.Deployer{API: api, Owner: s.Owner, Repo: s.Repo, Modes: modes, Logf: r.Debugf, Notef: r.Infof, Poll: cfg.Env.Poll(), Texts: commentTexts{},
		Locks: lock.New(api, s.Owner, s.Repo, nil)}
	run := deploy.Run{ServerURL: cfg.Env.ServerURL, Repository: cfg.Env.Repository, RunID: cfg.Env.RunID,
		RunAttempt: cfg.Env.RunAttempt, Job: cfg.Env.Job, CheckRunID: s.JobCheckRunID, TriggeringActor: cfg.Env.TriggeringActor}
	sha := s.SHA
	if sha == "" {
		sha = event.headSHA(cfg.Env)
	}
	rep, err := d.Stage(ctx, deploy.Job{Stage: stage, Settings: s, Run: run, Ref: ref, SHA: sha, State: r, Comment: event.comment(cfg.Env.EventName)})
	if rep != nil {
		if werr := report(stage, rep, err, r); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// settings validates the inputs for the stage. done: the stage has nothing to do (pre of a mode
// without one, or with an input that is not known at job start; post with nothing to finish).
func settings(stage deploy.Stage, cfg *config.Config, event *event, r *actions.Runner) (s *deploy.Settings, done bool, err error) {
	switch stage {
	case deploy.StagePre:
		in := cfg.Inputs
		m, known := cfg.Modes.Lookup(strings.ToLower(strings.TrimSpace(in.Mode)))
		known = known && !cfg.Unset("mode")
		switch {
		case known && !m.Acts(deploy.StagePre):
			// Not validated here either: its inputs may come from earlier steps, empty now.
			r.Debugf("pre: mode %s does nothing in pre", m.Name)
			return nil, true, nil
		case strings.EqualFold(strings.TrimSpace(in.Enabled), "false"):
			r.Debugf("pre: enabled is false")
			return nil, true, nil
		case known || cfg.Unset("mode"):
			if why := notKnownAtJobStart(cfg, m, known); why != "" {
				// Not an error: main acts with the values it sees.
				r.Debugf("pre: %s", why)
				return nil, true, r.SaveState(deploy.KeyDeferred, why)
			}
		}
	case deploy.StagePost:
		if r.State(deploy.KeyFinish) == "" {
			// Nothing this job started ends with it (another mode, pre stopped before a request,
			// a skipped job): nothing to finish, and any input problem was reported already.
			r.Debugf("post: nothing was started in this job for post to finish")
			return nil, true, nil
		}
		repo := deploy.SavedRepository(r)
		if repo == "" {
			repo = cmp.Or(cfg.Inputs.Repository, cfg.Env.Repository)
		}
		s, dropped, err := cfg.ValidateFinish(repo)
		if err != nil {
			return nil, false, deploy.UnfinishedFrom(r, err)
		}
		if len(dropped) > 0 {
			r.Warningf("finishing the deployment without the inputs that are invalid at job end: %s", explain.Problems(actionWords{}, dropped))
		}
		return s, false, nil
	}
	s, err = cfg.Validate(event.deploymentID())
	return s, false, err
}

// report writes what the stage did: warnings and notes in the log, outputs and the summary.
func report(stage deploy.Stage, rep *deploy.Report, err error, r *actions.Runner) error {
	for _, w := range rep.Warnings {
		r.Warningf("%s", w)
	}
	if rp := rep.Replaced; rp != nil {
		r.Warningf("%s", replacedWarning(rp, rep))
	}
	if rep.Skipped != "" {
		r.Debugf("%s", rep.Skipped)
	}
	if err == nil && stage == deploy.StagePost && rep.DeploymentID != 0 && !rep.Retired {
		// One annotation per job, on the run's page: where the deployment ended up.
		r.Noticef("Deployment %d to %s: %s", rep.DeploymentID, rep.Environment, rep.State)
	}
	return writeResults(stage, rep, r)
}

// notKnownAtJobStart says why pre must leave the create to main, or "". Pre runs at job start,
// where values from earlier steps (steps.*) are empty: an input that is empty although action.yml
// gives it a default (token, mode, enabled, ...), or an empty environment, can only be such a
// value, and acting on it would deploy with the wrong token, mode or environment. Of a known
// mode, only the inputs it reads count (command mode has environments, not environment).
func notKnownAtJobStart(cfg *config.Config, m deploy.Mode, known bool) string {
	var empty []string
	for _, in := range config.DeferrableInputs() {
		if known && !m.Reads(in) && !slices.Contains([]string{"token", "repository", "mode", "enabled"}, in) {
			continue
		}
		if cfg.Unset(in) {
			empty = append(empty, in)
		}
	}
	if len(empty) == 0 {
		return ""
	}
	return strings.Join(empty, ", ") + " had no value at job start"
}

// replacedWarning explains why main replaced pre's deployment.
func replacedWarning(rp *deploy.Replaced, rep *deploy.Report) string {
	if len(rp.Changes) == 0 {
		return fmt.Sprintf("Deployment %d, created at job start, was removed: %s.", rp.ID, rp.Why)
	}
	names := make([]string, len(rp.Changes))
	for i, c := range rp.Changes {
		names[i] = "`" + c.Input + "`"
	}
	next := "This step created the deployment with its own inputs instead."
	if rep.DeploymentID != 0 {
		next = fmt.Sprintf("This step created deployment %d with its own inputs instead.", rep.DeploymentID)
	}
	return fmt.Sprintf("Deployment %d, created at job start, was removed because %s changed after job start (%s): pre runs before every step, where values from earlier steps are still empty. %s "+
		"Pass values that are known at job start, or leave `environment` to an earlier step's output so that the deployment is created at this step.", rp.ID, strings.Join(names, ", "), rp.Why, next)
}

// budget is how long one call of this stage may keep retrying.
func budget(stage deploy.Stage, s *deploy.Settings) time.Duration {
	if stage == deploy.StagePost && s.JobStatus == "cancelled" {
		return cancelledBudget
	}
	return callBudget
}

// writeResults writes outputs (main only: the runner drops pre's and post's) and the summary.
func writeResults(stage deploy.Stage, rep *deploy.Report, r *actions.Runner) error {
	if rep.Command != nil && rep.DeploymentID == 0 {
		// command mode without a deployment (no command, or refused): the outputs say so.
		if stage != deploy.StageMain {
			return nil
		}
		return commandOutputs(rep, r)
	}
	if rep.Skipped != "" && rep.DeploymentID == 0 && rep.Cleanup == nil {
		return nil
	}
	var errs []error
	if stage == deploy.StageMain {
		outputs := map[string]string{"environment": rep.Environment, "state": rep.State, "environment-url": rep.EnvironmentURL, "log-url": rep.LogURL}
		for name, v := range map[string]string{"sha": rep.SHA, "ref": rep.Ref, "creator": rep.Creator} {
			if v != "" {
				outputs[name] = v
			}
		}
		if rep.DeploymentID != 0 {
			outputs["deployment-id"] = strconv.FormatInt(rep.DeploymentID, 10)
			outputs["deployment-url"] = rep.DeploymentURL
		}
		if !rep.CreatedAt.IsZero() {
			outputs["created-at"] = rep.CreatedAt.UTC().Format(time.RFC3339)
		}
		if rep.StatusID != 0 {
			outputs["status-id"] = strconv.FormatInt(rep.StatusID, 10)
		}
		if c := rep.Command; c != nil {
			outputs["triggered"], outputs["pr-number"], outputs["actor"] = "true", strconv.Itoa(c.PR), c.Actor
		}
		for _, name := range outputNames {
			if v, ok := outputs[name]; ok {
				errs = append(errs, r.SetOutput(name, v))
			}
		}
	}
	if stage != deploy.StagePre {
		errs = append(errs, r.AddSummary(Summary(stage, rep)))
	}
	return errors.Join(errs...)
}

// outputNames is the order outputs are written in; the same names as action.yml's outputs.
var outputNames = []string{"deployment-id", "deployment-url", "environment-url", "log-url", "status-id", "environment", "state",
	"sha", "ref", "creator", "created-at", "triggered", "pr-number", "actor"}

// commandOutputs are command mode's outputs when no deployment exists: triggered, and who asked
// what on which pull request when the comment was a command (refused).
func commandOutputs(rep *deploy.Report, r *actions.Runner) error {
	c := rep.Command
	if !c.Triggered {
		return r.SetOutput("triggered", "false")
	}
	errs := []error{r.SetOutput("triggered", "true"), r.SetOutput("pr-number", strconv.Itoa(c.PR)), r.SetOutput("actor", c.Actor)}
	if c.Environment != "" {
		errs = append(errs, r.SetOutput("environment", c.Environment))
	}
	return errors.Join(errs...)
}

// event is the subset of the triggering event's payload the action uses.
type event struct {
	Action string `json:"action"`
	Issue  *struct {
		Number      int       `json:"number"`
		PullRequest *struct{} `json:"pull_request"`
	} `json:"issue"`
	Comment *struct {
		ID        int64     `json:"id"`
		Body      string    `json:"body"`
		HTMLURL   string    `json:"html_url"`
		CreatedAt time.Time `json:"created_at"`
		User      struct {
			Login string `json:"login"`
		} `json:"user"`
	} `json:"comment"`
	Deployment *struct {
		ID  int64  `json:"id"`
		Ref string `json:"ref"`
	} `json:"deployment"`
	PullRequest *struct {
		Head struct {
			Ref  string `json:"ref"`
			SHA  string `json:"sha"`
			Repo *struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
	} `json:"pull_request"`
}

// headSHA is the commit a run is about: the pull request's head for pull_request events (GITHUB_SHA
// is then the test merge commit), else GITHUB_SHA.
func (e *event) headSHA(env config.Env) string {
	if e.PullRequest != nil && e.PullRequest.Head.SHA != "" {
		return e.PullRequest.Head.SHA
	}
	return env.SHA
}

// comment is the comment of an issue_comment event, for command mode; for other events only
// the event's name (command mode refuses them, naming the event).
func (e *event) comment(name string) *deploy.CommentEvent {
	if name != "issue_comment" || e.Issue == nil || e.Comment == nil {
		return &deploy.CommentEvent{Event: name}
	}
	c := e.Comment
	return &deploy.CommentEvent{Event: name, Action: e.Action, Number: e.Issue.Number, PullRequest: e.Issue.PullRequest != nil,
		CommentID: c.ID, CommentURL: c.HTMLURL, Body: c.Body, Author: c.User.Login, CreatedAt: c.CreatedAt}
}

func (e *event) deploymentID() int64 {
	if e == nil || e.Deployment == nil {
		return 0
	}
	return e.Deployment.ID
}

func readEvent(path string) (*event, error) {
	var e event
	if path == "" {
		return &e, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &e, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the event payload: %w", err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("reading the event payload %s: %w", path, err)
	}
	return &e, nil
}

// defaultRef is what to deploy when `ref` is not set: for pull requests the PR's head branch, so
// the deployment shows on the PR (its head SHA when the branch lives in a fork); for a deployment
// event, that deployment's ref; otherwise the ref that triggered the run, else its SHA.
func defaultRef(rn config.Env, e *event, repo string) string {
	if pr := e.PullRequest; pr != nil {
		if pr.Head.Repo != nil && !strings.EqualFold(pr.Head.Repo.FullName, repo) && pr.Head.SHA != "" {
			return pr.Head.SHA
		}
		if pr.Head.Ref != "" {
			return pr.Head.Ref
		}
	}
	if e.Deployment != nil && e.Deployment.Ref != "" {
		return e.Deployment.Ref
	}
	if strings.HasPrefix(rn.Ref, "refs/pull/") && rn.HeadRef != "" {
		return rn.HeadRef
	}
	for _, p := range []string{"refs/heads/", "refs/tags/"} {
		if strings.HasPrefix(rn.Ref, p) {
			return strings.TrimPrefix(rn.Ref, p)
		}
	}
	if rn.Ref != "" && !strings.HasPrefix(rn.Ref, "refs/") {
		return rn.Ref
	}
	return rn.SHA
}
