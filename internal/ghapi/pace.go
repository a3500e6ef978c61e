package ghapi

import (
	"context"
	"sync"
	"time"
)

// WriteLimit paces a client's content-creating requests (creates and deletes): at most N sent
// in any Window. The zero value does not pace.
type WriteLimit struct {
	N      int
	Window time.Duration
}

// GitHubWriteLimit is GitHub's documented secondary limit on content-creating requests: 80 per
// minute. (GitHub also documents 500 per hour, which no client-side pacing can make faster.)
func GitHubWriteLimit() WriteLimit { return WriteLimit{N: 80, Window: time.Minute} }

func (w WriteLimit) on() bool { return w.N > 0 && w.Window > 0 }

// pacer is shared by every call of one Client:
//   - a gate: after a rate-limit answer, no attempt of any goroutine starts before the instant
//     GitHub named, so concurrent workers do not trip the limit again one after the other;
//   - with a WriteLimit, a sliding-window log of sent writes, so writes stay under the limit
//     instead of finding it (the window is widened by 1/60 to absorb clock and network jitter).
type pacer struct {
	limit  WriteLimit
	margin time.Duration

	mu     sync.Mutex
	resume time.Time   // the gate: no attempt before this instant
	sent   []time.Time // send times of the writes in the current (widened) window, oldest first
}

func newPacer(l WriteLimit) *pacer {
	if !l.on() {
		l = WriteLimit{}
	}
	return &pacer{limit: l, margin: l.Window / 60}
}

// block closes the gate until t (it only ever moves later).
func (p *pacer) block(t time.Time) {
	p.mu.Lock()
	if t.After(p.resume) {
		p.resume = t
	}
	p.mu.Unlock()
}

// wait returns when an attempt of op may be sent. It fails with a *RateLimitError when the wait
// would end after deadline, or with ctx's error.
func (p *pacer) wait(ctx context.Context, op Op, pol RetryPolicy, deadline time.Time) error {
	write := p.limit.on() && op.Write()
	var waited time.Time // the gate instant already slept for (a fake clock may not move on its own)
	for {
		now := pol.Now()
		var d time.Duration
		var gate bool
		p.mu.Lock()
		switch {
		case now.Before(p.resume) && !p.resume.Equal(waited):
			d, gate = p.resume.Sub(now), true
			waited = p.resume
		case write:
			cut := now.Add(-(p.limit.Window + p.margin))
			i := 0
			for i < len(p.sent) && !p.sent[i].After(cut) {
				i++
			}
			p.sent = p.sent[i:]
			if len(p.sent) < p.limit.N {
				p.sent = append(p.sent, now)
				p.mu.Unlock()
				return nil
			}
			d = p.sent[0].Sub(cut)
		default:
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		if now.Add(d).After(deadline) {
			return &RateLimitError{Op: op, Secondary: true, Reset: now.Add(d).UTC(), Wait: d,
				Err: &pacingError{gate: gate}}
		}
		if err := pol.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// pacingError is the cause of a RateLimitError raised before sending: the wait the client
// imposes on itself would outlast the call's budget.
type pacingError struct{ gate bool }

func (e *pacingError) Error() string {
	if e.gate {
		return "GitHub asked to pause all requests for longer than the retry budget"
	}
	return "the content-creating request rate limit would be exceeded within the retry budget"
}

// CleanupRetryBudget is the per-call retry budget of clean-ups: GitHub's retry-after for the
// secondary limit is often 60 s, which the default 60 s budget cannot absorb, and a clean-up has
// no cancellation window to respect.
const CleanupRetryBudget = 10 * time.Minute

// ForCleanup returns o set up for clean-ups (deactivate, delete): writes paced under GitHub's
// content-creating limit and a per-call budget that absorbs GitHub's retry-after.
func (o Options) ForCleanup() Options {
	o.WriteLimit = GitHubWriteLimit()
	if o.Retry.MaxElapsed < CleanupRetryBudget {
		o.Retry.MaxElapsed = CleanupRetryBudget
	}
	return o
}
