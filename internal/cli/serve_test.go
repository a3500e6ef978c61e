package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestServeNeedsWebhookSecret(t *testing.T) {
	res := run(t, nil, "serve", "--listen", "127.0.0.1:0")
	var ue *UsageError
	if !errors.As(res.err, &ue) || !strings.Contains(res.err.Error(), "GITHUB_WEBHOOK_SECRET") {
		t.Fatalf("err = %v, want a usage error naming GITHUB_WEBHOOK_SECRET", res.err)
	}
}

// serve listens, logs JSON lines (without the secret) and returns cleanly when stopped.
func TestServeStopsOnSignal(t *testing.T) {
	var errb bytes.Buffer
	r := &runner{getenv: func(k string) string {
		if k == "GITHUB_WEBHOOK_SECRET" {
			return "s3cret-hook"
		}
		return ""
	}, stdout: &bytes.Buffer{}, stderr: &errb}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // SIGTERM before it starts: it must still open, then close, the listener
	if err := r.run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first["msg"] != "listening" {
		t.Fatalf("first log line %q, want JSON msg=listening", lines[0])
	}
	if strings.Contains(errb.String(), "s3cret-hook") {
		t.Fatal("the webhook secret was logged")
	}
}
