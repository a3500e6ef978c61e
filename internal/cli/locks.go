package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/lock"
)

// lock, unlock and locks: the deployment locks /lock and /unlock take in a pull request, from a
// terminal or another CI system, in the same storage (internal/lock).

var fHolder = flagDef{name: "as", arg: "login", usage: "Who holds the lock (default: $GITHUB_ACTOR)"}

func lockCommands() []*command {
	env := flagDef{name: "environment", arg: "name", required: true, why: "a lock is of one environment, for example --environment staging"}
	lockEnv, unlockEnv := env, env
	lockEnv.usage, unlockEnv.usage = "Environment to lock", "Environment to unlock"
	return []*command{
		{
			name:  "lock",
			short: "Lock an environment: others' deploys there are refused",
			long: `Lock an environment, as /lock does in a pull request: while the lock is held, deploys by anyone
else (command deploys, and push deploys without ignore-locks) are refused. The lock is the
branch deployment-lock/<environment> in the repository, holding lock.json.`,
			usage: Name + " lock --environment <name> [--for <duration>] [--reason <text>] [--as <login>] [flags]",
			flags: []flagDef{lockEnv, fHolder,
				{name: "for", arg: "duration", usage: "Release by itself after this long, e.g. 2h or 3d (default: until unlocked)"},
				{name: "reason", arg: "text", usage: "Why, for whoever is refused"}},
			examples: `  # Hold staging for a load test
  ` + Name + ` lock -R octo-org/hello-world --environment staging --for 2h --reason "load test" --as alice`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.lockCmd(ctx, o, deploy.LockTake) },
		},
		{
			name:  "unlock",
			short: "Release an environment's lock",
			long: `Release an environment's lock, as /unlock does. Someone else's lock needs --force (whoever may
delete the lock branch may force it).`,
			usage: Name + " unlock --environment <name> [--as <login>] [--force] [flags]",
			flags: []flagDef{unlockEnv, fHolder, {name: "force", usage: "Release a lock someone else holds"}},
			examples: `  # The load test is over
  ` + Name + ` unlock -R octo-org/hello-world --environment staging --as alice`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.lockCmd(ctx, o, deploy.LockRelease) },
		},
		{
			name:  "locks",
			short: "List the environments that are locked",
			long:  `List the locks that have not expired: environment, holder, reason, since when, until when.`,
			usage: Name + " locks [flags]",
			examples: `  # Which environments are locked?
  ` + Name + ` locks -R octo-org/hello-world --json | jq -r '.[].environment'`,
			run: func(ctx context.Context, r *runner, o *opts) error { return r.lockCmd(ctx, o, deploy.LockList) },
		},
	}
}

// lockMode is what the lock commands read through the action's validation: the repository, the
// token and the environment. It is not an action mode.
var lockMode = deploy.Mode{Name: "lock", Inputs: []string{"environment"}}

type lockJSON struct {
	Environment string     `json:"environment"`
	Holder      string     `json:"holder"`
	Reason      string     `json:"reason,omitempty"`
	PR          int        `json:"pr,omitempty"`
	Link        string     `json:"link,omitempty"`
	Source      string     `json:"source,omitempty"`
	Created     time.Time  `json:"created_at"`
	Expires     *time.Time `json:"expires_at,omitempty"`
	Branch      string     `json:"branch"`
	Won         *bool      `json:"locked,omitempty"`
	Forced      bool       `json:"forced,omitempty"`
}

func toJSON(l lock.Lock) lockJSON {
	j := lockJSON{Environment: l.Environment, Holder: l.Holder, Reason: l.Reason, PR: l.PR, Link: l.Link, Source: l.Source, Created: l.Created, Branch: l.Branch}
	if !l.Expires.IsZero() {
		e := l.Expires
		j.Expires = &e
	}
	return j
}

func (r *runner) lockCmd(ctx context.Context, o *opts, verb deploy.LockVerb) error {
	// Only the repository, the token and the environment are action inputs; the rest are this
	// command's own.
	inputs := &opts{cmd: o.cmd, vals: map[string]string{}, given: map[string]bool{}}
	for _, k := range []string{"repo", "token", "environment"} {
		if v, ok := o.vals[k]; ok {
			inputs.vals[k], inputs.given[k] = v, o.given[k]
		}
	}
	holder := firstNonEmpty(o.get("as"), r.getenv("GITHUB_ACTOR"))
	var dur time.Duration
	if verb == deploy.LockTake && o.given["for"] {
		d, ok := deploy.ParseLockDuration(strings.TrimSpace(o.get("for")))
		if !ok || d <= 0 || d > deploy.MaxLockFor {
			return usagef(o.cmd.name, "--for %q: use a duration such as 30m, 2h, 1h30m or 3d, at most 90d", o.get("for"))
		}
		dur = d
	}
	if verb != deploy.LockList && strings.TrimSpace(holder) == "" {
		return usagef(o.cmd.name, "who holds the lock is not known: pass --as <login> (or set $GITHUB_ACTOR)")
	}
	s, rn, err := r.settings(ctx, inputs, lockMode)
	if err != nil {
		return cliError(err)
	}
	api, err := r.client(s, rn)
	if err != nil {
		return err
	}
	st := lock.New(api, s.Owner, s.Repo, r.now)
	switch verb {
	case deploy.LockList:
		ls, err := st.List(ctx)
		if err != nil {
			return cliError(err)
		}
		return r.printLocks(o, ls)
	case deploy.LockTake:
		l := lock.Lock{Environment: s.Environment, Holder: holder, Reason: o.get("reason"), Source: lock.SourceCLI, Created: r.now()}
		if dur > 0 {
			l.Expires = l.Created.Add(dur)
		}
		won, got, err := st.Acquire(ctx, l)
		if err != nil {
			return cliError(err)
		}
		if !won {
			return cliError(&lock.HeldError{Lock: got})
		}
		if o.json {
			j := toJSON(got)
			j.Won = &won
			return r.printJSON(j)
		}
		return r.writeText(fmt.Sprintf("Locked %s for %s %s (branch %s).\n", oneLine(got.Environment), oneLine(got.Holder), untilText(got), got.Branch))
	default:
		got, err := st.Release(ctx, s.Environment, holder, o.given["force"] && o.get("force") != "false")
		var held *lock.HeldError
		if errors.As(err, &held) {
			return cliError(fmt.Errorf("%w; pass --force to release it anyway", err))
		}
		if err != nil {
			return cliError(err)
		}
		forced := !got.HeldBy(holder)
		if o.json {
			j := toJSON(got)
			j.Forced = forced
			return r.printJSON(j)
		}
		what := "Unlocked"
		if forced {
			what = "Force-unlocked"
		}
		return r.writeText(fmt.Sprintf("%s %s (held by %s since %s).\n", what, oneLine(got.Environment), oneLine(got.Holder), got.Created.UTC().Format(time.RFC3339)))
	}
}

func untilText(l lock.Lock) string {
	if l.Expires.IsZero() {
		return "until unlocked"
	}
	return "until " + l.Expires.UTC().Format(time.RFC3339)
}

func (r *runner) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = r.stdout.Write(append(b, '\n'))
	return err
}

func (r *runner) printLocks(o *opts, ls []lock.Lock) error {
	if o.json {
		out := make([]lockJSON, 0, len(ls))
		for _, l := range ls {
			out = append(out, toJSON(l))
		}
		return r.printJSON(out)
	}
	if len(ls) == 0 {
		return r.writeText("No environment is locked.\n")
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENVIRONMENT\tHOLDER\tSINCE\tUNTIL\tREASON")
	for _, l := range ls {
		until := "-"
		if !l.Expires.IsZero() {
			until = l.Expires.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", oneLine(l.Environment), oneLine(orDash(l.Holder)), l.Created.UTC().Format(time.RFC3339), until, oneLine(orDash(l.Reason)))
	}
	_ = tw.Flush()
	return r.writeText(b.String())
}
