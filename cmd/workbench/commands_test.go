package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

const rootActionYML = "../../action.yml" // the tests run in cmd/workbench

// normalizeDemo replaces what changes from run to run (ports, ids handed out by parallel jobs,
// wall time) so the rest of the output can be compared byte for byte.
func normalizeDemo(s string) string {
	for _, r := range []struct{ re, repl string }{
		{`127\.0\.0\.1:\d+`, "127.0.0.1:PORT"},
		{`(deployment[ -]id\s+|deployment |/deployments/|status-id\s+)\d+`, "${1}ID"},
		{`wall time \S+`, "wall time T"},
	} {
		s = regexp.MustCompile(r.re).ReplaceAllString(s, r.repl)
	}
	return s
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	testkit.Golden(t, "testdata/demo/"+name, got)
}

func runDemoForTest(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	start := time.Now()
	err := runDemo(t.Context(), append([]string{"--action", rootActionYML}, args...), func(string) string { return "" }, &out, &errOut)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the demo took %s; it should take a few seconds at most", d)
	}
	if errOut.Len() > 0 {
		t.Logf("stderr:\n%s", errOut.String())
	}
	return out.String(), err
}

func TestDemoMatrixSucceeds(t *testing.T) {
	out, err := runDemoForTest(t)
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	last := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if !strings.HasPrefix(last, "OK: 3 deployments final (eu success, production success, staging success)") {
		t.Errorf("verdict = %q", last)
	}
	golden(t, "demo.golden", normalizeDemo(out))
}

func TestDemoFailingDeployStepEndsInFailure(t *testing.T) {
	out, err := runDemoForTest(t, "--environments", "staging,production", "--fail", "production", "--json")
	if err != nil {
		t.Fatalf("a failing deploy step is a normal outcome, the demo must still pass: %v\n%s", err, out)
	}
	var rep struct {
		Jobs []struct {
			Environment string            `json:"environment"`
			JobStatus   string            `json:"job_status"`
			Outputs     map[string]string `json:"outputs"`
			Deployments []struct {
				Statuses []struct{ State, EnvironmentURL string }
			} `json:"deployments"`
		} `json:"jobs"`
		Events []struct {
			Environment string `json:"environment"`
			State       string `json:"state"`
			RunsChecks  bool   `json:"runs_checks"`
		} `json:"events"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	final := map[string]string{}
	for _, j := range rep.Jobs {
		if len(j.Deployments) != 1 || len(j.Deployments[0].Statuses) == 0 {
			t.Fatalf("%s: deployments %+v", j.Environment, j.Deployments)
		}
		st := j.Deployments[0].Statuses
		final[j.Environment] = st[len(st)-1].State
		if j.Environment == "production" && (j.JobStatus != "failure" || len(j.Outputs) != 0) {
			t.Errorf("production job: status %s, outputs %v; want failure and none (main is skipped)", j.JobStatus, j.Outputs)
		}
	}
	if final["production"] != "failure" || final["staging"] != "success" {
		t.Errorf("final states %v, want production failure and staging success", final)
	}
	for _, ev := range rep.Events {
		if ev.RunsChecks {
			t.Errorf("Checkly would run checks on %s %s: a failed production deployment must not trigger them", ev.Environment, ev.State)
		}
	}
}

// TestDemoRunsTheNamedScenes: scene names after the flags select the scenes (a flag's value is
// not read as one), and each scene's report says what a user sees.
func TestDemoRunsTheNamedScenes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--json", "--environments", "staging", "command"}, []string{"command"}},
		{[]string{"--json", "--environments=staging,production", "wait"}, []string{"wait"}},
		{[]string{"--json", "--environments=staging", "promotion"}, []string{"promotion"}},
		{[]string{"--json", "--fail", "production", "--environments", "staging,production"}, []string{"wait", "command"}},
	} {
		out, err := runDemoForTest(t, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, out)
		}
		var rep struct {
			Scenes []struct {
				Name  string   `json:"name"`
				Lines []string `json:"lines"`
			} `json:"scenes"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, out)
		}
		var names []string
		for _, sc := range rep.Scenes {
			names = append(names, sc.Name)
			text := strings.Join(sc.Lines, "\n")
			switch sc.Name {
			case "command":
				if !strings.Contains(text, "reactions on the command: eyes, rocket") || !strings.Contains(text, "in_progress -> success") {
					t.Errorf("%v: command scene:\n%s", tc.args, text)
				}
			case "promotion":
				if !strings.Contains(text, "+10m0s after staging succeeded: no answer yet, the run stays waiting; decide again at +30m0s") ||
					!strings.Contains(text, "+30m0s: approved, the run is in_progress") {
					t.Errorf("%v: promotion scene:\n%s", tc.args, text)
				}
			case "wait":
				// With production failed, latest falls back to staging, the one that succeeded.
				if strings.Count(text, "job success: deployment-id") != 2 || !strings.Contains(text, "environment-url https://staging.example.com") {
					t.Errorf("%v: wait scene:\n%s", tc.args, text)
				}
			}
		}
		if strings.Join(names, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%v: scenes %v, want %v", tc.args, names, tc.want)
		}
	}
}

func TestDemoUnknownSceneIsAUsageError(t *testing.T) {
	_, err := runDemoForTest(t, "slack-typo")
	if exitCode(err) != 2 || err == nil || !strings.Contains(err.Error(), `no scene "slack-typo" (scenes: wait, command, promotion, slack)`) {
		t.Fatalf("err = %v (exit %d), want a usage error listing the scenes", err, exitCode(err))
	}
}

func TestDemoRejectsUnknownFailEnvironment(t *testing.T) {
	_, err := runDemoForTest(t, "--environments", "staging", "--fail", "production")
	if err == nil || !strings.Contains(err.Error(), "production") {
		t.Fatalf("err = %v, want one naming the unknown environment", err)
	}
}

func TestDemoMissingActionYML(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runDemo(t.Context(), []string{"--action", filepath.Join(t.TempDir(), "action.yml")}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--action") {
		t.Fatalf("err = %v, want a hint to pass --action", err)
	}
}

// lineWatcher is the emulator command's stdout: it keeps everything written and sends the first
// submatch of re, from the first line that has it, on found.
type lineWatcher struct {
	re    *regexp.Regexp
	found chan string // buffered: one value

	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte // the line being written
	sent    bool
}

func newLineWatcher(re *regexp.Regexp) *lineWatcher {
	return &lineWatcher{re: re, found: make(chan string, 1)}
}

func (l *lineWatcher) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := l.partial[:i]
		l.partial = l.partial[i+1:]
		if m := l.re.FindSubmatch(line); m != nil && !l.sent {
			l.sent = true
			l.found <- string(m[1])
		}
	}
	return len(p), nil
}

func (l *lineWatcher) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

// lockedBuffer lets the test read what the emulator command printed to stderr while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestEmulatorCommandServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := newLineWatcher(regexp.MustCompile(`GITHUB_API_URL=(http://127\.0\.0\.1:\d+)`))
	var errOut lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- runEmulator(ctx, []string{"--addr", "127.0.0.1:0", "--token", "t0ken"}, func(string) string { return "" }, out, &errOut)
	}()

	var base string
	select {
	case base = <-out.found:
	case err := <-done:
		t.Fatalf("the emulator command returned %v before printing its GITHUB_API_URL line; stdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	case <-time.After(5 * time.Second):
		t.Fatalf("no GITHUB_API_URL line printed; stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}

	get := func(token string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/rate_limit", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET /rate_limit: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get("t0ken"); st != http.StatusOK {
		t.Errorf("GET /rate_limit with --token's token: %d, want 200", st)
	}
	if st := get("other"); st != http.StatusUnauthorized {
		t.Errorf("GET /rate_limit with another token: %d, want 401", st)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("emulator returned %v after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("emulator did not stop after its context was cancelled")
	}
	if !strings.Contains(out.String(), "stopped after 2 requests") {
		t.Errorf("stdout:\n%s", out.String())
	}
}

func TestEmulatorCommandRefusesNonLoopback(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runEmulator(t.Context(), []string{"--addr", "0.0.0.0:0"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "non-loopback") {
		t.Fatalf("err = %v, want a refusal to listen on a non-loopback address", err)
	}
}

// TestNoCommandIsAUsageError: `workbench` alone exits 2 with the usage on stderr, so a script
// that forgot the command fails; `workbench help` prints the same usage on stdout and succeeds.
func TestNoCommandIsAUsageError(t *testing.T) {
	t.Parallel()
	getenv := func(string) string { return "" }
	var out, errOut bytes.Buffer
	err := run(t.Context(), nil, getenv, &out, &errOut)
	if err == nil || exitCode(err) != 2 {
		t.Fatalf("no command: err %v (exit %d), want a usage error (exit 2)", err, exitCode(err))
	}
	if out.Len() != 0 || !strings.Contains(errOut.String(), "COMMANDS\n  demo ") {
		t.Errorf("no command: want the usage on stderr only; stdout %q, stderr %q", out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if err := run(t.Context(), []string{"help"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("help: %v", err)
	}
	if !strings.Contains(out.String(), "COMMANDS\n  demo ") || errOut.Len() != 0 {
		t.Errorf("help: want the usage on stdout; stdout %q, stderr %q", out.String(), errOut.String())
	}
	if err := run(t.Context(), []string{"nope"}, getenv, &out, &errOut); exitCode(err) != 2 {
		t.Errorf("unknown command: err %v, want exit 2", err)
	}
}
