package slackstub

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The workspace the stub plays: one team, one app and its bot user.
const (
	TeamID     = "T0WORKBENCH"
	TeamDomain = "workbench"
	AppID      = "A0WORKBENCH"
	BotUserID  = "U0DEPLOYBOT"
	BotID      = "B0DEPLOYBOT"
	BotName    = "deploybot"
)

// ErrClosed is returned by WaitFor once the stub is closed and the condition does not hold.
var ErrClosed = errors.New("slackstub: closed")

// Config configures a Slack stand-in.
type Config struct {
	// BotToken is the only token the Web API accepts.
	BotToken string
	// SigningSecret signs what SlashCommand and Interaction send.
	SigningSecret string
	// Latency is added to each Web API and response-URL answer (real time).
	Latency time.Duration
	// Now is the clock for message timestamps, request signatures and response-URL expiry;
	// nil means time.Now.
	Now func() time.Time
}

// Message is a message as the stub holds it.
type Message struct {
	Channel string
	TS      string
	// ThreadTS is the parent's ts for a thread reply, empty for a top-level message.
	ThreadTS string
	Text     string
	// Blocks is the JSON array of blocks last set, nil when the message has none.
	Blocks json.RawMessage
	// User is the author: BotUserID for what the bot posted; for an ephemeral message, the
	// one user who sees it.
	User string
	// Edits counts the updates (chat.update, replace_original) since the message was posted.
	Edits int
	// History is every text the message has had, oldest first; the last is Text.
	History []string
}

// Response is one accepted post to a response URL.
type Response struct {
	Text            string
	Blocks          json.RawMessage
	ResponseType    string
	ReplaceOriginal bool
	DeleteOriginal  bool
	ThreadTS        string
	At              time.Time
}

type message struct {
	Message
	ephemeral bool
}

func (m *message) export() Message {
	out := m.Message
	out.Blocks = bytes.Clone(m.Blocks)
	out.History = slices.Clone(m.History)
	return out
}

// responseURL is one response URL: where it came from and what it was sent.
type responseURL struct {
	url     string
	created time.Time
	// channel and user the URL answers in (empty for NewResponseURL's bare ones); messageTS
	// is the message an interaction came from, the "original" replace/delete_original act on.
	channel, user, messageTS string
	posts                    []Response
}

// Slack is a local Slack: Web API, response URLs and a driver for slash commands and
// interactions. Its methods are safe for concurrent use.
type Slack struct {
	cfg    Config
	mux    *http.ServeMux
	client *http.Client

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change (WaitFor)
	closed     bool
	base       string // http://host:port, once started
	srv        *http.Server
	done       chan struct{}
	lastMicros int64
	calls      map[string]int
	channels   map[string][]*message // top-level messages and replies, in posting order
	ephemerals []*message
	responses  map[string]*responseURL // by id
	respOrder  []string                // URLs in creation order
}

// New returns a Slack holding no messages; Start serves it.
func New(c Config) *Slack {
	s := &Slack{
		cfg:       c,
		client:    &http.Client{},
		changed:   make(chan struct{}),
		calls:     map[string]int{},
		channels:  map[string][]*message{},
		responses: map[string]*responseURL{},
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/api/{method}", s.serveAPI)
	s.mux.HandleFunc("POST /response/{id}", s.serveResponseURL)
	return s
}

func (s *Slack) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// Start listens on addr, a loopback address such as "127.0.0.1:0", and serves in the background.
func (s *Slack) Start(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("slackstub: bad address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("slackstub: refusing to listen on non-loopback address %q", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("slackstub: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil || s.closed {
		ln.Close()
		return errors.New("slackstub: already started or closed")
	}
	s.base = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	srv, done := s.srv, s.done
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return nil
}

// URL is the Web API root, ending in "/api/" (the value for SLACK_API_URL and
// slack.OptionAPIURL); empty before Start.
func (s *Slack) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base == "" {
		return ""
	}
	return s.base + "/api/"
}

// Close stops the server and wakes every WaitFor. It is safe to call more than once.
func (s *Slack) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv, done := s.srv, s.done
	s.changedLocked()
	s.mu.Unlock()
	s.client.CloseIdleConnections()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-done
	if err != nil {
		return fmt.Errorf("slackstub: close: %w", err)
	}
	return nil
}

// changedLocked wakes the waiters; s.mu is held.
func (s *Slack) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor returns nil once cond holds, checking it now and after every change to the stub
// (a call, a message, a response). cond runs without the stub's lock held, so it may call
// Messages, Calls and the like. It returns ctx's error (wrapped) when ctx ends first, and
// ErrClosed when the stub is closed with cond still false.
func (s *Slack) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("slackstub: waiting: %w", ctx.Err())
		}
	}
}

// nextTSLocked is a new message ts: "seconds.micros" from Now, strictly after the last one.
func (s *Slack) nextTSLocked() string {
	us := s.now().UnixMicro()
	if us <= s.lastMicros {
		us = s.lastMicros + 1
	}
	s.lastMicros = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// findLocked is the message ts of channel, top-level, reply or ephemeral; nil if none.
func (s *Slack) findLocked(channel, ts string) *message {
	for _, m := range s.channels[channel] {
		if m.TS == ts {
			return m
		}
	}
	for _, m := range s.ephemerals {
		if m.Channel == channel && m.TS == ts {
			return m
		}
	}
	return nil
}

// deleteLocked removes m from where it is held.
func (s *Slack) deleteLocked(m *message) {
	if m.ephemeral {
		s.ephemerals = slices.DeleteFunc(s.ephemerals, func(x *message) bool { return x == m })
		return
	}
	s.channels[m.Channel] = slices.DeleteFunc(s.channels[m.Channel], func(x *message) bool { return x == m })
}

// Calls is how many Web API requests named method arrived (refused ones included).
func (s *Slack) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Messages is channel's messages, top-level ones and thread replies, in posting order.
func (s *Slack) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.channels[channel]))
	for _, m := range s.channels[channel] {
		out = append(out, m.export())
	}
	return out
}

// Thread is the message ts of channel followed by its replies in order (as
// conversations.replies answers); nil when there is no such message.
func (s *Slack) Thread(channel, ts string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.channels[channel] {
		if m.TS == ts || m.ThreadTS == ts {
			out = append(out, m.export())
		}
	}
	if len(out) > 0 && out[0].TS != ts {
		return nil // the parent is gone: no thread to show
	}
	return out
}

// Ephemerals is the ephemeral messages shown in channel to user, in order; user "" means
// to anyone.
func (s *Slack) Ephemerals(channel, user string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.ephemerals {
		if m.Channel == channel && (user == "" || m.User == user) {
			out = append(out, m.export())
		}
	}
	return out
}

// NewResponseURL makes a response URL on the started server, usable 5 times within 30
// minutes from now. It is bare: what is posted to it is recorded only (SlashCommand and
// Interaction make ones that also show their messages in the channel).
func (s *Slack) NewResponseURL() string {
	return s.newResponseURL("", "", "")
}

func (s *Slack) newResponseURL(channel, user, messageTS string) string {
	id := randomHex(16)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.base + "/response/" + id
	s.responses[id] = &responseURL{url: u, created: s.now(), channel: channel, user: user, messageTS: messageTS}
	s.respOrder = append(s.respOrder, u)
	s.changedLocked()
	return u
}

// ResponseURLs is every response URL made so far, oldest first (SlashCommand's and
// Interaction's fresh ones included).
func (s *Slack) ResponseURLs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.respOrder)
}

// Responses is what was accepted at the response URL u, in order; nil for an unknown URL.
func (s *Slack) Responses(u string) []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.responses[responseID(u)]
	if r == nil || r.url != u {
		return nil
	}
	out := make([]Response, len(r.posts))
	for i, p := range r.posts {
		p.Blocks = bytes.Clone(p.Blocks)
		out[i] = p
	}
	return out
}

func responseID(u string) string {
	_, id, ok := strings.Cut(u, "/response/")
	if !ok {
		return ""
	}
	return id
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (it panics rather)
	return hex.EncodeToString(b)
}

// delay waits Config.Latency, or until ctx ends.
func (s *Slack) delay(ctx context.Context) {
	if s.cfg.Latency <= 0 {
		return
	}
	t := time.NewTimer(s.cfg.Latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
