package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

const (
	owner   = "octo-org"
	repo    = "hello-world"
	repoURL = "/repos/" + owner + "/" + repo
)

var seed = emulator.DefaultRepo()

// api is a minimal raw-HTTP client for the tests.
type api struct {
	t      testing.TB
	e      *emulator.Emulator
	base   string
	token  string
	client *http.Client
}

func start(t testing.TB, cfg emulator.Config, repos ...emulator.RepoSeed) *api {
	t.Helper()
	e := emulatortest.Start(t, cfg, repos...)
	return &api{t: t, e: e, base: e.URL(), token: "test-token", client: &http.Client{}}
}

// startRaw starts an emulator without the OpenAPI conformance hook, for exchanges GitHub really
// has but its description does not document (400 on malformed JSON, 422 on unknown commits).
func startRaw(t testing.TB, cfg emulator.Config, repos ...emulator.RepoSeed) *api {
	t.Helper()
	e := emulator.New(cfg)
	if len(repos) == 0 {
		repos = []emulator.RepoSeed{emulator.DefaultRepo()}
	}
	for _, r := range repos {
		e.AddRepo(r)
	}
	if err := e.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return &api{t: t, e: e, base: e.URL(), token: "test-token", client: &http.Client{}}
}

type result struct {
	status int
	header http.Header
	raw    []byte
	body   any
}

func (r result) obj() map[string]any {
	m, _ := r.body.(map[string]any)
	return m
}

func (r result) arr() []any {
	a, _ := r.body.([]any)
	return a
}

func (a *api) do(method, path string, body any) result {
	a.t.Helper()
	return a.send(method, path, body, nil)
}

// send makes one request: body is a string, bytes, or a value sent as JSON; hdr adds headers.
func (a *api) send(method, path string, body any, hdr http.Header) result {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = a.base + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	res := result{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &res.body); err != nil {
			a.t.Fatalf("%s %s: response is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return res
}

// must fails the test unless the status is want.
func (r result) must(t testing.TB, want int) result {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.raw)
	}
	return r
}

func (a *api) createDeployment(body map[string]any) map[string]any {
	a.t.Helper()
	return a.do("POST", repoURL+"/deployments", body).must(a.t, 201).obj()
}

func (a *api) addStatus(id any, body map[string]any) map[string]any {
	a.t.Helper()
	return a.do("POST", repoURL+"/deployments/"+jsonNum(id)+"/statuses", body).must(a.t, 201).obj()
}

func jsonNum(v any) string {
	switch n := v.(type) {
	case float64:
		return strconv.FormatInt(int64(n), 10)
	case int64:
		return strconv.FormatInt(n, 10)
	case int:
		return strconv.Itoa(n)
	case string:
		return n
	}
	panic(fmt.Sprintf("jsonNum(%T)", v))
}

func states(d emulator.Deployment) []string {
	var out []string
	for _, s := range d.Statuses {
		out = append(out, s.State)
	}
	return out
}

func eq[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func decode(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
