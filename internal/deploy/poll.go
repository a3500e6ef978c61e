package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// pollLoop is the one poll loop: wait and the checks gate look, decide, and sleep on a
// PollSchedule between looks.
type pollLoop struct {
	schedule PollSchedule
	// fastFrom starts the fast phase: the loop looks every Initial for schedule.Fast from then
	// and after each move. Zero: no fast phase, the interval grows from the first look.
	fastFrom time.Time
	// deadline bounds rate-limit pauses: a look that hits a limit whose reset comes before it
	// sleeps until the reset and looks again; after it, the look's error is returned.
	deadline time.Time
	paused   string // the note for such a pause, before " until 15:04:05 UTC"
	what     string // what an interrupted sleep's error says, e.g. "waiting for staging"
}

// pollStep is what one look decided.
type pollStep struct {
	done  bool      // stop looking: the loop returns err
	err   error     // with done
	moved bool      // something changed: back to the fast phase (when the loop has one)
	now   time.Time // when the look decided: the sleep and a new fast phase count from it
	until time.Time // the next look comes no later than this
}

// poll looks until a look is done or fails. A look returns its decision, or an error, which ends
// the loop unless it is a rate limit that resets before the deadline.
func (d *Deployer) poll(ctx context.Context, l pollLoop, look func(ctx context.Context) (pollStep, error)) error {
	p := l.schedule
	interval := p.Initial
	var fastUntil time.Time
	if !l.fastFrom.IsZero() {
		fastUntil = l.fastFrom.Add(p.Fast)
	}
	for {
		st, err := look(ctx)
		var rl *ghapi.RateLimitError
		switch {
		case errors.As(err, &rl) && rl.Reset.Before(l.deadline):
			// GitHub asks to pause longer than one call may wait, but the loop has time left.
			d.notef("%s until %s", l.paused, rl.Reset.UTC().Format("15:04:05 UTC"))
			if err := d.sleep(ctx, rl.Reset.Sub(d.now())); err != nil {
				return fmt.Errorf("%s: %w", l.what, err)
			}
			continue
		case err != nil:
			return err
		case st.done:
			return st.err
		}
		if st.moved && !l.fastFrom.IsZero() {
			interval, fastUntil = p.Initial, st.now.Add(p.Fast)
		}
		var sleep time.Duration
		if st.now.Before(fastUntil) {
			sleep, _ = p.next(p.Initial, d.rand)
		} else {
			sleep, interval = p.next(interval, d.rand)
		}
		if until := st.until.Sub(st.now); sleep > until {
			sleep = until
		}
		if err := d.sleep(ctx, sleep); err != nil {
			return fmt.Errorf("%s: %w", l.what, err)
		}
	}
}
