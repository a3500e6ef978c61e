package cli

import (
	"context"
	"log/slog"

	"github.com/deployment-action/deployment-action/internal/server"
)

// serve runs the webhook server; the secret is read from the environment only.
func (r *runner) serve(ctx context.Context, o *opts) error {
	secret := r.getenv("GITHUB_WEBHOOK_SECRET")
	if secret == "" {
		return usagef("serve", "GITHUB_WEBHOOK_SECRET is empty: set it to the webhook secret in the GitHub App's settings")
	}
	log := slog.New(slog.NewJSONHandler(r.stderr, nil))
	return server.Serve(ctx, server.Options{Listen: o.get("listen"), WebhookSecret: secret, Log: log})
}
