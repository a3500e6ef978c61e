package deploy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/lock"
)

// Deployment locks in command mode: `/lock <environment> [duration] [reason…]`, `/unlock
// <environment>` and `/locks` (the prefix is the command word's: `.deploy` gives `.lock`). The
// locks live in the repository (internal/lock). While someone holds an environment, anyone
// else's command deploy there is refused, and so is a push deploy (auto, start, trigger) unless
// its step sets ignore-locks; the holder's own commands deploy any pull request. wait and latest
// only read deployments and are not affected. A deploy takes no lock of its own while it runs:
// command deploys to one environment are serialised by the workflow's concurrency group (see the
// docs), and a second lock per deploy would cost four writes and leave a stale lock behind every
// cancelled job.

// Locks is the lock storage command mode and the deploy gate use (*lock.Store).
type Locks interface {
	Acquire(ctx context.Context, l lock.Lock) (bool, lock.Lock, error)
	Release(ctx context.Context, environment, by string, force bool) (lock.Lock, error)
	Get(ctx context.Context, environment string) (lock.Lock, bool, error)
	List(ctx context.Context) ([]lock.Lock, error)
}

var _ Locks = (*lock.Store)(nil)

// LockVerb is which lock command a comment is.
type LockVerb int

// The lock commands.
const (
	LockTake    LockVerb = iota + 1 // /lock
	LockRelease                     // /unlock
	LockList                        // /locks
)

// LockLine is a lock command as the grammar reads it.
type LockLine struct {
	Verb     LockVerb
	Duration time.Duration // /lock: 0 = until unlocked
	Reason   string        // /lock: the rest of the line
}

// LockWords are the lock commands for a command word: its leading punctuation and lock, unlock,
// locks.
func LockWords(word string) (take, release, list string) {
	rest := strings.TrimLeftFunc(word, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	prefix := word[:len(word)-len(rest)]
	return prefix + "lock", prefix + "unlock", prefix + "locks"
}

// MaxLockFor bounds a lock's duration: longer is almost always a typo (2000h).
const MaxLockFor = 90 * 24 * time.Hour

var (
	durationRE = regexp.MustCompile(`^(\d+[smhdw])+$`)
	partRE     = regexp.MustCompile(`(\d+)([smhdw])`)
)

// ParseLockDuration reads 30m, 2h, 1h30m, 3d, 1w. ok is false for anything that is not a
// duration (in a /lock comment it is then part of the reason). A duration over 90 days is
// returned as it is: callers refuse it.
func ParseLockDuration(s string) (time.Duration, bool) {
	s = strings.ToLower(s)
	if !durationRE.MatchString(s) {
		return 0, false
	}
	var total time.Duration
	for _, m := range partRE.FindAllStringSubmatch(s, -1) {
		n, err := strconv.ParseInt(m[1], 10, 32)
		if err != nil {
			return 0, false
		}
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
		total += time.Duration(n) * unit
		if total > MaxLockFor {
			return total, true
		}
	}
	return total, true
}

// parseLockLine reads a lock command from a comment's first line; ok is false when the line is
// not one (so it is not addressed to us at all).
func parseLockLine(body, word string) (CommandLine, bool) {
	first, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	first = strings.TrimSpace(first)
	f := strings.Fields(first)
	if len(f) == 0 {
		return CommandLine{}, false
	}
	take, release, list := LockWords(word)
	l := CommandLine{Text: first, Addressed: true}
	var verb LockVerb
	switch {
	case strings.EqualFold(f[0], list):
		verb = LockList
	case strings.EqualFold(f[0], release):
		verb = LockRelease
	case strings.EqualFold(f[0], take):
		verb = LockTake
	default:
		return CommandLine{}, false
	}
	var line LockLine
	l.Environment, line, l.Understood = ParseLockArgs(verb, f[1:])
	l.Lock = &line
	return l, true
}

// ParseLockArgs reads the words after a lock command's word, the grammar PR comments and Slack
// share: locks takes nothing; unlock an environment; lock an environment, then an optional
// duration (30m, 2h, 3d, 1w; at most 90 days) and a free-text reason (clipped to 200
// characters). ok is false for anything else.
func ParseLockArgs(verb LockVerb, words []string) (environment string, line LockLine, ok bool) {
	line.Verb = verb
	switch verb {
	case LockList:
		return "", line, len(words) == 0
	case LockRelease:
		if len(words) != 1 {
			return "", line, false
		}
		return words[0], line, true
	}
	if len(words) == 0 {
		return "", line, false
	}
	environment, rest := words[0], words[1:]
	if len(rest) > 0 {
		if d, isDuration := ParseLockDuration(rest[0]); isDuration {
			if d <= 0 || d > MaxLockFor {
				return environment, line, false
			}
			line.Duration, rest = d, rest[1:]
		}
	}
	line.Reason = clipRunes(strings.Join(rest, " "), 200)
	return environment, line, true
}

// LockRefusalReason is why a lock command was refused.
type LockRefusalReason int

// Why a lock command was refused.
const (
	LockNotUnderstood LockRefusalReason = iota + 1 // /lock without an environment, /unlock with more, a bad duration
	LockHeld                                       // /lock or /unlock of an environment someone else holds
	LockNotHeld                                    // /unlock of an environment nobody holds
)

// LockRefusal is a lock command refused; the lock is as it was.
type LockRefusal struct {
	Reason  LockRefusalReason
	Command *Command
	Verb    LockVerb
	Word    string    // the command word, for the grammar (/deploy)
	Lock    lock.Lock // LockHeld: the holder's lock; LockNotHeld: the expired lock, if any
	Expired bool      // LockNotHeld: the lock had expired
}

func (e *LockRefusal) Error() string {
	take, release, list := LockWords(e.Word)
	switch e.Reason {
	case LockNotUnderstood:
		return fmt.Sprintf("%q is not understood: use %s <environment> [duration] [reason], %s <environment> or %s", e.Command.Text, take, release, list)
	case LockHeld:
		return (&lock.HeldError{Lock: e.Lock}).Error()
	case LockNotHeld:
		return fmt.Sprintf("%s is not locked", e.Command.Environment)
	}
	return "lock command refused"
}

// LockedError is a deploy refused because someone else holds the environment's lock.
type LockedError struct {
	Lock lock.Lock
	// Unlock is the command that releases it ("/unlock staging"), or "" outside command mode.
	Unlock string
	// Push: the deploy was a push deploy (auto, start, trigger), which ignore-locks lets through.
	Push bool
}

func (e *LockedError) Error() string {
	return "refusing to deploy: " + (&lock.HeldError{Lock: e.Lock}).Error()
}

func (e *LockedError) Unwrap() error { return &lock.HeldError{Lock: e.Lock} }

// LockOutcome is what a lock command did, for its reply.
type LockOutcome struct {
	Verb    LockVerb
	Lock    lock.Lock   // taken or released
	Renewed bool        // /lock by the holder: reason and expiry replaced
	Forced  bool        // /unlock of someone else's lock by a maintainer or admin
	Locks   []lock.Lock // /locks
	Now     time.Time
	Word    string // the command word (/deploy), for how to unlock
}

// LockTexts renders the reply to a lock command that was run (the app's commentTexts).
type LockTexts interface {
	LockReply(c *Command, o LockOutcome) string
}

// lockGate refuses a deploy to a locked environment: a command deploy unless the commenter holds
// the lock, a push deploy unless ignore-locks. One read (contents API). A token that may not read
// contents (403) deploys with a warning: workflows that granted only deployments: write before
// locks existed keep working, and the warning says what to add.
func (d *Deployer) lockGate(ctx context.Context, j Job, r *Report) error {
	s := j.Settings
	if d.Locks == nil || (j.LockActor == "" && s.IgnoreLocks) {
		return nil
	}
	l, held, err := d.Locks.Get(ctx, s.Environment)
	if ghapi.IsForbidden(err) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("could not read the lock of %s (the token lacks `permissions: contents: read`): deploying without checking it", s.Environment))
		return nil
	}
	if err != nil {
		return failLock(err, ghapi.OpGetContents)
	}
	if !held || (j.LockActor != "" && l.HeldBy(j.LockActor)) {
		return nil
	}
	e := &LockedError{Lock: l, Push: j.LockActor == ""}
	if !e.Push {
		_, release, _ := LockWords(s.Command)
		e.Unlock = release + " " + l.Environment
	}
	return e
}

// lockCommand runs /lock, /unlock or /locks: the same environment and permission rules as a
// deploy, then the lock storage, then one reply.
func (d *Deployer) lockCommand(ctx context.Context, j Job, r *Report, c *Command, l CommandLine) error {
	s := j.Settings
	ll := l.Lock
	c.Triggered = false // nothing to deploy: the workflow's deploy steps do not run
	c.Lock = [...]string{LockTake: "lock", LockRelease: "unlock", LockList: "locks"}[ll.Verb]
	if err := saveCommand(j.State, c); err != nil {
		return err
	}
	refuse := func(reason RefusalReason) *Refusal {
		return &Refusal{Reason: reason, Command: c, Word: s.Command, Environments: s.Environments, Required: s.AllowedPermission}
	}
	// Who asked, first, as for a deploy: nobody without the role makes the bot post about their
	// text.
	perm, err := d.API.CollaboratorPermission(ctx, d.Owner, d.Repo, c.Actor)
	if err != nil && !ghapi.IsNotFound(err) {
		return Fail(err, ghapi.OpGetPermission, "")
	}
	role := EffectiveRole(perm)
	if roleRank(role) < roleRank(s.AllowedPermission) {
		ref := refuse(RefusePermission)
		ref.Role = shownRole(perm)
		return ref
	}
	if !l.Understood {
		return &LockRefusal{Reason: LockNotUnderstood, Command: c, Verb: ll.Verb, Word: s.Command}
	}
	if ll.Verb != LockList {
		env, ok := pickEnvironment(s.Environments, c.Asked)
		if !ok {
			return refuse(RefuseUnknownEnvironment)
		}
		c.Environment = env
	}
	if d.Locks == nil {
		return fmt.Errorf("lock commands need the lock storage, which this build does not configure")
	}
	o := LockOutcome{Verb: ll.Verb, Now: d.now(), Word: s.Command}
	switch ll.Verb {
	case LockList:
		if o.Locks, err = d.Locks.List(ctx); err != nil {
			return failLock(err, ghapi.OpListRefs)
		}
		r.Skipped = fmt.Sprintf("%s listed %d locks", c.Actor, len(o.Locks))
	case LockTake:
		want := lock.Lock{Environment: c.Environment, Holder: c.Actor, Reason: ll.Reason, Link: c.CommentURL, PR: c.PR,
			Created: o.Now, Source: lock.SourceComment}
		if ll.Duration > 0 {
			want.Expires = o.Now.Add(ll.Duration)
		}
		won, got, err := d.Locks.Acquire(ctx, want)
		if err != nil {
			return failLock(err, ghapi.OpCreateRef)
		}
		if !won {
			return &LockRefusal{Reason: LockHeld, Command: c, Verb: ll.Verb, Word: s.Command, Lock: got}
		}
		o.Lock, o.Renewed = got, got.Created.Before(want.Created.Truncate(time.Second))
		r.Skipped = fmt.Sprintf("%s locked %s", c.Actor, c.Environment)
	case LockRelease:
		force := roleRank(role) >= roleRank("maintain")
		got, err := d.Locks.Release(ctx, c.Environment, c.Actor, force)
		var held *lock.HeldError
		var notHeld *lock.NotHeldError
		switch {
		case errors.As(err, &held):
			return &LockRefusal{Reason: LockHeld, Command: c, Verb: ll.Verb, Word: s.Command, Lock: held.Lock}
		case errors.As(err, &notHeld):
			ref := &LockRefusal{Reason: LockNotHeld, Command: c, Verb: ll.Verb, Word: s.Command}
			if notHeld.Expired != nil {
				ref.Lock, ref.Expired = *notHeld.Expired, true
			}
			return ref
		case err != nil:
			return failLock(err, ghapi.OpDeleteRef)
		}
		o.Lock, o.Forced = got, !got.HeldBy(c.Actor)
		r.Skipped = fmt.Sprintf("%s unlocked %s", c.Actor, c.Environment)
	}
	d.notef("%s", r.Skipped)
	var body string
	if t, ok := d.Texts.(LockTexts); ok {
		body = t.LockReply(c, o)
	} else {
		body = fmt.Sprintf("@%s %s: %s", c.Actor, c.Text, r.Skipped)
	}
	body += marker("reply", c, j.Run)
	if _, err := d.API.CreateIssueComment(ctx, d.Owner, d.Repo, c.PR, body); err != nil {
		// The lock is taken or released: that is what matters; the log says so.
		r.Warnings = append(r.Warnings, fmt.Sprintf("could not reply on #%d: %v", c.PR, err))
	}
	return nil
}

// failLock wraps a lock storage error as a Failure of the call that failed (the store makes
// several).
func failLock(err error, op ghapi.Op) error {
	var api *ghapi.APIError
	if errors.As(err, &api) {
		op = api.Op
	}
	return Fail(err, op, "")
}
