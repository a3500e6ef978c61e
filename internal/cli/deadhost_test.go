package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/testkit"
)

// retryClock is a manual clock for the client's retries: a sleep moves it on at once.
type retryClock struct {
	*testkit.Clock
	mu     sync.Mutex
	sleeps []time.Duration
}

func (c *retryClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	c.Advance(d)
	return nil
}

func (c *retryClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum time.Duration
	for _, d := range c.sleeps {
		sum += d
	}
	return sum
}

// runAt runs the CLI against apiURL with the retries on a manual clock.
func runAt(t *testing.T, apiURL string, hc *http.Client, args ...string) (result, *retryClock) {
	t.Helper()
	clock := &retryClock{Clock: testkit.NewClock(emuNow)}
	vars := env(nil, "GITHUB_API_URL", apiURL)
	var out, errb bytes.Buffer
	r := &runner{getenv: func(k string) string { return vars[k] }, stdout: &out, stderr: &errb, now: func() time.Time { return cliNow },
		httpClient: hc, sleep: clock.Sleep, retryNow: clock.Now}
	err := r.run(context.Background(), args)
	res := result{stdout: out.String(), stderr: errb.String(), err: err}
	for _, s := range []string{res.stdout, res.stderr, errString(err)} {
		if strings.Contains(s, secret) {
			t.Fatalf("the token was printed:\n%s", s)
		}
	}
	return res, clock
}

var cliRetryLine = regexp.MustCompile(`^list deployments: attempt (\d) of (\d) failed: cannot connect to 127\.0\.0\.1:\d+ \(connection refused\); next try in [0-9.]+ s$`)

// TestDeadHostIsSaidAndGivenUpWithin20s: a closed port prints one stderr line per retry and ends
// within 20 s of retrying, not a minute of silence.
func TestDeadHostIsSaidAndGivenUpWithin20s(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	res, clock := runAt(t, "http://"+addr, nil, "list")
	var re *ghapi.RetryError
	if !errors.As(res.err, &re) || res.exitCode() != 1 {
		t.Fatalf("err = %v (exit %d); want giving up after retries, exit 1", res.err, res.exitCode())
	}
	if clock.total() > connectBudget {
		t.Errorf("retried for %s, more than %s", clock.total(), connectBudget)
	}
	t.Logf("stderr:\n%s\nerror: %v", res.stderr, res.err)
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	if len(lines) != re.Attempts-1 || len(lines) < 2 {
		t.Fatalf("%d stderr lines for %d attempts:\n%s", len(lines), re.Attempts, res.stderr)
	}
	for i, l := range lines {
		m := cliRetryLine.FindStringSubmatch(l)
		if m == nil || m[1] != string(rune('1'+i)) || m[2] != string(rune('0'+re.Attempts)) {
			t.Errorf("line %d = %q", i, l)
		}
	}
	if !strings.Contains(res.err.Error(), "giving up after") || !strings.Contains(res.err.Error(), "connection refused") {
		t.Errorf("error = %q", res.err)
	}
}

// TestSchemeMismatchFailsAtOnceNamingTheFix: http to an https server and the reverse are not
// retried; the error names the URL that works.
func TestSchemeMismatchFailsAtOnceNamingTheFix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		tls         bool
		scheme      string
		uses, fixed string
	}{
		{"http to https", true, "http", "GITHUB_API_URL uses http: the server speaks https", "https://"},
		{"https to http", false, "https", "GITHUB_API_URL uses https: the server speaks http", "http://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewUnstartedServer(http.NotFoundHandler())
			srv.Config.ErrorLog = discardLogger()
			if tc.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			host := srv.Listener.Addr().String()
			res, clock := runAt(t, tc.scheme+"://"+host, srv.Client(), "list")
			if res.err == nil || res.exitCode() != 1 {
				t.Fatalf("err = %v (exit %d)", res.err, res.exitCode())
			}
			msg := res.err.Error()
			t.Logf("error: %s", msg)
			if !strings.Contains(msg, tc.uses) || !strings.Contains(msg, tc.fixed+host+"/") {
				t.Errorf("error = %q; want %q and %s", msg, tc.uses, tc.fixed+host+"/")
			}
			if clock.total() != 0 || res.stderr != "" {
				t.Errorf("retried (%s, stderr %q): a mismatch fails at once", clock.total(), res.stderr)
			}
		})
	}
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
