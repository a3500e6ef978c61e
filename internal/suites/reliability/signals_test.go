package reliability

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// buildStages builds the real binary and links it as pre, main and post (as the image does), so
// argv[0] picks the stage. It returns the directory holding the links.
func buildStages(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "deployment-action")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	cmd.Dir = testkit.Root(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, s := range []string{"pre", "main", "post"} {
		if err := os.Symlink(bin, filepath.Join(dir, s)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// stageProc is one stage run as a subprocess with the runner's environment.
type stageProc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	files          map[string]string // GITHUB_STATE etc.
	started        time.Time
	exited         chan struct{} // closed once the process has exited and its output is complete
	err            error         // cmd.Wait's result, once exited is closed
}

func startStage(t *testing.T, binDir, stage, apiURL string, inputs, state map[string]string) *stageProc {
	t.Helper()
	work := t.TempDir()
	env := actionsim.DefaultEnv(apiURL)
	env["GITHUB_REPOSITORY"] = owner + "/" + repoName
	env["GITHUB_REPOSITORY_OWNER"] = owner
	env["GITHUB_SHA"] = emulator.DefaultRepo().Branches["main"]
	env["GITHUB_EVENT_PATH"] = filepath.Join(work, "event.json")
	env["HOME"] = work
	env["PATH"] = os.Getenv("PATH")
	p := &stageProc{files: map[string]string{}, exited: make(chan struct{})}
	for _, name := range []string{"GITHUB_STATE", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"} {
		f := filepath.Join(work, strings.ToLower(name))
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		env[name], p.files[name] = f, f
	}
	if err := os.WriteFile(env["GITHUB_EVENT_PATH"], []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The runner exports every declared input, with action.yml's default when not given (the
	// expression defaults as the runner would evaluate them here).
	for _, in := range testkit.Action(t).Inputs {
		if !strings.Contains(in.Default, "${{") {
			env[actionsim.InputEnvName(in.Name)] = in.Default
		}
	}
	env[actionsim.InputEnvName("repository")] = env["GITHUB_REPOSITORY"]
	env[actionsim.InputEnvName("job-status")] = "success"
	for k, v := range inputs {
		env[actionsim.InputEnvName(k)] = v
	}
	for k, v := range state {
		env["STATE_"+k] = v
	}
	p.cmd = exec.Command(filepath.Join(binDir, stage))
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// wait returns the exit code, or fails the test if the stage is still running after d.
func (p *stageProc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.exited:
		var ee *exec.ExitError
		if errors.As(p.err, &ee) {
			return ee.ExitCode()
		}
		if p.err != nil {
			t.Fatalf("stage: %v", p.err)
		}
		return 0
	case <-timer.C:
		p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("the stage was still running %s later; stdout:\n%s\nstderr:\n%s", d, p.stdout.String(), p.stderr.String())
		return -1
	}
}

func (p *stageProc) file(t *testing.T, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(p.files[name])
	if err != nil {
		t.Fatal(err)
	}
	m, err := actionsim.ParseFileCommandMap(string(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// onArrival is a Fault.Match that accepts every request the fault's other fields select and
// closes the channel at the first: the moment the request reached the emulator, before it is
// handled and before the fault's delay.
func onArrival() (func(*http.Request) bool, <-chan struct{}) {
	ch := make(chan struct{})
	var once sync.Once
	return func(*http.Request) bool {
		once.Do(func() { close(ch) })
		return true
	}, ch
}

// holdAnswers serves e through a front on 127.0.0.1: the emulator handles the requests match
// selects at once (their change is made, and made is closed at the first) and the front holds
// their answer back for d, or until the client hangs up. It returns the front's URL.
func holdAnswers(t *testing.T, e *emulator.Emulator, match func(*http.Request) bool, d time.Duration) (string, <-chan struct{}) {
	t.Helper()
	made := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !match(r) {
			e.Handler().ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		e.Handler().ServeHTTP(rec, r)
		once.Do(func() { close(made) })
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv.URL, made
}

// await waits for ch to close while the stage p runs; d only bounds a test that went wrong.
func await(t *testing.T, p *stageProc, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
	case <-p.exited:
		t.Fatalf("the stage ended (%v) before %s; stdout:\n%s\nstderr:\n%s", p.err, what, p.stdout.String(), p.stderr.String())
	case <-timer.C:
		t.Fatalf("timed out after %s waiting for %s", d, what)
	}
}

func isCreate(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/deployments")
}

// TestSignals sends the runner's cancellation signal (SIGINT) to the real binary in the middle of
// requests: pre must stop quickly yet leave post able to find the deployment it was creating, and
// post must use its grace period so the final state it is setting lands.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary and waits out post's grace after SIGINT; the full tier runs it")
	}
	t.Parallel()
	bin := buildStages(t)
	inputs := map[string]string{"token": canary, "environment": "signals", "job-status": "success"}

	t.Run("interrupted create is finished by post", func(t *testing.T) {
		t.Parallel()
		e := emulatortest.Start(t, emulator.Config{Logf: quiet})
		// The create is made at once; its answer comes 10 s later: the signal arrives in between.
		url, made := holdAnswers(t, e, isCreate, 10*time.Second)
		pre := startStage(t, bin, "pre", url, inputs, nil)
		await(t, pre, made, 10*time.Second, "the create to be made")
		sent := time.Now()
		if err := pre.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		code := pre.wait(t, 2*time.Second)
		took := time.Since(sent)
		t.Logf("signals: pre exited %d, %dms after SIGINT mid-create", code, took.Milliseconds())
		if code == 0 {
			t.Errorf("pre exited 0 after being interrupted; stdout:\n%s", pre.stdout.String())
		}
		state := pre.file(t, "GITHUB_STATE")
		if state["request-id"] == "" {
			t.Fatalf("no request-id in the state after the interrupted create: %v", state)
		}
		if state["deployment-id"] != "" {
			t.Errorf("pre saved a deployment id %s although it never got the answer", state["deployment-id"])
		}

		postIn := map[string]string{}
		for k, v := range inputs {
			postIn[k] = v
		}
		postIn["job-status"] = "cancelled"
		post := startStage(t, bin, "post", e.URL(), postIn, state)
		if code := post.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("post exited %d; stdout:\n%s\nstderr:\n%s", code, post.stdout.String(), post.stderr.String())
		}
		deps := e.Deployments(owner, repoName)
		if len(deps) != 1 {
			t.Fatalf("%d deployments, want the one pre was creating", len(deps))
		}
		if got := states(deps[0]); strings.Join(got, ",") != "error" {
			t.Errorf("states %v, want [error] (the default cancelled-state)", got)
		}
		summary, _ := os.ReadFile(post.files["GITHUB_STEP_SUMMARY"])
		if !strings.Contains(string(summary), "recovered") {
			t.Errorf("post's summary does not say the deployment was recovered: %q", summary)
		}
	})

	t.Run("post keeps going after SIGINT until its final state lands", func(t *testing.T) {
		t.Parallel()
		e := emulatortest.Start(t, emulator.Config{Logf: quiet})
		pre := startStage(t, bin, "pre", e.URL(), inputs, nil)
		if code := pre.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("pre exited %d: %s", code, pre.stdout.String())
		}
		state := pre.file(t, "GITHUB_STATE")
		id := state["deployment-id"]
		if id == "" {
			t.Fatalf("pre saved no deployment id: %v", state)
		}
		statusPath := fmt.Sprintf("/deployments/%s/statuses", id)
		arrived, reached := onArrival()
		e.AddFault(emulator.Fault{Method: "POST", PathContains: statusPath, Match: arrived, Kind: emulator.FaultLatency, Delay: 3 * time.Second})
		state["main-ran"] = "1" // the job went on to the step (main) before ending
		post := startStage(t, bin, "post", e.URL(), inputs, state)
		await(t, post, reached, 10*time.Second, "the final status to reach the emulator")
		if err := post.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		code := post.wait(t, 8*time.Second)
		took := time.Since(post.started)
		t.Logf("signals: post exited %d, %dms after it started (SIGINT as the final status reached GitHub, its answer 3s later)", code, took.Milliseconds())
		if code != 0 || took > 6*time.Second {
			t.Errorf("post exited %d after %s, want 0 within 6s; stdout:\n%s\nstderr:\n%s", code, took, post.stdout.String(), post.stderr.String())
		}
		deps := e.Deployments(owner, repoName)
		if got := states(deps[0]); strings.Join(got, ",") != "in_progress,success" {
			t.Errorf("states %v, want [in_progress success]", got)
		}
		answered := false
		for _, r := range e.Requests() {
			if r.Method == "POST" && strings.HasSuffix(r.Path, statusPath) && r.Status == http.StatusCreated {
				answered = true
			}
		}
		if !answered {
			t.Errorf("post hung up on the final status instead of waiting for GitHub's answer: %+v", e.Requests())
		}
	})

	t.Run("post gives up after its grace, before the runner's SIGTERM", func(t *testing.T) {
		t.Parallel()
		e := emulatortest.Start(t, emulator.Config{Logf: quiet})
		pre := startStage(t, bin, "pre", e.URL(), inputs, nil)
		if code := pre.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("pre exited %d: %s", code, pre.stdout.String())
		}
		state := pre.file(t, "GITHUB_STATE")
		// GitHub does not answer the final status for 20 s: longer than any grace.
		arrived, reached := onArrival()
		e.AddFault(emulator.Fault{Method: "POST", PathContains: "/statuses", Match: arrived, Kind: emulator.FaultLatency, Delay: 20 * time.Second})
		state["main-ran"] = "1" // the job went on to the step (main) before ending
		post := startStage(t, bin, "post", e.URL(), inputs, state)
		await(t, post, reached, 10*time.Second, "the final status to reach the emulator")
		sent := time.Now()
		if err := post.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		code := post.wait(t, 10*time.Second)
		took := time.Since(sent)
		t.Logf("signals: post exited %d, %dms after SIGINT with no answer coming", code, took.Milliseconds())
		// The runner sends SIGTERM 7.5 s after SIGINT and kills 2.5 s later: post must end on
		// its own before that, and say it failed rather than claim success.
		if took > 7*time.Second || took < 4*time.Second {
			t.Errorf("post ended %s after SIGINT, want after its ~5 s grace and before 7.5 s", took)
		}
		if code == 0 {
			t.Errorf("post exited 0 without an answer from GitHub; stdout:\n%s", post.stdout.String())
		}
	})
}
