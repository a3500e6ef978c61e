package deploy

import "context"

// Mode is one way of using the action: which stages act, and what it needs. A new mode is one
// entry in Modes plus a file with its stage functions; everything else (validation, the CLI,
// the docs test) reads these properties.
type Mode struct {
	Name string
	// Creates: the mode makes a new deployment, so ref, task, payload and the other create
	// inputs apply, ref defaults from the event and environment defaults to production.
	Creates bool
	// Cleans: the mode acts on every deployment of one environment, which must be named.
	Cleans bool
	// Existing: the mode acts on one existing deployment (deployment-id, or the event's).
	Existing bool
	// NeedsEnvironment: environment must be given (no production default); Cleans implies it.
	NeedsEnvironment bool
	// Pattern: environment may be a glob (path.Match syntax: pr-*, preview/*).
	Pattern bool
	// Polls: the mode reads the same resources repeatedly (its client sends conditional requests).
	Polls bool
	// Inputs are the inputs the mode reads besides token, repository and mode; only these are
	// validated for it.
	Inputs []string
	// The stage functions; nil means the stage does nothing in this mode.
	pre, main, post stageFunc
}

// stageFunc is what a mode does in one stage; it fills r as it goes, so a failure still reports
// what exists.
type stageFunc func(d *Deployer, ctx context.Context, j Job, r *Report) error

// Acts reports whether the mode does anything in stage s.
func (m Mode) Acts(s Stage) bool { return m.stage(s) != nil }

func (m Mode) stage(s Stage) stageFunc {
	switch s {
	case StagePre:
		return m.pre
	case StageMain:
		return m.main
	case StagePost:
		return m.post
	}
	return nil
}

func (m Mode) String() string { return m.Name }

// Reads reports whether the mode reads the input.
func (m Mode) Reads(input string) bool {
	for _, in := range m.Inputs {
		if in == input {
			return true
		}
	}
	return false
}

// The inputs modes share.
var (
	createInputs = []string{"environment", "ref", "task", "payload", "description", "environment-url", "log-url",
		"auto-merge", "required-contexts", "transient-environment", "production-environment", "auto-inactive", "job-check-run-id",
		"require-deployed-in", "wait-for-checks", "checks-timeout", "ignore-checks", "required-checks", "allow-no-checks"}
	statusInputs = []string{"deployment-id", "state", "description", "environment-url", "log-url", "auto-inactive", "job-check-run-id"}
)

// Modes lists every mode in the order the docs present them. It is built on each call so that no
// state is shared between concurrent runs.
func Modes() []Mode {
	return []Mode{
		{Name: "auto", Creates: true, Inputs: with(createInputs, "initial-state", "cancelled-state", "job-status"),
			pre: (*Deployer).preAuto, main: (*Deployer).mainAuto, post: (*Deployer).postAuto},
		{Name: "start", Creates: true, Inputs: with(createInputs, "initial-state"), main: (*Deployer).mainStart},
		{Name: "finish", Existing: true, Inputs: with(statusInputs, "job-status", "cancelled-state"), main: (*Deployer).mainStatus},
		{Name: "status", Existing: true, Inputs: statusInputs, main: (*Deployer).mainStatus},
		{Name: "trigger", Creates: true, Inputs: with(createInputs, "state"), main: (*Deployer).mainTrigger},
		{Name: "deactivate", Cleans: true, NeedsEnvironment: true, Inputs: []string{"environment"}, main: (*Deployer).mainCleanup},
		{Name: "delete", Cleans: true, NeedsEnvironment: true, Inputs: []string{"environment", "delete-environment"}, main: (*Deployer).mainCleanup},
		{Name: "wait", NeedsEnvironment: true, Pattern: true, Polls: true, Inputs: []string{"environment", "sha", "creator", "task", "wait-timeout", "appear-timeout"}, main: (*Deployer).mainWait},
		{Name: "latest", NeedsEnvironment: true, Polls: true, Inputs: []string{"environment", "task", "allow-none", "exclude-sha"}, main: (*Deployer).mainLatest},
		{Name: "command", Polls: true, Inputs: []string{"command", "environments", "allowed-permission", "allow-forks", "checks-timeout", "ignore-checks", "required-checks", "allow-no-checks",
			"task", "description", "environment-url", "log-url", "transient-environment", "production-environment", "auto-inactive",
			"cancelled-state", "job-status", "job-check-run-id"},
			pre: (*Deployer).preCommand, main: (*Deployer).mainCommand, post: (*Deployer).postCommand},
	}
}

// Finishing is what post reads to finish a deployment the job started, whatever the mode says at
// job end: the final state's inputs.
func Finishing() Mode {
	return Mode{Name: "finish at job end", Inputs: []string{"description", "environment-url", "log-url", "auto-inactive", "cancelled-state", "job-status", "job-check-run-id"}}
}

// LookupMode finds a mode by name.
func LookupMode(name string) (Mode, bool) {
	for _, m := range Modes() {
		if m.Name == name {
			return m, true
		}
	}
	return Mode{}, false
}

// ModeNames lists the modes' names in order.
func ModeNames() []string {
	var out []string
	for _, m := range Modes() {
		out = append(out, m.Name)
	}
	return out
}

func with(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}
