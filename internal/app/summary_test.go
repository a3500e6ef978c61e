package app

import (
	"testing"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/testkit"
)

// TestSummaryGolden pins the job summary users read, including the escaping of untrusted text.
func TestSummaryGolden(t *testing.T) {
	t.Parallel()
	autoMode, _ := deploy.LookupMode("auto")
	deleteMode, _ := deploy.LookupMode("delete")
	main := &deploy.Report{Mode: autoMode, Stage: "main", DeploymentID: 1001, DeploymentURL: "https://api.github.com/repos/o/r/deployments/1001",
		Page:        "https://github.com/o/r/deployments/pr-12%20%7C%20%3Cb%3Ex%3C%2Fb%3E",
		Environment: "pr-12 | <b>x</b>", Ref: "feat`x`", SHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e", State: "in_progress",
		EnvironmentURL: "https://pr-12.example.com/a b(c)", LogURL: "https://github.com/o/r/actions/runs/9/job/7", RunAttempt: "1"}
	rerun := *main
	rerun.Rerun, rerun.RunAttempt, rerun.EnvironmentURL = true, "2", "javascript:alert(1)"
	backslash := *main
	backslash.EnvironmentURL = `https://pr-12.example.com/dir\`
	backslash.Deferred, backslash.CreatedHere = "token, environment had no value at job start", true
	post := *main
	post.Stage, post.State = "post", "failure"
	cleanup := &deploy.Report{Mode: deleteMode, Stage: "main", Cleanup: &deploy.CleanupReport{Environment: "pr-12", Found: 120, Deactivated: 100, AlreadyInactive: 20, Deleted: 120, EnvironmentDeleted: true}}
	for name, got := range map[string]string{
		"main":     Summary("main", main),
		"rerun":    Summary("main", &rerun),
		"post":     Summary("post", &post),
		"deferred": Summary("main", &backslash),
		"cleanup":  Summary("main", cleanup),
	} {
		testkit.Golden(t, "testdata/summary/"+name+".md", got)
	}
}
