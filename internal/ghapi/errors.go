package ghapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

// APIError is an HTTP error answer from GitHub (other than 202), with GitHub's own message and
// details kept so the deploy layer can add hints without re-parsing anything.
type APIError struct {
	Op               Op     // the call that failed
	Status           int    // HTTP status code
	Message          string // GitHub's "message"
	Errors           []FieldError
	DocumentationURL string
	RequestID        string    // X-GitHub-Request-Id, for support tickets
	RateLimitReset   time.Time // set when the answer says the primary rate limit is used up
	Err              error     // the go-github error
}

// FieldError is one entry of GitHub's "errors" array. Validation errors carry
// resource/field/code; simple validation errors are plain strings (kept in Message); a 409 on
// create deployment carries the commit-status contexts that blocked it.
type FieldError struct {
	Resource string
	Field    string
	Code     string
	Message  string
	Contexts []ContextState
}

// ContextState is a required commit-status context and the state it was in.
type ContextState struct {
	Context string
	State   string
}

func (e *APIError) Error() string {
	var b strings.Builder
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	fmt.Fprintf(&b, "%s: %d %s", e.Op, e.Status, msg)
	for _, fe := range e.Errors {
		if s := fe.String(); s != "" && s != e.Message {
			b.WriteString("; ")
			b.WriteString(s)
		}
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// redact removes the token from everything GitHub's answer put into the error: a server (or a
// proxy) that echoes the request's Authorization header must not get it printed.
func (e *APIError) redact(token string) {
	if token == "" {
		return
	}
	r := strings.NewReplacer(token, "***")
	e.Message, e.DocumentationURL = r.Replace(e.Message), r.Replace(e.DocumentationURL)
	for i := range e.Errors {
		fe := &e.Errors[i]
		fe.Resource, fe.Field, fe.Code, fe.Message = r.Replace(fe.Resource), r.Replace(fe.Field), r.Replace(fe.Code), r.Replace(fe.Message)
		for j := range fe.Contexts {
			fe.Contexts[j].Context, fe.Contexts[j].State = r.Replace(fe.Contexts[j].Context), r.Replace(fe.Contexts[j].State)
		}
	}
}

// Contexts returns every context listed in the error's field errors (a 409 on create deployment
// when required status checks are not green).
// HasField reports whether GitHub's errors name field.
func (e *APIError) HasField(field string) bool {
	for _, fe := range e.Errors {
		if fe.Field == field {
			return true
		}
	}
	return false
}

func (e *APIError) Contexts() []ContextState {
	var out []ContextState
	for _, fe := range e.Errors {
		out = append(out, fe.Contexts...)
	}
	return out
}

// String renders one field error the way a user can act on it.
func (fe FieldError) String() string {
	var s string
	switch {
	case fe.Message != "":
		s = fe.Message
	case fe.Code != "" || fe.Field != "":
		s = strings.TrimSpace(fmt.Sprintf("%s %s", strings.Trim(fe.Resource+"."+fe.Field, "."), fe.Code))
	}
	if len(fe.Contexts) > 0 {
		parts := make([]string, len(fe.Contexts))
		for i, c := range fe.Contexts {
			parts[i] = fmt.Sprintf("%s (%s)", c.Context, c.State)
		}
		if s != "" {
			s += ": "
		}
		s += "contexts " + strings.Join(parts, ", ")
	}
	return s
}

// AutoMergedError is GitHub's 202 answer to create deployment: it merged the default branch into
// the ref instead of creating a deployment. Repeating the request later will create one.
type AutoMergedError struct {
	Message string
	Err     error
}

// Kind is the class of a failure, for callers that decide or explain by it.
type Kind int

// Failure kinds.
const (
	KindOther          Kind = iota // anything else (a transport failure that was not retried, a bug)
	KindUnauthorized               // 401: the token was rejected
	KindForbidden                  // 403 that is not a rate limit: a missing permission
	KindNotFound                   // 404: missing, or not visible to the token
	KindConflict                   // 409: merge conflict or failing required contexts
	KindValidation                 // 422 (or another 4xx): GitHub refused a field
	KindAutoMerged                 // 202 on create deployment: merged instead of created
	KindRateLimited                // a rate limit outlasted the call's budget
	KindUnavailable                // 5xx, resets and timeouts until the budget ran out
	KindCanceled                   // the caller's context ended
	KindUnknownOutcome             // a create's answer was lost and its result cannot be identified
)

// ProtocolError means the API URL's scheme is not the one the server speaks: http to an https
// server, or https to a plain http one. No retry can fix that; the URL has to change.
type ProtocolError struct {
	Op     Op
	URL    string // the API root as configured (it never carries credentials)
	Speaks string // the scheme the server speaks: "https" or "http"
	Err    error
}

func (e *ProtocolError) Error() string {
	uses := "https"
	if e.Speaks == "https" {
		uses = "http"
	}
	return fmt.Sprintf("%s: GITHUB_API_URL uses %s: the server speaks %s; set it to %s", e.Op, uses, e.Speaks, e.Fixed())
}

// Fixed is the API URL with the scheme the server speaks.
func (e *ProtocolError) Fixed() string {
	_, rest, _ := strings.Cut(e.URL, "://")
	return e.Speaks + "://" + rest
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// KindOf classifies an error returned by the client.
func KindOf(err error) Kind {
	var am *AutoMergedError
	var rl *RateLimitError
	var re *RetryError
	var uo *UnknownOutcomeError
	switch {
	case err == nil:
		return KindOther
	case errors.As(err, &uo):
		return KindUnknownOutcome
	case errors.As(err, &am):
		return KindAutoMerged
	case errors.As(err, &rl):
		return KindRateLimited
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &re):
		return KindCanceled
	}
	switch st := StatusCode(err); {
	case st == http.StatusUnauthorized:
		return KindUnauthorized
	case st == http.StatusForbidden:
		return KindForbidden
	case st == http.StatusNotFound:
		return KindNotFound
	case st == http.StatusConflict:
		return KindConflict
	case st == http.StatusAccepted:
		return KindAutoMerged
	case st >= 500:
		return KindUnavailable
	case st >= 400:
		return KindValidation
	}
	if errors.As(err, &re) {
		return KindUnavailable
	}
	return KindOther
}

func (e *AutoMergedError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "GitHub merged the default branch into the ref; no deployment was created"
	}
	return "create deployment: " + msg
}

func (e *AutoMergedError) Unwrap() error { return e.Err }

// RateLimitError means a GitHub rate limit stopped the call and the wait until it lifts does not
// fit in the retry budget. It wraps the *APIError of the last answer.
type RateLimitError struct {
	Op        Op
	Secondary bool          // a secondary (abuse) limit rather than the hourly quota
	Reset     time.Time     // when requests may resume (UTC)
	Wait      time.Duration // how long that was from when the error was made
	Err       error
}

func (e *RateLimitError) Error() string {
	kind := "GitHub API rate limit exhausted; it resets"
	if e.Secondary {
		kind = "GitHub API secondary rate limit hit; requests may resume"
	}
	msg := ""
	var ae *APIError
	if errors.As(e.Err, &ae) && ae.Message != "" {
		msg = "; GitHub said: " + ae.Message
	}
	return fmt.Sprintf("%s: %s at %s (in %s), later than the retry budget allows%s",
		e.Op, kind, e.Reset.UTC().Format("15:04:05 MST"), humanDuration(e.Wait), msg)
}

// humanDuration prints 12m, 1h5m or 40s rather than 12m0s.
func humanDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(max(d, 0).Round(time.Second)/time.Second))
	}
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%dm", m)
	}
	if m%60 == 0 {
		return fmt.Sprintf("%dh", m/60)
	}
	return fmt.Sprintf("%dh%dm", m/60, m%60)
}

func (e *RateLimitError) Unwrap() error { return e.Err }

// StatusCode returns the HTTP status of the GitHub answer behind err, or 0.
func StatusCode(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// IsNotFound reports whether GitHub answered 404 (missing resource, or no access to it).
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsUnauthorized reports whether GitHub rejected the token (401).
func IsUnauthorized(err error) bool { return StatusCode(err) == http.StatusUnauthorized }

// IsForbidden reports a 403 that is not a rate limit (missing permission).
func IsForbidden(err error) bool {
	var rl *RateLimitError
	return StatusCode(err) == http.StatusForbidden && !errors.As(err, &rl)
}

// IsConflict reports a 409 (merge conflict or failing required contexts on create deployment).
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// IsValidation reports a 422 (bad ref, bad field, or deleting an active deployment).
func IsValidation(err error) bool { return StatusCode(err) == http.StatusUnprocessableEntity }

// IsRateLimited reports that a rate limit outlasted the retry budget.
func IsRateLimited(err error) bool {
	var rl *RateLimitError
	return errors.As(err, &rl)
}

// toAPIError turns a go-github HTTP error into *APIError; ok is false for transport errors.
func toAPIError(op Op, err error) (*APIError, bool) {
	var resp *http.Response
	var msg string
	var ae *github.AcceptedError
	var rle *github.RateLimitError
	var abe *github.AbuseRateLimitError
	var ere *github.ErrorResponse
	switch {
	case errors.As(err, &ae):
		out := &APIError{Op: op, Status: http.StatusAccepted, Err: err}
		var body errorBody
		if json.Unmarshal(ae.Raw, &body) == nil {
			out.Message = body.Message
		}
		return out, true
	case errors.As(err, &rle):
		resp, msg = rle.Response, rle.Message
	case errors.As(err, &abe):
		resp, msg = abe.Response, abe.Message
	case errors.As(err, &ere):
		resp, msg = ere.Response, ere.Message
	default:
		return nil, false
	}
	out := &APIError{Op: op, Message: msg, Err: err}
	if resp == nil {
		return out, true
	}
	out.Status = resp.StatusCode
	out.RequestID = resp.Header.Get("X-GitHub-Request-Id")
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, ok := unixHeader(resp.Header, "X-RateLimit-Reset"); ok {
			out.RateLimitReset = reset
		}
	}
	// go-github keeps the raw body for us (CheckResponse re-populates it); its Error type has no
	// place for the 409 contexts, so parse the body ourselves.
	if resp.Body != nil {
		data, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(data))
		var body errorBody
		if json.Unmarshal(data, &body) == nil {
			if out.Message == "" {
				out.Message = body.Message
			}
			out.DocumentationURL = body.DocumentationURL
			out.Errors = body.fieldErrors()
		}
	}
	return out, true
}

type errorBody struct {
	Message          string            `json:"message"`
	DocumentationURL string            `json:"documentation_url"`
	Errors           []json.RawMessage `json:"errors"`
}

func (b errorBody) fieldErrors() []FieldError {
	var out []FieldError
	for _, raw := range b.Errors {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, FieldError{Message: s})
			continue
		}
		var obj struct {
			Resource string `json:"resource"`
			Field    string `json:"field"`
			Code     string `json:"code"`
			Message  string `json:"message"`
			Contexts []struct {
				Context string `json:"context"`
				State   string `json:"state"`
			} `json:"contexts"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			continue
		}
		fe := FieldError{Resource: obj.Resource, Field: obj.Field, Code: obj.Code, Message: obj.Message}
		for _, c := range obj.Contexts {
			fe.Contexts = append(fe.Contexts, ContextState{Context: c.Context, State: c.State})
		}
		out = append(out, fe)
	}
	return out
}

func unixHeader(h http.Header, name string) (time.Time, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}

// redactedError hides the token should any lower layer ever echo it; the chain stays intact for
// errors.As/Is.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redact(token string, err error) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), token, "***"), err: err}
}
