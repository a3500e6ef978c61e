package actionsim_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/actions"
	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
)

const testAction = `
name: test
inputs:
  token:
    default: ${{ github.token }}
  environment-url:
    default: ""
  job-status:
    default: ${{ job.status }}
  check run:
    default: ${{ job.check_run_id }}
  no-default:
    description: nothing
  repo:
    default: repo=${{ github.repository }}!
  matrix-env:
    default: ${{ matrix.env }}
outputs:
  deployment-id:
    description: id
runs:
  using: docker
  image: Dockerfile
  pre-entrypoint: /action/pre
  entrypoint: /action/main
  post-entrypoint: /action/post
  args: ["--url=${{ inputs.environment-url }}"]
  env:
    JOB_STATUS: ${{ inputs.job-status }}
`

func parse(t *testing.T, y string) *actionsim.Action {
	t.Helper()
	a, err := actionsim.ParseAction([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// call is one stage as the fake binary saw it.
type call struct {
	args []string
	env  func(string) string
}

// fake is a stand-in for internal/app.Run: it records each stage and runs a per-stage script.
type fake struct {
	mu     sync.Mutex
	calls  map[string]call
	script map[string]func(ctx context.Context, getenv func(string) string, stdout io.Writer) error
}

func (f *fake) entry(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	stage := filepath.Base(args[0])
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]call{}
	}
	f.calls[stage] = call{args: args, env: getenv}
	do := f.script[stage]
	f.mu.Unlock()
	if do != nil {
		return do(ctx, getenv, stdout)
	}
	return nil
}

func (f *fake) get(t *testing.T, stage string) call {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.calls[stage]
	if !ok {
		t.Fatalf("stage %s did not run", stage)
	}
	return c
}

func newJob(t *testing.T, f *fake) *actionsim.Job {
	return &actionsim.Job{
		Action:   parse(t, testAction),
		Entry:    f.entry,
		ID:       "deploy",
		Env:      actionsim.DefaultEnv("http://127.0.0.1:1"),
		Contexts: actionsim.Contexts{Token: "ghs_token123", CheckRunID: "29679449", Matrix: map[string]string{"env": "staging"}},
	}
}

func run(t *testing.T, j *actionsim.Job) *actionsim.Result {
	t.Helper()
	res, err := j.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestInputsAreExportedPerRunnerRules(t *testing.T) {
	t.Parallel()
	f := &fake{}
	j := newJob(t, f)
	j.With = map[string]string{"environment-url": "https://app.example"}
	res := run(t, j)
	if got := strings.Join(res.Ran, ","); got != "pre,main,post" || res.JobStatus != "success" {
		t.Fatalf("ran %s, status %s, errors %v", got, res.JobStatus, res.StageErrors)
	}
	for _, stage := range res.Ran {
		env := res.StageEnv[stage]
		want := map[string]string{
			"INPUT_ENVIRONMENT-URL": "https://app.example", // hyphen kept
			"INPUT_TOKEN":           "ghs_token123",
			"INPUT_CHECK_RUN":       "29679449", // space becomes _
			"INPUT_NO-DEFAULT":      "",
			"INPUT_REPO":            "repo=octo-org/octo-repo!",
			"INPUT_MATRIX-ENV":      "staging",
			"INPUT_JOB-STATUS":      "success",
			"JOB_STATUS":            "success", // runs.env from inputs
			"GITHUB_ACTIONS":        "true",
			"GITHUB_REPOSITORY":     "octo-org/octo-repo",
		}
		for k, v := range want {
			got, ok := env[k]
			if !ok || got != v {
				t.Errorf("%s: %s = %q (set %v), want %q", stage, k, got, ok, v)
			}
		}
		if _, ok := env["GITHUB_TOKEN"]; ok {
			t.Errorf("%s: GITHUB_TOKEN is set; the runner does not pass it", stage)
		}
		c := f.get(t, stage)
		if want := []string{"/action/" + stage, "--url=https://app.example"}; !slices.Equal(c.args, want) {
			t.Errorf("%s: args %q, want %q", stage, c.args, want)
		}
		for _, k := range []string{"GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH", "HOME"} {
			if c.env(k) == "" {
				t.Errorf("%s: %s empty", stage, k)
			}
		}
	}
	if res.StageEnv["pre"]["GITHUB_OUTPUT"] == res.StageEnv["main"]["GITHUB_OUTPUT"] {
		t.Error("stages share a GITHUB_OUTPUT file")
	}
}

func TestJobStatusIsReevaluatedInPost(t *testing.T) {
	t.Parallel()
	f := &fake{}
	j := newJob(t, f)
	j.StepsBefore = []actionsim.Step{{ID: "build", Run: func(context.Context, *actionsim.StepRun) error {
		return errors.New("compile error")
	}}}
	res := run(t, j)
	if got := strings.Join(res.Ran, ","); got != "pre,post" {
		t.Fatalf("ran %s: main should be skipped after a failed step, post should still run", got)
	}
	if got := res.StageEnv["pre"]["INPUT_JOB-STATUS"]; got != "success" {
		t.Errorf("pre job-status = %q", got)
	}
	if got := res.StageEnv["post"]["INPUT_JOB-STATUS"]; got != "failure" {
		t.Errorf("post job-status = %q", got)
	}
	if res.JobStatus != "failure" || res.Steps["deploy"].Outcome != "skipped" || res.Steps["build"].Outcome != "failure" {
		t.Errorf("status %s, steps %+v", res.JobStatus, res.Steps)
	}
}

func TestContinueOnErrorStepKeepsJobGreen(t *testing.T) {
	t.Parallel()
	j := newJob(t, &fake{})
	j.StepsBefore = []actionsim.Step{{ID: "lint", ContinueOnError: true, Run: func(context.Context, *actionsim.StepRun) error {
		return errors.New("lint")
	}}}
	res := run(t, j)
	if res.JobStatus != "success" || !slices.Contains(res.Ran, "main") {
		t.Errorf("status %s, ran %v", res.JobStatus, res.Ran)
	}
	if s := res.Steps["lint"]; s.Outcome != "failure" || s.Conclusion != "success" {
		t.Errorf("lint = %+v", s)
	}
}

func TestWithExpressionFromALaterStepReachesPost(t *testing.T) {
	t.Parallel()
	j := newJob(t, &fake{})
	j.With = map[string]string{"environment-url": "${{ steps.app.outputs.url }}"}
	j.StepsAfter = []actionsim.Step{{ID: "app", Run: func(_ context.Context, s *actionsim.StepRun) error {
		s.SetOutput("url", "https://pr-1.example")
		return nil
	}}}
	res := run(t, j)
	for stage, want := range map[string]string{"pre": "", "main": "", "post": "https://pr-1.example"} {
		if got := res.StageEnv[stage]["INPUT_ENVIRONMENT-URL"]; got != want {
			t.Errorf("%s: environment-url = %q, want %q", stage, got, want)
		}
	}
}

func TestPreSeesNoStepsEvenIfTheyRanInAnEarlierStage(t *testing.T) {
	t.Parallel()
	// steps.deploy.outputs in with: is empty in pre and main (deploy = this step), set in post.
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"main": func(_ context.Context, getenv func(string) string, out io.Writer) error {
			return actions.New(getenv, out).SetOutput("deployment-id", "42")
		},
	}}
	j := newJob(t, f)
	j.With = map[string]string{"environment-url": "https://x/${{ steps.deploy.outputs.deployment-id }}"}
	res := run(t, j)
	if got := res.StageEnv["post"]["INPUT_ENVIRONMENT-URL"]; got != "https://x/42" {
		t.Errorf("post sees %q", got)
	}
	if got := res.StageEnv["pre"]["INPUT_ENVIRONMENT-URL"]; got != "https://x/" {
		t.Errorf("pre sees %q", got)
	}
}

func TestStateIsCarriedAcrossStages(t *testing.T) {
	t.Parallel()
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"pre": func(_ context.Context, getenv func(string) string, out io.Writer) error {
			return actions.New(getenv, out).SaveState("deployment_id", "42")
		},
		"main": func(_ context.Context, getenv func(string) string, out io.Writer) error {
			r := actions.New(getenv, out)
			if r.State("deployment_id") != "42" {
				return fmt.Errorf("main: state %q", r.State("deployment_id"))
			}
			return r.SaveState("status_id", "7")
		},
		"post": func(_ context.Context, getenv func(string) string, _ io.Writer) error {
			if getenv("STATE_deployment_id") != "42" || getenv("STATE_status_id") != "7" {
				return errors.New("post: state missing")
			}
			return nil
		},
	}}
	res := run(t, newJob(t, f))
	if len(res.StageErrors) != 0 {
		t.Fatal(res.StageErrors)
	}
	if res.State["deployment_id"] != "42" || res.State["status_id"] != "7" {
		t.Errorf("state = %v", res.State)
	}
}

func TestOnlyMainOutputsAreKept(t *testing.T) {
	t.Parallel()
	setOut := func(name string) func(context.Context, func(string) string, io.Writer) error {
		return func(_ context.Context, getenv func(string) string, out io.Writer) error {
			return actions.New(getenv, out).SetOutput(name, "v-"+name)
		}
	}
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"pre": setOut("from-pre"), "main": setOut("deployment-id"), "post": setOut("from-post"),
	}}
	j := newJob(t, f)
	ranCheck := false
	j.StepsAfter = []actionsim.Step{{ID: "check", If: "steps.deploy.outputs.deployment-id == 'v-deployment-id'",
		Run: func(context.Context, *actionsim.StepRun) error { ranCheck = true; return nil }}}
	res := run(t, j)
	if len(res.Outputs) != 1 || res.Outputs["deployment-id"] != "v-deployment-id" {
		t.Errorf("outputs = %v", res.Outputs)
	}
	if !ranCheck {
		t.Error("a later step could not read steps.deploy.outputs")
	}
}

func TestLocalActionSkipsPre(t *testing.T) {
	t.Parallel()
	f := &fake{}
	j := newJob(t, f)
	j.Local = true
	res := run(t, j)
	if got := strings.Join(res.Ran, ","); got != "main,post" {
		t.Errorf("ran %s", got)
	}
	if len(res.RunnerLog) == 0 || !strings.Contains(res.RunnerLog[0], "pre") {
		t.Errorf("no warning about pre: %v", res.RunnerLog)
	}

	// Without pre, post is registered by main: if main is skipped, post never runs.
	j = newJob(t, &fake{})
	j.Local = true
	j.StepsBefore = []actionsim.Step{{Run: func(context.Context, *actionsim.StepRun) error { return errors.New("x") }}}
	res = run(t, j)
	if len(res.Ran) != 0 {
		t.Errorf("ran %v", res.Ran)
	}
}

func TestCancelBeforeMain(t *testing.T) {
	t.Parallel()
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"post": func(ctx context.Context, _ func(string) string, _ io.Writer) error {
			return ctx.Err() // post must get a live context
		},
	}}
	j := newJob(t, f)
	j.StepsBefore = []actionsim.Step{{ID: "wait", Run: func(_ context.Context, s *actionsim.StepRun) error {
		s.Cancel()
		return nil
	}}}
	res := run(t, j)
	if got := strings.Join(res.Ran, ","); got != "pre,post" {
		t.Errorf("ran %s", got)
	}
	if res.JobStatus != "cancelled" || res.StageEnv["post"]["INPUT_JOB-STATUS"] != "cancelled" {
		t.Errorf("status %s, post job-status %q", res.JobStatus, res.StageEnv["post"]["INPUT_JOB-STATUS"])
	}
	if res.StageErrors["post"] != nil {
		t.Errorf("post: %v", res.StageErrors["post"])
	}
}

func TestCancelDuringMain(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"main": func(ctx context.Context, _ func(string) string, _ io.Writer) error {
			cancel() // the user clicks Cancel while main runs: main gets SIGINT
			<-ctx.Done()
			return ctx.Err()
		},
		"post": func(ctx context.Context, _ func(string) string, _ io.Writer) error { return ctx.Err() },
	}}
	j := newJob(t, f)
	j.StepsAfter = []actionsim.Step{{ID: "after", Run: func(context.Context, *actionsim.StepRun) error { return nil }}}
	res, err := j.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.JobStatus != "cancelled" || res.Steps["deploy"].Outcome != "cancelled" || res.Steps["after"].Outcome != "skipped" {
		t.Errorf("status %s, steps %+v", res.JobStatus, res.Steps)
	}
	if res.StageErrors["post"] != nil || res.StageEnv["post"]["INPUT_JOB-STATUS"] != "cancelled" {
		t.Errorf("post: err %v, job-status %q", res.StageErrors["post"], res.StageEnv["post"]["INPUT_JOB-STATUS"])
	}
}

func TestPreFailureFailsTheJob(t *testing.T) {
	t.Parallel()
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"pre": func(context.Context, func(string) string, io.Writer) error { return errors.New("401 Bad credentials") },
	}}
	res := run(t, newJob(t, f))
	if got := strings.Join(res.Ran, ","); got != "pre,post" || res.JobStatus != "failure" {
		t.Errorf("ran %s, status %s", got, res.JobStatus)
	}
	if res.StageErrors["pre"] == nil || !res.Failed() {
		t.Error("pre error not recorded")
	}
}

func TestPostIf(t *testing.T) {
	t.Parallel()
	a := strings.Replace(testAction, "  post-entrypoint: /action/post", "  post-entrypoint: /action/post\n  post-if: failure() || cancelled()", 1)
	j := newJob(t, &fake{})
	j.Action = parse(t, a)
	if res := run(t, j); slices.Contains(res.Ran, "post") {
		t.Error("post ran on success with post-if: failure()")
	}
	j = newJob(t, &fake{})
	j.Action = parse(t, a)
	j.StepsBefore = []actionsim.Step{{Run: func(context.Context, *actionsim.StepRun) error { return errors.New("x") }}}
	if res := run(t, j); !slices.Contains(res.Ran, "post") {
		t.Error("post did not run on failure")
	}
}

func TestGitHubEnvFromPreReachesLaterStages(t *testing.T) {
	t.Parallel()
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"pre": func(_ context.Context, getenv func(string) string, out io.Writer) error {
			return actions.New(getenv, out).SetEnv("DEPLOYMENT_ID", "9")
		},
	}}
	j := newJob(t, f)
	var seen string
	j.StepsBefore = []actionsim.Step{{If: "env.DEPLOYMENT_ID == '9'", Run: func(context.Context, *actionsim.StepRun) error {
		seen = "9"
		return nil
	}}}
	res := run(t, j)
	if res.StageEnv["main"]["DEPLOYMENT_ID"] != "9" || res.StageEnv["post"]["DEPLOYMENT_ID"] != "9" || seen != "9" {
		t.Errorf("main %q post %q step %q", res.StageEnv["main"]["DEPLOYMENT_ID"], res.StageEnv["post"]["DEPLOYMENT_ID"], seen)
	}
}

func writeFile(getenv func(string) string, env, text string) error {
	f, err := os.OpenFile(getenv(env), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(text)
	return err
}

func TestFileCommandsHeredocAndErrors(t *testing.T) {
	t.Parallel()
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"main": func(_ context.Context, getenv func(string) string, _ io.Writer) error {
			return writeFile(getenv, "GITHUB_OUTPUT", "simple=a=b\n\nmulti<<EOF\nl1\n\nl2\nEOF\nempty<<X\nX\n")
		},
	}}
	res := run(t, newJob(t, f))
	want := map[string]string{"simple": "a=b", "multi": "l1\n\nl2", "empty": ""}
	for k, v := range want {
		if res.Outputs[k] != v {
			t.Errorf("%s = %q, want %q", k, res.Outputs[k], v)
		}
	}

	f = &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"main": func(_ context.Context, getenv func(string) string, _ io.Writer) error {
			return writeFile(getenv, "GITHUB_OUTPUT", "broken<<EOF\nvalue\n")
		},
	}}
	res = run(t, newJob(t, f))
	if res.StageErrors["main"] == nil || res.JobStatus != "failure" {
		t.Errorf("missing delimiter did not fail the step: %v %s", res.StageErrors, res.JobStatus)
	}
}

func TestUnknownExpressionsAreErrors(t *testing.T) {
	t.Parallel()
	for _, with := range []string{"${{ foo.bar }}", "${{ github.nope }}", "${{ job.state }}", "${{ matrix.missing }}", "${{ hashFiles('x') }}", "${{ github.repository"} {
		j := newJob(t, &fake{})
		j.With = map[string]string{"environment-url": with}
		if _, err := j.Run(context.Background()); err == nil {
			t.Errorf("%q: no error", with)
		}
	}
	// Lenient where GitHub is: secrets and steps that have not run read as "".
	j := newJob(t, &fake{})
	j.With = map[string]string{"environment-url": "${{ secrets.NOPE }}${{ steps.nope.outputs.x }}"}
	if _, err := j.Run(context.Background()); err != nil {
		t.Error(err)
	}

	bad := map[string]string{
		"default uses steps":  strings.Replace(testAction, "default: \"\"", "default: ${{ steps.x.outputs.y }}", 1),
		"default uses secret": strings.Replace(testAction, "default: \"\"", "default: ${{ secrets.X }}", 1),
		"args use github":     strings.Replace(testAction, "${{ inputs.environment-url }}", "${{ github.sha }}", 1),
		"post-if in ${{ }}":   strings.Replace(testAction, "  post-entrypoint: /action/post", "  post-entrypoint: /action/post\n  post-if: ${{ always() }}", 1),
		"relative entrypoint": strings.Replace(testAction, "/action/main", "main", 1),
	}
	for name, y := range bad {
		if _, err := actionsim.ParseAction([]byte(y)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAnnotationsMasksAndLog(t *testing.T) {
	t.Parallel()
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"main": func(_ context.Context, getenv func(string) string, out io.Writer) error {
			r := actions.New(getenv, out)
			r.Infof("before mask: s3cr3t")
			r.Mask("s3cr3t")
			r.Infof("after mask: s3cr3t, token %s", getenv("INPUT_TOKEN"))
			r.Annotate("error", map[string]string{"title": "Deploy: failed"}, "422\nValidation Failed")
			r.Warningf("careful")
			return nil
		},
	}}
	res := run(t, newJob(t, f))
	if !slices.Equal(res.Masks, []string{"s3cr3t"}) {
		t.Errorf("masks = %q", res.Masks)
	}
	log := res.Log["main"]
	if !strings.Contains(log, "before mask: s3cr3t") || !strings.Contains(log, "after mask: ***, token ***") {
		t.Errorf("log:\n%s", log)
	}
	errs := res.AnnotationsAt("error")
	if len(errs) != 1 || errs[0].Message != "422\nValidation Failed" || errs[0].Properties["title"] != "Deploy: failed" || errs[0].Stage != "main" {
		t.Errorf("errors = %+v", errs)
	}
	if len(res.AnnotationsAt("warning")) != 1 {
		t.Errorf("annotations = %+v", res.Annotations)
	}
}

func TestSummaryOverLimitIsDropped(t *testing.T) {
	t.Parallel()
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"pre": func(_ context.Context, getenv func(string) string, _ io.Writer) error {
			return writeFile(getenv, "GITHUB_STEP_SUMMARY", strings.Repeat("x", actionsim.SummaryLimit+1))
		},
		"main": func(_ context.Context, getenv func(string) string, out io.Writer) error {
			return actions.New(getenv, out).AddSummary("## Deployed ghs_token123")
		},
	}}
	res := run(t, newJob(t, f))
	if _, ok := res.Summaries["pre"]; ok || len(res.AnnotationsAt("error")) != 1 {
		t.Errorf("oversized summary kept, annotations %+v", res.Annotations)
	}
	if res.Summary != "## Deployed ***\n" {
		t.Errorf("summary = %q (the runner masks the token in summaries)", res.Summary)
	}
}

func TestPanicInStageIsAFailureNotACrash(t *testing.T) {
	t.Parallel()
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"main": func(context.Context, func(string) string, io.Writer) error { panic("boom") },
	}}
	res := run(t, newJob(t, f))
	if res.StageErrors["main"] == nil || res.JobStatus != "failure" || !slices.Contains(res.Ran, "post") {
		t.Errorf("errors %v status %s ran %v", res.StageErrors, res.JobStatus, res.Ran)
	}
}

func TestRepoActionYMLExportsEveryInput(t *testing.T) {
	t.Parallel()
	a, err := actionsim.LoadAction(testkit.Path(t, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Runs.PreEntrypoint == "" || a.Runs.PostEntrypoint == "" {
		t.Fatalf("runs = %+v", a.Runs)
	}
	f := &fake{}
	j := &actionsim.Job{
		Action: a, Entry: f.entry, ID: "deploy",
		Env:      actionsim.DefaultEnv("http://127.0.0.1:1"),
		Contexts: actionsim.Contexts{Token: "ghs_x", CheckRunID: "123"},
	}
	res := run(t, j)
	if got := strings.Join(res.Ran, ","); got != "pre,main,post" {
		t.Fatalf("ran %s", got)
	}
	for _, stage := range res.Ran {
		c := f.get(t, stage)
		if base := filepath.Base(c.args[0]); base != stage {
			t.Errorf("stage %s dispatched as %q", stage, base)
		}
		for _, in := range a.Inputs {
			if _, ok := res.StageEnv[stage][actionsim.InputEnvName(in.Name)]; !ok {
				t.Errorf("%s: input %q not exported", stage, in.Name)
			}
		}
	}
	env := res.StageEnv["post"]
	if env["INPUT_TOKEN"] != "ghs_x" || env["INPUT_REPOSITORY"] != "octo-org/octo-repo" {
		t.Errorf("token/repository defaults: %q %q", env["INPUT_TOKEN"], env["INPUT_REPOSITORY"])
	}
	for k, want := range map[string]string{"INPUT_JOB-STATUS": "success", "INPUT_JOB-CHECK-RUN-ID": "123", "INPUT_MODE": "auto", "INPUT_ENVIRONMENT-URL": ""} {
		if got, ok := env[k]; !ok || got != want {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, want)
		}
	}
}

func TestTimeoutFailsTheStage(t *testing.T) {
	t.Parallel()
	f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
		"main": func(ctx context.Context, _ func(string) string, _ io.Writer) error {
			<-ctx.Done()
			return ctx.Err()
		},
	}}
	j := newJob(t, f)
	j.Timeout = 20 * time.Millisecond
	res := run(t, j)
	if res.JobStatus != "failure" || res.StageErrors["main"] == nil || !slices.Contains(res.Ran, "post") {
		t.Errorf("status %s, errors %v, ran %v", res.JobStatus, res.StageErrors, res.Ran)
	}
}

func TestJobsRunInParallel(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := &fake{script: map[string]func(context.Context, func(string) string, io.Writer) error{
				"pre": func(_ context.Context, getenv func(string) string, out io.Writer) error {
					return actions.New(getenv, out).SaveState("n", getenv("INPUT_MATRIX-ENV"))
				},
			}}
			j := newJob(t, f)
			j.Contexts.Matrix = map[string]string{"env": fmt.Sprint("env-", i)}
			res, err := j.Run(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			if res.State["n"] != fmt.Sprint("env-", i) {
				t.Errorf("job %d state %v", i, res.State)
			}
		}()
	}
	wg.Wait()
}

// TestExecGetsTheStageAsTheRunnerStartsIt: a Job.Exec (a container, a child process) gets each
// stage's entrypoint, args, whole environment and the mounted directories, and what it writes
// through them is folded into the job as an in-process stage's is.
func TestExecGetsTheStageAsTheRunnerStartsIt(t *testing.T) {
	t.Parallel()
	j := newJob(t, &fake{})
	j.Entry = nil
	j.With = map[string]string{"environment-url": "https://x.example.com"}
	var seen []actionsim.StageRun
	j.Exec = func(_ context.Context, s actionsim.StageRun) error {
		seen = append(seen, s)
		for c, h := range s.Mounts { // the directories exist while the stage runs
			if st, err := os.Stat(h); err != nil || !st.IsDir() {
				t.Errorf("%s: mount %s: host directory %q: %v", s.Stage, c, h, err)
			}
		}
		if len(s.Mounts) != 5 {
			t.Errorf("%s: mounts %v, want the runner's five", s.Stage, s.Mounts)
		}
		fmt.Fprintf(s.Stdout, "::notice::%s ran\n", s.Stage)
		switch s.Stage {
		case actionsim.StagePre:
			return os.WriteFile(s.Env["GITHUB_STATE"], []byte("id=42\n"), 0o644)
		case actionsim.StageMain:
			if s.Env["STATE_id"] != "42" {
				return fmt.Errorf("main: STATE_id = %q", s.Env["STATE_id"])
			}
			return os.WriteFile(s.Env["GITHUB_OUTPUT"], []byte("deployment-id=42\n"), 0o644)
		}
		fmt.Fprintln(s.Stderr, "post failed")
		return errors.New("exit status 1")
	}
	res := run(t, j)
	if got := strings.Join(res.Ran, ","); got != "pre,main,post" || len(seen) != 3 {
		t.Fatalf("ran %s, Exec called %d times", got, len(seen))
	}
	if res.Outputs["deployment-id"] != "42" || res.State["id"] != "42" {
		t.Errorf("outputs %v state %v: the file commands written through Exec were not processed", res.Outputs, res.State)
	}
	if res.StageErrors["post"] == nil || res.JobStatus != "failure" || res.Stderr["post"] != "post failed\n" {
		t.Errorf("post: error %v, job %s, stderr %q", res.StageErrors["post"], res.JobStatus, res.Stderr["post"])
	}
	if n := len(res.AnnotationsAt("notice")); n != 3 {
		t.Errorf("%d notices, want one per stage", n)
	}
	for i, want := range []string{"/action/pre", "/action/main", "/action/post"} {
		s := seen[i]
		if s.Entrypoint != want || !slices.Equal(s.Args, []string{"--url=https://x.example.com"}) {
			t.Errorf("%s: entrypoint %q args %q", s.Stage, s.Entrypoint, s.Args)
		}
		if s.Env["INPUT_TOKEN"] != "ghs_token123" || s.Env["JOB_STATUS"] != "success" || s.Env["GITHUB_REPOSITORY"] != "octo-org/octo-repo" {
			t.Errorf("%s: env lacks the inputs, runs.env or the job's environment: %v", s.Stage, s.Env)
		}
		ce := s.ContainerEnv()
		for k, want := range map[string]string{
			"HOME": "/github/home", "GITHUB_WORKSPACE": "/github/workspace", "RUNNER_TEMP": "/github/runner_temp",
			"GITHUB_EVENT_PATH": "/github/workflow/event.json",
		} {
			if ce[k] != want {
				t.Errorf("%s: container %s = %q, want %q (host %q)", s.Stage, k, ce[k], want, s.Env[k])
			}
		}
		if got := ce["GITHUB_OUTPUT"]; path.Dir(got) != actionsim.MountFileCommands {
			t.Errorf("%s: container GITHUB_OUTPUT = %q, want a file under %s", s.Stage, got, actionsim.MountFileCommands)
		}
		if ce["INPUT_TOKEN"] != s.Env["INPUT_TOKEN"] {
			t.Errorf("%s: ContainerEnv changed a value that is not a path", s.Stage)
		}
	}
}
