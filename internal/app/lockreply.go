package app

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/lock"
)

// The replies to lock commands, and to deploys a lock refused. Everything a person typed (the
// reason, the command) is a code span and logins are escaped, so nothing in them can mention,
// link or format; the holder is named, not mentioned.

var _ deploy.LockTexts = commentTexts{}

const stamp = "2006-01-02 15:04 UTC"

// LockReply is the one reply to a lock command that was run.
func (commentTexts) LockReply(c *deploy.Command, o deploy.LockOutcome) string {
	_, release, _ := deploy.LockWords(o.Word)
	l := o.Lock
	var b strings.Builder
	switch o.Verb {
	case deploy.LockTake:
		verb := "locked"
		if o.Renewed {
			verb = "renewed the lock on"
		}
		fmt.Fprintf(&b, "@%s %s **%s** %s.\n\n", c.Actor, verb, md(l.Environment), until(l))
		when := "Until you run " + code(release+" "+l.Environment)
		if !l.Expires.IsZero() {
			when = "Until then, or until you run " + code(release+" "+l.Environment)
		}
		fmt.Fprintf(&b, "%s, other people's deploys to %s are refused (push deploys too, unless their step sets `ignore-locks: true`); you can deploy any pull request there.",
			when, md(l.Environment))
		if l.Reason != "" {
			fmt.Fprintf(&b, " Reason: %s.", code(l.Reason))
		}
		fmt.Fprintf(&b, "\n\nThe lock is the branch %s (its `%s` says who and why); deleting the branch also unlocks.\n", code(l.Branch), lock.FileName)
	case deploy.LockRelease:
		if o.Forced {
			fmt.Fprintf(&b, "@%s **force-unlocked** **%s**: the lock was %s's, held since %s", c.Actor, md(l.Environment), md(orUnknown(l.Holder)), l.Created.UTC().Format(stamp))
			if l.Reason != "" {
				fmt.Fprintf(&b, " (%s)", code(l.Reason))
			}
			b.WriteString(".\n")
		} else {
			fmt.Fprintf(&b, "@%s unlocked **%s** (locked since %s).\n", c.Actor, md(l.Environment), l.Created.UTC().Format(stamp))
		}
	case deploy.LockList:
		if len(o.Locks) == 0 {
			fmt.Fprintf(&b, "@%s no environment is locked.\n", c.Actor)
			break
		}
		what := "1 environment is locked"
		if len(o.Locks) > 1 {
			what = fmt.Sprintf("%d environments are locked", len(o.Locks))
		}
		fmt.Fprintf(&b, "@%s %s:\n\n| Environment | Holder | Reason | Age | Expires | Taken |\n|---|---|---|---|---|---|\n", c.Actor, what)
		for _, l := range o.Locks {
			exp := "—"
			if !l.Expires.IsZero() {
				exp = l.Expires.UTC().Format(stamp)
			}
			taken := md(l.Source)
			if l.PR != 0 {
				taken = link(fmt.Sprintf("#%d", l.PR), l.Link)
			} else if l.Link != "" {
				taken = link(cmp.Or(l.Source, "—"), l.Link)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", md(l.Environment), md(orUnknown(l.Holder)), code(l.Reason), age(o.Now.Sub(l.Created)), exp, taken)
		}
	}
	return b.String()
}

func until(l lock.Lock) string {
	if l.Expires.IsZero() {
		return "until it is unlocked"
	}
	return "until " + l.Expires.UTC().Format(stamp)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// age is a duration as people say it: 45s, 12m, 3h 5m, 2d 4h.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(max(d, 0).Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// held renders a lock for a reply: who (named, not mentioned), since when, why.
func held(l lock.Lock) string {
	s := fmt.Sprintf("**%s** is locked by %s since %s", md(l.Environment), md(orUnknown(l.Holder)), l.Created.UTC().Format(stamp))
	if l.Reason != "" {
		s += " (" + code(l.Reason) + ")"
	}
	if !l.Expires.IsZero() {
		s += ", until " + l.Expires.UTC().Format(stamp)
	}
	return s
}

// lockRefusalReply is the reply to a command a lock refused (a deploy, or a lock command);
// ok is false for any other error.
func lockRefusalReply(c *deploy.Command, err error) (string, bool) {
	var le *deploy.LockedError
	var lr *deploy.LockRefusal
	head := fmt.Sprintf("@%s %s was not run: ", c.Actor, code(c.Text))
	switch {
	case errors.As(err, &le):
		return head + fmt.Sprintf("%s. Only %s can deploy there until it is unlocked with %s (by %s, or by someone with the maintain or admin role).\n",
			held(le.Lock), md(orUnknown(le.Lock.Holder)), code(le.Unlock), md(orUnknown(le.Lock.Holder))), true
	case errors.As(err, &lr) && lr.Reason == deploy.LockHeld:
		_, release, _ := deploy.LockWords(lr.Word)
		if lr.Verb == deploy.LockRelease {
			return head + held(lr.Lock) + "; only the holder or someone with the maintain or admin role can unlock it. The lock stays.\n", true
		}
		return head + fmt.Sprintf("%s. Ask %s to run %s, or wait until it is released.\n", held(lr.Lock), md(orUnknown(lr.Lock.Holder)), code(release+" "+lr.Lock.Environment)), true
	}
	return "", false
}
