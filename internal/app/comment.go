package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/explain"
)

// commentTexts renders what command mode writes on a pull request: the reply to a command that
// was not run (explained in the action's words) and the one result comment, edited at job end.
type commentTexts struct{}

var _ deploy.CommandTexts = commentTexts{}

// Reply mentions the commenter (they asked, so they hear why not) and quotes the command as code,
// so that nothing in it can mention, link or format.
// Someone with no role on the repository gets the minimum: none of their text comes back.
func (commentTexts) Reply(c *deploy.Command, err error) string {
	why := strings.TrimSuffix(explain.Error(actionWords{}, err), ".")
	var ref *deploy.Refusal
	if errors.As(err, &ref) && ref.Minimal() {
		return fmt.Sprintf("@%s the command was not run: %s.\n", c.Actor, why)
	}
	return fmt.Sprintf("@%s %s was not run: %s.\n", c.Actor, inert(c.Text), why)
}

// Result is the result comment: what is deployed where, its state, and the links; the same
// comment is edited when the job ends.
func (commentTexts) Result(c *deploy.Command, r *deploy.Report) string {
	var b strings.Builder
	what := fmt.Sprintf("%s (%s) to **%s**", code(deploy.ShortSHA(r.SHA)), code(c.HeadRef), md(r.Environment))
	switch {
	case r.Retired:
		fmt.Fprintf(&b, "**Not deployed:** %s — the deploy step was skipped by its `if:`, so the deployment made at job start was removed.\n", what)
	case r.State == "success":
		fmt.Fprintf(&b, "**Deployed** %s.\n", what)
	case r.State == "failure":
		fmt.Fprintf(&b, "**Deploy failed:** %s.\n", what)
	case r.State == "error":
		fmt.Fprintf(&b, "**Deploy did not complete:** %s (the job was cancelled or could not finish).\n", what)
	case r.State == "inactive":
		fmt.Fprintf(&b, "**Deploy ended inactive:** %s.\n", what)
	default:
		fmt.Fprintf(&b, "**Deploying** %s …\n", what)
	}
	b.WriteString("\n| Environment | Commit | State | Environment URL | Deployment | Logs |\n|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", md(r.Environment), code(deploy.ShortSHA(r.SHA)), md(r.State),
		link(r.EnvironmentURL, r.EnvironmentURL), link(fmt.Sprint(r.DeploymentID), r.Page), link("job", r.LogURL))
	fmt.Fprintf(&b, "\nRequested by %s with %s", md(c.Actor), link("this comment", c.CommentURL))
	if c.Pinned != 0 {
		fmt.Fprintf(&b, "; attempt %s of the run deploys the commit of deployment %d again (a re-run repeats the command, whatever was pushed since)", md(r.RunAttempt), c.Pinned)
	}
	b.WriteString(".\n")
	return b.String()
}
