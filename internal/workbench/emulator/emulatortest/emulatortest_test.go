package emulatortest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/apispec"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// fakeTB records what Start reports instead of failing the real test.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...); panic("fatal") }
func (f *fakeTB) Fatal(args ...any)                 { f.Errorf("%s", fmt.Sprint(args...)); panic("fatal") }
func (f *fakeTB) Log(args ...any)                   {}
func (f *fakeTB) Logf(string, ...any)               {}
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func send(t *testing.T, base, method, path, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestStartReportsViolationsAndCallsObserve(t *testing.T) {
	if p, _ := apispec.SpecPath(); p == "" {
		t.Skip("OpenAPI description not available")
	}
	ft := &fakeTB{TB: t}
	var observed int
	var mu sync.Mutex
	e := Start(ft, emulator.Config{Observe: func(*http.Request, []byte, int, http.Header, []byte) {
		mu.Lock()
		observed++
		mu.Unlock()
	}})
	// A conforming exchange.
	if st := send(t, e.URL(), "POST", "/repos/octo-org/hello-world/deployments", `{"ref":"main"}`); st != 201 {
		t.Fatalf("status %d", st)
	}
	// A deliberately invalid request that is refused: not a violation.
	if st := send(t, e.URL(), "POST", "/repos/octo-org/hello-world/deployments", `{"ref":"main","payload":3}`); st != 422 {
		t.Fatalf("status %d", st)
	}
	// An invalid request that the emulator accepts (GitHub does too): reported.
	if st := send(t, e.URL(), "PUT", "/repos/octo-org/hello-world/environments/x", `{"can_admins_bypass":true}`); st != 200 {
		t.Fatalf("status %d", st)
	}
	ft.runCleanups()
	mu.Lock()
	defer mu.Unlock()
	if observed != 3 {
		t.Errorf("caller's Observe called %d times, want 3", observed)
	}
	if len(ft.errs) != 1 || !strings.Contains(ft.errs[0], "PUT /repos/octo-org/hello-world/environments/x") {
		t.Errorf("reported %q", ft.errs)
	}
}

func TestRelevant(t *testing.T) {
	rep := "POST /x (POST /x, op):\n  request: bad body\n  response 422: bad shape"
	if got, ok := relevant(rep, 422); !ok || strings.Contains(got, "request:") || !strings.Contains(got, "bad shape") {
		t.Errorf("422: %q %v", got, ok)
	}
	if _, ok := relevant("POST /x (POST /x, op):\n  request: bad body", 422); ok {
		t.Errorf("request-only problem on a 4xx reported")
	}
	if got, ok := relevant(rep, 201); !ok || got != rep {
		t.Errorf("2xx: %q %v", got, ok)
	}
	if _, ok := relevant("GET /nope: operation undocumented: no path matches", 404); ok {
		t.Errorf("undocumented 404 reported")
	}
	if _, ok := relevant("GET /nope: operation undocumented: no path matches", 200); !ok {
		t.Errorf("undocumented 200 not reported")
	}
}

func TestStartWithoutDescription(t *testing.T) {
	t.Setenv(apispec.EnvOpenAPI, "")
	t.Setenv(apispec.EnvShared, "")
	t.Chdir(t.TempDir())

	// Not required: runs without conformance checks.
	t.Setenv(apispec.EnvRequireShared, "")
	ft := &fakeTB{TB: t}
	e := Start(ft, emulator.Config{})
	if st := send(t, e.URL(), "GET", "/repos/octo-org/hello-world/deployments", ""); st != 200 {
		t.Fatalf("status %d", st)
	}
	ft.runCleanups()
	if len(ft.errs) != 0 {
		t.Errorf("errors %q", ft.errs)
	}

	// Required (CI): a missing description fails the test.
	t.Setenv(apispec.EnvRequireShared, "1")
	ft = &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		Start(ft, emulator.Config{})
	}()
	ft.runCleanups()
	if len(ft.errs) != 1 || !strings.Contains(ft.errs[0], "required") {
		t.Errorf("errors %q", ft.errs)
	}
}
