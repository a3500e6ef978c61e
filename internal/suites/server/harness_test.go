// Package server_test runs `deployment-action serve` (the real binary) against the emulator,
// which plays the GitHub App's side of GitHub, and the workbench's Slack stand-in. Everything
// listens on 127.0.0.1 and stops with the test.
package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/slackstub"
)

const (
	owner, repo   = "acme", "shop"
	appID         = 4242
	appSlug       = "deploy-bot"
	webhookSecret = "whsec-e2e-do-not-log"
	signingSecret = "slsec-e2e-do-not-log"
	botToken      = "xoxb-e2e-do-not-log"
	channel       = "C0SHOP"                // mapped to acme/shop
	otherChannel  = "C0RANDOM"              // not mapped
	writer        = "U0WRITER"              // alice: write
	maintainer    = "U0MAINT"               // mona: maintain
	reader        = "U0READER"              // rita: read
	stranger      = "U0NOBODY"              // not in slack.users
	deployerToken = "ghs_deployer_workflow" // the workflow on: deployment's token
)

var build struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

// binary builds the shipped binary once per test process.
func binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			build.err = err
			return
		}
		dir, err := os.MkdirTemp("", "serve-e2e-")
		if err != nil {
			build.err = err
			return
		}
		build.bin = filepath.Join(dir, "deployment-action")
		cmd := exec.Command(goBin, "build", "-o", build.bin, ".")
		cmd.Dir = testkit.Root(t)
		build.out, build.err = cmd.CombinedOutput()
	})
	if build.err != nil {
		t.Fatalf("go build: %v\n%s", build.err, build.out)
	}
	return build.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.bin != "" {
		os.RemoveAll(filepath.Dir(build.bin))
	}
	os.Exit(code)
}

// world is one emulator, one Slack, one App installed on acme/shop, and the server.
type world struct {
	t      testing.TB
	em     *emulator.Emulator
	sl     *slackstub.Slack
	key    *rsa.PrivateKey
	addr   string // the server's 127.0.0.1:port
	config string
	srv    *proc
	gh     *github.Client // the deployer's client (the workflow on: deployment)
	head   string         // main's head
}

type worldOptions struct {
	latency time.Duration // GitHub's answer time
	noStart bool
}

func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	w := &world{t: t}
	w.em = emulator.New(emulator.Config{Latency: o.latency})
	if err := w.em.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.em.Close() })
	if _, err := w.em.AddSampleRepo(owner, repo, "Organization"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.em.AddSampleRepo(owner, "other", "Organization"); err != nil {
		t.Fatal(err)
	}
	for login, role := range map[string]string{"alice": emulator.RoleWrite, "mona": emulator.RoleMaintain, "rita": emulator.RoleRead} {
		for _, r := range []string{repo, "other"} {
			if err := w.em.SetRole(owner, r, login, role); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.em.SetTokenUser(deployerToken, "github-actions[bot]")
	var err error
	if w.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	w.addr = freeAddr(t)
	if err := w.em.AddApp(emulator.AppConfig{ID: appID, Slug: appSlug, PublicKey: &w.key.PublicKey,
		WebhookURL: "http://" + w.addr + "/github/webhook", WebhookSecret: webhookSecret,
		Events: []string{"deployment", "deployment_status", "deployment_protection_rule"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.em.InstallApp(appID, owner, repo); err != nil {
		t.Fatal(err)
	}
	w.sl = slackstub.New(slackstub.Config{BotToken: botToken, SigningSecret: signingSecret})
	if err := w.sl.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.sl.Close() })
	w.config = filepath.Join(t.TempDir(), "server.yml")
	cfg := fmt.Sprintf("slack:\n  channels:\n    %s: %s/%s\n  users:\n    %s: alice\n    %s: mona\n    %s: \"@rita\"\n", channel, owner, repo, writer, maintainer, reader)
	if err := os.WriteFile(w.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	w.gh = github.NewClient(nil).WithAuthToken(deployerToken)
	w.gh.BaseURL = mustURL(w.em.URL() + "/")
	w.head = w.em.Repos()[0].Branches["main"]
	for _, r := range w.em.Repos() {
		if r.Name == repo {
			w.head = r.Branches["main"]
		}
	}
	if !o.noStart {
		w.start()
	}
	return w
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (w *world) env() []string {
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(w.key)})
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + w.t.TempDir(),
		"GITHUB_APP_ID=" + fmt.Sprint(appID), "GITHUB_APP_PRIVATE_KEY=" + string(pemKey),
		"GITHUB_WEBHOOK_SECRET=" + webhookSecret, "GITHUB_API_URL=" + w.em.URL(),
		"SLACK_SIGNING_SECRET=" + signingSecret, "SLACK_BOT_TOKEN=" + botToken, "SLACK_API_URL=" + w.sl.URL(),
		"DEPLOYMENT_SERVER_CONFIG=" + w.config,
	}
}

// proc is a running server.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan struct{}
	err    error
}

type lockedWriter struct{ p *proc }

func (l lockedWriter) Write(b []byte) (int, error) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	return l.p.stderr.Write(b)
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// start runs the binary on w.addr and waits for /healthz.
func (w *world) start() {
	w.t.Helper()
	w.srv = w.startAt(w.addr)
	w.t.Cleanup(func() { w.stop() })
}

// startAt runs one more replica on addr (the caller stops it with stopProc).
func (w *world) startAt(addr string) *proc {
	t := w.t
	t.Helper()
	p := &proc{exited: make(chan struct{})}
	p.cmd = exec.Command(binary(t), "serve", "--listen", addr)
	p.cmd.Env = w.env()
	p.cmd.Stderr = lockedWriter{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			// Ready once the start-up recovery has read the delivery log too, so tests
			// counting requests count only their own.
			if resp.StatusCode == http.StatusOK && strings.Contains(p.logs(), "protection rule: recover") {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("serve exited: %v\n%s", p.err, p.logs())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer /healthz in 20 s\n%s", p.logs())
		}
	}
}

// stop stops w.srv.
func (w *world) stop() {
	p := w.srv
	if p == nil {
		return
	}
	w.srv = nil
	w.stopProc(p)
}

// stopProc sends SIGTERM and checks the server exits cleanly in time and logged no secret.
func (w *world) stopProc(p *proc) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		w.t.Errorf("serve did not stop within 10 s of SIGTERM")
		<-p.exited
	}
	if p.err != nil {
		w.t.Errorf("serve exited with %v\n%s", p.err, p.logs())
	}
	logs := p.logs()
	for _, s := range []string{webhookSecret, signingSecret, botToken, "PRIVATE KEY", "ghs_"} {
		if strings.Contains(logs, s) {
			w.t.Errorf("the server's log shows a secret (%q)", s)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// command sends a signed slash command as user in ch and returns the immediate answer's text.
func (w *world) command(user, ch, text string, opts ...slackstub.CallOption) (int, string) {
	w.t.Helper()
	status, body, err := w.sl.SlashCommand(context.Background(), "http://"+w.addr+"/slack/commands",
		slackstub.Command{ChannelID: ch, UserID: user, Text: text}, opts...)
	if err != nil {
		w.t.Fatal(err)
	}
	var ack struct {
		Text string `json:"text"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		_ = json.Unmarshal(body, &ack)
	}
	return status, ack.Text
}

// waitFor waits (at most 20 s) for cond, woken by Slack's changes and polled for GitHub's.
func (w *world) waitFor(what string, cond func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			logs := ""
			if w.srv != nil {
				logs = w.srv.logs()
			}
			var ds []string
			for _, d := range w.em.AppDeliveries(appID) {
				ds = append(ds, fmt.Sprintf("%s/%s→%d", d.Event, d.Action, d.StatusCode))
			}
			var ms []string
			for _, m := range w.sl.Messages(channel) {
				ms = append(ms, fmt.Sprintf("%q (thread %q)", m.Text, m.ThreadTS))
			}
			w.t.Fatalf("timed out waiting for %s\nApp deliveries: %v\nmessages in %s: %v\nserver log:\n%s", what, ds, channel, ms, logs)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sees waits for a message only user sees in ch containing substr and returns its text.
func (w *world) sees(ch, user, substr string) string {
	w.t.Helper()
	var text string
	w.waitFor(fmt.Sprintf("a reply to %s in %s containing %q (they saw %q)", user, ch, substr, w.texts(ch, user)), func() bool {
		for _, e := range w.sl.Ephemerals(ch, user) {
			if strings.Contains(e.Text, substr) {
				text = e.Text
				return true
			}
		}
		return false
	})
	return text
}

func (w *world) texts(ch, user string) []string {
	var out []string
	for _, e := range w.sl.Ephemerals(ch, user) {
		out = append(out, e.Text)
	}
	return out
}

func (w *world) deployments() []emulator.Deployment { return w.em.Deployments(owner, repo) }

func (w *world) greenChecks(sha string) {
	w.t.Helper()
	if _, err := w.em.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "test", HeadSHA: sha, Status: "completed", Conclusion: "success"}); err != nil {
		w.t.Fatal(err)
	}
}

// setStatus is the workflow on: deployment reporting.
func (w *world) setStatus(id int64, state, envURL, logURL string) {
	w.t.Helper()
	req := &github.DeploymentStatusRequest{State: github.String(state)}
	if envURL != "" {
		req.EnvironmentURL = github.String(envURL)
	}
	if logURL != "" {
		req.LogURL = github.String(logURL)
	}
	if _, _, err := w.gh.Repositories.CreateDeploymentStatus(context.Background(), owner, repo, id, req); err != nil {
		w.t.Fatal(err)
	}
}

// putPolicy commits the policy file to main, which moves main's head (w.head follows).
func (w *world) putPolicy(text string) {
	w.t.Helper()
	sha, err := w.em.PutFile(owner, repo, "", ".github/deployments.yml", []byte(text))
	if err != nil {
		w.t.Fatal(err)
	}
	w.head = sha
}
