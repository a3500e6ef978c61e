package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one server's registry (not the global one: no package-level state, and two servers
// in one test process do not collide).
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	webhooks  *prometheus.CounterVec
	slack     *prometheus.CounterVec
	upstream  *prometheus.HistogramVec
	rateLimit *prometheus.GaugeVec
}

// NewMetrics makes the registry: requests served, webhook and Slack outcomes, and the latency
// and rate limit of GitHub and Slack as the server's own clients saw them.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deployment_action_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deployment_action_webhook_deliveries_total", Help: "Webhook deliveries by event and outcome.",
		}, []string{"event", "outcome"}),
		slack: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deployment_action_slack_requests_total", Help: "Slack slash commands and interactions by outcome.",
		}, []string{"kind", "outcome"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "deployment_action_upstream_request_seconds", Help: "Requests to GitHub and Slack by service, method and status code.",
			Buckets: []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"service", "method", "code"}),
		rateLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "deployment_action_github_rate_limit_remaining", Help: "X-RateLimit-Remaining of GitHub's last answer, by resource (core; one installation's bucket per token).",
		}, []string{"resource"}),
	}
	m.reg.MustRegister(m.requests, m.webhooks, m.slack, m.upstream, m.rateLimit)
	return m
}

func (m *Metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// count wraps h to count its requests under route.
func (m *Metrics) count(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
	})
}

// Client is an HTTP client whose requests are measured as service ("github" or "slack"); for
// GitHub it also records the rate limit left. The timeout bounds one request.
func (m *Metrics) Client(service string, base http.RoundTripper, timeout time.Duration) *http.Client {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &http.Client{Timeout: timeout, Transport: &measured{m: m, service: service, base: base}}
}

type measured struct {
	m       *Metrics
	service string
	base    http.RoundTripper
}

func (t *measured) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
		if t.service == "github" {
			if left, perr := strconv.ParseFloat(resp.Header.Get("X-RateLimit-Remaining"), 64); perr == nil {
				res := resp.Header.Get("X-RateLimit-Resource")
				if res == "" {
					res = "core"
				}
				t.m.rateLimit.WithLabelValues(res).Set(left)
			}
		}
	}
	t.m.upstream.WithLabelValues(t.service, req.Method, code).Observe(time.Since(start).Seconds())
	return resp, err
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}
