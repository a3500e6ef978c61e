package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// TestWaitResolvesAShortSHA: --sha with a short SHA waits for the commit's deployment (GitHub
// lists deployments by full SHA only), and one that names no commit fails naming it.
func TestWaitResolvesAShortSHA(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	sha := emulator.DefaultRepo().Branches["main"]
	if _, err := e.StartDeployer(emulator.Deployer{User: "vercel[bot]", Owner: "octo-org", Name: "hello-world", Ref: sha, Environment: "staging",
		Statuses: []emulator.DeployerStatus{{State: "in_progress"}, {After: 20 * time.Millisecond, State: "success"}}}); err != nil {
		t.Fatal(err)
	}
	vars := env(e, "DEPLOYMENT_ACTION_POLL_INTERVAL", "10ms")
	res := run(t, vars, "wait", "--environment", "staging", "--sha", sha[:7], "--wait-timeout", "1m", "--json")
	if res.err != nil || !strings.Contains(res.stdout, `"sha": "`+sha+`"`) {
		t.Errorf("wait --sha %s: %v\n%s%s", sha[:7], res.err, res.stdout, res.stderr)
	}
	res = run(t, vars, "wait", "--environment", "staging", "--sha", "deadbee", "--wait-timeout", "1m")
	if res.exitCode() == 0 || !strings.Contains(errString(res.err), "deadbee") || !strings.Contains(errString(res.err), "full") {
		t.Errorf("wait --sha deadbee: exit %d, %v", res.exitCode(), res.err)
	}
}
