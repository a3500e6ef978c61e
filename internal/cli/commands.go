package cli

import (
	"context"
)

// flagDef is one flag: its name (an action input's name where there is one), its help, and
// whether the command needs it (a missing required flag is a usage error, exit 2).
type flagDef struct {
	name, short string
	arg         string // placeholder in the help; "" for a boolean flag
	usage       string
	required    bool
	why         string // for the missing-flag message
}

type command struct {
	name, alias string
	short       string // one line for the command list
	long        string // what it does, before USAGE
	usage       string
	flags       []flagDef
	examples    string
	run         func(ctx context.Context, r *runner, o *opts) error
}

// globalFlags are accepted by every command.
var globalFlags = []flagDef{
	{name: "repo", short: "R", arg: "owner/name", usage: "Repository (default: $GH_REPO, then $GITHUB_REPOSITORY)"},
	{name: "token", arg: "string", usage: "Token with deployments write access (default: $GH_TOKEN, then $GITHUB_TOKEN)"},
	{name: "json", usage: "Print one JSON object (an array for list) for scripts"},
	{name: "help", short: "h", usage: "Show help for the command"},
}

// Flags shared by several commands, with the action input's name and default.
var (
	fEnvironment    = flagDef{name: "environment", arg: "name", usage: "Environment to deploy to (default production)"}
	fRef            = flagDef{name: "ref", arg: "ref", usage: "Branch, tag or commit SHA to deploy", required: true, why: "a deployment is of a branch, tag or commit SHA, for example --ref \"$GIT_COMMIT\""}
	fTask           = flagDef{name: "task", arg: "name", usage: "Task name (default deploy)"}
	fPayload        = flagDef{name: "payload", arg: "json", usage: "Extra data: a JSON object, or a plain string"}
	fDescription    = flagDef{name: "description", arg: "text", usage: "Short description, at most 140 characters"}
	fEnvironmentURL = flagDef{name: "environment-url", arg: "url", usage: "URL of the deployed environment (shown as \"View deployment\")"}
	fLogURL         = flagDef{name: "log-url", arg: "url", usage: "URL of the deploy's log, for example $BUILD_URL in Jenkins"}
	fAutoMerge      = flagDef{name: "auto-merge", usage: "Let GitHub merge the default branch into --ref first (default false)"}
	fContexts       = flagDef{name: "required-contexts", arg: "list", usage: "Commit statuses that must be success: names, comma-separated, or '*' (default none)"}
	fTransient      = flagDef{name: "transient-environment", usage: "The environment goes away later, e.g. a review app (default false)"}
	fProduction     = flagDef{name: "production-environment", usage: "Mark the environment as production, or not with =false (default: GitHub decides by name)"}
	fAutoInactive   = flagDef{name: "auto-inactive", usage: "On success, mark earlier deployments of the environment inactive (default true; =false to keep them)"}
	// The checks gate, as the action's wait-for-checks and its companions.
	fWaitForChecks  = flagDef{name: "wait-for-checks", usage: "Before creating, wait until the commit's check runs and commit statuses are green; fail at once when one fails (default false)"}
	fChecksTimeout  = flagDef{name: "checks-timeout", arg: "duration", usage: "How long --wait-for-checks waits for pending checks (default 10m)"}
	fRequiredChecks = flagDef{name: "required-checks", arg: "list", usage: "Checks or commit statuses that must be present and green (with --wait-for-checks): names, comma-separated; a missing one is waited for"}
	fIgnoreChecks   = flagDef{name: "ignore-checks", arg: "list", usage: "Checks or commit statuses --wait-for-checks leaves out: names, comma-separated"}
	fAllowNoChecks  = flagDef{name: "allow-no-checks", usage: "Let a commit with no checks at all pass --wait-for-checks (default false: CI that never started is not green)"}
	fDeploymentID   = flagDef{name: "deployment-id", arg: "id", usage: "Deployment to update, as printed by create", required: true, why: "this command updates an existing deployment: pass the id create printed (create --json | jq .deployment_id)"}
)

// commands is the CLI's command table, in the order the help lists them. It is rebuilt on each
// call so that no package state is shared between concurrent runs.
func commands() []*command {
	createFlags := []flagDef{fEnvironment, fRef, fTask, fPayload, fDescription, fEnvironmentURL, fLogURL, fAutoMerge, fContexts, fTransient, fProduction, fAutoInactive,
		{name: "require-deployed-in", arg: "environment", usage: "Promotion gate: create nothing unless the commit is the one live there"},
		fWaitForChecks, fChecksTimeout, fRequiredChecks, fIgnoreChecks, fAllowNoChecks,
		{name: "ignore-locks", usage: "Deploy even while someone holds the environment's lock (default false)"}}
	return append([]*command{
		{
			name: "create", alias: "start",
			short: "Create a deployment and set its initial state",
			long: `Create a deployment of a ref to an environment and set its initial state (in_progress by
default), as the action's start mode does. Keep the id it prints and set the outcome with
'` + Name + ` finish' when the deploy is done.`,
			usage: Name + " create --ref <ref> [--environment <name>] [flags]",
			flags: append(createFlags, flagDef{name: "initial-state", arg: "state", usage: "in_progress, queued or pending (default in_progress)"}),
			examples: `  # Jenkins or Bash: start, deploy, then record the outcome
  export GH_TOKEN="$DEPLOY_TOKEN" GH_REPO=octo-org/hello-world
  id=$(` + Name + ` create --environment staging --ref "$GIT_COMMIT" \
        --log-url "$BUILD_URL" --json | jq -r .deployment_id)
  if ./deploy.sh staging; then state=success; else state=failure; fi
  ` + Name + ` finish --deployment-id "$id" --state "$state" \
    --environment-url https://staging.example.com

  # Deploy only once CI is green (build and test must have run), waiting up to 20 minutes
  ` + Name + ` create --environment production --ref "$GIT_COMMIT" \
    --wait-for-checks --required-checks build,test --checks-timeout 20m

  # GitHub Enterprise Server (the API is https://ghes.example.com/api/v3)
  GH_HOST=ghes.example.com ` + Name + ` create -R ops/api --environment production --ref v2.3.0`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.stage(ctx, o, "start") },
		},
		{
			name:  "status",
			short: "Set the state of a deployment",
			long: `Add a status to an existing deployment, as the action's status mode does. The environment URL
of the latest status is kept unless --environment-url gives a new one.`,
			usage: Name + " status --deployment-id <id> --state <state> [flags]",
			flags: []flagDef{fDeploymentID,
				{name: "state", arg: "state", usage: "error, failure, inactive, in_progress, queued, pending or success", required: true, why: "status sets the state you give, for example --state in_progress"},
				fDescription, fEnvironmentURL, fLogURL, fAutoInactive},
			examples: `  # Report progress of a long deploy
  ` + Name + ` status -R octo-org/hello-world --deployment-id "$id" --state queued \
    --description "waiting for the deploy window"
  ` + Name + ` status -R octo-org/hello-world --deployment-id "$id" --state in_progress`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.stage(ctx, o, "status") },
		},
		{
			name:  "finish",
			short: "Set the final state of a deployment (default success)",
			long: `Set the final state of a deployment created by '` + Name + ` create', as the action's finish
mode does. On success GitHub marks earlier deployments of the environment inactive (unless
--auto-inactive=false). The environment URL of the latest status is kept unless given again.`,
			usage: Name + " finish --deployment-id <id> [--state <state>] [flags]",
			flags: []flagDef{fDeploymentID,
				{name: "state", arg: "state", usage: "Final state: success, failure, error or inactive (default success)"},
				fDescription, fEnvironmentURL, fLogURL, fAutoInactive},
			examples: `  # Jenkinsfile: record the outcome once the pipeline is done
  post {
    success { sh '` + Name + ` finish --deployment-id "$DEPLOYMENT_ID" --environment-url https://app.example.com' }
    failure { sh '` + Name + ` finish --deployment-id "$DEPLOYMENT_ID" --state failure' }
  }

  # Bash
  ` + Name + ` finish -R octo-org/hello-world --deployment-id "$id" --state error \
    --description "migration failed"`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.stage(ctx, o, "finish") },
		},
		{
			name:  "trigger",
			short: "Create a deployment and set its final state in one go",
			long: `Create a deployment and set its final state (success by default) at once, as the action's
trigger mode does: for recording a deploy that already happened, or for tools that react to
deployment_status events (such as Checkly or Vercel integrations).`,
			usage: Name + " trigger --ref <ref> [--environment <name>] [--state <state>] [flags]",
			flags: append(createFlags, flagDef{name: "state", arg: "state", usage: "Final state (default success)"}),
			examples: `  # Record a finished deploy and print its id
  ` + Name + ` trigger -R octo-org/hello-world --environment production --ref "$GIT_COMMIT" \
    --environment-url https://app.example.com --json | jq .deployment_id

  # Tell a monitoring integration that a preview is live
  ` + Name + ` trigger --environment "preview-$PR" --ref "$BRANCH" --transient-environment \
    --environment-url "https://pr-$PR.preview.example.com"`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.stage(ctx, o, "trigger") },
		},
		{
			name:  "list",
			short: "List deployments with their latest state",
			long: `List deployments, newest first, with their latest state. GitHub gives a deployment's state
only through its statuses, so this makes one request per deployment (a few at a time).`,
			usage: Name + " list [--environment <name>] [--ref <ref>] [--task <name>] [--limit <n>] [flags]",
			flags: []flagDef{
				{name: "environment", arg: "name", usage: "Only deployments to this environment"},
				{name: "ref", arg: "ref", usage: "Only deployments of this branch, tag or SHA"},
				{name: "task", arg: "name", usage: "Only deployments with this task"},
				{name: "limit", short: "L", arg: "n", usage: "At most this many deployments (default 30)"},
			},
			examples: `  # What is deployed where?
  ` + Name + ` list -R octo-org/hello-world --limit 10

  # The id of the latest successful production deployment
  ` + Name + ` list --environment production --json | jq '[.[] | select(.state == "success")][0].deployment_id'`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.list(ctx, o) },
		},
		{
			name:  "wait",
			short: "Wait for a deployment of a commit to succeed",
			long: `Wait until a deployment of a commit to an environment (a name, or a pattern such as pr-* or
preview/*) succeeds, as the action's wait mode does: for example a preview that Vercel or
Netlify deploys. It fails at once when that deployment fails, errors, goes inactive or is
superseded by a newer deployment for another commit, and when the time allowed runs out. It
polls with conditional requests, so unchanged answers cost no rate limit.`,
			usage: Name + " wait --environment <name or pattern> [--sha <sha>] [--creator <login>] [flags]",
			flags: []flagDef{
				{name: "environment", arg: "pattern", usage: "Environment name or pattern (* and ? match any characters but /)", required: true, why: "wait needs the environment to watch, for example --environment 'preview/*'"},
				{name: "sha", arg: "sha", usage: "Commit whose deployment to wait for (default: $GITHUB_SHA)"},
				{name: "creator", arg: "login", usage: "Only deployments created by this user or app, e.g. vercel[bot]"},
				{name: "task", arg: "name", usage: "Only deployments with this task (default deploy)"},
				{name: "wait-timeout", arg: "duration", usage: "How long to wait in all (default 10m)"},
				{name: "appear-timeout", arg: "duration", usage: "How long to wait for a deployment to appear at all (default: --wait-timeout)"},
			},
			examples: `  # End-to-end tests against the preview Vercel deploys for this commit
  url=$(` + Name + ` wait -R octo-org/hello-world --environment 'Preview*' \
        --creator 'vercel[bot]' --sha "$GIT_COMMIT" --json | jq -r .environment_url)
  npx playwright test --base-url "$url"`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.stage(ctx, o, "wait") },
		},
		{
			name:  "latest",
			short: "Show the deployment live in an environment",
			long: `Show the deployment live in an environment now, as the action's latest mode does: the one whose
latest status is success and came last (deployments may finish out of order). Nothing live is
an error, unless --allow-none.`,
			usage: Name + " latest --environment <name> [flags]",
			flags: []flagDef{
				{name: "environment", arg: "name", usage: "Environment to look at", required: true, why: "latest needs the environment, for example --environment production"},
				{name: "task", arg: "name", usage: "Only deployments with this task (default deploy)"},
				{name: "allow-none", usage: "Nothing live is not an error (the JSON then has deployment_id 0)"},
				{name: "exclude-sha", arg: "sha", usage: "Leave out deployments of this commit, to find what was live before it (for a roll-back)"},
			},
			examples: `  # Which commit runs in production, and roll staging to it
  sha=$(` + Name + ` latest -R octo-org/hello-world --environment production --json | jq -r .sha)

  # Roll production back to what ran before the current commit
  bad=$(` + Name + ` latest --environment production --json | jq -r .sha)
  good=$(` + Name + ` latest --environment production --exclude-sha "$bad" --json | jq -r .sha)
  ` + Name + ` trigger --environment production --ref "$good"`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.stage(ctx, o, "latest") },
		},
		{
			name:  "deactivate",
			short: "Mark every deployment of an environment inactive",
			long: `Mark every deployment of an environment inactive (those already inactive are left alone), as
the action's deactivate mode does: for example when a review app is torn down.`,
			usage: Name + " deactivate --environment <name> [flags]",
			flags: []flagDef{{name: "environment", arg: "name", usage: "Environment to deactivate", required: true, why: "deactivate acts on every deployment of one environment, name it"}},
			examples: `  # A review app was torn down
  ` + Name + ` deactivate -R octo-org/hello-world --environment "preview-$PR"`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.stage(ctx, o, "deactivate") },
		},
		{
			name:  "delete",
			short: "Deactivate and delete every deployment of an environment",
			long: `Mark every deployment of an environment inactive, then delete them, as the action's delete mode
does. With --delete-environment the environment itself is deleted too, which needs a token with
Administration write access to the repository.`,
			usage: Name + " delete --environment <name> [--delete-environment] [flags]",
			flags: []flagDef{
				{name: "environment", arg: "name", usage: "Environment to clean up", required: true, why: "delete acts on every deployment of one environment, name it"},
				{name: "delete-environment", usage: "Delete the environment too (default false)"},
			},
			examples: `  # Remove a preview environment and its history after the pull request is closed
  GH_TOKEN="$ADMIN_TOKEN" ` + Name + ` delete -R octo-org/hello-world \
    --environment "preview-$PR" --delete-environment --json | jq .deleted`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.stage(ctx, o, "delete") },
		},
		{
			name:  "serve",
			short: "Run the GitHub App server: webhooks, Slack's /deploy, the protection rule",
			long: `Serve the GitHub App: POST /github/webhook (X-Hub-Signature-256 checked with
$GITHUB_WEBHOOK_SECRET before anything is read; answered at once, work after), and, when
$SLACK_SIGNING_SECRET and $SLACK_BOT_TOKEN are set, Slack's /deploy on POST /slack/commands and its
buttons on POST /slack/interactions (v0 signature checked first). GET /healthz, GET /metrics.

The App: $GITHUB_APP_ID and $GITHUB_APP_PRIVATE_KEY (PEM) or $GITHUB_APP_PRIVATE_KEY_FILE; the API
root from $GITHUB_API_URL or $GH_HOST. Slack's Web API at $SLACK_API_URL (default
https://slack.com/api/). The config file (--config or $DEPLOYMENT_SERVER_CONFIG) maps Slack
channels to repositories and Slack users to GitHub logins; it holds no secret.

Logs are JSON lines on stderr. SIGTERM stops it; requests and work in flight get 9 seconds.`,
			usage: Name + " serve [--listen <addr>] [--config <file>]",
			flags: []flagDef{
				{name: "listen", arg: "addr", usage: "Address to listen on (default :8080)"},
				{name: "config", arg: "file", usage: "The YAML config file (default $DEPLOYMENT_SERVER_CONFIG; none: nothing mapped)"},
			},
			examples: `  # Behind a load balancer that sends the App's webhooks to :8080/github/webhook
  GITHUB_APP_ID=123456 GITHUB_APP_PRIVATE_KEY_FILE=/secrets/app.pem GITHUB_WEBHOOK_SECRET="$SECRET" \
  SLACK_SIGNING_SECRET="$SLACK_SECRET" SLACK_BOT_TOKEN="$XOXB" \
    ` + Name + ` serve --listen :8080 --config /etc/deployment-action/server.yml`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.serve(ctx, o) },
		},
	}, lockCommands()...)
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name || (c.alias != "" && c.alias == name) {
			return c
		}
	}
	return nil
}
