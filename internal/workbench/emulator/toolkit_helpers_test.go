package emulator_test

import (
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
