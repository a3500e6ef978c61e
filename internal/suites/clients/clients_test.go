// Package clients drives the GitHub API emulator with clients nobody on this project wrote:
// @octokit/rest (pinned in package.json and package-lock.json) runs octokit.mjs against an
// emulator served over https, trusted through NODE_EXTRA_CA_CERTS, under /api/v3, with every
// exchange checked against GitHub's OpenAPI description.
//
// It needs node and npm, and the npm registry for `npm ci`. Without node or npm it skips, unless
// DEPLOYMENT_ACTION_REQUIRE_TOOLS=1 (CI), where it fails. It is not part of -short.
package clients

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

const requireToolsEnv = "DEPLOYMENT_ACTION_REQUIRE_TOOLS"

func need(t *testing.T, tool, install string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	msg := tool + " is not installed (" + install + "): skipping the third-party client checks"
	if os.Getenv(requireToolsEnv) == "1" {
		t.Fatalf("%s; %s=1: required", msg, requireToolsEnv)
	}
	t.Skip(msg)
	return ""
}

// install copies the suite's package files to a temporary directory and runs npm ci there, so
// the checkout gets no node_modules.
func install(t *testing.T, npm string) string {
	t.Helper()
	src := testkit.Path(t, "internal/suites/clients")
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "octokit.mjs"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		msg := "npm ci failed (is the npm registry reachable?): " + err.Error() + "\n" + string(out)
		if os.Getenv(requireToolsEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

func TestOctokitAgainstTheEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("installs @octokit/rest with npm; not in -short")
	}
	node := need(t, "node", "apt-get install nodejs")
	npm := need(t, "npm", "apt-get install npm")
	dir := install(t, npm)

	cert, certPEM, err := emulator.SelfSigned(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "emulator.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	// acme/shop is the repository `workbench emulator --repo acme/shop` seeds.
	e := emulatortest.StartTLS(t, emulator.Config{}, cert)
	if _, err := e.AddSampleRepo("acme", "shop", ""); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "octokit.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"NODE_EXTRA_CA_CERTS="+certFile, // how node trusts the emulator's certificate
		"EMULATOR_URL="+e.URL()+"/api/v3",
		"EMULATOR_TOKEN=clients-suite-token",
		"EMULATOR_REPO=acme/shop",
	)
	out, err := cmd.CombinedOutput()
	t.Logf("node octokit.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("octokit.mjs failed: %v", err)
	}
	if !strings.HasSuffix(strings.TrimSpace(string(out)), "done") {
		t.Fatalf("octokit.mjs did not finish")
	}
	passed := 0
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "ok ") {
			passed++
		}
	}
	if passed != 13 {
		t.Errorf("%d checks passed, want 13", passed)
	}
	for _, d := range e.Deliveries() {
		if d.Status != 200 {
			t.Errorf("delivery %s %s: status %d %s", d.Event, d.ID, d.Status, d.Err)
		}
	}
	for _, r := range e.Requests() {
		if r.Status == 0 {
			t.Errorf("request %s %s got no answer", r.Method, r.Path)
		}
	}
}
