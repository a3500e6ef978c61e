package cli

import (
	"fmt"
	"strings"
)

const exitCodes = `EXIT CODES
  0  Success
  1  Failure: GitHub refused or failed the request
  2  Usage: unknown command or flag, a missing required flag, an invalid value, no token or
     repository: nothing was sent`

const environment = `ENVIRONMENT
  GH_TOKEN, GITHUB_TOKEN     Token, when --token is not given (safer than --token: a command
                             line is visible to other users of the machine)
  GH_ENTERPRISE_TOKEN,       Token for the GH_HOST server when neither of the above is set
  GITHUB_ENTERPRISE_TOKEN
  GH_REPO, GITHUB_REPOSITORY Repository, when -R is not given
  GH_HOST                    GitHub host as gh reads it: ghes.example.com means the API at
                             https://ghes.example.com/api/v3 (GitHub Enterprise Server)
  GITHUB_API_URL             API root when GH_HOST is not set, e.g. https://ghes.example.com/api/v3
                             (default https://api.github.com)`

// help prints the top-level help (c nil) or a command's help on stdout.
func (r *runner) help(c *command) error {
	var b strings.Builder
	if c == nil {
		topHelp(&b, r.commands())
	} else {
		commandHelp(&b, c)
	}
	_, err := fmt.Fprint(r.stdout, b.String())
	return err
}

func topHelp(b *strings.Builder, cmds []*command) {
	fmt.Fprintf(b, `Create and update GitHub deployments from any deploy script (Jenkins, Bash, cron) with the
same rules as the deployment-action GitHub Action, which this binary also is.

USAGE
  %s <command> [flags]

COMMANDS
`, Name)
	for _, c := range cmds {
		fmt.Fprintf(b, "  %-11s %s\n", c.name+":", c.short)
	}
	fmt.Fprintf(b, `
OTHER COMMANDS
  version:    Print the version

FLAGS
%s

%s

%s

EXAMPLES
  # Jenkins or Bash: start a deployment, deploy, record the outcome
  export GH_TOKEN="$DEPLOY_TOKEN" GH_REPO=octo-org/hello-world
  id=$(%[4]s create --environment staging --ref "$GIT_COMMIT" --json | jq -r .deployment_id)
  if ./deploy.sh staging; then state=success; else state=failure; fi
  %[4]s finish --deployment-id "$id" --state "$state"

  # GitHub Enterprise Server
  GH_HOST=ghes.example.com %[4]s list -R ops/api --environment production

LEARN MORE
  Use '%[4]s <command> --help' for more about a command.
`, flagTable(globalFlags), environment, exitCodes, Name)
}

func commandHelp(b *strings.Builder, c *command) {
	fmt.Fprintf(b, "%s\n\nUSAGE\n  %s\n", c.long, c.usage)
	if c.alias != "" {
		fmt.Fprintf(b, "\nALIASES\n  %s\n", c.alias)
	}
	// The environment and exit codes are the same for every command: the top-level help has them.
	fmt.Fprintf(b, "\nFLAGS\n%s\n\nINHERITED FLAGS\n%s\n\nEXAMPLES\n%s\n\nLEARN MORE\n  Use '%s --help' for the environment the commands read and their exit codes.\n",
		flagTable(c.flags), flagTable(globalFlags), c.examples, Name)
}

// flagTable renders flags as gh does: "  -R, --repo owner/name   Usage", aligned.
func flagTable(flags []flagDef) string {
	left := make([]string, len(flags))
	width := 0
	for i, f := range flags {
		s := "    "
		if f.short != "" {
			s = "-" + f.short + ", "
		}
		s += "--" + f.name
		if f.arg != "" {
			s += " " + f.arg
		}
		left[i] = s
		width = max(width, len(s))
	}
	var lines []string
	for i, f := range flags {
		u := f.usage
		if f.required {
			u += " (required)"
		}
		lines = append(lines, fmt.Sprintf("  %-*s  %s", width, left[i], u))
	}
	return strings.Join(lines, "\n")
}
