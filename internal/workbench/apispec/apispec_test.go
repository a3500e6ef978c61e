package apispec_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/apispec"
)

var (
	loadOnce sync.Once
	loaded   *apispec.Validator
	loadErr  error
)

// validator loads the repository's description once per test binary; without it the test fails
// (it is part of the repository).
func validator(t testing.TB) *apispec.Validator {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = apispec.LoadDefault() })
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

var jsonHeader = http.Header{"Content-Type": {"application/json; charset=utf-8"}}

func newReq(method, target string) *http.Request {
	if strings.HasPrefix(target, "/") {
		target = "http://127.0.0.1:18080" + target
	}
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Content-Type", "application/json")
	return r
}

// recordedCreate returns hub4j's recorded POST /repos/hub4j-test-org/github-api-test/deployments
// exchange (2021, a string payload).
func recordedCreate(t testing.TB) recorded {
	t.Helper()
	dir := filepath.Join(reference(t), "recordings", "hub4j", "AppTest", "wiremock", "testCreateAndListDeployments")
	ex, err := readHub4j(dir, "hub4j/AppTest/wiremock/testCreateAndListDeployments")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ex {
		if r.Method == "POST" && r.Status == 201 && strings.HasSuffix(r.Path, "/deployments") {
			return r
		}
	}
	t.Fatalf("no recorded create-deployment exchange in %s", dir)
	return recorded{}
}

func (r recorded) request() *http.Request {
	req := newReq(r.Method, r.Path)
	for k, vs := range r.ReqHeader {
		req.Header[k] = vs
	}
	return req
}

func TestLoad(t *testing.T) {
	path, required := apispec.SpecPath()
	if path == "" || !required {
		t.Fatalf("SpecPath() = %q, %v; want the repository's testdata/github/openapi.json, required", path, required)
	}
	if want := filepath.Join(reference(t), "openapi.json"); os.Getenv(apispec.EnvOpenAPI) == "" && path != want {
		t.Errorf("SpecPath() = %q, want %q", path, want)
	}
	v, err := apispec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ops := v.Operations()
	if len(ops) < 30 {
		t.Errorf("only %d operations: %v", len(ops), ops)
	}
	for _, want := range []string{"POST /repos/{owner}/{repo}/deployments", "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", "GET /rate_limit",
		"POST /repos/{owner}/{repo}/check-runs", "GET /repos/{owner}/{repo}/collaborators/{username}/permission"} {
		found := false
		for _, op := range ops {
			found = found || op == want
		}
		if !found {
			t.Errorf("operation %q missing from %v", want, ops)
		}
	}
	if _, err := apispec.Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestRecordedCreateDeploymentIsValid(t *testing.T) {
	v := validator(t)
	r := recordedCreate(t)
	if err := v.ValidateExchange(r.request(), r.ReqBody, r.Status, r.RespHeader, r.RespBody); err != nil {
		t.Fatalf("recorded create-deployment exchange rejected:\n%v", err)
	}
	// The same through a GHES-style /api/v3 prefix.
	req := r.request()
	req.URL.Path = "/api/v3" + req.URL.Path
	if err := v.ValidateExchange(req, r.ReqBody, r.Status, r.RespHeader, r.RespBody); err != nil {
		t.Fatalf("with /api/v3 prefix:\n%v", err)
	}
}

// mutate decodes a JSON object, applies f and re-encodes it.
func mutate(t testing.TB, body []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBrokenExchangesFail(t *testing.T) {
	v := validator(t)
	r := recordedCreate(t)
	cases := []struct {
		name     string
		method   string
		path     string
		reqBody  []byte
		status   int
		respBody []byte
		want     []string // substrings the message must hold
	}{
		{
			name: "missing ref in create request", method: "POST", path: r.Path,
			reqBody: mutate(t, r.ReqBody, func(m map[string]any) { delete(m, "ref") }),
			status:  201, respBody: r.RespBody,
			want: []string{"repos/create-deployment", "request", `"ref"`, "missing"},
		},
		{
			name: "response missing id", method: "POST", path: r.Path, reqBody: r.ReqBody, status: 201,
			respBody: mutate(t, r.RespBody, func(m map[string]any) { delete(m, "id") }),
			want:     []string{"response 201", `"/id"`, `property "id" is missing`},
		},
		{
			name: "wrong type in response", method: "POST", path: r.Path, reqBody: r.ReqBody, status: 201,
			respBody: mutate(t, r.RespBody, func(m map[string]any) { m["id"] = "263877258" }),
			want:     []string{"response 201", `"/id"`, "integer"},
		},
		{
			name: "wrong type in request", method: "POST", path: r.Path, status: 201, respBody: r.RespBody,
			reqBody: mutate(t, r.ReqBody, func(m map[string]any) { m["auto_merge"] = "no" }),
			want:    []string{"request", "auto_merge", "boolean"},
		},
		{
			name: "bad enum in status request", method: "POST", path: "/repos/o/r/deployments/1/statuses",
			reqBody: []byte(`{"state":"done"}`), status: 0,
			want: []string{"request", `"/state"`},
		},
		{
			name: "non-integer deployment id", method: "GET", path: "/repos/o/r/deployments/abc", status: 0,
			want: []string{"deployment_id", "integer"},
		},
		{
			name: "undocumented status", method: "POST", path: r.Path, reqBody: r.ReqBody, status: 200, respBody: r.RespBody,
			want: []string{"status 200 is not documented", "201, 202, 409, 422"},
		},
		{
			name: "409 on a route that does not list it", method: "GET", path: "/repos/o/r/deployments/1", status: 409,
			respBody: []byte(`{"message":"Conflict"}`),
			want:     []string{"status 409 is not documented", "(documented: 200, 404)"},
		},
		{
			name: "unknown route", method: "GET", path: "/user", status: 200, respBody: []byte(`{}`),
			want: []string{"GET /user", "operation undocumented"},
		},
		{
			name: "unknown method on a known path", method: "PATCH", path: "/repos/o/r/deployments", status: 200, respBody: []byte(`{}`),
			want: []string{"PATCH /repos/o/r/deployments", "operation undocumented", "no PATCH operation"},
		},
		{
			name: "fault status with a non-JSON body", method: "GET", path: "/repos/o/r/deployments", status: 502,
			respBody: []byte(`<html>bad gateway</html>`),
			want:     []string{"response 502", "basic-error"},
		},
		{
			name: "fault status without message", method: "GET", path: "/repos/o/r/deployments", status: 401,
			respBody: []byte(`{"documentation_url":"https://docs.github.com/rest"}`),
			want:     []string{"response 401", `"message"`},
		},
		{
			name: "204 with a body", method: "DELETE", path: "/repos/o/r/deployments/5", status: 204,
			respBody: []byte(`{"x":1}`),
			want:     []string{"response 204", "no body"},
		},
		{
			name: "missing content type on JSON response", method: "GET", path: "/repos/o/r/deployments/5", status: 404,
			respBody: []byte(`{"message":"Not Found"}`),
			want:     []string{"response 404", "Content-Type"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := jsonHeader
			if strings.Contains(c.name, "missing content type") {
				hdr = http.Header{}
			}
			err := v.ValidateExchange(newReq(c.method, c.path), c.reqBody, c.status, hdr, c.respBody)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			if len(msg) > 4000 {
				t.Errorf("message is %d bytes long, too long to be useful:\n%.2000s", len(msg), msg)
			}
			t.Logf("%s", msg)
		})
	}
}

func TestAcceptedExchanges(t *testing.T) {
	v := validator(t)
	r := recordedCreate(t)
	basic := []byte(`{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`)
	cases := []struct {
		name     string
		method   string
		path     string
		reqBody  []byte
		status   int
		header   http.Header
		respBody []byte
	}{
		{"dropped connection (status 0)", "POST", r.Path, r.ReqBody, 0, nil, nil},
		{"rate limit 403 on create", "POST", r.Path, r.ReqBody, 403, jsonHeader, basic},
		{"secondary rate limit 429", "GET", "/repos/o/r/deployments?per_page=100&page=2", nil, 429, jsonHeader, basic},
		{"bad credentials 401", "GET", "/repos/o/r/deployments/7/statuses", nil, 401, jsonHeader, []byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)},
		{"server error 503", "POST", "/repos/o/r/deployments/7/statuses", []byte(`{"state":"success"}`), 503, jsonHeader, []byte(`{"message":"Service unavailable"}`)},
		{"404 on create (not listed; GitHub sends it on any endpoint)", "POST", r.Path, r.ReqBody, 404, jsonHeader, []byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)},
		{"documented 404", "GET", "/repos/o/r/deployments/7", nil, 404, jsonHeader, []byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)},
		{"delete 204", "DELETE", "/repos/o/r/deployments/7", nil, 204, http.Header{}, nil},
		{"validation 422", "POST", r.Path, []byte(`{"ref":"nope"}`), 422, jsonHeader, []byte(`{"message":"No ref found for: nope","documentation_url":"https://docs.github.com/rest","errors":[]}`)},
		{"multi-segment ref", "GET", "/repos/o/r/commits/heads/feature/x/statuses", nil, 200, jsonHeader, []byte(`[]`)},
		{"encoded environment name", "DELETE", "/repos/o/r/environments/test%2Fenv", nil, 204, http.Header{}, nil},
		{"GHES prefix", "GET", "/api/v3/repos/o/r/deployments", nil, 200, jsonHeader, []byte(`[]`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := v.ValidateExchange(newReq(c.method, c.path), c.reqBody, c.status, c.header, c.respBody); err != nil {
				t.Fatalf("rejected:\n%v", err)
			}
		})
	}
}

// TestRecordedExchangesAgainstSpec checks every recorded exchange on a documented route against
// the description: real GitHub traffic should pass. Exchanges on routes outside the description
// (GET /user, /orgs, search, ...) must be reported as undocumented. hub4j's recordings are in the
// repository; PyGithub's (LGPL) are read from ../shared when it is there.
func TestRecordedExchangesAgainstSpec(t *testing.T) {
	v := validator(t)
	check := func(t *testing.T, suites []recordingSuite) {
		var passed, undocumented, failed int
		for _, s := range suites {
			for _, r := range s.Exchanges {
				err := v.ValidateExchange(r.request(), r.ReqBody, r.Status, r.RespHeader, r.RespBody)
				switch {
				case err == nil:
					passed++
				case strings.Contains(err.Error(), "operation undocumented"):
					undocumented++
				default:
					failed++
					if reason, ok := knownSpecDeviation(r, err); ok {
						t.Logf("%s: known deviation of the recording from the current description (%s):\n%v", r.Source, reason, err)
						continue
					}
					t.Errorf("%s: real recorded exchange rejected:\n%v", r.Source, err)
				}
			}
		}
		t.Logf("recorded exchanges vs spec: %d valid, %d on undocumented routes, %d rejected", passed, undocumented, failed)
		if passed < 5 {
			t.Errorf("only %d recorded exchanges validated", passed)
		}
	}
	t.Run("hub4j", func(t *testing.T) { check(t, hub4jSuites(t)) })
	t.Run("pygithub", func(t *testing.T) { check(t, pygithubSuites(t)) })
}

// knownSpecDeviations lists recorded exchanges that real GitHub sent at the time but that the
// current description rejects, by source prefix and a substring of the violation.
var knownSpecDeviations = []struct{ source, problem, why string }{
	// GET /repos/{o}/{r} recorded in 2019-2022: the repository object has no has_discussions,
	// which the current full-repository schema requires (the only field it lacks).
	{"", `response 200: response body doesn't match schema #/components/schemas/full-repository: Error at "/has_discussions": property "has_discussions" is missing`,
		"recorded before has_discussions was part of the repository object"},
}

func knownSpecDeviation(r recorded, err error) (string, bool) {
	for _, k := range knownSpecDeviations {
		if strings.HasPrefix(r.Source, k.source) && strings.Contains(err.Error(), k.problem) {
			return k.why, true
		}
	}
	return "", false
}

func TestConcurrentUse(t *testing.T) {
	v := validator(t)
	r := recordedCreate(t)
	bad := mutate(t, r.RespBody, func(m map[string]any) { m["id"] = "x" })
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if err := v.ValidateExchange(r.request(), r.ReqBody, r.Status, r.RespHeader, r.RespBody); err != nil {
					errs <- err
					return
				}
				if err := v.ValidateExchange(r.request(), r.ReqBody, r.Status, r.RespHeader, bad); err == nil {
					errs <- errorString("broken response accepted")
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// BenchmarkLoad measures loading the repository's description (once per test binary in the suites).
func BenchmarkLoad(b *testing.B) {
	path, _ := apispec.SpecPath()
	for b.Loop() {
		if _, err := apispec.Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateExchange(b *testing.B) {
	v := validator(b)
	r := recordedCreate(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.ValidateExchange(r.request(), r.ReqBody, r.Status, r.RespHeader, r.RespBody); err != nil {
			b.Fatal(err)
		}
	}
}

// webhookEvent maps a webhook example file to its X-GitHub-Event name.
func webhookEvent(rel string) string {
	if strings.Contains(rel, "deployment_status") {
		return "deployment_status"
	}
	return "deployment"
}

// TestWebhookExamples checks the real-shaped example payloads (octokit/webhooks, hub4j) against
// GitHub's webhook schemas.
func TestWebhookExamples(t *testing.T) {
	v := validator(t)
	root := filepath.Join(reference(t), "webhook-examples")
	var files []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) < 8 {
		t.Fatalf("want the 8 webhook examples under %s, found %d: %v", root, len(files), err)
	}
	used := map[string]bool{}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			event := webhookEvent(rel)
			err = v.ValidateWebhook(event, payload)
			known, isKnown := knownWebhookDeviations[rel]
			used[rel] = true
			switch {
			case err != nil && isKnown:
				// Every violation must be one the entry names: anything else is a new problem.
				lines := strings.Split(err.Error(), "\n")[1:]
				for _, l := range lines {
					if !slices.ContainsFunc(known.problems, func(p string) bool { return strings.Contains(l, p) }) {
						t.Errorf("violation not covered by knownWebhookDeviations[%q]: %s", rel, strings.TrimSpace(l))
					}
				}
				t.Logf("known deviation (%s): %d violations", known.why, len(lines))
			case err != nil:
				t.Errorf("%s payload rejected:\n%v", event, err)
			case isKnown:
				t.Errorf("listed in knownWebhookDeviations (%s) but now accepted: remove the entry", known.why)
			}
		})
	}
	for rel := range knownWebhookDeviations {
		if !used[rel] {
			t.Errorf("knownWebhookDeviations names %s, which is not an example", rel)
		}
	}
}

// knownWebhookDeviations names the example payloads GitHub's current webhook schemas reject: each
// lists the JSON pointers of every violation it has (any other violation fails the test).
var knownWebhookDeviations = map[string]struct {
	why      string
	problems []string
}{
	// GitHub's 2015 payloads (baxterthehacker/public-repo, recorded by hub4j/github-api): no
	// "action", no node_id anywhere, fewer repository fields, and null description/target_url.
	"hub4j/deployment.json": {
		why: "2015-era payload: no action, node_ids, original_environment, workflow, workflow_run; fewer repository fields",
		problems: []string{`"/action"`, `"/workflow"`, `"/workflow_run"`, `"/deployment/node_id"`, `"/deployment/original_environment"`,
			`"/repository/owner/node_id"`, `"/repository/deployments_url"`, `"/repository/node_id"`, `"/repository/has_projects"`,
			`"/repository/archived"`, `"/repository/disabled"`, `"/repository/license"`, `"/sender/node_id"`},
	},
	"hub4j/deployment_status.json": {
		why: "2015-era payload: no action, node_ids, original_environment, deployment_status.environment; null description/target_url; fewer repository fields",
		problems: []string{`"/action"`, `"/deployment/node_id"`, `"/deployment/original_environment"`, `"/deployment_status/description"`,
			`"/deployment_status/target_url"`, `"/deployment_status/node_id"`, `"/deployment_status/environment"`,
			`"/repository/owner/node_id"`, `"/repository/deployments_url"`, `"/repository/node_id"`, `"/repository/has_projects"`,
			`"/repository/archived"`, `"/repository/disabled"`, `"/repository/license"`, `"/sender/node_id"`},
	},
	// octokit's gh-pages examples carry a workflow_run captured before GitHub added these fields.
	"octokit/deployment/gh-pages.payload.json": {
		why:      "example's workflow_run predates path and display_title",
		problems: []string{`"/workflow_run/path"`, `"/workflow_run/display_title"`},
	},
	"octokit/deployment_status/gh-pages.payload.json": {
		why:      "example's workflow_run predates path and display_title",
		problems: []string{`"/workflow_run/path"`, `"/workflow_run/display_title"`},
	},
}

func TestWebhookBroken(t *testing.T) {
	v := validator(t)
	payload, err := os.ReadFile(filepath.Join(reference(t), "webhook-examples", "octokit", "deployment", "payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateWebhook("deployment", payload); err != nil {
		t.Fatalf("the example itself is rejected: %v", err)
	}
	if err := v.ValidateWebhook("no_such_event", payload); err == nil || !strings.Contains(err.Error(), "deployment_status") {
		t.Errorf("unknown event: got %v", err)
	}
	broken := mutate(t, payload, func(m map[string]any) { delete(m, "deployment") })
	if err := v.ValidateWebhook("deployment", broken); err == nil || !strings.Contains(err.Error(), "deployment") {
		t.Errorf("payload without deployment accepted (err=%v)", err)
	} else {
		t.Log(err)
	}
	broken = mutate(t, payload, func(m map[string]any) { m["action"] = "destroyed" })
	if err := v.ValidateWebhook("deployment-created", broken); err == nil || !strings.Contains(err.Error(), "/action") {
		t.Errorf("payload with action destroyed accepted for deployment-created (err=%v)", err)
	} else {
		t.Log(err)
	}
	if err := v.ValidateWebhook("deployment", broken); err == nil || !strings.Contains(err.Error(), `no x-webhooks entry for action "destroyed"`) {
		t.Errorf("event deployment with action destroyed: got %v", err)
	}
	if err := v.ValidateWebhook("deployment", []byte("{")); err == nil {
		t.Error("non-JSON payload accepted")
	}
}

// TestWebhookByAction checks that an event with several x-webhooks entries (pull_request: opened,
// closed, synchronize) is validated against the entry for the payload's action.
func TestWebhookByAction(t *testing.T) {
	v := validator(t)
	payload, err := os.ReadFile(filepath.Join(reference(t), "webhook-examples", "octokit", "deployment", "payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	// A deployment payload sent as pull_request: checked against pull-request-<action>.
	pr := mutate(t, payload, func(m map[string]any) { m["action"] = "opened" })
	err = v.ValidateWebhook("pull_request", pr)
	if err == nil || !strings.Contains(err.Error(), "webhook-pull-request-opened") {
		t.Errorf("pull_request opened: want a mismatch with webhook-pull-request-opened, got %v", err)
	}
	pr = mutate(t, payload, func(m map[string]any) { m["action"] = "synchronize" })
	if err := v.ValidateWebhook("pull_request", pr); err == nil || !strings.Contains(err.Error(), "webhook-pull-request-synchronize") {
		t.Errorf("pull_request synchronize: want a mismatch with webhook-pull-request-synchronize, got %v", err)
	}
	pr = mutate(t, payload, func(m map[string]any) { m["action"] = "edited" })
	if err := v.ValidateWebhook("pull_request", pr); err == nil || !strings.Contains(err.Error(), "pull-request-closed, pull-request-opened, pull-request-synchronize") {
		t.Errorf("pull_request edited: want no entry, got %v", err)
	}
	// ping has no action.
	ping := []byte(`{"zen":"Keep it logically awesome.","hook_id":1,"hook":{"type":"Repository","id":1,"name":"web","active":true,"events":["deployment"],"config":{"content_type":"json","insecure_ssl":"0","url":"http://127.0.0.1:1/hook"},"updated_at":"2026-01-01T00:00:00Z","created_at":"2026-01-01T00:00:00Z","url":"https://api.github.com/repos/o/r/hooks/1","test_url":"https://api.github.com/repos/o/r/hooks/1/test","ping_url":"https://api.github.com/repos/o/r/hooks/1/pings","deliveries_url":"https://api.github.com/repos/o/r/hooks/1/deliveries","last_response":{"code":null,"status":"unused","message":null}}}`)
	if err := v.ValidateWebhook("ping", ping); err != nil {
		t.Errorf("ping: %v", err)
	}
}

// TestNotModified: a 304 answers a conditional GET on any operation (GitHub sends validators on
// most GETs; the description lists 304 on a few only), with no body; an unconditional request
// or a 304 with a body is still reported.
func TestNotModified(t *testing.T) {
	v := validator(t)
	cond := newReq("GET", "/repos/o/r/deployments/7")
	cond.Header.Set("If-None-Match", `"abc"`)
	if err := v.ValidateExchange(cond, nil, 304, http.Header{"Etag": {`"abc"`}}, nil); err != nil {
		t.Errorf("conditional 304 rejected:\n%v", err)
	}
	if err := v.ValidateExchange(cond, nil, 304, http.Header{}, []byte(`{"x":1}`)); err == nil || !strings.Contains(err.Error(), "no body") {
		t.Errorf("304 with a body: %v", err)
	}
	if err := v.ValidateExchange(newReq("GET", "/repos/o/r/deployments/7"), nil, 304, http.Header{}, nil); err == nil || !strings.Contains(err.Error(), "status 304 is not documented") {
		t.Errorf("unconditional 304: %v", err)
	}
}
