package emulator

import (
	"fmt"
	"maps"
)

// Seeding files for the contents API (served in gitrefs.go: GET with ETag/304 through
// conditional, 404 when absent, base64 content wrapped as GitHub wraps it). The policy file
// .github/deployments.yml is read from the default branch this way.

// PutFile commits content at path on branch of owner/name (a new commit whose parent is the
// branch's head; the branch is created when missing) and returns the commit's sha. Other files
// stay as they were. nil content deletes the file.
func (e *Emulator) PutFile(owner, name, branch, path string, content []byte) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return "", fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	if branch == "" {
		branch = r.defaultBranch
	}
	parent := r.branches[branch]
	msg := "Update " + path
	if content == nil {
		msg = "Delete " + path
	}
	sha, _, err := e.pushLocked(owner, name, branch, Commit{Message: msg})
	if err != nil {
		return "", err
	}
	tree := maps.Clone(r.files[parent])
	if tree == nil {
		tree = map[string][]byte{}
	}
	if content == nil {
		delete(tree, path)
	} else {
		tree[path] = append([]byte(nil), content...)
	}
	if r.files == nil {
		r.files = map[string]map[string][]byte{}
	}
	r.files[sha] = tree
	return sha, nil
}
