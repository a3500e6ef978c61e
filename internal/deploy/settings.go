package deploy

import (
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// Stage is one of a container action's three stages.
type Stage string

// The stages, in the order the runner runs them.
const (
	StagePre  Stage = "pre"
	StageMain Stage = "main"
	StagePost Stage = "post"
)

// Settings are the validated, typed inputs of one stage (internal/config makes them).
type Settings struct {
	Token                 ghapi.Token
	Owner, Repo           string
	Mode                  Mode
	Enabled               bool
	Environment           string
	Ref                   string // "" means: resolve from the event
	Task                  string
	Payload               any // nil, map[string]any (numbers as json.Number) or string
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
	// wait and latest
	SHA           string        // the commit to wait for; "" means: the run's (resolved by the caller into Job.SHA)
	Creator       string        // only deployments created by this login
	WaitTimeout   time.Duration // the whole wait
	AppearTimeout time.Duration // waiting for a matching deployment to appear at all
	AllowNone     bool          // latest: no live deployment is an empty result, not a failure
	ExcludeSHA    string        // latest: ignore deployments of this commit (what was live before it)
	// RequireDeployedIn is the promotion gate: the commit must be live there before a create.
	RequireDeployedIn string
	// The checks gate: wait until the ref's checks are green before creating (always on in
	// command mode), at most ChecksTimeout, ignoring the named checks and statuses.
	WaitForChecks bool
	ChecksTimeout time.Duration
	IgnoreChecks  []string
	// RequiredChecks must each be present and green (a missing one counts as pending);
	// AllowNoChecks lets a commit with no check runs and no statuses at all pass (by default a
	// commit nobody has checked is refused: CI that has not started, or was deleted, is not green).
	RequiredChecks []string
	AllowNoChecks  bool
	// command mode (ChatOps)
	Command           string   // the word a comment starts with, e.g. /deploy
	Environments      []string // the environments a command may deploy to; the first is the default
	AllowedPermission string   // the least role a commenter needs (one of Roles)
	AllowForks        bool     // deploy pull requests whose head is in a fork
}

// RequiredContexts is the parsed required-contexts input.
type RequiredContexts struct {
	All  bool     // '*': every commit-status context must be success (GitHub's own default)
	List []string // these contexts must be success; empty and !All: none checked
}

// Roles are the repository roles, least first; a commenter needs AllowedPermission or above.
var Roles = []string{"read", "triage", "write", "maintain", "admin"}

// States are the deployment status states GitHub accepts.
var States = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}
