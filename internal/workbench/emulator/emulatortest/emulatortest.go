// Package emulatortest starts an emulator for a test and checks every exchange against GitHub's
// OpenAPI description (when the description is available).
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

var (
	specMu    sync.Mutex
	specCache = map[string]*specEntry{}
	skipOnce  sync.Once
)

type specEntry struct {
	once sync.Once
	v    *apispec.Validator
	err  error
}

func loadSpec(path string) (*apispec.Validator, error) {
	specMu.Lock()
	ent := specCache[path]
	if ent == nil {
		ent = &specEntry{}
		specCache[path] = ent
	}
	specMu.Unlock()
	ent.once.Do(func() { ent.v, ent.err = apispec.Load(path) })
	return ent.v, ent.err
}

// Start starts an emulator on 127.0.0.1:0 with repos (default: emulator.DefaultRepo()), closes
// it when the test ends, and reports every exchange that violates the OpenAPI description as a
// test error at cleanup.
func Start(t testing.TB, cfg emulator.Config, repos ...emulator.RepoSeed) *emulator.Emulator {
	t.Helper()
	path, required := apispec.SpecPath()
	var (
		mu         sync.Mutex
		violations []string
		checked    int
	)
	switch {
	case path == "" && required:
		t.Fatal("emulatortest: the OpenAPI description (../shared/github/deployments.openapi.json) is required but was not found")
	case path == "":
		skipOnce.Do(func() {
			t.Log("emulatortest: OpenAPI description not found; exchanges are not checked for conformance")
		})
	default:
		v, err := loadSpec(path)
		if err != nil {
			t.Fatalf("emulatortest: loading %s: %v", path, err)
		}
		prev := cfg.Observe
		cfg.Observe = func(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) {
			if prev != nil {
				prev(req, reqBody, status, header, respBody)
			}
			mu.Lock()
			checked++
			mu.Unlock()
			if err := v.ValidateExchange(req, reqBody, status, header, respBody); err != nil {
				msg, ok := relevant(err.Error(), status)
				if !ok {
					return
				}
				mu.Lock()
				violations = append(violations, fmt.Sprintf("%s %s -> %d: %s", req.Method, req.URL.RequestURI(), status, msg))
				mu.Unlock()
			}
		}
	}
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	e := emulator.New(cfg)
	if len(repos) == 0 {
		repos = []emulator.RepoSeed{emulator.DefaultRepo()}
	}
	for _, r := range repos {
		e.AddRepo(r)
	}
	if err := e.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("emulatortest: %v", err)
	}
	t.Cleanup(func() {
		e.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, v := range violations {
			t.Errorf("OpenAPI violation: %s", v)
		}
		if path != "" {
			// A figure line (visible with -v): how much of the suite the description checked.
			t.Logf("conformance: %d exchanges checked against the OpenAPI description, %d violations", checked, len(violations))
		}
	})
	return e
}

// relevant filters a violation report. When the emulator rejected a request with a client error
// (4xx), problems with the request itself are what the test sent on purpose (a bad state, an
// over-long description, an unknown path): only problems with the response are reported. A 2xx
// answer to an invalid request is always reported, since GitHub would have refused it.
func relevant(report string, status int) (string, bool) {
	if status < 400 || status >= 500 {
		return report, true
	}
	if strings.Contains(report, "operation undocumented") {
		return "", false
	}
	lines := strings.Split(report, "\n  ")
	if len(lines) < 2 {
		return report, true
	}
	kept := []string{lines[0]}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "request: ") {
			continue
		}
		kept = append(kept, l)
	}
	if len(kept) == 1 {
		return "", false
	}
	return strings.Join(kept, "\n  "), true
}
