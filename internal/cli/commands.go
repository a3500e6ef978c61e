package cli

import (
	"context"
	"strings"

	"github.com/deployment-action/deployment-action/internal/deploy"
)

// flagDef is one flag: its name (an action input's name where there is one), its help, and
// whether the command needs it (a missing required flag is a usage error, exit 2).
type flagDef struct {
	name, short string
	arg         string // placeholder in the help; "" for a boolean flag
	usage       string
	required    bool
	why         string // for the missing-flag message
	env         string // the environment variable an empty flag defaults to (see deploy.Flag)
}

type command struct {
	name, alias string
	short       string // one line for the command list
	long        string // what it does, before USAGE
	usage       string
	flags       []flagDef
	examples    string
	// mode is the action mode the command runs (nil: a CLI-only command such as list or serve);
	// check is the mode's extra command-line check (deploy.CLI.Check).
	mode  *deploy.Mode
	check func(flag func(name string) string) string
	run   func(ctx context.Context, r *runner, o *opts) error
}

// globalFlags are accepted by every command.
var globalFlags = []flagDef{
	{name: "repo", short: "R", arg: "owner/name", usage: "Repository (default: $GH_REPO, then $GITHUB_REPOSITORY)"},
	{name: "token", arg: "string", usage: "Token with deployments write access (default: $GH_TOKEN, then $GITHUB_TOKEN)"},
	{name: "json", usage: "Print one JSON object (an array for list) for scripts"},
	{name: "help", short: "h", usage: "Show help for the command"},
}

// commands is the CLI's command table, in the order the help lists them: the modes' commands in
// the mode table's order (their names, help and flags come from deploy.Mode.CLI), then the CLI's
// own. It is rebuilt on each call so that no package state is shared between concurrent runs.
func (r *runner) commands() []*command {
	modes := r.modes
	if modes == nil {
		modes = deploy.Modes()
	}
	var out []*command
	for _, m := range modes {
		if m.CLI != nil {
			out = append(out, modeCommand(m))
		}
	}
	return append(append(out,
		&command{
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
		&command{
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
	), lockCommands()...)
}

// modeCommand is a mode's command: its texts with the binary's name filled in, its flags, and a
// run that goes through the action's main stage.
func modeCommand(m deploy.Mode) *command {
	c := m.CLI
	bin := func(s string) string { return strings.ReplaceAll(s, "{bin}", Name) }
	cmd := &command{name: c.Name, alias: c.Alias, short: c.Short, long: bin(c.Long), usage: bin(c.Usage), examples: bin(c.Examples),
		mode: &m, check: c.Check}
	for _, f := range c.Flags {
		cmd.flags = append(cmd.flags, flagDef{name: f.Name, short: f.Short, arg: f.Arg, usage: f.Usage, required: f.Required, why: f.Why, env: f.Env})
	}
	cmd.run = func(ctx context.Context, r *runner, o *opts) error { return r.stage(ctx, o, m) }
	return cmd
}

func (r *runner) lookup(name string) *command {
	for _, c := range r.commands() {
		if c.name == name || (c.alias != "" && c.alias == name) {
			return c
		}
	}
	return nil
}
