package emulator_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

var strongETag = regexp.MustCompile(`^"[0-9a-f]{64}"$`)

func TestConditionalRequests(t *testing.T) {
	clk := newClock()
	a := start(t, emulator.Config{Now: clk.now})
	pr, _, err := a.e.OpenPullRequest(owner, repo, emulator.PullRequest{Head: "feature-x", Title: "X"})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		repoURL + "/pulls/" + jsonNum(pr.Number), // 304 documented
		repoURL + "/commits/main/check-runs",     // 304 not listed by the description
		repoURL + "/deployments",                 // a list: no Last-Modified
	} {
		t.Run(path, func(t *testing.T) {
			first := a.do("GET", path, nil).must(t, 200)
			etag := first.header.Get("ETag")
			if !strongETag.MatchString(etag) {
				t.Fatalf("ETag %q is not a strong quoted validator", etag)
			}
			eq(t, "Cache-Control", first.header.Get("Cache-Control"), "private, max-age=60, s-maxage=60")
			eq(t, "Vary", first.header.Get("Vary"), "Accept, Authorization, Cookie, X-GitHub-OTP")
			remaining := first.header.Get("X-RateLimit-Remaining")

			for i := 0; i < 2; i++ {
				nm := a.send("GET", path, nil, http.Header{"If-None-Match": {etag}}).must(t, 304)
				if len(nm.raw) != 0 {
					t.Errorf("304 has a body: %s", nm.raw)
				}
				eq(t, "304 does not spend the primary limit", nm.header.Get("X-RateLimit-Remaining"), remaining)
				eq(t, "304 ETag", nm.header.Get("ETag"), etag)
				if nm.header.Get("X-RateLimit-Limit") == "" || nm.header.Get("X-RateLimit-Reset") == "" {
					t.Errorf("304 lacks rate-limit headers: %v", nm.header)
				}
			}
			// weak comparison and lists of validators
			a.send("GET", path, nil, http.Header{"If-None-Match": {`"other", W/` + etag}}).must(t, 304)
			// the ETag is per token: another token gets the body (and spends its own budget)
			other := a.as("another-token").send("GET", path, nil, http.Header{"If-None-Match": {etag}}).must(t, 200)
			if other.header.Get("ETag") == etag {
				t.Errorf("another token got the same ETag")
			}
			// a stale validator gets the body
			a.send("GET", path, nil, http.Header{"If-None-Match": {`"stale"`}}).must(t, 200)
		})
	}

	// After a change the old ETag no longer matches; Last-Modified moves with updated_at.
	path := repoURL + "/pulls/" + jsonNum(pr.Number)
	before := a.do("GET", path, nil).must(t, 200)
	lm := before.header.Get("Last-Modified")
	eq(t, "Last-Modified", lm, clk.t.UTC().Format(http.TimeFormat))
	a.send("GET", path, nil, http.Header{"If-Modified-Since": {lm}}).must(t, 304)
	clk.add(3600e9)
	if _, _, err := a.e.AddComment(owner, repo, pr.Number, "alice", "hello"); err != nil {
		t.Fatal(err)
	}
	after := a.send("GET", path, nil, http.Header{"If-None-Match": {before.header.Get("ETag")}}).must(t, 200)
	if after.header.Get("ETag") == before.header.Get("ETag") {
		t.Errorf("ETag unchanged after a change")
	}
	eq(t, "comments", get(after.body, "comments"), any(1.0))
	a.send("GET", path, nil, http.Header{"If-Modified-Since": {lm}}).must(t, 200)
	a.send("GET", path, nil, http.Header{"If-None-Match": {after.header.Get("ETag")}}).must(t, 304)

	// Writes never answer 304.
	res := a.send("POST", repoURL+"/issues/"+jsonNum(pr.Number)+"/comments", map[string]any{"body": "x"},
		http.Header{"If-None-Match": {"*"}}).must(t, 201)
	if res.header.Get("ETag") != "" {
		t.Errorf("a POST answer carries an ETag")
	}
}
