package emulator

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
)

// Git references and the contents API, as deployment locks use them: a branch per lock made with
// create-reference (422 when it exists), a file written on it with the contents API (422 for a
// create of a file that exists, 409 for a replace whose sha is stale), read back, listed with
// matching-refs and removed with delete-reference (422 when it does not exist). Only refs/heads
// and refs/tags are modelled. Files live per commit: a commit made by a write carries its
// parent's files plus the one written; the seeded commits hold no files.

func (e *Emulator) gitRoutes() {
	const (
		read  = AccessRead
		write = AccessWrite
	)
	e.repoRoute("GET /repos/{owner}/{repo}/git/ref/{ref...}", scopeContents, read, (*hctx).getGitRef)
	e.repoRoute("GET /repos/{owner}/{repo}/git/matching-refs/{ref...}", scopeContents, read, (*hctx).matchingRefs)
	e.repoRoute("POST /repos/{owner}/{repo}/git/refs", scopeContents, write, (*hctx).createGitRef)
	e.repoRoute("DELETE /repos/{owner}/{repo}/git/refs/{ref...}", scopeContents, write, (*hctx).deleteGitRef)
	e.repoRoute("GET /repos/{owner}/{repo}/contents/{path...}", scopeContents, read, (*hctx).getContents)
	e.repoRoute("PUT /repos/{owner}/{repo}/contents/{path...}", scopeContents, write, (*hctx).putContents)
}

// lookupRef finds a full ref name (refs/heads/x, refs/tags/x).
func (r *repo) lookupRef(full string) (string, bool) {
	if b, ok := strings.CutPrefix(full, "refs/heads/"); ok {
		s, found := r.branches[b]
		return s, found
	}
	if t, ok := strings.CutPrefix(full, "refs/tags/"); ok {
		s, found := r.tags[t]
		return s, found
	}
	return "", false
}

func (r *repo) refJSON(base, full, sha string) obj {
	u := r.apiURL(base)
	return obj{"ref": full, "node_id": nodeIDString("Ref", r.owner+"/"+r.name+":"+full), "url": u + "/git/" + escapeRef(full),
		"object": obj{"type": "commit", "sha": sha, "url": u + "/git/commits/" + sha}}
}

// escapeRef escapes each segment of a ref for a URL path.
func escapeRef(ref string) string {
	parts := strings.Split(ref, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func nodeIDString(kind, key string) string {
	s := sha1.Sum([]byte(kind + ":" + key))
	return base64.RawStdEncoding.EncodeToString([]byte(kind + ":" + hex.EncodeToString(s[:8])))
}

func (c *hctx) getGitRef() *response {
	full := "refs/" + c.r.PathValue("ref")
	sha, ok := c.repo.lookupRef(full)
	if !ok {
		return notFound()
	}
	return jsonResponse(http.StatusOK, c.repo.refJSON(c.base, full, sha))
}

func (c *hctx) matchingRefs() *response {
	prefix := "refs/" + c.r.PathValue("ref")
	var names []string
	for b := range c.repo.branches {
		names = append(names, "refs/heads/"+b)
	}
	for t := range c.repo.tags {
		names = append(names, "refs/tags/"+t)
	}
	slices.Sort(names)
	out := []any{}
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			sha, _ := c.repo.lookupRef(n)
			out = append(out, c.repo.refJSON(c.base, n, sha))
		}
	}
	return jsonResponse(http.StatusOK, out)
}

// validRefName applies git check-ref-format's rules to a full ref name.
func validRefName(full string) bool {
	if !strings.HasPrefix(full, "refs/") || strings.Count(full, "/") < 2 || strings.HasSuffix(full, "/") ||
		strings.HasSuffix(full, ".") || strings.Contains(full, "..") || strings.Contains(full, "@{") || strings.Contains(full, "//") {
		return false
	}
	for _, part := range strings.Split(full, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	for _, ch := range full {
		if ch < 0x20 || ch == 0x7f || strings.ContainsRune(" ~^:?*[\\", ch) {
			return false
		}
	}
	return true
}

func (c *hctx) createGitRef() *response {
	doc := docURL("git/refs#create-a-reference")
	f, bad := c.parseBody(doc, false)
	if bad != nil {
		return bad
	}
	full, _, bad := f.str("ref", doc)
	if bad != nil {
		return bad
	}
	sha, _, bad := f.str("sha", doc)
	if bad != nil {
		return bad
	}
	switch {
	case full == "" || sha == "":
		return invalidRequest(`"ref" and "sha" are required.`, doc)
	case !validRefName(full):
		return jsonResponse(http.StatusUnprocessableEntity, basicError(full+" is not a valid ref name.", doc))
	case !strings.HasPrefix(full, "refs/heads/") && !strings.HasPrefix(full, "refs/tags/"):
		return jsonResponse(http.StatusUnprocessableEntity, basicError("emulator: only refs/heads/ and refs/tags/ are modelled", doc))
	}
	if _, exists := c.repo.lookupRef(full); exists {
		return jsonResponse(http.StatusUnprocessableEntity, basicError("Reference already exists", doc))
	}
	full40, ok := c.repo.resolveSHA(sha)
	if !ok || len(sha) != 40 {
		return jsonResponse(http.StatusUnprocessableEntity, basicError("Object does not exist", doc))
	}
	if b, ok := strings.CutPrefix(full, "refs/heads/"); ok {
		c.repo.branches[b] = full40
	} else {
		c.repo.tags[strings.TrimPrefix(full, "refs/tags/")] = full40
	}
	body := c.repo.refJSON(c.base, full, full40)
	resp := jsonResponse(http.StatusCreated, body)
	resp.header.Set("Location", body["url"].(string))
	return resp
}

func (c *hctx) deleteGitRef() *response {
	doc := docURL("git/refs#delete-a-reference")
	full := "refs/" + c.r.PathValue("ref")
	if _, ok := c.repo.lookupRef(full); !ok {
		return jsonResponse(http.StatusUnprocessableEntity, basicError("Reference does not exist", doc))
	}
	if b, ok := strings.CutPrefix(full, "refs/heads/"); ok {
		if b == c.repo.defaultBranch {
			return jsonResponse(http.StatusUnprocessableEntity, basicError("Cannot delete the default branch", doc))
		}
		delete(c.repo.branches, b)
	} else {
		delete(c.repo.tags, strings.TrimPrefix(full, "refs/tags/"))
	}
	return &response{status: http.StatusNoContent, header: http.Header{}}
}

// blobSHA is git's object id of a blob with content b.
func blobSHA(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func (c *hctx) fileJSON(p, ref string, b []byte) obj {
	u := c.repo.apiURL(c.base)
	sha := blobSHA(b)
	self := u + "/contents/" + escapeRef(p) + "?ref=" + url.QueryEscape(ref)
	html := webHost(c.base) + "/" + c.repo.owner + "/" + c.repo.name + "/blob/" + escapeRef(ref) + "/" + escapeRef(p)
	git := u + "/git/blobs/" + sha
	return obj{"type": "file", "name": path.Base(p), "path": p, "sha": sha, "size": len(b), "url": self,
		"git_url": git, "html_url": html, "download_url": webHost(c.base) + "/raw/" + c.repo.owner + "/" + c.repo.name + "/" + escapeRef(ref) + "/" + escapeRef(p),
		"_links": obj{"self": self, "git": git, "html": html}}
}

func (c *hctx) getContents() *response {
	p := c.r.PathValue("path")
	ref := c.r.URL.Query().Get("ref")
	if ref == "" {
		ref = c.repo.defaultBranch
	}
	sha, _, ok := c.repo.resolveRef(ref)
	if !ok {
		return jsonResponse(http.StatusNotFound, basicError("No commit found for the ref "+ref, docURL("repos/contents#get-repository-content")))
	}
	b, ok := c.repo.files[sha][p]
	if !ok {
		return notFound()
	}
	o := c.fileJSON(p, ref, b)
	// GitHub wraps base64 at 60 characters.
	enc := base64.StdEncoding.EncodeToString(b)
	var w strings.Builder
	for len(enc) > 60 {
		w.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	w.WriteString(enc + "\n")
	o["encoding"], o["content"] = "base64", w.String()
	return jsonResponse(http.StatusOK, o)
}

func (c *hctx) putContents() *response {
	doc := docURL("repos/contents#create-or-update-file-contents")
	p := c.r.PathValue("path")
	f, bad := c.parseBody(doc, false)
	if bad != nil {
		return bad
	}
	msg, _, bad := f.str("message", doc)
	if bad != nil {
		return bad
	}
	content, _, bad := f.str("content", doc)
	if bad != nil {
		return bad
	}
	branch, _, bad := f.str("branch", doc)
	if bad != nil {
		return bad
	}
	old, hasSHA, bad := f.str("sha", doc)
	if bad != nil {
		return bad
	}
	if msg == "" {
		return invalidRequest(`"message" wasn't supplied.`, doc)
	}
	b, err := base64.StdEncoding.DecodeString(content)
	if err != nil {
		return invalidRequest("content is not valid Base64", doc)
	}
	if branch == "" {
		branch = c.repo.defaultBranch
	}
	parent, ok := c.repo.branches[branch]
	if !ok {
		return jsonResponse(http.StatusNotFound, basicError("Branch "+branch+" not found", doc))
	}
	cur, exists := c.repo.files[parent][p]
	switch {
	case exists && !hasSHA:
		return invalidRequest(`"sha" wasn't supplied.`, doc)
	case hasSHA && (!exists || blobSHA(cur) != old):
		return jsonResponse(http.StatusConflict, basicError(fmt.Sprintf("%s does not match %s", p, old), doc))
	}
	sha, _, err := c.e.pushLocked(c.repo.owner, c.repo.name, branch, Commit{Message: msg})
	if err != nil {
		return jsonResponse(http.StatusUnprocessableEntity, basicError(err.Error(), doc))
	}
	if c.repo.files == nil {
		c.repo.files = map[string]map[string][]byte{}
	}
	tree := maps.Clone(c.repo.files[parent])
	if tree == nil {
		tree = map[string][]byte{}
	}
	tree[p] = b
	c.repo.files[sha] = tree
	u := c.repo.apiURL(c.base)
	date := ts(c.e.now())
	who := obj{"name": "github-actions[bot]", "email": "41898282+github-actions[bot]@users.noreply.github.com", "date": date}
	out := obj{
		"content": c.fileJSON(p, branch, b),
		"commit": obj{"sha": sha, "node_id": nodeIDString("Commit", sha), "url": u + "/git/commits/" + sha,
			"html_url": webHost(c.base) + "/" + c.repo.owner + "/" + c.repo.name + "/commit/" + sha,
			"author":   who, "committer": who, "message": msg,
			"tree":         obj{"sha": FakeSHA("tree:" + sha), "url": u + "/git/trees/" + FakeSHA("tree:"+sha)},
			"parents":      []any{obj{"sha": parent, "url": u + "/git/commits/" + parent, "html_url": webHost(c.base) + "/" + c.repo.owner + "/" + c.repo.name + "/commit/" + parent}},
			"verification": obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil}},
	}
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	return jsonResponse(status, out)
}

// File returns the content of path at ref (a branch, tag or sha) of owner/name, as the contents
// API would serve it.
func (e *Emulator) File(owner, name, ref, path string) ([]byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return nil, false
	}
	sha, _, ok := r.resolveRef(ref)
	if !ok {
		return nil, false
	}
	b, ok := r.files[sha][path]
	return slices.Clone(b), ok
}
