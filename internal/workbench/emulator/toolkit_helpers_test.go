package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/apispec"
)

var (
	hookSpecOnce sync.Once
	hookSpec     *apispec.Validator
	hookSpecErr  error
)

// webhookSpec loads the description (testdata/github/openapi.json, or $DEPLOYMENT_ACTION_OPENAPI)
// for its x-webhooks schemas, GitHub's real ones.
func webhookSpec(t testing.TB) *apispec.Validator {
	t.Helper()
	hookSpecOnce.Do(func() { hookSpec, hookSpecErr = apispec.LoadDefault() })
	if hookSpecErr != nil {
		t.Fatal(hookSpecErr)
	}
	return hookSpec
}

// as returns a copy of the client that uses token.
func (a *api) as(token string) *api {
	c := *a
	c.token = token
	return &c
}

// doWith is do with extra request headers.
func (a *api) doWith(method, path string, body any, hdr http.Header) result {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
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

// must returns v, failing the test on err: must(f())(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// must3 is must for a call with three results; it keeps the first.
func must3[A, B any](a A, _ B, err error) func(testing.TB) A {
	return must(a, err)
}

// get walks a decoded JSON value along keys ("head.repo.full_name").
func get(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
