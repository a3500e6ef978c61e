package ghapi

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// deadClient is a client with the library's default backoff (500 ms ×2 up to 10 s), no jitter,
// an injected clock, and its retry lines captured.
func deadClient(t *testing.T, apiURL string, tweak func(*Options)) (*Client, *fakeClock, *logCapture) {
	t.Helper()
	clock := newFakeClock()
	notes := &logCapture{}
	opts := Options{
		Token:  testToken,
		APIURL: apiURL,
		Retry:  RetryPolicy{Sleep: clock.Sleep, Now: clock.Now, Rand: func() float64 { return 0.5 }},
		Notef:  notes.Logf,
	}
	if tweak != nil {
		tweak(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, clock, notes
}

// closedPort is a 127.0.0.1 address nothing listens on any more.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func (l *logCapture) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

var retryLine = regexp.MustCompile(`^get deployment: attempt (\d+) of (\d+) failed: (.+); next try in ([0-9.]+) s$`)

// TestRefusedConnectionSaysEachRetryAndStopsWithinTheConnectBudget: every retry is one line that
// names the address, the wait and attempt k of n; with a connect budget of 20 s the call ends
// before 20 s of waiting, where the 60 s budget would go on.
func TestRefusedConnectionSaysEachRetryAndStopsWithinTheConnectBudget(t *testing.T) {
	t.Parallel()
	addr := closedPort(t)
	for _, tc := range []struct {
		name         string
		budget       time.Duration
		wantAttempts int
	}{
		{"cli's 20s cap", 20 * time.Second, 6}, // waits 0.5+1+2+4+8 = 15.5 s; the next 10 s would pass 20 s
		{"the 60s budget", 0, 10},              // 0.5+1+2+4+8+10+10+10+10 = 55.5 s
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, clock, notes := deadClient(t, "http://"+addr+"/", func(o *Options) { o.Retry.ConnectBudget = tc.budget })
			_, err := c.GetDeployment(t.Context(), "o", "r", 1)
			var re *RetryError
			if !errors.As(err, &re) || re.Attempts != tc.wantAttempts {
				t.Fatalf("err = %v; want giving up after %d attempts", err, tc.wantAttempts)
			}
			var slept time.Duration
			for _, s := range clock.Sleeps() {
				slept += s
			}
			if tc.budget > 0 && slept > tc.budget {
				t.Errorf("waited %s in all, more than the %s cap", slept, tc.budget)
			}
			lines := notes.all()
			if len(lines) != tc.wantAttempts-1 {
				t.Fatalf("%d retry lines for %d attempts: %q", len(lines), tc.wantAttempts, lines)
			}
			for i, l := range lines {
				m := retryLine.FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("line %q does not say attempt k of n and the next try", l)
				}
				if m[1] != strconv.Itoa(i+1) || m[2] != strconv.Itoa(tc.wantAttempts) {
					t.Errorf("line %d says attempt %s of %s, want %d of %d", i, m[1], m[2], i+1, tc.wantAttempts)
				}
				if want := "cannot connect to " + addr + " (connection refused)"; m[3] != want {
					t.Errorf("what failed = %q, want %q", m[3], want)
				}
				if want := []string{"0.5", "1", "2", "4", "8", "10", "10", "10", "10"}[i]; m[4] != want {
					t.Errorf("line %d says next try in %s s, want %s s", i, m[4], want)
				}
				if got := clock.Sleeps()[i]; m[4] != strconv.FormatFloat(got.Seconds(), 'f', -1, 64) {
					t.Errorf("line %d says next try in %s s, the client waited %s", i, m[4], got)
				}
				if strings.Contains(l, testToken) {
					t.Errorf("token in %q", l)
				}
			}
		})
	}
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// TestConnectBudgetLeavesServerErrorsAlone: once a server answered (a 502), the failures are no
// longer all connection-level and the full budget applies.
func TestConnectBudgetLeavesServerErrorsAlone(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	c, _, _ := deadClient(t, srv.URL+"/", func(o *Options) { o.Retry.ConnectBudget = 5 * time.Second })
	_, err := c.GetDeployment(t.Context(), "o", "r", 1)
	var re *RetryError
	if !errors.As(err, &re) || re.Attempts != 10 || n.Load() != 10 {
		t.Fatalf("err = %v after %d requests; want 10 attempts (the 60 s budget)", err, n.Load())
	}
}

// TestDNSFailureIsSaidAsSuch: a host that does not resolve is named in the retry line (the
// failure is injected at the transport, so no resolver is asked).
func TestDNSFailureIsSaidAsSuch(t *testing.T) {
	t.Parallel()
	dnsFail := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "ghes.invalid", IsNotFound: true}}
	})
	c, clock, notes := deadClient(t, "https://ghes.invalid/api/v3", func(o *Options) {
		o.HTTPClient = &http.Client{Transport: dnsFail}
		o.Retry.ConnectBudget = 20 * time.Second
	})
	_, err := c.GetDeployment(t.Context(), "o", "r", 1)
	var re *RetryError
	if !errors.As(err, &re) || re.Attempts != 6 || len(clock.Sleeps()) != 5 {
		t.Fatalf("err = %v, sleeps %v; want 6 attempts within 20 s", err, clock.Sleeps())
	}
	lines := notes.all()
	if len(lines) == 0 || !strings.Contains(lines[0], "attempt 1 of 6 failed: cannot look up the host ghes.invalid (no such host); next try in 0.5 s") {
		t.Errorf("lines = %q", lines)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return f(r)
}

// TestProtocolMismatchFailsAtOnceNamingTheFix: http spoken to an https server, and https to an
// http one, fail on the first attempt with the URL that works; nothing is retried.
func TestProtocolMismatchFailsAtOnceNamingTheFix(t *testing.T) {
	t.Parallel()
	handler := func(n *atomic.Int32) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			n.Add(1)
			w.WriteHeader(http.StatusNotFound)
		})
	}
	for _, tc := range []struct {
		name   string
		tls    bool
		scheme string
		want   string
	}{
		{"http to a TLS server", true, "http", "GITHUB_API_URL uses http: the server speaks https; set it to https://"},
		{"https to a plain server", false, "https", "GITHUB_API_URL uses https: the server speaks http; set it to http://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := httptest.NewUnstartedServer(handler(&n))
			srv.Config.ErrorLog = discardLog()
			if tc.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			u, _ := url.Parse(srv.URL)
			c, clock, notes := deadClient(t, tc.scheme+"://"+u.Host+"/", func(o *Options) {
				o.HTTPClient = &http.Client{Transport: srv.Client().Transport}
			})
			for _, call := range []func() error{
				func() error { _, err := c.GetDeployment(t.Context(), "o", "r", 1); return err },
				func() error { _, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("p")); return err },
			} {
				err := call()
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v; want a ProtocolError", err)
				}
				if !strings.Contains(err.Error(), tc.want+u.Host+"/") {
					t.Errorf("error %q lacks %q", err, tc.want+u.Host+"/")
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("token in %q", err)
				}
			}
			if len(clock.Sleeps()) != 0 || len(notes.all()) != 0 || n.Load() != 0 {
				t.Errorf("sleeps %v, lines %q, handled %d: a mismatch is not retried", clock.Sleeps(), notes.all(), n.Load())
			}
		})
	}
}
