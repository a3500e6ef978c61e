package deploy

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Failure is a GitHub API failure in the action's terms: its kind, the call, and the input that
// decides it (what the user should look at). It carries no advice of its own: the action and the
// CLI explain it in their own words (internal/explain).
type Failure struct {
	Kind  ghapi.Kind
	Op    ghapi.Op
	Input string // "ref", "deployment-id", "repository", "token", "required-contexts", "auto-merge", "delete-environment", "state", "mode" or ""
	Value string // the input's value as sent (a ref, a deployment id), or ""
	Err   error  // the client's error: GitHub's message, the failing contexts, the reset time
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// createFieldInput is the input that sets a field of the create request GitHub refused.
func createFieldInput(field string) (string, bool) {
	switch field {
	case "ref", "task", "environment", "payload", "description":
		return field, true
	case "required_contexts", "auto_merge", "transient_environment", "production_environment":
		return strings.ReplaceAll(field, "_", "-"), true
	}
	return "", false
}

// Fail wraps a client error from op with the input that decides it. value is the ref of a create
// or the id of the deployment a call was about.
func Fail(err error, op ghapi.Op, value string) error {
	if err == nil {
		return nil
	}
	var f *Failure
	if errors.As(err, &f) {
		return err
	}
	kind := ghapi.KindOf(err)
	if kind == ghapi.KindCanceled {
		return err
	}
	return &Failure{Kind: kind, Op: op, Input: inputFor(op, kind, err), Value: value, Err: err}
}

// inputFor is the input a user should look at when op failed with kind.
func inputFor(op ghapi.Op, kind ghapi.Kind, err error) string {
	switch kind {
	case ghapi.KindUnauthorized:
		return "token"
	case ghapi.KindForbidden:
		if op == ghapi.OpDeleteEnvironment {
			return "delete-environment"
		}
		return "token"
	case ghapi.KindAutoMerged:
		return "auto-merge"
	case ghapi.KindNotFound:
		switch op {
		case ghapi.OpCreateDeploymentStatus, ghapi.OpDeleteDeployment, ghapi.OpGetDeployment, ghapi.OpListDeploymentStatuses:
			return "deployment-id"
		}
		return "repository"
	case ghapi.KindConflict:
		// A 409 from failed commit statuses lists them (field required_contexts); a merge
		// conflict ("Conflict merging main into feature") carries no errors at all.
		var api *ghapi.APIError
		if errors.As(err, &api) && len(api.Contexts()) == 0 && !api.HasField("required_contexts") {
			return "auto-merge"
		}
		return "required-contexts"
	case ghapi.KindValidation:
		switch op {
		case ghapi.OpCreateDeployment:
			// GitHub names the field it refused ("No ref found for: x" is field ref); the
			// message's words decide nothing.
			var api *ghapi.APIError
			if errors.As(err, &api) {
				for _, fe := range api.Errors {
					if in, ok := createFieldInput(fe.Field); ok {
						return in
					}
				}
				if len(api.Errors) == 0 {
					return "ref" // the one create 422 without field errors: the ref was not found
				}
			}
		case ghapi.OpCreateDeploymentStatus:
			return "state"
		case ghapi.OpDeleteDeployment:
			return "mode" // only inactive deployments can be deleted: deactivate first
		}
	}
	return ""
}
