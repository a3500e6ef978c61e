package explain_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/explain"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/policy"
)

// words is a Dialect that marks each kind of name, so the tests see which one was used.
type words struct{}

func (words) Subject(in string) string           { return in }
func (words) Input(in string) string             { return "<" + in + ">" }
func (words) Assign(in, v string) string         { return "<" + in + "=" + v + ">" }
func (words) Mode(name string) string            { return "<mode " + name + ">" }
func (words) Missing(string) string              { return "" }
func (words) LeaveEmpty(in, does string) string  { return "<leave " + in + " empty " + does + ">" }
func (words) Permission(a explain.Access) string { return "PERMISSION-ADVICE(" + a.String() + ")" }
func (words) TokenSource() string                { return "the token" }
func (words) Literal(s string) string            { return "«" + strconv.Quote(s) + "»" }

func forbidden() error {
	return deploy.Fail(&ghapi.APIError{Op: ghapi.OpCreateDeploymentStatus, Status: 403, Message: "Resource not accessible by integration"},
		ghapi.OpCreateDeploymentStatus, "7")
}

func TestWrappedErrorsKeepTheirExplanation(t *testing.T) {
	t.Parallel()
	plain := explain.Error(words{}, forbidden())
	if !strings.Contains(plain, "PERMISSION-ADVICE") {
		t.Fatalf("a 403 on a status lacks the permission advice: %s", plain)
	}
	for _, err := range []error{
		fmt.Errorf("finishing deployment 7: %w", forbidden()),
		fmt.Errorf("post: %w", fmt.Errorf("finishing deployment 7: %w", forbidden())),
	} {
		got := explain.Error(words{}, err)
		if !strings.Contains(got, "PERMISSION-ADVICE") {
			t.Errorf("wrapped %q lost the advice: %s", err, got)
		}
		if !strings.HasPrefix(got, strings.TrimSuffix(err.Error(), forbidden().Error())) {
			t.Errorf("the wrapper's words are gone: %s", got)
		}
	}
	unfinished := &deploy.Unfinished{ID: 7, Environment: "staging", State: "in_progress", Err: forbidden()}
	got := explain.Error(words{}, fmt.Errorf("post: %w", unfinished))
	for _, s := range []string{"PERMISSION-ADVICE", "deployment 7 to staging", "<mode status>", "<deployment-id=7>"} {
		if !strings.Contains(got, s) {
			t.Errorf("wrapped Unfinished lacks %q: %s", s, got)
		}
	}
}

func TestUnknownErrorsAreShownAsTheyAre(t *testing.T) {
	t.Parallel()
	err := errors.New("something odd")
	if got := explain.Error(words{}, fmt.Errorf("x: %w", err)); got != "x: something odd" {
		t.Errorf("got %q", got)
	}
	if got := explain.Error(words{}, nil); got != "" {
		t.Errorf("nil explained as %q", got)
	}
}

// TestValidationFieldsDecide: the input named comes from GitHub's field, never from its words.
func TestValidationFieldsDecide(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		api  *ghapi.APIError
		want string
		not  string
	}{
		{name: "payload whose text says preferred", api: &ghapi.APIError{Status: 422, Message: "Validation Failed",
			Errors: []ghapi.FieldError{{Field: "payload", Code: "invalid", Message: "an object is preferred for ref"}}}, want: "<payload>", not: "<ref>"},
		{name: "ref by field", api: &ghapi.APIError{Status: 422, Message: "No ref found for: x",
			Errors: []ghapi.FieldError{{Field: "ref", Code: "invalid", Message: "No ref found for: x"}}}, want: "<ref>"},
		{name: "environment by field", api: &ghapi.APIError{Status: 422, Message: "Validation Failed",
			Errors: []ghapi.FieldError{{Field: "environment", Code: "invalid"}}}, want: "<environment>", not: "<ref>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := explain.Error(words{}, deploy.Fail(tc.api, ghapi.OpCreateDeployment, "main"))
			if !strings.Contains(got, tc.want) || (tc.not != "" && strings.Contains(got, tc.not)) {
				t.Errorf("got %s; want %s, not %q", got, tc.want, tc.not)
			}
			if n := strings.Count(got, tc.api.Message); n > 1 {
				t.Errorf("GitHub's message is said %d times: %s", n, got)
			}
		})
	}
}

// TestConflictByFieldNotWords: a 409 with failing contexts is about required-contexts; one with no
// errors at all is a merge conflict (auto-merge), whatever its message says.
func TestConflictByFieldNotWords(t *testing.T) {
	t.Parallel()
	merge := explain.Error(words{}, deploy.Fail(&ghapi.APIError{Status: 409, Message: "Conflict"}, ghapi.OpCreateDeployment, "feature"))
	if !strings.Contains(merge, "<auto-merge=false>") {
		t.Errorf("merge conflict: %s", merge)
	}
	ctx := explain.Error(words{}, deploy.Fail(&ghapi.APIError{Status: 409, Message: "Conflict: merging is not the issue",
		Errors: []ghapi.FieldError{{Field: "required_contexts", Code: "invalid", Contexts: []ghapi.ContextState{{Context: "ci", State: "failure"}}}}},
		ghapi.OpCreateDeployment, "feature"))
	if !strings.Contains(ctx, "<required-contexts>") || strings.Contains(ctx, "auto-merge") || !strings.Contains(ctx, "ci (failure)") {
		t.Errorf("status conflict: %s", ctx)
	}
}

// TestUserTextIsLiteral: what someone else wrote goes through the dialect's Literal.
func TestUserTextIsLiteral(t *testing.T) {
	t.Parallel()
	c := &deploy.Command{Text: "/deploy [x](https://evil.example)", Asked: "@team", PR: 3, Actor: "alice"}
	for _, err := range []error{
		&deploy.Refusal{Reason: deploy.RefuseNotUnderstood, Command: c, Word: "/deploy", Environments: []string{"staging"}},
		&deploy.Refusal{Reason: deploy.RefuseUnknownEnvironment, Command: c, Word: "/deploy", Environments: []string{"staging"}},
		&deploy.ChecksError{Reason: deploy.ChecksFailed, Ref: "main", SHA: "abc1234def", Failed: []deploy.Check{{Name: "<img src=x>", State: "failure", URL: "https://evil.example"}}},
		// The policy file's text: a freeze's reason, a bad file's keys and values.
		&deploy.Refusal{Reason: deploy.RefusePolicyClosed, Command: c, Closed: "frozen: @team [x](https://evil.example) <img src=x>"},
		&deploy.Refusal{Reason: deploy.RefusePolicyInvalid, Command: c, Problems: &policy.FileError{File: "o/r:.github/deployments.yml", Problems: []policy.Problem{
			{Line: 2, Key: "environments.@team", Message: `"<img src=x>" is not a permission`, Fix: "use one of read, write"},
			{Line: 3, Key: "environments.x.[x](https://evil.example)", Message: "unknown key"}}}},
	} {
		got := explain.Error(words{}, err)
		outside := got
		for strings.Contains(outside, "«") {
			i, j := strings.Index(outside, "«"), strings.Index(outside, "»")
			if j < i {
				break
			}
			outside = outside[:i] + outside[j+len("»"):]
		}
		for _, s := range []string{"evil.example", "@team", "<img"} {
			if strings.Contains(outside, s) {
				t.Errorf("%q outside a literal: %s", s, got)
			}
		}
	}
}

func TestNoChecksNamesTheInputThatAllowsIt(t *testing.T) {
	t.Parallel()
	got := explain.Error(words{}, &deploy.ChecksError{Reason: deploy.ChecksNone, Ref: "abc1234def", SHA: "abc1234def", Waited: time.Second})
	for _, s := range []string{"no checks were reported for abc1234", "<allow-no-checks=true>", "<required-checks>"} {
		if !strings.Contains(got, s) {
			t.Errorf("lacks %q: %s", s, got)
		}
	}
}

func TestMinimalRefusalSaysNoMore(t *testing.T) {
	t.Parallel()
	c := &deploy.Command{Text: "/deploy <b>x</b>", PR: 3, Actor: "eve"}
	got := explain.Error(words{}, &deploy.Refusal{Reason: deploy.RefusePermission, Command: c, Role: "none", Required: "write"})
	if strings.Contains(got, "<b>") || strings.Contains(got, "eve") || !strings.Contains(got, "write") {
		t.Errorf("got %s", got)
	}
}
