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
	"net/url"
	"strconv"
	"time"
)

// hook is a webhook subscription: one made over REST (POST /repos/{o}/{r}/hooks, repo set) or
// with AddHook (repo nil: every repository).
type hook struct {
	id          int64
	repo        *repo // nil: every repository (AddHook)
	url         string
	secret      string
	events      map[string]bool
	eventList   []string // as rendered
	active      bool
	contentType string // "json" or "form"
	insecureSSL string // "0" or "1"
	createdAt   time.Time
	updatedAt   time.Time
	last        hookResponse
	app         *ghApp // non-nil: a GitHub App's webhook (AddApp), for its installed repositories
}

// hookResponse is a hook's last_response.
type hookResponse struct {
	code    int // 0 = null
	status  string
	message string // "" = null
}

type delivery struct {
	hook     *hook
	event    string
	id       string
	payload  []byte // the JSON payload
	targetID int64
	// For a GitHub App's webhook: the repository and installation, and whether this is a
	// redelivery (POST /app/hook/deliveries/{id}/attempts).
	repoID, instID int64
	redelivery     bool
}

// sent is what one delivery attempt sent and got back, for an App's delivery log.
type sent struct {
	at         time.Time
	duration   time.Duration
	reqHeader  http.Header
	respHeader http.Header
	respBody   []byte
}

// Delivery is the outcome of one webhook delivery.
type Delivery struct {
	Event, ID string
	Payload   []byte // the JSON payload (a form hook received it as payload=<urlencoded JSON>)
	Status    int    // the receiver's HTTP status; 0 when the request failed
	Err       string // transport error, if any
	HookURL   string
	HookID    int64 // X-GitHub-Hook-ID
}

// AddHook subscribes url to events of every repository ("deployment", "deployment_status",
// "issue_comment", "pull_request", "check_run", or "*" for all; none = deployment and
// deployment_status) and returns the hook's id (X-GitHub-Hook-ID). Deliveries are JSON; when
// secret is non-empty they carry X-Hub-Signature-256 (and the legacy X-Hub-Signature). Unlike a
// hook made with POST /repos/{o}/{r}/hooks it gets no ping and is not listed by the REST API.
func (e *Emulator) AddHook(url, secret string, events ...string) int64 {
	if len(events) == 0 {
		events = []string{"deployment", "deployment_status"}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now().UTC()
	h := &hook{id: e.newID(), url: url, secret: secret, active: true, contentType: "json", insecureSSL: "0",
		createdAt: now, updatedAt: now, last: hookResponse{status: "unused"}}
	h.setEvents(events)
	e.hooks = append(e.hooks, h)
	return h.id
}

func (h *hook) setEvents(events []string) {
	h.events = map[string]bool{}
	h.eventList = []string{}
	for _, ev := range events {
		if !h.events[ev] {
			h.events[ev] = true
			h.eventList = append(h.eventList, ev)
		}
	}
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
	if e.closed || !e.subscribedLocked(r, event) {
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

// wants says whether h gets event of repository r (an App's hook: only where it is installed).
func (h *hook) wants(r *repo, event string) bool {
	if h.app != nil && h.app.installationOn(r) == nil {
		return false
	}
	return h.active && (h.repo == nil || h.repo == r) && (h.events[event] || h.events["*"])
}

func (e *Emulator) subscribedLocked(r *repo, event string) bool {
	for _, h := range e.hooks {
		if h.wants(r, event) {
			return true
		}
	}
	return false
}

// enqueueRawLocked queues an encoded payload for every hook subscribed to event of r.
func (e *Emulator) enqueueRawLocked(r *repo, event string, b []byte) {
	if e.closed {
		return
	}
	for _, h := range e.hooks {
		if !h.wants(r, event) {
			continue
		}
		if h.app != nil {
			inst := h.app.installationOn(r)
			e.queueLocked(delivery{hook: h, event: event, id: newGUID(), payload: withInstallation(b, inst), targetID: h.app.cfg.ID,
				repoID: r.id, instID: inst.id})
			continue
		}
		e.queueLocked(delivery{hook: h, event: event, id: newGUID(), payload: b, targetID: r.id, repoID: r.id})
	}
}

// queueLocked queues one delivery and wakes the worker.
func (e *Emulator) queueLocked(d delivery) {
	if e.closed {
		return
	}
	e.hookQueue = append(e.hookQueue, d)
	select {
	case <-e.idle: // was idle: open a new wait
		e.idle = make(chan struct{})
	default:
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

		out, attempt := e.deliver(ctx, d)

		e.mu.Lock()
		e.inflight--
		e.delivered = append(e.delivered, out)
		d.hook.last = lastResponse(out)
		if d.hook.app != nil {
			e.logAppDeliveryLocked(d, out, attempt)
		}
		e.settleIdle()
		e.mu.Unlock()
	}
}

// hookshotAgent is the User-Agent of deliveries: GitHub-Hookshot/ and a short hex version, as
// GitHub's.
func hookshotAgent() string { return "GitHub-Hookshot/" + FakeSHA("deployment-action emulator")[:7] }

func (e *Emulator) deliver(ctx context.Context, d delivery) (Delivery, sent) {
	out := Delivery{Event: d.event, ID: d.id, Payload: d.payload, HookURL: d.hook.url, HookID: d.hook.id}
	attempt := sent{at: e.now().UTC(), reqHeader: http.Header{}, respHeader: http.Header{}}
	body, ctype := d.payload, "application/json"
	if d.hook.contentType == "form" {
		// GitHub's form content type: the JSON as the payload parameter; the signature covers
		// this body, as it covers whatever body is sent.
		body = []byte(url.Values{"payload": {string(d.payload)}}.Encode())
		ctype = "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.hook.url, bytes.NewReader(body))
	if err != nil {
		out.Err = err.Error()
		return out, attempt
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", hookshotAgent())
	req.Header.Set("X-GitHub-Event", d.event)
	req.Header.Set("X-GitHub-Delivery", d.id)
	req.Header.Set("X-GitHub-Hook-ID", strconv.FormatInt(d.hook.id, 10))
	targetType := "repository"
	if d.hook.app != nil {
		targetType = "integration" // an App's hook: the target is the App
	}
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", targetType)
	req.Header.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(d.targetID, 10))
	if d.hook.secret != "" {
		req.Header.Set("X-Hub-Signature-256", Sign(d.hook.secret, body))
		req.Header.Set("X-Hub-Signature", signSHA1(d.hook.secret, body))
	}
	attempt.reqHeader = req.Header.Clone()
	client := e.client
	if d.hook.insecureSSL == "1" {
		client = e.insecureClient
	}
	started := time.Now() // the real duration, as the delivery log reports it
	resp, err := client.Do(req)
	if err != nil {
		attempt.duration = time.Since(started)
		out.Err = err.Error()
		e.logf("emulator: webhook %s %s: %v", d.event, d.id, err)
		return out, attempt
	}
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	attempt.duration = time.Since(started)
	attempt.respHeader = resp.Header.Clone()
	attempt.respBody = respBody
	out.Status = resp.StatusCode
	return out, attempt
}

// lastResponse is a hook's last_response after delivery out, in GitHub's words.
func lastResponse(out Delivery) hookResponse {
	switch {
	case out.Err != "":
		return hookResponse{status: "failed", message: "failed to connect to host"}
	case out.Status >= 200 && out.Status < 300:
		return hookResponse{code: out.Status, status: "active", message: "OK"}
	}
	return hookResponse{code: out.Status, status: "failed", message: "Invalid HTTP Response: " + strconv.Itoa(out.Status)}
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
