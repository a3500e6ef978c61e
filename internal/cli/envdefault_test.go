package cli

import (
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// TestWaitSHAFromTheEnvironment: wait's --sha defaults to $GITHUB_SHA (the flag's Env in the mode
// table); with neither, the command is a usage error and nothing is sent.
func TestWaitSHAFromTheEnvironment(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	mustRun(t, env(e), "trigger", "--ref", "main", "--environment", "qa")
	sent := len(e.Requests())

	res := run(t, env(e), "wait", "--environment", "qa")
	if res.exitCode() != 2 || errString(res.err) != "missing --sha: the commit whose deployment to wait for (GITHUB_SHA is not set) (see 'deployment-action wait --help')" {
		t.Errorf("wait without a commit: exit %d, %v", res.exitCode(), res.err)
	}
	if n := len(e.Requests()); n != sent {
		t.Errorf("%d requests for a usage error, want none", n-sent)
	}

	sha := emulator.DefaultRepo().Branches["main"]
	out := mustRun(t, env(e, "GITHUB_SHA", strings.ToUpper(sha)), "wait", "--environment", "qa")
	if !strings.HasPrefix(out, "Deployment ") || !strings.Contains(out, "of main ("+sha[:7]+") to qa") || !strings.Contains(out, " is success") {
		t.Errorf("wait for $GITHUB_SHA's deployment:\n%s", out)
	}
}
