package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxSlackBody bounds a slash command or interaction body (Slack's are a few KB).
const maxSlackBody = 1 << 20

// slackMaxAge is how old a request's timestamp may be (Slack's guidance: 5 minutes).
const slackMaxAge = 5 * time.Minute

// SlackReply is the immediate answer to a slash command or click: an ephemeral message, or
// nothing (an empty 200).
type SlackReply struct{ Text string }

// SlackHandler is the Slack flow (internal/slackops adapts to it). Both methods answer at once
// and make no request; the returned work (nil: none) runs after the answer is sent.
type SlackHandler interface {
	Command(form url.Values) (SlackReply, func(context.Context))
	Interaction(payload []byte) (SlackReply, func(context.Context))
}

// Slack serves POST /slack/commands and POST /slack/interactions: the v0 signature and its
// timestamp first, then the answer, then the work.
type Slack struct {
	secret []byte
	h      SlackHandler
	now    func() time.Time
	log    *slog.Logger
	work   *Work
	seen   *recent // signatures taken in the last minutes: a replay within them is dropped
	// Outcome, if set, is told each request's outcome (metrics): "accepted", "bad_signature",
	// "stale", "retry", "replay", "bad_request".
	Outcome func(kind, outcome string)
}

// NewSlack needs the signing secret (from the environment only).
func NewSlack(secret string, h SlackHandler, work *Work, now func() time.Time, log *slog.Logger) (*Slack, error) {
	if secret == "" {
		return nil, errors.New("SLACK_SIGNING_SECRET is empty: set it to the Slack app's Signing Secret (Basic Information → App Credentials)")
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Slack{secret: []byte(secret), h: h, now: now, log: log, work: work, seen: newRecent(10000)}, nil
}

func (s *Slack) outcome(kind, o string) {
	if s.Outcome != nil {
		s.Outcome(kind, o)
	}
}

// Commands is the slash command endpoint.
func (s *Slack) Commands() http.Handler { return s.handler("command") }

// Interactions is the interactivity endpoint (button clicks).
func (s *Slack) Interactions() http.Handler { return s.handler("interaction") }

func (s *Slack) handler(kind string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxSlackBody+1))
		if err != nil || len(body) > maxSlackBody {
			s.outcome(kind, "bad_request")
			http.Error(w, "body unreadable or too large", http.StatusBadRequest)
			return
		}
		sig := r.Header.Get("X-Slack-Signature")
		switch s.verify(r.Header.Get("X-Slack-Request-Timestamp"), sig, body) {
		case errStale:
			s.outcome(kind, "stale")
			s.log.Warn("slack request refused: timestamp older than 5 minutes (a replay?)", "remote", r.RemoteAddr)
			http.Error(w, "stale timestamp", http.StatusUnauthorized)
			return
		case errBadSignature:
			s.outcome(kind, "bad_signature")
			s.log.Warn("slack request refused: bad or missing signature", "remote", r.RemoteAddr)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if r.Header.Get("X-Slack-Retry-Num") != "" {
			// Slack did not see our answer in time and sent the request again: the first one is
			// being worked on (here or on another replica), and the deploy looks for its
			// trigger id before creating anything.
			s.outcome(kind, "retry")
			w.WriteHeader(http.StatusOK)
			return
		}
		if !s.seen.add(sig) {
			s.outcome(kind, "replay")
			s.log.Warn("slack request dropped: the same signed request was taken already", "remote", r.RemoteAddr)
			w.WriteHeader(http.StatusOK)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			s.outcome(kind, "bad_request")
			http.Error(w, "not a form", http.StatusBadRequest)
			return
		}
		var reply SlackReply
		var work func(context.Context)
		if kind == "command" {
			reply, work = s.h.Command(form)
		} else {
			reply, work = s.h.Interaction([]byte(form.Get("payload")))
		}
		s.outcome(kind, "accepted")
		if reply.Text != "" {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"response_type": "ephemeral", "text": reply.Text})
		} else {
			w.WriteHeader(http.StatusOK)
		}
		if work != nil {
			s.work.Go(work)
		}
	})
}

var (
	errStale        = errors.New("stale")
	errBadSignature = errors.New("bad signature")
)

// verify checks X-Slack-Signature = v0=hex(HMAC-SHA256(secret, "v0:"+ts+":"+body)) in constant
// time, and that ts is within 5 minutes of now.
func (s *Slack) verify(ts, sig string, body []byte) error {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errBadSignature
	}
	got, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return errBadSignature
	}
	want, err := hex.DecodeString(got)
	if err != nil {
		return errBadSignature
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	if !hmac.Equal(want, m.Sum(nil)) {
		return errBadSignature
	}
	age := s.now().Sub(time.Unix(n, 0))
	if age > slackMaxAge || age < -slackMaxAge {
		return errStale
	}
	return nil
}
