package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Event is one webhook delivery as a Checkly-style consumer sees it.
type Event struct {
	Event          string `json:"event"` // X-GitHub-Event: deployment or deployment_status
	Delivery       string `json:"delivery"`
	Action         string `json:"action"`
	Environment    string `json:"environment"`
	DeploymentID   int64  `json:"deployment_id"`
	State          string `json:"state,omitempty"` // deployment_status only
	EnvironmentURL string `json:"environment_url,omitempty"`
	Verified       bool   `json:"signature_verified"`
	// RunsChecks is whether Checkly would start its checks: a successful deployment of production.
	RunsChecks bool   `json:"runs_checks"`
	Decision   string `json:"checkly"`
	seq        int
}

// consumer is an HTTP webhook receiver that, like Checkly's GitHub integration, verifies every
// delivery's X-Hub-Signature-256 before acting on it and rejects what it cannot verify.
type consumer struct {
	secret string
	srv    *http.Server
	ln     net.Listener
	done   chan struct{}

	mu       sync.Mutex
	events   []Event
	rejected int
}

func startConsumer(secret string) (*consumer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("webhook consumer: %w", err)
	}
	c := &consumer{secret: secret, ln: ln, done: make(chan struct{})}
	c.srv = &http.Server{Handler: http.HandlerFunc(c.serveHTTP), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(c.done)
		_ = c.srv.Serve(ln) // ends with ErrServerClosed on close
	}()
	return c, nil
}

func (c *consumer) URL() string { return "http://" + c.ln.Addr().String() + "/webhooks/github" }

func (c *consumer) close() {
	_ = c.srv.Close()
	<-c.done
}

// verify checks X-Hub-Signature-256 against the raw body in constant time.
func verify(secret string, body []byte, header string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(header))
}

func (c *consumer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 25<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if !verify(c.secret, body, r.Header.Get("X-Hub-Signature-256")) {
		c.mu.Lock()
		c.rejected++
		c.mu.Unlock()
		http.Error(w, "signature mismatch", http.StatusUnauthorized)
		return
	}
	ev, err := parseEvent(r.Header.Get("X-GitHub-Event"), body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ev.Delivery = r.Header.Get("X-GitHub-Delivery")
	ev.Verified = true
	ev.RunsChecks, ev.Decision = checklyDecision(ev)
	c.mu.Lock()
	ev.seq = len(c.events)
	c.events = append(c.events, ev)
	c.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func parseEvent(name string, body []byte) (Event, error) {
	var p struct {
		Action     string `json:"action"`
		Deployment struct {
			ID          int64  `json:"id"`
			Environment string `json:"environment"`
		} `json:"deployment"`
		DeploymentStatus *struct {
			State          string `json:"state"`
			Environment    string `json:"environment"`
			EnvironmentURL string `json:"environment_url"`
		} `json:"deployment_status"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return Event{}, fmt.Errorf("payload: %w", err)
	}
	ev := Event{Event: name, Action: p.Action, Environment: p.Deployment.Environment, DeploymentID: p.Deployment.ID}
	switch name {
	case "deployment":
	case "deployment_status":
		if p.DeploymentStatus == nil {
			return Event{}, errors.New("deployment_status event without deployment_status")
		}
		ev.State, ev.EnvironmentURL = p.DeploymentStatus.State, p.DeploymentStatus.EnvironmentURL
		if p.DeploymentStatus.Environment != "" {
			ev.Environment = p.DeploymentStatus.Environment
		}
	default:
		return Event{}, fmt.Errorf("unexpected event %q", name)
	}
	return ev, nil
}

// checklyDecision is what Checkly's GitHub deployments integration does with an event: it
// waits for a successful deployment_status of the environment it watches (production here) and
// runs its checks against that status's environment_url.
func checklyDecision(ev Event) (bool, string) {
	switch {
	case ev.Event == "deployment":
		return false, "noted; waits for a final status"
	case ev.State == "success" && strings.EqualFold(ev.Environment, "production"):
		return true, "runs checks against " + ev.EnvironmentURL
	case ev.State == "success":
		return false, "no checks: " + ev.Environment + " is not watched (production only)"
	case ev.State == "failure" || ev.State == "error":
		return false, "no checks: the deployment did not succeed"
	default:
		return false, "waits for a final status"
	}
}

func (c *consumer) snapshot() (events []Event, rejected int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...), c.rejected
}
