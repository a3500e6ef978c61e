// Package demo runs the action end to end on one machine: an emulated GitHub Deployments API,
// the action's real stages driven the way the runner drives them in a matrix of jobs, and a
// Checkly-style webhook consumer that verifies every delivery. It is the README's first command.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// DefaultEnvironments is the matrix the demo runs when none is given.
func DefaultEnvironments() []string { return []string{"staging", "production", "eu"} }

// The run the jobs pretend to belong to: fixed so the demo's output is reproducible.
const (
	serverURL   = "https://github.com"
	runID       = "1658821493"
	runAttempt  = "1"
	checkRunID0 = 29871340001 // job.check_run_id of the first leg; the others follow
	demoToken   = "ghs_demoJobToken0000000000000000000000"
	hookSecret  = "It's a Secret to Everybody"
	stepID      = "deployment" // the action step's id: steps.deployment.outputs.*
)

// Config is what to run.
type Config struct {
	Action       *actionsim.Action   // the parsed action.yml
	Entry        actionsim.EntryFunc // the binary's entry point (app.Run)
	Environments []string            // one job per environment; DefaultEnvironments() when empty
	Fail         string              // environment whose deploy step fails; "" for none
	Timeout      time.Duration       // for the whole run; 30 s when zero
	Scenes       []Scene             // played after the matrix, in order; see Scenes
}

// Leg is one job of the matrix.
type Leg struct {
	Environment string            `json:"environment"`
	CheckRunID  int64             `json:"check_run_id"`
	JobURL      string            `json:"job_url"`
	JobStatus   string            `json:"job_status"`
	DeployStep  string            `json:"deploy_step"`            // outcome of the user's deploy step
	Ran         []string          `json:"stages_ran"`             // the action's stages that ran
	Outputs     map[string]string `json:"outputs"`                // steps.deployment.outputs (from main)
	StageErrors map[string]string `json:"stage_errors,omitempty"` // why an action stage failed
	Warnings    []string          `json:"warnings,omitempty"`     // ::warning:: and ::error:: from the stages
	// Deployments are the emulator's deployments of this environment (one is expected).
	Deployments []emulator.Deployment `json:"deployments"`
	WantFinal   string                `json:"want_final_state"`
}

// Report is everything the demo observed.
type Report struct {
	APIURL       string        `json:"api_url"`
	WebhookURL   string        `json:"webhook_url"`
	Repository   string        `json:"repository"`
	Ref          string        `json:"ref"`
	SHA          string        `json:"sha"`
	RunID        string        `json:"run_id"`
	RunAttempt   string        `json:"run_attempt"`
	Fail         string        `json:"fail,omitempty"`
	Legs         []Leg         `json:"jobs"`   // sorted by environment
	Events       []Event       `json:"events"` // sorted by environment, then arrival
	Deliveries   int           `json:"deliveries"`
	ForgedStatus int           `json:"forged_delivery_status"` // what the consumer answered a forged delivery
	Scenes       []SceneReport `json:"scenes,omitempty"`
	Problems     []string      `json:"problems"`
	Elapsed      time.Duration `json:"elapsed_ns"`
}

// OK reports whether everything behaved as a user would expect.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Run starts the emulator and the webhook consumer, runs one job per environment in parallel
// and checks what happened. The error is for a demo that could not run at all; a run that went
// wrong is a Report with Problems.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	start := time.Now()
	if cfg.Action == nil || cfg.Entry == nil {
		return nil, errors.New("demo: Config needs an Action and an Entry")
	}
	envs, err := normalize(cfg.Environments)
	if err != nil {
		return nil, err
	}
	if cfg.Fail != "" && !slices.Contains(envs, cfg.Fail) {
		return nil, fmt.Errorf("demo: --fail %s: not one of the environments (%s)", cfg.Fail, strings.Join(envs, ", "))
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	seed := emulator.DefaultRepo()
	emu := emulator.New(emulator.Config{Tokens: map[string]emulator.Permissions{
		// The command scene also reads the pull request and its checks, and comments and reacts.
		demoToken: {DeploymentsWrite: true, DeploymentsRead: true, Administration: true, Contents: emulator.AccessRead,
			Checks: emulator.AccessRead, Statuses: emulator.AccessRead, PullRequests: emulator.AccessWrite, Issues: emulator.AccessWrite},
	}})
	emu.AddRepo(seed)
	if err := emu.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer emu.Close()
	hooks, err := startConsumer(hookSecret)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer hooks.close()
	emu.AddHook(hooks.URL(), hookSecret, "deployment", "deployment_status")

	rep := &Report{
		APIURL: emu.URL(), WebhookURL: hooks.URL(), Repository: seed.Owner + "/" + seed.Name,
		Ref: seed.DefaultBranch, SHA: seed.Branches[seed.DefaultBranch], RunID: runID, RunAttempt: runAttempt,
		Fail: cfg.Fail, Legs: make([]Leg, len(envs)),
	}

	// The matrix's jobs run at the same time, as they would on hosted runners.
	var wg sync.WaitGroup
	errs := make([]error, len(envs))
	for i, env := range envs {
		wg.Go(func() { rep.Legs[i], errs[i] = runLeg(ctx, cfg, rep, i, env) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	if err := emu.WaitDeliveries(ctx); err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("webhook deliveries did not finish: %v", err))
	}
	rep.ForgedStatus = sendForged(ctx, hooks.URL())
	deliveries := emu.Deliveries()
	rep.Deliveries = len(deliveries)
	for _, d := range deliveries {
		if d.Status < 200 || d.Status > 299 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("webhook %s %s was not accepted by the consumer: status %d %s", d.Event, d.ID, d.Status, d.Err))
		}
	}
	all := emu.Deployments(seed.Owner, seed.Name)
	for i := range rep.Legs {
		for _, d := range all {
			if d.Environment == rep.Legs[i].Environment {
				rep.Legs[i].Deployments = append(rep.Legs[i].Deployments, d)
			}
		}
	}
	events, rejected := hooks.snapshot()
	sort.SliceStable(events, func(a, b int) bool {
		if events[a].Environment != events[b].Environment {
			return events[a].Environment < events[b].Environment
		}
		return events[a].seq < events[b].seq
	})
	rep.Events = events
	if rep.ForgedStatus != http.StatusUnauthorized {
		rep.Problems = append(rep.Problems, fmt.Sprintf("a delivery signed with the wrong secret got %d from the consumer, want 401", rep.ForgedStatus))
	}
	if rejected != 1 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the consumer rejected %d deliveries, want only the forged one", rejected))
	}
	rep.Problems = append(rep.Problems, check(rep)...)

	st := &Stage{Config: cfg, Emulator: emu, Report: rep}
	for _, sc := range cfg.Scenes {
		sr, err := sc.Play(ctx, st)
		if err != nil {
			return nil, fmt.Errorf("demo: scene %s: %w", sc.Name, err)
		}
		sr.Name, sr.Title = sc.Name, sc.Title
		rep.Scenes = append(rep.Scenes, *sr)
		for _, p := range sr.Problems {
			rep.Problems = append(rep.Problems, sc.Name+": "+p)
		}
	}
	// The scenes' deployments are delivered too; let that finish before the emulator closes.
	_ = emu.WaitDeliveries(ctx)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

func normalize(envs []string) ([]string, error) {
	if len(envs) == 0 {
		envs = DefaultEnvironments()
	}
	var out []string
	for _, e := range envs {
		e = strings.TrimSpace(e)
		if e == "" || slices.Contains(out, e) {
			continue
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New("demo: no environments")
	}
	sort.Strings(out)
	return out, nil
}

// runLeg runs one matrix job:
//
//	steps:
//	  - id: deploy
//	    run: ./deploy.sh ${{ matrix.environment }}   # writes url=... to GITHUB_OUTPUT
//	  - uses: deployment-action/deployment-action@v1 # pre at job set-up, main here, post at clean-up
//	    id: deployment
//	    with:
//	      environment: ${{ matrix.environment }}
//	      environment-url: ${{ steps.deploy.outputs.url }} # empty in pre; post re-reads it
//
// A failing deploy step skips main (success() is false) but not post, which marks the
// deployment failed from job.status.
func runLeg(ctx context.Context, cfg Config, rep *Report, i int, env string) (Leg, error) {
	checkRun := int64(checkRunID0 + i)
	leg := Leg{
		Environment: env, CheckRunID: checkRun, WantFinal: "success",
		JobURL: fmt.Sprintf("%s/%s/actions/runs/%s/job/%d", serverURL, rep.Repository, runID, checkRun),
	}
	if env == cfg.Fail {
		leg.WantFinal = "failure"
	}
	job := newJob(cfg, rep, checkRun, map[string]string{
		"environment":     "${{ matrix.environment }}",
		"environment-url": "${{ steps.deploy.outputs.url }}",
	})
	job.Contexts.Matrix = map[string]string{"environment": env}
	job.StepsBefore = []actionsim.Step{{ID: "deploy", Run: func(ctx context.Context, s *actionsim.StepRun) error {
		if env == cfg.Fail {
			return fmt.Errorf("deploy to %s failed (--fail %s)", env, env)
		}
		s.SetOutput("url", "https://"+env+".example.com")
		return nil
	}}}
	res, err := job.Run(ctx)
	if err != nil {
		return leg, fmt.Errorf("job %s: %w", env, err)
	}
	leg.JobStatus, leg.Ran, leg.Outputs = res.JobStatus, res.Ran, res.Outputs
	leg.DeployStep = res.Steps["deploy"].Outcome
	for stage, err := range res.StageErrors {
		if leg.StageErrors == nil {
			leg.StageErrors = map[string]string{}
		}
		leg.StageErrors[stage] = err.Error()
	}
	for _, a := range res.Annotations {
		if a.Level == "warning" || a.Level == "error" {
			leg.Warnings = append(leg.Warnings, fmt.Sprintf("%s %s: %s", a.Stage, a.Level, a.Message))
		}
	}
	return leg, nil
}

// newJob is a job of the demo's run (a push to the default branch) with the action step's with:.
func newJob(cfg Config, rep *Report, checkRun int64, with map[string]string) *actionsim.Job {
	jobEnv := actionsim.DefaultEnv(rep.APIURL)
	owner, _, _ := strings.Cut(rep.Repository, "/")
	for k, v := range map[string]string{
		"GITHUB_REPOSITORY": rep.Repository, "GITHUB_REPOSITORY_OWNER": owner, "GITHUB_SHA": rep.SHA,
		"GITHUB_REF": "refs/heads/" + rep.Ref, "GITHUB_REF_NAME": rep.Ref, "GITHUB_SERVER_URL": serverURL,
		"GITHUB_RUN_ID": runID, "GITHUB_RUN_ATTEMPT": runAttempt, "GITHUB_JOB": "deploy", "GITHUB_WORKFLOW": "Deploy",
		"GITHUB_WORKFLOW_REF": rep.Repository + "/.github/workflows/deploy.yml@refs/heads/" + rep.Ref,
		"GITHUB_WORKFLOW_SHA": rep.SHA,
	} {
		jobEnv[k] = v
	}
	return &actionsim.Job{
		Action: cfg.Action, Entry: cfg.Entry, ID: stepID, With: with, Env: jobEnv,
		Contexts: actionsim.Contexts{Token: demoToken, CheckRunID: strconv.FormatInt(checkRun, 10)},
		Event: map[string]any{
			"ref": "refs/heads/" + rep.Ref, "after": rep.SHA,
			"repository": map[string]any{"full_name": rep.Repository, "default_branch": rep.Ref},
		},
	}
}

// sendForged posts a deployment_status signed with the wrong secret, as an attacker who knows
// the URL would: the consumer must refuse it.
func sendForged(ctx context.Context, url string) int {
	body := `{"action":"created","deployment_status":{"state":"success","environment":"production","environment_url":"https://evil.example"},"deployment":{"id":1,"environment":"production"}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("X-GitHub-Event", "deployment_status")
	req.Header.Set("X-Hub-Signature-256", emulator.Sign("not the secret", []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// check compares what happened with what a user of the action expects.
func check(rep *Report) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	byEnv := map[string][]Event{}
	for _, ev := range rep.Events {
		byEnv[ev.Environment] = append(byEnv[ev.Environment], ev)
		if !ev.Verified {
			add("%s: %s event accepted without a verified signature", ev.Environment, ev.Event)
		}
	}
	wantChecks := 0
	for _, leg := range rep.Legs {
		env := leg.Environment
		wantJob := "success"
		if leg.WantFinal == "failure" {
			wantJob = "failure"
		}
		if leg.JobStatus != wantJob {
			add("%s: job ended %s, want %s", env, leg.JobStatus, wantJob)
		}
		for _, stage := range []string{actionsim.StagePre, actionsim.StageMain, actionsim.StagePost} {
			if msg, ok := leg.StageErrors[stage]; ok {
				add("%s: the action's %s stage failed: %s", env, stage, msg)
			}
		}
		if len(leg.Deployments) != 1 {
			add("%s: %d deployments, want exactly 1", env, len(leg.Deployments))
			continue
		}
		d := leg.Deployments[0]
		if d.Ref != rep.Ref || d.SHA != rep.SHA {
			add("%s: deployment of %s@%s, want %s@%s", env, d.Ref, d.SHA, rep.Ref, rep.SHA)
		}
		var states []string
		for _, s := range d.Statuses {
			states = append(states, s.State)
			if s.LogURL != leg.JobURL {
				add("%s: %s status links to %q, want the job's page %s", env, s.State, s.LogURL, leg.JobURL)
			}
		}
		want := []string{"in_progress", leg.WantFinal}
		if !slices.Equal(states, want) {
			add("%s: statuses %s, want %s", env, strings.Join(states, " -> "), strings.Join(want, " -> "))
		} else if last := d.Statuses[len(d.Statuses)-1]; leg.WantFinal == "success" && last.EnvironmentURL != "https://"+env+".example.com" {
			add("%s: final status has environment_url %q, want the deploy step's https://%s.example.com", env, last.EnvironmentURL, env)
		}
		if leg.WantFinal == "success" {
			// main ran after the deploy step: its outputs name this deployment.
			if leg.Outputs["deployment-id"] != strconv.FormatInt(d.ID, 10) || leg.Outputs["environment"] != env {
				add("%s: outputs %v do not name deployment %d of %s", env, leg.Outputs, d.ID, env)
			}
			if env == "production" {
				wantChecks++
			}
		}
		// The consumer must have heard of the deployment and every status in order (GitHub sends
		// no webhook for inactive statuses).
		wantEvents := []string{"deployment"}
		for _, s := range d.Statuses {
			if s.State != "inactive" {
				wantEvents = append(wantEvents, "deployment_status "+s.State)
			}
		}
		var got []string
		for _, ev := range byEnv[env] {
			if ev.DeploymentID != d.ID {
				add("%s: %s event names deployment %d, want %d", env, ev.Event, ev.DeploymentID, d.ID)
			}
			got = append(got, strings.TrimSpace(ev.Event+" "+ev.State))
		}
		if !slices.Equal(got, wantEvents) {
			add("%s: webhooks received [%s], want [%s]", env, strings.Join(got, ", "), strings.Join(wantEvents, ", "))
		}
	}
	checks := 0
	for _, ev := range rep.Events {
		if ev.RunsChecks {
			checks++
		}
	}
	if checks != wantChecks {
		add("Checkly would run checks %d times, want %d", checks, wantChecks)
	}
	return p
}
