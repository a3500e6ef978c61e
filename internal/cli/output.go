package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/deployment-action/deployment-action/internal/config"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/deployment-action/deployment-action/internal/actions"
	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/explain"
	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// deploymentJSON is the --json shape of create, status, finish and trigger. Every field is always
// present so that scripts can rely on `jq -r .field` never being null.
type deploymentJSON struct {
	Repository     string `json:"repository"`
	DeploymentID   int64  `json:"deployment_id"`
	DeploymentURL  string `json:"deployment_url"`
	Environment    string `json:"environment"`
	Ref            string `json:"ref"`
	SHA            string `json:"sha"`
	StatusID       int64  `json:"status_id"`
	State          string `json:"state"`
	EnvironmentURL string `json:"environment_url"`
	LogURL         string `json:"log_url"`
}

// lookupJSON is the --json shape of wait and latest: the deployment found (deployment_id 0 when
// latest finds nothing live and --allow-none), who made it and when, and how long wait waited.
type lookupJSON struct {
	deploymentJSON
	Creator       string  `json:"creator"`
	CreatedAt     string  `json:"created_at"`
	WaitedSeconds float64 `json:"waited_seconds"`
}

// cleanupJSON is the --json shape of deactivate and delete.
type cleanupJSON struct {
	Repository         string  `json:"repository"`
	Environment        string  `json:"environment"`
	Found              int     `json:"found"`
	Deactivated        int     `json:"deactivated"`
	AlreadyInactive    int     `json:"already_inactive"`
	Deleted            int     `json:"deleted"`
	Failed             int     `json:"failed"`
	EnvironmentDeleted bool    `json:"environment_deleted"`
	DeploymentIDs      []int64 `json:"deployment_ids"`
}

// listedJSON is one element of list --json.
type listedJSON struct {
	DeploymentID   int64     `json:"deployment_id"`
	DeploymentURL  string    `json:"deployment_url"`
	Environment    string    `json:"environment"`
	Ref            string    `json:"ref"`
	SHA            string    `json:"sha"`
	Task           string    `json:"task"`
	Description    string    `json:"description"`
	Creator        string    `json:"creator"`
	CreatedAt      time.Time `json:"created_at"`
	State          string    `json:"state"`
	StatusID       int64     `json:"status_id"`
	EnvironmentURL string    `json:"environment_url"`
	LogURL         string    `json:"log_url"`
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// report prints what a command did; web is GitHub's web root, for the page the text links.
func (r *runner) report(o *opts, s *deploy.Settings, rep *deploy.Report, web string) error {
	repo := s.Owner + "/" + s.Repo
	if c := rep.Cleanup; c != nil {
		if o.json {
			ids := c.IDs
			if ids == nil {
				ids = []int64{}
			}
			return writeJSON(r.stdout, cleanupJSON{Repository: repo, Environment: c.Environment, Found: c.Found, Deactivated: c.Deactivated,
				AlreadyInactive: c.AlreadyInactive, Deleted: c.Deleted, Failed: c.Failed, EnvironmentDeleted: c.EnvironmentDeleted, DeploymentIDs: ids})
		}
		return r.cleanupText(s, c)
	}
	dj := deploymentJSON{Repository: repo, DeploymentID: rep.DeploymentID, DeploymentURL: rep.DeploymentURL,
		Environment: rep.Environment, Ref: rep.Ref, SHA: rep.SHA, StatusID: rep.StatusID, State: rep.State,
		EnvironmentURL: rep.EnvironmentURL, LogURL: rep.LogURL}
	if s.Mode.Shows == deploy.ShowsLookup {
		return r.lookupResult(o, s, rep, dj, web)
	}
	if o.json {
		return writeJSON(r.stdout, dj)
	}
	var b strings.Builder
	state := rep.State
	if state == "" {
		state = "no state set"
	}
	if s.Mode.Creates {
		fmt.Fprintf(&b, "Created deployment %d of %s to %s in %s: %s\n", rep.DeploymentID, oneLine(refSHA(rep.Ref, rep.SHA)), oneLine(rep.Environment), repo, oneLine(state))
	} else {
		fmt.Fprintf(&b, "Deployment %d to %s in %s is now %s\n", rep.DeploymentID, orDash(oneLine(rep.Environment)), repo, oneLine(state))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  Deployment:\t%s\n", orDash(oneLine(environmentPage(web, s, rep))))
	fmt.Fprintf(tw, "  Environment URL:\t%s\n", orDash(oneLine(rep.EnvironmentURL)))
	fmt.Fprintf(tw, "  Log URL:\t%s\n", orDash(oneLine(rep.LogURL)))
	_ = tw.Flush()
	if s.Mode.LeavesOpen && rep.State != "" {
		fmt.Fprintf(&b, "Finish it with: %s finish -R %s --deployment-id %d --state success\n", Name, repo, rep.DeploymentID)
	}
	return r.writeText(b.String())
}

// lookupResult prints what wait or latest found.
func (r *runner) lookupResult(o *opts, s *deploy.Settings, rep *deploy.Report, dj deploymentJSON, web string) error {
	lj := lookupJSON{deploymentJSON: dj, Creator: rep.Creator}
	if !rep.CreatedAt.IsZero() {
		lj.CreatedAt = rep.CreatedAt.UTC().Format(time.RFC3339)
	}
	if rep.Wait != nil {
		lj.WaitedSeconds = rep.Wait.Waited.Round(time.Millisecond).Seconds()
	}
	if o.json {
		if rep.DeploymentID == 0 {
			lj.Environment = s.Environment
		}
		return writeJSON(r.stdout, lj)
	}
	if rep.DeploymentID == 0 {
		return r.writeText(fmt.Sprintf("Nothing is live in %s in %s/%s\n", oneLine(s.Environment), s.Owner, s.Repo))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Deployment %d of %s to %s by %s is %s", rep.DeploymentID, oneLine(refSHA(rep.Ref, rep.SHA)), oneLine(rep.Environment), orDash(oneLine(rep.Creator)), oneLine(rep.State))
	if rep.Wait != nil {
		fmt.Fprintf(&b, " (waited %s)", rep.Wait.Waited.Round(time.Second))
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  Deployment:\t%s\n", orDash(oneLine(environmentPage(web, s, rep))))
	fmt.Fprintf(tw, "  Environment URL:\t%s\n", orDash(oneLine(rep.EnvironmentURL)))
	fmt.Fprintf(tw, "  Log URL:\t%s\n", orDash(oneLine(rep.LogURL)))
	_ = tw.Flush()
	return r.writeText(b.String())
}

// environmentPage is the deployment's page for people: its environment's deployments page
// (https://github.com/OWNER/REPO/deployments/ENV), not the API URL, which a browser shows as JSON.
func environmentPage(web string, s *deploy.Settings, rep *deploy.Report) string {
	if web == "" || rep.Environment == "" || rep.DeploymentID == 0 {
		return rep.DeploymentURL
	}
	return web + "/" + url.PathEscape(s.Owner) + "/" + url.PathEscape(s.Repo) + "/deployments/" + url.PathEscape(rep.Environment)
}

// webRoot is GitHub's web address for the API the CLI talks to: the run's GITHUB_SERVER_URL in
// GitHub Actions, else the API URL's, as gh maps hosts: api.github.com is github.com,
// api.SUB.ghe.com is SUB.ghe.com, a GHES HOST/api/v3 is HOST. "" when it cannot be told.
func webRoot(rn config.Env) string {
	if rn.Actions && strings.TrimSpace(rn.ServerURL) != "" {
		return strings.TrimSuffix(strings.TrimSpace(rn.ServerURL), "/")
	}
	return ghapi.WebURL(rn.APIURL)
}

// writeText prints human output. Text in it comes from GitHub's answers (which anyone who can
// create a deployment shapes): inside a workflow's run: step, a line starting with "::" would be
// a workflow command, so the output is made inert as the action's own log is.
func (r *runner) writeText(s string) error {
	_, err := io.WriteString(r.stdout, inert(s))
	return err
}

// oneLine keeps a value from GitHub on one line, without control characters (terminal escapes).
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func (r *runner) cleanupText(s *deploy.Settings, c *deploy.CleanupReport) error {
	var b strings.Builder
	repo := s.Owner + "/" + s.Repo
	switch {
	case c.Found == 0:
		fmt.Fprintf(&b, "No deployments of %s in %s: nothing to %s\n", c.Environment, repo, s.Mode)
	case s.Mode.Deletes:
		fmt.Fprintf(&b, "Deleted %d of %d deployments of %s in %s (%d made inactive first, %d already inactive)\n",
			c.Deleted, c.Found, c.Environment, repo, c.Deactivated, c.AlreadyInactive)
	default:
		fmt.Fprintf(&b, "Made %d deployments of %s in %s inactive (%d found, %d already inactive)\n",
			c.Deactivated, c.Environment, repo, c.Found, c.AlreadyInactive)
	}
	if c.Failed > 0 {
		fmt.Fprintf(&b, "%d deployments could not be handled (see the error)\n", c.Failed)
	}
	if c.EnvironmentDeleted {
		fmt.Fprintf(&b, "Deleted the environment %s\n", c.Environment)
	}
	return r.writeText(b.String())
}

func (r *runner) printList(o *opts, s *deploy.Settings, ls []deploy.Listed) error {
	if o.json {
		out := make([]listedJSON, 0, len(ls))
		for _, l := range ls {
			out = append(out, listedJSON{DeploymentID: l.ID, DeploymentURL: l.URL, Environment: l.Environment, Ref: l.Ref, SHA: l.SHA,
				Task: l.Task, Description: l.Description, Creator: l.Creator, CreatedAt: l.CreatedAt.UTC(), State: l.State,
				StatusID: l.StatusID, EnvironmentURL: l.EnvironmentURL, LogURL: l.LogURL})
		}
		return writeJSON(r.stdout, out)
	}
	if len(ls) == 0 {
		_, err := fmt.Fprintf(r.stdout, "No deployments found in %s/%s\n", s.Owner, s.Repo)
		return err
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tENVIRONMENT\tREF\tSHA\tSTATE\tCREATED")
	now := r.now()
	for _, l := range ls {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", l.ID, cell(l.Environment), cell(l.Ref), cell(short(l.SHA)), cell(l.State), ago(now, l.CreatedAt))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return r.writeText(b.String())
}

// cell keeps a value from breaking the table: names come from whoever created the deployment.
func cell(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r < ' ' {
			return ' '
		}
		return r
	}, s)
	if len([]rune(s)) > 40 {
		s = string([]rune(s)[:39]) + "…"
	}
	return orDash(s)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return orDash(sha)
}

func refSHA(ref, sha string) string {
	if ref == "" {
		return short(sha)
	}
	if sha == "" || strings.HasPrefix(sha, ref) {
		return ref
	}
	return fmt.Sprintf("%s (%s)", ref, short(sha))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ago is a deployment's age as people read it; past a month the date says more.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, unit)
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d < 30*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	}
	return t.UTC().Format("2006-01-02")
}

// ---- errors ----

// cliError explains an error in the CLI's words (flags, environment variables); a usage error is
// kept as it is for its exit code.
func cliError(err error) error {
	if err == nil {
		return nil
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return err
	}
	// Input the command cannot run with (a missing token or repository, a bad flag value) exits
	// 2, as a missing flag does; everything that happened after the input was good exits 1.
	code := 1
	var ps config.Problems
	if errors.As(err, &ps) {
		code = 2
	}
	return &explain.Explained{Msg: inert(explain.Error(cliWords{}, err)), Err: err, Code: code}
}

// inert makes text that may quote GitHub's answers safe to print: no terminal escapes or other
// control characters (line breaks kept), and no line a workflow runner would read as a command.
func inert(s string) string {
	return actions.SafeLine(strings.Map(func(r rune) rune {
		if r != '\n' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// cliWords is how the CLI speaks of the action's inputs: as its flags.
type cliWords struct{}

func (cliWords) Subject(input string) string {
	switch input {
	case "token", "repository":
		return input // they come from the environment as often as from a flag
	}
	return "--" + input
}

func (cliWords) Input(input string) string { return flagName(input) }

func (cliWords) Assign(input, value string) string {
	switch {
	case input == "repository":
		return "-R " + value
	case value == "true": // the CLI's boolean flags take no value
		return "--" + input
	case value == "false":
		return "--" + input + "=false"
	}
	return "--" + input + " " + value
}

func (cliWords) Mode(name string) string { return "the " + name + " command" }

func (cliWords) Missing(input string) string {
	switch input {
	case "token":
		return "set GH_TOKEN (or GITHUB_TOKEN), or pass --token, with a token that has deployments write access"
	case "repository":
		return "pass -R owner/name, or set GH_REPO (or GITHUB_REPOSITORY)"
	case "deployment-id":
		return "pass --deployment-id with the id create printed (create --json | jq .deployment_id)"
	}
	return ""
}

// LeaveEmpty: a flag is left out, and where the CLI's default differs from the action's it says so.
func (cliWords) LeaveEmpty(input, does string) string {
	switch input {
	case "sha":
		return "leave --sha out for $GITHUB_SHA (the commit a CI job checked out)"
	case "appear-timeout":
		return "leave --appear-timeout out to wait up to --wait-timeout"
	case "log-url":
		return "leave --log-url out for no log link (inside a GitHub Actions run: the job's page)"
	}
	return "leave --" + input + " out " + does
}

func (cliWords) Permission(a explain.Access) string {
	var fine []string
	for _, x := range a.Each() {
		fine = append(fine, x.FineGrained())
	}
	return "the token needs " + strings.Join(fine, " or ") + " (fine-grained token) or the " + a.Classic() + " scope (classic token)"
}

// Literal quotes text someone else wrote, so a terminal shows exactly where it starts and ends.
func (cliWords) Literal(s string) string { return strconv.Quote(s) }

func (cliWords) TokenSource() string {
	return "the token (--token, else $GH_TOKEN, else $GITHUB_TOKEN)"
}

func flagName(input string) string {
	switch input {
	case "repository":
		return "-R/--repo"
	case "token":
		return "--token"
	}
	return "--" + input
}
