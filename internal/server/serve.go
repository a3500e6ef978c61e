package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace is how long a stopping server gives in-flight requests and the work started
// after answering (Kubernetes and Cloud Run send SIGKILL 10 s after SIGTERM by default).
const ShutdownGrace = 9 * time.Second

// Options configures Serve. Secrets come from the environment via the caller, never a file.
type Options struct {
	Listen        string // default :8080
	WebhookSecret string
	Dispatcher    *Dispatcher
	// Slack, with SlackSigningSecret, mounts /slack/commands and /slack/interactions.
	Slack              SlackHandler
	SlackSigningSecret string
	Metrics            *Metrics // nil: a fresh registry
	Log                *slog.Logger
	Now                func() time.Time // Slack's timestamp check; nil = time.Now
	// Start, if set, runs in the background once the listener is open, with the work's
	// context (the gate's recovery from the delivery log).
	Start func(ctx context.Context)
	// Ready, if set, is told the bound address once the listener is open (tests use port 0).
	Ready func(addr string)
}

// Serve runs until ctx ends (SIGTERM), then stops taking requests and waits up to ShutdownGrace
// for requests and work in flight. Work still running then is abandoned: its request was
// answered, and GitHub's redelivery (or the delivery log at the next start) is the hand-back.
func Serve(ctx context.Context, o Options) error {
	if o.Listen == "" {
		o.Listen = ":8080"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Dispatcher == nil {
		o.Dispatcher = &Dispatcher{}
	}
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	wh, err := NewWebhook(workCtx, o.WebhookSecret, o.Dispatcher, o.Log)
	if err != nil {
		return err
	}
	var sl *Slack
	if o.Slack != nil {
		if sl, err = NewSlack(o.SlackSigningSecret, o.Slack, wh.work, o.Now, o.Log); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.Listen, err)
	}
	srv := &http.Server{Handler: Routes(wh, sl, o.Metrics), ReadHeaderTimeout: 10 * time.Second}
	o.Log.Info("listening", "addr", ln.Addr().String(), "slack", sl != nil)
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	if o.Start != nil {
		wh.work.Go(o.Start)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	o.Log.Info("shutting down", "grace", ShutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if werr := wh.Wait(sctx); werr != nil {
		o.Log.Warn("work abandoned at shutdown; GitHub's redelivery or the next start's recovery will retry it", "err", werr)
		cancelWork()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
