package ghapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

func deployReq(reqID string) *github.DeploymentRequest {
	return &github.DeploymentRequest{
		Ref:         github.String("main"),
		Environment: github.String("staging"),
		Description: github.String("deploy main"),
		Payload:     map[string]any{"request_id": reqID, "n": 1},
	}
}

func TestCreateRetriedAfter502MakesOneDeployment(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	f.on("create", respond(http.StatusBadGateway, `{"message":"Server Error"}`))
	c, logs := newClient(t, f, nil)

	d, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("a1"))
	noToken(t, err, logs)
	if err != nil {
		t.Fatal(err)
	}
	if f.creates() != 1 || f.count("create") != 2 {
		t.Errorf("deployments on server = %d, create requests = %d; want 1 and 2", f.creates(), f.count("create"))
	}
	// A 502 may come from a proxy after GitHub committed, so the client looks before re-posting.
	if f.count("list") != 1 {
		t.Errorf("look-ups = %d, want 1", f.count("list"))
	}
	if d.GetID() == 0 || d.GetEnvironment() != "staging" {
		t.Errorf("deployment = %+v", d)
	}
	if got := clock.Sleeps(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Errorf("sleeps = %v, want [1s]", got)
	}
}

func TestGetRetriedAfterDroppedConnectionAnd5xx(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	setup, _ := newClient(t, f, nil)
	d, err := setup.CreateDeployment(t.Context(), "o", "r", deployReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	// A fresh client, so the dropped connection is a new one: Go's transport would silently
	// replay a GET itself on a reused connection, which would not exercise our retry.
	c, _ := newClient(t, f, nil)
	f.on("get", dropConnection(false), respond(http.StatusServiceUnavailable, `{"message":"unicorn"}`))
	got, err := c.GetDeployment(t.Context(), "o", "r", d.GetID())
	if err != nil {
		t.Fatal(err)
	}
	if got.GetID() != d.GetID() || f.count("get") != 3 {
		t.Errorf("got %d after %d GETs, want %d after 3", got.GetID(), f.count("get"), d.GetID())
	}
	if s := clock.Sleeps(); !slices.Equal(s, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("backoff sleeps = %v, want [1s 2s]", s)
	}
}

func TestSecondaryRateLimitWaitsRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		body   string
		hdr    []string
		want   time.Duration
	}{
		{"403 with retry-after", 403, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`, []string{"Retry-After", "1"}, time.Second},
		{"429 plain with retry-after", 429, `{"message":"Too Many Requests"}`, []string{"Retry-After", "3"}, 3 * time.Second},
		{"403 secondary message only", 403, `{"message":"You have exceeded a secondary rate limit."}`, nil, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			f := newFakeGitHub(t, clock)
			f.on("list", respond(tc.status, tc.body, tc.hdr...))
			c, _ := newClient(t, f, func(o *Options) { o.Retry.MaxElapsed = 2 * time.Minute })
			if _, _, err := c.ListDeployments(t.Context(), "o", "r", nil); err != nil {
				t.Fatal(err)
			}
			if got := clock.Sleeps(); !slices.Equal(got, []time.Duration{tc.want}) {
				t.Errorf("sleeps = %v, want [%s]", got, tc.want)
			}
			if f.count("list") != 2 {
				t.Errorf("requests = %d, want 2", f.count("list"))
			}
		})
	}
}

// TestRepeatedSecondaryLimitsWaitLonger: Retry-After 0 gets a floor, and a secondary limit that
// persists gets growing waits (GitHub's advice), not a burst of requests.
func TestRepeatedSecondaryLimitsWaitLonger(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	limited := respond(403, `{"message":"You have exceeded a secondary rate limit."}`, "Retry-After", "0")
	f.on("list", limited, limited, limited, respond(403, `{"message":"You have exceeded a secondary rate limit."}`, "Retry-After", "3"))
	c, _ := newClient(t, f, func(o *Options) { o.Retry.MaxElapsed = 2 * time.Minute })
	if _, _, err := c.ListDeployments(t.Context(), "o", "r", nil); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	if got := clock.Sleeps(); !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
}

func TestSecondaryRateLimitOnCreateIsRetriedWithoutLookup(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	f.on("create", respond(429, `{"message":"You have exceeded a secondary rate limit."}`, "Retry-After", "2"))
	c, _ := newClient(t, f, nil)
	if _, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("s")); err != nil {
		t.Fatal(err)
	}
	// A rate-limit answer is definite: nothing was created, so no look-up is needed.
	if f.count("list") != 0 || f.count("create") != 2 || f.creates() != 1 {
		t.Errorf("list=%d create=%d deployments=%d", f.count("list"), f.count("create"), f.creates())
	}
}

func primaryLimit(status int, reset time.Time) fault {
	return respond(status, `{"message":"API rate limit exceeded for installation ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`,
		"X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "0", "X-RateLimit-Used", "5000",
		"X-RateLimit-Reset", fmt.Sprint(reset.Unix()), "X-RateLimit-Resource", "core")
}

func TestPrimaryRateLimitWithinBudgetWaitsAndSendsAgain(t *testing.T) {
	t.Parallel()
	for _, status := range []int{403, 429} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			f := newFakeGitHub(t, clock)
			// The reset is 20s away on the fake clock but hours away on the real one: go-github's
			// own memory of the limit (real clock) must not stop the retry from going out.
			f.on("list", primaryLimit(status, clock.Now().Add(20*time.Second)))
			f.on("list", primaryLimit(status, time.Now().Add(3*time.Hour)))
			c, logs := newClient(t, f, nil)
			_, _, err := c.ListDeployments(t.Context(), "o", "r", nil)
			noToken(t, err, logs)
			if err == nil {
				t.Fatal("second limit answer (reset in 3h) should end the call")
			}
			if got := clock.Sleeps(); !slices.Equal(got, []time.Duration{21 * time.Second}) {
				t.Errorf("sleeps = %v, want [21s] (reset + 1s buffer)", got)
			}
			if f.count("list") != 2 {
				t.Fatalf("requests = %d, want 2: the request after the wait must really be sent", f.count("list"))
			}
			// And the next call on the same client is sent too, not refused locally.
			if _, _, err := c.ListDeployments(t.Context(), "o", "r", nil); err != nil {
				t.Fatal(err)
			}
			if f.count("list") != 3 {
				t.Errorf("requests = %d, want 3", f.count("list"))
			}
		})
	}
}

func TestPrimaryRateLimitBeyondBudgetReportsReset(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	reset := clock.Now().Add(12 * time.Minute)
	f.on("create", primaryLimit(403, reset))
	c, logs := newClient(t, f, nil)
	_, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("x"))
	noToken(t, err, logs)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Secondary {
		t.Fatalf("err = %v, want a primary *RateLimitError", err)
	}
	msg := err.Error()
	for _, want := range []string{"rate limit exhausted", "resets at 03:12:00 UTC", "(in 12m)", "API rate limit exceeded for installation ID 1."} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	var api *APIError
	if !errors.As(err, &api) || api.Status != 403 || !api.RateLimitReset.Equal(reset.Truncate(time.Second)) {
		t.Errorf("APIError = %+v", api)
	}
	if f.total() != 1 || len(clock.Sleeps()) != 0 {
		t.Errorf("requests = %d, sleeps = %v; want 1 request and no wait", f.total(), clock.Sleeps())
	}
	if !IsRateLimited(err) || IsForbidden(err) {
		t.Error("predicates: want rate limited, not forbidden")
	}
}

func TestBudgetExhaustedNamesLastFailure(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	for range 10 {
		f.on("get", respond(503, `{"message":"upstream connect error"}`))
	}
	c, _ := newClient(t, f, func(o *Options) { o.Retry.MaxElapsed = 5 * time.Second })
	_, err := c.GetDeployment(t.Context(), "o", "r", 1)
	if err == nil {
		t.Fatal("want an error")
	}
	if !strings.Contains(err.Error(), "503 upstream connect error") || !strings.Contains(err.Error(), "giving up after 3 attempts in 3s; last error: 503 upstream connect error") {
		t.Errorf("error = %q", err)
	}
	var re *RetryError
	if !errors.As(err, &re) || re.Attempts != 3 || StatusCode(err) != 503 {
		t.Errorf("RetryError = %+v, StatusCode = %d", re, StatusCode(err))
	}
	// 1s + 2s fit in 5s; the next 4s would not.
	if got := clock.Sleeps(); !slices.Equal(got, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("sleeps = %v", got)
	}
}

func TestCancelDuringBackoffReturnsPromptly(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	f.on("get", respond(502, `{"message":"bad gateway"}`))
	// Real sleeps of an hour (the real timer, announced once it is set): only cancellation can
	// end the call quickly.
	sleeping := make(chan struct{}, 1)
	c, _ := newClient(t, f, func(o *Options) {
		o.Retry = RetryPolicy{MaxElapsed: 3 * time.Hour, Initial: time.Hour, Max: time.Hour,
			Sleep: func(ctx context.Context, d time.Duration) error {
				sleeping <- struct{}{}
				return Sleep(ctx, d)
			}}
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-sleeping
		cancel()
	}()
	start := time.Now()
	_, err := c.GetDeployment(ctx, "o", "r", 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %s", el)
	}
	if !strings.Contains(err.Error(), "502 bad gateway") {
		t.Errorf("error %q should name the failure that was being retried", err)
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	f.on("list", func(_ http.ResponseWriter, r *http.Request, _ func()) bool {
		<-r.Context().Done() // hang until the client gives up on this attempt
		return true
	})
	c, _ := newClient(t, f, func(o *Options) { o.Retry.AttemptTimeout = 50 * time.Millisecond })
	if _, _, err := c.ListDeployments(t.Context(), "o", "r", nil); err != nil {
		t.Fatal(err)
	}
	if f.count("list") != 2 {
		t.Errorf("requests = %d, want 2", f.count("list"))
	}
}

func TestDialFailureOnCreateRetriedWithoutLookup(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	rt := &failFirst{base: base, err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}
	c, _ := newClient(t, f, func(o *Options) { o.HTTPClient = &http.Client{Transport: rt} })
	if _, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("d")); err != nil {
		t.Fatal(err)
	}
	if f.count("list") != 0 || f.count("create") != 1 || f.creates() != 1 {
		t.Errorf("list=%d create=%d deployments=%d; a refused connection sent nothing, so no look-up", f.count("list"), f.count("create"), f.creates())
	}
}

type failFirst struct {
	base  http.RoundTripper
	err   error
	fired bool
}

func (f *failFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if !f.fired {
		f.fired = true
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, f.err
	}
	return f.base.RoundTrip(r)
}

func TestNotRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		body   string
		is     func(error) bool
	}{
		{401, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`, IsUnauthorized},
		{403, `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/deployments/deployments#create-a-deployment"}`, IsForbidden},
		{404, `{"message":"Not Found"}`, IsNotFound},
		{422, `{"message":"No ref found for: nope","documentation_url":"https://docs.github.com/rest/deployments/deployments#create-a-deployment"}`, IsValidation},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			f := newFakeGitHub(t, clock)
			f.on("create", respond(tc.status, tc.body))
			c, logs := newClient(t, f, nil)
			_, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("n"))
			noToken(t, err, logs)
			if !tc.is(err) {
				t.Errorf("predicate false for %v", err)
			}
			if f.total() != 1 || len(clock.Sleeps()) != 0 {
				t.Errorf("requests = %d, sleeps = %v; want exactly one request", f.total(), clock.Sleeps())
			}
			var api *APIError
			if !errors.As(err, &api) || api.Op != OpCreateDeployment || api.DocumentationURL == "" && tc.status != 404 {
				t.Errorf("APIError = %+v", api)
			}
			var ghErr *github.ErrorResponse
			if !errors.As(err, &ghErr) {
				t.Error("go-github error not wrapped")
			}
		})
	}
}

func TestOneConnectionReused(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	c, _ := newClient(t, f, nil)
	d, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("k"))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"in_progress", "success"} {
		if _, err := c.CreateDeploymentStatus(t.Context(), "o", "r", d.GetID(), &github.DeploymentStatusRequest{State: github.String(st)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := c.ListDeploymentStatuses(t.Context(), "o", "r", d.GetID(), nil); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	conns := f.conns
	f.mu.Unlock()
	if conns != 1 {
		t.Errorf("connections = %d for 4 sequential calls, want 1 (keep-alive)", conns)
	}
}
