package lock

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// fakeGitHub is an in-memory repository with GitHub's answers for the calls the store makes:
// 422 for a reference that exists (create) or does not (delete), 404 for a missing branch or
// file, 409 for a replace whose sha is stale, 422 for a create of a file that exists.
type fakeGitHub struct {
	mu    sync.Mutex
	refs  map[string]string            // full ref -> sha
	files map[string]map[string][]byte // branch -> path -> content
	calls []string
	// afterCreateRef runs (unlocked) after a successful create-reference: tests put another
	// writer between the two requests of a take.
	afterCreateRef func()
}

func newFake() *fakeGitHub {
	return &fakeGitHub{refs: map[string]string{"refs/heads/main": strings.Repeat("a", 40)}, files: map[string]map[string][]byte{}}
}

func apiErr(op ghapi.Op, status int) error {
	return &ghapi.APIError{Op: op, Status: status, Message: http.StatusText(status)}
}

func blobSHA(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

func (f *fakeGitHub) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeGitHub) DefaultBranchSHA(ctx context.Context, owner, repo string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("GET repo+ref main")
	return f.refs["refs/heads/main"], nil
}

func (f *fakeGitHub) CreateRef(ctx context.Context, owner, repo, ref, sha string) error {
	f.mu.Lock()
	f.record("POST ref %s", ref)
	if _, ok := f.refs[ref]; ok {
		f.mu.Unlock()
		return apiErr(ghapi.OpCreateRef, 422)
	}
	f.refs[ref] = sha
	f.files[strings.TrimPrefix(ref, "refs/heads/")] = map[string][]byte{}
	hook := f.afterCreateRef
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return nil
}

func (f *fakeGitHub) DeleteRef(ctx context.Context, owner, repo, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("DELETE ref %s", ref)
	if _, ok := f.refs[ref]; !ok {
		return apiErr(ghapi.OpDeleteRef, 422)
	}
	delete(f.refs, ref)
	delete(f.files, strings.TrimPrefix(ref, "refs/heads/"))
	return nil
}

func (f *fakeGitHub) MatchingRefs(ctx context.Context, owner, repo, prefix string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("GET matching-refs %s", prefix)
	var out []string
	for r := range f.refs {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeGitHub) GetFile(ctx context.Context, owner, repo, path, ref string) ([]byte, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("GET contents %s@%s", path, ref)
	b, ok := f.files[ref][path]
	if !ok {
		return nil, "", apiErr(ghapi.OpGetContents, 404)
	}
	return b, blobSHA(b), nil
}

func (f *fakeGitHub) PutFile(ctx context.Context, owner, repo string, w ghapi.FileWrite) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("PUT contents %s@%s", w.Path, w.Branch)
	dir, ok := f.files[w.Branch]
	if !ok {
		return apiErr(ghapi.OpPutContents, 404)
	}
	cur, exists := dir[w.Path]
	switch {
	case w.SHA == "" && exists:
		return apiErr(ghapi.OpPutContents, 422)
	case w.SHA != "" && (!exists || blobSHA(cur) != w.SHA):
		return apiErr(ghapi.OpPutContents, 409)
	}
	dir[w.Path] = w.Content
	return nil
}

// put writes a lock file directly (a lock taken by hand or by another process).
func (f *fakeGitHub) put(branch string, content string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refs["refs/heads/"+branch] = f.refs["refs/heads/main"]
	if f.files[branch] == nil {
		f.files[branch] = map[string][]byte{}
	}
	f.files[branch][FileName] = []byte(content)
}
