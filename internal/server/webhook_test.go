package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const secret = "hook-secret"

type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) got() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// start serves the real routes on 127.0.0.1; handler runs for deployment_status.
func start(t *testing.T, handler Handler) (string, *Webhook) {
	t.Helper()
	d := &Dispatcher{}
	d.Handle("deployment_status", handler)
	wh, err := NewWebhook(context.Background(), secret, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Routes(wh, nil, nil))
	t.Cleanup(srv.Close)
	return srv.URL, wh
}

func post(t *testing.T, url, sig, event, delivery string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/github/webhook", bytes.NewReader(body))
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestWebhookRefusesUnsignedAndForged(t *testing.T) {
	rec := &recorder{}
	url, wh := start(t, func(_ context.Context, ev Event) error {
		rec.mu.Lock()
		rec.events = append(rec.events, ev)
		rec.mu.Unlock()
		return nil
	})
	body := []byte(`{"action":"created"}`)
	for name, sig := range map[string]string{
		"unsigned":         "",
		"wrong secret":     sign("other", body),
		"sha1 form":        "sha1=" + sign(secret, body)[7:],
		"not hex":          "sha256=zz",
		"other body's sig": sign(secret, []byte(`{"action":"other"}`)),
	} {
		if st := post(t, url, sig, "deployment_status", "d-"+name, body); st != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, st)
		}
	}
	if err := wh.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.got()); n != 0 {
		t.Fatalf("%d refused deliveries reached the handler", n)
	}
}

func TestWebhookAnswersBeforeWorkAndOncePerDelivery(t *testing.T) {
	release := make(chan struct{})
	rec := &recorder{}
	url, wh := start(t, func(_ context.Context, ev Event) error {
		<-release // the answer must not wait for this
		rec.mu.Lock()
		rec.events = append(rec.events, ev)
		rec.mu.Unlock()
		return nil
	})
	body := []byte(`{"deployment_status":{"state":"success"}}`)
	if st := post(t, url, sign(secret, body), "deployment_status", "guid-1", body); st != http.StatusAccepted {
		t.Fatalf("status %d, want 202 while the handler is still blocked", st)
	}
	if st := post(t, url, sign(secret, body), "deployment_status", "guid-1", body); st != http.StatusOK {
		t.Fatalf("duplicate: status %d, want 200", st)
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := wh.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	got := rec.got()
	if len(got) != 1 || got[0].Delivery != "guid-1" || !bytes.Equal(got[0].Payload, body) {
		t.Fatalf("handler saw %+v, want guid-1 once with the raw payload", got)
	}
}

func TestWebhookFailedDeliveryCanBeRedelivered(t *testing.T) {
	calls := 0
	var mu sync.Mutex
	url, wh := start(t, func(context.Context, Event) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return errors.New("GitHub unavailable")
		}
		return nil
	})
	body := []byte(`{}`)
	post(t, url, sign(secret, body), "deployment_status", "guid-2", body)
	_ = wh.Wait(context.Background())
	if st := post(t, url, sign(secret, body), "deployment_status", "guid-2", body); st != http.StatusAccepted {
		t.Fatalf("redelivery after a failure: status %d, want 202 (work again)", st)
	}
	_ = wh.Wait(context.Background())
	if calls != 2 {
		t.Fatalf("handler ran %d times, want 2", calls)
	}
}

func TestWebhookNeedsSecretAndHeaders(t *testing.T) {
	if _, err := NewWebhook(context.Background(), "", &Dispatcher{}, nil); err == nil {
		t.Fatal("empty secret accepted")
	}
	url, _ := start(t, func(context.Context, Event) error { return nil })
	body := []byte(`{}`)
	if st := post(t, url, sign(secret, body), "deployment_status", "", body); st != http.StatusBadRequest {
		t.Errorf("no delivery id: status %d, want 400", st)
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestMetricsCountWebhookOutcomes(t *testing.T) {
	url, wh := start(t, func(context.Context, Event) error { return nil })
	body := []byte(`{}`)
	post(t, url, "", "deployment_status", "m1", body)
	post(t, url, sign(secret, body), "deployment_status", "m2", body)
	post(t, url, sign(secret, body), "deployment_status", "m2", body)
	_ = wh.Wait(context.Background())
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	for _, want := range []string{
		`deployment_action_webhook_deliveries_total{event="unknown",outcome="bad_signature"} 1`,
		`deployment_action_webhook_deliveries_total{event="deployment_status",outcome="accepted"} 1`,
		`deployment_action_webhook_deliveries_total{event="deployment_status",outcome="duplicate"} 1`,
		`deployment_action_http_requests_total{code="401",route="/github/webhook"} 1`,
	} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("/metrics lacks %s\n%s", want, b.String())
		}
	}
}
