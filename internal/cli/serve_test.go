package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every missing or conflicting setting is named at once, before anything listens.
func TestServeReportsEveryProblemAtOnce(t *testing.T) {
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-not-shown", "SLACK_API_URL": "ftp://nope"}
	res := run(t, env, "serve", "--listen", "127.0.0.1:0")
	var ue *UsageError
	if !errors.As(res.err, &ue) {
		t.Fatalf("err = %v, want a usage error", res.err)
	}
	for _, want := range []string{"GITHUB_WEBHOOK_SECRET", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "SLACK_SIGNING_SECRET is empty", "SLACK_API_URL"} {
		if !strings.Contains(res.err.Error(), want) {
			t.Errorf("the error does not name %s:\n%v", want, res.err)
		}
	}
	if strings.Contains(res.err.Error(), "xoxb-not-shown") {
		t.Error("the error shows the bot token")
	}
}

func TestServeRefusesSecretsInTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "server.yml")
	if err := os.WriteFile(cfg, []byte("slack:\n  bot_token: xoxb-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := serveTestEnv(t)
	env["DEPLOYMENT_SERVER_CONFIG"] = cfg
	res := run(t, env, "serve", "--listen", "127.0.0.1:0")
	if res.err == nil || !strings.Contains(res.err.Error(), "secrets come from the environment only") {
		t.Fatalf("err = %v", res.err)
	}
}

func serveTestEnv(t *testing.T) map[string]string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return map[string]string{"GITHUB_WEBHOOK_SECRET": "s3cret-hook", "GITHUB_APP_ID": "12345", "GITHUB_APP_PRIVATE_KEY": string(pemKey),
		// No request leaves the machine: the start-up recovery finds nothing listening here.
		"GITHUB_API_URL": "http://127.0.0.1:1"}
}

// serve listens, logs JSON lines (without the secret) and returns cleanly when stopped.
func TestServeStopsOnSignal(t *testing.T) {
	var errb bytes.Buffer
	env := serveTestEnv(t)
	r := &runner{getenv: func(k string) string { return env[k] }, stdout: &bytes.Buffer{}, stderr: &errb}
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
	if strings.Contains(errb.String(), "s3cret-hook") || strings.Contains(errb.String(), "PRIVATE KEY") {
		t.Fatal("a secret was logged")
	}
}
