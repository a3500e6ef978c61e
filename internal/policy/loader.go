package policy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Answer is what the contents API said about the policy file.
type Answer struct {
	// NotModified: GitHub answered 304 to the ETag sent; Content is empty.
	NotModified bool
	// NotFound: the repository has no policy file on its default branch.
	NotFound bool
	Content  []byte
	ETag     string
}

// Fetcher is the one call the Loader makes: GET /repos/{owner}/{repo}/contents/{path} with no ref
// (the default branch), sending etag as If-None-Match when it is not empty.
type Fetcher interface {
	FetchFile(ctx context.Context, owner, repo, path, etag string) (Answer, error)
}

// Loader reads and caches policies. The zero value is ready; it is safe for concurrent use. The
// cache holds one parsed policy (or its *FileError) per repository with the ETag it came with;
// every Load still asks GitHub (a 304 costs no rate limit), so a changed file applies at once.
type Loader struct {
	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	etag string
	p    *Policy
	err  error
}

// Load returns the repository's policy from its default branch. A repository without the file
// gets a Policy with Found false. A bad file gives a *FileError; a failed read gives the error.
// Either way the caller denies.
func (l *Loader) Load(ctx context.Context, f Fetcher, owner, repo string) (*Policy, error) {
	key := strings.ToLower(owner + "/" + repo)
	l.mu.Lock()
	old, cached := l.cache[key]
	l.mu.Unlock()
	etag := ""
	if cached {
		etag = old.etag
	}
	a, err := f.FetchFile(ctx, owner, repo, Path, etag)
	if err != nil {
		return nil, fmt.Errorf("read %s of %s/%s: %w", Path, owner, repo, err)
	}
	if a.NotModified && cached {
		return old.p, old.err
	}
	file := owner + "/" + repo + ":" + Path
	var e entry
	switch {
	case a.NotFound:
		e = entry{p: &Policy{File: file}}
	case a.NotModified:
		return nil, fmt.Errorf("read %s of %s/%s: GitHub answered 304 to a request without an ETag", Path, owner, repo)
	default:
		e.p, e.err = Parse(file, a.Content)
	}
	e.etag = a.ETag
	if e.etag != "" {
		l.mu.Lock()
		if l.cache == nil {
			l.cache = map[string]entry{}
		}
		l.cache[key] = e
		l.mu.Unlock()
	}
	return e.p, e.err
}

// HTTPFetcher is the Fetcher over GitHub's REST API.
type HTTPFetcher struct {
	// BaseURL is the API root, e.g. https://api.github.com.
	BaseURL string
	// Token is sent as a bearer token (the App's installation token). It never appears in errors.
	Token  string
	Client *http.Client // nil = http.DefaultClient
}

// StatusError is an answer other than 200, 304 or 404.
type StatusError struct {
	Status int
	URL    string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: GitHub answered %d", e.URL, e.Status)
}

// FetchFile implements Fetcher.
func (h HTTPFetcher) FetchFile(ctx context.Context, owner, repo, path, etag string) (Answer, error) {
	u := strings.TrimRight(h.BaseURL, "/") + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/contents/" + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return Answer{NotModified: true, ETag: etag}, nil
	case http.StatusNotFound:
		return Answer{NotFound: true, ETag: resp.Header.Get("ETag")}, nil
	case http.StatusOK:
	default:
		return Answer{}, &StatusError{Status: resp.StatusCode, URL: u}
	}
	var body struct {
		Type     string `json:"type"`
		Encoding string `json:"encoding"`
		Content  string `json:"content"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&body); err != nil {
		return Answer{}, fmt.Errorf("GET %s: %w", u, err)
	}
	if body.Type != "file" || body.Encoding != "base64" {
		return Answer{}, fmt.Errorf("GET %s: %w", u, errNotFile)
	}
	b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(body.Content, "\n", ""))
	if err != nil {
		return Answer{}, fmt.Errorf("GET %s: content: %w", u, err)
	}
	return Answer{Content: b, ETag: resp.Header.Get("ETag")}, nil
}

var errNotFile = errors.New("not a file with base64 content (a directory, a symlink or a file over 1 MB?)")
