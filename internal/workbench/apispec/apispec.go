// Package apispec validates HTTP exchanges and webhook payloads against GitHub's official OpenAPI
// description, using kin-openapi. The description is the repository's testdata/github/openapi.json
// (a schema-only subset of GitHub's REST description with its real webhook schemas, regenerated
// by `go run ./cmd/workbench reference`), so the checks run on any clone.
//
// A Validator is built once (Load) and is then safe for concurrent use: the document, its router
// and the webhook schemas are read-only after Load, and every validation uses its own options.
package apispec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Environment variables that locate the reference material.
const (
	// EnvOpenAPI names another OpenAPI description to validate against (an override; by default
	// the repository's testdata/github/openapi.json).
	EnvOpenAPI = "DEPLOYMENT_ACTION_OPENAPI"
	// EnvShared names the shared reference directory (the one holding github/), which only the
	// PyGithub replay and the reference's staleness check read.
	EnvShared = "DEPLOYMENT_ACTION_SHARED"
	// EnvRequireShared, when non-empty (CI), turns a missing shared directory into a test failure.
	EnvRequireShared = "DEPLOYMENT_ACTION_REQUIRE_SHARED"
)

// ReferenceDir is where the conformance reference lives, relative to the repository root: the
// description (openapi.json), hub4j's recordings and the webhook examples.
const ReferenceDir = "testdata/github"

// specRel is the description inside ReferenceDir.
const specRel = "openapi.json"

// ghesPrefix is the path prefix GitHub Enterprise Server puts before every REST route.
const ghesPrefix = "/api/v3"

// Validator checks requests and responses against the OpenAPI description.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	// templates maps the router's path keys (with multi-segment patterns) back to the spec's.
	templates map[string]string
	// basicError is components.schemas.basic-error, used for fault responses (see faultStatus).
	basicError *openapi3.Schema
	// webhooks maps the x-webhooks key ("deployment-created", "pull-request-opened", ...) to the
	// payload schema; events maps an X-GitHub-Event name ("deployment", "pull_request") to the
	// entries for its actions.
	webhooks map[string]*webhookSchema
	events   map[string][]*webhookSchema
	// webhookNames lists the accepted names (keys and events), sorted, for error messages.
	webhookNames []string
}

// Load reads the OpenAPI description at path, validates it and builds the router once.
func Load(path string) (*Validator, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("apispec: load %s: %w", path, err)
	}
	// Formats such as "timestamp" and "uri-template" are GitHub's own; they are not checked.
	if err := doc.Validate(loader.Context, openapi3.DisableSchemaFormatValidation(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("apispec: %s is not a valid OpenAPI description: %w", path, err)
	}
	v := &Validator{doc: doc, templates: map[string]string{}, webhooks: map[string]*webhookSchema{}, events: map[string][]*webhookSchema{}}

	// The router sees a copy of the document that has no servers (so any host and scheme match:
	// the emulator runs on http://127.0.0.1:PORT, the spec says https://api.github.com) and in
	// which path parameters marked x-multi-segment (a commit ref such as heads/main, a sha) may
	// span several segments.
	rdoc := &openapi3.T{
		Extensions: doc.Extensions,
		OpenAPI:    doc.OpenAPI,
		Components: doc.Components,
		Info:       doc.Info,
		Paths:      openapi3.NewPaths(),
		Security:   doc.Security,
	}
	for tmpl, item := range doc.Paths.Map() {
		key := tmpl
		for _, name := range multiSegmentParams(item) {
			key = strings.Replace(key, "{"+name+"}", "{"+name+":.+}", 1)
		}
		rdoc.Paths.Set(key, item)
		v.templates[key] = tmpl
	}
	if v.router, err = gorillamux.NewRouter(rdoc); err != nil {
		return nil, fmt.Errorf("apispec: build router: %w", err)
	}

	if s := doc.Components.Schemas["basic-error"]; s != nil && s.Value != nil {
		v.basicError = s.Value
	} else {
		return nil, fmt.Errorf("apispec: %s has no components.schemas.basic-error", path)
	}
	if err := v.loadWebhooks(); err != nil {
		return nil, fmt.Errorf("apispec: %s: %w", path, err)
	}
	return v, nil
}

// webhookSchema is the payload schema of one x-webhooks entry.
type webhookSchema struct {
	key    string // x-webhooks key: "deployment-status-created"
	event  string // X-GitHub-Event: "deployment_status"
	action string // the payload's action: "created" ("" for an event without one, such as ping)
	name   string // components.schemas key
	schema *openapi3.Schema
}

// multiSegmentParams names the path parameters of item (path-level or of any operation) that
// carry x-multi-segment: true.
func multiSegmentParams(item *openapi3.PathItem) []string {
	var names []string
	add := func(ps openapi3.Parameters) {
		for _, p := range ps {
			if p == nil || p.Value == nil || p.Value.In != openapi3.ParameterInPath {
				continue
			}
			if b, _ := p.Value.Extensions["x-multi-segment"].(bool); b && !slices.Contains(names, p.Value.Name) {
				names = append(names, p.Value.Name)
			}
		}
	}
	add(item.Parameters)
	for _, op := range item.Operations() {
		add(op.Parameters)
	}
	return names
}

// loadWebhooks reads the x-webhooks extension (OpenAPI 3.0 has no webhooks field, so kin-openapi
// keeps it as raw JSON) and resolves each entry's request body schema, which is a
// #/components/schemas reference, against the loaded components. The event and action come from
// the operationId ("deployment-status/created": event deployment_status, action created), or from
// the X-GitHub-Event header's example where the description still has one.
func (v *Validator) loadWebhooks() error {
	raw, ok := v.doc.Extensions["x-webhooks"]
	if !ok {
		return nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return fmt.Errorf("x-webhooks: %w", err)
	}
	var hooks map[string]map[string]struct {
		OperationID string `json:"operationId"`
		Parameters  []struct {
			Name    string `json:"name"`
			In      string `json:"in"`
			Example any    `json:"example"`
		} `json:"parameters"`
		RequestBody struct {
			Content map[string]struct {
				Schema struct {
					Ref string `json:"$ref"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	}
	if err := json.Unmarshal(b, &hooks); err != nil {
		return fmt.Errorf("x-webhooks: %w", err)
	}
	for _, key := range slices.Sorted(maps.Keys(hooks)) {
		op, ok := hooks[key]["post"]
		if !ok {
			continue
		}
		ref := op.RequestBody.Content["application/json"].Schema.Ref
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok {
			return fmt.Errorf("x-webhooks %s: request body schema %q is not a #/components/schemas reference", key, ref)
		}
		s := v.doc.Components.Schemas[name]
		if s == nil || s.Value == nil {
			return fmt.Errorf("x-webhooks %s: schema %q not found", key, name)
		}
		event, action, _ := strings.Cut(op.OperationID, "/")
		event = strings.ReplaceAll(event, "-", "_")
		for _, p := range op.Parameters {
			if ev, ok := p.Example.(string); ok && ev != "" && p.In == "header" && strings.EqualFold(p.Name, "X-GitHub-Event") {
				event = ev
			}
		}
		if event == "" {
			return fmt.Errorf("x-webhooks %s: no operationId to tell the event from", key)
		}
		ws := &webhookSchema{key: key, event: event, action: action, name: name, schema: s.Value}
		v.webhooks[key] = ws
		v.events[event] = append(v.events[event], ws)
	}
	for k := range v.webhooks {
		v.webhookNames = append(v.webhookNames, k)
	}
	for k := range v.events {
		if _, dup := v.webhooks[k]; !dup {
			v.webhookNames = append(v.webhookNames, k)
		}
	}
	slices.Sort(v.webhookNames)
	return nil
}

// SpecPath says where the description is: $DEPLOYMENT_ACTION_OPENAPI, else the repository's
// testdata/github/openapi.json, the repository root being the nearest directory holding go.mod
// from the working directory up. It returns "" when neither exists. required is always true: the
// description is part of the repository, so a caller must fail, never skip, without it.
func SpecPath() (path string, required bool) {
	if p := os.Getenv(EnvOpenAPI); p != "" {
		return p, true
	}
	if dir, err := Reference(); err == nil {
		if f := filepath.Join(dir, specRel); fileExists(f) {
			return f, true
		}
	}
	return "", true
}

// Reference returns the repository's testdata/github directory (found from the working
// directory up), or an error saying where it looked.
func Reference() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("apispec: %w", err)
	}
	for dir := wd; ; {
		if fileExists(filepath.Join(dir, "go.mod")) {
			ref := filepath.Join(dir, filepath.FromSlash(ReferenceDir))
			if fi, err := os.Stat(ref); err != nil || !fi.IsDir() {
				return "", fmt.Errorf("apispec: the module root %s has no %s (regenerate it with `go run ./cmd/workbench reference`)", dir, ReferenceDir)
			}
			return ref, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("apispec: no go.mod in %s or above: run from inside the repository", wd)
		}
		dir = parent
	}
}

// LoadDefault loads the description SpecPath names.
func LoadDefault() (*Validator, error) {
	path, _ := SpecPath()
	if path == "" {
		dir, err := Reference()
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("apispec: %s not found (regenerate it with `go run ./cmd/workbench reference`)", filepath.Join(dir, specRel))
	}
	return Load(path)
}

// SharedDir says where the shared reference directory is (the one holding github/recordings):
// $DEPLOYMENT_ACTION_SHARED, else the ../shared beside the nearest directory holding go.mod,
// walking up from the working directory. It returns "" when none is found; required is true when
// $DEPLOYMENT_ACTION_REQUIRE_SHARED is set (CI), where a test needing it must fail, not skip.
func SharedDir() (dir string, required bool) {
	required = os.Getenv(EnvRequireShared) != ""
	if p := os.Getenv(EnvShared); p != "" {
		return p, required
	}
	for _, shared := range sharedCandidates() {
		if fi, err := os.Stat(filepath.Join(shared, "github")); err == nil && fi.IsDir() {
			return shared, required
		}
	}
	return "", required
}

// sharedCandidates lists ../shared beside every directory holding go.mod from the working
// directory up, nearest first.
func sharedCandidates() []string {
	dir, err := os.Getwd()
	if err != nil {
		return nil
	}
	var out []string
	for {
		if fileExists(filepath.Join(dir, "go.mod")) {
			out = append(out, filepath.Join(filepath.Dir(dir), "shared"))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return out
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// options returns fresh filter options (they are cheap; a fresh set per call keeps concurrent
// validations independent).
func options() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:            true,
		IncludeResponseStatus: true,
		SkipSettingDefaults:   true, // never rewrite the request being validated
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		// Messages name the JSON pointer and the reason, without dumping the (large) schema.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}
}

// ValidateExchange checks one request (with its body) and the response sent for it; it returns
// every violation found, joined, or nil.
//
// Routing is by path only: the host and scheme are ignored and a leading /api/v3 (GitHub
// Enterprise Server) is stripped. A request whose method and path match no operation of the
// description is reported as undocumented. status 0 means no response was sent (a dropped
// connection): only the request is checked.
func (v *Validator) ValidateExchange(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) error {
	if req == nil || req.URL == nil {
		return errors.New("apispec: no request")
	}
	escaped := req.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(escaped, ghesPrefix); ok && (rest == "" || rest[0] == '/') {
		escaped = rest
	}
	unescaped, err := url.PathUnescape(escaped)
	if err != nil {
		return fmt.Errorf("%s %s: bad path: %w", req.Method, req.URL.EscapedPath(), err)
	}
	u := &url.URL{Path: unescaped, RawQuery: req.URL.RawQuery}
	if escaped != unescaped {
		u.RawPath = escaped
	}
	rreq := &http.Request{
		Method:        req.Method,
		URL:           u,
		Host:          req.Host,
		Header:        req.Header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(reqBody)),
		ContentLength: int64(len(reqBody)),
	}
	if rreq.Header == nil {
		rreq.Header = http.Header{}
	}
	// GitHub reads a request body as JSON whatever its Content-Type; so does the check.
	if len(reqBody) > 0 && rreq.Header.Get("Content-Type") == "" {
		rreq.Header.Set("Content-Type", "application/json")
	}
	label := req.Method + " " + req.URL.EscapedPath()
	if req.URL.RawQuery != "" {
		label += "?" + req.URL.RawQuery
	}

	route, params, err := v.router.FindRoute(rreq)
	if err != nil {
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			return fmt.Errorf("%s: operation undocumented: the OpenAPI description has this path but no %s operation on it", label, req.Method)
		}
		return fmt.Errorf("%s: operation undocumented: no path of the OpenAPI description matches", label)
	}
	for k, p := range params {
		if s, err := url.PathUnescape(p); err == nil {
			params[k] = s
		}
	}
	tmpl := v.templates[route.Path]
	if tmpl == "" {
		tmpl = route.Path
	}
	label = fmt.Sprintf("%s (%s %s, %s)", label, req.Method, tmpl, route.Operation.OperationID)

	var problems []string
	in := &openapi3filter.RequestValidationInput{
		Request:    rreq,
		PathParams: params,
		Route:      route,
		Options:    options(),
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		for _, e := range flatten(err) {
			problems = append(problems, "request: "+e)
		}
	}
	if status != 0 {
		for _, e := range v.validateResponse(in, route, status, header, respBody) {
			problems = append(problems, fmt.Sprintf("response %d: %s", status, e))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s:\n  %s", label, strings.Join(problems, "\n  "))
}

// faultStatus says whether status is one GitHub may send on any endpoint, documented or not:
// 401 (bad credentials), 403 (forbidden, and primary/secondary rate limits), 429 (secondary rate
// limit), 5xx, and 404 (the repository or the addressed resource does not exist or is not
// visible to the token). Their body is the basic-error shape {message, documentation_url?}. The
// fault injection of the emulator produces the first four; GitHub answers 404 on operations
// whose description lists no 404, as recorded in pygithub/Environment.testDeleteEnvironment.txt
// (GET .../environments/{name} → 404 {"message":"Not Found",...}; the description lists only
// 200). So when the description does not list such a status for the operation, the response is
// accepted provided its body is a basic-error with a message; any other undocumented status is a
// violation.
func faultStatus(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden ||
		status == http.StatusNotFound || status == http.StatusTooManyRequests ||
		(status >= 500 && status <= 599)
}

// conditionalGET says whether req is a GET or HEAD carrying If-None-Match or If-Modified-Since.
func conditionalGET(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	return req.Header.Get("If-None-Match") != "" || req.Header.Get("If-Modified-Since") != ""
}

func (v *Validator) validateResponse(in *openapi3filter.RequestValidationInput, route *routers.Route, status int, header http.Header, body []byte) []string {
	if header == nil {
		header = http.Header{}
	}
	responses := route.Operation.Responses
	documented := responses.Status(status)
	if documented == nil {
		documented = responses.Default()
	}
	if documented == nil && status == http.StatusNotModified && conditionalGET(in.Request) {
		// GitHub answers a conditional GET with 304 on any endpoint that sends validators, though
		// the description lists 304 on a few operations only (docs: "Best practices for using
		// the REST API", conditional requests). A 304 has no body.
		if len(bytes.TrimSpace(body)) > 0 {
			return []string{fmt.Sprintf("a 304 response must have no body, got %d bytes", len(body))}
		}
		return nil
	}
	if documented == nil {
		if faultStatus(status) {
			return v.checkBasicError(body)
		}
		var codes []string
		for code := range responses.Map() {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		return []string{fmt.Sprintf("status %d is not documented for this operation (documented: %s)", status, strings.Join(codes, ", "))}
	}

	var problems []string
	if status == http.StatusNoContent && len(bytes.TrimSpace(body)) > 0 {
		problems = append(problems, fmt.Sprintf("a 204 response must have no body, got %d bytes", len(body)))
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Options:                in.Options,
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		problems = append(problems, flatten(err)...)
	}
	return problems
}

// checkBasicError checks that body is GitHub's basic-error shape with a message.
func (v *Validator) checkBasicError(body []byte) []string {
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return []string{fmt.Sprintf("undocumented fault status: body is not JSON (want basic-error {message, documentation_url}): %v", err)}
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return []string{"undocumented fault status: body is not a JSON object (want basic-error {message, documentation_url})"}
	}
	var problems []string
	if m, ok := obj["message"].(string); !ok || m == "" {
		problems = append(problems, `undocumented fault status: basic-error body lacks a non-empty "message" string`)
	}
	if err := v.basicError.VisitJSON(value, openapi3.MultiErrors(), openapi3.VisitAsResponse(), openapi3.DisableSchemaErrorDetails()); err != nil {
		for _, e := range flatten(err) {
			problems = append(problems, "undocumented fault status: body is not a basic-error: "+e)
		}
	}
	return problems
}

// ValidateWebhook checks a webhook payload against the request body schema of the matching
// x-webhooks entry (GitHub's real webhook schemas). event is an X-GitHub-Event value
// ("deployment", "deployment_status", "pull_request"), the entry then being chosen by the
// payload's action, or an x-webhooks key ("deployment-created", "pull-request-opened").
func (v *Validator) ValidateWebhook(event string, payload []byte) error {
	var value any
	if err := json.Unmarshal(payload, &value); err != nil {
		return fmt.Errorf("webhook %q: payload is not JSON: %w", event, err)
	}
	s, ok := v.webhooks[event]
	if !ok {
		candidates, known := v.events[event]
		if !known {
			return fmt.Errorf("webhook %q: no x-webhooks entry (known: %s)", event, strings.Join(v.webhookNames, ", "))
		}
		obj, _ := value.(map[string]any)
		action, _ := obj["action"].(string)
		var keys []string
		for _, c := range candidates {
			keys = append(keys, c.key)
			// With one entry for the event, a payload without an action (ping; an old payload)
			// is checked against it, and the schema says what is missing.
			if c.action == action || (len(candidates) == 1 && action == "") {
				s = c
			}
		}
		if s == nil {
			return fmt.Errorf("webhook %q: no x-webhooks entry for action %q (entries for this event: %s)", event, action, strings.Join(keys, ", "))
		}
	}
	// Formats are not asserted, as for the REST schemas: GitHub's "uri" is loose (a real
	// deployment_status payload carries environment_url "", typed string/uri).
	err := s.schema.VisitJSON(value, openapi3.MultiErrors(), openapi3.DisableSchemaErrorDetails())
	if err != nil {
		return fmt.Errorf("webhook %q: payload does not match components.schemas.%s (x-webhooks %s):\n  %s", event, s.name, s.key, strings.Join(flatten(err), "\n  "))
	}
	return nil
}

// flatten turns kin-openapi's nested multi-errors into one message per violation.
func flatten(err error) []string {
	var out []string
	var walk func(prefix string, err error)
	walk = func(prefix string, err error) {
		var me openapi3.MultiError
		if errors.As(err, &me) && len(me) > 0 {
			// Keep the wrapper's own reason ("request body has an error", "response body doesn't
			// match schema deployment") in front of each inner violation.
			msg := err.Error()
			inner := me.Error()
			p := prefix
			if i := strings.Index(msg, inner); i > 0 {
				p += strings.TrimSuffix(strings.TrimSpace(msg[:i]), ":") + ": "
			}
			for _, e := range me {
				walk(p, e)
			}
			return
		}
		out = append(out, prefix+err.Error())
	}
	walk("", err)
	return out
}

// Operation finds the documented operation for method and path (an escaped request path; an
// /api/v3 prefix is ignored). It returns the spec's path template and the operationId, or ok false
// when the description documents no such operation.
func (v *Validator) Operation(method, path string) (template, operationID string, ok bool) {
	escaped, _, _ := strings.Cut(path, "?")
	if rest, found := strings.CutPrefix(escaped, ghesPrefix); found && (rest == "" || rest[0] == '/') {
		escaped = rest
	}
	unescaped, err := url.PathUnescape(escaped)
	if err != nil {
		return "", "", false
	}
	u := &url.URL{Path: unescaped}
	if escaped != unescaped {
		u.RawPath = escaped
	}
	route, _, err := v.router.FindRoute(&http.Request{Method: method, URL: u, Header: http.Header{}})
	if err != nil {
		return "", "", false
	}
	template = v.templates[route.Path]
	if template == "" {
		template = route.Path
	}
	return template, route.Operation.OperationID, true
}

// Operations lists the documented operations as "METHOD template", sorted (for diagnostics).
func (v *Validator) Operations() []string {
	var out []string
	for tmpl, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+tmpl)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		_, pa, _ := strings.Cut(a, " ")
		_, pb, _ := strings.Cut(b, " ")
		if c := strings.Compare(pa, pb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return out
}
