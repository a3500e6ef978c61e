package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

const (
	cleanEnv = "pr-1"
	keepEnv  = "keep"
	keepN    = 5
)

// seed creates n deployments in cleanEnv (every 5th already inactive, others success, in
// progress or without a status) and keepN in keepEnv, straight through the emulator's handler
// with one token per deployment so the seeding does not use the clean-up token's limits. It
// returns the ids of cleanEnv's already inactive deployments.
func seed(tb testing.TB, e *emulator.Emulator, n int) map[int64]bool {
	tb.Helper()
	h := e.Handler()
	post := func(tok, path string, body map[string]any) map[string]any {
		b, _ := json.Marshal(body)
		req := httptest.NewRequest(http.MethodPost, "/repos/"+owner+"/"+repoName+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			tb.Fatalf("seeding %s: %d %s", path, rec.Code, rec.Body)
		}
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return out
	}
	var (
		mu       sync.Mutex
		inactive = map[int64]bool{}
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 100)
	)
	for i := range n + keepN {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			env := cleanEnv
			if i >= n {
				env = keepEnv
			}
			tok := "seed-" + strconv.Itoa(i)
			d := post(tok, "/deployments", map[string]any{"ref": "main", "environment": env, "auto_merge": false, "required_contexts": []string{}})
			id := int64(d["id"].(float64))
			state := []string{"inactive", "in_progress", "", "success", "success"}[i%5]
			if state == "" {
				return
			}
			post(tok, fmt.Sprintf("/deployments/%d/statuses", id), map[string]any{"state": state, "auto_inactive": false})
			if state == "inactive" && env == cleanEnv {
				mu.Lock()
				inactive[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return inactive
}

// idOf extracts the deployment id of /repos/o/r/deployments/{id}[/statuses].
func idOf(path string) int64 {
	rest, ok := strings.CutPrefix(path, "/repos/"+owner+"/"+repoName+"/deployments/")
	if !ok {
		return 0
	}
	id, _ := strconv.ParseInt(strings.TrimSuffix(rest, "/statuses"), 10, 64)
	return id
}

// BenchmarkCleanup deactivates and deletes an environment's deployments under GitHub's
// secondary limit (80 content-creating requests per window) with 50 ms latency, the client
// set up as the clean-up modes set it up (ghapi.Options.ForCleanup, 4 workers).
func BenchmarkCleanup(b *testing.B) {
	sc := getScale()
	for _, variant := range []string{"deactivate", "delete", "delete-unpaced"} {
		b.Run(variant, func(b *testing.B) {
			for range b.N {
				runCleanup(b, sc, variant)
			}
		})
	}
}

// runCleanup runs one clean-up; the variant "delete-unpaced" is delete without the write pacing
// (the client-wide gate after a limit answer still applies), for comparison.
func runCleanup(b *testing.B, sc scale, variant string) {
	mode, unpaced := strings.CutSuffix(variant, "-unpaced")
	srv := startServer(b, emulator.Config{Latency: latency, SecondaryPerMinute: secondaryLimit, SecondaryWindow: sc.window}, false)
	inactive := seed(b, srv.e, sc.cleanupN)
	srv.e.ResetRequests()
	before := map[int64]int{} // keepEnv: statuses before
	for _, d := range srv.e.Deployments(owner, repoName) {
		if d.Environment == keepEnv {
			before[d.ID] = len(d.Statuses)
		}
	}
	opts := ghapi.Options{Token: token, APIURL: srv.URL()}.ForCleanup()
	opts.WriteLimit.Window = sc.window // GitHub's minute, or its scaled stand-in
	if unpaced {
		opts.WriteLimit = ghapi.WriteLimit{}
	}
	api, err := ghapi.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	d := &deploy.Deployer{API: api, Owner: owner, Repo: repoName}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Hour)
	defer cancel()
	srv.mark()
	t0 := time.Now()
	rep, err := d.Cleanup(ctx, deploy.CleanupSpec{Environment: cleanEnv, Delete: mode == "delete"})
	wall := time.Since(t0)
	c := srv.mark()
	if err != nil {
		b.Fatalf("clean-up: %v", err)
	}
	reqs := srv.e.Requests()

	// What was sent.
	var limited, writes, reads int
	pages := map[string]int{}
	posts := map[int64]int{} // accepted inactive statuses per deployment
	postTries := map[int64]int{}
	deletes := map[int64]int{}
	for _, r := range reqs {
		if r.Status == http.StatusForbidden || r.Status == http.StatusTooManyRequests {
			limited++
			continue
		}
		switch {
		case r.Method == http.MethodGet:
			reads++
			if r.Path == "/repos/"+owner+"/"+repoName+"/deployments" {
				pages[r.RawQuery]++
			}
		case isStatusPost(r):
			writes++
			postTries[idOf(r.Path)]++
			if r.Status == http.StatusCreated {
				posts[idOf(r.Path)]++
			}
		case r.Method == http.MethodDelete:
			writes++
			if r.Status == http.StatusNoContent {
				deletes[idOf(r.Path)]++
			}
		}
	}
	for _, r := range reqs {
		if isStatusPost(r) && inactive[idOf(r.Path)] {
			b.Errorf("deployment %d was already inactive but got a status", idOf(r.Path))
		}
	}

	// Checks: every page once, one status per deployment that needed one, none for the
	// inactive ones, everything of the environment handled, the other environment untouched.
	wantPages := (sc.cleanupN + 99) / 100
	if len(pages) != wantPages {
		b.Errorf("%d distinct pages read, want %d: %v", len(pages), wantPages, pages)
	}
	for q, n := range pages {
		if n != 1 {
			b.Errorf("page %q read %d times", q, n)
		}
	}
	for id, n := range posts {
		if n != 1 || postTries[id] != 1 {
			b.Errorf("deployment %d: %d inactive statuses from %d attempts, want 1 and 1", id, n, postTries[id])
		}
	}
	wantPosts := sc.cleanupN - len(inactive)
	if len(posts) != wantPosts || rep.Deactivated != wantPosts || rep.AlreadyInactive != len(inactive) || rep.Failed != 0 {
		b.Errorf("deactivated %d (report %d, already inactive %d, failed %d), want %d and %d already inactive",
			len(posts), rep.Deactivated, rep.AlreadyInactive, rep.Failed, wantPosts, len(inactive))
	}
	after := srv.e.Deployments(owner, repoName)
	left := 0
	for _, dep := range after {
		switch dep.Environment {
		case keepEnv:
			if len(dep.Statuses) != before[dep.ID] {
				b.Errorf("deployment %d of %s was touched", dep.ID, keepEnv)
			}
		case cleanEnv:
			left++
			if last := dep.Statuses[len(dep.Statuses)-1].State; last != "inactive" {
				b.Errorf("deployment %d is %s after the clean-up", dep.ID, last)
			}
		}
	}
	if mode == "delete" && (left != 0 || len(deletes) != sc.cleanupN || rep.Deleted != sc.cleanupN) {
		b.Errorf("delete: %d left, %d deleted (report %d), want 0 and %d", left, len(deletes), rep.Deleted, sc.cleanupN)
	}
	if mode == "deactivate" && left != sc.cleanupN {
		b.Errorf("deactivate: %d deployments left, want %d", left, sc.cleanupN)
	}
	const workers = 4 // deploy.Deployer's default concurrency
	if c.maxInflight > workers {
		b.Errorf("%d requests in flight at once, want at most %d", c.maxInflight, workers)
	}

	// Floors: the limit allows limit/window writes; latency allows workers requests at a time.
	// The sustained-rate floor (writes / rate) is what a long clean-up tends to; a sliding window
	// also allows a first burst of 80, so the exact floor for the last write is
	// floor((writes-1)/80) windows (plus its latency).
	rate := float64(secondaryLimit) / sc.window.Seconds()
	writeFloor := time.Duration(float64(writes) / rate * float64(time.Second))
	exactWrite := time.Duration((writes-1)/secondaryLimit)*sc.window + latency
	latencyFloor := time.Duration(len(reqs)-limited) * latency / workers
	floor := max(writeFloor, latencyFloor)
	exact := max(exactWrite, latencyFloor)
	ratio := wall.Seconds() / floor.Seconds()
	b.ReportMetric(float64(len(reqs)), "requests")
	b.ReportMetric(float64(writes), "writes")
	b.ReportMetric(float64(limited), "limit-answers")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(ratio, "wall/floor")
	b.ReportMetric(wall.Seconds()/exact.Seconds(), "wall/exact-floor")
	b.ReportMetric(float64(c.maxInflight), "max-in-flight")
	// GitHub's other bounds, which no pacing can beat: 500 content-creating requests per hour and,
	// for GITHUB_TOKEN, 1,000 requests per hour per repository.
	hourWrites := float64(writes) / 500
	hourToken := float64(len(reqs)-limited) / 1000
	figure(b, "clean-up %s of %d deployments (%d already inactive), window %s, 50 ms latency, %d workers: %d requests (%d reads, %d writes, %d pages each read once), %d limit answers, max %d in flight; wall %s; floor %s (writes %d / %.1f per s = %s; latency %d x 50 ms / %d = %s); wall/floor %.2f (exact sliding-window floor %s: wall/exact %.2f); GitHub's 500 writes/h alone bounds it to >= %.1f h (GITHUB_TOKEN's 1,000 requests/h per repo: >= %.1f h)",
		variant, sc.cleanupN, len(inactive), sc.window, workers, len(reqs), reads, writes, len(pages), limited, c.maxInflight,
		wall.Round(time.Millisecond), floor.Round(time.Millisecond), writes, rate, writeFloor.Round(time.Millisecond),
		len(reqs)-limited, workers, latencyFloor.Round(time.Millisecond), ratio, exact.Round(time.Millisecond), wall.Seconds()/exact.Seconds(), math.Round(hourWrites*10)/10, math.Round(hourToken*10)/10)
}
