package deploy

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/testkit"
)

// pollRig is a Deployer whose sleeps move a manual clock and are recorded.
type pollRig struct {
	d      *Deployer
	clock  *testkit.Clock
	sleeps []time.Duration
	notes  []string
}

func newPollRig() *pollRig {
	r := &pollRig{clock: testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	r.d = &Deployer{
		Now:  r.clock.Now,
		Rand: func() float64 { return 0.5 }, // no jitter
		Sleep: func(ctx context.Context, d time.Duration) error {
			r.sleeps = append(r.sleeps, d)
			r.clock.Advance(d)
			return ctx.Err()
		},
		Notef: func(format string, args ...any) { r.notes = append(r.notes, format) },
	}
	return r
}

var testSchedule = PollSchedule{Initial: time.Second, Fast: 3 * time.Second, Max: 4 * time.Second, Factor: 2}

func TestPollFastPhaseThenGrowsAndAMoveRestartsIt(t *testing.T) {
	t.Parallel()
	r := newPollRig()
	start := r.clock.Now()
	looks := 0
	err := r.d.poll(context.Background(), pollLoop{schedule: testSchedule, fastFrom: start, deadline: start.Add(time.Hour), what: "waiting"},
		func(ctx context.Context) (pollStep, error) {
			looks++
			if looks == 9 {
				return pollStep{done: true}, nil
			}
			return pollStep{now: r.clock.Now(), until: start.Add(time.Hour), moved: looks == 6}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	// 1 s for the first 3 s, then ×2 up to 4 s; the move at look 6 (t=8 s) goes back to 1 s for 3 s.
	want := []time.Duration{1, 1, 1, 1, 2, 1, 1, 1}
	for i := range want {
		want[i] *= time.Second
	}
	if !reflect.DeepEqual(r.sleeps, want) {
		t.Errorf("sleeps %v, want %v", r.sleeps, want)
	}
}

func TestPollWithoutFastPhaseGrowsFromTheFirstLookAndStopsAtUntil(t *testing.T) {
	t.Parallel()
	r := newPollRig()
	start := r.clock.Now()
	until := start.Add(10 * time.Second)
	err := r.d.poll(context.Background(), pollLoop{schedule: testSchedule, deadline: until, what: "waiting"},
		func(ctx context.Context) (pollStep, error) {
			now := r.clock.Now()
			if !now.Before(until) {
				return pollStep{done: true, err: errors.New("timed out")}, nil
			}
			return pollStep{now: now, until: until}, nil
		})
	if err == nil || err.Error() != "timed out" {
		t.Fatalf("err = %v, want the look's own error", err)
	}
	// 1, 2, 4 s, then the next 4 s is cut to the 3 s left before until.
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 3 * time.Second}
	if !reflect.DeepEqual(r.sleeps, want) {
		t.Errorf("sleeps %v, want %v", r.sleeps, want)
	}
}

func TestPollPausesForARateLimitThatResetsInTime(t *testing.T) {
	t.Parallel()
	r := newPollRig()
	start := r.clock.Now()
	limited := &ghapi.RateLimitError{Op: ghapi.OpListDeployments, Reset: start.Add(90 * time.Second)}
	looks := 0
	loop := pollLoop{schedule: testSchedule, deadline: start.Add(10 * time.Minute), paused: "the rate limit pauses", what: "waiting"}
	err := r.d.poll(context.Background(), loop, func(ctx context.Context) (pollStep, error) {
		looks++
		if looks == 1 {
			return pollStep{}, limited
		}
		return pollStep{done: true}, nil
	})
	if err != nil || looks != 2 || !reflect.DeepEqual(r.sleeps, []time.Duration{90 * time.Second}) {
		t.Errorf("err %v after %d looks and sleeps %v; want a 90 s pause, then a second look", err, looks, r.sleeps)
	}
	if len(r.notes) != 1 || !strings.HasPrefix(r.notes[0], "%s until %s") {
		t.Errorf("notes %q, want one pause note", r.notes)
	}

	// A reset after the deadline ends the loop with the rate limit's error, at once.
	r = newPollRig()
	loop.deadline = start.Add(time.Minute)
	err = r.d.poll(context.Background(), loop, func(ctx context.Context) (pollStep, error) { return pollStep{}, limited })
	if !errors.Is(err, limited) || len(r.sleeps) != 0 {
		t.Errorf("err %v, sleeps %v; want the rate-limit error without a pause", err, r.sleeps)
	}
}

func TestPollInterruptedSleepSaysWhatWasWaitedFor(t *testing.T) {
	t.Parallel()
	r := newPollRig()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := r.clock.Now()
	err := r.d.poll(ctx, pollLoop{schedule: testSchedule, deadline: start.Add(time.Minute), what: "waiting for staging"},
		func(ctx context.Context) (pollStep, error) {
			return pollStep{now: r.clock.Now(), until: start.Add(time.Minute)}, nil
		})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "waiting for staging: ") {
		t.Errorf("err = %v, want context.Canceled wrapped as waiting for staging", err)
	}
}
