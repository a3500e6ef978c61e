package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/gate"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/ghapp"
	"github.com/deployment-action/deployment-action/internal/server"
	"github.com/deployment-action/deployment-action/internal/slackops"
)

// serveEnv is everything serve reads from the environment; secrets come from nowhere else.
type serveEnv struct {
	webhookSecret, appID, keyPEM, apiURL string
	slackSecret, slackToken, slackAPIURL string
	configPath                           string
}

// readServeEnv reads and checks the environment, reporting every problem at once.
func (r *runner) readServeEnv(o *opts) (serveEnv, error) {
	e := serveEnv{
		webhookSecret: r.getenv("GITHUB_WEBHOOK_SECRET"), appID: strings.TrimSpace(r.getenv("GITHUB_APP_ID")),
		apiURL: ghapi.APIURLFromEnv(r.getenv), slackSecret: r.getenv("SLACK_SIGNING_SECRET"), slackToken: r.getenv("SLACK_BOT_TOKEN"),
		slackAPIURL: strings.TrimSpace(r.getenv("SLACK_API_URL")), configPath: o.get("config"),
	}
	if e.configPath == "" {
		e.configPath = r.getenv("DEPLOYMENT_SERVER_CONFIG")
	}
	var probs []string
	if e.webhookSecret == "" {
		probs = append(probs, "GITHUB_WEBHOOK_SECRET is empty: set it to the webhook secret in the GitHub App's settings")
	}
	if e.appID == "" {
		probs = append(probs, "GITHUB_APP_ID is empty: set it to the App's id (App settings → About → App ID)")
	}
	key, file := r.getenv("GITHUB_APP_PRIVATE_KEY"), r.getenv("GITHUB_APP_PRIVATE_KEY_FILE")
	switch {
	case key != "" && file != "":
		probs = append(probs, "GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE are both set: keep one")
	case key != "":
		e.keyPEM = key
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			probs = append(probs, fmt.Sprintf("GITHUB_APP_PRIVATE_KEY_FILE: %v", err))
		}
		e.keyPEM = string(b)
	default:
		probs = append(probs, "GITHUB_APP_PRIVATE_KEY (PEM text) or GITHUB_APP_PRIVATE_KEY_FILE (its path) is needed: generate a private key in the App's settings")
	}
	switch {
	case e.slackSecret != "" && e.slackToken == "":
		probs = append(probs, "SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is empty: set it to the Slack app's Bot User OAuth Token (xoxb-…), or unset both to serve without Slack")
	case e.slackSecret == "" && e.slackToken != "":
		probs = append(probs, "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is empty: set it to the Slack app's Signing Secret, or unset both to serve without Slack")
	}
	if e.slackAPIURL != "" {
		if u, err := url.Parse(e.slackAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			probs = append(probs, fmt.Sprintf("SLACK_API_URL %q is not an http(s) URL: leave it unset for https://slack.com/api/", e.slackAPIURL))
		} else if !strings.HasSuffix(e.slackAPIURL, "/") {
			e.slackAPIURL += "/"
		}
	}
	if len(probs) > 0 {
		return e, usagef("serve", "%s", strings.Join(probs, "\n  "))
	}
	return e, nil
}

// serve runs the App server: webhooks (the Slack messages' updates, the protection rule) and,
// when Slack is configured, the slash command.
func (r *runner) serve(ctx context.Context, o *opts) error {
	e, err := r.readServeEnv(o)
	if err != nil {
		return err
	}
	fc, err := server.LoadConfig(e.configPath)
	if err != nil {
		return usagef("serve", "%v", err)
	}
	opts, err := ServerOptions(AppServer{
		Listen: o.get("listen"), AppID: e.appID, PrivateKeyPEM: e.keyPEM, WebhookSecret: e.webhookSecret, APIURL: e.apiURL,
		SlackSigningSecret: e.slackSecret, SlackBotToken: e.slackToken, SlackAPIURL: e.slackAPIURL,
		SlackChannels: fc.Slack.Channels, SlackUsers: fc.Slack.Users,
		Log: slog.New(slog.NewJSONHandler(r.stderr, nil)),
	})
	if err != nil {
		return usagef("serve", "%v", err)
	}
	return server.Serve(ctx, opts)
}

// AppServer is what the App server runs with: what serve reads from its environment and its
// config file, for a caller that runs the server in its own process (the workbench's demo).
type AppServer struct {
	Listen                                      string // server.Options.Listen
	AppID, PrivateKeyPEM, WebhookSecret, APIURL string
	// Slack is served when SlackSigningSecret is set (with SlackBotToken); SlackAPIURL ""
	// is Slack's own, else it ends with "/".
	SlackSigningSecret, SlackBotToken, SlackAPIURL string
	SlackChannels, SlackUsers                      map[string]string // the config file's slack section
	Log                                            *slog.Logger      // nil: discarded
	Ready                                          func(addr string) // server.Options.Ready
}

// ServerOptions wires the App server for server.Serve: the protection rule (with its recovery
// from the App's delivery log at start) and, when Slack is configured, the slash command and
// the messages' updates from deployment_status. The error is a bad App id or key.
func ServerOptions(c AppServer) (server.Options, error) {
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	metrics := server.NewMetrics()
	ghHTTP := metrics.Client("github", nil, 30*time.Second)
	app, err := ghapp.New(ghapp.Options{AppID: c.AppID, PrivateKeyPEM: []byte(c.PrivateKeyPEM), APIURL: c.APIURL, HTTPClient: ghHTTP})
	if err != nil {
		return server.Options{}, err
	}
	d := &server.Dispatcher{}
	g := &gate.Service{APIURL: c.APIURL, Web: ghapi.WebURL(c.APIURL), Tokens: app, HTTP: ghHTTP,
		Logf: func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }}
	d.Handle("deployment_protection_rule", func(ctx context.Context, ev server.Event) error { return g.HandleEvent(ctx, ev.Payload) })
	var recoverSlack func(context.Context)
	opts := server.Options{Listen: c.Listen, WebhookSecret: c.WebhookSecret, Dispatcher: d, Metrics: metrics, Log: log, Ready: c.Ready,
		Start: func(ctx context.Context) {
			if recoverSlack != nil {
				recoverSlack(ctx)
			}
			// Requests sent while no replica was up (or not finished before a restart) are in
			// the App's delivery log; each is decided again, and answered ones are skipped.
			n, err := gate.Recover(ctx, deliveryLog{app}, time.Now(), g.Decide)
			if err != nil {
				log.Warn("protection rule: recovery from the delivery log stopped", "err", err, "handed", n)
				return
			}
			log.Info("protection rule: recovered from the delivery log", "requests", n)
		}}
	if c.SlackSigningSecret != "" {
		ops := &slackops.Ops{
			Directory: slackops.Directory{Channels: c.SlackChannels, Users: c.SlackUsers},
			GitHub:    app, APIURL: c.APIURL, HTTP: ghHTTP, Log: log, Secret: c.WebhookSecret,
			Slack: slackops.NewWebAPI(c.SlackBotToken, c.SlackAPIURL, metrics.Client("slack", nil, 15*time.Second)),
		}
		d.Handle("deployment_status", func(ctx context.Context, ev server.Event) error { return ops.HandleStatus(ctx, ev.Payload) })
		recoverSlack = func(ctx context.Context) {
			// A status answered by a process killed before it updated Slack, or sent while no
			// replica was up, is in the delivery log: the messages show the newest status again.
			n, err := ops.Recover(ctx, deliveryLog{app}, time.Now().Add(-slackops.RecoverWindow))
			if err != nil {
				log.Warn("slack: recovery from the delivery log stopped", "err", err, "messages", n)
				return
			}
			log.Info("slack: messages brought up to date from the delivery log", "messages", n)
		}
		opts.Slack, opts.SlackSigningSecret = slackHandler{ops}, c.SlackSigningSecret
	}
	return opts, nil
}

// slackHandler adapts slackops to the server's Slack endpoints.
type slackHandler struct{ ops *slackops.Ops }

func (h slackHandler) Command(f url.Values) (server.SlackReply, func(context.Context)) {
	if f.Get("ssl_check") == "1" {
		return server.SlackReply{}, nil // Slack checking the certificate: nothing to do
	}
	reply, work := h.ops.Command(slackops.RequestFromForm(f))
	return server.SlackReply{Text: reply.Text}, work
}

func (h slackHandler) Interaction(payload []byte) (server.SlackReply, func(context.Context)) {
	reply, work := h.ops.Interaction(payload)
	return server.SlackReply{Text: reply.Text}, work
}

// deliveryLog is the App's webhook delivery log for gate.Recover.
type deliveryLog struct{ app *ghapp.App }

func (l deliveryLog) Deliveries(ctx context.Context, cursor string) ([]gate.Delivery, string, error) {
	ds, next, err := l.app.HookDeliveries(ctx, cursor)
	if err != nil {
		return nil, "", err
	}
	out := make([]gate.Delivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, gate.Delivery{ID: d.GetID(), GUID: d.GetGUID(), Event: d.GetEvent(), Action: d.GetAction(),
			DeliveredAt: d.GetDeliveredAt().Time, Redelivery: d.GetRedelivery(), StatusCode: d.GetStatusCode()})
	}
	return out, next, nil
}

func (l deliveryLog) Payload(ctx context.Context, id int64) ([]byte, error) {
	return l.app.HookPayload(ctx, id)
}

func (l deliveryLog) Redeliver(ctx context.Context, id int64) error {
	return l.app.RedeliverHook(ctx, id)
}

var _ slackops.DeliveryLog = deliveryLog{}
