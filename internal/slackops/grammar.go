// Package slackops is the Slack front end of the server: the /deploy slash command and its
// buttons, and the deployment_status webhooks that update the Slack message a deploy started
// from. It holds no state: a deployment's payload names its Slack message, so any replica can
// update it, and every decision is made from what GitHub holds (the policy file, checks, locks,
// deployments) with the core the action uses (internal/deploy, internal/gate, internal/lock,
// internal/policy).
package slackops

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
)

// Verb is what a /deploy line asks for.
type Verb int

// The verbs.
const (
	VerbHelp Verb = iota
	VerbDeploy
	VerbStatus
	VerbLock
	VerbUnlock
	VerbLocks
)

// Command is a /deploy line as the grammar reads it.
type Command struct {
	Verb Verb
	// Repo is owner/repo when the line names one ("" = the channel's repository).
	Repo string
	// Ref is the branch, tag or SHA to deploy ("" = the default branch's head).
	Ref         string
	Environment string
	Duration    time.Duration // lock: 0 = until unlocked
	Reason      string        // lock
}

// UsageError is a line the grammar cannot read; the message says what to write instead.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usage(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...) + " See `/deploy help`."}
}

// isRepo reports whether w is written as owner/repo (before any @ref): one slash, both sides
// non-empty. In a mapped channel a branch whose name has a slash is written @feature/x.
func isRepo(w string) bool {
	name, _, _ := strings.Cut(w, "@")
	return repoName.MatchString(name)
}

// repoName is GitHub's owner/repo: anything else (a branch feature/x, or text such as
// <!channel>/x) is not taken for a repository, so it is never echoed as one.
var repoName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)

// Parse reads the text after /deploy:
//
//	[ref] [to] <environment>                  the channel's repository
//	owner/repo[@ref] [to] <environment>       any repository
//	@ref [to] <environment>                   a ref with a slash, in a mapped channel
//	status [owner/repo] <environment>
//	lock [owner/repo] <environment> [duration] [reason…]
//	unlock [owner/repo] <environment>
//	locks [owner/repo]
//	help
func Parse(text string) (Command, error) {
	w := strings.Fields(text)
	if len(w) == 0 || (len(w) == 1 && strings.EqualFold(w[0], "help")) {
		return Command{Verb: VerbHelp}, nil
	}
	var c Command
	switch strings.ToLower(w[0]) {
	case "status":
		c.Verb = VerbStatus
	case "lock":
		c.Verb = VerbLock
	case "unlock":
		c.Verb = VerbUnlock
	case "locks":
		c.Verb = VerbLocks
	case "help":
		return Command{}, usage("`help` takes nothing after it.")
	default:
		return parseDeploy(w)
	}
	rest := w[1:]
	if len(rest) > 0 && isRepo(rest[0]) {
		if strings.Contains(rest[0], "@") {
			return Command{}, usage("`%s` names a ref: %s works on a repository's environment, write `%s`.", rest[0], w[0], strings.SplitN(rest[0], "@", 2)[0])
		}
		c.Repo, rest = rest[0], rest[1:]
	}
	switch c.Verb {
	case VerbLocks:
		if len(rest) > 0 {
			return Command{}, usage("`locks` lists every lock of the repository: write `/deploy locks` alone (or `/deploy locks owner/repo`).")
		}
		return c, nil
	case VerbStatus:
		if len(rest) != 1 {
			return Command{}, usage("Write `/deploy status <environment>`.")
		}
		c.Environment = rest[0]
	case VerbUnlock:
		env, _, ok := deploy.ParseLockArgs(deploy.LockRelease, rest)
		if !ok {
			return Command{}, usage("Write `/deploy unlock <environment>`.")
		}
		c.Environment = env
	case VerbLock:
		// The lock grammar of PR comments (deploy.ParseLockArgs), after /deploy lock.
		env, line, ok := deploy.ParseLockArgs(deploy.LockTake, rest)
		if !ok {
			if len(rest) > 1 {
				if _, isDuration := deploy.ParseLockDuration(rest[1]); isDuration {
					return Command{}, usage("A lock lasts at most 90 days; `%s` is longer.", rest[1])
				}
			}
			return Command{}, usage("Write `/deploy lock <environment> [duration] [reason]`, e.g. `/deploy lock production 2h migrating the database`.")
		}
		c.Environment, c.Duration, c.Reason = env, line.Duration, line.Reason
	}
	return c, checkEnvironment(c.Environment)
}

func parseDeploy(w []string) (Command, error) {
	c := Command{Verb: VerbDeploy}
	rest := w
	switch {
	case isRepo(rest[0]):
		name, ref, _ := strings.Cut(rest[0], "@")
		c.Repo, c.Ref, rest = name, ref, rest[1:]
		if strings.HasSuffix(w[0], "@") {
			return Command{}, usage("`%s` ends in @: name the ref after it, or leave @ out for the default branch.", w[0])
		}
	case strings.HasPrefix(rest[0], "@") && len(rest) > 1:
		c.Ref, rest = strings.TrimPrefix(rest[0], "@"), rest[1:]
	}
	// What is left is PR comments' grammar, [to] <environment> (deploy.ParseTarget), after an
	// optional ref: <env> | to <env> | <ref> <env> | <ref> to <env>.
	if len(rest) == 0 {
		return Command{}, usage("Name the environment: `/deploy %s to <environment>`.", w[0])
	}
	env, ok := deploy.ParseTarget(rest)
	if (!ok || env == "") && c.Ref == "" && len(rest) > 1 {
		c.Ref = rest[0]
		env, ok = deploy.ParseTarget(rest[1:])
	}
	switch {
	case ok && env == "" || strings.EqualFold(rest[len(rest)-1], "to"):
		return Command{}, usage("Name the environment after `to`.")
	case !ok:
		return Command{}, usage("`/deploy %s` has words I cannot place. Write `/deploy [ref] [to] <environment>` or `/deploy owner/repo[@ref] [to] <environment>`.", strings.Join(w, " "))
	}
	c.Environment = env
	if strings.EqualFold(c.Environment, "to") {
		return Command{}, usage("Name the environment after `to`.")
	}
	return c, checkEnvironment(c.Environment)
}

func checkEnvironment(env string) error {
	if strings.ContainsAny(env, "*?") {
		return usage("`%s` is a pattern: name one environment.", env)
	}
	if len(env) > 255 {
		return usage("An environment name has at most 255 characters.")
	}
	return nil
}

// Help is the /deploy help text (Slack mrkdwn).
const Help = "*/deploy* deploys through GitHub: it creates a deployment that your workflow `on: deployment` carries out, and this message follows it.\n" +
	"• `/deploy [ref] [to] <environment>`: the channel's repository; the ref defaults to the default branch's head (a branch with a slash: `@feature/x`)\n" +
	"• `/deploy owner/repo[@ref] [to] <environment>`: any repository the App is installed on\n" +
	"• `/deploy status [owner/repo] <environment>`: what is live there\n" +
	"• `/deploy lock [owner/repo] <environment> [duration] [reason]`, `/deploy unlock <environment>`, `/deploy locks`\n" +
	"Deploys need your GitHub role on the repository (write unless `.github/deployments.yml` says otherwise), green checks on the commit, and no one else's lock."
