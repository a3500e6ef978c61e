package server

import "net/http"

// Routes mounts the webhook receiver, the Slack endpoints (when sl is not nil), the health check
// and the metrics. m nil: a fresh registry.
func Routes(wh *Webhook, sl *Slack, m *Metrics) *http.ServeMux {
	if m == nil {
		m = NewMetrics()
	}
	prev := wh.Outcome
	wh.Outcome = func(event, outcome string) {
		if event == "" {
			event = "unknown" // refused before the event name was trusted
		}
		m.webhooks.WithLabelValues(event, outcome).Inc()
		if prev != nil {
			prev(event, outcome)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/github/webhook", m.count("/github/webhook", wh))
	if sl != nil {
		prevSlack := sl.Outcome
		sl.Outcome = func(kind, outcome string) {
			m.slack.WithLabelValues(kind, outcome).Inc()
			if prevSlack != nil {
				prevSlack(kind, outcome)
			}
		}
		mux.Handle("/slack/commands", m.count("/slack/commands", sl.Commands()))
		mux.Handle("/slack/interactions", m.count("/slack/interactions", sl.Interactions()))
	} else {
		off := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "Slack is not configured on this server: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN", http.StatusNotFound)
		})
		mux.Handle("/slack/", m.count("/slack/", off))
	}
	mux.Handle("GET /healthz", m.count("/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})))
	mux.Handle("GET /metrics", m.handler())
	return mux
}
