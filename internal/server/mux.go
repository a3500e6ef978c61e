package server

import "net/http"

// Routes mounts the webhook receiver, the health check and the metrics.
func Routes(wh *Webhook) *http.ServeMux {
	m := newMetrics()
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
	mux.Handle("GET /healthz", m.count("/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})))
	mux.Handle("GET /metrics", m.handler())
	return mux
}
