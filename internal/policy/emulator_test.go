package policy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/policy"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// The loader through HTTPFetcher against the emulator: the file comes from the default branch
// (a pull request's branch cannot loosen it), a second load is a 304, a change applies, and a
// repository without the file gets the defaults.
func TestLoaderAgainstTheEmulator(t *testing.T) {
	em := emulatortest.Start(t, emulator.Config{})
	const owner, repo = "octo-org", "hello-world"
	if _, err := em.PutFile(owner, repo, "", policy.Path, []byte("environments:\n  production:\n    checks: required\n")); err != nil {
		t.Fatal(err)
	}
	// A branch that removes the rule: it must not apply.
	if _, err := em.PutFile(owner, repo, "loosen", policy.Path, []byte("environments:\n  production: {}\n")); err != nil {
		t.Fatal(err)
	}
	f := policy.HTTPFetcher{BaseURL: em.URL(), Token: "t0k3n"}
	var l policy.Loader
	ctx := context.Background()
	since := len(em.Requests())
	load := func() policy.Environment {
		t.Helper()
		p, err := l.Load(ctx, f, owner, repo)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := p.Environment("Production")
		return e
	}
	if e := load(); !e.ChecksRequired {
		t.Fatalf("first load: %+v", e)
	}
	if e := load(); !e.ChecksRequired {
		t.Fatalf("second load: %+v", e)
	}
	if _, err := em.PutFile(owner, repo, "", policy.Path, []byte("environments:\n  production:\n    confirm: true\n")); err != nil {
		t.Fatal(err)
	}
	if e := load(); e.ChecksRequired || !e.Confirm {
		t.Fatalf("after a change on main: %+v", e)
	}
	var got []string
	for _, r := range em.Requests()[since:] {
		got = append(got, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
	}
	want := []string{
		"GET /repos/octo-org/hello-world/contents/.github/deployments.yml 200",
		"GET /repos/octo-org/hello-world/contents/.github/deployments.yml 304",
		"GET /repos/octo-org/hello-world/contents/.github/deployments.yml 200",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A later push that does not touch the file keeps it.
	if _, err := em.Push(owner, repo, "main", emulator.Commit{}); err != nil {
		t.Fatal(err)
	}
	if e := load(); !e.Confirm {
		t.Fatalf("after an unrelated push: %+v", e)
	}
	// Deleted: the defaults again.
	if _, err := em.PutFile(owner, repo, "", policy.Path, nil); err != nil {
		t.Fatal(err)
	}
	p, err := l.Load(ctx, f, owner, repo)
	if err != nil || p.Found {
		t.Fatalf("deleted: %+v %v", p, err)
	}
	// A bad token is an error, which denies; the token is not in it.
	bad := policy.HTTPFetcher{BaseURL: em.URL(), Token: "wrong-secret"}
	emBad := emulatortest.Start(t, emulator.Config{Tokens: map[string]emulator.Permissions{"good": {}}})
	bad.BaseURL = emBad.URL()
	if _, err := l.Load(ctx, bad, owner, repo); err == nil || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("bad token: %v", err)
	}
}
