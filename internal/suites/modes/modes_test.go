// Package modes_test checks that the mode table is the one place a mode is added: a mode that
// only this test knows is reached from the action's stages and from the CLI, with its summary,
// outputs, help and flags, and without it both refuse the name.
package modes_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/app"
	"github.com/deployment-action/deployment-action/internal/cli"
	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

const token = "ghs_modesTOKENmodesTOKENmodes0123"

// recordMode is a mode no product code knows: it creates a deployment and sets success at once,
// with the description given. It is written as a new mode would be: one table entry (its
// properties and its CLI command) and its stage function, which uses deploy's exported API.
func recordMode() deploy.Mode {
	return deploy.Mode{
		Name: "record", Creates: true, Inputs: []string{"environment", "ref", "description"},
		CLI: &deploy.CLI{
			Name:  "record",
			Short: "Record a deploy that already happened (a test's mode)",
			Long:  "Record a deploy that already happened, as the test's record mode does.",
			Usage: "{bin} record --ref <ref> [--environment <name>]",
			Flags: []deploy.Flag{
				{Name: "environment", Arg: "name", Usage: "Environment it went to (default production)"},
				{Name: "ref", Arg: "ref", Usage: "What was deployed", Required: true, Why: "record needs the ref that was deployed"},
				{Name: "description", Arg: "text", Usage: "What happened"},
			},
			Examples: "  # After a manual deploy\n  {bin} record --ref v1.2.3 --environment qa",
		},
		Main: func(d *deploy.Deployer, ctx context.Context, j deploy.Job, r *deploy.Report) error {
			s := j.Settings
			dep, err := d.Create(ctx, deploy.CreateSpec{Ref: j.Ref, Task: "deploy", Environment: s.Environment, Description: s.Description,
				RequestID: deploy.NewRequestID(), Run: j.Run})
			if err != nil {
				return err
			}
			r.DeploymentID, r.DeploymentURL, r.Environment, r.Ref, r.SHA = dep.GetID(), dep.GetURL(), dep.GetEnvironment(), dep.GetRef(), dep.GetSHA()
			st, err := d.SetStatus(ctx, dep.GetID(), deploy.StatusSpec{State: "success", Description: s.Description})
			if err != nil {
				return err
			}
			r.StatusID, r.State = st.GetID(), st.GetState()
			return nil
		},
	}
}

// entry runs the action's stages with the given mode table, as app.Run picks them by argv[0].
func entry(modes deploy.Table) actionsim.EntryFunc {
	return func(ctx context.Context, args []string, getenv func(string) string, stdout, _ io.Writer) error {
		return app.RunStageWith(ctx, modes, deploy.Stage(filepath.Base(args[0])), getenv, stdout)
	}
}

func job(t *testing.T, e *emulator.Emulator, modes deploy.Table) *actionsim.Result {
	t.Helper()
	j := testkit.NewJob(entry(modes), testkit.Action(t), e.URL(), token, map[string]string{"mode": "record", "environment": "qa", "description": "hotfix by hand"})
	return testkit.Run(t, j)
}

func TestAddedModeRunsInTheAction(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	res := job(t, e, deploy.Modes().With(recordMode()))
	if err := res.StageErrors["main"]; err != nil {
		t.Fatalf("main failed: %v\n%s", err, res.Log["main"])
	}
	deps := e.Deployments(testkit.Owner, testkit.Repo)
	if len(deps) != 1 {
		t.Fatalf("%d deployments, want the one record created", len(deps))
	}
	d := deps[0]
	if d.Environment != "qa" || d.Ref != "main" || strings.Join(testkit.States(d), ",") != "success" {
		t.Errorf("deployment %s of %s with states %v, want qa, main, [success]", d.Environment, d.Ref, testkit.States(d))
	}
	// Outputs and the summary come from the table's properties: a deployment it made (Shows
	// zero), no final state at job end (no Post).
	if res.Outputs["deployment-id"] != strconv.FormatInt(d.ID, 10) {
		t.Errorf("deployment-id output %q, want %d", res.Outputs["deployment-id"], d.ID)
	}
	if res.Outputs["state"] != "success" || res.Outputs["environment"] != "qa" {
		t.Errorf("outputs %v, want state success in qa", res.Outputs)
	}
	sum := res.Summaries["main"]
	if !strings.HasPrefix(sum, "### Deployment to qa\n") || !strings.Contains(sum, "| qa | `main` |") {
		t.Errorf("main's summary is not the deployment table:\n%s", sum)
	}
	if strings.Contains(sum, "set when the job ends") {
		t.Errorf("the summary promises a final state at job end, which record does not set:\n%s", sum)
	}
	if res.Summaries["post"] != "" || res.Summaries["pre"] != "" {
		t.Errorf("pre or post wrote a summary for a mode that acts in main only: %q %q", res.Summaries["pre"], res.Summaries["post"])
	}
}

func TestUnknownModeFailsTheAction(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	res := job(t, e, deploy.Modes())
	// Pre, the first stage, refuses it; the job stops there.
	err := res.StageErrors["pre"]
	if err == nil || !strings.Contains(err.Error(), `mode "record" is not known: use one of auto, start,`) {
		t.Fatalf("pre: %v; want the mode named as not known", err)
	}
	if slices.Contains(res.Ran, "main") {
		t.Errorf("stages %v ran, want main skipped after pre failed", res.Ran)
	}
	if n := len(e.Deployments(testkit.Owner, testkit.Repo)); n != 0 {
		t.Errorf("%d deployments for an unknown mode, want none", n)
	}
}

func runCLI(t *testing.T, modes deploy.Table, e *emulator.Emulator, args ...string) (string, error) {
	t.Helper()
	vars := map[string]string{"GH_TOKEN": token, "GH_REPO": testkit.Owner + "/" + testkit.Repo, "GITHUB_API_URL": e.URL()}
	var out, errb bytes.Buffer
	err := cli.RunWith(context.Background(), modes, args, func(k string) string { return vars[k] }, &out, &errb)
	return out.String(), err
}

func TestAddedModeIsACommand(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	modes := deploy.Modes().With(recordMode())

	top, err := runCLI(t, modes, e, "help")
	if err != nil || !strings.Contains(top, "  record:     Record a deploy that already happened (a test's mode)\n") {
		t.Errorf("the top-level help does not list record (err %v):\n%s", err, top)
	}
	help, err := runCLI(t, modes, e, "record", "--help")
	if err != nil || !strings.Contains(help, "USAGE\n  deployment-action record --ref <ref>") || !regexp.MustCompile(`\n\s+--ref ref\s+What was deployed \(required\)\n`).MatchString(help) ||
		!strings.Contains(help, "  deployment-action record --ref v1.2.3 --environment qa") {
		t.Errorf("record --help (err %v):\n%s", err, help)
	}

	// A required flag of the entry is enforced before anything is sent.
	if _, err := runCLI(t, modes, e, "record", "--environment", "qa"); err == nil || !strings.Contains(err.Error(), "missing --ref: record needs the ref that was deployed") {
		t.Errorf("record without --ref: %v", err)
	}
	if n := len(e.Requests()); n != 0 {
		t.Errorf("%d requests before a valid command line, want none", n)
	}

	out, err := runCLI(t, modes, e, "record", "--environment", "qa", "--ref", "main", "--description", "hotfix by hand")
	if err != nil {
		t.Fatal(err)
	}
	deps := e.Deployments(testkit.Owner, testkit.Repo)
	if len(deps) != 1 || deps[0].Description != "hotfix by hand" {
		t.Fatalf("deployments %+v, want the one record created", deps)
	}
	// Creates: the CLI says it created one; no LeavesOpen: no "Finish it with" hint.
	if !regexp.MustCompile(`^Created deployment \d+ of main \([0-9a-f]{7}\) to qa in octo-org/hello-world: success\n`).MatchString(out) || strings.Contains(out, "Finish it with") {
		t.Errorf("record's output:\n%s", out)
	}
}

func TestUnknownModeIsNoCommand(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	_, err := runCLI(t, deploy.Modes(), e, "record", "--ref", "main")
	var ec interface{ ExitCode() int }
	if err == nil || !errors.As(err, &ec) || ec.ExitCode() != 2 || !strings.Contains(err.Error(), `unknown command "record"`) {
		t.Errorf("record without the mode: %v; want a usage error naming the command", err)
	}
}
