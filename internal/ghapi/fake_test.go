package ghapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

// testToken is recognisable so any leak into an error string is caught.
const testToken = "ghp_TOKENthatMustNeverLeak0123456789"

// fakeClock is the injected clock: Sleep records the requested wait and moves time on at once.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	return nil
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// fault intercepts one request on a route. commit performs the request's real effect without
// answering; a fault that returns false lets the normal handler answer.
type fault func(w http.ResponseWriter, r *http.Request, commit func()) bool

// fakeGitHub is a tiny scripted stand-in for the deployments endpoints of one repo (o/r).
type fakeGitHub struct {
	t      *testing.T
	clock  *fakeClock
	srv    *httptest.Server
	mu     sync.Mutex
	nextID int64
	deps   []*github.Deployment // oldest first
	stats  map[int64][]*github.DeploymentStatus
	faults map[string][]fault
	log    []string
	conns  int
}

func newFakeGitHub(t *testing.T, clock *fakeClock) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, clock: clock, nextID: 100, stats: map[int64][]*github.DeploymentStatus{}, faults: map[string][]fault{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v3/repos/o/r/deployments", f.route("create", f.create))
	mux.HandleFunc("GET /api/v3/repos/o/r/deployments", f.route("list", f.list))
	mux.HandleFunc("GET /api/v3/repos/o/r/deployments/{id}", f.route("get", f.get))
	mux.HandleFunc("DELETE /api/v3/repos/o/r/deployments/{id}", f.route("delete", f.noContent))
	mux.HandleFunc("POST /api/v3/repos/o/r/deployments/{id}/statuses", f.route("status", f.createStatus))
	mux.HandleFunc("GET /api/v3/repos/o/r/deployments/{id}/statuses", f.route("statuses", f.listStatuses))
	mux.HandleFunc("DELETE /api/v3/repos/o/r/environments/{name}", f.route("delete-env", f.noContent))
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
		}
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

// on queues faults for the next requests of a route ("create", "list", "get", "delete",
// "status", "statuses", "delete-env").
func (f *fakeGitHub) on(route string, fs ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[route] = append(f.faults[route], fs...)
}

func (f *fakeGitHub) count(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.log {
		if l == route {
			n++
		}
	}
	return n
}

func (f *fakeGitHub) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.log)
}

type handler func(w http.ResponseWriter, r *http.Request) (commit func(), answer func())

func (f *fakeGitHub) route(name string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			f.t.Errorf("%s: Authorization = %q", name, got)
		}
		f.mu.Lock()
		f.log = append(f.log, name)
		var ft fault
		if q := f.faults[name]; len(q) > 0 {
			ft, f.faults[name] = q[0], q[1:]
		}
		f.mu.Unlock()
		commit, answer := h(w, r)
		if ft != nil && ft(w, r, commit) {
			return
		}
		commit()
		answer()
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) create(w http.ResponseWriter, r *http.Request) (func(), func()) {
	var req github.DeploymentRequest
	var payload json.RawMessage
	var body struct {
		Payload json.RawMessage `json:"payload"`
	}
	raw := readAll(r)
	if err := json.Unmarshal(raw, &req); err != nil {
		f.t.Errorf("create: bad body: %v", err)
	}
	_ = json.Unmarshal(raw, &body)
	payload = body.Payload
	if len(payload) == 0 {
		payload = json.RawMessage(`{}`)
	}
	var d *github.Deployment
	commit := func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.nextID++
		d = &github.Deployment{
			ID:          github.Int64(f.nextID),
			Ref:         req.Ref,
			Task:        github.String(orDefault(req.Task, "deploy")),
			Environment: github.String(orDefault(req.Environment, "production")),
			Description: github.String(req.GetDescription()),
			Payload:     payload,
			CreatedAt:   &github.Timestamp{Time: f.clock.Now()},
		}
		f.deps = append(f.deps, d)
	}
	return commit, func() { writeJSON(w, http.StatusCreated, d) }
}

func (f *fakeGitHub) creates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.deps)
}

func (f *fakeGitHub) list(w http.ResponseWriter, r *http.Request) (func(), func()) {
	q := r.URL.Query()
	return func() {}, func() {
		f.mu.Lock()
		out := []*github.Deployment{}
		for i := len(f.deps) - 1; i >= 0; i-- {
			d := f.deps[i]
			if v := q.Get("ref"); v != "" && v != d.GetRef() {
				continue
			}
			if v := q.Get("environment"); v != "" && v != d.GetEnvironment() {
				continue
			}
			if v := q.Get("task"); v != "" && v != d.GetTask() {
				continue
			}
			out = append(out, d)
		}
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	}
}

func (f *fakeGitHub) get(w http.ResponseWriter, r *http.Request) (func(), func()) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return func() {}, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, d := range f.deps {
			if d.GetID() == id {
				writeJSON(w, http.StatusOK, d)
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
	}
}

func (f *fakeGitHub) noContent(w http.ResponseWriter, _ *http.Request) (func(), func()) {
	return func() {}, func() { w.WriteHeader(http.StatusNoContent) }
}

func (f *fakeGitHub) createStatus(w http.ResponseWriter, r *http.Request) (func(), func()) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var req github.DeploymentStatusRequest
	if err := json.Unmarshal(readAll(r), &req); err != nil {
		f.t.Errorf("status: bad body: %v", err)
	}
	var s *github.DeploymentStatus
	commit := func() { s = f.addStatus(id, req.GetState(), req.EnvironmentURL, req.LogURL) }
	return commit, func() { writeJSON(w, http.StatusCreated, s) }
}

func (f *fakeGitHub) addStatus(id int64, state string, envURL, logURL *string) *github.DeploymentStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	s := &github.DeploymentStatus{
		ID: github.Int64(f.nextID), State: github.String(state), EnvironmentURL: envURL, LogURL: logURL, TargetURL: logURL,
		CreatedAt: &github.Timestamp{Time: f.clock.Now()},
	}
	f.stats[id] = append(f.stats[id], s)
	return s
}

func (f *fakeGitHub) statusCount(id int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.stats[id])
}

func (f *fakeGitHub) listStatuses(w http.ResponseWriter, r *http.Request) (func(), func()) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return func() {}, func() {
		f.mu.Lock()
		out := []*github.DeploymentStatus{}
		ss := f.stats[id]
		for i := len(ss) - 1; i >= 0; i-- {
			out = append(out, ss[i])
		}
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	}
}

func readAll(r *http.Request) []byte {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return []byte(b.String())
}

// Faults.

func respond(code int, body string, headers ...string) fault {
	return func(w http.ResponseWriter, _ *http.Request, _ func()) bool {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		fmt.Fprint(w, body)
		return true
	}
}

// dropConnection closes the connection without an answer; with commit it first does the work,
// as a server whose response is lost on the way back.
func dropConnection(commitFirst bool) fault {
	return func(w http.ResponseWriter, _ *http.Request, commit func()) bool {
		if commitFirst {
			commit()
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		conn.Close()
		return true
	}
}

// newClient builds a Client against f with the fake clock and a log capture.
func newClient(t *testing.T, f *fakeGitHub, tweak func(*Options)) (*Client, *logCapture) {
	t.Helper()
	logs := &logCapture{}
	opts := Options{
		Token:  testToken,
		APIURL: f.srv.URL + "/api/v3", // as the runner sets it on GHES
		Retry: RetryPolicy{
			MaxElapsed: time.Minute, Initial: time.Second, Max: 8 * time.Second,
			Sleep: f.clock.Sleep, Now: f.clock.Now, Rand: func() float64 { return 0.5 },
		},
		Logf: logs.Logf,
	}
	if tweak != nil {
		tweak(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

type logCapture struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCapture) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logCapture) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// noToken fails the test if the token shows up in err or in the debug log.
func noToken(t *testing.T, err error, logs *logCapture) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Errorf("token leaked into error: %v", err)
	}
	if logs != nil && strings.Contains(logs.String(), testToken) {
		t.Errorf("token leaked into log: %s", logs)
	}
}
