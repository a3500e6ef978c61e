// Package config turns the runner's environment (INPUT_* with hyphens kept, GITHUB_*) into one
// typed configuration, and validates every input at once before any API call is made.
package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sethvargo/go-envconfig"
)

// Secret holds the token. It redacts itself in every fmt verb and in JSON, so a Config can be
// printed or logged without leaking it.
type Secret string

// Value returns the token itself; the only way to read it.
func (s Secret) Value() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the token.
func (s Secret) GoString() string { return `config.Secret("` + s.String() + `")` }

// Format covers %s, %v, %q, %x and friends.
func (s Secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.String()) }

// MarshalJSON keeps encoding/json from printing the token.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Inputs are the action's inputs as declared in action.yml, as raw text: parsing happens in
// Validate so that every bad input is reported at once instead of the first one only.
type Inputs struct {
	Token                 Secret `env:"TOKEN"`
	Repository            string `env:"REPOSITORY"`
	Mode                  string `env:"MODE, default=auto"`
	Environment           string `env:"ENVIRONMENT"`
	Ref                   string `env:"REF"`
	Task                  string `env:"TASK, default=deploy"`
	Payload               string `env:"PAYLOAD"`
	Description           string `env:"DESCRIPTION"`
	EnvironmentURL        string `env:"ENVIRONMENT_URL"`
	LogURL                string `env:"LOG_URL"`
	AutoMerge             string `env:"AUTO_MERGE, default=false"`
	RequiredContexts      string `env:"REQUIRED_CONTEXTS"`
	TransientEnvironment  string `env:"TRANSIENT_ENVIRONMENT, default=false"`
	ProductionEnvironment string `env:"PRODUCTION_ENVIRONMENT"`
	AutoInactive          string `env:"AUTO_INACTIVE, default=true"`
	InitialState          string `env:"INITIAL_STATE, default=in_progress"`
	State                 string `env:"STATE"`
	DeploymentID          string `env:"DEPLOYMENT_ID"`
	CancelledState        string `env:"CANCELLED_STATE, default=error"`
	DeleteEnvironment     string `env:"DELETE_ENVIRONMENT, default=false"`
	JobStatus             string `env:"JOB_STATUS"`
	JobCheckRunID         string `env:"JOB_CHECK_RUN_ID"`
}

// Runner is what the Actions runner (or a CI system / the CLI) tells us about the run.
type Runner struct {
	Actions    bool   `env:"GITHUB_ACTIONS"`
	Repository string `env:"GITHUB_REPOSITORY"`
	APIURL     string `env:"GITHUB_API_URL, default=https://api.github.com"`
	ServerURL  string `env:"GITHUB_SERVER_URL, default=https://github.com"`
	RunID      string `env:"GITHUB_RUN_ID"`
	RunAttempt string `env:"GITHUB_RUN_ATTEMPT, default=1"`
	Job        string `env:"GITHUB_JOB"`
	Workflow   string `env:"GITHUB_WORKFLOW"`
	EventName  string `env:"GITHUB_EVENT_NAME"`
	EventPath  string `env:"GITHUB_EVENT_PATH"`
	Ref        string `env:"GITHUB_REF"`
	HeadRef    string `env:"GITHUB_HEAD_REF"`
	SHA        string `env:"GITHUB_SHA"`
	Actor      string `env:"GITHUB_ACTOR"`
}

// Config is the whole configuration of one stage.
type Config struct {
	Inputs Inputs
	Runner Runner
}

// InputLookuper maps go-envconfig keys to the runner's input variables: ENVIRONMENT_URL is read
// from INPUT_ENVIRONMENT-URL (the runner keeps hyphens, which go-envconfig rejects in names), and
// an empty value counts as unset because the runner exports every declared input, "" when unset.
func InputLookuper(getenv func(string) string) envconfig.Lookuper {
	return envconfig.LookuperFunc(func(key string) (string, bool) {
		v := getenv("INPUT_" + strings.ReplaceAll(key, "_", "-"))
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

// Load reads the inputs and the runner's variables. It only fails on malformed runner variables;
// input problems are reported by Validate.
func Load(ctx context.Context, getenv func(string) string) (*Config, error) {
	var c Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c.Inputs, Lookuper: InputLookuper(getenv)}); err != nil {
		return nil, fmt.Errorf("reading inputs: %w", err)
	}
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c.Runner, Lookuper: EnvLookuper(getenv)}); err != nil {
		return nil, fmt.Errorf("reading the runner's environment: %w", err)
	}
	return &c, nil
}

// Modes.
const (
	ModeAuto       = "auto"
	ModeStart      = "start"
	ModeFinish     = "finish"
	ModeStatus     = "status"
	ModeTrigger    = "trigger"
	ModeDeactivate = "deactivate"
	ModeDelete     = "delete"
)

// Modes lists every mode, in the order the docs present them.
var modes = []string{ModeAuto, ModeStart, ModeFinish, ModeStatus, ModeTrigger, ModeDeactivate, ModeDelete}

// States are the deployment status states GitHub accepts.
var states = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}

var (
	repoRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	// A context name may hold almost anything but control characters.
	maxDescription = 140
)

// RequiredContexts is the parsed required-contexts input.
type RequiredContexts struct {
	All  bool     // '*': every commit-status context must be success (GitHub's own default)
	List []string // these contexts must be success; empty and !All: none checked
}

// Settings are the validated, typed inputs.
type Settings struct {
	Token                 Secret
	Owner, Repo           string
	Mode                  string
	Environment           string
	Ref                   string // "" means: resolve from the event
	Task                  string
	Payload               any // nil, map[string]any or string
	Description           string
	EnvironmentURL        string
	LogURL                string
	AutoMerge             bool
	RequiredContexts      RequiredContexts
	TransientEnvironment  bool
	ProductionEnvironment *bool
	AutoInactive          bool
	InitialState          string
	State                 string
	DeploymentID          int64
	CancelledState        string
	DeleteEnvironment     bool
	JobStatus             string
	JobCheckRunID         int64
}

// Problems is every input problem found, each naming the input and the fix.
type Problems []string

func (p Problems) Error() string {
	if len(p) == 1 {
		return "invalid input: " + p[0]
	}
	return fmt.Sprintf("%d invalid inputs:\n  - %s", len(p), strings.Join(p, "\n  - "))
}

// Validate checks every input and returns the typed settings, or Problems listing all of them.
// deploymentIDFromEvent is the id of the deployment that triggered the run (on: deployment), or 0.
func (c *Config) Validate(deploymentIDFromEvent int64) (*Settings, error) {
	in := c.Inputs
	var p Problems
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	s := &Settings{Token: in.Token}

	tok := in.Token.Value()
	switch {
	case tok == "":
		add("token is empty: pass `token: ${{ github.token }}` (the default) or a token with deployments write access")
	case strings.ContainsFunc(tok, unicode.IsSpace) || strings.ContainsFunc(tok, unicode.IsControl):
		add("token contains whitespace: pass the token alone, without spaces or line breaks (check how the secret was stored)")
	}

	repo := strings.TrimSpace(in.Repository)
	if repo == "" {
		repo = c.Runner.Repository
	}
	switch {
	case repo == "":
		add("repository is empty: set `repository: owner/name` (it defaults to the current repository in Actions)")
	case !repoRE.MatchString(repo):
		add("repository %q is not of the form owner/name: set `repository: owner/name`", clip(repo))
	default:
		s.Owner, s.Repo, _ = strings.Cut(repo, "/")
	}

	s.Mode = strings.ToLower(strings.TrimSpace(in.Mode))
	if !contains(modes, s.Mode) {
		add("mode %q is not known: use one of %s", clip(in.Mode), strings.Join(modes, ", "))
	}

	s.Environment = strings.TrimSpace(in.Environment)
	creates := s.Mode == ModeAuto || s.Mode == ModeStart || s.Mode == ModeTrigger
	destroys := s.Mode == ModeDeactivate || s.Mode == ModeDelete
	switch {
	case in.Environment == "" && creates:
		s.Environment = "production" // GitHub's own default
	case in.Environment == "" && destroys:
		// Never default a clean-up to production: it acts on every deployment of the environment.
		add("environment is empty: set `environment:` to the one to clean up, for example `environment: pr-${{ github.event.pull_request.number }}` (%s acts on every deployment of it, so it never defaults to production)", s.Mode)
	case s.Environment == "" && (creates || destroys):
		add("environment is blank: set `environment:` to the environment's name (for example production)")
	case utf8.RuneCountInString(s.Environment) > 255:
		add("environment is %d characters long: GitHub allows at most 255, use a shorter name", utf8.RuneCountInString(s.Environment))
	case strings.ContainsFunc(s.Environment, unicode.IsControl):
		add("environment contains a control character (line break or tab): use a plain name")
	}

	s.Ref = strings.TrimSpace(in.Ref)
	if strings.ContainsFunc(s.Ref, unicode.IsSpace) || strings.ContainsFunc(s.Ref, unicode.IsControl) {
		add("ref %q contains whitespace: set `ref:` to one branch, tag or commit SHA", clip(s.Ref))
	}
	s.Task = strings.TrimSpace(in.Task)
	if s.Task == "" || strings.ContainsFunc(s.Task, unicode.IsControl) {
		add("task %q is empty or has control characters: set `task:` to a word such as deploy or deploy:migrations", clip(in.Task))
	}

	payload, err := parsePayload(in.Payload)
	if err != nil {
		add("payload: %v: pass a JSON object such as {\"key\": \"value\"} or a plain string", err)
	}
	s.Payload = payload

	s.Description = in.Description
	if n := utf8.RuneCountInString(s.Description); n > maxDescription {
		add("description is %d characters long: GitHub allows at most %d, shorten it", n, maxDescription)
	}

	s.EnvironmentURL = strings.TrimSpace(in.EnvironmentURL)
	if err := checkURL(s.EnvironmentURL); err != nil {
		add("environment-url %q %v: use an absolute http(s) URL such as https://app.example.com", clip(s.EnvironmentURL), err)
	}
	s.LogURL = strings.TrimSpace(in.LogURL)
	if err := checkURL(s.LogURL); err != nil {
		add("log-url %q %v: use an absolute http(s) URL, or leave it empty to link this job's page", clip(s.LogURL), err)
	}

	s.AutoMerge = parseBool(&p, "auto-merge", in.AutoMerge, false)
	s.TransientEnvironment = parseBool(&p, "transient-environment", in.TransientEnvironment, false)
	s.AutoInactive = parseBool(&p, "auto-inactive", in.AutoInactive, true)
	s.DeleteEnvironment = parseBool(&p, "delete-environment", in.DeleteEnvironment, false)
	if strings.TrimSpace(in.ProductionEnvironment) != "" {
		v := parseBool(&p, "production-environment", in.ProductionEnvironment, false)
		s.ProductionEnvironment = &v
	}

	rc, err := parseContexts(in.RequiredContexts)
	if err != nil {
		add("required-contexts: %v", err)
	}
	s.RequiredContexts = rc

	s.InitialState = strings.ToLower(strings.TrimSpace(in.InitialState))
	if !contains([]string{"in_progress", "queued", "pending"}, s.InitialState) {
		add("initial-state %q is not allowed: use in_progress, queued or pending", clip(in.InitialState))
	}
	s.State = strings.ToLower(strings.TrimSpace(in.State))
	if s.State != "" && !contains(states, s.State) {
		add("state %q is not a deployment state: use one of %s", clip(in.State), strings.Join(states, ", "))
	}
	if s.State == "" && s.Mode == ModeStatus {
		add("state is empty: status mode sets the state you give, set `state:` (for example success)")
	}
	s.CancelledState = strings.ToLower(strings.TrimSpace(in.CancelledState))
	if !contains([]string{"error", "failure", "inactive"}, s.CancelledState) {
		add("cancelled-state %q is not allowed: use error, failure or inactive", clip(in.CancelledState))
	}

	if v := strings.TrimSpace(in.DeploymentID); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			add("deployment-id %q is not a positive number: pass the id, for example `deployment-id: ${{ steps.deploy.outputs.deployment-id }}`", clip(v))
		}
		s.DeploymentID = id
	} else if s.Mode == ModeFinish || s.Mode == ModeStatus {
		if deploymentIDFromEvent > 0 {
			s.DeploymentID = deploymentIDFromEvent
		} else {
			add("deployment-id is empty: %s mode acts on an existing deployment, pass `deployment-id: ${{ steps.<start step id>.outputs.deployment-id }}` (it defaults to the event's deployment only in workflows run `on: deployment`)", s.Mode)
		}
	}

	s.JobStatus = strings.ToLower(strings.TrimSpace(in.JobStatus))
	if s.JobStatus != "" && !contains([]string{"success", "failure", "cancelled"}, s.JobStatus) {
		add("job-status %q is not success, failure or cancelled: leave this internal input unset", clip(in.JobStatus))
	}
	if v := strings.TrimSpace(in.JobCheckRunID); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			add("job-check-run-id %q is not a positive number: leave this internal input unset", clip(v))
		}
		s.JobCheckRunID = id
	}

	if len(p) > 0 {
		return nil, p
	}
	return s, nil
}

func parseBool(p *Problems, name, v string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return def
	case "true":
		return true
	case "false":
		return false
	}
	*p = append(*p, fmt.Sprintf("%s %q is not a boolean: use true or false", name, clip(v)))
	return def
}

// parsePayload accepts a JSON object, a JSON string, or any other text as a plain string payload.
// Text that starts like JSON (an object, array or quoted string) must be valid JSON, so that a
// typo in a JSON payload is an error instead of a silently stringified payload.
func parsePayload(v string) (any, error) {
	t := strings.TrimSpace(v)
	if t == "" {
		return nil, nil
	}
	switch t[0] {
	case '{':
		var m map[string]any
		if err := json.Unmarshal([]byte(t), &m); err != nil {
			return nil, fmt.Errorf("not valid JSON (%s)", jsonErr(err))
		}
		return m, nil
	case '[':
		return nil, errors.New("a JSON array is not allowed (GitHub takes an object or a string)")
	case '"':
		var s string
		if err := json.Unmarshal([]byte(t), &s); err != nil {
			return nil, fmt.Errorf("not a valid JSON string (%s)", jsonErr(err))
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
	return err.Error()
}

func parseContexts(v string) (RequiredContexts, error) {
	t := strings.TrimSpace(v)
	if t == "" {
		return RequiredContexts{}, nil
	}
	if t == "*" {
		return RequiredContexts{All: true}, nil
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
			return RequiredContexts{}, errors.New("an empty context name (two commas in a row?): separate names with one comma or a line break")
		case c == "*":
			return RequiredContexts{}, errors.New("'*' (all contexts) cannot be combined with names: use '*' alone or a list of names")
		case strings.ContainsFunc(c, unicode.IsControl):
			return RequiredContexts{}, fmt.Errorf("context %q has a control character: use the context's name as shown on the commit", clip(c))
		}
		list = append(list, c)
	}
	return RequiredContexts{List: list}, nil
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
