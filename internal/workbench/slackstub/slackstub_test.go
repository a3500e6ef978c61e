package slackstub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

const (
	testToken  = "xoxb-test-bot-token"
	testSecret = "8f742231b10e8888abcd99yyyzzz85a5"
)

func start(t *testing.T, c Config) *Slack {
	t.Helper()
	if c.BotToken == "" {
		c.BotToken = testToken
	}
	if c.SigningSecret == "" {
		c.SigningSecret = testSecret
	}
	s := New(c)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func client(s *Slack, token string) *slack.Client {
	return slack.New(token, slack.OptionAPIURL(s.URL()))
}

func buttonBlocks(text, actionID, value string) []slack.Block {
	return []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
		slack.NewActionBlock("approve-block", slack.NewButtonBlockElement(actionID, value,
			slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))),
	}
}

// sectionText is the text of the first section block in raw.
func sectionText(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var blocks slack.Blocks
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatalf("blocks %s: %v", raw, err)
	}
	for _, b := range blocks.BlockSet {
		if sec, ok := b.(*slack.SectionBlock); ok && sec.Text != nil {
			return sec.Text.Text
		}
	}
	t.Fatalf("no section block in %s", raw)
	return ""
}

func TestURLIsTheAPIRoot(t *testing.T) {
	s := start(t, Config{})
	if u := s.URL(); !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.HasSuffix(u, "/api/") {
		t.Fatalf("URL() = %q", u)
	}
	if err := New(Config{}).Start("0.0.0.0:0"); err == nil {
		t.Fatal("Start on a non-loopback address succeeded")
	}
}

func TestPostAndUpdateWithSlackGo(t *testing.T) {
	s := start(t, Config{})
	api := client(s, testToken)
	ctx := t.Context()

	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if auth.UserID != BotUserID || auth.TeamID != TeamID || auth.BotID != BotID {
		t.Fatalf("auth.test = %+v", auth)
	}

	ch, ts, err := api.PostMessageContext(ctx, "C0DEPLOY", slack.MsgOptionText("deploying v1 to prod", false),
		slack.MsgOptionBlocks(buttonBlocks("*Deploy* v1 to prod?", "approve", "dep-1")...))
	if err != nil {
		t.Fatal(err)
	}
	if ch != "C0DEPLOY" || ts == "" {
		t.Fatalf("postMessage answered channel %q ts %q", ch, ts)
	}
	_, _, _, err = api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("deployed v1 to prod", false),
		slack.MsgOptionBlocks(buttonBlocks("*Deployed* v1 to prod", "redeploy", "dep-1")...))
	if err != nil {
		t.Fatal(err)
	}
	// An update with text only keeps the blocks.
	if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("deployed v1 to prod (12 s)", false)); err != nil {
		t.Fatal(err)
	}

	msgs := s.Messages("C0DEPLOY")
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if m.TS != ts || m.Text != "deployed v1 to prod (12 s)" || m.Edits != 2 || m.User != BotUserID {
		t.Fatalf("message = %+v", m)
	}
	wantHistory := []string{"deploying v1 to prod", "deployed v1 to prod", "deployed v1 to prod (12 s)"}
	if strings.Join(m.History, "|") != strings.Join(wantHistory, "|") {
		t.Fatalf("history %q, want %q", m.History, wantHistory)
	}
	if got := sectionText(t, m.Blocks); got != "*Deployed* v1 to prod" {
		t.Fatalf("blocks after update show %q", got)
	}
	var blocks slack.Blocks
	_ = json.Unmarshal(m.Blocks, &blocks)
	act, ok := blocks.BlockSet[1].(*slack.ActionBlock)
	if !ok || act.Elements.ElementSet[0].(*slack.ButtonBlockElement).ActionID != "redeploy" {
		t.Fatalf("the button did not survive the update: %s", m.Blocks)
	}

	_, _, _, err = api.UpdateMessageContext(ctx, ch, "1.000001", slack.MsgOptionText("x", false))
	if err == nil || err.Error() != "message_not_found" {
		t.Fatalf("update of an unknown ts: %v, want message_not_found", err)
	}
	if got := s.Calls("chat.update"); got != 3 {
		t.Fatalf("Calls(chat.update) = %d, want 3", got)
	}
	if got := s.Calls("chat.postMessage"); got != 1 {
		t.Fatalf("Calls(chat.postMessage) = %d, want 1", got)
	}

	link, err := api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: ch, Ts: ts})
	if err != nil {
		t.Fatal(err)
	}
	if want := "/archives/C0DEPLOY/p" + strings.Replace(ts, ".", "", 1); !strings.HasSuffix(link, want) {
		t.Fatalf("permalink %q does not end in %q", link, want)
	}
}

func TestThreadRepliesAndUniqueTimestamps(t *testing.T) {
	clock := testkit.NewClock(time.Unix(1700000000, 0)) // frozen: ts must still be unique
	s := start(t, Config{Now: clock.Now})
	api := client(s, testToken)
	ctx := t.Context()

	_, parent, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("deploy #7 started", false))
	if err != nil {
		t.Fatal(err)
	}
	if parent != "1700000000.000000" {
		t.Fatalf("first ts %q, want 1700000000.000000 (from Now)", parent)
	}
	_, other, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("unrelated", false))
	if err != nil {
		t.Fatal(err)
	}
	var replies []string
	for _, text := range []string{"step 1 done", "step 2 done"} {
		_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText(text, false), slack.MsgOptionTS(parent))
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, ts)
	}
	// A reply to a reply lands in the parent's thread, as on Slack.
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("step 3 done", false), slack.MsgOptionTS(replies[0])); err != nil {
		t.Fatal(err)
	}

	all := s.Messages("C1")
	if len(all) != 5 {
		t.Fatalf("%d messages, want 5", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].TS <= all[i-1].TS {
			t.Fatalf("ts not increasing: %q then %q", all[i-1].TS, all[i].TS)
		}
	}
	if all[1].TS != other || all[1].ThreadTS != "" {
		t.Fatalf("second message %+v is not the top-level one", all[1])
	}
	thread := s.Thread("C1", parent)
	var texts []string
	for _, m := range thread {
		texts = append(texts, m.Text)
		if m.TS != parent && m.ThreadTS != parent {
			t.Fatalf("thread holds %+v", m)
		}
	}
	if got := strings.Join(texts, "|"); got != "deploy #7 started|step 1 done|step 2 done|step 3 done" {
		t.Fatalf("thread = %q", got)
	}
	if s.Thread("C1", "1.000000") != nil {
		t.Fatal("Thread of an unknown ts is not nil")
	}
	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("orphan", false), slack.MsgOptionTS("1600000000.000000"))
	if err == nil || err.Error() != "thread_not_found" {
		t.Fatalf("reply to an unknown thread: %v", err)
	}
}

func TestEphemeral(t *testing.T) {
	s := start(t, Config{})
	api := client(s, testToken)
	ts, err := api.PostEphemeralContext(t.Context(), "C1", "U_ALICE", slack.MsgOptionText("only you can see this", false),
		slack.MsgOptionBlocks(buttonBlocks("confirm?", "confirm", "yes")...))
	if err != nil {
		t.Fatal(err)
	}
	if ts == "" {
		t.Fatal("no message_ts")
	}
	got := s.Ephemerals("C1", "U_ALICE")
	if len(got) != 1 || got[0].Text != "only you can see this" || got[0].TS != ts || got[0].User != "U_ALICE" {
		t.Fatalf("Ephemerals(C1, U_ALICE) = %+v", got)
	}
	if sectionText(t, got[0].Blocks) != "confirm?" {
		t.Fatalf("blocks lost: %s", got[0].Blocks)
	}
	if n := len(s.Ephemerals("C1", "U_BOB")); n != 0 {
		t.Fatalf("Bob sees %d ephemerals", n)
	}
	if n := len(s.Messages("C1")); n != 0 {
		t.Fatalf("an ephemeral message shows in the channel (%d messages)", n)
	}
	if _, _, _, err := api.UpdateMessageContext(t.Context(), "C1", ts, slack.MsgOptionText("x", false)); err == nil {
		t.Fatal("chat.update of an ephemeral message succeeded")
	}
}

// rawCall posts body to the Web API method with the given headers and decodes the answer.
func rawCall(t *testing.T, s *Slack, method, contentType, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func TestAuthRefusedAndUnknownMethod(t *testing.T) {
	s := start(t, Config{})
	if _, _, err := client(s, "xoxb-wrong").PostMessageContext(t.Context(), "C1", slack.MsgOptionText("hi", false)); err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("wrong token: %v, want invalid_auth", err)
	}
	const form = "application/x-www-form-urlencoded"
	cases := []struct{ method, auth, body, want string }{
		{"chat.postMessage", "", "channel=C1&text=hi", "not_authed"},
		{"chat.postMessage", "Bearer " + testToken + "x", "channel=C1&text=hi", "invalid_auth"},
		{"auth.test", "", "token=nope", "invalid_auth"},
		{"chat.explode", "Bearer " + testToken, "", "unknown_method"},
		{"chat.postMessage", "Bearer " + testToken, "channel=C1", "no_text"},
		{"chat.postMessage", "Bearer " + testToken, "channel=C1&blocks=%5Bnot+json", "invalid_blocks_format"},
	}
	for _, c := range cases {
		status, out := rawCall(t, s, c.method, form, c.auth, c.body)
		if status != http.StatusOK || out["ok"] != false || out["error"] != c.want {
			t.Errorf("%s %q: %d %v, want 200 error %q", c.method, c.body, status, out, c.want)
		}
	}
	if n := len(s.Messages("C1")); n != 0 {
		t.Fatalf("refused calls posted %d messages", n)
	}
	if got := s.Calls("chat.postMessage"); got != 5 {
		t.Fatalf("Calls(chat.postMessage) = %d, want 5 (refused ones count)", got)
	}
}

func TestJSONBody(t *testing.T) {
	s := start(t, Config{})
	body := `{"channel":"C9","text":"json post","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"from *json*"}}]}`
	_, out := rawCall(t, s, "chat.postMessage", "application/json; charset=utf-8", "Bearer "+testToken, body)
	if out["ok"] != true {
		t.Fatalf("answer %v", out)
	}
	ts, _ := out["ts"].(string)
	msgs := s.Messages("C9")
	if len(msgs) != 1 || msgs[0].TS != ts || msgs[0].Text != "json post" || sectionText(t, msgs[0].Blocks) != "from *json*" {
		t.Fatalf("messages %+v", msgs)
	}
	upd := `{"channel":"C9","ts":"` + ts + `","text":"json edit"}`
	if _, out := rawCall(t, s, "chat.update", "application/json", "Bearer "+testToken, upd); out["ok"] != true {
		t.Fatalf("update answer %v", out)
	}
	if m := s.Messages("C9")[0]; m.Text != "json edit" || sectionText(t, m.Blocks) != "from *json*" {
		t.Fatalf("after JSON update: %+v", m)
	}
}

func postJSON(t *testing.T, u string, v any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(v)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(out))
}

func TestResponseURLLimits(t *testing.T) {
	clock := testkit.NewClock(time.Unix(1700000000, 0))
	s := start(t, Config{Now: clock.Now})
	u := s.NewResponseURL()
	if !strings.HasPrefix(u, strings.TrimSuffix(s.URL(), "api/")+"response/") {
		t.Fatalf("response URL %q", u)
	}
	// slack-go's own response-URL sender is accepted (it parses our answer).
	api := client(s, testToken)
	if _, _, err := api.PostMessageContext(t.Context(), "", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral),
		slack.MsgOptionText("post 1", false)); err != nil {
		t.Fatalf("slack-go post to the response URL: %v", err)
	}
	for i := 2; i <= 5; i++ {
		clock.Advance(time.Minute)
		if status, body := postJSON(t, u, map[string]any{"text": "post " + string(rune('0'+i)), "response_type": "in_channel"}); status != http.StatusOK {
			t.Fatalf("post %d: %d %s", i, status, body)
		}
	}
	if status, body := postJSON(t, u, map[string]any{"text": "post 6"}); status != http.StatusNotFound || body != "used_url" {
		t.Fatalf("6th post: %d %q, want 404 used_url", status, body)
	}
	got := s.Responses(u)
	if len(got) != 5 || got[0].Text != "post 1" || got[0].ResponseType != "ephemeral" || got[4].Text != "post 5" || got[4].ResponseType != "in_channel" {
		t.Fatalf("Responses = %+v", got)
	}

	late := s.NewResponseURL()
	clock.Advance(ResponseURLLife - time.Second)
	if status, _ := postJSON(t, late, map[string]any{"text": "just in time"}); status != http.StatusOK {
		t.Fatalf("post before expiry: %d", status)
	}
	clock.Advance(2 * time.Second)
	if status, body := postJSON(t, late, map[string]any{"text": "too late"}); status != http.StatusNotFound || body != "expired_url" {
		t.Fatalf("late post: %d %q, want 404 expired_url", status, body)
	}
	if n := len(s.Responses(late)); n != 1 {
		t.Fatalf("%d responses recorded at the late URL, want 1", n)
	}
	if status, body := postJSON(t, strings.TrimSuffix(late, "0")+"x", map[string]any{"text": "?"}); status != http.StatusNotFound || body != "no_service" {
		t.Fatalf("unknown response URL: %d %q", status, body)
	}
}

// receiver is a stand-in for serve's /slack endpoints: it verifies Slack's signature with
// slack-go's own verifier and answers what it parsed.
func receiver(t *testing.T, secret string, seen chan<- *http.Request) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sv, err := slack.NewSecretsVerifier(r.Header, secret)
		if err != nil {
			http.Error(w, "verifier: "+err.Error(), http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		_, _ = sv.Write(body)
		if err := sv.Ensure(); err != nil {
			http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		switch r.URL.Path {
		case "/slack/commands":
			cmd, err := slack.SlashCommandParse(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			_ = json.NewEncoder(w).Encode(cmd)
		case "/slack/interactions":
			var cb slack.InteractionCallback
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if err := json.Unmarshal([]byte(r.PostForm.Get("payload")), &cb); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			_ = json.NewEncoder(w).Encode(cb)
		}
		if seen != nil {
			seen <- r
		}
	}))
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("receiver at %s", srv.URL)
	}
	return srv
}

func TestSlashCommandSignedAsSlackSigns(t *testing.T) {
	s := start(t, Config{}) // real clock: slack-go's verifier checks the timestamp against time.Now
	rcv := receiver(t, testSecret, nil)
	target := rcv.URL + "/slack/commands"
	ctx := t.Context()
	c := Command{ChannelID: "C0DEPLOY", ChannelName: "deploys", UserID: "U_ALICE", UserName: "alice", Text: "prod v1.2.3"}

	status, body, err := s.SlashCommand(ctx, target, c)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK {
		t.Fatalf("receiver refused the stub's signature: %d %s", status, body)
	}
	var got slack.SlashCommand
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	urls := s.ResponseURLs()
	if got.Command != "/deploy" || got.Text != "prod v1.2.3" || got.UserID != "U_ALICE" || got.ChannelID != "C0DEPLOY" ||
		got.TeamID != TeamID || got.APIAppID != AppID || got.TriggerID == "" || len(urls) != 1 || got.ResponseURL != urls[0] {
		t.Fatalf("receiver parsed %+v (response URLs %q)", got, urls)
	}

	refusals := map[string][]CallOption{
		"another secret":     {WithSecret("not-the-secret")},
		"stale timestamp":    {WithAge(6 * time.Minute)},
		"forged signature":   {WithSignature("v0=" + strings.Repeat("ab", 32))},
		"no signature":       {WithoutSignature()},
		"timestamp mismatch": {WithTimestamp(time.Now().Unix() - 1), WithSignature(Sign(testSecret, time.Now().Unix()+1, []byte("x")))},
	}
	for name, opts := range refusals {
		status, body, err := s.SlashCommand(ctx, target, c, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusUnauthorized {
			t.Errorf("%s: receiver answered %d %s, want 401", name, status, body)
		}
	}

	// The command's response URL shows its posts in the channel, as Slack does.
	if status, body := postJSON(t, got.ResponseURL, map[string]any{"text": "deploying…", "response_type": "in_channel"}); status != http.StatusOK {
		t.Fatalf("response URL: %d %s", status, body)
	}
	if status, body := postJSON(t, got.ResponseURL, map[string]any{"text": "only for alice"}); status != http.StatusOK {
		t.Fatalf("response URL: %d %s", status, body)
	}
	if msgs := s.Messages("C0DEPLOY"); len(msgs) != 1 || msgs[0].Text != "deploying…" {
		t.Fatalf("channel after in_channel response: %+v", msgs)
	}
	if eph := s.Ephemerals("C0DEPLOY", "U_ALICE"); len(eph) != 1 || eph[0].Text != "only for alice" {
		t.Fatalf("ephemerals after an ephemeral response: %+v", eph)
	}
}

func TestSignKnownAnswer(t *testing.T) {
	// A signed request published with slack-go's tests (secret, timestamp, body, signature).
	body := `{"token":"aF5ynEYQH0dFN9imlgcADxDB","team_id":"XXXXXXXXX","api_app_id":"YYYYYYYYY","event":{"type":"app_mention","user":"AAAAAAAAA","text":"<@EEEEEEEEE> hello world","client_msg_id":"477cc591-ch73-a14z-4db8-g0cd76321bec","ts":"1531431954.000073","channel":"TTTTTTTTT","event_ts":"1531431954.000073"},"type":"event_callback","event_id":"TvBP7LRED7","event_time":1531431954,"authed_users":["EEEEEEEEE"]}`
	got := Sign("e6b19c573432dcc6b075501d51b51bb8", 1531431954, []byte(body))
	if want := "v0=adada4ed31709aef585c2580ca3267678c6a8eaeb7e0c1aca3ee57b656886b2c"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if Sign("e6b19c573432dcc6b075501d51b51bb8", 1531431955, []byte(body)) == got {
		t.Fatal("the timestamp does not enter the signature")
	}
}

func TestInteractionButtonPress(t *testing.T) {
	s := start(t, Config{})
	api := client(s, testToken)
	ctx := t.Context()
	_, ts, err := api.PostMessageContext(ctx, "C0DEPLOY", slack.MsgOptionText("approve deploy 7?", false),
		slack.MsgOptionBlocks(buttonBlocks("Approve deploy 7?", "approve", "deploy-7")...))
	if err != nil {
		t.Fatal(err)
	}
	rcv := receiver(t, testSecret, nil)
	status, body, err := s.Interaction(ctx, rcv.URL+"/slack/interactions", BlockActions{
		UserID: "U_BOB", UserName: "bob", ChannelID: "C0DEPLOY", MessageTS: ts,
		Actions: []Action{{ActionID: "approve", BlockID: "approve-block", Value: "deploy-7"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK {
		t.Fatalf("receiver: %d %s", status, body)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(body, &cb); err != nil {
		t.Fatal(err)
	}
	acts := cb.ActionCallback.BlockActions
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U_BOB" || cb.User.Name != "bob" ||
		len(acts) != 1 || acts[0].ActionID != "approve" || acts[0].Value != "deploy-7" || acts[0].BlockID != "approve-block" ||
		cb.Container.ChannelID != "C0DEPLOY" || cb.Container.MessageTs != ts || cb.Channel.ID != "C0DEPLOY" ||
		cb.Message.Timestamp != ts || cb.ResponseURL == "" || cb.TriggerID == "" {
		t.Fatalf("receiver parsed %+v", cb)
	}

	// replace_original rewrites the message the button was on; delete_original removes it.
	if status, body := postJSON(t, cb.ResponseURL, map[string]any{"replace_original": true, "text": "approved by bob"}); status != http.StatusOK {
		t.Fatalf("replace_original: %d %s", status, body)
	}
	m := s.Messages("C0DEPLOY")
	if len(m) != 1 || m[0].Text != "approved by bob" || m[0].Edits != 1 || m[0].Blocks != nil {
		t.Fatalf("after replace_original: %+v", m)
	}
	if status, body := postJSON(t, cb.ResponseURL, map[string]any{"delete_original": true}); status != http.StatusOK {
		t.Fatalf("delete_original: %d %s", status, body)
	}
	if m := s.Messages("C0DEPLOY"); len(m) != 0 {
		t.Fatalf("after delete_original: %+v", m)
	}

	if status, _, err := s.Interaction(ctx, rcv.URL+"/slack/interactions", BlockActions{UserID: "U_BOB", ChannelID: "C0DEPLOY", MessageTS: ts},
		WithSecret("wrong")); err != nil || status != http.StatusUnauthorized {
		t.Fatalf("wrongly signed interaction: %d %v, want 401", status, err)
	}
}

func TestRetryHeaderAndAckTimeout(t *testing.T) {
	s := start(t, Config{})
	var mu sync.Mutex
	var retries []string
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		retries = append(retries, r.Header.Get("X-Slack-Retry-Num")+"/"+r.Header.Get("X-Slack-Retry-Reason"))
		mu.Unlock()
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	if _, _, err := s.SlashCommand(t.Context(), srv.URL, Command{}, WithRetry(1, "")); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.SlashCommand(t.Context(), srv.URL+"/slow", Command{}, WithAckTimeout(50*time.Millisecond))
	if !errors.Is(err, ErrNoAck) {
		t.Fatalf("a server that never answers: %v, want ErrNoAck", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(retries) != 2 || retries[0] != "1/http_timeout" || retries[1] != "/" {
		t.Fatalf("retry headers seen %q", retries)
	}
}

func TestWaitForWakesOnChange(t *testing.T) {
	s := start(t, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.WaitFor(ctx, func() bool { return len(s.Messages("C1")) == 2 })
	}()
	api := client(s, testToken)
	for _, text := range []string{"one", "two"} {
		if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText(text, false)); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
	// A condition that never holds ends with the context, wrapped.
	short, cancelShort := context.WithCancel(t.Context())
	cancelShort()
	if err := s.WaitFor(short, func() bool { return false }); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor on a cancelled context: %v", err)
	}
	// Close wakes a waiter.
	go func() { done <- s.WaitFor(ctx, func() bool { return false }) }()
	go func() {
		_ = s.WaitFor(ctx, func() bool { return len(s.ResponseURLs()) > 0 })
		_ = s.Close()
	}()
	s.NewResponseURL()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitFor after Close: %v, want ErrClosed", err)
	}
}

func TestConcurrentPostsAndLatency(t *testing.T) {
	s := start(t, Config{Latency: 40 * time.Millisecond})
	api := client(s, testToken)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	began := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := api.PostMessageContext(t.Context(), "C1", slack.MsgOptionText("m"+url.QueryEscape(string(rune('a'+i))), false))
			errs <- err
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	msgs := s.Messages("C1")
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.TS] = true
	}
	if len(msgs) != n || len(seen) != n || s.Calls("chat.postMessage") != n {
		t.Fatalf("%d messages, %d distinct ts, %d calls; want %d", len(msgs), len(seen), s.Calls("chat.postMessage"), n)
	}
	if elapsed < 40*time.Millisecond {
		t.Fatalf("answers came in %v, under the 40ms latency", elapsed)
	}
}
