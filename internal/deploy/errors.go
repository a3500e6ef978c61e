package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

type op int

const (
	opCreate op = iota
	opStatus
	opList
	opDelete
	opDeleteEnv
)

var opText = map[op]string{opCreate: "creating the deployment", opStatus: "setting the deployment status", opList: "listing deployments",
	opDelete: "deleting the deployment", opDeleteEnv: "deleting the environment"}

// UserError is an API failure explained for the person reading the job log: what happened, and
// the input or permission that fixes it. It wraps the API error for errors.As/Is.
type UserError struct {
	Msg string
	Err error
}

func (e *UserError) Error() string { return e.Msg }
func (e *UserError) Unwrap() error { return e.Err }

// Hints that messages share; exported so the CLI can reword exactly these sentences for the
// command line instead of keeping copies that would drift.
const (
	PermissionHint   = "the workflow needs `permissions: deployments: write` (or a token with the repo_deployment scope / Deployments write permission)"
	DefaultTokenHint = "; the default ${{ github.token }} works for the current repository"
)

// explain turns an API error into a message that names what to change. subject is the ref (for
// creates) or the deployment id (for statuses); extra is the environment or the state.
func explain(err error, o op, subject, extra string) error {
	if err == nil {
		return nil
	}
	var accepted *github.AcceptedError
	var merged *ghapi.AutoMergedError
	if errors.As(err, &merged) || errors.As(err, &accepted) {
		return &UserError{Err: err, Msg: fmt.Sprintf("GitHub merged the default branch into %q instead of creating a deployment (HTTP 202; auto-merge is on), so no deployment exists: "+
			"set `auto-merge: false` (the action's default) or run again now that the branch is up to date", subject)}
	}
	var limited *ghapi.RateLimitError
	if errors.As(err, &limited) {
		kind := "rate limit (requests per hour)"
		if limited.Secondary {
			kind = "secondary rate limit (too many content-creating requests in a short time)"
		}
		return &UserError{Err: err, Msg: fmt.Sprintf("%s: GitHub's %s stopped the request, and it lifts at %s, later than the action may wait: "+
			"run again after that, or spread the work (fewer parallel jobs, a separate token with its own limits)", opText[o], kind, limited.Reset.UTC().Format("15:04:05 UTC"))}
	}
	status, msg := 0, err.Error()
	var apiErr *ghapi.APIError
	var ghErr *github.ErrorResponse
	switch {
	case errors.As(err, &apiErr):
		status, msg = apiErr.Status, apiErr.Message
	case errors.As(err, &ghErr):
		status, msg = ghErr.Response.StatusCode, ghErr.Message
	}
	what := opText[o]
	switch status {
	case 0:
		return fmt.Errorf("%s: %w", what, err)
	case http.StatusUnauthorized:
		return &UserError{Err: err, Msg: fmt.Sprintf("%s: GitHub rejected the token (401 %s): check the `token` input%s", what, msg, DefaultTokenHint)}
	case http.StatusForbidden:
		if o == opDeleteEnv {
			return &UserError{Err: err, Msg: fmt.Sprintf("%s: 403 %s: deleting an environment needs administration write on the repository, which GITHUB_TOKEN cannot have: pass a GitHub App or fine-grained token with Administration: write as `token`, or set `delete-environment: false`", what, msg)}
		}
		return &UserError{Err: err, Msg: fmt.Sprintf("%s: 403 %s: %s", what, msg, PermissionHint)}
	case http.StatusNotFound:
		if o == opStatus || o == opDelete {
			return &UserError{Err: err, Msg: fmt.Sprintf("%s: deployment %s was not found (404) in this repository: check `deployment-id` and `repository`; a token without access to the repository also gets 404 (%s)", what, subject, PermissionHint)}
		}
		return &UserError{Err: err, Msg: fmt.Sprintf("%s: the repository was not found (404): check `repository` (owner/name); a token without access to it also gets 404, so check that %s", what, PermissionHint)}
	case http.StatusConflict:
		ctxs := ""
		if apiErr != nil && len(apiErr.Contexts()) > 0 {
			var parts []string
			for _, c := range apiErr.Contexts() {
				parts = append(parts, fmt.Sprintf("%s (%s)", c.Context, c.State))
			}
			ctxs = " Failing contexts: " + strings.Join(parts, ", ") + "."
		}
		return &UserError{Err: err, Msg: fmt.Sprintf("%s: 409 %s%s The `required-contexts` input controls which commit statuses must be success: leave it empty to check none, list the ones you need, or wait for them to pass", what, msg, ctxs)}
	case http.StatusUnprocessableEntity:
		input := ""
		switch {
		case o == opCreate && strings.Contains(strings.ToLower(msg+errText(apiErr)), "ref"):
			input = fmt.Sprintf(" Check the `ref` input (%q): it must be a branch, tag or commit SHA that exists in the repository.", subject)
		case o == opStatus:
			input = " Check the `state`, `description` (at most 140 characters), `environment-url` and `log-url` inputs."
		case o == opDelete:
			input = " Only inactive deployments can be deleted: run the `deactivate` mode first (the `delete` mode does both)."
		}
		return &UserError{Err: err, Msg: fmt.Sprintf("%s: 422 %s%s%s", what, msg, errDetail(apiErr), input)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func errText(e *ghapi.APIError) string {
	if e == nil {
		return ""
	}
	var b strings.Builder
	for _, f := range e.Errors {
		b.WriteString(f.Field + " " + f.Message + " ")
	}
	return b.String()
}

func errDetail(e *ghapi.APIError) string {
	if e == nil || len(e.Errors) == 0 {
		return ""
	}
	var parts []string
	for _, f := range e.Errors {
		s := strings.TrimSpace(strings.Join(nonEmpty(f.Field, f.Code, f.Message), " "))
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")."
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
