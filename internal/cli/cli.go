// Package cli is the binary's command-line face for deploy scripts outside GitHub Actions
// (Jenkins, Bash, cron): the action's modes as commands, its inputs as flags. It builds the same
// config.Config the action builds and runs the same deploy code, so both share every rule.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/config"
	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/lock"
)

// Name is how the help refers to the binary.
const Name = "deployment-action"

// UsageError is a command line the CLI cannot run (unknown command or flag, missing required
// flag): main exits 2 with it, as gh and most Unix tools do.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ExitCode is what main exits with.
func (e *UsageError) ExitCode() int { return 2 }

func usagef(cmd, format string, args ...any) error {
	help := Name + " --help"
	if cmd != "" {
		help = Name + " " + cmd + " --help"
	}
	return &UsageError{Msg: fmt.Sprintf(format, args...) + " (see '" + help + "')"}
}

// Run runs the CLI. args are the words after the binary's name, e.g. ["create", "--environment",
// "staging"]. Errors are returned, not printed: main prints them on one line and exits 1, or 2
// for a *UsageError.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return RunWith(ctx, deploy.Modes(), args, getenv, stdout, stderr)
}

// RunWith is Run with the commands of the given mode table (Run's is deploy.Modes()).
func RunWith(ctx context.Context, modes deploy.Table, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return (&runner{modes: modes, getenv: getenv, stdout: stdout, stderr: stderr, now: time.Now}).run(ctx, args)
}

// runner carries one invocation's I/O; tests inject the clock so relative times are stable.
type runner struct {
	modes          deploy.Table // the modes whose commands the CLI offers
	getenv         func(string) string
	stdout, stderr io.Writer
	now            func() time.Time
	httpClient     *http.Client // nil: a fresh transport; tests pass a TLS test server's client
	// sleep and retryNow pace retries; nil is a real timer and time.Now (tests pass a manual
	// clock, so no test waits out a backoff).
	sleep    func(ctx context.Context, d time.Duration) error
	retryNow func() time.Time
}

func (r *runner) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return r.help(nil)
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help", "-help":
		if len(args) > 1 && name == "help" {
			c := r.lookup(args[1])
			if c == nil {
				return usagef("", "unknown command %q", args[1])
			}
			return r.help(c)
		}
		return r.help(nil)
	}
	c := r.lookup(name)
	if c == nil {
		if strings.HasPrefix(name, "-") {
			return usagef("", "unknown flag %s: a command comes first, for example '%s create --environment staging'", name, Name)
		}
		return usagef("", "unknown command %q", name)
	}
	o, err := parse(c, args[1:])
	if err != nil {
		return err
	}
	if o.help {
		return r.help(c)
	}
	return c.run(ctx, r, o)
}

// opts is one parsed command line: every flag's raw text, and which were given.
type opts struct {
	cmd   *command
	vals  map[string]string
	given map[string]bool
	json  bool
	help  bool
}

func (o *opts) get(name string) string { return o.vals[name] }

// value stores a flag's raw text so that typed checks (booleans included) happen in
// config.Validate and produce the action's messages.
type value struct {
	o      *opts
	name   string
	isBool bool
}

func (v value) String() string { return "" }
func (v value) Set(s string) error {
	v.o.vals[v.name] = s
	v.o.given[v.name] = true
	return nil
}
func (v value) IsBoolFlag() bool { return v.isBool }

func parse(c *command, args []string) (*opts, error) {
	o := &opts{cmd: c, vals: map[string]string{}, given: map[string]bool{}}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for _, f := range append(c.flags, globalFlags...) {
		v := value{o: o, name: f.name, isBool: f.arg == ""}
		fs.Var(v, f.name, f.usage)
		if f.short != "" {
			fs.Var(v, f.short, f.usage)
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, usagef(c.name, "%s", flagError(err))
	}
	if fs.NArg() > 0 {
		return nil, usagef(c.name, "unexpected argument %q: %s takes flags only", fs.Arg(0), c.name)
	}
	var err error
	if o.help, err = strictBool(o, "help"); err != nil {
		return nil, err
	}
	if o.help {
		return o, nil
	}
	if o.json, err = strictBool(o, "json"); err != nil {
		return nil, err
	}
	for _, f := range c.flags {
		if f.required && strings.TrimSpace(o.vals[f.name]) == "" {
			return nil, usagef(c.name, "missing --%s: %s", f.name, f.why)
		}
	}
	return o, nil
}

// strictBool reads a CLI-only boolean flag (not an action input, so not Validate's business).
func strictBool(o *opts, name string) (bool, error) {
	if !o.given[name] {
		return false, nil
	}
	b, err := strconv.ParseBool(o.vals[name])
	if err != nil {
		return false, usagef(o.cmd.name, "--%s=%s: use true or false", name, o.vals[name])
	}
	return b, nil
}

// flagError rewords the flag package's messages into the --name spelling the help uses.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + dashes(name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return dashes(name) + " needs a value"
	}
	return msg
}

func dashes(name string) string {
	name = strings.TrimLeft(name, "-")
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// ---- configuration ----

// settings loads and validates a command's inputs through the action's own path (config.Load,
// then Validate): the flags are the inputs, the environment supplies the token and repository as
// gh does, and there is no job, so "the job's status so far" (finish's default) is success.
func (r *runner) settings(ctx context.Context, o *opts, mode deploy.Mode) (*deploy.Settings, config.Env, error) {
	in := map[string]string{}
	for name, v := range o.vals {
		in[name] = v
	}
	in["token"] = r.token(o)
	in["repository"] = firstNonEmpty(o.get("repo"), r.getenv("GH_REPO"), r.getenv("GITHUB_REPOSITORY"))
	in["mode"] = mode.Name
	in["job-status"] = "success"
	cfg, err := config.Load(ctx, config.MapInputs(in), config.EnvLookuper(r.getenv))
	if err != nil {
		return nil, config.Env{}, err
	}
	cfg.Modes = r.modes
	cfg.Env.APIURL = apiURL(r.getenv)
	s, err := cfg.ValidateAs(mode, 0)
	if err != nil {
		return nil, cfg.Env, err
	}
	return s, cfg.Env, nil
}

// token follows gh: the flag, then GH_TOKEN and GITHUB_TOKEN; for a GitHub Enterprise Server host
// named by GH_HOST, gh's GH_ENTERPRISE_TOKEN and GITHUB_ENTERPRISE_TOKEN are read as well.
func (r *runner) token(o *opts) string {
	tok := firstNonEmpty(o.get("token"), r.getenv("GH_TOKEN"), r.getenv("GITHUB_TOKEN"))
	if host := strings.TrimSpace(r.getenv("GH_HOST")); tok == "" && host != "" && !strings.EqualFold(host, "github.com") {
		tok = firstNonEmpty(r.getenv("GH_ENTERPRISE_TOKEN"), r.getenv("GITHUB_ENTERPRISE_TOKEN"))
	}
	return tok
}

// apiURL is where the API lives; the resolution is ghapi.APIURLFromEnv (shared with the server).
func apiURL(getenv func(string) string) string { return ghapi.APIURLFromEnv(getenv) }

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// connectBudget caps the retries of a call that never reached a server (connection refused, a
// DNS failure): someone at a terminal hears about a wrong or dead host in seconds, not a minute.
const connectBudget = 20 * time.Second

// deployer is the Deployer of one command, with its client from deploy.NewClient (as the
// action's and the server's): retries said on stderr, one line each, and connection-level
// failures capped at connectBudget. Progress (what wait sees change) goes to stderr too: stdout
// is the result, for scripts.
func (r *runner) deployer(s *deploy.Settings, rn config.Env) (*deploy.Deployer, error) {
	api, err := r.client(s, rn)
	if err != nil {
		return nil, err
	}
	return &deploy.Deployer{API: api, Owner: s.Owner, Repo: s.Repo, Modes: r.modes, Notef: r.notef, Poll: rn.Poll(), Locks: lock.New(api, s.Owner, s.Repo, r.now)}, nil
}

// client is the API client of one command (the lock commands' too).
func (r *runner) client(s *deploy.Settings, rn config.Env) (*ghapi.Client, error) {
	return deploy.NewClient(s, deploy.ClientOptions{APIURL: rn.APIURL, HTTPClient: r.httpClient,
		Retry: ghapi.RetryPolicy{ConnectBudget: connectBudget, Sleep: r.sleep, Now: r.retryNow}, Notef: r.notef})
}

// notef prints a line for the person at the terminal on stderr.
func (r *runner) notef(format string, args ...any) {
	fmt.Fprintln(r.stderr, inert(fmt.Sprintf(format, args...)))
}

// runFrom describes the surrounding Actions run when the CLI is used in a `run:` step, so the
// default log URL links it as the action's does; outside Actions it is empty.
func runFrom(rn config.Env) deploy.Run {
	if !rn.Actions {
		return deploy.Run{}
	}
	return deploy.Run{ServerURL: rn.ServerURL, Repository: rn.Repository, RunID: rn.RunID, RunAttempt: rn.RunAttempt, Job: rn.Job}
}

// ---- commands ----

// stage runs one action mode through deploy.Stage, as the action's main stage would.
func (r *runner) stage(ctx context.Context, o *opts, mode deploy.Mode) error {
	c := o.cmd
	if c.check != nil {
		if msg := c.check(o.get); msg != "" {
			return usagef(c.name, "%s", msg)
		}
	}
	if err := r.envDefaults(o); err != nil {
		return err
	}
	s, rn, err := r.settings(ctx, o, mode)
	if err != nil {
		return cliError(err)
	}
	d, err := r.deployer(s, rn)
	if err != nil {
		return err
	}
	j := deploy.Job{Stage: deploy.StageMain, Settings: s, Run: runFrom(rn), Ref: s.Ref, SHA: s.SHA, State: memState{}}
	if mode.Existing {
		// Read the deployment first: a wrong id fails before anything is written, the output can
		// name its environment, and the environment URL is carried so a new status keeps the link.
		if j.Prior, err = d.Get(ctx, s.DeploymentID); err != nil {
			return cliError(err)
		}
	}
	rep, err := d.Stage(ctx, j)
	if rep != nil && (rep.DeploymentID != 0 || rep.Cleanup != nil || mode.Shows == deploy.ShowsLookup && err == nil) {
		if werr := r.report(o, s, rep, webRoot(rn)); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return cliError(err)
	}
	return nil
}

// envDefaults fills the flags left empty that default to an environment variable (wait's --sha
// is $GITHUB_SHA); with neither, the flag is missing.
func (r *runner) envDefaults(o *opts) error {
	for _, f := range o.cmd.flags {
		if f.env == "" || strings.TrimSpace(o.vals[f.name]) != "" {
			continue
		}
		v := strings.TrimSpace(r.getenv(f.env))
		if v == "" {
			return usagef(o.cmd.name, "missing --%s: %s (%s is not set)", f.name, f.why, f.env)
		}
		o.vals[f.name] = v
	}
	return nil
}

// listMode is what the list command reads: filters, none required. It is not an action mode.
var listMode = deploy.Mode{Name: "list", Inputs: []string{"environment", "ref"}}

// memState is the StateStore of one CLI call: there is no later stage to hand values to.
type memState map[string]string

func (m memState) State(name string) string { return m[name] }
func (m memState) SaveState(name, value string) error {
	m[name] = value
	return nil
}

func (r *runner) list(ctx context.Context, o *opts) error {
	limit := 30
	if v := o.get("limit"); o.given["limit"] {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return usagef("list", "--limit %q: use a positive number", v)
		}
		limit = n
	}
	// list only reads: its inputs are the filters, validated as any mode's.
	s, rn, err := r.settings(ctx, o, listMode)
	if err != nil {
		return cliError(err)
	}
	d, err := r.deployer(s, rn)
	if err != nil {
		return err
	}
	ls, err := d.List(ctx, deploy.ListSpec{Environment: s.Environment, Ref: s.Ref, Task: o.get("task"), Limit: limit})
	if err != nil {
		return cliError(err)
	}
	return r.printList(o, s, ls)
}
