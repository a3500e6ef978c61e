package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// lock, unlock and locks against the emulator, in the storage /lock uses; a push deploy from the
// CLI is refused while someone else holds the environment.
func TestLockCommands(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	vars := env(e)

	out := mustRun(t, vars, "lock", "--environment", "Staging", "--for", "2h", "--reason", "load test", "--as", "alice")
	if want := "Locked Staging for alice until " + cliNow.Add(2*time.Hour).UTC().Format("2006-01-02T15:04:05Z") + " (branch deployment-lock/staging).\n"; out != want {
		t.Fatalf("lock printed %q, want %q", out, want)
	}
	golden(t, e, "locks-text", mustRun(t, vars, "locks"))
	var ls []lockJSON
	if err := json.Unmarshal([]byte(mustRun(t, vars, "locks", "--json")), &ls); err != nil || len(ls) != 1 || ls[0].Holder != "alice" || ls[0].Source != "cli" {
		t.Fatalf("locks --json: %+v %v", ls, err)
	}

	res := run(t, vars, "lock", "--environment", "staging", "--as", "bob")
	if res.exitCode() != 1 || !strings.Contains(errString(res.err), "Staging is locked by alice since") {
		t.Fatalf("bob's lock: exit %d, %v", res.exitCode(), res.err)
	}
	res = run(t, vars, "trigger", "--environment", "staging", "--ref", "main")
	if res.exitCode() != 1 || !strings.Contains(errString(res.err), "Staging is locked by alice") || !strings.Contains(errString(res.err), "--ignore-locks") {
		t.Fatalf("trigger to a locked environment: exit %d, %v", res.exitCode(), res.err)
	}
	if n := len(e.Deployments("octo-org", "hello-world")); n != 0 {
		t.Fatalf("%d deployments made through a lock", n)
	}
	mustRun(t, vars, "trigger", "--environment", "staging", "--ref", "main", "--ignore-locks")
	res = run(t, vars, "unlock", "--environment", "staging", "--as", "bob")
	if res.exitCode() != 1 || !strings.Contains(errString(res.err), "--force") {
		t.Fatalf("bob's unlock: exit %d, %v", res.exitCode(), res.err)
	}
	if out := mustRun(t, vars, "unlock", "--environment", "staging", "--as", "bob", "--force"); !strings.HasPrefix(out, "Force-unlocked Staging (held by alice since ") {
		t.Fatalf("forced unlock printed %q", out)
	}
	if out := mustRun(t, vars, "locks"); out != "No environment is locked.\n" {
		t.Fatalf("locks after unlock: %q", out)
	}
	res = run(t, vars, "lock", "--environment", "staging")
	if res.exitCode() != 2 || !strings.Contains(errString(res.err), "--as") {
		t.Fatalf("lock without a holder: exit %d, %v", res.exitCode(), res.err)
	}
	res = run(t, vars, "lock", "--environment", "staging", "--as", "alice", "--for", "soon")
	if res.exitCode() != 2 || !strings.Contains(errString(res.err), "--for") {
		t.Fatalf("bad --for: exit %d, %v", res.exitCode(), res.err)
	}
}
