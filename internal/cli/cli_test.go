package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// The emulator's clock is fixed so timestamps in goldens are stable; the CLI's clock is five
// minutes later so list shows a relative age.
var (
	emuNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	cliNow = emuNow.Add(5 * time.Minute)
)

const (
	repo   = "octo-org/hello-world"
	secret = "ghp_s3cretT0kenNeverPrinted"
)

type result struct {
	stdout, stderr string
	err            error
}

// exitCode is what main would exit with.
func (r result) exitCode() int {
	if r.err == nil {
		return 0
	}
	var ec interface{ ExitCode() int }
	if errors.As(r.err, &ec) {
		return ec.ExitCode()
	}
	return 1
}

func startEmulator(t *testing.T, cfg emulator.Config) *emulator.Emulator {
	t.Helper()
	cfg.Now = func() time.Time { return emuNow }
	return emulatortest.Start(t, cfg)
}

// env is the process environment of a deploy script pointed at the emulator.
func env(e *emulator.Emulator, extra ...string) map[string]string {
	m := map[string]string{"GH_TOKEN": secret, "GH_REPO": repo}
	if e != nil {
		m["GITHUB_API_URL"] = e.URL()
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func run(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	r := &runner{getenv: func(k string) string { return vars[k] }, stdout: &out, stderr: &errb, now: func() time.Time { return cliNow }}
	err := r.run(context.Background(), args)
	res := result{stdout: out.String(), stderr: errb.String(), err: err}
	for _, s := range []string{res.stdout, res.stderr, errString(err)} {
		if strings.Contains(s, secret) {
			t.Fatalf("%v: the token was printed:\n%s", args, s)
		}
	}
	return res
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	res := run(t, vars, args...)
	if res.err != nil {
		t.Fatalf("%v: %v", args, res.err)
	}
	return res.stdout
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// golden compares got with testdata/cli/<name>.golden at the repository root, after replacing
// the emulator's address (a random port) with a fixed one.
func golden(t *testing.T, e *emulator.Emulator, name, got string) {
	t.Helper()
	if e != nil {
		// The client may or may not put the GHES prefix on a loopback URL: either is the emulator.
		got = strings.ReplaceAll(got, e.URL()+"/api/v3", "http://emulator")
		got = strings.ReplaceAll(got, e.URL(), "http://emulator")
	}
	testkit.Golden(t, "testdata/cli/"+name+".golden", got)
}

func TestHelp(t *testing.T) {
	t.Parallel()
	top := mustRun(t, nil)
	golden(t, nil, "help", top)
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		if got := mustRun(t, nil, args...); got != top {
			t.Errorf("%v prints a different help than no arguments", args)
		}
	}
	for _, c := range (&runner{}).commands() {
		got := mustRun(t, nil, c.name, "--help")
		golden(t, nil, "help-"+c.name, got)
		if other := mustRun(t, nil, "help", c.name); other != got {
			t.Errorf("help %s differs from %s --help", c.name, c.name)
		}
		if !strings.Contains(got, "\nEXAMPLES\n  # ") {
			t.Errorf("%s --help has no EXAMPLES section", c.name)
		}
		// The environment and exit codes are the same for every command: only the top level
		// has them, so a command's help is its own.
		if strings.Contains(got, "EXIT CODES") || strings.Contains(got, "\nENVIRONMENT\n") {
			t.Errorf("%s --help repeats the top-level ENVIRONMENT or EXIT CODES block", c.name)
		}
		if !strings.Contains(top, "  "+c.name+":") {
			t.Errorf("top-level help does not list %s", c.name)
		}
	}
	if mustRun(t, nil, "start", "-h") != mustRun(t, nil, "create", "-h") {
		t.Error("start is not an alias of create")
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			e := startEmulator(t, emulator.Config{})
			args := []string{"create", "--environment", "staging", "--ref", "main", "--environment-url", "https://staging.example.com",
				"--log-url", "https://ci.example.com/job/deploy/42/", "--payload", `{"version":"1.2.3"}`}
			if format == "json" {
				args = append(args, "--json")
			}
			out := mustRun(t, env(e), args...)
			golden(t, e, "create-"+format, out)

			deps := e.Deployments("octo-org", "hello-world")
			if len(deps) != 1 {
				t.Fatalf("%d deployments, want 1", len(deps))
			}
			d := deps[0]
			if d.Environment != "staging" || d.Ref != "main" || len(d.Statuses) != 1 || d.Statuses[0].State != "in_progress" ||
				d.Statuses[0].EnvironmentURL != "https://staging.example.com" || d.Statuses[0].LogURL != "https://ci.example.com/job/deploy/42/" {
				t.Errorf("deployment = %+v", d)
			}
			if p, _ := d.Payload.(map[string]any); p["version"] != "1.2.3" {
				t.Errorf("payload = %v", d.Payload)
			}
			if format == "json" {
				var got deploymentJSON
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatal(err)
				}
				if got.DeploymentID != d.ID || got.StatusID != d.Statuses[0].ID || got.State != "in_progress" {
					t.Errorf("json = %+v, deployment %d status %d", got, d.ID, d.Statuses[0].ID)
				}
			}
		})
	}
}

// createOne makes a deployment through the CLI and returns its id as a script would get it.
func createOne(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	var got deploymentJSON
	out := mustRun(t, vars, append([]string{"create", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	return jsonID(got.DeploymentID)
}

func jsonID(id int64) string { b, _ := json.Marshal(id); return string(b) }

func TestStatusAndFinish(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			e := startEmulator(t, emulator.Config{})
			vars := env(e)
			id := createOne(t, vars, "--environment", "staging", "--ref", "main", "--environment-url", "https://staging.example.com")
			var js []string
			if format == "json" {
				js = []string{"--json"}
			}
			golden(t, e, "status-"+format, mustRun(t, vars, append([]string{"status", "--deployment-id", id, "--state", "queued", "--description", "waiting for the window"}, js...)...))
			golden(t, e, "finish-"+format, mustRun(t, vars, append([]string{"finish", "--deployment-id", id}, js...)...))

			sts := e.Deployments("octo-org", "hello-world")[0].Statuses
			var states []string
			for _, s := range sts {
				states = append(states, s.State)
				// A status that does not name an environment URL keeps the one the deployment had.
				if s.EnvironmentURL != "https://staging.example.com" {
					t.Errorf("status %s has environment URL %q: it was lost", s.State, s.EnvironmentURL)
				}
			}
			if got := strings.Join(states, ","); got != "in_progress,queued,success" {
				t.Errorf("states = %s, want in_progress,queued,success (finish defaults to success)", got)
			}
		})
	}
}

func TestStatusOfMissingDeployment(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	res := run(t, env(e), "status", "--deployment-id", "999999", "--state", "success")
	if res.exitCode() != 1 || !strings.Contains(errString(res.err), "deployment 999999 was not found") {
		t.Fatalf("exit %d, err %v", res.exitCode(), res.err)
	}
	for _, r := range e.Requests() {
		if r.Method != "GET" {
			t.Errorf("%s %s: a missing deployment must not be written to", r.Method, r.Path)
		}
	}
}

func TestTrigger(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			e := startEmulator(t, emulator.Config{})
			args := []string{"trigger", "--environment", "production", "--ref", "v1.0.0", "--environment-url", "https://app.example.com"}
			if format == "json" {
				args = append(args, "--json")
			}
			golden(t, e, "trigger-"+format, mustRun(t, env(e), args...))
			deps := e.Deployments("octo-org", "hello-world")
			if len(deps) != 1 || len(deps[0].Statuses) != 1 || deps[0].Statuses[0].State != "success" {
				t.Fatalf("deployments = %+v, want one with a single success status", deps)
			}
		})
	}
}

// seed makes three deployments: staging main (success), production v1.0.0 (in_progress), and
// staging feature-x (failure), in that order.
func seed(t *testing.T, vars map[string]string) {
	t.Helper()
	mustRun(t, vars, "trigger", "--environment", "staging", "--ref", "main", "--environment-url", "https://staging.example.com")
	mustRun(t, vars, "create", "--environment", "production", "--ref", "v1.0.0")
	mustRun(t, vars, "trigger", "--environment", "staging", "--ref", "feature-x", "--state", "failure")
}

func TestList(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	vars := env(e)
	seed(t, vars)

	golden(t, e, "list-text", mustRun(t, vars, "list"))
	out := mustRun(t, vars, "list", "--json")
	golden(t, e, "list-json", out)
	var all []listedJSON
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range all {
		got = append(got, l.Environment+"/"+l.Ref+"/"+l.State)
	}
	if g := strings.Join(got, " "); g != "staging/feature-x/failure production/v1.0.0/in_progress staging/main/success" {
		t.Errorf("list = %s (newest first, latest state each)", g)
	}

	golden(t, e, "list-staging-text", mustRun(t, vars, "list", "--environment", "staging", "--limit", "1"))
	if out := mustRun(t, vars, "list", "--environment", "nowhere", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty list --json = %q, want []", out)
	}
	if out := mustRun(t, vars, "list", "--environment", "nowhere"); !strings.Contains(out, "No deployments found") {
		t.Errorf("empty list = %q", out)
	}
}

func TestDeactivateAndDelete(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			e := startEmulator(t, emulator.Config{})
			vars := env(e)
			seed(t, vars)
			var js []string
			if format == "json" {
				js = []string{"--json"}
			}
			golden(t, e, "deactivate-"+format, mustRun(t, vars, append([]string{"deactivate", "--environment", "staging"}, js...)...))
			for _, d := range e.Deployments("octo-org", "hello-world") {
				last := d.Statuses[len(d.Statuses)-1].State
				if (d.Environment == "staging") != (last == "inactive") {
					t.Errorf("deployment %d to %s is %s after deactivate staging", d.ID, d.Environment, last)
				}
			}
			golden(t, e, "delete-"+format, mustRun(t, vars, append([]string{"delete", "--environment", "staging", "--delete-environment"}, js...)...))
			deps := e.Deployments("octo-org", "hello-world")
			if len(deps) != 1 || deps[0].Environment != "production" {
				t.Errorf("after delete: %+v, want only the production deployment", deps)
			}
			for _, env := range e.Environments("octo-org", "hello-world") {
				if env == "staging" {
					t.Error("the staging environment was not deleted")
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy"}, `unknown command "deploy"`},
		{[]string{"--environment", "x"}, "unknown flag --environment"},
		{[]string{"create", "--ref", "main", "--colour"}, "unknown flag --colour (see 'deployment-action create --help')"},
		{[]string{"create", "--ref"}, "--ref needs a value"},
		{[]string{"create", "--environment", "staging"}, "missing --ref"},
		{[]string{"create", "staging", "--ref", "main"}, `unexpected argument "staging"`},
		{[]string{"status", "--state", "success"}, "missing --deployment-id"},
		{[]string{"status", "--deployment-id", "1"}, "missing --state"},
		{[]string{"finish"}, "missing --deployment-id"},
		{[]string{"deactivate"}, "missing --environment"},
		{[]string{"delete", "--delete-environment"}, "missing --environment"},
		{[]string{"list", "--limit", "lots"}, `--limit "lots"`},
		{[]string{"list", "--json=maybe"}, "--json=maybe"},
		{[]string{"help", "nope"}, `unknown command "nope"`},
	} {
		res := run(t, env(e), tc.args...)
		if res.exitCode() != 2 || !strings.Contains(errString(res.err), tc.want) {
			t.Errorf("%v: exit %d, err %v; want exit 2 and %q", tc.args, res.exitCode(), res.err, tc.want)
		}
		if strings.Contains(errString(res.err), "\n") {
			t.Errorf("%v: the usage error is not one line: %q", tc.args, res.err)
		}
	}
	if n := len(e.Requests()); n != 0 {
		t.Errorf("%d requests were sent for usage errors, want none", n)
	}
}

func TestInvalidInputSendsNothing(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	for _, tc := range []struct {
		vars map[string]string
		args []string
		want []string
	}{
		{env(e), []string{"finish", "--deployment-id", "1", "--state", "in_progress"},
			[]string{"--state in_progress is not a final state: finish sets success, failure, error or inactive (use the status command for in_progress)"}},
		{env(e), []string{"status", "--deployment-id", "1", "--state", "bogus"},
			[]string{`state "bogus" is not a deployment state: use one of error, failure, inactive, in_progress, queued, pending, success`}},
		{env(e), []string{"create", "--ref", "main", "--payload", "{bad"},
			[]string{"--payload is not valid JSON", `pass a JSON object such as {"key": "value"} or a plain string`}},
		{env(e), []string{"create", "--ref", "main", "--auto-merge=yes", "--initial-state", "done", "--environment-url", "ftp://x"},
			[]string{"3 invalid inputs", `auto-merge "yes" is not a boolean`, `initial-state "done" is not allowed`, `environment-url "ftp://x" is not an http(s) URL`}},
		{env(e), []string{"finish", "--deployment-id", "12ab"},
			[]string{`--deployment-id "12ab" is not a positive number: pass the id`}},
		{env(e, "GH_REPO", "not-a-repo"), []string{"list"},
			[]string{`repository "not-a-repo" is not of the form owner/name: set it to owner/name, for example -R octo-org/hello-world`}},
		{map[string]string{"GITHUB_API_URL": e.URL()}, []string{"list"},
			[]string{"token is empty: set GH_TOKEN (or GITHUB_TOKEN), or pass --token", "repository is empty: pass -R owner/name"}},
	} {
		res := run(t, tc.vars, tc.args...)
		if res.exitCode() != 2 { // invalid input is a usage error, like a missing flag
			t.Errorf("%v: exit %d (%v), want 2", tc.args, res.exitCode(), res.err)
		}
		for _, w := range tc.want {
			if !strings.Contains(errString(res.err), w) {
				t.Errorf("%v: error %q does not contain %q", tc.args, res.err, w)
			}
		}
		if strings.Contains(errString(res.err), "`") {
			t.Errorf("%v: the message speaks of action inputs: %q", tc.args, res.err)
		}
	}
	if n := len(e.Requests()); n != 0 {
		t.Errorf("%d requests were sent for invalid input, want none", n)
	}
}

func TestTokenAndRepositorySources(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{Tokens: map[string]emulator.Permissions{secret: {DeploymentsWrite: true}}})
	// GH_TOKEN wins over GITHUB_TOKEN, GH_REPO over GITHUB_REPOSITORY (gh's order).
	vars := env(e, "GITHUB_TOKEN", "ghp_wrong", "GITHUB_REPOSITORY", "someone/else")
	mustRun(t, vars, "trigger", "--ref", "main", "--environment", "qa")
	// --token and -R win over both.
	vars = env(e, "GH_TOKEN", "ghp_wrong", "GH_REPO", "someone/else")
	mustRun(t, vars, "trigger", "--ref", "main", "--environment", "qa", "--token", secret, "-R", repo)
	if n := len(e.Deployments("octo-org", "hello-world")); n != 2 {
		t.Errorf("%d deployments, want 2", n)
	}

	// A rejected token: exit 1, a message that names the fix for a CLI user, and no token.
	res := run(t, env(e, "GH_TOKEN", "ghp_rejected"), "list")
	msg := errString(res.err)
	if res.exitCode() != 1 || !strings.Contains(msg, "401") || !strings.Contains(msg, "--token") || strings.Contains(msg, "ghp_rejected") {
		t.Errorf("rejected token: exit %d, %q", res.exitCode(), msg)
	}
	if strings.Contains(msg, "${{") {
		t.Errorf("rejected token: the message speaks of workflows: %q", msg)
	}
}

func TestAPIURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{}, "https://api.github.com"},
		{map[string]string{"GITHUB_API_URL": "https://ghes.example.com/api/v3"}, "https://ghes.example.com/api/v3"},
		{map[string]string{"GH_HOST": "ghes.example.com"}, "https://ghes.example.com/api/v3"},
		{map[string]string{"GH_HOST": "github.com"}, "https://api.github.com"},
		{map[string]string{"GH_HOST": "octocorp.ghe.com"}, "https://api.octocorp.ghe.com"},
		// GH_HOST is an explicit choice; GITHUB_API_URL may just be inherited from a runner.
		{map[string]string{"GH_HOST": "ghes.example.com", "GITHUB_API_URL": "https://api.github.com"}, "https://ghes.example.com/api/v3"},
	} {
		if got := apiURL(func(k string) string { return tc.vars[k] }); got != tc.want {
			t.Errorf("apiURL(%v) = %s, want %s", tc.vars, got, tc.want)
		}
	}
}

// TestGHHostReachesEnterprisePath runs a command with only GH_HOST set against an emulator
// served over TLS: the requests must reach the GHES API path /api/v3/repos/... of that host.
func TestGHHostReachesEnterprisePath(t *testing.T) {
	t.Parallel()
	e := emulator.New(emulator.Config{Now: func() time.Time { return emuNow }, Logf: t.Logf,
		Tokens: map[string]emulator.Permissions{secret: {DeploymentsWrite: true}}})
	e.AddRepo(emulator.DefaultRepo())
	seen := make(chan string, 10)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case seen <- r.URL.Path:
		default:
		}
		e.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); e.Close() })
	host := strings.TrimPrefix(srv.URL, "https://")

	var out bytes.Buffer
	vars := env(nil, "GH_HOST", host, "GITHUB_API_URL", "https://api.github.com")
	r := &runner{getenv: func(k string) string { return vars[k] }, stdout: &out, stderr: &out, now: func() time.Time { return cliNow }, httpClient: srv.Client()}
	// Like gh, a GHES host's token may come from GH_ENTERPRISE_TOKEN.
	vars["GH_ENTERPRISE_TOKEN"], vars["GH_TOKEN"] = vars["GH_TOKEN"], ""
	if err := r.run(context.Background(), []string{"trigger", "--ref", "main", "--environment", "production", "--json"}); err != nil {
		t.Fatal(err)
	}
	// The first request is the lock read (contents/lock.json), then the create.
	if got := <-seen; got != "/api/v3/repos/octo-org/hello-world/contents/lock.json" {
		t.Errorf("first request went to %s, want the GHES path /api/v3/repos/octo-org/hello-world/contents/lock.json", got)
	}
	if !strings.Contains(out.String(), `"deployment_url": "https://`+host+`/api/v3/repos/octo-org/hello-world/deployments/`) {
		t.Errorf("output does not link the GHES deployment:\n%s", out.String())
	}
}

func TestAgo(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		10 * time.Second: "just now", -time.Hour: "just now", time.Minute: "1 minute ago", 59 * time.Minute: "59 minutes ago",
		3 * time.Hour: "3 hours ago", 49 * time.Hour: "2 days ago", 40 * 24 * time.Hour: "2026-02-02",
	} {
		if got := ago(now, now.Add(-d)); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestRunIsTheEntryPoint checks the exported entry point (real clock) and that nothing is
// written to stderr on its own: errors are returned for main to print.
func TestRunIsTheEntryPoint(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	var out, errb bytes.Buffer
	vars := env(e)
	err := Run(context.Background(), []string{"start", "--ref", "main", "--environment", "qa"}, func(k string) string { return vars[k] }, &out, &errb)
	if err != nil || !strings.Contains(out.String(), "Created deployment") || errb.Len() != 0 {
		t.Errorf("err %v, stdout %q, stderr %q", err, out.String(), errb.String())
	}
	err = Run(context.Background(), []string{"finish"}, func(k string) string { return vars[k] }, &out, &errb)
	if errb.Len() != 0 || err == nil {
		t.Errorf("a usage error printed %q itself (err %v)", errb.String(), err)
	}
}

// TestAPIErrorsSpeakCLI: the action's hints about workflow permissions and ${{ github.token }}
// become advice about the token a script passes.
func TestAPIErrorsSpeakCLI(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{Tokens: map[string]emulator.Permissions{secret: {DeploymentsRead: true}}})
	res := run(t, env(e), "trigger", "--ref", "main", "--environment", "qa")
	msg := errString(res.err)
	if res.exitCode() != 1 || !strings.Contains(msg, "Deployments: write (fine-grained token)") || strings.Contains(msg, "permissions:") {
		t.Errorf("403: exit %d, message %q; want the token advice for scripts", res.exitCode(), msg)
	}
	res = run(t, env(e, "GH_TOKEN", "ghp_unknownUNKNOWN"), "trigger", "--ref", "main", "--environment", "qa")
	if msg := errString(res.err); !strings.Contains(msg, "401") || strings.Contains(msg, "${{") {
		t.Errorf("401: message %q; want no workflow expression in CLI advice", msg)
	}
}

// hostileFront sits in front of the emulator: it injects workflow commands and terminal escapes
// into the deployment and status text GitHub answers with, and answers a new status with a 422
// that quotes the request's Authorization header.
func hostileFront(t *testing.T, e *emulator.Emulator) string {
	t.Helper()
	const inject = "\n::error::pwned\n##[set-output name=x;]pwned\x1b[2J"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/statuses") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(map[string]any{"message": "bad request from " + r.Header.Get("Authorization") + inject})
			return
		}
		rec := httptest.NewRecorder()
		e.Handler().ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var v any
		if json.Unmarshal(body, &v) == nil {
			poison := func(m map[string]any) {
				for _, k := range []string{"environment", "environment_url", "description", "ref"} {
					if s, ok := m[k].(string); ok {
						m[k] = s + inject
					}
				}
			}
			switch x := v.(type) {
			case map[string]any:
				poison(x)
			case []any:
				for _, e := range x {
					if m, ok := e.(map[string]any); ok {
						poison(m)
					}
				}
			}
			body, _ = json.Marshal(v)
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestOutputIsInertAndTokenFree: what GitHub answers is printed (the CLI runs in run: steps too,
// where a line starting with "::" is a workflow command): no command, no terminal escape, and
// never the token, even when the server echoes it.
func TestOutputIsInertAndTokenFree(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	created := mustRun(t, env(e), "create", "--ref", "main", "--environment", "qa")
	id := regexp.MustCompile(`deployment (\d+)`).FindStringSubmatch(created)[1]
	vars := env(nil, "GITHUB_API_URL", hostileFront(t, e))
	for _, args := range [][]string{
		{"list"},
		{"finish", "--deployment-id", id},
		{"status", "--deployment-id", id, "--state", "queued"},
	} {
		res := run(t, vars, args...) // run fails the test if the token shows anywhere
		text := res.stdout + res.stderr + errString(res.err)
		if !strings.Contains(text, "pwned") && args[0] == "list" {
			t.Errorf("%v: the hostile text never reached the output: the case tests nothing", args)
		}
		for _, c := range actionsim.ParseCommands(text) {
			t.Errorf("%v: a workflow command %q in the output (line %q)", args, c.Name, c.Line)
		}
		if strings.Contains(text, "\x1b") {
			t.Errorf("%v: a terminal escape in the output", args)
		}
		if args[0] != "list" && (res.err == nil || !strings.Contains(errString(res.err), "Bearer ***")) {
			t.Errorf("%v: err %v, want the 422 with the token redacted", args, res.err)
		}
	}
}

// TestWaitAndLatest: the CLI's wait and latest follow the action's rules and print one JSON
// object for scripts (progress goes to stderr).
func TestWaitAndLatest(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	sha := emulator.DefaultRepo().Branches["main"]
	bot, err := e.StartDeployer(emulator.Deployer{User: "vercel[bot]", Owner: "octo-org", Name: "hello-world", Ref: sha, Environment: "Preview/pr-9",
		Statuses: []emulator.DeployerStatus{{State: "pending"}, {After: 20 * time.Millisecond, State: "in_progress"},
			{After: 20 * time.Millisecond, State: "success", EnvironmentURL: "https://pr-9.preview.example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	vars := env(e, "DEPLOYMENT_ACTION_POLL_INTERVAL", "10ms")
	res := run(t, vars, "wait", "--environment", "preview/*", "--creator", "vercel[bot]", "--sha", sha, "--json")
	if res.err != nil {
		t.Fatalf("wait: %v\n%s", res.err, res.stderr)
	}
	var got struct {
		DeploymentID   int64   `json:"deployment_id"`
		State          string  `json:"state"`
		EnvironmentURL string  `json:"environment_url"`
		Creator        string  `json:"creator"`
		SHA            string  `json:"sha"`
		CreatedAt      string  `json:"created_at"`
		Waited         float64 `json:"waited_seconds"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("--json: %v\n%s", err, res.stdout)
	}
	if got.DeploymentID != bot.DeploymentID() || got.State != "success" || got.EnvironmentURL != "https://pr-9.preview.example.com" ||
		got.Creator != "vercel[bot]" || got.SHA != sha || got.CreatedAt == "" || got.Waited <= 0 {
		t.Errorf("wait --json = %+v", got)
	}
	if !strings.Contains(res.stderr, "success") {
		t.Errorf("no progress on stderr: %q", res.stderr)
	}

	out := mustRun(t, vars, "latest", "--environment", "preview/PR-9", "--json") // names are not case sensitive
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.DeploymentID != bot.DeploymentID() {
		t.Errorf("latest --json = %s (%v)", out, err)
	}
	if out := mustRun(t, vars, "latest", "--environment", "Preview/pr-9"); !strings.Contains(out, "by vercel[bot] is success") {
		t.Errorf("latest text: %q", out)
	}
	res = run(t, vars, "latest", "--environment", "qa")
	if res.exitCode() != 1 || !strings.Contains(errString(res.err), "set --allow-none to get empty outputs") {
		t.Errorf("nothing live: exit %d, %v", res.exitCode(), res.err)
	}
	if out := mustRun(t, vars, "latest", "--environment", "qa", "--allow-none", "--json"); !strings.Contains(out, `"deployment_id": 0`) {
		t.Errorf("latest --allow-none --json: %s", out)
	}
	// Bad input fails before any request, naming the input.
	e.ResetRequests()
	for flag, args := range map[string][]string{
		"--wait-timeout": {"wait", "--environment", "staging", "--sha", sha, "--wait-timeout", "-5m"},
		"--sha":          {"wait", "--environment", "staging", "--sha", "not-a-sha"},
	} {
		res := run(t, vars, args...)
		if res.exitCode() != 2 || !strings.HasPrefix(errString(res.err), "invalid input: "+flag) {
			t.Errorf("%v: exit %d, %v; want an invalid-input error naming %s", args, res.exitCode(), res.err, flag)
		}
	}
	if res := run(t, vars, "wait", "--sha", sha); res.exitCode() != 2 || !strings.Contains(errString(res.err), "--environment") {
		t.Errorf("wait without --environment: exit %d, %v", res.exitCode(), res.err)
	}
	if n := len(e.Requests()); n != 0 {
		t.Errorf("%d requests for bad input", n)
	}
}
