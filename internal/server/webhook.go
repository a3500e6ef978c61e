// Package server is deployment-action's HTTP side: GitHub App webhooks (and, later, Slack).
package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
)

// maxWebhookBody is GitHub's cap on a webhook payload (25 MB).
const maxWebhookBody = 25 << 20

// Event is one verified webhook delivery.
type Event struct {
	Name     string // X-GitHub-Event
	Delivery string // X-GitHub-Delivery (the same on a redelivery)
	Payload  []byte // raw body, already signature-checked
}

// Handler does the work for one event, after the delivery has been answered.
type Handler func(ctx context.Context, ev Event) error

// Dispatcher routes events by name to the handlers registered for them (the protection-rule gate
// registers deployment_protection_rule, the Slack flow deployment_status). Safe for concurrent use.
type Dispatcher struct {
	mu       sync.RWMutex
	handlers map[string][]Handler
}

// Handle registers h for the event name.
func (d *Dispatcher) Handle(event string, h Handler) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handlers == nil {
		d.handlers = map[string][]Handler{}
	}
	d.handlers[event] = append(d.handlers[event], h)
}

func (d *Dispatcher) lookup(event string) []Handler {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return append([]Handler(nil), d.handlers[event]...)
}

// Webhook is the POST /github/webhook handler: signature first, answer at once, work after.
type Webhook struct {
	secret []byte
	disp   *Dispatcher
	log    *slog.Logger
	seen   *recent
	work   *Work
	// Outcome, if set, is told each delivery's outcome (metrics): "accepted", "duplicate",
	// "bad_signature", "bad_request", "handler_error", "done".
	Outcome func(event, outcome string)
}

// NewWebhook needs the App's webhook secret (from the environment, never a file) and a
// dispatcher. ctx bounds the work started after answering.
func NewWebhook(ctx context.Context, secret string, d *Dispatcher, log *slog.Logger) (*Webhook, error) {
	if secret == "" {
		return nil, errors.New("GitHub webhook secret is empty: set GITHUB_WEBHOOK_SECRET to the secret in the App's settings (Webhook secret)")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Webhook{secret: []byte(secret), disp: d, log: log, seen: newRecent(10000), work: NewWork(ctx)}, nil
}

// Work runs what is done after a request was answered: it outlives the request and is waited
// for at shutdown.
type Work struct {
	ctx context.Context
	wg  sync.WaitGroup
}

// NewWork runs work under ctx (it should outlive requests and end at shutdown).
func NewWork(ctx context.Context) *Work { return &Work{ctx: ctx} }

// Go runs fn in the background.
func (w *Work) Go(fn func(context.Context)) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		fn(w.ctx)
	}()
}

// Wait blocks until the work started so far has finished or ctx ends (shutdown's deadline).
func (w *Work) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Webhook) outcome(event, o string) {
	if h.Outcome != nil {
		h.Outcome(event, o)
	}
}

// ServeHTTP checks X-Hub-Signature-256 over the raw body (constant time) before reading any
// header or field, drops a delivery id it has already taken, answers 202 and then runs the
// handlers.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil || len(body) > maxWebhookBody {
		h.outcome("", "bad_request")
		http.Error(w, "body unreadable or over 25 MB", http.StatusBadRequest)
		return
	}
	if !h.validSignature(r.Header.Get("X-Hub-Signature-256"), body) {
		h.outcome("", "bad_signature")
		h.log.Warn("webhook refused: bad or missing signature", "remote", r.RemoteAddr)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	ev := Event{Name: r.Header.Get("X-GitHub-Event"), Delivery: r.Header.Get("X-GitHub-Delivery"), Payload: body}
	if ev.Name == "" || ev.Delivery == "" {
		h.outcome(ev.Name, "bad_request")
		http.Error(w, "X-GitHub-Event and X-GitHub-Delivery are required", http.StatusBadRequest)
		return
	}
	if !h.seen.add(ev.Delivery) {
		h.outcome(ev.Name, "duplicate")
		h.log.Info("webhook duplicate ignored", "event", ev.Name, "delivery", ev.Delivery)
		w.WriteHeader(http.StatusOK)
		return
	}
	handlers := h.disp.lookup(ev.Name)
	h.outcome(ev.Name, "accepted")
	w.WriteHeader(http.StatusAccepted)
	if len(handlers) == 0 {
		return
	}
	h.work.Go(func(ctx context.Context) {
		for _, fn := range handlers {
			if err := fn(ctx, ev); err != nil {
				h.outcome(ev.Name, "handler_error")
				h.log.Error("webhook handler failed", "event", ev.Name, "delivery", ev.Delivery, "err", err)
				// Forget it: GitHub's redelivery (same id) may then do the work.
				h.seen.remove(ev.Delivery)
				return
			}
		}
		h.outcome(ev.Name, "done")
	})
}

// Wait blocks until the work started so far has finished or ctx ends (shutdown's deadline).
func (h *Webhook) Wait(ctx context.Context) error { return h.work.Wait(ctx) }

func (h *Webhook) validSignature(header string, body []byte) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, h.secret)
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}

// recent remembers the last n delivery ids (a replica's own duplicates; GitHub's redelivery of a
// delivery that failed here is let through because a failed id is removed).
type recent struct {
	mu    sync.Mutex
	n     int
	order []string
	set   map[string]struct{}
}

func newRecent(n int) *recent { return &recent{n: n, set: map[string]struct{}{}} }

func (r *recent) add(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.set[id]; ok {
		return false
	}
	r.set[id] = struct{}{}
	r.order = append(r.order, id)
	if len(r.order) > r.n {
		delete(r.set, r.order[0])
		r.order = r.order[1:]
	}
	return true
}

func (r *recent) remove(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.set, id)
}
