package deploy

// The modes' commands in the CLI: names, help and flags live here, beside the mode table, and the
// CLI builds its commands from them. In the texts {bin} stands for the binary's name.

// CLI is how the CLI offers a mode: a command with its help and flags. A flag is named as the
// action input it sets, so that the action's validation and messages apply.
type CLI struct {
	Name, Alias string
	Short       string // one line for the command list
	Long        string // what it does, before USAGE
	Usage       string
	Flags       []Flag
	Examples    string
	// Check refuses, before anything is sent, a command line that the mode's validation lets
	// through but the command does not take; flag gives a flag's text. It returns the usage
	// message, or "".
	Check func(flag func(name string) string) string
}

// Flag is one command-line flag.
type Flag struct {
	Name, Short string
	Arg         string // placeholder in the help; "" for a boolean flag
	Usage       string
	Required    bool   // a missing required flag is a usage error
	Why         string // for the missing-flag message
	// Env is the environment variable the flag defaults to; when both are empty the flag is
	// missing (Why says what it is for).
	Env string
}

// Flags shared by several commands, with the action input's name and default.
var (
	flagEnvironment    = Flag{Name: "environment", Arg: "name", Usage: "Environment to deploy to (default production)"}
	flagRef            = Flag{Name: "ref", Arg: "ref", Usage: "Branch, tag or commit SHA to deploy", Required: true, Why: "a deployment is of a branch, tag or commit SHA, for example --ref \"$GIT_COMMIT\""}
	flagTask           = Flag{Name: "task", Arg: "name", Usage: "Task name (default deploy)"}
	flagPayload        = Flag{Name: "payload", Arg: "json", Usage: "Extra data: a JSON object, or a plain string"}
	flagDescription    = Flag{Name: "description", Arg: "text", Usage: "Short description, at most 140 characters"}
	flagEnvironmentURL = Flag{Name: "environment-url", Arg: "url", Usage: "URL of the deployed environment (shown as \"View deployment\")"}
	flagLogURL         = Flag{Name: "log-url", Arg: "url", Usage: "URL of the deploy's log, for example $BUILD_URL in Jenkins"}
	flagAutoMerge      = Flag{Name: "auto-merge", Usage: "Let GitHub merge the default branch into --ref first (default false)"}
	flagContexts       = Flag{Name: "required-contexts", Arg: "list", Usage: "Commit statuses that must be success: names, comma-separated, or '*' (default none)"}
	flagTransient      = Flag{Name: "transient-environment", Usage: "The environment goes away later, e.g. a review app (default false)"}
	flagProduction     = Flag{Name: "production-environment", Usage: "Mark the environment as production, or not with =false (default: GitHub decides by name)"}
	flagAutoInactive   = Flag{Name: "auto-inactive", Usage: "On success, mark earlier deployments of the environment inactive (default true; =false to keep them)"}
	// The checks gate, as the action's wait-for-checks and its companions.
	flagWaitForChecks  = Flag{Name: "wait-for-checks", Usage: "Before creating, wait until the commit's check runs and commit statuses are green; fail at once when one fails (default false)"}
	flagChecksTimeout  = Flag{Name: "checks-timeout", Arg: "duration", Usage: "How long --wait-for-checks waits for pending checks (default 10m)"}
	flagRequiredChecks = Flag{Name: "required-checks", Arg: "list", Usage: "Checks or commit statuses that must be present and green (with --wait-for-checks): names, comma-separated; a missing one is waited for"}
	flagIgnoreChecks   = Flag{Name: "ignore-checks", Arg: "list", Usage: "Checks or commit statuses --wait-for-checks leaves out: names, comma-separated"}
	flagAllowNoChecks  = Flag{Name: "allow-no-checks", Usage: "Let a commit with no checks at all pass --wait-for-checks (default false: CI that never started is not green)"}
	flagDeploymentID   = Flag{Name: "deployment-id", Arg: "id", Usage: "Deployment to update, as printed by create", Required: true, Why: "this command updates an existing deployment: pass the id create printed (create --json | jq .deployment_id)"}
)

// createFlags are the flags of the commands that create a deployment.
func createFlags(more ...Flag) []Flag {
	return append([]Flag{flagEnvironment, flagRef, flagTask, flagPayload, flagDescription, flagEnvironmentURL, flagLogURL, flagAutoMerge, flagContexts, flagTransient, flagProduction, flagAutoInactive,
		{Name: "require-deployed-in", Arg: "environment", Usage: "Promotion gate: create nothing unless the commit is the one live there"},
		flagWaitForChecks, flagChecksTimeout, flagRequiredChecks, flagIgnoreChecks, flagAllowNoChecks,
		{Name: "ignore-locks", Usage: "Deploy even while someone holds the environment's lock (default false)"}}, more...)
}

func startCommand() *CLI {
	return &CLI{
		Name: "create", Alias: "start",
		Short: "Create a deployment and set its initial state",
		Long: `Create a deployment of a ref to an environment and set its initial state (in_progress by
default), as the action's start mode does. Keep the id it prints and set the outcome with
'{bin} finish' when the deploy is done.`,
		Usage: "{bin} create --ref <ref> [--environment <name>] [flags]",
		Flags: createFlags(Flag{Name: "initial-state", Arg: "state", Usage: "in_progress, queued or pending (default in_progress)"}),
		Examples: `  # Jenkins or Bash: start, deploy, then record the outcome
  export GH_TOKEN="$DEPLOY_TOKEN" GH_REPO=octo-org/hello-world
  id=$({bin} create --environment staging --ref "$GIT_COMMIT" \
        --log-url "$BUILD_URL" --json | jq -r .deployment_id)
  if ./deploy.sh staging; then state=success; else state=failure; fi
  {bin} finish --deployment-id "$id" --state "$state" \
    --environment-url https://staging.example.com

  # Deploy only once CI is green (build and test must have run), waiting up to 20 minutes
  {bin} create --environment production --ref "$GIT_COMMIT" \
    --wait-for-checks --required-checks build,test --checks-timeout 20m

  # GitHub Enterprise Server (the API is https://ghes.example.com/api/v3)
  GH_HOST=ghes.example.com {bin} create -R ops/api --environment production --ref v2.3.0`,
	}
}

func statusCommand() *CLI {
	return &CLI{
		Name:  "status",
		Short: "Set the state of a deployment",
		Long: `Add a status to an existing deployment, as the action's status mode does. The environment URL
of the latest status is kept unless --environment-url gives a new one.`,
		Usage: "{bin} status --deployment-id <id> --state <state> [flags]",
		Flags: []Flag{flagDeploymentID,
			{Name: "state", Arg: "state", Usage: "error, failure, inactive, in_progress, queued, pending or success", Required: true, Why: "status sets the state you give, for example --state in_progress"},
			flagDescription, flagEnvironmentURL, flagLogURL, flagAutoInactive},
		Examples: `  # Report progress of a long deploy
  {bin} status -R octo-org/hello-world --deployment-id "$id" --state queued \
    --description "waiting for the deploy window"
  {bin} status -R octo-org/hello-world --deployment-id "$id" --state in_progress`,
	}
}

func finishCommand() *CLI {
	return &CLI{
		Name:  "finish",
		Short: "Set the final state of a deployment (default success)",
		Long: `Set the final state of a deployment created by '{bin} create', as the action's finish
mode does. On success GitHub marks earlier deployments of the environment inactive (unless
--auto-inactive=false). The environment URL of the latest status is kept unless given again.`,
		Usage: "{bin} finish --deployment-id <id> [--state <state>] [flags]",
		Flags: []Flag{flagDeploymentID,
			{Name: "state", Arg: "state", Usage: "Final state: success, failure, error or inactive (default success)"},
			flagDescription, flagEnvironmentURL, flagLogURL, flagAutoInactive},
		Examples: `  # Jenkinsfile: record the outcome once the pipeline is done
  post {
    success { sh '{bin} finish --deployment-id "$DEPLOYMENT_ID" --environment-url https://app.example.com' }
    failure { sh '{bin} finish --deployment-id "$DEPLOYMENT_ID" --state failure' }
  }

  # Bash
  {bin} finish -R octo-org/hello-world --deployment-id "$id" --state error \
    --description "migration failed"`,
		Check: func(flag func(string) string) string {
			switch st := flag("state"); st {
			case "in_progress", "queued", "pending":
				return "--state " + st + " is not a final state: finish sets success, failure, error or inactive (use the status command for " + st + ")"
			}
			return ""
		},
	}
}

func triggerCommand() *CLI {
	return &CLI{
		Name:  "trigger",
		Short: "Create a deployment and set its final state in one go",
		Long: `Create a deployment and set its final state (success by default) at once, as the action's
trigger mode does: for recording a deploy that already happened, or for tools that react to
deployment_status events (such as Checkly or Vercel integrations).`,
		Usage: "{bin} trigger --ref <ref> [--environment <name>] [--state <state>] [flags]",
		Flags: createFlags(Flag{Name: "state", Arg: "state", Usage: "Final state (default success)"}),
		Examples: `  # Record a finished deploy and print its id
  {bin} trigger -R octo-org/hello-world --environment production --ref "$GIT_COMMIT" \
    --environment-url https://app.example.com --json | jq .deployment_id

  # Tell a monitoring integration that a preview is live
  {bin} trigger --environment "preview-$PR" --ref "$BRANCH" --transient-environment \
    --environment-url "https://pr-$PR.preview.example.com"`,
	}
}

func waitCommand() *CLI {
	return &CLI{
		Name:  "wait",
		Short: "Wait for a deployment of a commit to succeed",
		Long: `Wait until a deployment of a commit to an environment (a name, or a pattern such as pr-* or
preview/*) succeeds, as the action's wait mode does: for example a preview that Vercel or
Netlify deploys. It fails at once when that deployment fails, errors, goes inactive or is
superseded by a newer deployment for another commit, and when the time allowed runs out. It
polls with conditional requests, so unchanged answers cost no rate limit.`,
		Usage: "{bin} wait --environment <name or pattern> [--sha <sha>] [--creator <login>] [flags]",
		Flags: []Flag{
			{Name: "environment", Arg: "pattern", Usage: "Environment name or pattern (* and ? match any characters but /)", Required: true, Why: "wait needs the environment to watch, for example --environment 'preview/*'"},
			{Name: "sha", Arg: "sha", Usage: "Commit whose deployment to wait for (default: $GITHUB_SHA)", Env: "GITHUB_SHA", Why: "the commit whose deployment to wait for"},
			{Name: "creator", Arg: "login", Usage: "Only deployments created by this user or app, e.g. vercel[bot]"},
			{Name: "task", Arg: "name", Usage: "Only deployments with this task (default deploy)"},
			{Name: "wait-timeout", Arg: "duration", Usage: "How long to wait in all (default 10m)"},
			{Name: "appear-timeout", Arg: "duration", Usage: "How long to wait for a deployment to appear at all (default: --wait-timeout)"},
		},
		Examples: `  # End-to-end tests against the preview Vercel deploys for this commit
  url=$({bin} wait -R octo-org/hello-world --environment 'Preview*' \
        --creator 'vercel[bot]' --sha "$GIT_COMMIT" --json | jq -r .environment_url)
  npx playwright test --base-url "$url"`,
	}
}

func latestCommand() *CLI {
	return &CLI{
		Name:  "latest",
		Short: "Show the deployment live in an environment",
		Long: `Show the deployment live in an environment now, as the action's latest mode does: the one whose
latest status is success and came last (deployments may finish out of order). Nothing live is
an error, unless --allow-none.`,
		Usage: "{bin} latest --environment <name> [flags]",
		Flags: []Flag{
			{Name: "environment", Arg: "name", Usage: "Environment to look at", Required: true, Why: "latest needs the environment, for example --environment production"},
			{Name: "task", Arg: "name", Usage: "Only deployments with this task (default deploy)"},
			{Name: "allow-none", Usage: "Nothing live is not an error (the JSON then has deployment_id 0)"},
			{Name: "exclude-sha", Arg: "sha", Usage: "Leave out deployments of this commit, to find what was live before it (for a roll-back)"},
		},
		Examples: `  # Which commit runs in production, and roll staging to it
  sha=$({bin} latest -R octo-org/hello-world --environment production --json | jq -r .sha)

  # Roll production back to what ran before the current commit
  bad=$({bin} latest --environment production --json | jq -r .sha)
  good=$({bin} latest --environment production --exclude-sha "$bad" --json | jq -r .sha)
  {bin} trigger --environment production --ref "$good"`,
	}
}

func deactivateCommand() *CLI {
	return &CLI{
		Name:  "deactivate",
		Short: "Mark every deployment of an environment inactive",
		Long: `Mark every deployment of an environment inactive (those already inactive are left alone), as
the action's deactivate mode does: for example when a review app is torn down.`,
		Usage: "{bin} deactivate --environment <name> [flags]",
		Flags: []Flag{{Name: "environment", Arg: "name", Usage: "Environment to deactivate", Required: true, Why: "deactivate acts on every deployment of one environment, name it"}},
		Examples: `  # A review app was torn down
  {bin} deactivate -R octo-org/hello-world --environment "preview-$PR"`,
	}
}

func deleteCommand() *CLI {
	return &CLI{
		Name:  "delete",
		Short: "Deactivate and delete every deployment of an environment",
		Long: `Mark every deployment of an environment inactive, then delete them, as the action's delete mode
does. With --delete-environment the environment itself is deleted too, which needs a token with
Administration write access to the repository.`,
		Usage: "{bin} delete --environment <name> [--delete-environment] [flags]",
		Flags: []Flag{
			{Name: "environment", Arg: "name", Usage: "Environment to clean up", Required: true, Why: "delete acts on every deployment of one environment, name it"},
			{Name: "delete-environment", Usage: "Delete the environment too (default false)"},
		},
		Examples: `  # Remove a preview environment and its history after the pull request is closed
  GH_TOKEN="$ADMIN_TOKEN" {bin} delete -R octo-org/hello-world \
    --environment "preview-$PR" --delete-environment --json | jq .deleted`,
	}
}
