package actionsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// EntryFunc is the action binary's entry point (internal/app.Run), taken as a parameter so this
// package does not import the app it tests.
type EntryFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Stage names, as used in Result maps.
const (
	StagePre  = "pre"
	StageMain = "main"
	StagePost = "post"
)

// SummaryLimit is the runner's per-step cap on GITHUB_STEP_SUMMARY: above it the summary is
// not uploaded at all and the step logs an error (the step itself does not fail).
const SummaryLimit = 1024 * 1024

// Contexts are the expression contexts a job provides besides those the simulator keeps live
// (job.status, steps, env).
type Contexts struct {
	Token      string            // github.token; the runner masks it in the log automatically
	CheckRunID string            // job.check_run_id; "" as on GHES
	GitHub     map[string]any    // extra or overriding github.* values (github.X otherwise comes from GITHUB_X in Env)
	Matrix     map[string]string // matrix.*
	Secrets    map[string]string // secrets.*; masked in the log automatically
	Vars       map[string]string // vars.*
}

// Step is a workflow step of the job other than the action (for example "deploy the app").
type Step struct {
	ID              string
	If              string // bare condition; "success()" when empty
	ContinueOnError bool
	Run             func(ctx context.Context, s *StepRun) error // an error fails the step
}

// StepRun is what a Step can do while it runs.
type StepRun struct {
	jr      *jobRun
	outputs map[string]string
}

// SetOutput sets steps.<id>.outputs.<name>, visible to later with: expressions (post included).
func (s *StepRun) SetOutput(name, value string) { s.outputs[name] = value }

// Cancel cancels the workflow run, as the Cancel button does: job.status becomes cancelled, the
// running stage's context is cancelled, later steps are skipped and post still runs.
func (s *StepRun) Cancel() {
	// Mark the job cancelled before cancelling the context, so nothing in between can read
	// job.status "success" (a cancelled parent ctx is picked up by syncCancelLocked).
	s.jr.mu.Lock()
	s.jr.cancelled, s.jr.status = true, "cancelled"
	s.jr.mu.Unlock()
	s.jr.cancelJob()
}

// StageRun is one stage as the runner starts it, for a Job.Exec that runs it some other way than
// in-process: in a container (the runner's `docker run`) or as a child process.
type StageRun struct {
	Stage      string            // StagePre, StageMain or StagePost
	Entrypoint string            // the stage's entrypoint as action.yml names it, e.g. /action/pre
	Args       []string          // runs.args, evaluated against this stage's inputs
	Env        map[string]string // the stage's whole environment; its paths are host paths under Mounts
	// Mounts maps each directory the runner mounts into an action's container (Mount*) to the
	// host directory that stands for it in this job.
	Mounts         map[string]string
	Stdout, Stderr io.Writer
}

// The directories the runner mounts into a container action, by their path in the container.
const (
	MountWorkspace    = "/github/workspace" // GITHUB_WORKSPACE, and the container's working directory
	MountHome         = "/github/home"      // HOME
	MountWorkflow     = "/github/workflow"  // event.json (GITHUB_EVENT_PATH)
	MountFileCommands = "/github/file_commands"
	MountRunnerTemp   = "/github/runner_temp" // RUNNER_TEMP
)

// hostDirs names each mounted directory inside the job's temporary directory.
var hostDirs = map[string]string{
	MountWorkspace: "workspace", MountHome: "home", MountWorkflow: "workflow",
	MountFileCommands: "file_commands", MountRunnerTemp: "runner_temp",
}

// ContainerEnv is Env as the container sees it: every value that is a path under a mounted host
// directory becomes the same path under the directory's container path.
func (s StageRun) ContainerEnv() map[string]string {
	out := make(map[string]string, len(s.Env))
	for k, v := range s.Env {
		for c, h := range s.Mounts {
			if v == h || strings.HasPrefix(v, h+string(filepath.Separator)) {
				v = c + filepath.ToSlash(strings.TrimPrefix(v, h))
				break
			}
		}
		out[k] = v
	}
	return out
}

// Job is one workflow job that uses the action once, with optional steps around its main stage.
type Job struct {
	Action *Action
	Entry  EntryFunc
	// Exec, when set, runs each stage instead of Entry (for example in the action's container).
	// It is called on the goroutine that called Run, one stage after the other; its error fails
	// the stage as Entry's does.
	Exec  func(ctx context.Context, s StageRun) error
	ID    string // the action step's id, for steps.<ID>.outputs; "action" when empty
	Local bool   // uses: ./ — the runner does not run pre for local actions, it only warns

	With     map[string]string // the step's with:, re-evaluated in every stage
	Env      map[string]string // the job's environment: GITHUB_*, RUNNER_*, workflow env (see DefaultEnv)
	Contexts Contexts
	Event    map[string]any // written to GITHUB_EVENT_PATH

	StepsBefore []Step // run after pre (which runs at job set-up) and before main
	StepsAfter  []Step // run after main, before post

	MainIf          string        // the action step's if:, which applies to main only; "success()" when empty
	ContinueOnError bool          // the action step's continue-on-error (applies to every stage)
	Timeout         time.Duration // the action step's timeout-minutes, applied to each stage; none when zero
	CancelTimeout   time.Duration // how long post may run after a cancellation; 5 min when zero
}

// Annotation is a ::debug/notice/warning/error:: command (or a runner-side message) from a stage.
type Annotation struct {
	Stage      string
	Level      string // debug, notice, warning, error
	Message    string
	Properties map[string]string // file, line, title, ...
}

// StepResult is what steps.<id> holds after the job.
type StepResult struct {
	Outcome    string // success, failure, cancelled, skipped
	Conclusion string // outcome after continue-on-error
	Outputs    map[string]string
}

// Result is everything the runner kept from the job.
type Result struct {
	Ran         []string                     // stages that ran, in order
	Outputs     map[string]string            // from main only: pre's and post's are dropped, as the runner does
	State       map[string]string            // final GITHUB_STATE store
	Env         map[string]string            // GITHUB_ENV exports (from the action and steps)
	Path        []string                     // GITHUB_PATH additions (not applied to container actions)
	Summary     string                       // uploaded summaries of all stages, in stage order
	Summaries   map[string]string            // uploaded summary per stage
	Stdout      map[string]string            // raw stdout per stage
	Stderr      map[string]string            // raw stderr per stage
	Log         map[string]string            // per stage, as shown in the job log: commands consumed, masks applied
	StageEnv    map[string]map[string]string // the environment each stage got
	StageErrors map[string]error             // why a stage failed (entry error, panic, bad file command)
	Annotations []Annotation                 // from ::debug/notice/warning/error:: in stdout and stderr
	Masks       []string                     // values the action registered with ::add-mask::
	Commands    map[string][]Command         // every command per stage
	RunnerLog   []string                     // the runner's own messages (warnings it would print)
	Steps       map[string]StepResult        // every step by id, the action included
	JobStatus   string                       // success, failure or cancelled
}

// Failed reports whether any stage failed.
func (r *Result) Failed() bool { return len(r.StageErrors) > 0 }

// AnnotationsAt returns the annotations of one level (error, warning, notice, debug).
func (r *Result) AnnotationsAt(level string) []Annotation {
	var out []Annotation
	for _, a := range r.Annotations {
		if a.Level == level {
			out = append(out, a)
		}
	}
	return out
}

// DefaultEnv is a plausible github.com job environment for owner/repo "octo-org/octo-repo" on a
// push to main, with the API at apiURL. Tests change what they need.
func DefaultEnv(apiURL string) map[string]string {
	apiURL = strings.TrimSuffix(apiURL, "/")
	if apiURL == "" {
		apiURL = "https://api.github.com"
	}
	return map[string]string{
		"GITHUB_ACTIONS":             "true",
		"CI":                         "true",
		"GITHUB_API_URL":             apiURL,
		"GITHUB_GRAPHQL_URL":         apiURL + "/graphql",
		"GITHUB_SERVER_URL":          "https://github.com",
		"GITHUB_REPOSITORY":          "octo-org/octo-repo",
		"GITHUB_REPOSITORY_OWNER":    "octo-org",
		"GITHUB_REPOSITORY_ID":       "1296269",
		"GITHUB_REPOSITORY_OWNER_ID": "9919",
		"GITHUB_SHA":                 "ffac537e6cbbf934b08745a378932722df287a53",
		"GITHUB_REF":                 "refs/heads/main",
		"GITHUB_REF_NAME":            "main",
		"GITHUB_REF_TYPE":            "branch",
		"GITHUB_REF_PROTECTED":       "false",
		"GITHUB_HEAD_REF":            "",
		"GITHUB_BASE_REF":            "",
		"GITHUB_EVENT_NAME":          "push",
		"GITHUB_RUN_ID":              "1658821493",
		"GITHUB_RUN_NUMBER":          "42",
		"GITHUB_RUN_ATTEMPT":         "1",
		"GITHUB_JOB":                 "deploy",
		"GITHUB_WORKFLOW":            "CI",
		"GITHUB_WORKFLOW_REF":        "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main",
		"GITHUB_WORKFLOW_SHA":        "ffac537e6cbbf934b08745a378932722df287a53",
		"GITHUB_ACTOR":               "octocat",
		"GITHUB_ACTOR_ID":            "583231",
		"GITHUB_TRIGGERING_ACTOR":    "octocat",
		"GITHUB_RETENTION_DAYS":      "90",
		"RUNNER_OS":                  "Linux",
		"RUNNER_ARCH":                "X64",
		"RUNNER_NAME":                "GitHub Actions 2",
		"RUNNER_ENVIRONMENT":         "github-hosted",
	}
}

// githubKeys are the github.* properties the runner always defines (GitHubContext.cs allowlist
// plus token and event); anything else under github. is an error here.
var githubKeys = []string{
	"action", "action_path", "action_ref", "action_repository", "action_status", "actor", "actor_id",
	"api_url", "base_ref", "env", "event_name", "event_path", "graphql_url", "head_ref", "job", "output",
	"path", "ref_name", "ref_protected", "ref_type", "ref", "repository", "repository_id",
	"repository_owner", "repository_owner_id", "retention_days", "run_attempt", "run_id", "run_number",
	"server_url", "sha", "state", "step_summary", "triggering_actor", "workflow", "workflow_ref",
	"workflow_sha", "workspace", "repositoryurl", "secret_source",
}

// jobRun is the state of one Run.
type jobRun struct {
	job       *Job
	dir       string
	jobCtx    context.Context // done when the workflow run is cancelled
	cancelJob context.CancelFunc

	mu         sync.Mutex
	status     string
	cancelled  bool
	state      []Pair // case-insensitive keys, first spelling kept (the runner's dictionary)
	envExports map[string]string
	steps      map[string]StepResult
	masks      []string // every mask known to the runner (automatic and added)
	seq        int

	res *Result
}

// syncCancelLocked turns a cancelled job context into job.status "cancelled" at the moment
// anyone looks (checked synchronously, so no goroutine can race a stage's own view).
func (jr *jobRun) syncCancelLocked() {
	if !jr.cancelled && jr.jobCtx.Err() != nil {
		jr.cancelled = true
		jr.status = "cancelled"
	}
}

// fail records a failed step: the job fails unless it was cancelled, which wins.
func (jr *jobRun) fail() {
	jr.mu.Lock()
	defer jr.mu.Unlock()
	jr.syncCancelLocked()
	if jr.status == "success" {
		jr.status = "failure"
	}
}

// Run runs the job: pre (at set-up), StepsBefore, main, StepsAfter, then post. Cancelling ctx
// cancels the workflow run. The error is for a broken setup (bad expression, no entry), not for
// a failing stage, which shows in Result.StageErrors and JobStatus.
func (j *Job) Run(ctx context.Context) (*Result, error) {
	if j.Action == nil || (j.Entry == nil && j.Exec == nil) {
		return nil, errors.New("actionsim: Job needs an Action and an Entry or Exec")
	}
	dir, err := os.MkdirTemp("", "actionsim-*")
	if err != nil {
		return nil, fmt.Errorf("actionsim: temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	for _, d := range hostDirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("actionsim: %w", err)
		}
	}
	event := j.Event
	if event == nil {
		event = map[string]any{}
	}
	ev, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("actionsim: event: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "workflow", "event.json"), ev, 0o644); err != nil {
		return nil, fmt.Errorf("actionsim: event: %w", err)
	}

	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	jr := &jobRun{
		job: j, dir: dir, jobCtx: jobCtx, cancelJob: cancel, status: "success",
		envExports: map[string]string{}, steps: map[string]StepResult{},
		res: &Result{
			Outputs: map[string]string{}, State: map[string]string{}, Env: map[string]string{},
			Summaries: map[string]string{}, Stdout: map[string]string{}, Stderr: map[string]string{},
			Log: map[string]string{}, StageEnv: map[string]map[string]string{}, StageErrors: map[string]error{},
			Commands: map[string][]Command{}, Steps: map[string]StepResult{},
		},
	}
	// The runner masks secrets and the job token in the log without being asked.
	for _, s := range j.Contexts.Secrets {
		if strings.TrimSpace(s) != "" {
			jr.masks = append(jr.masks, s)
		}
	}
	if j.Contexts.Token != "" {
		jr.masks = append(jr.masks, j.Contexts.Token)
	}
	runs := j.Action.Runs
	postRegistered := false
	switch {
	case runs.PreEntrypoint == "":
	case j.Local:
		jr.res.RunnerLog = append(jr.res.RunnerLog, "`pre` execution is not supported for local action from './'")
	case jobCtx.Err() == nil:
		ok, err := jr.condition(runs.PreIf, StagePre)
		if err != nil {
			return nil, err
		}
		if ok {
			postRegistered = true
			if err := jr.runStage(jobCtx, StagePre, runs.PreEntrypoint); err != nil {
				return nil, err
			}
		}
	}

	if err := jr.runSteps(jobCtx, j.StepsBefore, "before"); err != nil {
		return nil, err
	}

	id := j.actionID()
	mainIf := j.MainIf
	if mainIf == "" {
		mainIf = "success()"
	}
	ok, err := jr.condition(mainIf, StageMain)
	if err != nil {
		return nil, err
	}
	if ok {
		// Without a pre that ran, post is registered when main runs.
		postRegistered = true
		mainCtx, done := jr.stepContext(jobCtx)
		err := jr.runStage(mainCtx, StageMain, runs.Entrypoint)
		done()
		if err != nil {
			return nil, err
		}
	} else {
		jr.setStep(id, StepResult{Outcome: "skipped", Conclusion: "skipped", Outputs: map[string]string{}})
	}

	if err := jr.runSteps(jobCtx, j.StepsAfter, "after"); err != nil {
		return nil, err
	}

	if postRegistered && runs.PostEntrypoint != "" {
		ok, err := jr.condition(runs.PostIf, StagePost)
		if err != nil {
			return nil, err
		}
		if ok {
			// Post runs after a cancellation with its own context, bounded by the cancel timeout.
			postCtx, done := jr.stepContext(jobCtx)
			err := jr.runStage(postCtx, StagePost, runs.PostEntrypoint)
			done()
			if err != nil {
				return nil, err
			}
		}
	}

	jr.mu.Lock()
	defer jr.mu.Unlock()
	jr.syncCancelLocked()
	res := jr.res
	res.JobStatus = jr.status
	for _, p := range jr.state {
		res.State[p.Name] = p.Value
	}
	for k, v := range jr.envExports {
		res.Env[k] = v
	}
	for k, v := range jr.steps {
		res.Steps[k] = v
	}
	for _, st := range res.Ran {
		res.Summary += res.Summaries[st]
	}
	return res, nil
}

func (j *Job) actionID() string {
	if j.ID == "" {
		return "action"
	}
	return j.ID
}

func (jr *jobRun) setStep(id string, r StepResult) {
	jr.mu.Lock()
	defer jr.mu.Unlock()
	jr.steps[id] = r
}

func (jr *jobRun) runSteps(ctx context.Context, steps []Step, group string) error {
	for i, st := range steps {
		id := st.ID
		if id == "" {
			id = fmt.Sprintf("__%s%d", group, i)
		}
		cond := st.If
		if cond == "" {
			cond = "success()"
		}
		ok, err := jr.condition(cond, "step "+id)
		if err != nil {
			return err
		}
		if !ok {
			jr.setStep(id, StepResult{Outcome: "skipped", Conclusion: "skipped", Outputs: map[string]string{}})
			continue
		}
		sr := &StepRun{jr: jr, outputs: map[string]string{}}
		stepCtx, done := jr.stepContext(ctx)
		var runErr error
		if st.Run != nil {
			runErr = st.Run(stepCtx, sr)
		}
		done()
		outcome := "success"
		switch {
		case stepCtx.Err() != nil && jr.isCancelled():
			outcome = "cancelled"
		case runErr != nil:
			outcome = "failure"
		}
		conclusion := outcome
		if outcome == "failure" && st.ContinueOnError {
			conclusion = "success"
		} else if outcome == "failure" {
			jr.fail()
		}
		jr.setStep(id, StepResult{Outcome: outcome, Conclusion: conclusion, Outputs: sr.outputs})
	}
	return nil
}

// stepContext is the context for a step starting now: the job's, or after a cancellation (a
// step whose if still passed, like always()) a fresh one bounded by the cancel timeout.
func (jr *jobRun) stepContext(jobCtx context.Context) (context.Context, context.CancelFunc) {
	if !jr.isCancelled() {
		return jobCtx, func() {}
	}
	timeout := jr.job.CancelTimeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	return context.WithTimeout(context.WithoutCancel(jobCtx), timeout)
}

func (jr *jobRun) isCancelled() bool {
	jr.mu.Lock()
	defer jr.mu.Unlock()
	jr.syncCancelLocked()
	return jr.cancelled
}

// scope builds the expression contexts as they are at this moment for a stage.
func (jr *jobRun) scope(stage string) *evalScope {
	j := jr.job
	jr.mu.Lock()
	defer jr.mu.Unlock()
	jr.syncCancelLocked()

	github := map[string]any{}
	for _, k := range githubKeys {
		github[k] = j.Env["GITHUB_"+strings.ToUpper(k)]
	}
	github["token"] = j.Contexts.Token
	event := j.Event
	if event == nil {
		event = map[string]any{}
	}
	github["event"] = event
	for k, v := range j.Contexts.GitHub {
		github[k] = v
	}

	runner := map[string]any{}
	for _, k := range []string{"name", "os", "arch", "temp", "tool_cache", "environment", "debug", "workspace"} {
		runner[k] = j.Env["RUNNER_"+strings.ToUpper(k)]
	}

	steps := map[string]any{}
	if stage != StagePre { // pre runs at job set-up: no step has run yet
		for id, s := range jr.steps {
			outs := map[string]any{}
			for k, v := range s.Outputs {
				outs[k] = v
			}
			steps[id] = map[string]any{"outputs": outs, "outcome": s.Outcome, "conclusion": s.Conclusion}
		}
	}
	env := map[string]any{}
	for k, v := range j.Env {
		env[k] = v
	}
	for k, v := range jr.envExports {
		env[k] = v
	}
	return &evalScope{
		contexts: map[string]any{
			"github":   github,
			"job":      map[string]any{"status": jr.status, "check_run_id": j.Contexts.CheckRunID, "container": map[string]any{}, "services": map[string]any{}},
			"runner":   runner,
			"strategy": map[string]any{"fail-fast": true, "job-index": 0.0, "job-total": 1.0, "max-parallel": 1.0},
			"matrix":   anyMap(j.Contexts.Matrix),
			"steps":    steps,
			"secrets":  anyMap(j.Contexts.Secrets),
			"vars":     anyMap(j.Contexts.Vars),
			"env":      env,
			"inputs":   map[string]any{}, // the workflow's inputs (workflow_dispatch); none here
			"needs":    map[string]any{},
		},
		strict: names("github", "job", "runner", "matrix"),
		status: jr.status,
	}
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (jr *jobRun) condition(cond, where string) (bool, error) {
	sc := jr.scope(where)
	sc.allowed = ifContexts
	sc.functions = true
	// pre-if, post-if and step ifs share the runner's step-if-result contexts.
	ok, err := evalCondition(cond, sc)
	if err != nil {
		return false, fmt.Errorf("actionsim: %s: %w", where, err)
	}
	return ok, nil
}

// inputs evaluates every declared input (with: first, then the default) for a stage, plus
// undeclared with: keys, which the runner exports too (after warning about them).
func (jr *jobRun) inputs(stage string) (map[string]string, error) {
	j := jr.job
	withScope := jr.scope(stage)
	withScope.allowed = withContexts
	defScope := jr.scope(stage)
	defScope.allowed = defaultContexts

	out := map[string]string{}
	used := map[string]bool{}
	for _, in := range j.Action.Inputs {
		raw, scope, ok := "", withScope, false
		for k, v := range j.With {
			if strings.EqualFold(k, in.Name) {
				raw, ok = v, true
				used[k] = true
			}
		}
		if !ok {
			raw, scope = in.Default, defScope
		}
		v, err := interpolate(raw, scope)
		if err != nil {
			return nil, fmt.Errorf("actionsim: %s: input %q: %w", stage, in.Name, err)
		}
		out[in.Name] = v
	}
	var unexpected []string
	for k, raw := range j.With {
		if used[k] {
			continue
		}
		v, err := interpolate(raw, withScope)
		if err != nil {
			return nil, fmt.Errorf("actionsim: %s: input %q: %w", stage, k, err)
		}
		out[k] = v
		if !strings.EqualFold(k, "entryPoint") && !strings.EqualFold(k, "args") {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		jr.mu.Lock()
		jr.res.RunnerLog = append(jr.res.RunnerLog, fmt.Sprintf("%s: Unexpected input(s) '%s'", stage, strings.Join(unexpected, "', '")))
		jr.mu.Unlock()
	}
	return out, nil
}

// InputEnvName is the variable the runner exports an input as: upper-cased, spaces to "_",
// hyphens kept.
func InputEnvName(input string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(input, " ", "_"))
}

var fileCommands = []struct{ env, prefix string }{
	{"GITHUB_OUTPUT", "set_output_"},
	{"GITHUB_STATE", "save_state_"},
	{"GITHUB_ENV", "set_env_"},
	{"GITHUB_PATH", "add_path_"},
	{"GITHUB_STEP_SUMMARY", "step_summary_"},
}

// runStage runs one stage and folds what it wrote into the job, as ActionRunner does.
func (jr *jobRun) runStage(ctx context.Context, stage, entrypoint string) error {
	j := jr.job
	inputs, err := jr.inputs(stage)
	if err != nil {
		return err
	}

	env := map[string]string{}
	for k, v := range j.Env {
		env[k] = v
	}
	jr.mu.Lock()
	for k, v := range jr.envExports {
		env[k] = v
	}
	for _, p := range jr.state {
		env["STATE_"+p.Name] = p.Value
	}
	jr.seq++
	seq := jr.seq
	jr.mu.Unlock()
	for name, v := range inputs {
		env[InputEnvName(name)] = v
	}
	argScope := &evalScope{contexts: map[string]any{"inputs": anyMap(inputs)}, allowed: argsContexts}
	for _, e := range j.Action.Runs.Env {
		v, err := interpolate(e.Value, argScope)
		if err != nil {
			return fmt.Errorf("actionsim: %s: runs.env.%s: %w", stage, e.Name, err)
		}
		// runs.env never overrides a variable that is already set.
		if _, ok := env[e.Name]; !ok {
			env[e.Name] = v
		}
	}
	args := []string{entrypoint}
	for _, a := range j.Action.Runs.Args {
		v, err := interpolate(a, argScope)
		if err != nil {
			return fmt.Errorf("actionsim: %s: runs.args: %w", stage, err)
		}
		args = append(args, v)
	}

	files := map[string]string{}
	for _, fc := range fileCommands {
		p := filepath.Join(jr.dir, "file_commands", fmt.Sprintf("%s%s_%d", fc.prefix, stage, seq))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return fmt.Errorf("actionsim: %w", err)
		}
		files[fc.env] = p
		env[fc.env] = p
	}
	env["HOME"] = filepath.Join(jr.dir, "home")
	env["GITHUB_EVENT_PATH"] = filepath.Join(jr.dir, "workflow", "event.json")
	env["GITHUB_WORKSPACE"] = filepath.Join(jr.dir, "workspace")
	env["RUNNER_TEMP"] = filepath.Join(jr.dir, "runner_temp")
	env["GITHUB_ACTION"] = j.actionID()
	env["GITHUB_ACTIONS"] = "true"
	if _, ok := env["CI"]; !ok {
		env["CI"] = "true"
	}

	var stdout, stderr bytes.Buffer
	stageCtx := ctx
	if j.Timeout > 0 {
		var cancel context.CancelFunc
		stageCtx, cancel = context.WithTimeout(ctx, j.Timeout)
		defer cancel()
	}
	var runErr error
	if j.Exec != nil {
		mounts := make(map[string]string, len(hostDirs))
		for c, d := range hostDirs {
			mounts[c] = filepath.Join(jr.dir, d)
		}
		runErr = callExec(stageCtx, j.Exec, StageRun{Stage: stage, Entrypoint: entrypoint, Args: args[1:],
			Env: maps.Clone(env), Mounts: mounts, Stdout: &stdout, Stderr: &stderr})
	} else {
		runErr = callEntry(stageCtx, j.Entry, args, env, &stdout, &stderr)
	}
	if runErr != nil && errors.Is(stageCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		runErr = fmt.Errorf("the action has timed out after %s: %w", j.Timeout, runErr)
	}

	var stageErrs []error
	if runErr != nil {
		stageErrs = append(stageErrs, runErr)
	}
	outputs := map[string]string{}
	// Files are processed even when the stage failed or was cancelled (a finally block in the runner).
	if err := jr.processFiles(stage, files, outputs); err != nil {
		stageErrs = append(stageErrs, err)
	}

	jr.mu.Lock()
	sc := commandScanner{masks: jr.masks}
	outCmds, outLog := sc.scan(stdout.String())
	errCmds, errLog := sc.scan(stderr.String())
	jr.masks = sc.masks
	cmds := append(outCmds, errCmds...)
	res := jr.res
	res.Ran = append(res.Ran, stage)
	res.StageEnv[stage] = env
	res.Stdout[stage], res.Stderr[stage] = stdout.String(), stderr.String()
	res.Log[stage] = outLog + errLog
	res.Commands[stage] = cmds
	for _, c := range cmds {
		switch c.Name {
		case "debug", "notice", "warning", "error":
			res.Annotations = append(res.Annotations, Annotation{Stage: stage, Level: c.Name, Message: c.Data, Properties: c.Properties})
		case "add-mask":
			res.Masks = append(res.Masks, c.Data)
		case "set-output": // deprecated stdout form, still honoured
			if c.Properties["name"] != "" {
				outputs[c.Properties["name"]] = c.Data
			}
		case "save-state":
			if c.Properties["name"] != "" {
				jr.setState(c.Properties["name"], c.Data)
			}
		}
	}
	jr.mu.Unlock()

	if stage == StageMain {
		for k, v := range outputs {
			res.Outputs[k] = v
		}
	} else if len(outputs) > 0 {
		jr.mu.Lock()
		res.RunnerLog = append(res.RunnerLog, fmt.Sprintf("%s: outputs dropped (only main's are kept): %d", stage, len(outputs)))
		jr.mu.Unlock()
	}

	cancelled := ctx.Err() != nil && jr.isCancelled()
	outcome := "success"
	if len(stageErrs) > 0 {
		err := errors.Join(stageErrs...)
		jr.mu.Lock()
		res.StageErrors[stage] = err
		jr.mu.Unlock()
		outcome = "failure"
		if cancelled {
			outcome = "cancelled"
		} else if !j.ContinueOnError {
			jr.fail()
		}
	}
	if stage == StageMain {
		conclusion := outcome
		if outcome == "failure" && j.ContinueOnError {
			conclusion = "success"
		}
		jr.setStep(j.actionID(), StepResult{Outcome: outcome, Conclusion: conclusion, Outputs: outputs})
	}
	return nil
}

// callEntry runs the entry point, turning a panic (go-githubactions panics on write errors) into
// a stage failure instead of killing the test binary.
func callEntry(ctx context.Context, entry EntryFunc, args []string, env map[string]string, stdout, stderr io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return entry(ctx, args, func(k string) string { return env[k] }, stdout, stderr)
}

// callExec is callEntry for Job.Exec.
func callExec(ctx context.Context, exec func(context.Context, StageRun) error, s StageRun) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return exec(ctx, s)
}

// setState stores a state value; keys are case-insensitive and keep their first spelling.
// Callers hold jr.mu.
func (jr *jobRun) setState(name, value string) {
	for i, p := range jr.state {
		if strings.EqualFold(p.Name, name) {
			jr.state[i].Value = value
			return
		}
	}
	jr.state = append(jr.state, Pair{Name: name, Value: value})
}

func (jr *jobRun) processFiles(stage string, files map[string]string, outputs map[string]string) error {
	var errs []error
	read := func(env string) string {
		b, err := os.ReadFile(files[env])
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", env, err))
		}
		return string(b)
	}

	pairs, err := ParseFileCommand(read("GITHUB_OUTPUT"))
	if err != nil {
		errs = append(errs, fmt.Errorf("unable to process file command 'output' successfully: %w", err))
	}
	for _, p := range pairs {
		outputs[p.Name] = p.Value
	}

	pairs, err = ParseFileCommand(read("GITHUB_STATE"))
	if err != nil {
		errs = append(errs, fmt.Errorf("unable to process file command 'save_state' successfully: %w", err))
	}
	jr.mu.Lock()
	for _, p := range pairs {
		jr.setState(p.Name, p.Value)
	}
	jr.mu.Unlock()

	pairs, err = ParseFileCommand(read("GITHUB_ENV"))
	if err != nil {
		errs = append(errs, fmt.Errorf("unable to process file command 'env' successfully: %w", err))
	}
	jr.mu.Lock()
	for _, p := range pairs {
		if strings.EqualFold(p.Name, "NODE_OPTIONS") {
			continue // blocked by the runner
		}
		jr.envExports[p.Name] = p.Value
	}
	for _, l := range strings.Split(read("GITHUB_PATH"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			jr.res.Path = append(jr.res.Path, l)
		}
	}
	summary := read("GITHUB_STEP_SUMMARY")
	if len(summary) > SummaryLimit {
		// Not a step failure: the runner logs an error and drops the whole summary.
		jr.res.Annotations = append(jr.res.Annotations, Annotation{Stage: stage, Level: "error",
			Message: fmt.Sprintf("$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of %dk, got %dk", SummaryLimit/1024, len(summary)/1024)})
	} else if summary != "" {
		sc := commandScanner{masks: jr.masks}
		jr.res.Summaries[stage] = sc.maskAll(summary)
	}
	jr.mu.Unlock()
	return errors.Join(errs...)
}

// maskAll masks a summary line by line, as the runner does before uploading it.
func (s *commandScanner) maskAll(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = s.mask(l)
	}
	return strings.Join(lines, "\n")
}
