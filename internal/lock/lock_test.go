package lock

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func newStore(f *fakeGitHub) (*Store, *testkit.Clock) {
	c := testkit.NewClock(t0)
	s := New(f, "octo", "app", c.Now)
	s.Sleep = func(context.Context, time.Duration) error { return nil }
	return s, c
}

func TestAcquireThenOthersAreToldWhoHoldsIt(t *testing.T) {
	f := newFake()
	s, c := newStore(f)
	ctx := context.Background()
	won, got, err := s.Acquire(ctx, Lock{Environment: "staging", Holder: "alice", Reason: "testing the migration", PR: 7, Source: SourceComment})
	if err != nil || !won || got.Holder != "alice" || !got.Created.Equal(t0) || got.Branch != "deployment-lock/staging" {
		t.Fatalf("first take: won=%v lock=%+v err=%v", won, got, err)
	}
	c.Advance(time.Minute)
	won, holder, err := s.Acquire(ctx, Lock{Environment: "STAGING", Holder: "bob"})
	if err != nil || won {
		t.Fatalf("bob took alice's lock: won=%v err=%v", won, err)
	}
	if holder.Holder != "alice" || holder.Reason != "testing the migration" || holder.PR != 7 || !holder.Created.Equal(t0) {
		t.Fatalf("bob was told %+v", holder)
	}
	if err := s.Check(ctx, "Staging", "bob"); err == nil {
		t.Fatal("bob may deploy to alice's staging")
	} else if h, ok := IsHeld(err); !ok || h.Lock.Holder != "alice" {
		t.Fatalf("check: %v", err)
	}
	if err := s.Check(ctx, "staging", "ALICE"); err != nil {
		t.Fatalf("alice may not deploy to her own lock: %v", err)
	}
	if err := s.Check(ctx, "production", "bob"); err != nil {
		t.Fatalf("production is not locked: %v", err)
	}
}

func TestRenewKeepsTheStart(t *testing.T) {
	f := newFake()
	s, c := newStore(f)
	ctx := context.Background()
	if won, _, err := s.Acquire(ctx, Lock{Environment: "staging", Holder: "alice", Reason: "one"}); !won || err != nil {
		t.Fatal(won, err)
	}
	c.Advance(time.Hour)
	won, l, err := s.Acquire(ctx, Lock{Environment: "staging", Holder: "alice", Reason: "two", Expires: c.Now().Add(time.Hour)})
	if err != nil || !won || l.Reason != "two" || !l.Created.Equal(t0) {
		t.Fatalf("renew: won=%v %+v %v", won, l, err)
	}
	got, held, _ := s.Get(ctx, "staging")
	if !held || got.Reason != "two" || !got.Expires.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after renew: %+v", got)
	}
}

func TestExpiryIsCheckedOnRead(t *testing.T) {
	f := newFake()
	s, c := newStore(f)
	ctx := context.Background()
	if won, _, err := s.Acquire(ctx, Lock{Environment: "staging", Holder: "alice", Expires: t0.Add(2 * time.Hour)}); !won || err != nil {
		t.Fatal(won, err)
	}
	c.Advance(2*time.Hour - time.Second)
	if _, held, _ := s.Get(ctx, "staging"); !held {
		t.Fatal("the lock reads as absent a second before it expires")
	}
	c.Advance(time.Second)
	if _, held, _ := s.Get(ctx, "staging"); held {
		t.Fatal("an expired lock reads as held")
	}
	if l, _ := s.List(ctx); len(l) != 0 {
		t.Fatalf("list shows an expired lock: %+v", l)
	}
	won, l, err := s.Acquire(ctx, Lock{Environment: "staging", Holder: "bob"})
	if err != nil || !won || l.Holder != "bob" || !l.Created.Equal(c.Now()) {
		t.Fatalf("bob could not take the expired lock: won=%v %+v %v", won, l, err)
	}
}

func TestRelease(t *testing.T) {
	f := newFake()
	s, _ := newStore(f)
	ctx := context.Background()
	if _, err := s.Release(ctx, "staging", "alice", false); err == nil {
		t.Fatal("releasing a free environment succeeded")
	} else if nh := (*NotHeldError)(nil); !errors.As(err, &nh) {
		t.Fatalf("free: %v", err)
	}
	s.Acquire(ctx, Lock{Environment: "staging", Holder: "alice", Reason: "mine"})
	if _, err := s.Release(ctx, "staging", "bob", false); err == nil {
		t.Fatal("bob released alice's lock")
	} else if h, ok := IsHeld(err); !ok || h.Lock.Holder != "alice" {
		t.Fatalf("bob: %v", err)
	}
	if _, held, _ := s.Get(ctx, "staging"); !held {
		t.Fatal("a refused release removed the lock")
	}
	l, err := s.Release(ctx, "Staging", "bob", true)
	if err != nil || l.Holder != "alice" {
		t.Fatalf("forced release: %+v %v", l, err)
	}
	if _, held, _ := s.Get(ctx, "staging"); held {
		t.Fatal("still held after release")
	}
	s.Acquire(ctx, Lock{Environment: "staging", Holder: "alice"})
	if _, err := s.Release(ctx, "staging", "Alice", false); err != nil {
		t.Fatalf("the holder could not release: %v", err)
	}
}

func TestBranchNames(t *testing.T) {
	valid := regexp.MustCompile(`^deployment-lock/[a-z0-9_%A-F-]+$`)
	for env, want := range map[string]string{
		"staging":          "deployment-lock/staging",
		"Staging":          "deployment-lock/staging",
		"prod.eu/1 x":      "deployment-lock/prod%2Eeu%2F1%20x",
		"review..app.lock": "deployment-lock/review%2E%2Eapp%2Elock",
		"ümlaut":           "deployment-lock/%C3%BCmlaut",
		"a%2Fb":            "deployment-lock/a%252fb",
		"qa_1-x":           "deployment-lock/qa_1-x",
		"~^:?*[\\@{":       "deployment-lock/%7E%5E%3A%3F%2A%5B%5C%40%7B",
	} {
		got := Branch(env)
		if got != want || !valid.MatchString(got) {
			t.Errorf("Branch(%q) = %q, want %q", env, got, want)
		}
	}
}

func TestUnreadableFileBlocksUntilForced(t *testing.T) {
	f := newFake()
	s, _ := newStore(f)
	ctx := context.Background()
	f.put("deployment-lock/staging", "not json")
	if err := s.Check(ctx, "staging", "alice"); err == nil {
		t.Fatal("a branch someone made by hand does not block")
	}
	if _, err := s.Release(ctx, "staging", "alice", false); err == nil {
		t.Fatal("unforced release of an unreadable lock succeeded")
	}
	if _, err := s.Release(ctx, "staging", "maintainer", true); err != nil {
		t.Fatal(err)
	}
}

// A second taker that arrives between the first taker's two requests (branch made, file not yet
// written) waits for the file and is told who holds the lock.
func TestTakerBetweenTheTwoRequests(t *testing.T) {
	f := newFake()
	s, _ := newStore(f)
	ctx := context.Background()
	var bobWon bool
	var bobSaw Lock
	f.afterCreateRef = func() {
		f.afterCreateRef = nil
		s2, _ := newStore(f)
		slept := 0
		s2.Sleep = func(context.Context, time.Duration) error {
			slept++
			if slept == 2 {
				// alice's file lands while bob waits
				f.put("deployment-lock/staging", `{"environment":"staging","holder":"alice","created_at":"2026-12-07T10:00:00Z"}`)
			}
			return nil
		}
		bobWon, bobSaw, _ = s2.Acquire(ctx, Lock{Environment: "staging", Holder: "bob"})
	}
	won, _, err := s.Acquire(ctx, Lock{Environment: "staging", Holder: "alice"})
	if bobWon || bobSaw.Holder != "alice" {
		t.Fatalf("bob: won=%v saw %+v", bobWon, bobSaw)
	}
	if err != nil || !won {
		t.Fatalf("alice: won=%v err=%v", won, err)
	}
}

func TestConcurrentTakersExactlyOneWins(t *testing.T) {
	f := newFake()
	var wg sync.WaitGroup
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	won := make([]bool, len(names))
	saw := make([]Lock, len(names))
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _ := newStore(f)
			var err error
			won[i], saw[i], err = s.Acquire(context.Background(), Lock{Environment: "staging", Holder: n})
			if err != nil {
				t.Error(n, err)
			}
		}()
	}
	wg.Wait()
	winner := ""
	for i, w := range won {
		if w {
			if winner != "" {
				t.Fatalf("%s and %s both won", winner, names[i])
			}
			winner = names[i]
		}
	}
	if winner == "" {
		t.Fatal("nobody won")
	}
	for i, w := range won {
		if !w && saw[i].Holder != winner {
			t.Errorf("%s was told %q holds it; %s does", names[i], saw[i].Holder, winner)
		}
	}
}

func TestListAndRequests(t *testing.T) {
	f := newFake()
	s, _ := newStore(f)
	ctx := context.Background()
	s.Acquire(ctx, Lock{Environment: "staging", Holder: "alice"})
	if len(f.calls) != 3 {
		t.Fatalf("a take on a free environment made %d calls: %v", len(f.calls), f.calls)
	}
	s.Acquire(ctx, Lock{Environment: "qa", Holder: "bob"})
	ls, err := s.List(ctx)
	if err != nil || len(ls) != 2 {
		t.Fatalf("list: %+v %v", ls, err)
	}
	got := map[string]string{}
	for _, l := range ls {
		got[l.Environment] = l.Holder
	}
	if got["staging"] != "alice" || got["qa"] != "bob" {
		t.Fatalf("list: %v", got)
	}
}

// A taker slower than settle between its two requests finds that the other taker wrote into its
// branch: it is told so, and only one of them holds the lock.
func TestSlowTakerLosesToTheOneThatWrote(t *testing.T) {
	f := newFake()
	s, _ := newStore(f)
	ctx := context.Background()
	var bobWon bool
	f.afterCreateRef = func() {
		f.afterCreateRef = nil
		s2, _ := newStore(f) // its settle waits pass without alice's file appearing
		bobWon, _, _ = s2.Acquire(ctx, Lock{Environment: "staging", Holder: "bob"})
	}
	won, holder, err := s.Acquire(ctx, Lock{Environment: "staging", Holder: "alice"})
	if err != nil || won || holder.Holder != "bob" || !bobWon {
		t.Fatalf("alice won=%v holder=%+v err=%v; bob won=%v", won, holder, err, bobWon)
	}
}

// Releasing an expired lock says it had expired, and removes its branch.
func TestReleaseExpired(t *testing.T) {
	f := newFake()
	s, c := newStore(f)
	ctx := context.Background()
	s.Acquire(ctx, Lock{Environment: "staging", Holder: "alice", Expires: t0.Add(time.Hour)})
	c.Advance(2 * time.Hour)
	_, err := s.Release(ctx, "staging", "bob", false)
	var nh *NotHeldError
	if !errors.As(err, &nh) || nh.Expired == nil || nh.Expired.Holder != "alice" {
		t.Fatalf("release of an expired lock: %v", err)
	}
	if _, ok := f.refs["refs/heads/deployment-lock/staging"]; ok {
		t.Fatal("the expired lock's branch stayed")
	}
}
