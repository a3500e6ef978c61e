// Package lock keeps deployment locks in the repository on GitHub, where anyone can see them and
// a person can remove one by hand: one branch per environment, deployment-lock/<environment>,
// made from the default branch's head, holding lock.json (holder, pull request, reason, times).
//
// Taking a lock creates the branch; GitHub's create-reference answers 422 when it exists, so of
// two takers exactly one wins. The file is written just after the branch (a second request): a
// reader that finds the branch without the file reads the lock as free until the file is there,
// and a second taker waits briefly for it, then reports its holder. An expired lock, or the
// holder's own, is replaced through the contents API with the file's blob sha, which GitHub
// checks (409 when another writer got there first). Expiry is checked when a lock is read; no
// timer removes anything, and an expired lock's branch stays until someone takes or releases it.
//
// Environment names are matched as GitHub matches them, without regard to case: the branch name
// is the lower-cased name with every byte outside [a-z0-9_-] percent-encoded, which is always a
// valid ref name (no "..", no ".lock" ending, no spaces or control characters).
package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// BranchPrefix starts every lock branch.
const BranchPrefix = "deployment-lock/"

// FileName is the file on a lock branch that describes the lock.
const FileName = "lock.json"

// Where a lock was taken.
const (
	SourceComment = "comment"
	SourceSlack   = "slack"
	SourceCLI     = "cli"
)

// Lock is one environment's lock as lock.json holds it.
type Lock struct {
	Environment string    `json:"environment"`
	Holder      string    `json:"holder"` // a GitHub login
	Reason      string    `json:"reason,omitempty"`
	Link        string    `json:"link,omitempty"` // where it was taken (a comment, a Slack message)
	PR          int       `json:"pr,omitempty"`
	Created     time.Time `json:"created_at"`
	Expires     time.Time `json:"expires_at,omitzero"` // zero: until released
	Source      string    `json:"source,omitempty"`    // SourceComment, SourceSlack, SourceCLI
	// Branch is where the lock lives (filled when read or taken).
	Branch string `json:"-"`
}

// HeldBy reports whether login holds the lock (logins are not case sensitive).
func (l Lock) HeldBy(login string) bool { return l.Holder != "" && strings.EqualFold(l.Holder, login) }

// Expired reports whether the lock has an expiry that has passed at now.
func (l Lock) Expired(now time.Time) bool { return !l.Expires.IsZero() && !now.Before(l.Expires) }

// API is every GitHub call the store makes; *ghapi.Client implements it.
type API interface {
	DefaultBranchSHA(ctx context.Context, owner, repo string) (string, error)
	CreateRef(ctx context.Context, owner, repo, ref, sha string) error
	DeleteRef(ctx context.Context, owner, repo, ref string) error
	MatchingRefs(ctx context.Context, owner, repo, prefix string) ([]string, error)
	GetFile(ctx context.Context, owner, repo, path, ref string) ([]byte, string, error)
	PutFile(ctx context.Context, owner, repo string, w ghapi.FileWrite) error
}

var _ API = (*ghapi.Client)(nil)

// Store reads and writes the locks of one repository.
type Store struct {
	api         API
	owner, repo string
	now         func() time.Time
	// Sleep waits between reads of a lock whose branch exists without its file yet (a taker
	// between its two requests). Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// New makes a store for owner/repo; now is the clock expiry is checked against.
func New(api API, owner, repo string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{api: api, owner: owner, repo: repo, now: now, Sleep: ghapi.Sleep}
}

// HeldError is a lock held by someone else.
type HeldError struct{ Lock Lock }

func (e *HeldError) Error() string {
	l := e.Lock
	holder := l.Holder
	if holder == "" {
		holder = "an unknown holder"
	}
	s := fmt.Sprintf("%s is locked by %s since %s", l.Environment, holder, l.Created.UTC().Format(time.RFC3339))
	if l.Reason != "" {
		s += ": " + l.Reason
	}
	return s
}

// NotHeldError is a release of an environment nobody holds. Expired is the lock that had
// expired (its branch is removed), if there was one.
type NotHeldError struct {
	Environment string
	Expired     *Lock
}

func (e *NotHeldError) Error() string {
	if e.Expired != nil {
		return fmt.Sprintf("%s is not locked (%s's lock expired at %s)", e.Environment, e.Expired.Holder, e.Expired.Expires.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s is not locked", e.Environment)
}

// InputError is a lock that cannot be taken as asked (no environment, no holder).
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Branch is the branch holding environment's lock.
func Branch(environment string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.WriteString(BranchPrefix)
	for _, c := range []byte(strings.ToLower(environment)) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// rounds bounds the retries of a contended take (each round is a read and a write).
const rounds = 4

// settle is how long a taker waits for a new lock's file, in total, before it treats a branch
// without lock.json as a stray branch it may write into.
var settle = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}

// Acquire takes l.Environment's lock for l.Holder. won is false when someone else holds it;
// holder is then their lock. Taking a lock one already holds replaces its reason and expiry and
// keeps its start; an expired lock is taken over.
func (s *Store) Acquire(ctx context.Context, l Lock) (won bool, holder Lock, err error) {
	if strings.TrimSpace(l.Environment) == "" {
		return false, Lock{}, &InputError{"a lock needs an environment"}
	}
	if strings.TrimSpace(l.Holder) == "" {
		return false, Lock{}, &InputError{"a lock needs a holder"}
	}
	if l.Created.IsZero() {
		l.Created = s.now()
	}
	l.Created, l.Branch = l.Created.UTC().Truncate(time.Second), Branch(l.Environment)
	if !l.Expires.IsZero() {
		l.Expires = l.Expires.UTC().Truncate(time.Second)
	}
	base, err := s.api.DefaultBranchSHA(ctx, s.owner, s.repo)
	if err != nil {
		return false, Lock{}, fmt.Errorf("locking %s: %w", l.Environment, err)
	}
	ref := "refs/heads/" + l.Branch
	for range rounds {
		err := s.api.CreateRef(ctx, s.owner, s.repo, ref, base)
		switch {
		case err == nil:
			// The branch is ours: write the file. A 422 means the file is there already: a retry
			// of this very write that found it done, or a second taker that waited longer than
			// settle for it and wrote its own. What the file says decides.
			err := s.write(ctx, l, "")
			if err == nil {
				return true, l, nil
			}
			if !ghapi.IsValidation(err) {
				return false, Lock{}, fmt.Errorf("locking %s: %w", l.Environment, err)
			}
			cur, _, found, err := s.read(ctx, l.Environment)
			switch {
			case err != nil:
				return false, Lock{}, fmt.Errorf("locking %s: %w", l.Environment, err)
			case found && cur.HeldBy(l.Holder):
				return true, cur, nil
			case found:
				return false, cur, nil
			}
			continue // the branch went meanwhile: start over
		case !ghapi.IsValidation(err):
			return false, Lock{}, fmt.Errorf("locking %s: %w", l.Environment, err)
		}
		// The branch exists.
		won, holder, again, err := s.contend(ctx, l)
		if !again {
			return won, holder, err
		}
	}
	return false, Lock{}, fmt.Errorf("locking %s: the lock kept changing while it was being taken; try again", l.Environment)
}

// contend handles a take whose branch exists. again: the branch was removed or the file changed
// under us; start over.
func (s *Store) contend(ctx context.Context, l Lock) (won bool, holder Lock, again bool, err error) {
	cur, sha, found, err := s.read(ctx, l.Environment)
	for i := 0; err == nil && !found && i < len(settle); i++ {
		// A taker between its two requests, or a stray branch: give the file time to appear.
		if err = s.Sleep(ctx, settle[i]); err == nil {
			cur, sha, found, err = s.read(ctx, l.Environment)
		}
	}
	if err != nil {
		return false, Lock{}, false, fmt.Errorf("locking %s: %w", l.Environment, err)
	}
	if found && !cur.Expired(s.now()) && !cur.HeldBy(l.Holder) {
		return false, cur, false, nil
	}
	if found && cur.HeldBy(l.Holder) && !cur.Expired(s.now()) {
		l.Created = cur.Created // a renewal keeps its start
	}
	switch err := s.write(ctx, l, sha); {
	case err == nil:
		return true, l, false, nil
	case ghapi.IsConflict(err), ghapi.IsValidation(err), ghapi.IsNotFound(err):
		// 409: replaced since read; 422: created since read; 404: the branch went.
		return false, Lock{}, true, nil
	default:
		return false, Lock{}, false, fmt.Errorf("locking %s: %w", l.Environment, err)
	}
}

func (s *Store) write(ctx context.Context, l Lock, sha string) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Lock %s for %s", l.Environment, l.Holder)
	if l.Reason != "" {
		msg += ": " + l.Reason
	}
	return s.api.PutFile(ctx, s.owner, s.repo, ghapi.FileWrite{Path: FileName, Branch: l.Branch, Message: msg, Content: append(b, '\n'), SHA: sha})
}

// read reads environment's lock file as it is, expired or not. found is false when the branch
// or its file is missing. A file that is not a lock reads as a lock with no holder: it blocks
// deploys until someone with maintain removes it.
func (s *Store) read(ctx context.Context, environment string) (Lock, string, bool, error) {
	branch := Branch(environment)
	b, sha, err := s.api.GetFile(ctx, s.owner, s.repo, FileName, branch)
	if ghapi.IsNotFound(err) {
		return Lock{}, "", false, nil
	}
	if err != nil {
		return Lock{}, "", false, err
	}
	var l Lock
	if json.Unmarshal(b, &l) != nil {
		l = Lock{Reason: fmt.Sprintf("branch %s holds a %s this action cannot read", branch, FileName)}
	}
	if l.Environment == "" {
		l.Environment = environment
	}
	l.Branch = branch
	return l, sha, true, nil
}

// Get reads environment's lock. An expired lock reads as absent.
func (s *Store) Get(ctx context.Context, environment string) (Lock, bool, error) {
	l, _, found, err := s.read(ctx, environment)
	if err != nil {
		return Lock{}, false, fmt.Errorf("reading the lock of %s: %w", environment, err)
	}
	if !found || l.Expired(s.now()) {
		return Lock{}, false, nil
	}
	return l, true, nil
}

// Check is the deploy gate: a *HeldError when environment is locked by someone other than
// actor, nil when it is free or actor holds it.
func (s *Store) Check(ctx context.Context, environment, actor string) error {
	l, held, err := s.Get(ctx, environment)
	if err != nil {
		return err
	}
	if held && !l.HeldBy(actor) {
		return &HeldError{Lock: l}
	}
	return nil
}

// Release removes environment's lock for by. Someone other than the holder gets a *HeldError
// unless force (the caller checked that by may force: maintain or admin). An environment nobody
// holds gives a *NotHeldError (an expired lock's branch is removed then).
func (s *Store) Release(ctx context.Context, environment, by string, force bool) (released Lock, err error) {
	l, _, found, err := s.read(ctx, environment)
	if err != nil {
		return Lock{}, fmt.Errorf("unlocking %s: %w", environment, err)
	}
	if !found {
		return Lock{}, &NotHeldError{Environment: environment}
	}
	expired := l.Expired(s.now())
	if !expired && !l.HeldBy(by) && !force {
		return Lock{}, &HeldError{Lock: l}
	}
	// GitHub answers 422 for a reference that is already gone: released all the same.
	if err := s.api.DeleteRef(ctx, s.owner, s.repo, "refs/heads/"+l.Branch); err != nil && !ghapi.IsValidation(err) && !ghapi.IsNotFound(err) {
		return Lock{}, fmt.Errorf("unlocking %s: %w", environment, err)
	}
	if expired {
		return Lock{}, &NotHeldError{Environment: environment, Expired: &l}
	}
	return l, nil
}

// List reads every lock that has not expired, in branch order.
func (s *Store) List(ctx context.Context) ([]Lock, error) {
	refs, err := s.api.MatchingRefs(ctx, s.owner, s.repo, "refs/heads/"+BranchPrefix)
	if err != nil {
		return nil, fmt.Errorf("listing locks: %w", err)
	}
	var out []Lock
	for _, ref := range refs {
		branch := strings.TrimPrefix(ref, "refs/heads/")
		b, _, err := s.api.GetFile(ctx, s.owner, s.repo, FileName, branch)
		if ghapi.IsNotFound(err) {
			continue // being taken, or a stray branch
		}
		if err != nil {
			return nil, fmt.Errorf("listing locks: %w", err)
		}
		var l Lock
		if json.Unmarshal(b, &l) != nil || l.Environment == "" {
			l = Lock{Environment: strings.TrimPrefix(branch, BranchPrefix), Reason: fmt.Sprintf("branch %s holds a %s this action cannot read", branch, FileName)}
		}
		l.Branch = branch
		if !l.Expired(s.now()) {
			out = append(out, l)
		}
	}
	return out, nil
}

// IsHeld reports whether err is (or wraps) a *HeldError, and returns it.
func IsHeld(err error) (*HeldError, bool) {
	var h *HeldError
	ok := errors.As(err, &h)
	return h, ok
}
