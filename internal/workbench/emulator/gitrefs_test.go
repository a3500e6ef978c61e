package emulator_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// Git references and the contents API with GitHub's answers, each exchange checked against the
// OpenAPI description.
func TestGitRefsAndContents(t *testing.T) {
	a := start(t, emulator.Config{})
	main := seed.Branches["main"]

	r := a.do("POST", repoURL+"/git/refs", map[string]any{"ref": "refs/heads/deployment-lock/staging", "sha": main})
	if r.status != http.StatusCreated || r.obj()["ref"] != "refs/heads/deployment-lock/staging" || !strings.HasSuffix(r.header.Get("Location"), "/git/refs/heads/deployment-lock/staging") {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if r := a.do("POST", repoURL+"/git/refs", map[string]any{"ref": "refs/heads/deployment-lock/staging", "sha": main}); r.status != 422 || r.obj()["message"] != "Reference already exists" {
		t.Fatalf("create again: %d %s", r.status, r.raw)
	}
	for _, bad := range []map[string]any{
		{"ref": "heads/x", "sha": main},                         // not refs/…
		{"ref": "refs/heads/a..b", "sha": main},                 // ..
		{"ref": "refs/heads/x.lock", "sha": main},               // .lock
		{"ref": "refs/heads/has space", "sha": main},            // space
		{"ref": "refs/heads/y", "sha": strings.Repeat("0", 40)}, // no such object
	} {
		if r := a.do("POST", repoURL+"/git/refs", bad); r.status != 422 {
			t.Errorf("create %v: %d, want 422", bad, r.status)
		}
	}
	if r := a.do("GET", repoURL+"/git/ref/heads/deployment-lock/staging", nil); r.status != 200 || r.obj()["object"].(map[string]any)["sha"] != main {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}
	if r := a.do("GET", repoURL+"/git/ref/heads/nope", nil); r.status != 404 {
		t.Fatalf("get missing: %d", r.status)
	}
	if r := a.do("GET", repoURL+"/git/matching-refs/heads/deployment-lock/", nil); r.status != 200 || len(r.arr()) != 1 {
		t.Fatalf("matching: %d %s", r.status, r.raw)
	}

	// Contents: create, create again (422), replace with a stale sha (409), replace, read.
	put := func(content, sha, branch string) result {
		body := map[string]any{"message": "lock", "content": base64.StdEncoding.EncodeToString([]byte(content)), "branch": branch}
		if sha != "" {
			body["sha"] = sha
		}
		return a.do("PUT", repoURL+"/contents/lock.json", body)
	}
	r = put(`{"holder":"alice"}`, "", "deployment-lock/staging")
	if r.status != 201 {
		t.Fatalf("put: %d %s", r.status, r.raw)
	}
	first := r.obj()["content"].(map[string]any)["sha"].(string)
	commit := r.obj()["commit"].(map[string]any)
	if parents := commit["parents"].([]any); len(parents) != 1 || parents[0].(map[string]any)["sha"] != main {
		t.Fatalf("the commit's parent is not the branch head: %v", commit)
	}
	if r := put(`{"holder":"bob"}`, "", "deployment-lock/staging"); r.status != 422 {
		t.Fatalf("create over an existing file: %d", r.status)
	}
	if r := put(`{"holder":"bob"}`, strings.Repeat("1", 40), "deployment-lock/staging"); r.status != 409 {
		t.Fatalf("replace with a stale sha: %d", r.status)
	}
	if r := put(`{"holder":"bob"}`, first, "deployment-lock/staging"); r.status != 200 {
		t.Fatalf("replace: %d %s", r.status, r.raw)
	}
	if r := put(`x`, "", "no-such-branch"); r.status != 404 {
		t.Fatalf("put on a missing branch: %d", r.status)
	}
	r = a.do("GET", repoURL+"/contents/lock.json?ref=deployment-lock/staging", nil)
	raw, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(r.obj()["content"].(string), "\n", ""))
	if r.status != 200 || string(raw) != `{"holder":"bob"}` || r.obj()["encoding"] != "base64" {
		t.Fatalf("get contents: %d %s", r.status, r.raw)
	}
	if r := a.do("GET", repoURL+"/contents/lock.json", nil); r.status != 404 {
		t.Fatalf("the file leaked onto main: %d", r.status)
	}
	if r := a.do("GET", repoURL+"/contents/lock.json?ref=nope", nil); r.status != 404 {
		t.Fatalf("missing ref: %d", r.status)
	}

	// Delete: 204, then 422 for a reference that does not exist; the default branch stays.
	if r := a.do("DELETE", repoURL+"/git/refs/heads/deployment-lock/staging", nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if r := a.do("DELETE", repoURL+"/git/refs/heads/deployment-lock/staging", nil); r.status != 422 {
		t.Fatalf("delete again: %d", r.status)
	}
	if r := a.do("DELETE", repoURL+"/git/refs/heads/main", nil); r.status != 422 {
		t.Fatalf("delete the default branch: %d", r.status)
	}
	if r := a.do("GET", repoURL+"/contents/lock.json?ref=deployment-lock/staging", nil); r.status != 404 {
		t.Fatalf("read after delete: %d", r.status)
	}
}

// A token without contents write may read but not create a reference.
func TestGitRefsNeedContentsWrite(t *testing.T) {
	a := start(t, emulator.Config{Tokens: map[string]emulator.Permissions{"test-token": {DeploymentsWrite: true, Contents: emulator.AccessRead}}})
	if r := a.do("POST", repoURL+"/git/refs", map[string]any{"ref": "refs/heads/x", "sha": seed.Branches["main"]}); r.status != 403 {
		t.Fatalf("create with contents read: %d", r.status)
	}
	if r := a.do("GET", repoURL+"/git/ref/heads/main", nil); r.status != 200 {
		t.Fatalf("get with contents read: %d", r.status)
	}
}
