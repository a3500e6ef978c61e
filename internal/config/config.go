// Package config turns inputs (the runner's INPUT_* variables with hyphens kept, or the CLI's
// flags) and the run's environment (GITHUB_*) into one typed configuration, and validates every
// input at once before any API call is made. The action and the CLI load through the same path:
// only the lookuper differs, and every default is written once, in the struct tags below (a test
// compares them with action.yml's).
package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sethvargo/go-envconfig"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// Inputs are the action's inputs as declared in action.yml, as raw text: parsing happens in
// Validate so that every bad input is reported at once instead of the first one only. The
// envconfig key of a field is its input's name upper-cased with "_" for "-".
type Inputs struct {
	Token                 ghapi.Token `env:"TOKEN"`
	Repository            string      `env:"REPOSITORY"`
	Mode                  string      `env:"MODE, default=auto"`
	Enabled               string      `env:"ENABLED, default=true"`
	Environment           string      `env:"ENVIRONMENT"`
	Ref                   string      `env:"REF"`
	Task                  string      `env:"TASK, default=deploy"`
	Payload               string      `env:"PAYLOAD"`
	Description           string      `env:"DESCRIPTION"`
	EnvironmentURL        string      `env:"ENVIRONMENT_URL"`
	LogURL                string      `env:"LOG_URL"`
	AutoMerge             string      `env:"AUTO_MERGE, default=false"`
	RequiredContexts      string      `env:"REQUIRED_CONTEXTS"`
	TransientEnvironment  string      `env:"TRANSIENT_ENVIRONMENT, default=false"`
	ProductionEnvironment string      `env:"PRODUCTION_ENVIRONMENT"`
	AutoInactive          string      `env:"AUTO_INACTIVE, default=true"`
	InitialState          string      `env:"INITIAL_STATE, default=in_progress"`
	State                 string      `env:"STATE"`
	DeploymentID          string      `env:"DEPLOYMENT_ID"`
	CancelledState        string      `env:"CANCELLED_STATE, default=error"`
	DeleteEnvironment     string      `env:"DELETE_ENVIRONMENT, default=false"`
	JobStatus             string      `env:"JOB_STATUS"`
	JobCheckRunID         string      `env:"JOB_CHECK_RUN_ID"`
	SHA                   string      `env:"SHA"`
	Creator               string      `env:"CREATOR"`
	WaitTimeout           string      `env:"WAIT_TIMEOUT, default=10m"`
	AppearTimeout         string      `env:"APPEAR_TIMEOUT"`
	AllowNone             string      `env:"ALLOW_NONE, default=false"`
	ExcludeSHA            string      `env:"EXCLUDE_SHA"`
	RequireDeployedIn     string      `env:"REQUIRE_DEPLOYED_IN"`
	// The checks gate and ChatOps (mode command).
	WaitForChecks     string `env:"WAIT_FOR_CHECKS, default=false"`
	ChecksTimeout     string `env:"CHECKS_TIMEOUT, default=10m"`
	IgnoreChecks      string `env:"IGNORE_CHECKS"`
	RequiredChecks    string `env:"REQUIRED_CHECKS"`
	AllowNoChecks     string `env:"ALLOW_NO_CHECKS, default=false"`
	Command           string `env:"COMMAND, default=/deploy"`
	Environments      string `env:"ENVIRONMENTS"`
	AllowedPermission string `env:"ALLOWED_PERMISSION, default=write"`
	AllowForks        string `env:"ALLOW_FORKS, default=false"`
	// Deployment locks.
	IgnoreLocks string `env:"IGNORE_LOCKS, default=false"`
}

// Env is what the Actions runner (or a CI system, for the CLI) says about the run.
type Env struct {
	Actions    bool   `env:"GITHUB_ACTIONS"`
	Repository string `env:"GITHUB_REPOSITORY"`
	APIURL     string `env:"GITHUB_API_URL, default=https://api.github.com"`
	ServerURL  string `env:"GITHUB_SERVER_URL, default=https://github.com"`
	RunID      string `env:"GITHUB_RUN_ID"`
	RunAttempt string `env:"GITHUB_RUN_ATTEMPT, default=1"`
	// TriggeringActor started this attempt (a re-run's is whoever re-ran it; GITHUB_ACTOR stays
	// the original run's).
	TriggeringActor string `env:"GITHUB_TRIGGERING_ACTOR"`
	Job             string `env:"GITHUB_JOB"`
	Workflow        string `env:"GITHUB_WORKFLOW"`
	EventName       string `env:"GITHUB_EVENT_NAME"`
	EventPath       string `env:"GITHUB_EVENT_PATH"`
	Ref             string `env:"GITHUB_REF"`
	HeadRef         string `env:"GITHUB_HEAD_REF"`
	SHA             string `env:"GITHUB_SHA"`
	Actor           string `env:"GITHUB_ACTOR"`
	// PollInterval overrides wait's first poll interval (tests, demos; see app).
	PollInterval string `env:"DEPLOYMENT_ACTION_POLL_INTERVAL"`
}

// Poll is wait's schedule: the default, or DEPLOYMENT_ACTION_POLL_INTERVAL's first interval (for
// tests and demos). Below a second it is honoured only against an API on this machine, so it can
// never hammer GitHub.
func (e Env) Poll() deploy.PollSchedule {
	p := deploy.DefaultPoll()
	d, err := time.ParseDuration(strings.TrimSpace(e.PollInterval))
	if err != nil || d <= 0 {
		return p
	}
	if d < time.Second {
		u, err := url.Parse(e.APIURL)
		if err != nil || !loopback(u.Hostname()) {
			return p
		}
	}
	p.Initial, p.Max = d, 6*d
	return p
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Config is the whole configuration of one stage or CLI command.
type Config struct {
	Inputs Inputs
	Env    Env
	// Modes is the mode table the mode input is looked up in; nil means deploy.Modes().
	Modes deploy.Table
	// unset are the inputs that had no value (before defaults), by name (environment-url).
	unset map[string]bool
}

// Unset reports whether the input (named as in action.yml) had no value when loaded: its value in
// Inputs, if any, is its default.
func (c *Config) Unset(input string) bool { return c.unset[input] }

func (c *Config) modes() deploy.Table {
	if c.Modes == nil {
		return deploy.Modes()
	}
	return c.Modes
}

// ActionInputs reads inputs the way the runner exports them: ENVIRONMENT_URL is read from
// INPUT_ENVIRONMENT-URL (the runner keeps hyphens, which go-envconfig rejects in names), and an
// empty value counts as unset because the runner exports every declared input, "" when unset.
func ActionInputs(getenv func(string) string) envconfig.Lookuper {
	return envconfig.LookuperFunc(func(key string) (string, bool) {
		v := getenv("INPUT_" + strings.ReplaceAll(key, "_", "-"))
		return v, v != ""
	})
}

// MapInputs reads inputs from a map keyed by input name (environment-url): the CLI's flags.
// Empty counts as unset, as for the action.
func MapInputs(m map[string]string) envconfig.Lookuper {
	return envconfig.LookuperFunc(func(key string) (string, bool) {
		v := m[strings.ToLower(strings.ReplaceAll(key, "_", "-"))]
		return v, v != ""
	})
}

// EnvLookuper reads plain variables, treating empty as unset.
func EnvLookuper(getenv func(string) string) envconfig.Lookuper {
	return envconfig.LookuperFunc(func(key string) (string, bool) {
		v := getenv(key)
		return v, v != ""
	})
}

// Load reads the inputs and the run's environment. It only fails on malformed environment
// variables; input problems are reported by Validate.
func Load(ctx context.Context, inputs, env envconfig.Lookuper) (*Config, error) {
	c := Config{unset: map[string]bool{}}
	seen := envconfig.LookuperFunc(func(key string) (string, bool) {
		v, ok := inputs.Lookup(key)
		if !ok {
			c.unset[strings.ToLower(strings.ReplaceAll(key, "_", "-"))] = true
		}
		return v, ok
	})
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c.Inputs, Lookuper: seen}); err != nil {
		return nil, fmt.Errorf("reading inputs: %w", err)
	}
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c.Env, Lookuper: env}); err != nil {
		return nil, fmt.Errorf("reading the run's environment: %w", err)
	}
	return &c, nil
}

// Problem is one bad input: which, what is wrong, and what to give instead. It holds no syntax
// of its own: the action names inputs as YAML, the CLI as flags (internal/explain renders it).
type Problem struct {
	Input   string // the input's name, e.g. "environment-url" (the CLI's flag has the same name)
	Missing bool   // the input is empty and needed (the CLI may point at an environment variable)
	Value   string // the value given, clipped; "" when missing
	Reason  string // what is wrong, e.g. "is not an http(s) URL"
	Fix     string // what to do, starting with a verb, e.g. "use an absolute http(s) URL"
	Example string // a literal value that would do, e.g. "https://app.example.com"; optional
	// Empty is what leaving the input empty does, as the action does it, after "leave it empty",
	// e.g. "for the run's commit"; "" when empty is no way out. A front end whose default differs
	// (the CLI's --sha is $GITHUB_SHA) says its own (explain.Dialect.LeaveEmpty).
	Empty string
}

// Problems is every input problem found.
type Problems []Problem

// Error renders the problems plainly; the action and the CLI render them in their own words.
func (p Problems) Error() string {
	lines := make([]string, len(p))
	for i, pr := range p {
		lines[i] = pr.Input
		if pr.Value != "" {
			lines[i] += fmt.Sprintf(" %q", pr.Value)
		}
		lines[i] += " " + pr.Reason + ": " + pr.Fix
		if pr.Empty != "" {
			lines[i] += ", or leave it empty " + pr.Empty
		}
		if pr.Example != "" {
			lines[i] += ", for example " + pr.Example
		}
	}
	if len(lines) == 1 {
		return "invalid input: " + lines[0]
	}
	return fmt.Sprintf("%d invalid inputs:\n  - %s", len(lines), strings.Join(lines, "\n  - "))
}

var (
	// finalStates are the states a job may leave a deployment in when cancelled.
	cancelledStates = []string{"error", "failure", "inactive"}
	initialStates   = []string{"in_progress", "queued", "pending"}
	jobStatuses     = []string{"success", "failure", "cancelled"}
)

const maxDescription = 140

// validator collects problems; check tells whether an input is validated for the mode.
type validator struct {
	p    Problems
	mode deploy.Mode
	any  bool // the mode is unknown: validate every input, so all problems show at once
}

func (v *validator) add(p Problem) {
	p.Value = clip(p.Value)
	v.p = append(v.p, p)
}

func (v *validator) reads(input string) bool { return v.any || v.mode.Reads(input) }

// Validate checks every input the mode reads and returns the typed settings, or Problems listing
// all of them. deploymentIDFromEvent is the id of the deployment that triggered the run
// (on: deployment), or 0.
func (c *Config) Validate(deploymentIDFromEvent int64) (*deploy.Settings, error) {
	return c.validate(nil, deploymentIDFromEvent)
}

// ValidateAs is Validate for a given mode instead of the mode input (a CLI command).
func (c *Config) ValidateAs(m deploy.Mode, deploymentIDFromEvent int64) (*deploy.Settings, error) {
	return c.validate(&m, deploymentIDFromEvent)
}

func (c *Config) validate(mode *deploy.Mode, deploymentIDFromEvent int64) (*deploy.Settings, error) {
	in := c.Inputs
	v := &validator{}
	s := &deploy.Settings{Token: in.Token}
	// By concern, in the order the problems are listed.
	v.access(c, mode, s)
	v.target(in, s)
	v.waiting(in, s)
	v.chatOps(in, s)
	v.request(in, s)
	v.existing(in, s, deploymentIDFromEvent)
	if len(v.p) > 0 {
		return nil, v.p
	}
	return s, nil
}

// access validates what every mode needs: the token, the repository, the mode (a given one, or
// the mode input) and enabled.
func (v *validator) access(c *Config, mode *deploy.Mode, s *deploy.Settings) {
	in := c.Inputs
	tok := in.Token.Value()
	switch {
	case tok == "":
		v.add(Problem{Input: "token", Missing: true, Reason: "is empty", Fix: "pass a token with deployments write access (the default is the job's GITHUB_TOKEN)"})
	case strings.ContainsFunc(tok, unicode.IsSpace) || strings.ContainsFunc(tok, unicode.IsControl):
		v.add(Problem{Input: "token", Reason: "contains whitespace", Fix: "pass the token alone, without spaces or line breaks (check how the secret was stored)"})
	}

	repo := strings.TrimSpace(in.Repository)
	if repo == "" {
		repo = c.Env.Repository
	}
	owner, name, _ := strings.Cut(repo, "/")
	switch {
	case repo == "":
		v.add(Problem{Input: "repository", Missing: true, Reason: "is empty", Fix: "set it to owner/name (in Actions it defaults to the current repository)", Example: "octo-org/hello-world"})
	case !isRepo(repo) || name == "." || name == "..":
		v.add(Problem{Input: "repository", Value: repo, Reason: "is not of the form owner/name", Fix: "set it to owner/name", Example: "octo-org/hello-world"})
	default:
		s.Owner, s.Repo = owner, name
	}

	modeName := strings.ToLower(strings.TrimSpace(in.Mode))
	if mode != nil {
		s.Mode, v.mode = *mode, *mode
	} else if m, ok := c.modes().Lookup(modeName); ok {
		s.Mode, v.mode = m, m
	} else {
		v.any = true
		v.add(Problem{Input: "mode", Value: in.Mode, Reason: "is not known", Fix: "use one of " + strings.Join(c.modes().Names(), ", ")})
	}

	switch strings.ToLower(strings.TrimSpace(in.Enabled)) {
	case "true", "":
		s.Enabled = true
	case "false":
	default:
		v.add(Problem{Input: "enabled", Value: in.Enabled, Reason: "is not a boolean", Fix: "use true or false (an expression known at job start, such as ${{ github.ref == 'refs/heads/main' }})"})
	}
}

// target validates what a deployment is of and to: the environment, the commit (sha) and who made
// it (creator).
func (v *validator) target(in Inputs, s *deploy.Settings) {
	m := s.Mode
	if v.reads("environment") {
		s.Environment = strings.TrimSpace(in.Environment)
		switch {
		case in.Environment == "" && m.Creates:
			s.Environment = "production" // GitHub's own default
		case in.Environment == "" && m.Cleans:
			// Never default a clean-up to production: it acts on every deployment of the environment.
			v.add(Problem{Input: "environment", Missing: true, Reason: "is empty", Fix: fmt.Sprintf("set it to the environment to clean up (%s acts on every deployment of it, so it never defaults to production)", m.Name), Example: "pr-123"})
		case in.Environment == "" && m.NeedsEnvironment:
			ex := "staging"
			if m.Pattern {
				ex = "preview/*"
			}
			v.add(Problem{Input: "environment", Missing: true, Reason: "is empty", Fix: fmt.Sprintf("set it to the environment %s reads (it never defaults to production)", m.Name), Example: ex})
		case s.Environment == "" && (m.Creates || m.NeedsEnvironment):
			v.add(Problem{Input: "environment", Reason: "is blank", Fix: "set it to the environment's name", Example: "production"})
		case utf8.RuneCountInString(s.Environment) > 255:
			v.add(Problem{Input: "environment", Reason: fmt.Sprintf("is %d characters long (GitHub allows at most 255)", utf8.RuneCountInString(s.Environment)), Fix: "use a shorter name"})
		case strings.ContainsFunc(s.Environment, unicode.IsControl):
			v.add(Problem{Input: "environment", Reason: "contains a control character (line break or tab)", Fix: "use a plain name"})
		}
	}
	if v.reads("sha") {
		s.SHA = strings.ToLower(strings.TrimSpace(in.SHA))
		if s.SHA != "" && !isSHA(s.SHA) {
			v.add(Problem{Input: "sha", Value: in.SHA, Reason: "is not a commit SHA", Fix: "pass a commit's SHA (7 to 40 hexadecimal characters)", Empty: "for the run's commit"})
		}
	}
	if v.reads("creator") {
		s.Creator = strings.TrimSpace(in.Creator)
		if strings.ContainsFunc(s.Creator, unicode.IsSpace) || strings.ContainsFunc(s.Creator, unicode.IsControl) {
			v.add(Problem{Input: "creator", Value: in.Creator, Reason: "is not a login", Fix: "use the login of the user or app that creates the deployments", Example: "vercel[bot]"})
		}
	}
}

// waiting validates wait's and latest's inputs: the timeouts, the environment the commit must be
// live in first, allow-none and exclude-sha.
func (v *validator) waiting(in Inputs, s *deploy.Settings) {
	if v.reads("wait-timeout") {
		s.WaitTimeout = v.duration("wait-timeout", in.WaitTimeout)
	}
	if v.reads("appear-timeout") {
		if strings.TrimSpace(in.AppearTimeout) != "" {
			s.AppearTimeout = v.duration("appear-timeout", in.AppearTimeout)
			if s.WaitTimeout > 0 && s.AppearTimeout > s.WaitTimeout {
				v.add(Problem{Input: "appear-timeout", Value: in.AppearTimeout, Reason: "is longer than wait-timeout", Fix: "use a shorter duration", Empty: "to wait up to wait-timeout"})
			}
		}
	}
	if v.reads("require-deployed-in") {
		s.RequireDeployedIn = strings.TrimSpace(in.RequireDeployedIn)
		if strings.ContainsFunc(s.RequireDeployedIn, unicode.IsControl) || utf8.RuneCountInString(s.RequireDeployedIn) > 255 {
			v.add(Problem{Input: "require-deployed-in", Value: in.RequireDeployedIn, Reason: "is not an environment name", Fix: "set it to the environment the commit must be live in first", Example: "staging"})
		}
	}
	s.AllowNone = v.boolean("allow-none", in.AllowNone)
	if v.reads("exclude-sha") {
		s.ExcludeSHA = strings.ToLower(strings.TrimSpace(in.ExcludeSHA))
		if s.ExcludeSHA != "" && !isSHA(s.ExcludeSHA) {
			v.add(Problem{Input: "exclude-sha", Value: in.ExcludeSHA, Reason: "is not a commit SHA", Fix: "pass a commit's SHA (7 to 40 hexadecimal characters), such as the sha latest reports"})
		}
	}
}

// request validates what goes into a create: ref, task, payload, description, the URLs, the
// create's flags, required-contexts and the initial state.
func (v *validator) request(in Inputs, s *deploy.Settings) {
	if v.reads("ref") {
		s.Ref = strings.TrimSpace(in.Ref)
		if strings.ContainsFunc(s.Ref, unicode.IsSpace) || strings.ContainsFunc(s.Ref, unicode.IsControl) {
			v.add(Problem{Input: "ref", Value: s.Ref, Reason: "contains whitespace", Fix: "set it to one branch, tag or commit SHA"})
		}
	}
	if v.reads("task") {
		s.Task = strings.TrimSpace(in.Task)
		if s.Task == "" || strings.ContainsFunc(s.Task, unicode.IsControl) {
			v.add(Problem{Input: "task", Value: in.Task, Reason: "is empty or has control characters", Fix: "set it to a word such as deploy or deploy:migrations"})
		}
	}
	if v.reads("payload") {
		payload, err := parsePayload(in.Payload)
		if err != nil {
			v.add(Problem{Input: "payload", Reason: err.Error(), Fix: `pass a JSON object such as {"key": "value"} or a plain string`})
		}
		s.Payload = payload
	}
	if v.reads("description") {
		s.Description = in.Description
		if n := utf8.RuneCountInString(s.Description); n > maxDescription {
			v.add(Problem{Input: "description", Reason: fmt.Sprintf("is %d characters long (GitHub allows at most %d)", n, maxDescription), Fix: "shorten it"})
		}
	}
	if v.reads("environment-url") {
		s.EnvironmentURL = strings.TrimSpace(in.EnvironmentURL)
		if err := checkURL(s.EnvironmentURL); err != nil {
			v.add(Problem{Input: "environment-url", Value: s.EnvironmentURL, Reason: err.Error(), Fix: "use an absolute http(s) URL", Example: "https://app.example.com"})
		}
	}
	if v.reads("log-url") {
		s.LogURL = strings.TrimSpace(in.LogURL)
		if err := checkURL(s.LogURL); err != nil {
			v.add(Problem{Input: "log-url", Value: s.LogURL, Reason: err.Error(), Fix: "use an absolute http(s) URL", Empty: "to link this job's page"})
		}
	}

	s.AutoMerge = v.boolean("auto-merge", in.AutoMerge)
	s.TransientEnvironment = v.boolean("transient-environment", in.TransientEnvironment)
	s.AutoInactive = v.boolean("auto-inactive", in.AutoInactive)
	s.DeleteEnvironment = v.boolean("delete-environment", in.DeleteEnvironment)
	if v.reads("production-environment") && strings.TrimSpace(in.ProductionEnvironment) != "" {
		b := v.boolean("production-environment", in.ProductionEnvironment)
		s.ProductionEnvironment = &b
	}

	if v.reads("required-contexts") {
		rc, err := parseContexts(in.RequiredContexts)
		if err != nil {
			v.add(Problem{Input: "required-contexts", Reason: err.Error(), Fix: "separate names with one comma or a line break, or use '*' alone for every context"})
		}
		s.RequiredContexts = rc
	}

	s.InitialState = v.oneOf("initial-state", in.InitialState, initialStates)
}

// existing validates the inputs that act on a deployment already made: state, cancelled-state,
// deployment-id (or the event's, on: deployment) and the internal job-status and
// job-check-run-id.
func (v *validator) existing(in Inputs, s *deploy.Settings, deploymentIDFromEvent int64) {
	m := s.Mode
	if v.reads("state") {
		s.State = strings.ToLower(strings.TrimSpace(in.State))
		if s.State != "" && !contains(deploy.States, s.State) {
			v.add(Problem{Input: "state", Value: in.State, Reason: "is not a deployment state", Fix: "use one of " + strings.Join(deploy.States, ", ")})
		}
		if s.State == "" && m.Existing && !m.Reads("job-status") {
			v.add(Problem{Input: "state", Missing: true, Reason: "is empty", Fix: m.Name + " sets the state you give: set it", Example: "success"})
		}
	}
	s.CancelledState = v.oneOf("cancelled-state", in.CancelledState, cancelledStates)

	if v.reads("deployment-id") {
		if val := strings.TrimSpace(in.DeploymentID); val != "" {
			id, err := strconv.ParseInt(val, 10, 64)
			if err != nil || id <= 0 {
				v.add(Problem{Input: "deployment-id", Value: val, Reason: "is not a positive number", Fix: "pass the id of the deployment, as the step that created it printed it"})
			}
			s.DeploymentID = id
		} else if m.Existing {
			if deploymentIDFromEvent > 0 {
				s.DeploymentID = deploymentIDFromEvent
			} else {
				v.add(Problem{Input: "deployment-id", Missing: true, Reason: "is empty", Fix: m.Name + " acts on an existing deployment: pass the id the step that created it printed (it defaults to the event's deployment only in workflows run on: deployment)"})
			}
		}
	}

	if v.reads("job-status") {
		s.JobStatus = strings.ToLower(strings.TrimSpace(in.JobStatus))
		if s.JobStatus != "" && !contains(jobStatuses, s.JobStatus) {
			v.add(Problem{Input: "job-status", Value: in.JobStatus, Reason: "is not success, failure or cancelled", Fix: "leave this internal input unset"})
		}
	}
	if v.reads("job-check-run-id") {
		if val := strings.TrimSpace(in.JobCheckRunID); val != "" {
			id, err := strconv.ParseInt(val, 10, 64)
			if err != nil || id <= 0 {
				v.add(Problem{Input: "job-check-run-id", Value: val, Reason: "is not a positive number", Fix: "leave this internal input unset"})
			}
			s.JobCheckRunID = id
		}
	}
}

// ValidateFinish validates what post needs to finish a deployment this job started, whatever the
// other inputs say at job end: the token and the inputs that decorate the final status. A
// decorating input that is invalid at job end is reset to its default and returned, for a
// warning, instead of leaving the deployment in progress; only a bad token fails. repository is
// where the deployment was created.
func (c *Config) ValidateFinish(repository string) (*deploy.Settings, Problems, error) {
	cc := *c
	cc.Inputs.Repository = repository
	var dropped Problems
	for {
		s, err := cc.ValidateAs(deploy.Finishing(), 0)
		var ps Problems
		if err == nil || !errors.As(err, &ps) {
			return s, dropped, err
		}
		var fatal Problems
		for _, p := range ps {
			if p.Input == "token" || p.Input == "repository" || !cc.Inputs.reset(p.Input) {
				fatal = append(fatal, p)
				continue
			}
			dropped = append(dropped, p)
		}
		if len(fatal) > 0 {
			return nil, dropped, fatal
		}
	}
}

// Declared is one input config.Inputs reads, as its struct tag declares it: the input's name
// (environment-url) and its default.
type Declared struct {
	Name       string
	Default    string
	HasDefault bool
	field      int // index in Inputs
}

// DeclaredInputs lists every input in Inputs' order: the one reading of the struct tags, which
// hold every default (reset, DeferrableInputs and the test against action.yml use it).
func DeclaredInputs() []Declared {
	t := reflect.TypeOf(Inputs{})
	out := make([]Declared, t.NumField())
	for i := range out {
		key, opts, _ := strings.Cut(t.Field(i).Tag.Get("env"), ",")
		out[i] = Declared{Name: strings.ToLower(strings.ReplaceAll(strings.TrimSpace(key), "_", "-")), field: i}
		for _, o := range strings.Split(opts, ",") {
			if d, ok := strings.CutPrefix(strings.TrimSpace(o), "default="); ok {
				out[i].Default, out[i].HasDefault = d, true
			}
		}
	}
	return out
}

// reset sets an input back to its default (the struct tag's); false if there is no such input.
func (in *Inputs) reset(input string) bool {
	v := reflect.ValueOf(in).Elem()
	for _, d := range DeclaredInputs() {
		if d.Name != input {
			continue
		}
		f := v.Field(d.field)
		if f.Kind() != reflect.String || f.String() == d.Default {
			return false
		}
		f.SetString(d.Default)
		return true
	}
	return false
}

// DeferrableInputs are the inputs whose action.yml default is not empty: an empty value can only
// come from an expression that is empty where it is evaluated, typically a value from an earlier
// step (steps.* is empty at job start). environment is among them although it has no default:
// an empty one must not create a production deployment behind the user's back at job start;
// so is environments (command mode's allow list, required), which an earlier step may compute.
func DeferrableInputs() []string {
	out := []string{"token", "repository", "environment", "environments"}
	for _, d := range DeclaredInputs() {
		if d.HasDefault {
			out = append(out, d.Name)
		}
	}
	return out
}

// chatOps validates the checks gate's inputs and command mode's.
func (v *validator) chatOps(in Inputs, s *deploy.Settings) {
	s.WaitForChecks = v.boolean("wait-for-checks", in.WaitForChecks)
	s.IgnoreLocks = v.boolean("ignore-locks", in.IgnoreLocks)
	if v.reads("checks-timeout") {
		s.ChecksTimeout = v.duration("checks-timeout", in.ChecksTimeout)
	}
	if v.reads("ignore-checks") {
		names, err := parseNames(in.IgnoreChecks)
		switch {
		case err != nil:
			v.add(Problem{Input: "ignore-checks", Reason: err.Error(), Fix: "separate check and status names with one comma or a line break", Example: "Lint, ci/experimental"})
		case contains(names, "*"):
			v.add(Problem{Input: "ignore-checks", Value: in.IgnoreChecks, Reason: "contains '*'", Fix: "use the names of the checks to leave out (to skip the gate, leave wait-for-checks false; command mode always checks)"})
		}
		s.IgnoreChecks = names
	}
	if v.reads("required-checks") {
		names, err := parseNames(in.RequiredChecks)
		switch {
		case err != nil:
			v.add(Problem{Input: "required-checks", Reason: err.Error(), Fix: "separate check and status names with one comma or a line break", Example: "build, test"})
		case contains(names, "*"):
			v.add(Problem{Input: "required-checks", Value: in.RequiredChecks, Reason: "contains '*'", Fix: "name each check run or commit status that must be present and green"})
		}
		for _, n := range names {
			if contains(s.IgnoreChecks, n) {
				v.add(Problem{Input: "required-checks", Value: in.RequiredChecks, Reason: fmt.Sprintf("names %q, which ignore-checks leaves out", n), Fix: "name a check in one of required-checks and ignore-checks, not both"})
			}
		}
		s.RequiredChecks = names
	}
	if v.reads("allow-no-checks") {
		s.AllowNoChecks = v.boolean("allow-no-checks", in.AllowNoChecks)
	}
	if v.reads("command") {
		s.Command = strings.TrimSpace(in.Command)
		if s.Command == "" || strings.ContainsFunc(s.Command, unicode.IsSpace) || strings.ContainsFunc(s.Command, unicode.IsControl) {
			v.add(Problem{Input: "command", Value: in.Command, Reason: "is not one word", Fix: "use the word a comment starts with to deploy, such as /deploy (the default)", Example: "/ship"})
		}
	}
	if v.reads("environments") {
		names, err := parseNames(in.Environments)
		switch {
		case err != nil:
			v.add(Problem{Input: "environments", Reason: err.Error(), Fix: "separate environment names with one comma or a line break", Example: "staging, production"})
		case len(names) == 0:
			v.add(Problem{Input: "environments", Missing: true, Reason: "is empty", Fix: "set it to the environments a command may deploy to, the default target first", Example: "staging, production"})
		}
		for _, n := range names {
			if utf8.RuneCountInString(n) > 255 || isPattern(n) {
				v.add(Problem{Input: "environments", Value: n, Reason: "is not an environment name", Fix: "use plain environment names (at most 255 characters, no * or ?)", Example: "staging, production"})
				break
			}
		}
		s.Environments = names
	}
	s.AllowedPermission = v.oneOf("allowed-permission", in.AllowedPermission, deploy.Roles)
	s.AllowForks = v.boolean("allow-forks", in.AllowForks)
}

func isPattern(s string) bool { return strings.ContainsAny(s, "*?") }

// parseNames splits a comma- or newline-separated list of names; blank lines are harmless, an
// empty name between commas is an error.
func parseNames(v string) ([]string, error) {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(strings.TrimSpace(v), "\r", ""), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		for _, item := range strings.Split(strings.TrimSuffix(line, ","), ",") {
			n := strings.TrimSpace(item)
			switch {
			case n == "":
				return nil, errors.New("has an empty name (two commas in a row?)")
			case strings.ContainsFunc(n, unicode.IsControl):
				return nil, fmt.Errorf("has a name %q with a control character", clip(n))
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// boolean parses a true/false input the mode reads (false otherwise).
func (v *validator) boolean(name, val string) bool {
	if !v.reads(name) {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(val)) {
	case "true":
		return true
	case "false", "":
		return false
	}
	v.add(Problem{Input: name, Value: val, Reason: "is not a boolean", Fix: "use true or false"})
	return false
}

// duration parses a positive duration: Go's form (90s, 10m, 1h30m) or a number of seconds.
func (v *validator) duration(name, val string) time.Duration {
	t := strings.TrimSpace(val)
	d, err := time.ParseDuration(t)
	if err != nil {
		if n, nerr := strconv.ParseFloat(t, 64); nerr == nil {
			d, err = time.Duration(n*float64(time.Second)), nil
		}
	}
	switch {
	case err != nil:
		v.add(Problem{Input: name, Value: val, Reason: "is not a duration", Fix: "use a duration such as 90s, 10m or 1h, or a number of seconds"})
	case d <= 0:
		v.add(Problem{Input: name, Value: val, Reason: "is not positive", Fix: "use a duration above zero, such as 10m"})
	}
	return d
}

// oneOf parses an input that takes one of a few words ("" when the mode does not read it).
func (v *validator) oneOf(name, val string, allowed []string) string {
	if !v.reads(name) {
		return ""
	}
	w := strings.ToLower(strings.TrimSpace(val))
	if !contains(allowed, w) {
		v.add(Problem{Input: name, Value: val, Reason: "is not allowed", Fix: "use " + orList(allowed)})
	}
	return w
}

func orList(ws []string) string {
	if len(ws) < 2 {
		return strings.Join(ws, "")
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " or " + ws[len(ws)-1]
}

// parsePayload accepts a JSON object, a JSON string, or any other text as a plain string payload.
// Text that starts like JSON (an object, array or quoted string) must be valid JSON, so that a
// typo in a JSON payload is an error instead of a silently stringified payload. Numbers are kept
// as written (json.Number): an id above 2^53 must reach GitHub unchanged.
func parsePayload(v string) (any, error) {
	t := strings.TrimSpace(v)
	if t == "" {
		return nil, nil
	}
	switch t[0] {
	case '{':
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("is not valid JSON (%s)", jsonErr(err))
		}
		if dec.More() {
			return nil, errors.New("is not valid JSON (text after the object)")
		}
		if _, ok := m[deploy.PayloadKey]; ok {
			return nil, fmt.Errorf("uses the key %q, which this action keeps for itself (it recognises its own deployments by it)", deploy.PayloadKey)
		}
		return m, nil
	case '[':
		return nil, errors.New("is a JSON array, which GitHub does not take (an object or a string)")
	case '"':
		var s string
		if err := json.Unmarshal([]byte(t), &s); err != nil {
			return nil, fmt.Errorf("is not a valid JSON string (%s)", jsonErr(err))
		}
		return s, nil
	}
	return v, nil
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	if errors.Is(err, bytes.ErrTooLarge) {
		return "too large"
	}
	return err.Error()
}

func parseContexts(v string) (deploy.RequiredContexts, error) {
	t := strings.TrimSpace(v)
	if t == "" {
		return deploy.RequiredContexts{}, nil
	}
	if t == "*" {
		return deploy.RequiredContexts{All: true}, nil
	}
	var list []string
	var items []string
	for _, line := range strings.Split(strings.ReplaceAll(t, "\r", ""), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue // blank lines in a YAML block list are harmless
		}
		parts := strings.Split(strings.TrimSuffix(line, ","), ",")
		items = append(items, parts...)
	}
	for _, item := range items {
		c := strings.TrimSpace(item)
		switch {
		case c == "":
			return deploy.RequiredContexts{}, errors.New("has an empty context name (two commas in a row?)")
		case c == "*":
			return deploy.RequiredContexts{}, errors.New("combines '*' (all contexts) with names")
		case strings.ContainsFunc(c, unicode.IsControl):
			return deploy.RequiredContexts{}, fmt.Errorf("has a context %q with a control character", clip(c))
		}
		list = append(list, c)
	}
	return deploy.RequiredContexts{List: list}, nil
}

func checkURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("is not an http(s) URL")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}

// isRepo reports owner/name as GitHub allows them: the owner 1–39 letters, digits or hyphens,
// not starting with a hyphen; the name 1–100 letters, digits, '.', '_' or '-'. (Written out
// rather than as a regular expression: compiling one at start-up costs every stage a
// millisecond or two.)
func isRepo(s string) bool {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || len(owner) < 1 || len(owner) > 39 || owner[0] == '-' || len(name) < 1 || len(name) > 100 {
		return false
	}
	for _, c := range owner {
		if !isAlnum(c) && c != '-' {
			return false
		}
	}
	for _, c := range name {
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isSHA reports 7 to 40 lower-case hexadecimal characters.
func isSHA(s string) bool {
	if len(s) < 7 || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// clip shortens user text quoted back in an error so one huge value cannot flood the log.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	r := []rune(s)
	return string(r[:57]) + "..."
}
