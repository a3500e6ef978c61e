package app

import (
	"fmt"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
)

// Summary renders the job summary for a stage: a table in main, one line in post.
func Summary(stage deploy.Stage, rep *deploy.Report) string {
	var b strings.Builder
	if rep.Cleanup != nil {
		c := rep.Cleanup
		verb := "Deactivated"
		if rep.Mode.Deletes {
			verb = "Cleaned up"
		}
		fmt.Fprintf(&b, "### %s environment %s\n\n", verb, md(c.Environment))
		b.WriteString("| Deployments found | Made inactive | Already inactive | Deleted | Failed |\n|---:|---:|---:|---:|---:|\n")
		fmt.Fprintf(&b, "| %d | %d | %d | %d | %d |\n", c.Found, c.Deactivated, c.AlreadyInactive, c.Deleted, c.Failed)
		if c.EnvironmentDeleted {
			fmt.Fprintf(&b, "\nThe environment %s was deleted.\n", md(c.Environment))
		}
		return b.String()
	}
	if rep.Mode.Shows == deploy.ShowsLookup {
		return lookupSummary(rep)
	}
	if stage == deploy.StagePost {
		if rep.Retired {
			fmt.Fprintf(&b, "Deployment %s to %s was removed: this step was skipped by its `if:`, which pre (at job start) does not see.\n",
				link(fmt.Sprint(rep.DeploymentID), rep.Page), md(rep.Environment))
			return b.String()
		}
		if rep.Recovered {
			fmt.Fprintf(&b, "Deployment %s was recovered after an interrupted start and ", link(fmt.Sprint(rep.DeploymentID), rep.Page))
		} else {
			fmt.Fprintf(&b, "Deployment %s ", link(fmt.Sprint(rep.DeploymentID), rep.Page))
		}
		fmt.Fprintf(&b, "to %s finished: **%s**", md(rep.Environment), md(rep.State))
		if rep.EnvironmentURL != "" {
			fmt.Fprintf(&b, " — %s", link(rep.EnvironmentURL, rep.EnvironmentURL))
		}
		b.WriteString("\n")
		return b.String()
	}
	fmt.Fprintf(&b, "### Deployment to %s\n\n", md(rep.Environment))
	b.WriteString("| Environment | Ref | Commit | State | Deployment | Environment URL | Logs |\n|---|---|---|---|---|---|---|\n")
	sha := deploy.ShortSHA(rep.SHA)
	fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", md(rep.Environment), code(rep.Ref), code(sha), md(rep.State),
		link(fmt.Sprint(rep.DeploymentID), rep.Page), link(rep.EnvironmentURL, rep.EnvironmentURL), link("job", rep.LogURL))
	if c := rep.Command; c != nil {
		fmt.Fprintf(&b, "\nRequested by %s on #%d with %s (%s).\n", md(c.Actor), c.PR, code(c.Text), link("comment", c.CommentURL))
	}
	if ch := rep.Checks; ch != nil {
		what := code(deploy.ShortSHA(ch.SHA))
		if ch.SHA == "" {
			what = code(ch.Ref)
		}
		if ch.Passed == 0 && len(ch.Ignored) == 0 {
			fmt.Fprintf(&b, "\nChecks of %s: none reported, nothing to wait for.\n", what)
		} else {
			fmt.Fprintf(&b, "\nChecks of %s: %d green", what, ch.Passed)
			if len(ch.Ignored) > 0 {
				fmt.Fprintf(&b, ", left out: %s", md(strings.Join(ch.Ignored, ", ")))
			}
			if ch.Polls > 1 {
				fmt.Fprintf(&b, ", after waiting %s (%d looks)", ch.Waited.Round(time.Second), ch.Polls)
			}
			b.WriteString(".\n")
		}
	}
	if rep.Rerun {
		fmt.Fprintf(&b, "\nThis is attempt %s of the run: it has its own deployment; the earlier attempt's deployment is left as it ended.\n", md(rep.RunAttempt))
	}
	if rep.Recovered {
		b.WriteString("\nThe deployment's create was interrupted; it was found and adopted instead of being created twice.\n")
	}
	if rp := rep.Replaced; rp != nil {
		fmt.Fprintf(&b, "\nDeployment %d, created at job start, was removed: %s.\n", rp.ID, md(rp.Why))
	}
	if rep.Deferred != "" && rep.CreatedHere {
		fmt.Fprintf(&b, "\nCreated at this step rather than at job start: %s (values from earlier steps are empty then).\n", md(rep.Deferred))
	}
	if stage == deploy.StageMain && rep.Mode.FinishesAtJobEnd() {
		b.WriteString("\nThe final state is set when the job ends.\n")
	}
	return b.String()
}

// md escapes untrusted text for a markdown table cell: no HTML, no table breaks, no line breaks.
func md(s string) string {
	if s == "" {
		return "—"
	}
	r := strings.NewReplacer("\\", "\\\\", "|", "\\|", "<", "&lt;", ">", "&gt;", "\r", " ", "\n", " ", "`", "\\`", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]")
	return r.Replace(s)
}

func code(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + strings.NewReplacer("`", "'", "|", "\\|", "\n", " ", "\r", " ").Replace(s) + "`"
}

// inert is text someone else wrote, in a code span: backticks cannot close it early, so no
// mention, link or HTML in it renders. Empty text shows as an empty span.
func inert(s string) string {
	if s == "" {
		return "` `"
	}
	return code(s)
}

// link renders a markdown link only for http(s) targets, so a URL from input cannot smuggle
// another scheme (javascript:) into the summary.
func link(text, target string) string {
	if target == "" || text == "" {
		return md(text)
	}
	if !strings.HasPrefix(target, "https://") && !strings.HasPrefix(target, "http://") {
		return md(text)
	}
	t := strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "|", "%7C", "\\", "%5C", "<", "%3C", ">", "%3E", "\n", "", "\r", "").Replace(target)
	return "[" + md(text) + "](" + t + ")"
}

// lookupSummary is wait's and latest's summary: what was looked for, what was found, with links,
// and (wait) for how long and at what cost.
func lookupSummary(rep *deploy.Report) string {
	var b strings.Builder
	if w := rep.Wait; w != nil {
		who := ""
		if w.Creator != "" {
			who = " by " + md(w.Creator)
		}
		fmt.Fprintf(&b, "### Waited for a deployment of %s to %s%s\n\n", code(deploy.ShortSHA(w.SHA)), md(w.Environment), who)
	} else {
		fmt.Fprintf(&b, "### Live in %s\n\n", md(rep.Environment))
	}
	if rep.DeploymentID == 0 {
		b.WriteString("No deployment found.\n")
	} else {
		b.WriteString("| Environment | Ref | Commit | Creator | State | Deployment | Environment URL | Logs |\n|---|---|---|---|---|---|---|---|\n")
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", md(rep.Environment), code(rep.Ref), code(deploy.ShortSHA(rep.SHA)), md(rep.Creator), md(rep.State),
			link(fmt.Sprint(rep.DeploymentID), rep.Page), link(rep.EnvironmentURL, rep.EnvironmentURL), link("log", rep.LogURL))
	}
	if w := rep.Wait; w != nil {
		fmt.Fprintf(&b, "\nWaited %s: %d looks, %d requests, %d of them answered \"not modified\" (free of rate limit).\n", w.Waited.Round(time.Second), w.Polls, rep.Requests, rep.NotModified)
	}
	return b.String()
}
