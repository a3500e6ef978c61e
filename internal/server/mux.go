package server

import "net/http"

// Routes mounts the webhook receiver and the health check.
func Routes(wh *Webhook) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/github/webhook", wh)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
