package demo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// A Scene is one part of the demo that runs after the matrix of `auto` jobs, on the same
// emulator, repository and run. To add one (a Slack loop, a promotion), write its Play and add
// it to Scenes; `workbench demo NAME` then runs the matrix and that scene alone.
type Scene struct {
	Name    string // what `workbench demo NAME` selects
	Title   string // the heading of its part of the output
	Default bool   // part of a plain `workbench demo`
	// Play runs the scene. A problem a user would notice goes in the report's Problems; the
	// error is for a scene that could not run at all.
	Play func(ctx context.Context, st *Stage) (*SceneReport, error)
}

// Scenes are the demo's scenes, in the order they run.
func Scenes() []Scene {
	return []Scene{
		{Name: "wait", Title: "The other end: wait and latest (another workflow reads the deployments above)", Default: true, Play: playWaitLatest},
		{Name: "command", Title: "ChatOps: a reviewer comments /deploy staging on a pull request (mode: command)", Default: true, Play: playCommand},
		// Not in a plain demo yet: its times are the run's, so it would unsettle the golden output.
		{Name: "promotion", Title: "Promotion: production held by the custom protection rule until the soak in staging is over", Play: playPromotion},
		// Opt-in like promotion (a plain demo runs only the default scenes), and last: its
		// receiver of deployment webhooks closes with it.
		{Name: "slack", Title: "Slack: /deploy in a channel, the workflow on: deployment, the message following its statuses (deployment-action serve)", Play: playSlack},
	}
}

// SelectScenes returns the named scenes in Scenes' order, or the default ones when none is named.
func SelectScenes(names []string) ([]Scene, error) {
	var known []string
	all := Scenes()
	for _, s := range all {
		known = append(known, s.Name)
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("demo: no scene %q (scenes: %s)", n, strings.Join(known, ", "))
		}
	}
	var scenes []Scene
	for _, s := range all {
		if (len(names) == 0 && s.Default) || slices.Contains(names, s.Name) {
			scenes = append(scenes, s)
		}
	}
	return scenes, nil
}

// SceneReport is what a scene shows: its lines (printed under its title) and its problems.
type SceneReport struct {
	Name     string   `json:"name"`
	Title    string   `json:"title"`
	Lines    []string `json:"lines"`
	Problems []string `json:"problems,omitempty"`
}

func (r *SceneReport) line(format string, args ...any) {
	r.Lines = append(r.Lines, fmt.Sprintf(format, args...))
}

func (r *SceneReport) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Stage is what a scene plays on: the running emulator, the matrix's report, and the demo's
// configuration (the action and its entry point).
type Stage struct {
	Config   Config
	Emulator *emulator.Emulator
	Report   *Report
	jobs     int // jobs made so far, for their check run ids
}

// Job is a job of the demo's run (push to the default branch) whose action step has the given
// with:, its own check run id, and no steps around it; set StepsBefore/StepsAfter, Event and
// Env as the scene needs.
func (st *Stage) Job(with map[string]string) *actionsim.Job {
	st.jobs++
	return newJob(st.Config, st.Report, checkRunID0+int64(len(st.Report.Legs)+st.jobs-1), with)
}

// succeeded returns the environment of the matrix a scene should read: want if its leg ended
// success, else the first leg that did; "" when none did.
func (st *Stage) succeeded(want string) string {
	first := ""
	for _, l := range st.Report.Legs {
		if l.WantFinal != "success" || len(l.Deployments) != 1 {
			continue
		}
		if l.Environment == want {
			return want
		}
		if first == "" {
			first = l.Environment
		}
	}
	return first
}

func (st *Stage) leg(env string) Leg {
	for _, l := range st.Report.Legs {
		if l.Environment == env {
			return l
		}
	}
	return Leg{}
}

// playWaitLatest is the consumer side: a job that waits for the commit's deployment to staging
// (as end-to-end tests wait for a preview), and one that asks what is live in production (as a
// promotion or a roll-back does). Both only read.
func playWaitLatest(ctx context.Context, st *Stage) (*SceneReport, error) {
	r := &SceneReport{}
	waitEnv, latestEnv := st.succeeded("staging"), st.succeeded("production")
	if waitEnv == "" {
		r.line("skipped: no environment of the matrix ended success")
		return r, nil
	}
	for _, c := range []struct {
		env  string
		with map[string]string
		what string
	}{
		{waitEnv, map[string]string{"mode": "wait", "environment": waitEnv, "wait-timeout": "20s"},
			fmt.Sprintf("mode: wait, environment: %s (the run's commit; fails at once if it fails or a newer commit supersedes it)", waitEnv)},
		{latestEnv, map[string]string{"mode": "latest", "environment": latestEnv},
			fmt.Sprintf("mode: latest, environment: %s (the deployment whose latest status is success and came last)", latestEnv)},
	} {
		d := st.leg(c.env).Deployments[0]
		res, err := st.Job(c.with).Run(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s job: %w", c.with["mode"], err)
		}
		r.line("%s", c.what)
		if res.JobStatus != "success" {
			r.problem("%s %s: job ended %s (%v)", c.with["mode"], c.env, res.JobStatus, res.StageErrors)
			continue
		}
		o := res.Outputs
		r.line("  job %s: deployment-id %s, state %s, sha %s, environment-url %s", res.JobStatus, o["deployment-id"], o["state"], short(o["sha"]), o["environment-url"])
		if o["deployment-id"] != strconv.FormatInt(d.ID, 10) || o["state"] != "success" || o["environment-url"] != "https://"+c.env+".example.com" {
			r.problem("%s %s: outputs %v, want deployment %d, state success and its environment URL", c.with["mode"], c.env, o, d.ID)
		}
	}
	r.line("Here state is the deployment's latest state, success: these jobs run after post finished it.")
	return r, nil
}

// playCommand is ChatOps: alice (write access) comments "/deploy staging" on a pull request from
// feature-x; the command job reacts, checks her role, the pull request and its head commit's
// checks, deploys that commit to staging, and keeps one result comment up to date.
func playCommand(ctx context.Context, st *Stage) (*SceneReport, error) {
	r := &SceneReport{}
	e, rep := st.Emulator, st.Report
	owner, name, _ := strings.Cut(rep.Repository, "/")
	const head, commenter, body = "feature-x", "alice", "/deploy staging"
	pr, _, err := e.OpenPullRequest(owner, name, emulator.PullRequest{Head: head, User: "bob", Title: "New login page"})
	if err != nil {
		return nil, err
	}
	if err := e.SetRole(owner, name, commenter, emulator.RoleWrite); err != nil {
		return nil, err
	}
	// CI reported on the head before the review: a commit nobody checked is not deployed.
	if _, err := e.CreateCheckRun(owner, name, emulator.CheckRun{Name: "ci", HeadSHA: pr.HeadSHA, Status: "completed", Conclusion: "success"}); err != nil {
		return nil, err
	}
	cm, ev, err := e.AddComment(owner, name, pr.Number, commenter, body)
	if err != nil {
		return nil, err
	}
	j := st.Job(map[string]string{"mode": "command", "environments": "staging, production",
		"environment-url": "${{ steps.ship.outputs.url }}"})
	j.Env["GITHUB_EVENT_NAME"] = ev.Name
	j.Env["GITHUB_ACTOR"], j.Env["GITHUB_TRIGGERING_ACTOR"] = commenter, commenter // the event's sender
	j.Event = ev.Payload
	var during string
	j.StepsAfter = []actionsim.Step{{ID: "ship", If: "steps." + stepID + ".outputs.triggered == 'true'", Run: func(ctx context.Context, s *actionsim.StepRun) error {
		during = resultHeadline(e, owner, name, pr.Number)
		s.SetOutput("url", "https://staging.example.com")
		return nil
	}}}
	res, err := j.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("command job: %w", err)
	}
	r.line("#%d %q from %s; %s comments %q", pr.Number, pr.Title, head, commenter, body)
	o := res.Outputs
	r.line("job %s: triggered %s, environment %s, sha %s (the pull request's head), deployment-id %s", res.JobStatus, o["triggered"], o["environment"], short(o["sha"]), o["deployment-id"])
	var d *emulator.Deployment
	for _, x := range e.Deployments(owner, name) {
		if strconv.FormatInt(x.ID, 10) == o["deployment-id"] {
			d = &x
		}
	}
	if d == nil {
		r.problem("command: no deployment %q (job %s, errors %v)", o["deployment-id"], res.JobStatus, res.StageErrors)
		return r, nil
	}
	var states []string
	for _, s := range d.Statuses {
		states = append(states, s.State)
	}
	r.line("deployment %d of %s to %s: %s", d.ID, short(d.SHA), d.Environment, strings.Join(states, " -> "))
	var reactions []string
	for _, c := range e.Comments(owner, name, pr.Number) {
		if c.ID == cm.ID {
			for _, x := range c.Reactions {
				reactions = append(reactions, x.Content)
			}
		}
	}
	final := resultHeadline(e, owner, name, pr.Number)
	r.line("reactions on the command: %s", strings.Join(reactions, ", "))
	r.line("result comment while the deploy step ran: %s", during)
	r.line("result comment after post:                %s", final)
	if res.JobStatus != "success" || d.SHA != branchHead(head) || d.Environment != "staging" || strings.Join(states, ",") != "in_progress,success" ||
		strings.Join(reactions, ",") != "eyes,rocket" || !strings.HasPrefix(during, "**Deploying**") || !strings.HasPrefix(final, "**Deployed**") {
		r.problem("command: job %s, deployment of %s to %s (%s), reactions %v, result comment %q then %q; want success, %s to staging (in_progress,success), eyes and rocket, Deploying then Deployed",
			res.JobStatus, d.SHA, d.Environment, strings.Join(states, ","), reactions, during, final, branchHead(head))
	}
	return r, nil
}

// branchHead is the seeded repository's branch head.
func branchHead(branch string) string { return emulator.DefaultRepo().Branches[branch] }

// resultHeadline is the first line of the action's result comment on the pull request.
func resultHeadline(e *emulator.Emulator, owner, name string, number int) string {
	for _, c := range e.Comments(owner, name, number) {
		if c.User != emulator.DefaultUser {
			continue
		}
		for _, l := range strings.Split(c.Body, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "<!--") {
				return l
			}
		}
	}
	return "(none)"
}
