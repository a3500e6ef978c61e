package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// permissionCases are the calls the CLI makes, with the fine-grained permission GitHub documents
// for each.
var permissionCases = []struct {
	op   ghapi.Op
	want string
}{
	{ghapi.OpCreateDeployment, "Deployments: write"},
	{ghapi.OpCreateDeploymentStatus, "Deployments: write"},
	{ghapi.OpListDeployments, "Deployments: read"},
	{ghapi.OpGetDeployment, "Deployments: read"},
	{ghapi.OpDeleteEnvironment, "Administration: write"},
	{ghapi.OpGetCommit, "Contents: read"},
	{ghapi.OpListCheckRuns, "Checks: read"},
	{ghapi.OpGetCombinedStatus, "Commit statuses: read"},
	{ghapi.OpGetPullRequest, "Pull requests: read"},
	{ghapi.OpCreateComment, "Issues: write"},
	{ghapi.OpGetContents, "Contents: read"},
	{ghapi.OpPutContents, "Contents: write"},
}

// TestPermissionHintsNameEachCallsPermission: a 404 (GitHub's answer for a missing permission on
// a private repository, and for a missing repository) and a 403 name the permission of the call
// that failed, not always deployments.
func TestPermissionHintsNameEachCallsPermission(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, tc := range permissionCases {
		for _, status := range []int{404, 403} {
			msg := http404or403(status)
			got := cliError(deploy.Fail(&ghapi.APIError{Op: tc.op, Status: status, Message: msg}, tc.op, "42")).Error()
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s %d: %q does not name %s", tc.op, status, got, tc.want)
			}
			if tc.want != "Deployments: write" && strings.Contains(got, "Deployments: write") {
				t.Errorf("%s %d names the deployments permission: %s", tc.op, status, got)
			}
			if strings.Contains(got, "permissions:") || strings.Contains(got, "`") {
				t.Errorf("%s %d speaks workflow YAML: %s", tc.op, status, got)
			}
			fmt.Fprintf(&b, "%s, %d:\n  %s\n", tc.op, status, got)
		}
	}
	golden(t, nil, "errors-permission", b.String())
}

func http404or403(status int) string {
	if status == 404 {
		return "Not Found"
	}
	return "Resource not accessible by integration"
}

// TestMissingRepositoryNamesRepoAndPermission: create against a repository the emulator does not
// have gets GitHub's 404 and both explanations.
func TestMissingRepositoryNamesRepoAndPermission(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, emulator.Config{})
	res := run(t, env(e), "create", "-R", "octo-org/no-such-repo", "--ref", "main", "--environment", "staging")
	if res.exitCode() != 1 {
		t.Fatalf("exit %d, err %v", res.exitCode(), res.err)
	}
	msg := errString(res.err)
	for _, s := range []string{"404", "-R/--repo", "private repository", "the token needs Deployments: write"} {
		if !strings.Contains(msg, s) {
			t.Errorf("lacks %q: %s", s, msg)
		}
	}
	golden(t, e, "create-404", msg+"\n")
}

// TestShaErrorsSpeakCLI: a bad --sha (wait) or --exclude-sha (latest) is explained with flags and
// the CLI's default, not the action's inputs.
func TestShaErrorsSpeakCLI(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, args := range [][]string{
		{"wait", "--environment", "staging", "--sha", "main"},
		{"latest", "--environment", "staging", "--exclude-sha", "v1.2"},
	} {
		res := run(t, env(nil), args...)
		msg := errString(res.err)
		if res.exitCode() != 2 {
			t.Errorf("%v: exit %d, want 2 (nothing was sent)", args, res.exitCode())
		}
		flag := args[3]
		if !strings.Contains(msg, flag+" \"") || strings.Contains(msg, "run's commit") || strings.Contains(msg, "leave it empty") || strings.Contains(msg, "output of") {
			t.Errorf("%v: %q does not speak CLI", args, msg)
		}
		fmt.Fprintf(&b, "%s\n  %s\n", strings.Join(args, " "), msg)
	}
	golden(t, nil, "errors-sha", b.String())
}
