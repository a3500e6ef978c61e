package demo

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints the report for a person: setup, jobs, deployments with their status
// transitions, job outputs, webhooks with what Checkly does, then a one-line verdict.
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	table := func(rows [][]string) {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, row := range rows {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
	}

	p("deployment-action demo: %d jobs of a matrix run the action's stages against an emulated GitHub\n", len(r.Legs))
	p("  repository  %s, push to %s (%s), run %s attempt %s\n", r.Repository, r.Ref, short(r.SHA), r.RunID, r.RunAttempt)
	p("  GitHub API  %s (in-process emulator; the jobs' GITHUB_API_URL)\n", r.APIURL)
	p("  webhooks    %s (Checkly-style consumer, secret-signed)\n", r.WebhookURL)
	if r.Fail != "" {
		p("  --fail      the deploy step of %s fails\n", r.Fail)
	}

	p("\nJobs: pre (job set-up) -> deploy step -> main -> post (job clean-up)\n")
	var rows [][]string
	for _, l := range r.Legs {
		var stages []string
		for _, s := range []string{"pre", "deploy", "main", "post"} {
			switch {
			case s == "deploy":
				stages = append(stages, "deploy step "+l.DeployStep)
			case slices.Contains(l.Ran, s):
				stages = append(stages, s)
			default:
				stages = append(stages, s+" skipped")
			}
		}
		rows = append(rows, []string{"  " + l.Environment, "job " + l.JobStatus, strings.Join(stages, ", "), l.JobURL})
	}
	table(rows)
	for _, l := range r.Legs {
		for _, wmsg := range l.Warnings {
			p("  %s: %s\n", l.Environment, oneLine(wmsg))
		}
	}

	p("\nDeployments (statuses oldest first)\n")
	rows = nil
	for _, l := range r.Legs {
		if len(l.Deployments) == 0 {
			rows = append(rows, []string{"  " + l.Environment, "no deployment"})
		}
		for _, d := range l.Deployments {
			var states []string
			for _, s := range d.Statuses {
				states = append(states, s.State)
			}
			rows = append(rows, []string{"  " + l.Environment, fmt.Sprintf("deployment %d", d.ID),
				fmt.Sprintf("%s@%s", d.Ref, short(d.SHA)), "task " + d.Task, strings.Join(states, " -> ")})
			for _, s := range d.Statuses {
				env := "env -"
				if s.EnvironmentURL != "" {
					env = "env " + s.EnvironmentURL
				}
				rows = append(rows, []string{"", "  " + s.State, env, "log " + s.LogURL})
			}
		}
	}
	table(rows)

	p("\nOutputs (steps.%s.outputs, set by main)\n", stepID)
	// main runs before post sets the final status: outputs are what later steps of the job see.
	p("  main runs before post finishes the deployment, so state is in_progress here; the final\n")
	if slices.ContainsFunc(r.Scenes, func(s SceneReport) bool { return s.Name == "wait" }) {
		p("  state is under Deployments above, and the wait and latest jobs below read it as success.\n")
	} else {
		p("  state is under Deployments above.\n")
	}
	for _, l := range r.Legs {
		if len(l.Outputs) == 0 {
			p("  %s: none (main did not run: an earlier step failed)\n", l.Environment)
			continue
		}
		p("  %s\n", l.Environment)
		keys := make([]string, 0, len(l.Outputs))
		for k := range l.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		rows = nil
		for _, k := range keys {
			v := l.Outputs[k]
			if v == "" {
				v = `""`
			}
			rows = append(rows, []string{"    " + k, v})
		}
		table(rows)
	}

	verified := 0
	for _, ev := range r.Events {
		if ev.Verified {
			verified++
		}
	}
	p("\nWebhooks received (X-Hub-Signature-256 checked with HMAC-SHA256 in constant time)\n")
	rows = nil
	for _, ev := range r.Events {
		what := ev.Action
		if ev.Event == "deployment_status" {
			what = ev.State
		}
		sig := "signature NOT verified"
		if ev.Verified {
			sig = "signature verified"
		}
		rows = append(rows, []string{"  " + ev.Environment, ev.Event, what, fmt.Sprintf("deployment %d", ev.DeploymentID), sig, "Checkly: " + ev.Decision})
	}
	table(rows)
	forged := "NOT rejected"
	if r.ForgedStatus == http.StatusUnauthorized {
		forged = "rejected"
	}
	p("  a deployment_status signed with a wrong secret: answered %d (%s)\n", r.ForgedStatus, forged)

	for _, sc := range r.Scenes {
		p("\n%s\n", sc.Title)
		for _, l := range sc.Lines {
			if l == "" {
				p("\n")
				continue
			}
			p("  %s\n", l)
		}
	}

	p("\n")
	if len(r.Problems) > 0 {
		p("Problems\n")
		for _, pr := range r.Problems {
			p("  - %s\n", oneLine(pr))
		}
		p("FAILED: %d problem(s); wall time %s\n", len(r.Problems), r.Elapsed.Round(time.Millisecond))
	} else {
		var finals, checks []string
		for _, l := range r.Legs {
			f := l.Environment + " " + l.WantFinal
			if l.Environment == r.Fail {
				f += " as --fail asked"
			}
			finals = append(finals, f)
		}
		for _, ev := range r.Events {
			if ev.RunsChecks {
				checks = append(checks, ev.Environment)
			}
		}
		ck := "Checkly runs no checks"
		if len(checks) > 0 {
			ck = "Checkly runs checks for " + strings.Join(checks, ", ")
		}
		deployments := "deployments"
		if len(r.Legs) == 1 {
			deployments = "deployment"
		}
		p("OK: %d %s final (%s), %d/%d webhooks verified, %s; wall time %s\n",
			len(r.Legs), deployments, strings.Join(finals, ", "), verified, r.Deliveries, ck, r.Elapsed.Round(time.Millisecond))
	}
	_, err := w.Write(b.Bytes())
	return err
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
