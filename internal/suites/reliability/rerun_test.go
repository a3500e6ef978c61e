package reliability

import (
	"fmt"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// TestRerunAttempts: re-running a job (GITHUB_RUN_ATTEMPT=2) makes its own deployment rather
// than reusing attempt 1's, links attempt 2's page, and says so in the summary.
func TestRerunAttempts(t *testing.T) {
	t.Parallel()
	a := loadAction(t)
	e := emulatortest.Start(t, emulator.Config{Logf: quiet})
	var ids []string
	for attempt := 1; attempt <= 2; attempt++ {
		j := newJob(t, a, e.URL(), map[string]string{"environment": "staging"})
		j.Env["GITHUB_RUN_ATTEMPT"] = fmt.Sprint(attempt)
		j.Contexts.CheckRunID = "" // as on GHES: the log URL then names the attempt
		res := runJob(t, j)
		if res.Failed() {
			t.Fatalf("attempt %d: %v", attempt, res.StageErrors)
		}
		ids = append(ids, res.Outputs["deployment-id"])
		says := strings.Contains(res.Summaries["main"], "attempt 2")
		if says != (attempt == 2) {
			t.Errorf("attempt %d: main summary mentions attempt 2: %v\n%s", attempt, says, res.Summaries["main"])
		}
		if !strings.HasSuffix(res.Outputs["log-url"], fmt.Sprintf("/attempts/%d", attempt)) {
			t.Errorf("attempt %d: log-url %q does not link this attempt", attempt, res.Outputs["log-url"])
		}
	}
	deps := e.Deployments(owner, repoName)
	if len(deps) != 2 || ids[0] == ids[1] || ids[0] == "" {
		t.Fatalf("%d deployments, ids %v: each attempt must have its own", len(deps), ids)
	}
	// Attempt 2's success makes attempt 1's deployment inactive (auto-inactive); attempt 2's
	// is the environment's current one.
	if got := states(deps[0]); strings.Join(got, ",") != "in_progress,success,inactive" {
		t.Errorf("attempt 1 states %v", got)
	}
	if got := states(deps[1]); strings.Join(got, ",") != "in_progress,success" {
		t.Errorf("attempt 2 states %v", got)
	}
}
