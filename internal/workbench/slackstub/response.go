package slackstub

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Slack's limits on a response URL.
const (
	ResponseURLUses = 5
	ResponseURLLife = 30 * time.Minute
)

// responseBody is what a response URL accepts.
type responseBody struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// serveResponseURL takes a POST to a response URL: 200 {"ok":true} when accepted; 404
// "used_url" after ResponseURLUses posts, "expired_url" after ResponseURLLife, "no_service"
// for a URL never made; 400 "invalid_payload" or "no_text" for a body it cannot show.
func (s *Slack) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	status, answer := http.StatusBadRequest, "invalid_payload"
	var body responseBody
	if err == nil && json.Unmarshal(raw, &body) == nil {
		status, answer = s.respond(r.PathValue("id"), body)
	}
	s.delay(r.Context())
	if status == http.StatusOK {
		writeJSON(w, status, obj{"ok": true})
		return
	}
	writeText(w, status, answer)
}

func (s *Slack) respond(id string, body responseBody) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.responses[id]
	switch {
	case ru == nil:
		return http.StatusNotFound, "no_service"
	case s.now().Sub(ru.created) > ResponseURLLife:
		return http.StatusNotFound, "expired_url"
	case len(ru.posts) >= ResponseURLUses:
		return http.StatusNotFound, "used_url"
	}
	var blocks json.RawMessage
	if len(body.Blocks) > 0 && !bytes.Equal(body.Blocks, []byte("null")) {
		p := url.Values{"blocks": {string(body.Blocks)}}
		b, ok := blocksParam(p)
		if !ok {
			return http.StatusBadRequest, "invalid_blocks_format"
		}
		blocks = b
	}
	if !body.DeleteOriginal && body.Text == "" && blocks == nil {
		return http.StatusBadRequest, "no_text"
	}
	s.showLocked(ru, body, blocks)
	ru.posts = append(ru.posts, Response{Text: body.Text, Blocks: blocks, ResponseType: body.ResponseType,
		ReplaceOriginal: body.ReplaceOriginal, DeleteOriginal: body.DeleteOriginal, ThreadTS: body.ThreadTS, At: s.now()})
	s.changedLocked()
	return http.StatusOK, "ok"
}

// showLocked does to the channel what a response-URL post does in Slack: delete or replace
// the original message (an interaction's), else post anew: in the channel for response_type
// "in_channel", to the user alone otherwise. A bare URL (no channel) shows nothing.
func (s *Slack) showLocked(ru *responseURL, body responseBody, blocks json.RawMessage) {
	if ru.channel == "" {
		return
	}
	if orig := s.findLocked(ru.channel, ru.messageTS); orig != nil && ru.messageTS != "" {
		if body.DeleteOriginal {
			s.deleteLocked(orig)
			return
		}
		if body.ReplaceOriginal {
			// the whole message is replaced: blocks not sent are gone
			orig.Blocks = nil
			editLocked(orig, &body.Text, blocks)
			return
		}
	}
	if body.DeleteOriginal {
		return
	}
	p := url.Values{}
	if blocks != nil {
		p.Set("blocks", string(blocks))
	}
	if body.ResponseType == "in_channel" {
		_, _ = s.postLocked(ru.channel, body.Text, body.ThreadTS, p)
		return
	}
	_, _ = s.ephemeralLocked(ru.channel, ru.user, body.Text, body.ThreadTS, p)
}
