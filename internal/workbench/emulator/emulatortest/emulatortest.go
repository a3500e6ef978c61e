// Package emulatortest starts an emulator for a test and checks every exchange against GitHub's
// OpenAPI description (the repository's testdata/github/openapi.json, so on any clone).
package emulatortest

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/apispec"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

var (
	specMu    sync.Mutex
	specCache = map[string]*specEntry{}

	// Totals over every Start of the test binary, for Main's figure line.
	totalChecked, totalViolations, totalKnown atomic.Int64
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
// test error at cleanup (except the known deviations of KnownViolations, which are logged). A
// missing or broken description fails the test: the description is part of the repository.
func Start(t testing.TB, cfg emulator.Config, repos ...emulator.RepoSeed) *emulator.Emulator {
	t.Helper()
	return start(t, cfg, nil, repos)
}

// StartTLS is Start serving https with cert (emulator.SelfSigned makes one).
func StartTLS(t testing.TB, cfg emulator.Config, cert tls.Certificate, repos ...emulator.RepoSeed) *emulator.Emulator {
	t.Helper()
	return start(t, cfg, &cert, repos)
}

func start(t testing.TB, cfg emulator.Config, cert *tls.Certificate, repos []emulator.RepoSeed) *emulator.Emulator {
	t.Helper()
	path, _ := apispec.SpecPath()
	if path == "" {
		_, err := apispec.LoadDefault() // says why
		t.Fatalf("emulatortest: the OpenAPI description is required: %v", err)
	}
	v, err := loadSpec(path)
	if err != nil {
		t.Fatalf("emulatortest: loading %s: %v", path, err)
	}
	var (
		mu         sync.Mutex
		violations []string
		known      []string
		checked    int
	)
	prev := cfg.Observe
	cfg.Observe = func(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) {
		if prev != nil {
			prev(req, reqBody, status, header, respBody)
		}
		mu.Lock()
		checked++
		mu.Unlock()
		totalChecked.Add(1)
		err := v.ValidateExchange(req, reqBody, status, header, respBody)
		if err == nil {
			return
		}
		msg, ok := relevant(err.Error(), status)
		if !ok {
			return
		}
		msg, tolerated := allowed(msg)
		line := fmt.Sprintf("%s %s -> %d: %s", req.Method, req.URL.RequestURI(), status, msg)
		mu.Lock()
		defer mu.Unlock()
		if tolerated != nil {
			known = append(known, fmt.Sprintf("%s %s -> %d: %s", req.Method, req.URL.RequestURI(), status, strings.Join(tolerated, "; ")))
			totalKnown.Add(1)
		}
		if msg != "" {
			violations = append(violations, line)
			totalViolations.Add(1)
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
	if cert != nil {
		err = e.StartTLS("127.0.0.1:0", *cert)
	} else {
		err = e.Start("127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("emulatortest: %v", err)
	}
	t.Cleanup(func() {
		e.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, v := range violations {
			t.Errorf("OpenAPI violation: %s", v)
		}
		for _, k := range known {
			t.Logf("known OpenAPI deviation (allow-listed, to be fixed in the emulator): %s", k)
		}
		// A figure line (visible with -v): how much of the suite the description checked.
		t.Logf("conformance: %d exchanges checked against the OpenAPI description, %d violations", checked, len(violations))
	})
	return e
}

// Totals returns what every Start of this test binary has seen so far: exchanges checked,
// violations reported and exchanges with an allow-listed deviation.
func Totals() (checked, violations, known int64) {
	return totalChecked.Load(), totalViolations.Load(), totalKnown.Load()
}

// Main runs a package's tests (call it from TestMain) and then prints the package's conformance
// total. go test shows it with -v, with -json, and when run in the package's directory without
// package arguments; in package-list mode (go test ./...) the go command discards the output of
// a passing package.
func Main(m *testing.M) {
	code := m.Run()
	PrintTotals(os.Stdout)
	os.Exit(code)
}

// PrintTotals writes the figure line for Totals (nothing when no exchange was checked).
func PrintTotals(w io.Writer) {
	checked, violations, known := Totals()
	if checked == 0 {
		return
	}
	fmt.Fprintf(w, "conformance: %d exchanges checked against the OpenAPI description, %d violations (package total; %d with an allow-listed deviation)\n", checked, violations, known)
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

// allowed removes the problems of a report that KnownViolations lists. It returns the rest of
// the report ("" when nothing is left) and the removed problems (nil when none).
func allowed(report string) (rest string, tolerated []string) {
	lines := strings.Split(report, "\n  ")
	if len(lines) < 2 {
		// A one-line report (an undocumented operation) is tolerated as a whole or not at all.
		if k := apispec.KnownViolation(report, report); k != nil {
			return "", []string{report + " [known: " + k.Why + "]"}
		}
		return report, nil
	}
	kept := []string{lines[0]}
	for _, l := range lines[1:] {
		if k := apispec.KnownViolation(lines[0], l); k != nil {
			tolerated = append(tolerated, l+" [known: "+k.Why+"]")
			continue
		}
		kept = append(kept, l)
	}
	if len(kept) == 1 {
		return "", tolerated
	}
	return strings.Join(kept, "\n  "), tolerated
}
