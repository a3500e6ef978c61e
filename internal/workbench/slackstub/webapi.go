package slackstub

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

const maxBody = 1 << 20

// obj is a JSON object answer.
type obj = map[string]any

// webMethod handles one Web API method with s.mu held; it answers the JSON object to send
// (with "ok").
type webMethod func(s *Slack, p url.Values) obj

var webMethods = map[string]webMethod{
	"auth.test":          (*Slack).authTest,
	"chat.postMessage":   (*Slack).postMessage,
	"chat.update":        (*Slack).update,
	"chat.postEphemeral": (*Slack).postEphemeral,
	"chat.getPermalink":  (*Slack).getPermalink,
}

func fail(code string) obj { return obj{"ok": false, "error": code} }

// serveAPI answers /api/{method} as Slack does: HTTP 200 and {"ok":…} for everything it
// understood, errors included.
func (s *Slack) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	p, perr := params(r)
	var answer obj
	s.mu.Lock()
	s.calls[method]++
	switch h, known := webMethods[method]; {
	case perr != nil:
		answer = fail("invalid_form_data")
	case !known:
		answer = fail("unknown_method")
	default:
		if code := s.authLocked(r, p); code != "" {
			answer = fail(code)
			break
		}
		answer = h(s, p)
	}
	s.changedLocked() // the call count moved, whatever else did
	s.mu.Unlock()
	s.delay(r.Context())
	writeJSON(w, http.StatusOK, answer)
}

// authLocked is "" when r carries the bot token (Authorization: Bearer, or the token
// parameter), else Slack's error code.
func (s *Slack) authLocked(r *http.Request, p url.Values) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		tok = p.Get("token")
	}
	if tok == "" {
		return "not_authed"
	}
	if s.cfg.BotToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.BotToken)) != 1 {
		return "invalid_auth"
	}
	return ""
}

// params is a request's arguments: the query plus a form-encoded or JSON body. A JSON
// value that is not a string (blocks given as an array, a boolean) becomes its JSON text,
// which is how a form carries it.
func params(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("slackstub: form: %w", err)
		}
		return r.Form, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("slackstub: body: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("slackstub: json body: %w", err)
	}
	p := r.URL.Query()
	for k, raw := range fields {
		var str string
		switch {
		case bytes.Equal(raw, []byte("null")):
			continue
		case json.Unmarshal(raw, &str) == nil:
			p.Set(k, str)
		default:
			p.Set(k, string(raw))
		}
	}
	return p, nil
}

// blocksParam is the blocks argument: nil when absent, else a JSON array compacted.
func blocksParam(p url.Values) (json.RawMessage, bool) {
	v := p.Get("blocks")
	if v == "" {
		return nil, true
	}
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(v), &arr); err != nil {
		return nil, false
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(v)); err != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

// messageObj is m as Slack shows it in chat.postMessage's and chat.update's answers.
func messageObj(m *message) obj {
	o := obj{"type": "message", "text": m.Text, "ts": m.TS, "user": m.User}
	if m.User == BotUserID {
		o["bot_id"] = BotID
		o["app_id"] = AppID
	}
	if m.ThreadTS != "" {
		o["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		o["blocks"] = m.Blocks
	}
	return o
}

func (s *Slack) authTest(url.Values) obj {
	return obj{"ok": true, "url": s.base + "/", "team": TeamDomain, "user": BotName,
		"team_id": TeamID, "user_id": BotUserID, "bot_id": BotID, "is_enterprise_install": false}
}

// postLocked adds a message to channel (a reply when threadTS is set), checking the
// arguments as chat.postMessage does; code is Slack's error code, or "".
func (s *Slack) postLocked(channel, text, threadTS string, p url.Values) (m *message, code string) {
	if channel == "" {
		return nil, "channel_not_found"
	}
	blocks, ok := blocksParam(p)
	if !ok {
		return nil, "invalid_blocks_format"
	}
	if text == "" && blocks == nil {
		return nil, "no_text"
	}
	if threadTS != "" {
		parent := s.findLocked(channel, threadTS)
		if parent == nil || parent.ephemeral {
			return nil, "thread_not_found"
		}
		if parent.ThreadTS != "" { // a reply's ts: Slack threads under the parent
			threadTS = parent.ThreadTS
		}
	}
	m = &message{Message: Message{Channel: channel, TS: s.nextTSLocked(), ThreadTS: threadTS,
		Text: text, Blocks: blocks, User: BotUserID, History: []string{text}}}
	s.channels[channel] = append(s.channels[channel], m)
	return m, ""
}

func (s *Slack) postMessage(p url.Values) obj {
	m, code := s.postLocked(p.Get("channel"), p.Get("text"), p.Get("thread_ts"), p)
	if code != "" {
		return fail(code)
	}
	return obj{"ok": true, "channel": m.Channel, "ts": m.TS, "message": messageObj(m)}
}

// editLocked sets m's text and blocks where given (nil leaves them), counting an edit.
func editLocked(m *message, text *string, blocks json.RawMessage) {
	if text != nil {
		m.Text = *text
	}
	if blocks != nil {
		m.Blocks = blocks
	}
	m.Edits++
	m.History = append(m.History, m.Text)
}

func (s *Slack) update(p url.Values) obj {
	channel, ts := p.Get("channel"), p.Get("ts")
	if channel == "" {
		return fail("channel_not_found")
	}
	m := s.findLocked(channel, ts)
	if ts == "" || m == nil || m.ephemeral {
		return fail("message_not_found")
	}
	if m.User != BotUserID {
		return fail("cant_update_message")
	}
	blocks, ok := blocksParam(p)
	if !ok {
		return fail("invalid_blocks_format")
	}
	var text *string
	if p.Has("text") {
		t := p.Get("text")
		text = &t
	}
	if (text == nil || *text == "") && blocks == nil {
		return fail("no_text")
	}
	editLocked(m, text, blocks)
	return obj{"ok": true, "channel": channel, "ts": m.TS, "text": m.Text, "message": messageObj(m)}
}

func (s *Slack) postEphemeral(p url.Values) obj {
	channel, user := p.Get("channel"), p.Get("user")
	if channel == "" {
		return fail("channel_not_found")
	}
	if user == "" {
		return fail("user_not_in_channel")
	}
	m, code := s.ephemeralLocked(channel, user, p.Get("text"), p.Get("thread_ts"), p)
	if code != "" {
		return fail(code)
	}
	return obj{"ok": true, "message_ts": m.TS}
}

func (s *Slack) ephemeralLocked(channel, user, text, threadTS string, p url.Values) (*message, string) {
	blocks, ok := blocksParam(p)
	if !ok {
		return nil, "invalid_blocks_format"
	}
	if text == "" && blocks == nil {
		return nil, "no_text"
	}
	m := &message{ephemeral: true, Message: Message{Channel: channel, TS: s.nextTSLocked(), ThreadTS: threadTS,
		Text: text, Blocks: blocks, User: user, History: []string{text}}}
	s.ephemerals = append(s.ephemerals, m)
	return m, ""
}

func (s *Slack) getPermalink(p url.Values) obj {
	channel, ts := p.Get("channel"), p.Get("message_ts")
	if channel == "" {
		return fail("channel_not_found")
	}
	m := s.findLocked(channel, ts)
	if ts == "" || m == nil || m.ephemeral {
		return fail("message_not_found")
	}
	link := s.base + "/archives/" + channel + "/p" + strings.Replace(m.TS, ".", "", 1)
	if m.ThreadTS != "" {
		link += "?thread_ts=" + m.ThreadTS + "&cid=" + channel
	}
	return obj{"ok": true, "channel": channel, "permalink": link}
}
