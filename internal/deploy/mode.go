package deploy

import "context"

// Mode is one way of using the action: which stages act, what it needs, and how the front ends
// (the action's summary and outputs, the CLI's commands and output, the server) show it. A new
// mode is one entry in Modes plus a file with its stage functions, and its docs row; the front
// ends read everything else from these properties and never compare a mode's name.
type Mode struct {
	Name string
	// Creates: the mode makes a new deployment, so ref, task, payload and the other create
	// inputs apply, ref defaults from the event and environment defaults to production.
	Creates bool
	// Cleans: the mode acts on every deployment of one environment, which must be named.
	Cleans bool
	// Deletes: a clean-up that deletes the deployments after making them inactive.
	Deletes bool
	// Existing: the mode acts on one existing deployment (deployment-id, or the event's).
	Existing bool
	// NeedsEnvironment: environment must be given (no production default); Cleans implies it.
	NeedsEnvironment bool
	// Pattern: environment may use * (any characters but /) and ? (one); nothing else is a
	// wildcard, and an exact name always matches itself (pr-*, preview/*, "preview [eu]").
	Pattern bool
	// Polls: the mode reads the same resources repeatedly (its client sends conditional requests).
	Polls bool
	// LeavesOpen: the deployment is left in its initial state for a later finish (start); the
	// CLI tells how to finish it.
	LeavesOpen bool
	// DecidedAtStart: the deployment is fully decided at job start (command mode: by the
	// comment), so main does not compare its inputs with pre's.
	DecidedAtStart bool
	// Shows is what the mode's result is about, for summaries and the CLI's output.
	Shows Result
	// Inputs are the inputs the mode reads besides token, repository and mode; only these are
	// validated for it.
	Inputs []string
	// CLI is the mode's command in the CLI; nil: the mode is the action's only.
	CLI *CLI
	// The stage functions; nil means the stage does nothing in this mode. A mode with Post
	// finishes at job end what it started.
	Pre, Main, Post StageFunc
}

// Result is what a mode's report describes.
type Result int

const (
	// ShowsDeployment: one deployment this run created or updated (the default).
	ShowsDeployment Result = iota
	// ShowsLookup: a deployment found by looking (wait, latest), possibly none.
	ShowsLookup
	// ShowsCleanup: what a clean-up of an environment did (Report.Cleanup).
	ShowsCleanup
)

// StageFunc is what a mode does in one stage; it fills r as it goes, so a failure still reports
// what exists.
type StageFunc func(d *Deployer, ctx context.Context, j Job, r *Report) error

// Acts reports whether the mode does anything in stage s.
func (m Mode) Acts(s Stage) bool { return m.stage(s) != nil }

// FinishesAtJobEnd reports whether post sets the final state of what the mode started.
func (m Mode) FinishesAtJobEnd() bool { return m.Post != nil }

func (m Mode) stage(s Stage) StageFunc {
	switch s {
	case StagePre:
		return m.Pre
	case StageMain:
		return m.Main
	case StagePost:
		return m.Post
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
		"require-deployed-in", "wait-for-checks", "checks-timeout", "ignore-checks", "required-checks", "allow-no-checks", "ignore-locks"}
	statusInputs = []string{"deployment-id", "state", "description", "environment-url", "log-url", "auto-inactive", "job-check-run-id"}
)

// Table is a list of modes: the front ends take one (Modes() in the product; a test may add its
// own mode) and look names up in it.
type Table []Mode

// Modes lists every mode in the order the docs present them. It is built on each call so that no
// state is shared between concurrent runs.
func Modes() Table {
	return Table{
		{Name: "auto", Creates: true, Inputs: with(createInputs, "initial-state", "cancelled-state", "job-status"),
			Pre: (*Deployer).preAuto, Main: (*Deployer).mainAuto, Post: (*Deployer).postAuto},
		{Name: "start", Creates: true, LeavesOpen: true, Inputs: with(createInputs, "initial-state"), CLI: startCommand(), Main: (*Deployer).mainStart},
		{Name: "finish", Existing: true, Inputs: with(statusInputs, "job-status", "cancelled-state"), CLI: finishCommand(), Main: (*Deployer).mainStatus},
		{Name: "status", Existing: true, Inputs: statusInputs, CLI: statusCommand(), Main: (*Deployer).mainStatus},
		{Name: "trigger", Creates: true, Inputs: with(createInputs, "state"), CLI: triggerCommand(), Main: (*Deployer).mainTrigger},
		{Name: "deactivate", Cleans: true, NeedsEnvironment: true, Shows: ShowsCleanup, Inputs: []string{"environment"}, CLI: deactivateCommand(), Main: (*Deployer).mainCleanup},
		{Name: "delete", Cleans: true, Deletes: true, NeedsEnvironment: true, Shows: ShowsCleanup, Inputs: []string{"environment", "delete-environment"}, CLI: deleteCommand(), Main: (*Deployer).mainCleanup},
		{Name: "wait", NeedsEnvironment: true, Pattern: true, Polls: true, Shows: ShowsLookup, Inputs: []string{"environment", "sha", "creator", "task", "wait-timeout", "appear-timeout"}, CLI: waitCommand(), Main: (*Deployer).mainWait},
		{Name: "latest", NeedsEnvironment: true, Polls: true, Shows: ShowsLookup, Inputs: []string{"environment", "task", "allow-none", "exclude-sha"}, CLI: latestCommand(), Main: (*Deployer).mainLatest},
		{Name: "command", Polls: true, DecidedAtStart: true, Inputs: []string{"command", "environments", "allowed-permission", "allow-forks", "checks-timeout", "ignore-checks", "required-checks", "allow-no-checks",
			"task", "description", "environment-url", "log-url", "transient-environment", "production-environment", "auto-inactive",
			"cancelled-state", "job-status", "job-check-run-id"},
			Pre: (*Deployer).preCommand, Main: (*Deployer).mainCommand, Post: (*Deployer).postCommand},
	}
}

// Finishing is what post reads to finish a deployment the job started, whatever the mode says at
// job end: the final state's inputs.
func Finishing() Mode {
	return Mode{Name: "finish at job end", Inputs: []string{"description", "environment-url", "log-url", "auto-inactive", "cancelled-state", "job-status", "job-check-run-id"}}
}

// Lookup finds a mode by name.
func (t Table) Lookup(name string) (Mode, bool) {
	for _, m := range t {
		if m.Name == name {
			return m, true
		}
	}
	return Mode{}, false
}

// Names lists the modes' names in order.
func (t Table) Names() []string {
	out := make([]string, 0, len(t))
	for _, m := range t {
		out = append(out, m.Name)
	}
	return out
}

// With is the table with more modes after its own (a test's dummy mode).
func (t Table) With(more ...Mode) Table { return append(append(Table{}, t...), more...) }

// LookupMode finds a mode of Modes by name.
func LookupMode(name string) (Mode, bool) { return Modes().Lookup(name) }

func with(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}
