package emulatortest

import (
	"fmt"
	"net/http"
	"path/filepath"
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

// TestStartFailsWithoutDescription: the description is part of the repository, so Start fails
// (never skips) when it cannot be found or read.
func TestStartFailsWithoutDescription(t *testing.T) {
	start := func() []string {
		ft := &fakeTB{TB: t}
		func() {
			defer func() {
				if r := recover(); r != nil && r != "fatal" {
					panic(r)
				}
			}()
			Start(ft, emulator.Config{})
			t.Error("Start returned without a description")
		}()
		ft.runCleanups()
		return ft.errs
	}

	t.Setenv(apispec.EnvOpenAPI, filepath.Join(t.TempDir(), "missing.json"))
	if errs := start(); len(errs) != 1 || !strings.Contains(errs[0], "missing.json") {
		t.Errorf("override naming a missing file: errors %q", errs)
	}

	t.Setenv(apispec.EnvOpenAPI, "")
	t.Chdir(t.TempDir()) // no go.mod above: the repository's testdata cannot be found
	if errs := start(); len(errs) != 1 || !strings.Contains(errs[0], "OpenAPI description is required") || !strings.Contains(errs[0], "go.mod") {
		t.Errorf("outside the repository: errors %q", errs)
	}
}

func TestAllowed(t *testing.T) {
	saved := apispec.KnownViolations
	t.Cleanup(func() { apispec.KnownViolations = saved })
	apispec.KnownViolations = []apispec.Known{{Where: "repos/get-deployment", Problem: `"/creator/login"`, Why: "test entry"}}

	rep := "GET /repos/o/r/deployments/1 (GET /repos/{owner}/{repo}/deployments/{deployment_id}, repos/get-deployment):\n" +
		`  response 200: Error at "/creator/login": property "login" is missing` + "\n" +
		`  response 200: Error at "/sha": property "sha" is missing`
	rest, tolerated := allowed(rep)
	if len(tolerated) != 1 || !strings.Contains(tolerated[0], "/creator/login") || !strings.Contains(tolerated[0], "test entry") {
		t.Errorf("tolerated %q", tolerated)
	}
	if !strings.Contains(rest, `"/sha"`) || strings.Contains(rest, "/creator/login") {
		t.Errorf("rest %q", rest)
	}
	// Only listed problems go: the same problem on another operation stays.
	other := strings.Replace(rep, "repos/get-deployment)", "repos/list-deployments)", 1)
	if rest, tolerated := allowed(other); tolerated != nil || rest != other {
		t.Errorf("other operation: rest %q tolerated %q", rest, tolerated)
	}
	// A report made only of known problems is no violation.
	only := strings.Join(strings.Split(rep, "\n")[:2], "\n")
	if rest, tolerated := allowed(only); rest != "" || len(tolerated) != 1 {
		t.Errorf("only known: rest %q tolerated %q", rest, tolerated)
	}
}
