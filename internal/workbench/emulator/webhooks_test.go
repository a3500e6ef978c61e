package emulator_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/apispec"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

func TestSignatureTestVector(t *testing.T) {
	eq(t, "vector", emulator.Sign("It's a Secret to Everybody", []byte("Hello, World!")),
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
}

type received struct {
	header http.Header
	body   []byte
}

type receiver struct {
	mu   sync.Mutex
	got  []received
	srv  *httptest.Server
	code int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{code: 200}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: b})
		code := rc.code
		rc.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

var hookshotRE = regexp.MustCompile(`^GitHub-Hookshot/[0-9a-f]{7}$`)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestWebhooks(t *testing.T) {
	const secret = "It's a Secret to Everybody"
	rc := newReceiver(t)
	onlyDeploy := newReceiver(t)
	a := start(t, emulator.Config{})
	a.e.AddHook(rc.srv.URL, secret, "deployment", "deployment_status")
	a.e.AddHook(onlyDeploy.srv.URL, "", "deployment")

	d1 := a.createDeployment(map[string]any{"ref": "main", "environment": "staging", "payload": map[string]any{"k": "v"}})
	a.addStatus(d1["id"], map[string]any{"state": "in_progress", "log_url": "https://ci.example/1"})
	a.addStatus(d1["id"], map[string]any{"state": "success", "environment_url": "https://staging.example"})
	d2 := a.createDeployment(map[string]any{"ref": "main", "environment": "staging"})
	// success on d2 auto-inactivates d1: no delivery for that inactive status
	a.addStatus(d2["id"], map[string]any{"state": "success"})
	// an explicit inactive status: no delivery either
	a.addStatus(d2["id"], map[string]any{"state": "inactive"})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.e.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	if states(a.e.Deployments(owner, repo)[0])[2] != "inactive" {
		t.Fatalf("d1 was not auto-inactivated")
	}

	got := rc.all()
	wantEvents := []string{"deployment", "deployment_status", "deployment_status", "deployment", "deployment_status"}
	if len(got) != len(wantEvents) {
		t.Fatalf("%d deliveries, want %d", len(got), len(wantEvents))
	}
	validator := webhookValidator(t)
	ids := map[string]bool{}
	for i, g := range got {
		eq(t, "event", g.header.Get("X-GitHub-Event"), wantEvents[i])
		eq(t, "content type", g.header.Get("Content-Type"), "application/json")
		if ua := g.header.Get("User-Agent"); !hookshotRE.MatchString(ua) {
			t.Errorf("User-Agent %q, want GitHub-Hookshot/<hex>", ua)
		}
		if g.header.Get("X-GitHub-Hook-ID") == "" {
			t.Errorf("no hook id")
		}
		id := g.header.Get("X-GitHub-Delivery")
		if !guidRE.MatchString(id) || ids[id] {
			t.Errorf("delivery id %q not a fresh GUID", id)
		}
		ids[id] = true
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(g.body)
		want := "sha256=" + hex.EncodeToString(m.Sum(nil))
		if !hmac.Equal([]byte(g.header.Get("X-Hub-Signature-256")), []byte(want)) {
			t.Errorf("delivery %d: bad signature %q", i, g.header.Get("X-Hub-Signature-256"))
		}
		var p map[string]any
		if err := json.Unmarshal(g.body, &p); err != nil {
			t.Fatal(err)
		}
		eq(t, "action", p["action"], any("created"))
		for _, k := range []string{"deployment", "repository", "sender"} {
			if _, ok := p[k].(map[string]any); !ok {
				t.Errorf("delivery %d lacks %s", i, k)
			}
		}
		if wantEvents[i] == "deployment_status" {
			st := p["deployment_status"].(map[string]any)
			if st["state"] == "inactive" {
				t.Errorf("inactive status delivered")
			}
		}
		if validator != nil {
			if err := validator.ValidateWebhook(wantEvents[i], g.body); err != nil {
				t.Errorf("delivery %d: %v", i, err)
			}
		}
	}
	var first map[string]any
	json.Unmarshal(got[0].body, &first)
	eq(t, "deployment id in payload", first["deployment"].(map[string]any)["id"], d1["id"])
	eq(t, "repository full_name", first["repository"].(map[string]any)["full_name"], any(owner+"/"+repo))
	var st map[string]any
	json.Unmarshal(got[1].body, &st)
	eq(t, "status payload state", st["deployment_status"].(map[string]any)["state"], any("in_progress"))

	// hook without secret: no signature, only its events
	od := onlyDeploy.all()
	eq(t, "deployment-only hook", len(od), 2)
	for _, g := range od {
		eq(t, "event", g.header.Get("X-GitHub-Event"), "deployment")
		eq(t, "no signature", g.header.Get("X-Hub-Signature-256"), "")
	}

	// Deliveries() reports outcomes
	dl := a.e.Deliveries()
	eq(t, "deliveries", len(dl), 7)
	for _, d := range dl {
		if d.Status != 200 || d.Err != "" {
			t.Errorf("delivery %+v", d)
		}
	}
}

func TestWebhookReceiverFailure(t *testing.T) {
	rc := newReceiver(t)
	rc.code = 500
	a := start(t, emulator.Config{})
	a.e.AddHook(rc.srv.URL, "")
	a.e.AddHook("http://127.0.0.1:1/unreachable", "")
	a.createDeployment(map[string]any{"ref": "main"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.e.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	dl := a.e.Deliveries()
	if len(dl) != 2 || dl[0].Status != 500 || dl[1].Err == "" {
		t.Errorf("deliveries %+v", dl)
	}
	// WaitDeliveries with nothing queued returns at once
	if err := a.e.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
}

type webhookChecker interface {
	ValidateWebhook(event string, payload []byte) error
}

// webhookValidator returns the description's webhook payload checker when apispec has one and
// the description is available.
func webhookValidator(t *testing.T) webhookChecker {
	path, _ := apispec.SpecPath()
	if path == "" {
		return nil
	}
	v, err := apispec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	wc, _ := any(v).(webhookChecker)
	return wc
}
