package ghapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func fakePolicy(clock *fakeClock) RetryPolicy {
	return RetryPolicy{Now: clock.Now, Sleep: clock.Sleep, Rand: func() float64 { return 0.5 }}.withDefaults()
}

func TestPacerGateHoldsEveryCallUntilResume(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	p := newPacer(WriteLimit{})
	pol := fakePolicy(clock)
	p.block(clock.Now().Add(30 * time.Second))
	p.block(clock.Now().Add(10 * time.Second)) // never moves earlier
	if err := p.wait(t.Context(), OpListDeployments, pol, clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t.Context(), OpCreateDeployment, pol, clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := clock.Sleeps(); !slices.Equal(got, []time.Duration{30 * time.Second}) {
		t.Errorf("sleeps = %v, want [30s] (reads and writes wait for the gate, once)", got)
	}

	// A gate beyond the call's budget fails at once, as a rate-limit error.
	p.block(clock.Now().Add(5 * time.Minute))
	err := p.wait(t.Context(), OpDeleteDeployment, pol, clock.Now().Add(time.Minute))
	var rl *RateLimitError
	if !errors.As(err, &rl) || !rl.Secondary || rl.Wait != 5*time.Minute || !strings.HasPrefix(err.Error(), "delete deployment: ") {
		t.Fatalf("err = %v, want a secondary RateLimitError with a 5m wait", err)
	}
	if len(clock.Sleeps()) != 1 {
		t.Errorf("sleeps = %v: a wait beyond the budget must not be started", clock.Sleeps())
	}
}

func TestPacerWriteLimitIsASlidingWindow(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	p := newPacer(WriteLimit{N: 3, Window: 60 * time.Second})
	pol := fakePolicy(clock)
	far := clock.Now().Add(time.Hour)
	for range 3 {
		if err := p.wait(t.Context(), OpCreateDeploymentStatus, pol, far); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 { // reads are never paced
		if err := p.wait(t.Context(), OpListDeploymentStatuses, pol, far); err != nil {
			t.Fatal(err)
		}
	}
	if len(clock.Sleeps()) != 0 {
		t.Fatalf("sleeps = %v before the limit", clock.Sleeps())
	}
	// The 4th write waits for the oldest to leave the window, widened by 1/60 for jitter.
	if err := p.wait(t.Context(), OpDeleteDeployment, pol, far); err != nil {
		t.Fatal(err)
	}
	if got := clock.Sleeps(); !slices.Equal(got, []time.Duration{61 * time.Second}) {
		t.Errorf("sleeps = %v, want [1m1s]", got)
	}
	for range 2 {
		if err := p.wait(t.Context(), OpDeleteDeployment, pol, far); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.wait(t.Context(), OpDeleteDeployment, pol, clock.Now().Add(time.Second)); err == nil {
		t.Error("a write that cannot be sent within the budget must fail")
	}
}

// After a secondary-limit answer, another goroutine's call on the same client waits until the
// retry-after instant instead of tripping the limit again.
func TestSecondaryLimitPausesTheWholeClient(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		until   time.Time
		limited int
		early   int
		total   int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		total++
		now := time.Now()
		switch {
		case until.IsZero():
			until = now.Add(time.Second)
			limited++
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message":"You have exceeded a secondary rate limit."}`))
			return
		case now.Before(until):
			early++
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	limitSeen := make(chan struct{})
	var once sync.Once
	c, err := New(Options{Token: testToken, APIURL: srv.URL, Logf: func(string, ...any) {
		once.Do(func() { close(limitSeen) })
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = c.DeleteDeployment(ctx, "o", "r", 1) }()
	go func() {
		defer wg.Done()
		select {
		case <-limitSeen:
		case <-ctx.Done():
		}
		errs[1] = c.DeleteDeployment(ctx, "o", "r", 2)
	}()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if limited != 1 || early != 0 || total != 3 {
		t.Errorf("limit answers %d, requests before retry-after %d, total %d; want 1, 0, 3", limited, early, total)
	}
}

func TestForCleanup(t *testing.T) {
	t.Parallel()
	o := Options{Token: "x"}.ForCleanup()
	if o.WriteLimit != GitHubWriteLimit() || o.Retry.MaxElapsed != CleanupRetryBudget || o.Token != "x" {
		t.Errorf("ForCleanup = %+v", o)
	}
	if o := (Options{Retry: RetryPolicy{MaxElapsed: time.Hour}}).ForCleanup(); o.Retry.MaxElapsed != time.Hour {
		t.Errorf("a larger budget must be kept, got %s", o.Retry.MaxElapsed)
	}
}
