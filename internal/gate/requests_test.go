package gate_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// The requests of one decision, counted from the emulator's log (docs/gate.md quotes them).
func TestRequestsPerDecision(t *testing.T) {
	w := newWorld(t, rules)
	if _, err := w.em.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "test", HeadSHA: w.sha, Status: "completed", Conclusion: "success"}); err != nil {
		t.Fatal(err)
	}
	w.deploy("staging", "success")
	count := func(req func()) []string {
		since := len(w.em.Requests())
		req()
		var got []string
		for _, r := range w.em.Requests()[since:] {
			got = append(got, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
		}
		return got
	}
	r1 := w.request("production", "octocat")
	w.now = w.now.Add(time.Hour)
	full := count(func() { w.handle(r1) })
	run := fmt.Sprint("/repos/octo-org/hello-world/actions/runs/", r1.RunID)
	deps := w.em.Deployments(owner, repo)
	want := []string{
		"GET " + run + " 200",
		"GET /repos/octo-org/hello-world/contents/.github/deployments.yml 200",
		"GET /repos/octo-org/hello-world/contents/lock.json 404", // on the lock's branch, which does not exist
		"GET /repos/octo-org/hello-world/commits/" + w.sha + "/check-runs 200",
		"GET /repos/octo-org/hello-world/commits/" + w.sha + "/status 200",
		"GET /repos/octo-org/hello-world/deployments 200",
		fmt.Sprint("GET /repos/octo-org/hello-world/deployments/", deps[0].ID, "/statuses 200"),
		"POST " + run + "/deployment_protection_rule 204",
	}
	if strings.Join(full, "\n") != strings.Join(want, "\n") {
		t.Fatalf("checks + after, approved:\n%s\nwant\n%s", strings.Join(full, "\n"), strings.Join(want, "\n"))
	}
	r2 := w.request("dev", "octocat")
	none := count(func() { w.handle(r2) })
	if len(none) != 4 || !strings.Contains(none[1], "304") {
		t.Fatalf("no rules (policy cached: 304):\n%s", strings.Join(none, "\n"))
	}
	again := count(func() { w.handle(r1) })
	if len(again) != 1 {
		t.Fatalf("a redelivery:\n%s", strings.Join(again, "\n"))
	}
	t.Logf("requests: checks+after %d, no rules %d, redelivery %d", len(full), len(none), len(again))
}
