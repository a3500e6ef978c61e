package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// injection is untrusted text that would add commands, outputs or masks if it reached the log or
// a file command unescaped: new-style commands at line starts, legacy ##[ ] commands anywhere,
// stop-commands (which would switch off the action's own later commands) and a heredoc that
// would end a fixed-delimiter value early.
const injection = "\n::set-output name=x::pwned\n::error::pwned\n##[set-output name=x;]pwned\n::stop-commands::pwned\nx<<ghadelimiter_1\npwned\nghadelimiter_1\n"

// ownCommands are the only workflow commands the action prints.
var ownCommands = map[string]bool{"debug": true, "notice": true, "warning": true, "error": true, "group": true, "endgroup": true}

type leakScenario struct {
	name  string
	cfg   emulator.Config
	with  map[string]string
	local bool
	step  string // what the user's step does: "" (succeeds), "fail", "cancel"
	// setup prepares the emulator and may add inputs (such as a deployment id to finish).
	setup func(t *testing.T, a *actionsim.Action, e *emulator.Emulator) map[string]string
	// front, when set, is a handler in front of the emulator (to make GitHub answer oddly).
	front     func(t *testing.T, e *emulator.Emulator) http.Handler
	eventName string
	wantFail  bool
}

// startDeployment makes a deployment with a start job and returns its id as an input.
func startDeployment(t *testing.T, a *actionsim.Action, e *emulator.Emulator) map[string]string {
	res := runJob(t, newJob(t, a, e.URL(), map[string]string{"mode": "start", "environment": "dev"}))
	id := res.Outputs["deployment-id"]
	if id == "" {
		t.Fatalf("start: %v", res.StageErrors)
	}
	return map[string]string{"deployment-id": id}
}

// apiErrorFront answers the deployment create with a 422 whose message carries the injection,
// as a GHES or a proxy could; everything else goes to the emulator.
func apiErrorFront(_ *testing.T, e *emulator.Emulator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/deployments") {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(map[string]any{
				"message":           "Validation Failed" + injection,
				"errors":            []map[string]string{{"resource": "Deployment", "code": "custom", "field": "ref", "message": "bad ref" + injection}},
				"documentation_url": "https://docs.github.com/rest/deployments/deployments#create-a-deployment",
			})
			return
		}
		e.Handler().ServeHTTP(w, r)
	})
}

// oddResponseFront lets the emulator create the deployment but puts the injection into the
// environment and description it answers with: text from GitHub flows into outputs and summaries.
func oddResponseFront(_ *testing.T, e *emulator.Emulator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/deployments") {
			e.Handler().ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		e.Handler().ServeHTTP(rec, r)
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || rec.Code != http.StatusCreated {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		m["environment"] = "dev" + injection
		m["description"] = "odd" + injection
		m["ref"] = "main" + injection
		var b bytes.Buffer
		json.NewEncoder(&b).Encode(m)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(b.Bytes())
	})
}

// echoFront answers the create with status and a message that quotes the request's
// Authorization header, as a misbehaving proxy or server might.
func echoFront(status int) func(*testing.T, *emulator.Emulator) http.Handler {
	return func(_ *testing.T, e *emulator.Emulator) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/deployments") {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(status)
				json.NewEncoder(w).Encode(map[string]any{
					"message": "refused the request with " + r.Header.Get("Authorization"),
					"errors":  []map[string]string{{"resource": "Deployment", "field": "ref", "code": "custom", "message": "token " + r.Header.Get("Authorization")}},
				})
				return
			}
			e.Handler().ServeHTTP(w, r)
		})
	}
}

// redirectFront redirects the create to another host (localhost instead of 127.0.0.1, so another
// origin), which records the Authorization header it gets and refuses.
func redirectFront(t *testing.T, e *emulator.Emulator) http.Handler {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("the other host received Authorization %q", a)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Requires authentication"}`)
	}))
	t.Cleanup(other.Close)
	target := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/deployments") {
			http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		e.Handler().ServeHTTP(w, r)
	})
}

func leakScenarios() []leakScenario {
	sha := emulator.DefaultRepo().Branches["main"]
	payload, _ := json.Marshal(map[string]string{"note": "payload" + injection})
	return []leakScenario{
		{name: "auto success"},
		{name: "auto failing step", step: "fail"},
		{name: "auto cancelled", step: "cancel"},
		{name: "local action", local: true},
		{name: "start", with: map[string]string{"mode": "start"}},
		{name: "finish", with: map[string]string{"mode": "finish"}, setup: startDeployment},
		{name: "status", with: map[string]string{"mode": "status", "state": "queued"}, setup: startDeployment},
		{name: "status from the deployment event", with: map[string]string{"mode": "status", "state": "success"}, eventName: "deployment",
			setup: func(t *testing.T, a *actionsim.Action, e *emulator.Emulator) map[string]string {
				startDeployment(t, a, e)
				return nil
			}},
		{name: "trigger", with: map[string]string{"mode": "trigger", "environment-url": "https://app.example.com"}},
		{name: "deactivate", with: map[string]string{"mode": "deactivate", "environment": "dev"}, setup: startDeployment},
		{name: "delete", with: map[string]string{"mode": "delete", "environment": "dev", "delete-environment": "true"}, setup: startDeployment},
		{name: "401 bad credentials", cfg: emulator.Config{Tokens: map[string]emulator.Permissions{"ghs_someoneelse": {DeploymentsWrite: true, DeploymentsRead: true}}}, wantFail: true},
		{name: "403 read-only token", cfg: emulator.Config{Tokens: map[string]emulator.Permissions{canary: {DeploymentsRead: true}}}, wantFail: true},
		{name: "403 no admin to delete the environment", cfg: emulator.Config{Tokens: map[string]emulator.Permissions{canary: {DeploymentsRead: true, DeploymentsWrite: true}}},
			with: map[string]string{"mode": "delete", "environment": "dev", "delete-environment": "true"}, setup: startDeployment, wantFail: true},
		{name: "404 repository", with: map[string]string{"repository": "octo-org/missing"}, wantFail: true},
		{name: "404 deployment", with: map[string]string{"mode": "finish", "deployment-id": "999999"}, wantFail: true},
		{name: "409 required contexts", with: map[string]string{"required-contexts": "*"}, wantFail: true,
			setup: func(t *testing.T, a *actionsim.Action, e *emulator.Emulator) map[string]string {
				e.SetCommitStatus(owner, repoName, sha, "ci/test", "failure")
				return nil
			}},
		{name: "422 unknown ref", with: map[string]string{"ref": "no-such-branch"}, wantFail: true},
		{name: "202 auto-merge", with: map[string]string{"ref": "feature-x", "auto-merge": "true"}, wantFail: true},
		{name: "bad input", with: map[string]string{"mode": "sometimes", "payload": "[1]"}, wantFail: true},
		{name: "lost responses adopted", setup: func(t *testing.T, a *actionsim.Action, e *emulator.Emulator) map[string]string {
			e.AddFault(emulator.Fault{Method: "POST", PathContains: "/deployments", Match: func(r *http.Request) bool { return !strings.Contains(r.URL.Path, "/statuses") }, Kind: emulator.FaultLostResponse})
			e.AddFault(emulator.Fault{Method: "POST", PathContains: "/statuses", Kind: emulator.FaultLostResponse, Times: 2})
			return nil
		}},
		{name: "5xx and reset retried", setup: func(t *testing.T, a *actionsim.Action, e *emulator.Emulator) map[string]string {
			e.AddFault(emulator.Fault{Method: "POST", Kind: emulator.FaultStatus, Status: 502})
			e.AddFault(emulator.Fault{Method: "POST", Kind: emulator.FaultReset})
			return nil
		}},
		// Untrusted text: user inputs, GitHub's answers and its error messages.
		{name: "injection in description and payload", with: map[string]string{"description": "Deploy" + injection, "payload": string(payload),
			"environment-url": "https://app.example.com/?next=%0A::set-output%20name=x::pwned"}},
		{name: "injection in ref (rejected by GitHub)", with: map[string]string{"ref": "::error::pwned##[error]pwned"}, wantFail: true},
		{name: "injection in environment-url (rejected as input)", with: map[string]string{"environment-url": "https://app.example.com/" + injection}, wantFail: true},
		{name: "injection in task (rejected as input)", with: map[string]string{"task": "deploy" + injection}, wantFail: true},
		{name: "injection in GitHub's error message", front: apiErrorFront, wantFail: true},
		{name: "injection in GitHub's answer", front: oddResponseFront},
		// A server that echoes the token in its error message, for each error the action explains.
		{name: "token echoed in a 401", front: echoFront(401), wantFail: true},
		{name: "token echoed in a 403", front: echoFront(403), wantFail: true},
		{name: "token echoed in a 404", front: echoFront(404), wantFail: true},
		{name: "token echoed in a 409", front: echoFront(409), wantFail: true},
		{name: "token echoed in a 422", front: echoFront(422), wantFail: true},
		{name: "cross-host redirect", front: redirectFront, wantFail: true},
	}
}

// TestSecretsNeverLeak runs every scenario with a recognisable token and checks it never shows
// anywhere the job leaves text, nor in what was sent to GitHub; and that no untrusted text adds
// workflow commands, outputs, state or environment variables.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	a := loadAction(t)
	declared := map[string]bool{}
	for _, o := range a.Outputs {
		declared[o.Name] = true
	}
	for _, sc := range leakScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			e := emulatortest.Start(t, sc.cfg)
			e.SetCommitStatus(owner, repoName, emulator.DefaultRepo().Branches["main"], "ci/build", "success")
			with := map[string]string{"environment": "dev"}
			for k, v := range sc.with {
				with[k] = v
			}
			var event map[string]any
			if sc.setup != nil {
				for k, v := range sc.setup(t, a, e) {
					with[k] = v
				}
				if sc.eventName != "" {
					deps := e.Deployments(owner, repoName)
					event = map[string]any{"deployment": map[string]any{"id": deps[len(deps)-1].ID, "ref": "main"}}
				}
			}
			e.ResetRequests()
			url := e.URL()
			var fronted atomic.Int32 // requests the front answered itself or passed on
			if sc.front != nil {
				front := sc.front(t, e)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					fronted.Add(1)
					front.ServeHTTP(w, r)
				}))
				t.Cleanup(srv.Close)
				url = srv.URL
			}
			j := newJob(t, a, url, with)
			j.Local = sc.local
			j.Env["RUNNER_DEBUG"] = "1" // debug lines too: retries, adoption, look-ups
			if sc.eventName != "" {
				j.Env["GITHUB_EVENT_NAME"] = sc.eventName
				j.Event = event
			}
			step := sc.step
			j.StepsAfter = []actionsim.Step{{ID: "app", Run: func(ctx context.Context, s *actionsim.StepRun) error {
				switch step {
				case "fail":
					return fmt.Errorf("deploy script failed")
				case "cancel":
					s.Cancel()
				}
				return nil
			}}}
			res := runJob(t, j)
			if res.Failed() != sc.wantFail {
				t.Errorf("failed=%v, want %v: %v", res.Failed(), sc.wantFail, res.StageErrors)
			}

			// The token: nowhere in the job's text, nor in any request GitHub received.
			if strings.Contains(everything(res), canary) {
				t.Errorf("the token appears in the job's output, state, summary, annotations or errors")
			}
			reqs := e.Requests()
			if len(reqs) == 0 && fronted.Load() == 0 && !strings.Contains(sc.name, "input") {
				t.Errorf("no request reached the emulator (or the server in front of it): the scenario tests nothing")
			}
			for _, r := range reqs {
				if strings.Contains(string(r.Body), canary) || strings.Contains(r.Path+"?"+r.RawQuery, canary) {
					t.Errorf("the token was sent in %s %s", r.Method, r.Path)
				}
			}

			// Injection: only the action's own commands, only declared outputs, nothing named x.
			for stage, cmds := range res.Commands {
				for i, c := range cmds {
					if c.Name == "add-mask" && c.Data == canary {
						// The action masks the token itself; that must come before anything else.
						if i != 0 || !strings.HasPrefix(res.Stdout[stage], c.Line) {
							t.Errorf("%s: the token is masked only after other output (command %d)", stage, i)
						}
						continue
					}
					if !ownCommands[c.Name] || strings.HasPrefix(c.Data, "pwned") {
						t.Errorf("%s: injected command %q in line %q", stage, c.Name, c.Line)
					}
				}
			}
			for k := range res.Outputs {
				if !declared[k] {
					t.Errorf("undeclared output %q", k)
				}
			}
			for _, m := range []map[string]string{res.State, res.Env} {
				for k, v := range m {
					if k == "x" || v == "pwned" {
						t.Errorf("injected state or env %s=%q", k, v)
					}
				}
			}
			for stage, err := range res.StageErrors {
				if strings.Contains(err.Error(), "file command") {
					t.Errorf("%s: a file command broke: %v", stage, err)
				}
			}
			if strings.HasPrefix(sc.name, "injection") && !strings.Contains(everything(res), "pwned") {
				t.Errorf("the untrusted text never reached the job's log, outputs or summary: the scenario tests nothing")
			}
			if len(res.RunnerLog) > 0 {
				t.Logf("runner: %v", res.RunnerLog)
			}
		})
	}
}

// TestBinaryOutputIsInert runs the real binary (whose main prints the final error to stderr as
// well) against GitHub error messages carrying workflow commands: the runner reads commands from
// stderr too, so nothing the binary prints may start one, and the token must not show.
func TestBinaryOutputIsInert(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary; the full tier runs it (TestSecretsNeverLeak checks the same scenarios in-process)")
	}
	t.Parallel()
	bin := buildStages(t)
	e := emulatortest.Start(t, emulator.Config{Logf: quiet})
	srv := httptest.NewServer(apiErrorFront(t, e))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name   string
		inputs map[string]string
	}{
		// main.go prints the error to stderr, which the runner also reads commands from.
		{"GitHub's error message", map[string]string{"mode": "trigger", "environment": "dev"}},
		{"bad inputs", map[string]string{"mode": "trigger", "environment": "dev", "environment-url": "https://x.example.com/" + injection, "task": "x" + injection}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]string{"token": canary}
			for k, v := range tc.inputs {
				in[k] = v
			}
			p := startStage(t, bin, "main", srv.URL, in, nil)
			if code := p.wait(t, 30*time.Second); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			out, errOut := p.stdout.String(), p.stderr.String()
			if !strings.Contains(out+errOut, "pwned") {
				t.Fatalf("the untrusted text never reached the output: the case tests nothing\nstdout:\n%s\nstderr:\n%s", out, errOut)
			}
			for name, text := range map[string]string{"stdout": out, "stderr": errOut} {
				if strings.Contains(strings.ReplaceAll(text, "::add-mask::"+canary, ""), canary) {
					t.Errorf("the token appears in %s", name)
				}
				for _, c := range actionsim.ParseCommands(text) {
					if c.Name == "add-mask" && c.Data == canary {
						continue
					}
					if !ownCommands[c.Name] || strings.HasPrefix(c.Data, "pwned") {
						t.Errorf("%s: injected command %q from line %q", name, c.Name, c.Line)
					}
				}
			}
			outs := p.file(t, "GITHUB_OUTPUT")
			for k := range outs {
				if k == "x" || k == "deployment-id" {
					t.Errorf("output %s=%q after a failed create", k, outs[k])
				}
			}
		})
	}
}
