package bench

import (
	"net/http"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// lifecycleModes and the requests each must cost: the floor the API allows (one create, one
// status per state) plus, for a mode that creates, the one read of the environment's lock
// (deployment locks; ignore-locks: true skips it and gives the floor).
var lifecycleModes = []struct {
	mode  string
	with  map[string]string
	want  int
	reads int
	final string
}{
	{"auto", nil, 4, 1, "in_progress,success"},
	{"trigger", map[string]string{"mode": "trigger"}, 3, 1, "success"},
	{"auto ignore-locks", map[string]string{"ignore-locks": "true"}, 3, 0, "in_progress,success"},
	{"status", nil, 1, 0, "in_progress,queued"},
	{"finish", nil, 1, 0, "in_progress,success"},
}

// lifecycleRequests runs one job in mode against a fresh emulator and returns the requests the
// job sent (for status and finish, after the start job that made their deployment).
func lifecycleRequests(tb testing.TB, act *actionsim.Action, mode string, extra map[string]string, final string) []emulator.Request {
	tb.Helper()
	e := emulatortest.Start(tb, emulator.Config{})
	with := map[string]string{"environment": "staging"}
	for k, v := range extra {
		with[k] = v
	}
	switch mode {
	case "auto", "trigger", "auto ignore-locks":
	default:
		start := runJob(tb, newJob(act, e.URL(), map[string]string{"mode": "start", "environment": "staging"}))
		e.ResetRequests()
		with = map[string]string{"mode": mode, "deployment-id": start.Outputs["deployment-id"]}
		if mode == "status" {
			with["state"] = "queued"
		}
	}
	runJob(tb, newJob(act, e.URL(), with))
	deps := e.Deployments(owner, repoName)
	if len(deps) != 1 {
		tb.Fatalf("%s: %d deployments, want 1", mode, len(deps))
	}
	var states []string
	for _, s := range deps[0].Statuses {
		states = append(states, s.State)
	}
	if got := strings.Join(states, ","); got != final {
		tb.Fatalf("%s: states %s, want %s", mode, got, final)
	}
	return e.Requests()
}

func countReads(reqs []emulator.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Method == http.MethodGet {
			n++
		}
	}
	return n
}

// TestRequestsPerLifecycle asserts the request counts the benchmark reports.
func TestRequestsPerLifecycle(t *testing.T) {
	t.Parallel()
	act := loadAction(t)
	for _, tc := range lifecycleModes {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			reqs := lifecycleRequests(t, act, tc.mode, tc.with, tc.final)
			if len(reqs) != tc.want || countReads(reqs) != tc.reads {
				var lines []string
				for _, r := range reqs {
					lines = append(lines, r.Method+" "+r.Path)
				}
				t.Errorf("%s: %d requests (%d look-ups), want %d and %d:\n%s", tc.mode, len(reqs), countReads(reqs), tc.want, tc.reads, strings.Join(lines, "\n"))
			}
		})
	}
}

// BenchmarkRequestsPerLifecycle reports requests and look-ups per job for each mode.
func BenchmarkRequestsPerLifecycle(b *testing.B) {
	act := loadAction(b)
	for _, tc := range lifecycleModes {
		b.Run(tc.mode, func(b *testing.B) {
			var reqs []emulator.Request
			for range b.N {
				reqs = lifecycleRequests(b, act, tc.mode, tc.with, tc.final)
			}
			b.ReportMetric(float64(len(reqs)), "requests/job")
			b.ReportMetric(float64(countReads(reqs)), "lookups/job")
			ok := len(reqs) == tc.want && countReads(reqs) == tc.reads
			figure(b, "requests %s: %d requests, %d look-ups (target %d, %d: %s)", tc.mode, len(reqs), countReads(reqs), tc.want, tc.reads, met(ok))
			if !ok {
				b.Errorf("%s: %d requests, %d look-ups; want %d and %d", tc.mode, len(reqs), countReads(reqs), tc.want, tc.reads)
			}
		})
	}
}
