package bench

import (
	"bufio"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/app"
	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

const (
	owner    = testkit.Owner
	repoName = testkit.Repo
	token    = "ghs_benchTOKENbenchTOKEN0123456789"
	// latency is the emulator's added latency per response in the timing benchmarks.
	latency = 50 * time.Millisecond
)

// scale is the size of a run: short (default, CI) or full (DEPLOYMENT_ACTION_BENCH_FULL=1).
type scale struct {
	name       string
	full       bool
	cleanupN   int           // deployments in the clean-up environment
	window     time.Duration // the secondary limit's window (GitHub: one minute)
	stageRuns  int           // jobs per transport in the subprocess benchmark
	matrixLegs int
}

func getScale() scale {
	if os.Getenv("DEPLOYMENT_ACTION_BENCH_FULL") == "1" && !testing.Short() {
		return scale{name: "full", full: true, cleanupN: 1000, window: time.Minute, stageRuns: 30, matrixLegs: 50}
	}
	// 3 s is GitHub's minute scaled by 1/20: the pacing dynamics are the same, 20 times faster.
	return scale{name: "short", cleanupN: 200, window: 3 * time.Second, stageRuns: 10, matrixLegs: 50}
}

// secondaryLimit is GitHub's documented content-creating limit per window.
const secondaryLimit = 80

// figure logs one result line (benchmark logs are always printed).
func figure(b testing.TB, format string, args ...any) {
	b.Helper()
	b.Logf("FIGURE "+format, args...)
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// server serves an emulator through httptest with counters the emulator does not keep: TCP
// connections accepted, TLS handshakes, requests in flight, and the first request since mark.
type server struct {
	e   *emulator.Emulator
	srv *httptest.Server
	// certFile is the PEM of the TLS server's certificate ("" for plain HTTP).
	certFile string

	mu          sync.Mutex
	conns       int
	handshakes  int
	inflight    int
	maxInflight int
	since       time.Time // mark
	first       time.Time // first request after mark
	firstConn   time.Time // first connection accepted after mark
	count       int       // requests after mark
}

func startServer(tb testing.TB, cfg emulator.Config, useTLS bool) *server {
	tb.Helper()
	s := &server{e: emulator.New(cfg)}
	s.e.AddRepo(emulator.DefaultRepo())
	h := s.e.Handler()
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		s.mu.Lock()
		s.inflight++
		s.maxInflight = max(s.maxInflight, s.inflight)
		if s.first.IsZero() {
			s.first = now
		}
		s.count++
		s.mu.Unlock()
		// A request stops being in flight when its answer starts: the client may send its next
		// request as soon as it has the answer, before this handler has returned.
		var once sync.Once
		done := func() {
			once.Do(func() {
				s.mu.Lock()
				s.inflight--
				s.mu.Unlock()
			})
		}
		defer done()
		h.ServeHTTP(&answerWriter{ResponseWriter: w, started: done}, r)
	}))
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			now := time.Now()
			s.mu.Lock()
			if s.firstConn.IsZero() {
				s.firstConn = now
			}
			s.conns++
			s.mu.Unlock()
		}
	}
	if useTLS {
		s.srv.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			s.mu.Lock()
			s.handshakes++
			s.mu.Unlock()
			return nil, nil
		}}
		s.srv.StartTLS()
		s.certFile = filepath.Join(tb.TempDir(), "emulator.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
		if err := os.WriteFile(s.certFile, pemBytes, 0o600); err != nil {
			tb.Fatal(err)
		}
	} else {
		s.srv.Start()
	}
	tb.Cleanup(func() {
		s.srv.Close()
		s.e.Close()
	})
	return s
}

func (s *server) URL() string { return s.srv.URL }

type counters struct {
	conns, handshakes, requests, maxInflight int
	first, firstConn                         time.Time
}

// mark starts a new measurement period and returns the previous one's counters.
func (s *server) mark() counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := counters{conns: s.conns, handshakes: s.handshakes, requests: s.count, maxInflight: s.maxInflight, first: s.first, firstConn: s.firstConn}
	s.conns, s.handshakes, s.count, s.maxInflight = 0, 0, 0, 0
	s.first, s.firstConn, s.since = time.Time{}, time.Time{}, time.Now()
	return c
}

func loadAction(tb testing.TB) *actionsim.Action { tb.Helper(); return testkit.Action(tb) }

// newJob is one job using the action as the runner runs it, in-process (app.Run).
func newJob(act *actionsim.Action, apiURL string, with map[string]string) *actionsim.Job {
	return testkit.NewJob(app.Run, act, apiURL, token, with)
}

func runJob(tb testing.TB, j *actionsim.Job) *actionsim.Result {
	tb.Helper()
	res := testkit.Run(tb, j)
	if len(res.StageErrors) > 0 {
		tb.Fatalf("stage errors: %v\n%v", res.StageErrors, res.Stdout)
	}
	return res
}

// quantiles of durations: median and p90 (nearest rank).
func quantiles(ds []time.Duration) (p50, p90 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[max(i, 0)]
	}
	return rank(0.5), rank(0.9)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtMS(d time.Duration) string { return fmt.Sprintf("%.1f ms", ms(d)) }

// path helpers for the emulator's request log
func isStatusPost(r emulator.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/statuses")
}

// answerWriter calls started when the response begins (headers or body), before the client can
// see any of it.
type answerWriter struct {
	http.ResponseWriter
	started func()
}

func (a *answerWriter) WriteHeader(code int) { a.started(); a.ResponseWriter.WriteHeader(code) }

func (a *answerWriter) Write(b []byte) (int, error) { a.started(); return a.ResponseWriter.Write(b) }

// Hijack keeps the emulator's dropped-connection faults working through the wrapper.
func (a *answerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	a.started()
	return http.NewResponseController(a.ResponseWriter).Hijack()
}
