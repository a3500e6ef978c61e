package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// TestWaitResolvesAShortSHA: sha given as a short SHA waits for that commit's deployment, and
// one that names no commit fails at once, naming it.
func TestWaitResolvesAShortSHA(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	deployer(t, e, "vercel[bot]", mainSHA, "staging", 20*time.Millisecond, "in_progress", "success")
	res := run(t, waitJob(t, e, map[string]string{"mode": "wait", "environment": "staging", "sha": mainSHA[:7], "wait-timeout": "1m"}))
	if res.Failed() || res.Outputs["sha"] != mainSHA || res.Outputs["state"] != "success" {
		t.Errorf("sha %s: errors %v, outputs %v", mainSHA[:7], res.StageErrors, res.Outputs)
	}
	res = run(t, waitJob(t, e, map[string]string{"mode": "wait", "environment": "staging", "sha": "deadbee", "wait-timeout": "1h"}))
	err := res.StageErrors["main"]
	if err == nil || !strings.Contains(err.Error(), `"deadbee"`) || !strings.Contains(err.Error(), "full 40-character SHA") {
		t.Errorf("sha deadbee: %v", err)
	}
}
