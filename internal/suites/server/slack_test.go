package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/slackstub"
)

// The whole loop: /deploy in a mapped channel posts the message, creates the deployment as the
// App with the message in its payload, the workflow's statuses update that message, and the
// final one is replied in its thread.
func TestSlackDeployLoop(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.greenChecks(w.head)
	w.em.ResetRequests()
	status, ack := w.command(writer, channel, "production")
	if status != http.StatusOK || !strings.Contains(ack, "Checking acme/shop (default branch) for `production`") {
		t.Fatalf("ack %d %q", status, ack)
	}
	w.waitFor("the deployment", func() bool { return len(w.deployments()) == 1 })
	d := w.deployments()[0]
	if d.SHA != w.head || d.Environment != "production" || d.Creator != appSlug+"[bot]" {
		t.Fatalf("deployment %+v: want main's head %s in production, created by the App's bot", d, w.head)
	}
	msgs := w.sl.Messages(channel)
	if len(msgs) != 1 {
		t.Fatalf("channel messages: %+v", msgs)
	}
	origin, _ := d.Payload.(map[string]any)["slack"].(map[string]any)
	if origin["channel"] != channel || origin["ts"] != msgs[0].TS || origin["login"] != "alice" {
		t.Fatalf("the payload's slack object %v does not name message %s in %s", origin, msgs[0].TS, channel)
	}
	w.waitFor("the message to show the deployment", func() bool {
		return strings.Contains(w.sl.Messages(channel)[0].Text, "waiting for a workflow")
	})
	w.sees(channel, writer, "follow it in the channel")
	// What one /deploy costs in GitHub requests (docs/server.md): the App's installation and
	// token (first use only), the ref, the policy file, the role, the lock, the checks, the
	// replay guard, the create, and its status before the message says "waiting".
	var calls []string
	for _, r := range w.em.Requests() {
		calls = append(calls, r.Method+" "+r.Path)
	}
	t.Logf("a /deploy made %d GitHub requests: %v", len(calls), calls)
	if len(calls) > 12 {
		t.Errorf("a /deploy made %d GitHub requests, want at most 12: %v", len(calls), calls)
	}

	w.setStatus(d.ID, "in_progress", "", "https://ci.example/run/1")
	w.waitFor("in progress", func() bool { return strings.Contains(w.sl.Messages(channel)[0].Text, "in progress") })
	w.setStatus(d.ID, "success", "https://shop.example.com", "https://ci.example/run/1")
	w.waitFor("success and the thread reply", func() bool {
		return strings.Contains(w.sl.Messages(channel)[0].Text, "success") && len(w.sl.Thread(channel, msgs[0].TS)) == 2
	})
	m := w.sl.Messages(channel)[0]
	for _, want := range []string{"<@U0WRITER> deployed", "https://shop.example.com", "|log>", "/deployments/production|deployment"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the final message lacks %q:\n%s", want, m.Text)
		}
	}
	if reply := w.sl.Thread(channel, msgs[0].TS)[1].Text; !strings.Contains(reply, "is live in *production*") {
		t.Errorf("thread reply %q", reply)
	}
	if n := len(w.sl.Messages(channel)); n != 2 {
		t.Errorf("%d messages, want the one message updated and its thread reply", n)
	}

	// status answers with what is live.
	w.command(writer, channel, "status production")
	if s := w.sees(channel, writer, "Live in *production*"); !strings.Contains(s, w.head[:7]) {
		t.Errorf("status: %q", s)
	}
}

// Forged, unsigned, stale (replayed later) and re-sent requests change nothing.
func TestSlackRefusesForgedReplayedAndUnsigned(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.greenChecks(w.head)
	for name, opt := range map[string]slackstub.CallOption{
		"unsigned":        slackstub.WithoutSignature(),
		"wrong secret":    slackstub.WithSecret("not-the-secret"),
		"forged":          slackstub.WithSignature("v0=" + strings.Repeat("ab", 32)),
		"six minutes old": slackstub.WithAge(6 * time.Minute),
	} {
		if status, _ := w.command(writer, channel, "production", opt); status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, status)
		}
	}
	// Slack's own retry of a request it thinks went unanswered is answered and dropped.
	if status, _ := w.command(writer, channel, "production", slackstub.WithRetry(1, "http_timeout")); status != http.StatusOK {
		t.Errorf("retry: status %d", status)
	}
	// The same signed request twice within its five minutes deploys once.
	ts := time.Now().Unix()
	replay := []slackstub.CallOption{slackstub.WithTimestamp(ts)}
	cmd := slackstub.Command{ChannelID: channel, UserID: writer, Text: "production", TriggerID: "1337.42.replay", ResponseURL: w.sl.NewResponseURL()}
	var acks []string
	for range 2 {
		_, body, err := w.sl.SlashCommand(t.Context(), "http://"+w.addr+"/slack/commands", cmd, replay...)
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, string(body))
	}
	// The copy is dropped before its answer: an empty 200, and no work started for it.
	if !strings.Contains(acks[0], "Checking") || strings.TrimSpace(acks[1]) != "" {
		t.Fatalf("answers %q: want the first checked and the copy dropped", acks)
	}
	w.waitFor("the copy's log line", func() bool { return strings.Contains(w.srv.logs(), "the same signed request was taken already") })
	w.waitFor("the first one's deploy to finish", func() bool {
		return len(w.deployments()) == 1 && len(w.sl.Messages(channel)) == 1 && strings.Contains(w.sl.Messages(channel)[0].Text, "waiting for a workflow")
	})
	if n := len(w.deployments()); n != 1 {
		t.Fatalf("%d deployments from refused, retried and replayed requests; want 1", n)
	}
	if n := w.sl.Calls("chat.postMessage"); n != 1 {
		t.Errorf("%d channel messages, want 1", n)
	}
	// An unsigned webhook is refused too.
	resp, err := http.Post("http://"+w.addr+"/github/webhook", "application/json", strings.NewReader(`{"action":"created"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned webhook: %d", resp.StatusCode)
	}
}

// Each refusal is a reply only the requester sees, naming the reason and the fix, and creates
// nothing.
func TestSlackRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.greenChecks(w.head)

	_, ack := w.command(stranger, channel, "production")
	if !strings.Contains(ack, "not mapped to a GitHub login") || !strings.Contains(ack, "`U0NOBODY: <your-github-login>` under `slack.users`") {
		t.Errorf("unmapped user: %q", ack)
	}
	_, ack = w.command(writer, otherChannel, "production")
	if !strings.Contains(ack, "not mapped to a repository") || !strings.Contains(ack, "/deploy owner/repo") {
		t.Errorf("unmapped channel: %q", ack)
	}
	_, ack = w.command(writer, channel, "main to")
	if !strings.Contains(ack, "Name the environment after `to`") {
		t.Errorf("bad grammar: %q", ack)
	}

	w.command(reader, channel, "production")
	if s := w.sees(channel, reader, "needs the write role"); !strings.Contains(s, "@rita has read") {
		t.Errorf("reader: %q", s)
	}
	w.command(writer, otherChannel, "acme/other to production")
	w.sees(otherChannel, writer, "not installed on acme/other")
	w.command(writer, channel, "no-such-branch to staging")
	w.sees(channel, writer, "no branch, tag or commit `no-such-branch`")
	// An older commit has no checks, then a red one.
	old := emulator.FakeSHA("acme/shop#2")
	w.command(writer, channel, old+" to staging")
	w.sees(channel, writer, "No check has reported on")
	if _, err := w.em.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "lint", HeadSHA: old, Status: "completed", Conclusion: "failure"}); err != nil {
		t.Fatal(err)
	}
	w.command(writer, channel, old+" to staging")
	w.sees(channel, writer, "failed: <")

	// Locks: the same store as PR comments.
	w.command(maintainer, channel, "lock production 2h migrating the database")
	w.waitFor("the lock announcement", func() bool {
		for _, e := range w.sl.Ephemerals(channel, "") {
			if strings.Contains(e.Text, ":lock: <@U0MAINT> locked `production`") {
				return true
			}
		}
		for _, m := range w.sl.Messages(channel) {
			if strings.Contains(m.Text, ":lock: <@U0MAINT> locked `production`") {
				return true
			}
		}
		return false
	})
	w.command(writer, channel, "production")
	if s := w.sees(channel, writer, "production is locked by @mona"); !strings.Contains(s, "/deploy unlock production") {
		t.Errorf("locked: %q", s)
	}
	w.command(writer, channel, "locks")
	if s := w.sees(channel, writer, "`production` by @mona"); !strings.Contains(s, "migrating the database") {
		t.Errorf("locks: %q", s)
	}
	w.command(writer, channel, "unlock production")
	w.sees(channel, writer, "only they, or a maintainer or admin")
	w.command(maintainer, channel, "unlock production")
	w.waitFor("the unlock", func() bool {
		for _, m := range append(w.sl.Messages(channel), w.sl.Ephemerals(channel, "")...) {
			if strings.Contains(m.Text, ":unlock: <@U0MAINT> unlocked `production`") {
				return true
			}
		}
		return false
	})

	// The policy on the default branch: a higher role, then a broken file.
	w.putPolicy("environments:\n  production:\n    allowed-permission: maintain\n")
	w.command(writer, channel, "production")
	if s := w.sees(channel, writer, "needs the maintain role"); !strings.Contains(s, ".github/deployments.yml") {
		t.Errorf("policy role: %q", s)
	}
	w.putPolicy("environments:\n  production:\n    checks: sometimes\n")
	w.command(maintainer, channel, "production")
	if s := w.sees(channel, maintainer, "is invalid"); !strings.Contains(s, "checks") {
		t.Errorf("bad policy: %q", s)
	}
	if n := len(w.deployments()); n != 0 {
		t.Fatalf("refusals created %d deployments", n)
	}
	if n := w.sl.Calls("chat.postMessage"); n != 0 {
		t.Errorf("refusals posted %d channel messages", n)
	}
}

// confirm: true asks first; only the requester's click deploys, after every check again.
func TestSlackConfirmButton(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.putPolicy("environments:\n  production:\n    confirm: true\n")
	w.greenChecks(w.head)
	w.command(writer, channel, "production")
	var blocks json.RawMessage
	w.waitFor("the question", func() bool {
		for _, e := range w.sl.Ephemerals(channel, writer) {
			if strings.Contains(e.Text, "asks for a confirmation") {
				blocks = e.Blocks
				return len(blocks) > 0
			}
		}
		return false
	})
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(blocks, &bs); err != nil || len(bs) != 2 || len(bs[1].Elements) != 2 {
		t.Fatalf("blocks %s: %v", blocks, err)
	}
	yes := bs[1].Elements[0]
	click := func(user string) {
		if _, _, err := w.sl.Interaction(t.Context(), "http://"+w.addr+"/slack/interactions", slackstub.BlockActions{
			UserID: user, ChannelID: channel, Actions: []slackstub.Action{{ActionID: yes.ActionID, Value: yes.Value}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	click(maintainer) // not the requester: the work ends by logging it
	w.waitFor("the other user's click to be ignored", func() bool { return strings.Contains(w.srv.logs(), "clicked by another user") })
	if n := len(w.deployments()); n != 0 {
		t.Fatalf("another user's click deployed (%d)", n)
	}
	click(writer)
	w.waitFor("the confirmed deployment", func() bool { return len(w.deployments()) == 1 })
	if d := w.deployments()[0]; d.SHA != w.head {
		t.Errorf("deployed %s, want the commit the question showed (%s)", d.SHA, w.head)
	}
}

// Two replicas behave as one: the command reaches one, the webhooks the other (the App's
// webhook URL points there), and the message still follows the deployment; the metrics show
// GitHub's and Slack's latency and the rate limit left.
func TestTwoReplicasShareNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{}) // replica B: w.addr, where the App's webhooks go
	w.greenChecks(w.head)
	a := freeAddr(t)
	pa := w.startAt(a)
	defer w.stopProc(pa)
	status, _, err := w.sl.SlashCommand(t.Context(), "http://"+a+"/slack/commands", slackstub.Command{ChannelID: channel, UserID: writer, Text: "production"})
	if err != nil || status != http.StatusOK {
		t.Fatal(status, err)
	}
	w.waitFor("the deployment", func() bool { return len(w.deployments()) == 1 && len(w.sl.Messages(channel)) == 1 })
	d := w.deployments()[0]
	w.setStatus(d.ID, "success", "https://shop.example.com", "")
	w.waitFor("replica B to update replica A's message", func() bool {
		return strings.Contains(w.sl.Messages(channel)[0].Text, "success")
	})
	if strings.Contains(pa.logs(), "deployment_status") || !strings.Contains(pa.logs(), "deployment created") {
		t.Errorf("replica A should have created the deployment and seen no webhook:\n%s", pa.logs())
	}
	metrics := func() string {
		resp, err := http.Get("http://" + w.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return b.String()
	}
	done := `deployment_action_webhook_deliveries_total{event="deployment_status",outcome="done"}`
	w.waitFor("the webhook's work to finish", func() bool { return strings.Contains(metrics(), done) })
	m := metrics()
	for _, want := range []string{
		`deployment_action_upstream_request_seconds_count{code="200",method="GET",service="github"}`,
		`deployment_action_upstream_request_seconds_count{code="200",method="POST",service="slack"}`,
		`deployment_action_github_rate_limit_remaining{resource="core"}`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// Nothing is lost in a restart: statuses sent while no server was up are found in the App's
// delivery log at the next start; the message shows the newest and the final one is replied in
// the thread once, however many starts read the log.
func TestSlackMessageCatchesUpAfterARestart(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.greenChecks(w.head)
	w.command(writer, channel, "production")
	w.waitFor("the deployment", func() bool {
		return len(w.deployments()) == 1 && len(w.sl.Messages(channel)) == 1 && strings.Contains(w.sl.Messages(channel)[0].Text, "waiting for a workflow")
	})
	d := w.deployments()[0]
	ts := w.sl.Messages(channel)[0].TS
	w.stop()
	w.setStatus(d.ID, "in_progress", "", "https://ci.example/run/9")
	w.setStatus(d.ID, "success", "https://shop.example.com", "https://ci.example/run/9")
	if err := w.em.WaitDeliveries(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m := w.sl.Messages(channel)[0]; strings.Contains(m.Text, "success") {
		t.Fatalf("updated while down? %q", m.Text)
	}
	for range 2 { // two starts (or two replicas starting): one reply
		w.start()
		w.waitFor("the message to catch up", func() bool { return strings.Contains(w.sl.Messages(channel)[0].Text, ":white_check_mark: success") })
		w.stop()
	}
	if th := w.sl.Thread(channel, ts); len(th) != 2 || !strings.Contains(th[1].Text, "is live in *production*") {
		t.Fatalf("thread %+v: want the one reply", th)
	}
}

// Someone who may create deployments in a repository writes their payloads too: a deployment
// whose payload points at a Slack message without this server's MAC for that repository (made
// up, or copied from another repository's deployment) updates nothing.
func TestSlackForgedOriginUpdatesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	if _, err := w.em.InstallApp(appID, owner, "other"); err != nil {
		t.Fatal(err)
	}
	w.greenChecks(w.head)
	w.command(writer, channel, "production")
	w.waitFor("the real deployment", func() bool {
		return len(w.deployments()) == 1 && strings.Contains(w.sl.Messages(channel)[0].Text, "waiting for a workflow")
	})
	real := w.deployments()[0].Payload.(map[string]any)["slack"].(map[string]any)
	forged := map[string]any{"channel": real["channel"], "ts": real["ts"], "user": real["user"]}
	copied := map[string]any{"channel": real["channel"], "ts": real["ts"], "user": real["user"], "mac": real["mac"]}
	for _, tc := range []struct {
		repo   string
		origin map[string]any
	}{{repo, forged}, {"other", copied}} {
		d, _, err := w.gh.Repositories.CreateDeployment(t.Context(), owner, tc.repo, &github.DeploymentRequest{
			Ref: github.String("main"), Environment: github.String("production"), RequiredContexts: &[]string{},
			Payload: map[string]any{"slack": tc.origin}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.gh.Repositories.CreateDeploymentStatus(t.Context(), owner, tc.repo, d.GetID(),
			&github.DeploymentStatusRequest{State: github.String("failure"), LogURL: github.String("https://evil.example/")}); err != nil {
			t.Fatal(err)
		}
	}
	w.waitFor("both forgeries to be ignored", func() bool {
		return strings.Count(w.srv.logs(), "names a Slack message this server did not start") == 2
	})
	if m := w.sl.Messages(channel); len(m) != 1 || strings.Contains(m[0].Text, "evil") || strings.Contains(m[0].Text, "failure") {
		t.Fatalf("the message was changed by a forged payload: %+v", m)
	}
}
