package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/explain"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/testkit"
)

// TestFailuresNameTheFix: an API failure, in the action's words, names the input or permission
// that fixes it.
func TestFailuresNameTheFix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		op   ghapi.Op
		want string
	}{
		{&ghapi.AutoMergedError{Message: "Auto-merged main into x"}, ghapi.OpCreateDeployment, "auto-merge: false"},
		{&ghapi.APIError{Status: 409, Message: "Conflict: Commit status checks failed for main.", Errors: []ghapi.FieldError{{Contexts: []ghapi.ContextState{{Context: "ci/test", State: "failure"}}}}}, ghapi.OpCreateDeployment, "ci/test (failure)"},
		{&ghapi.APIError{Status: 403, Message: "Resource not accessible by integration"}, ghapi.OpCreateDeployment, "deployments: write"},
		{&ghapi.APIError{Status: 403, Message: "Resource not accessible by integration"}, ghapi.OpDeleteEnvironment, "Administration: write"},
		{&ghapi.APIError{Status: 404, Message: "Not Found"}, ghapi.OpCreateDeploymentStatus, "deployment-id"},
		{&ghapi.APIError{Status: 404, Message: "Not Found"}, ghapi.OpCreateDeployment, "`repository`"},
		{&ghapi.APIError{Status: 422, Message: "No ref found for: nope"}, ghapi.OpCreateDeployment, "`ref` input"},
		{&ghapi.APIError{Status: 422, Message: "No ref found for: nope", Errors: []ghapi.FieldError{{Resource: "Deployment", Field: "ref", Code: "invalid"}}}, ghapi.OpCreateDeployment, "`ref` input"},
		// A payload GitHub refused, whose text happens to contain "ref": the field decides.
		{&ghapi.APIError{Status: 422, Message: "Validation Failed", Errors: []ghapi.FieldError{{Resource: "Deployment", Field: "payload", Code: "invalid", Message: "a JSON object is preferred"}}}, ghapi.OpCreateDeployment, "`payload`"},
		{&ghapi.RateLimitError{Secondary: true, Reset: time.Date(2026, 1, 1, 10, 0, 5, 0, time.UTC), Err: &ghapi.APIError{Status: 403, Message: "You have exceeded a secondary rate limit"}}, ghapi.OpCreateDeployment, "secondary rate limit"},
		{&ghapi.RateLimitError{Reset: time.Date(2026, 1, 1, 10, 0, 5, 0, time.UTC), Err: &ghapi.APIError{Status: 403}}, ghapi.OpCreateDeploymentStatus, "10:00:05 UTC"},
	}
	for _, c := range cases {
		got := explain.Error(actionWords{}, deploy.Fail(c.err, c.op, "nope"))
		if !strings.Contains(got, c.want) {
			t.Errorf("explain(%v) = %q, want it to mention %q", c.err, got, c.want)
		}
	}
}

// TestPermissionHintsNameEachCallsPermission: a 404 (GitHub's answer for a missing permission on
// a private repository, and for a missing repository) and a 403 name the permissions: entry of
// the call that failed, not always deployments.
func TestPermissionHintsNameEachCallsPermission(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, tc := range []struct {
		op   ghapi.Op
		want string
	}{
		{ghapi.OpCreateDeployment, "`permissions: deployments: write`"},
		{ghapi.OpListDeployments, "`permissions: deployments: read`"},
		{ghapi.OpGetCommit, "`permissions: contents: read`"},
		{ghapi.OpListCheckRuns, "`permissions: checks: read`"},
		{ghapi.OpGetCombinedStatus, "`permissions: statuses: read`"},
		{ghapi.OpGetPullRequest, "`permissions: pull-requests: read`"},
		{ghapi.OpCreateComment, "`permissions: issues: write` or `permissions: pull-requests: write`"},
		{ghapi.OpCreateRef, "`permissions: contents: write`"},
	} {
		for _, a := range []ghapi.APIError{{Status: 404, Message: "Not Found"}, {Status: 403, Message: "Resource not accessible by integration"}} {
			status := a.Status
			a.Op = tc.op
			got := explain.Error(actionWords{}, deploy.Fail(&a, tc.op, "main"))
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s %d: %q does not name %s", tc.op, status, got, tc.want)
			}
			fmt.Fprintf(&b, "%s, %d:\n  %s\n", tc.op, status, got)
		}
	}
	testkit.Golden(t, "testdata/errors/action-permission.golden", b.String())
}
