// Package bench holds the performance benchmarks (all in _test.go files): requests per
// lifecycle, per-stage overhead of the real binary as a subprocess (start-up, wall time minus
// server time, peak RSS, connections and TLS handshakes), clean-ups and matrices at scale under
// GitHub's secondary limit, and the binary's size.
//
// Run them with
//
//	go test -run '^$' -bench . -benchtime 1x -short ./internal/suites/bench/   # CI, about a minute
//	DEPLOYMENT_ACTION_BENCH_FULL=1 go test -run '^$' -bench . -benchtime 1x -timeout 3h ./internal/suites/bench/
//
// The short mode (the default) scales sizes down and GitHub's one-minute secondary-limit window
// to a few seconds; the full mode uses 1,000 deployments and the real one-minute window. Every
// benchmark reports custom metrics (b.ReportMetric) and logs "FIGURE ..." lines.
package bench
