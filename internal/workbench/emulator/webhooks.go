package emulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

type hook struct {
	id     int64
	url    string
	secret string
	events map[string]bool
}

type delivery struct {
	hook     *hook
	event    string
	id       string
	payload  []byte
	targetID int64
}

// Delivery is the outcome of one webhook delivery.
type Delivery struct {
	Event, ID string
	Payload   []byte
	Status    int    // the receiver's HTTP status; 0 when the request failed
	Err       string // transport error, if any
	HookURL   string
}

// AddHook subscribes url to events ("deployment", "deployment_status", "issue_comment",
// "pull_request", "check_run", or "*" for all; none = deployment and deployment_status). When
// secret is non-empty deliveries carry X-Hub-Signature-256 (and the legacy X-Hub-Signature).
func (e *Emulator) AddHook(url, secret string, events ...string) {
	if len(events) == 0 {
		events = []string{"deployment", "deployment_status"}
	}
	h := &hook{url: url, secret: secret, events: map[string]bool{}}
	for _, ev := range events {
		h.events[ev] = true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	h.id = e.newID()
	e.hooks = append(e.hooks, h)
}

// Sign returns the X-Hub-Signature-256 value for body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func signSHA1(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// enqueueLocked queues a webhook event for every subscribed hook (e.mu held).
func (e *Emulator) enqueueLocked(r *repo, event, base string, payload obj) {
	if e.closed || !e.subscribedLocked(event) {
		return
	}
	if _, ok := payload["repository"]; !ok {
		r.addOwner(base, payload)
	}
	if _, ok := payload["sender"]; !ok {
		payload["sender"] = actionsBot.json(base)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		e.logf("emulator: webhook payload: %v", err)
		return
	}
	e.enqueueRawLocked(r, event, b)
}

func (h *hook) wants(event string) bool { return h.events[event] || h.events["*"] }

func (e *Emulator) subscribedLocked(event string) bool {
	for _, h := range e.hooks {
		if h.wants(event) {
			return true
		}
	}
	return false
}

// enqueueRawLocked queues an encoded payload for every hook subscribed to event.
func (e *Emulator) enqueueRawLocked(r *repo, event string, b []byte) {
	if e.closed {
		return
	}
	queued := false
	for _, h := range e.hooks {
		if !h.wants(event) {
			continue
		}
		queued = true
		e.hookQueue = append(e.hookQueue, delivery{hook: h, event: event, id: newGUID(), payload: b, targetID: r.id})
		select {
		case <-e.idle: // was idle: open a new wait
			e.idle = make(chan struct{})
		default:
		}
	}
	if !queued {
		return
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Emulator) settleIdle() {
	if e.inflight == 0 && len(e.hookQueue) == 0 {
		select {
		case <-e.idle:
		default:
			close(e.idle)
		}
	}
}

func (e *Emulator) hookWorker() {
	defer e.hookWG.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-e.hookStop
		cancel()
	}()
	for {
		e.mu.Lock()
		if len(e.hookQueue) == 0 {
			e.settleIdle()
			e.mu.Unlock()
			select {
			case <-e.wake:
				continue
			case <-e.hookStop:
				return
			}
		}
		d := e.hookQueue[0]
		e.hookQueue = e.hookQueue[1:]
		e.inflight++
		e.mu.Unlock()

		out := e.deliver(ctx, d)

		e.mu.Lock()
		e.inflight--
		e.delivered = append(e.delivered, out)
		e.settleIdle()
		e.mu.Unlock()
	}
}

func (e *Emulator) deliver(ctx context.Context, d delivery) Delivery {
	out := Delivery{Event: d.event, ID: d.id, Payload: d.payload, HookURL: d.hook.url}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.hook.url, bytes.NewReader(d.payload))
	if err != nil {
		out.Err = err.Error()
		return out
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/emulator")
	req.Header.Set("X-GitHub-Event", d.event)
	req.Header.Set("X-GitHub-Delivery", d.id)
	req.Header.Set("X-GitHub-Hook-ID", strconv.FormatInt(d.hook.id, 10))
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "repository")
	req.Header.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(d.targetID, 10))
	if d.hook.secret != "" {
		req.Header.Set("X-Hub-Signature-256", Sign(d.hook.secret, d.payload))
		req.Header.Set("X-Hub-Signature", signSHA1(d.hook.secret, d.payload))
	}
	resp, err := e.client.Do(req)
	if err != nil {
		out.Err = err.Error()
		e.logf("emulator: webhook %s %s: %v", d.event, d.id, err)
		return out
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	out.Status = resp.StatusCode
	return out
}

// WaitDeliveries blocks until every queued webhook delivery is done (or ctx ends).
func (e *Emulator) WaitDeliveries(ctx context.Context) error {
	e.mu.Lock()
	ch := e.idle
	e.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Deliveries returns every finished delivery, in order.
func (e *Emulator) Deliveries() []Delivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Delivery, len(e.delivered))
	for i, d := range e.delivered {
		d.Payload = append([]byte(nil), d.Payload...)
		out[i] = d
	}
	return out
}
