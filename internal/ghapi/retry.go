package ghapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-github/v62/github"
)

// RetryPolicy bounds and paces retries. Zero fields take the defaults noted.
type RetryPolicy struct {
	MaxElapsed     time.Duration // budget per call, including waits for rate limits; default 60s
	Initial        time.Duration // first backoff; default 500ms
	Max            time.Duration // backoff cap; default 10s
	Multiplier     float64       // growth per retry; default 2
	AttemptTimeout time.Duration // one request (or adoption look-up); default 30s
	ClockSkew      time.Duration // allowance when matching created_at for adoption; default 2m
	// ConnectBudget, when set, caps a call whose failures are all connection-level (connection
	// refused, a DNS failure, a host or network unreachable): such a host is most likely wrong or
	// down, and a person at a terminal should hear so soon. Zero: MaxElapsed applies.
	ConnectBudget time.Duration

	// Sleep waits d or until ctx is done (then returns ctx.Err()). Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for budgets, rate-limit resets and adoption. Default time.Now.
	Now func() time.Time
	// Rand returns a number in [0,1) for jitter (±50% of the backoff); default math/rand.
	// A constant 0.5 gives no jitter.
	Rand func() float64
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = 60 * time.Second
	}
	if p.Initial <= 0 {
		p.Initial = 500 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 10 * time.Second
	}
	if p.Multiplier < 1 {
		p.Multiplier = 2
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = 30 * time.Second
	}
	if p.ClockSkew <= 0 {
		p.ClockSkew = 2 * time.Minute
	}
	if p.Sleep == nil {
		p.Sleep = Sleep
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

// Sleep waits for d or until ctx ends, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

const jitter = 0.5

// secondaryDefaultWait is GitHub's advice when a secondary limit names no time: wait a minute.
const secondaryDefaultWait = time.Minute

// secondaryFloor is the least wait after a secondary limit, whatever Retry-After says; each
// further secondary limit within one call at least doubles the previous wait.
const secondaryFloor = time.Second

// resetBuffer is added to rate-limit reset times: the reset is whole seconds and clocks differ.
const resetBuffer = time.Second

// permanentError marks an error the attempt function already decided must not be retried.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

type verdict int

const (
	giveUp    verdict = iota // return the error now
	retryNow                 // back off, then retry
	waitLimit                // wait for a rate limit, if the budget allows
)

type decision struct {
	verdict   verdict
	wait      time.Duration // waitLimit: how long, including a safety buffer
	until     time.Time     // waitLimit: when GitHub says requests may resume
	secondary bool
	err       error // the error to report (converted)
}

// do runs fn until it succeeds, fails for good, or the budget runs out. fn gets a per-attempt
// context and a fresh go-github client and returns go-github's error unchanged. Each retry is
// announced on the client's notef: what failed, when the next try is, and attempt k of n.
func (c *Client) do(ctx context.Context, op Op, fn func(ctx context.Context, g *github.Client) error) error {
	p := c.retry
	start := p.Now()
	deadline := start.Add(p.MaxElapsed)
	next := p.Initial // the backoff before jitter: Initial, then ×Multiplier up to Max
	var lastSecondary time.Duration
	onlyConnect := true // every failure so far was connection-level
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := c.pace.wait(ctx, op, p, deadline); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", op, ctx.Err())
			}
			return err
		}
		actx, cancel := context.WithTimeout(ctx, p.AttemptTimeout)
		err := fn(actx, c.gh())
		attemptTimedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		if pe := c.protocolMismatch(op, err); pe != nil {
			return pe // retrying cannot help: the URL must change
		}
		d := classify(op, err, attemptTimedOut, p.Now())
		now := p.Now()
		var wait time.Duration
		switch d.verdict {
		case giveUp:
			return d.err
		case waitLimit:
			onlyConnect = false
			if d.secondary {
				// GitHub asks for growing waits while a secondary limit persists; a Retry-After of
				// 0 must not turn into a burst of requests.
				d.wait = max(d.wait, secondaryFloor, 2*lastSecondary)
				d.until = now.Add(d.wait)
				lastSecondary = d.wait
			}
			if now.Add(d.wait).After(deadline) {
				return &RateLimitError{Op: op, Secondary: d.secondary, Reset: d.until.UTC(), Wait: d.until.Sub(now), Err: d.err}
			}
			wait = d.wait
			c.pace.block(now.Add(wait)) // every goroutine of this client waits as well
			c.notef("%s: %s; GitHub asks to wait: next try in %s", op, withoutOp(op, d.err), seconds(wait))
		case retryNow:
			onlyConnect = onlyConnect && isConnectFailure(err)
			budget := p.MaxElapsed
			if onlyConnect && p.ConnectBudget > 0 {
				budget = min(budget, p.ConnectBudget)
			}
			n := p.attempts(budget)
			base := next
			next = min(time.Duration(float64(next)*p.Multiplier), p.Max)
			wait = time.Duration(float64(base) * (1 + jitter*(2*p.Rand()-1)))
			if attempt >= n || now.Add(wait).After(start.Add(budget)) {
				return &RetryError{Op: op, Attempts: attempt, Elapsed: now.Sub(start), Err: d.err}
			}
			c.notef("%s: attempt %d of %d failed: %s; next try in %s", op, attempt, n, describe(op, d.err), seconds(wait))
		}
		if err := p.Sleep(ctx, wait); err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("%s: interrupted while waiting to retry after: %s: %w", op, withoutOp(op, d.err), err)
		}
	}
}

// attempts is how many attempts fit in budget on the backoff schedule without jitter: the n of
// "attempt k of n", and a cap, so that n is never exceeded.
func (p RetryPolicy) attempts(budget time.Duration) int {
	n, total, next := 1, time.Duration(0), p.Initial
	for n < 1000 {
		total += next
		if total > budget {
			break
		}
		n++
		next = min(time.Duration(float64(next)*p.Multiplier), p.Max)
	}
	return n
}

// seconds prints a wait as people read it in a log: "1 s", "0.5 s", "12 s".
func seconds(d time.Duration) string {
	s := d.Round(100 * time.Millisecond).Seconds()
	if s >= 10 {
		s = d.Round(time.Second).Seconds()
	}
	return strconv.FormatFloat(s, 'f', -1, 64) + " s"
}

// describe says what failed in one attempt, in words that point at the cause: the host that
// could not be found or reached, rather than Go's nesting of the request line.
func describe(op Op, err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		what := "no such host"
		if !dns.IsNotFound {
			what = dns.Err
		}
		return fmt.Sprintf("cannot look up the host %s (%s)", dns.Name, what)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		addr := ""
		if oe.Addr != nil {
			addr = " " + oe.Addr.String()
		}
		cause := oe.Err
		var sc *os.SyscallError
		if errors.As(cause, &sc) {
			cause = sc.Err
		}
		return fmt.Sprintf("cannot connect to%s (%v)", addr, cause)
	}
	return withoutOp(op, err)
}

// isConnectFailure reports a failure before any byte reached a server: the host is wrong or down.
func isConnectFailure(err error) bool {
	var dns *net.DNSError
	var oe *net.OpError
	return errors.As(err, &dns) || (errors.As(err, &oe) && oe.Op == "dial") ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// protocolMismatch recognises http spoken to an https server or the reverse, which no retry
// can fix, and says which scheme the server speaks.
func (c *Client) protocolMismatch(op Op, err error) *ProtocolError {
	var perm *permanentError
	if errors.As(err, &perm) {
		return nil
	}
	u := c.baseURL
	pe := &ProtocolError{Op: op, URL: u.String(), Err: err}
	switch u.Scheme {
	case "https":
		var rh tls.RecordHeaderError
		if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") || errors.As(err, &rh) {
			pe.Speaks = "http"
			return pe
		}
	case "http":
		if strings.Contains(err.Error(), "malformed HTTP response") {
			pe.Speaks = "https"
			return pe
		}
		var ere *github.ErrorResponse
		if errors.As(err, &ere) && ere.Response != nil && ere.Response.StatusCode == http.StatusBadRequest && ere.Response.Body != nil {
			// Servers answer plain HTTP on their TLS port with a 400 and a sentence: Go's "Client
			// sent an HTTP request to an HTTPS server", nginx's "The plain HTTP request was sent
			// to HTTPS port".
			data, _ := io.ReadAll(io.LimitReader(ere.Response.Body, 4096))
			ere.Response.Body = io.NopCloser(bytes.NewReader(data))
			body := strings.ToLower(string(data) + " " + ere.Message)
			if strings.Contains(body, "http request to an https server") || strings.Contains(body, "plain http request was sent to https port") {
				pe.Speaks = "https"
				return pe
			}
		}
	}
	return nil
}

// RetryError means the retry budget ran out; Err is the last failure (an *APIError for HTTP
// answers, else the transport error).
type RetryError struct {
	Op       Op
	Attempts int
	Elapsed  time.Duration
	Err      error
}

func (e *RetryError) Error() string {
	hint := ""
	if isConnectFailure(e.Err) {
		hint = " (no server answered: check the host of the API URL, and that it is up)"
	}
	return fmt.Sprintf("%s: giving up after %d attempts in %s; last error: %s%s",
		e.Op, e.Attempts, e.Elapsed.Round(time.Millisecond), describe(e.Op, e.Err), hint)
}

func (e *RetryError) Unwrap() error { return e.Err }

// withoutOp avoids "op: ... op: detail" when an error that names the op is nested.
func withoutOp(op Op, err error) string {
	return strings.TrimPrefix(err.Error(), op.String()+": ")
}

// classify decides what to do about one failed attempt. The rules are GitHub's: 5xx and
// transport failures are transient, rate limits say how long to wait, other 4xx are final.
func classify(op Op, err error, attemptTimedOut bool, now time.Time) decision {
	var perm *permanentError
	if errors.As(err, &perm) {
		if isTyped(perm.err) {
			return decision{verdict: giveUp, err: perm.err}
		}
		if api, ok := toAPIError(op, perm.err); ok {
			return decision{verdict: giveUp, err: api}
		}
		return decision{verdict: giveUp, err: perm.err} // already names the op
	}
	if api, ok := toAPIError(op, err); ok {
		return classifyHTTP(api, err, now)
	}
	if attemptTimedOut || errors.Is(err, context.DeadlineExceeded) {
		return decision{verdict: retryNow, err: fmt.Errorf("%s: no answer within the attempt timeout: %w", op, err)}
	}
	if isCertificateError(err) {
		return decision{verdict: giveUp, err: fmt.Errorf("%s: %w", op, err)}
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return decision{verdict: retryNow, err: fmt.Errorf("%s: %w", op, err)}
	}
	return decision{verdict: giveUp, err: fmt.Errorf("%s: %w", op, err)}
}

func isTyped(err error) bool {
	var a *AutoMergedError
	var b *APIError
	var r *RateLimitError
	var u *UnknownOutcomeError
	return errors.As(err, &a) || errors.As(err, &b) || errors.As(err, &r) || errors.As(err, &u)
}

func classifyHTTP(api *APIError, raw error, now time.Time) decision {
	var resp *http.Response
	var rle *github.RateLimitError
	var abe *github.AbuseRateLimitError
	var ere *github.ErrorResponse
	switch {
	case errors.As(raw, &rle):
		resp = rle.Response
	case errors.As(raw, &abe):
		resp = abe.Response
	case errors.As(raw, &ere):
		resp = ere.Response
	}
	status := api.Status
	if status >= 500 {
		return decision{verdict: retryNow, err: api}
	}
	if status != http.StatusForbidden && status != http.StatusTooManyRequests {
		return decision{verdict: giveUp, err: api}
	}
	var h http.Header
	if resp != nil {
		h = resp.Header
	}
	// Secondary limits: retry-after wins, as GitHub documents.
	if ra, ok := retryAfter(h, now); ok {
		return decision{verdict: waitLimit, wait: ra, until: now.Add(ra), secondary: true, err: api}
	}
	// Primary limit used up: wait for the reset.
	if h.Get("X-RateLimit-Remaining") == "0" {
		if reset, ok := unixHeader(h, "X-RateLimit-Reset"); ok {
			wait := max(reset.Sub(now), 0) + resetBuffer
			return decision{verdict: waitLimit, wait: wait, until: reset, secondary: abe != nil || mentionsSecondary(api.Message), err: api}
		}
	}
	if abe != nil || mentionsSecondary(api.Message) || status == http.StatusTooManyRequests {
		return decision{verdict: waitLimit, wait: secondaryDefaultWait, until: now.Add(secondaryDefaultWait), secondary: true, err: api}
	}
	return decision{verdict: giveUp, err: api} // a 403 that is a missing permission
}

func mentionsSecondary(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "secondary rate limit") || strings.Contains(m, "abuse")
}

// retryAfter reads Retry-After: seconds (GitHub's form) or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func isCertificateError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

// mayHaveReachedServer reports whether a failed POST might have been processed: anything but a
// definite answer from GitHub or a connection that was never made.
func mayHaveReachedServer(err error) bool {
	var perm *permanentError
	if errors.As(err, &perm) {
		return false
	}
	var rle *github.RateLimitError
	var abe *github.AbuseRateLimitError
	var ere *github.ErrorResponse
	var ae *github.AcceptedError
	switch {
	case errors.As(err, &rle), errors.As(err, &abe), errors.As(err, &ae):
		return false
	case errors.As(err, &ere):
		return ere.Response == nil || ere.Response.StatusCode >= 500
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	if isCertificateError(err) {
		return false
	}
	return true
}
