package server

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"
)

// Stopping waits for webhook work that was answered but not finished.
func TestServeFinishesWorkOnStop(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	d := &Dispatcher{}
	started, finished := make(chan struct{}), make(chan struct{})
	release := make(chan struct{})
	d.Handle("deployment_status", func(context.Context, Event) error {
		close(started)
		<-release
		close(finished)
		return nil
	})
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Options{Listen: "127.0.0.1:0", WebhookSecret: secret, Dispatcher: d, Ready: func(a string) { addrc <- a }})
	}()
	url := "http://" + <-addrc
	body := []byte(`{}`)
	req, _ := http.NewRequest(http.MethodPost, url+"/github/webhook", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", sign(secret, body))
	req.Header.Set("X-GitHub-Event", "deployment_status")
	req.Header.Set("X-GitHub-Delivery", "g1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-started
	stop()
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) while work was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("Serve returned before the work finished")
	}
}
