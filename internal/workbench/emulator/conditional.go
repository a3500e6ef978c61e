package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// conditional adds GitHub's caching validators to a successful GET and answers 304 Not Modified
// when the request's If-None-Match (or, without it, If-Modified-Since) still matches. A 304 gives
// back the primary rate-limit unit the request took, as GitHub does not count it. ETags are
// derived from the body and the token, so another token never gets a 304 for the first one's
// ETag (GitHub's ETags are per token too).
func (e *Emulator) conditional(r *http.Request, ri *reqInfo, resp *response, counted bool) *response {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || resp.status != http.StatusOK {
		return resp
	}
	h := resp.header
	sum := sha256.Sum256(append([]byte(tokenKey(ri.token)+"\x00"), resp.body...))
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	h.Set("ETag", etag)
	lastMod := lastModified(resp.body)
	if !lastMod.IsZero() {
		h.Set("Last-Modified", lastMod.UTC().Format(http.TimeFormat))
	}
	h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")

	notModified := false
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		notModified = etagMatches(inm, etag)
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" && !lastMod.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !lastMod.Truncate(time.Second).After(t) {
			notModified = true
		}
	}
	if !notModified {
		return resp
	}
	out := &response{status: http.StatusNotModified, header: h.Clone()}
	out.header.Del("Content-Type")
	out.header.Del("Content-Length")
	out.header.Del("Link") // a 304 carries validators and caching headers only
	if counted && ri.token != "" {
		e.mu.Lock()
		if b := e.bucketLocked(ri.token, e.now()); b.used > 0 {
			b.used--
		}
		e.mu.Unlock()
	}
	return out
}

// etagMatches applies If-None-Match's weak comparison: W/"x" matches "x"; * matches anything.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// lastModified is the updated_at of a single-object body (zero for lists and bodies without it).
func lastModified(body []byte) time.Time {
	var v struct {
		UpdatedAt string `json:"updated_at"`
	}
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &v) != nil || v.UpdatedAt == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v.UpdatedAt)
	if err != nil {
		return time.Time{}
	}
	return t
}
