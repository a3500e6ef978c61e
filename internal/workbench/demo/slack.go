package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deployment-action/deployment-action/internal/cli"
	"github.com/deployment-action/deployment-action/internal/server"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/slackstub"
)

// The Slack scene's cast: fixed so its output reads the same on every run. The secrets are the
// demo's own and must never show in the server's log.
const (
	slackAppID         = 4711
	slackAppSlug       = "deploy-bot"
	slackWebhookSecret = "whsec-demo-never-logged"
	slackSigning       = "slsec-demo-never-logged"
	slackBotToken      = "xoxb-demo-never-logged"
	slackChannel       = "C0DEPLOYS" // mapped to the demo's repository
	slackWriter        = "U0ALICE"   // alice: write
	slackReader        = "U0RITA"    // rita: read
	deployerRunID      = "1658821507"
	slackEnv           = "production" // what alice deploys; --fail production fails its deploy step
)

// slackWorld is the scene's machinery: the Slack stand-in, the App server in-process, and the
// receiver that starts the workflow on: deployment.
type slackWorld struct {
	sl     *slackstub.Slack
	addr   string // the server's 127.0.0.1:port
	runner *deploymentHook
	logs   *syncBuffer
	stop   func() error // stops the server and waits for it
}

// playSlack is issue 21's whole loop: a slash command in a channel mapped to the repository
// posts the message and creates the deployment as the App; GitHub's deployment webhook starts
// the workflow on: deployment (testdata/workflows/deployer.yml), whose action steps report
// in_progress and then success; each status comes back to the server as a webhook and updates
// the message, and the final one is replied in its thread. A reader's command is refused.
func playSlack(ctx context.Context, st *Stage) (*SceneReport, error) {
	r := &SceneReport{}
	em, rep := st.Emulator, st.Report
	owner, name, _ := strings.Cut(rep.Repository, "/")
	head := rep.SHA
	for login, role := range map[string]string{"alice": emulator.RoleWrite, "rita": emulator.RoleRead} {
		if err := em.SetRole(owner, name, login, role); err != nil {
			return nil, err
		}
	}
	// The commit a bare /deploy takes (the default branch's head) passed CI.
	if _, err := em.CreateCheckRun(owner, name, emulator.CheckRun{Name: "ci", HeadSHA: head, Status: "completed", Conclusion: "success"}); err != nil {
		return nil, err
	}
	w, err := startSlackWorld(ctx, em, rep.Repository)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := w.stop(); err != nil {
			r.problem("the server stopped with %v", err)
		}
		for _, s := range []string{slackWebhookSecret, slackSigning, slackBotToken, "PRIVATE KEY", "ghs_"} {
			if strings.Contains(w.logs.String(), s) {
				r.problem("the server's log shows a secret (%q)", s[:4]+"…")
			}
		}
	}()
	r.line("App %s (id %d) installed on %s; the server runs in-process (Slack stand-in for the Web API)", slackAppSlug, slackAppID, rep.Repository)
	r.line("config: slack.channels %s: %s; slack.users %s: alice (write), %s: rita (read)", slackChannel, rep.Repository, slackWriter, slackReader)

	before := len(em.Deployments(owner, name))
	want := "success"
	if st.Config.Fail == slackEnv {
		want = "failure"
	}
	ack, err := w.command(ctx, slackWriter, slackEnv)
	if err != nil {
		return nil, err
	}
	r.line("")
	r.line("alice types:  /deploy %s", slackEnv)
	r.line("ack (only alice sees it, within Slack's 3 s): %s", slackText(ack))

	ev, err := w.runner.next(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for the deployment webhook: %w", err)
	}
	d := ev.Deployment
	var msg slackstub.Message
	if err := w.wait(ctx, func() bool {
		ms := w.sl.Messages(slackChannel)
		if len(ms) == 0 {
			return false
		}
		msg = ms[0]
		// The server shows the deployment once it exists (GitHub takes seconds to start a
		// workflow, so the job below would come after this in real life too).
		return strings.Contains(msg.Text, "waiting for a workflow")
	}); err != nil {
		return nil, fmt.Errorf("waiting for the channel message: %w", err)
	}
	r.line("channel message as posted: %s", slackText(msg.History[0]))
	if e, err := w.ephemeral(ctx, slackWriter, "follow it in the channel"); err == nil {
		r.line("then alice sees: %s", slackText(e))
	} else {
		r.problem("alice was not told the deploy started: %v", err)
	}
	r.line("GitHub sends deployment (deployment %d, %s to %s, created by %s): the workflow on: deployment runs", d.ID, short(d.SHA), d.Environment, d.Creator.Login)

	res, during, err := runDeployer(ctx, st, w, ev)
	if err != nil {
		return nil, err
	}
	r.line("  deployer job %s: status in_progress; deploy step %s (the message meanwhile: %s); %s", res.JobStatus, res.DeployStep, slackText(firstLine(during, 1)), res.Final)

	var thread []slackstub.Message
	if err := w.wait(ctx, func() bool {
		thread = w.sl.Thread(slackChannel, msg.TS)
		return len(thread) == 2 && strings.Contains(thread[0].Text, want)
	}); err != nil {
		r.problem("the message did not reach %s with a thread reply: %v (thread %d messages)", want, err, len(thread))
		return r, nil
	}
	final := thread[0]
	r.line("the message, each version (chat.postMessage, then chat.update):")
	for i, v := range final.History {
		r.line("  %d. %s", i+1, slackText(v))
	}
	r.line("  its links:")
	for _, l := range slackLinks(final.Text) {
		r.line("    %s", l)
	}
	r.line("thread reply: %s", slackText(thread[1].Text))

	// A reader is refused, and nothing is created.
	ack, err = w.command(ctx, slackReader, slackEnv)
	if err != nil {
		return nil, err
	}
	r.line("")
	r.line("rita types:   /deploy %s", slackEnv)
	r.line("ack: %s", slackText(ack))
	refusal, err := w.ephemeral(ctx, slackReader, "needs the write role")
	if err != nil {
		r.problem("rita's command was not refused: %v (she saw %q)", err, w.ephemerals(slackReader))
	} else {
		r.line("then only rita sees: %s", slackText(refusal))
	}

	// What a user would notice if it went wrong.
	deps := em.Deployments(owner, name)
	var mine *emulator.Deployment
	for i := range deps {
		if deps[i].ID == d.ID {
			mine = &deps[i]
		}
	}
	var states []string
	if mine != nil {
		for _, s := range mine.Statuses {
			states = append(states, s.State)
		}
	}
	switch {
	case len(deps) != before+1:
		r.problem("%d deployments were created, want 1 (alice's; rita's is refused)", len(deps)-before)
	case mine == nil || mine.SHA != head || mine.Environment != slackEnv || mine.Creator != slackAppSlug+"[bot]":
		r.problem("deployment %+v: want %s in %s, created by %s[bot]", mine, head, slackEnv, slackAppSlug)
	case strings.Join(states, ",") != "in_progress,"+want:
		r.problem("deployment %d statuses %v, want in_progress then %s", d.ID, states, want)
	}
	envURL := "https://" + slackEnv + ".example.com"
	switch {
	case want == "success" && (!strings.Contains(final.Text, ":white_check_mark: success") || !strings.Contains(final.Text, envURL)):
		r.problem("the message's last version does not show success with the environment URL: %q", final.Text)
	case want == "success" && !strings.Contains(thread[1].Text, "is live in *"+slackEnv+"*"):
		r.problem("thread reply %q, want one saying it is live in %s", thread[1].Text, slackEnv)
	case want == "failure" && (!strings.Contains(final.Text, ":x: failure") || strings.Contains(final.Text, envURL)):
		r.problem("the message's last version does not show the failure (and no environment URL): %q", final.Text)
	case want == "failure" && !strings.Contains(thread[1].Text, "ended in failure"):
		r.problem("thread reply %q, want one saying the deploy ended in failure", thread[1].Text)
	}
	if !strings.Contains(slackText(during), "in progress") {
		r.problem("during the deploy step the message read %q, want in progress", during)
	}
	if n := len(w.sl.Messages(slackChannel)); n != 2 {
		r.problem("%d messages in the channel, want the one message and its thread reply", n)
	}
	return r, nil
}

// startSlackWorld starts the Slack stand-in and the App server in-process, then registers the
// App (its webhook is the server's /github/webhook) and installs it on the repository, and
// subscribes the workflow runner to deployment events.
func startSlackWorld(ctx context.Context, em *emulator.Emulator, full string) (*slackWorld, error) {
	owner, name, _ := strings.Cut(full, "/")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("App key: %w", err)
	}
	w := &slackWorld{logs: &syncBuffer{}}
	w.sl = slackstub.New(slackstub.Config{BotToken: slackBotToken, SigningSecret: slackSigning})
	if err := w.sl.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("slack stand-in: %w", err)
	}
	if w.runner, err = startDeploymentHook(hookSecret); err != nil {
		w.sl.Close()
		return nil, err
	}
	em.AddHook(w.runner.url(), hookSecret, "deployment")

	ready := make(chan error, 1)
	opts, err := cli.ServerOptions(cli.AppServer{
		Listen: "127.0.0.1:0", AppID: strconv.Itoa(slackAppID), WebhookSecret: slackWebhookSecret, APIURL: em.URL(),
		PrivateKeyPEM:      string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		SlackSigningSecret: slackSigning, SlackBotToken: slackBotToken, SlackAPIURL: w.sl.URL(),
		SlackChannels: map[string]string{slackChannel: full},
		SlackUsers:    map[string]string{slackWriter: "alice", slackReader: "rita"},
		Log:           slog.New(slog.NewJSONHandler(w.logs, nil)),
		// The App is registered as soon as the address is known, before the server's start-up
		// work (the protection rule's recovery from the App's delivery log) runs.
		Ready: func(addr string) {
			w.addr = addr
			err := em.AddApp(emulator.AppConfig{ID: slackAppID, Slug: slackAppSlug, PublicKey: &key.PublicKey,
				WebhookURL: "http://" + addr + "/github/webhook", WebhookSecret: slackWebhookSecret,
				Events: []string{"deployment", "deployment_status", "deployment_protection_rule"}})
			if err == nil {
				_, err = em.InstallApp(slackAppID, owner, name)
			}
			ready <- err
		},
	})
	if err != nil {
		w.sl.Close()
		w.runner.close()
		return nil, fmt.Errorf("server: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- server.Serve(sctx, opts) }()
	w.stop = func() error {
		cancel()
		err := <-done
		w.runner.close()
		w.sl.Close()
		return err
	}
	select {
	case err := <-ready:
		if err != nil {
			_ = w.stop()
			return nil, fmt.Errorf("App: %w", err)
		}
	case err := <-done:
		w.runner.close()
		w.sl.Close()
		return nil, fmt.Errorf("server: %w", err)
	case <-ctx.Done():
		_ = w.stop()
		return nil, ctx.Err()
	}
	return w, nil
}

// command sends a signed slash command in the channel and returns the immediate answer's text.
func (w *slackWorld) command(ctx context.Context, user, text string) (string, error) {
	status, body, err := w.sl.SlashCommand(ctx, "http://"+w.addr+"/slack/commands", slackstub.Command{ChannelID: slackChannel, UserID: user, Text: text})
	if err != nil {
		return "", fmt.Errorf("slash command: %w", err)
	}
	var ack struct {
		Text string `json:"text"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &ack); err != nil {
			return "", fmt.Errorf("slash command answer %q: %w", body, err)
		}
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("slash command answered %d %s", status, body)
	}
	return ack.Text, nil
}

// wait waits for cond over Slack's state, woken by each change, for at most 10 s: every step
// of the loop takes milliseconds here.
func (w *slackWorld) wait(ctx context.Context, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return w.sl.WaitFor(ctx, cond)
}

// ephemeral waits for a message only user sees in the channel containing substr.
func (w *slackWorld) ephemeral(ctx context.Context, user, substr string) (string, error) {
	var text string
	err := w.wait(ctx, func() bool {
		for _, e := range w.sl.Ephemerals(slackChannel, user) {
			if strings.Contains(e.Text, substr) {
				text = e.Text
				return true
			}
		}
		return false
	})
	return text, err
}

func (w *slackWorld) ephemerals(user string) []string {
	var out []string
	for _, e := range w.sl.Ephemerals(slackChannel, user) {
		out = append(out, e.Text)
	}
	return out
}

// deployerResult is what the workflow on: deployment did.
type deployerResult struct {
	JobStatus  string
	DeployStep string // the deploy step's outcome
	Final      string // what the last use of the action reported
}

// runDeployer runs testdata/workflows/deployer.yml's job for the deployment event ev, on the
// runner simulation: the action (mode status, state in_progress), then checkout and the deploy
// step, then, if all went well, the action again (mode status, state success, the environment
// URL), else with state failure. Each use of the action is its own pre/main/post, as the runner
// runs each step's stages; all three share the job (its check run and log). during is the
// channel message while the deploy step ran.
func runDeployer(ctx context.Context, st *Stage, w *slackWorld, ev deploymentEvent) (deployerResult, string, error) {
	d := ev.Deployment
	var during string
	steps := deployerUses()
	first := st.Job(steps.start)
	checkRun := first.Contexts.CheckRunID
	uses := []*actionsim.Job{first}
	first.StepsAfter = []actionsim.Step{
		{ID: "checkout", Run: func(context.Context, *actionsim.StepRun) error { return nil }}, // actions/checkout at deployment.sha
		{ID: "deploy", Run: func(ctx context.Context, s *actionsim.StepRun) error {
			// ./deploy.sh production: the message already says in progress.
			if err := w.wait(ctx, func() bool {
				ms := w.sl.Messages(slackChannel)
				if len(ms) > 0 && strings.Contains(ms[0].Text, "in progress") {
					during = ms[0].Text
					return true
				}
				return false
			}); err != nil {
				return err
			}
			if d.Environment == st.Config.Fail {
				return fmt.Errorf("./deploy.sh %s failed (--fail %s)", d.Environment, st.Config.Fail)
			}
			return nil
		}},
	}
	res := deployerResult{JobStatus: "success"}
	for i := 0; i < len(uses); i++ {
		j := uses[i]
		for k, v := range map[string]string{
			"GITHUB_EVENT_NAME": "deployment", "GITHUB_SHA": d.SHA, "GITHUB_REF": "", "GITHUB_REF_NAME": "", "GITHUB_REF_TYPE": "",
			"GITHUB_WORKFLOW": "Deployer", "GITHUB_RUN_ID": deployerRunID, "GITHUB_JOB": "deploy",
			"GITHUB_WORKFLOW_REF": st.Report.Repository + "/.github/workflows/deployer.yml@refs/heads/" + st.Report.Ref,
			"GITHUB_ACTOR":        d.Creator.Login, "GITHUB_TRIGGERING_ACTOR": d.Creator.Login,
		} {
			j.Env[k] = v
		}
		j.Contexts.CheckRunID = checkRun
		j.Event = ev.raw
		out, err := j.Run(ctx)
		if err != nil {
			return res, during, fmt.Errorf("deployer job: %w", err)
		}
		if out.JobStatus != "success" {
			res.JobStatus = out.JobStatus
		}
		if i == 0 {
			res.DeployStep = out.Steps["deploy"].Outcome
			with := steps.success // if: success()
			if out.JobStatus != "success" {
				with = steps.failure // if: failure() || cancelled()
			}
			uses = append(uses, newJob(st.Config, st.Report, 0, with))
		} else {
			res.Final = fmt.Sprintf("status %s", j.With["state"])
			if u := out.Outputs["environment-url"]; u != "" {
				res.Final += ", environment-url " + u
			}
			if out.JobStatus != "success" {
				res.Final += fmt.Sprintf(" (the step %s: %v)", out.JobStatus, out.StageErrors)
			}
		}
	}
	return res, during, nil
}

// deployerSteps are the with: of deployer.yml's three uses of the action.
type deployerSteps struct{ start, success, failure map[string]string }

// deployerUses is testdata/workflows/deployer.yml's uses of the action (a test holds them to
// the file).
func deployerUses() deployerSteps {
	return deployerSteps{
		start:   map[string]string{"mode": "status", "state": "in_progress"},
		success: map[string]string{"mode": "status", "state": "success", "environment-url": "https://${{ github.event.deployment.environment }}.example.com"},
		failure: map[string]string{"mode": "status", "state": "failure"},
	}
}

// deploymentEvent is a deployment webhook's payload.
type deploymentEvent struct {
	Deployment struct {
		ID          int64  `json:"id"`
		SHA         string `json:"sha"`
		Environment string `json:"environment"`
		Creator     struct {
			Login string `json:"login"`
		} `json:"creator"`
	} `json:"deployment"`
	raw map[string]any
}

// deploymentHook plays GitHub Actions' side of a deployment event: a webhook receiver (signed
// deliveries only) that queues each deployment for the workflow on: deployment.
type deploymentHook struct {
	secret string
	srv    *http.Server
	ln     net.Listener
	done   chan struct{}
	events chan deploymentEvent
}

func startDeploymentHook(secret string) (*deploymentHook, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("workflow runner: %w", err)
	}
	h := &deploymentHook{secret: secret, ln: ln, done: make(chan struct{}), events: make(chan deploymentEvent, 16)}
	h.srv = &http.Server{Handler: http.HandlerFunc(h.serveHTTP), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(h.done)
		_ = h.srv.Serve(ln) // ends with ErrServerClosed on close
	}()
	return h, nil
}

func (h *deploymentHook) url() string {
	return "http://" + h.ln.Addr().String() + "/actions/deployment"
}

func (h *deploymentHook) close() {
	_ = h.srv.Close()
	<-h.done
}

func (h *deploymentHook) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 25<<20))
	if err != nil || !verify(h.secret, body, r.Header.Get("X-Hub-Signature-256")) {
		http.Error(w, "signature mismatch", http.StatusUnauthorized)
		return
	}
	if r.Header.Get("X-GitHub-Event") != "deployment" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var ev deploymentEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "payload", http.StatusBadRequest)
		return
	}
	if err := json.Unmarshal(body, &ev.raw); err != nil {
		http.Error(w, "payload", http.StatusBadRequest)
		return
	}
	select {
	case h.events <- ev:
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "queue full", http.StatusServiceUnavailable)
	}
}

// next waits for the next deployment event.
func (h *deploymentHook) next(ctx context.Context) (deploymentEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case ev := <-h.events:
		return ev, nil
	case <-ctx.Done():
		return deploymentEvent{}, errors.New("no deployment webhook within 10 s")
	}
}

var (
	slackLink    = regexp.MustCompile(`<(https?://[^|>]+)\|([^>]*)>`)
	slackMention = regexp.MustCompile(`<@([A-Z0-9]+)>`)
)

// slackText is a message as Slack shows it, on one line: links by their labels, mentions by
// name, the emoji codes kept.
func slackText(s string) string {
	s = slackLink.ReplaceAllString(s, "$2")
	s = slackMention.ReplaceAllStringFunc(s, func(m string) string {
		switch id := m[2 : len(m)-1]; id {
		case slackWriter:
			return "@alice"
		case slackReader:
			return "@rita"
		default:
			return "@" + id
		}
	})
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " / ")), " ")
}

// slackLinks are a message's links as label → URL.
func slackLinks(s string) []string {
	var out []string
	for _, m := range slackLink.FindAllStringSubmatch(s, -1) {
		if m[2] != m[1] {
			out = append(out, m[2]+": "+m[1])
		}
	}
	return out
}

// firstLine is the n-th line of s (0-based), or s when it has fewer.
func firstLine(s string, n int) string {
	ls := strings.Split(s, "\n")
	if n < len(ls) {
		return ls[n]
	}
	return s
}

// syncBuffer is the server's log, written from its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
