package bench

// The consumer side's cost: requests and primary rate limit for a five-minute wait (conditional
// requests against plain polling), and latest's requests on an environment with 1,000
// deployments. Time is simulated (the emulator and the wait share a fake clock), so the
// five-minute wait runs in milliseconds and its figures do not depend on the machine.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// simClock is a fake clock whose Sleep moves time on and runs what was scheduled until then.
type simClock struct {
	mu     sync.Mutex
	now    time.Time
	events []simEvent
}

type simEvent struct {
	at time.Time
	do func()
}

func newSimClock() *simClock { return &simClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)} }

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) at(after time.Duration, do func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, simEvent{at: c.now.Add(after), do: do})
	sort.Slice(c.events, func(i, j int) bool { return c.events[i].at.Before(c.events[j].at) })
}

func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	until := c.now.Add(max(d, 0))
	for len(c.events) > 0 && !c.events[0].at.After(until) {
		ev := c.events[0]
		c.events = c.events[1:]
		c.now = ev.at
		c.mu.Unlock()
		ev.do()
		c.mu.Lock()
	}
	c.now = until
	c.mu.Unlock()
	return nil
}

// api calls the emulator's handler directly as token (seeding, the third-party deployer).
func api(tb testing.TB, e *emulator.Emulator, tok, method, path string, body any) map[string]any {
	tb.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, "/repos/"+owner+"/"+repoName+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, req)
	if rec.Code >= 300 {
		tb.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out
}

// primaryUsed is how much of tok's primary rate limit has been spent (GET /rate_limit is free).
func primaryUsed(tb testing.TB, e *emulator.Emulator, tok string) int {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, "/rate_limit", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, req)
	n, _ := strconv.Atoi(rec.Header().Get("X-RateLimit-Used"))
	return n
}

type waitCost struct {
	requests, notModified, primary int
	waited                         time.Duration
}

// fiveMinuteWait runs one wait for a deployment a bot creates after 20 s, sets in_progress at
// 60 s and success at 5 min, with the default poll schedule, and counts its cost.
func fiveMinuteWait(tb testing.TB, conditional bool) waitCost {
	tb.Helper()
	clock := newSimClock()
	s := startServer(tb, emulator.Config{Now: clock.Now}, false)
	const bot = "ghs_botTOKENbotTOKENbotTOKEN000000"
	sha := emulator.DefaultRepo().Branches["main"]
	var id float64
	clock.at(20*time.Second, func() {
		id = api(tb, s.e, bot, "POST", "/deployments", map[string]any{"ref": sha, "environment": "preview/pr-7", "required_contexts": []string{}})["id"].(float64)
		api(tb, s.e, bot, "POST", fmt.Sprintf("/deployments/%d/statuses", int64(id)), map[string]any{"state": "pending"})
	})
	clock.at(60*time.Second, func() {
		api(tb, s.e, bot, "POST", fmt.Sprintf("/deployments/%d/statuses", int64(id)), map[string]any{"state": "in_progress"})
	})
	clock.at(5*time.Minute, func() {
		api(tb, s.e, bot, "POST", fmt.Sprintf("/deployments/%d/statuses", int64(id)), map[string]any{"state": "success", "environment_url": "https://pr-7.example.com"})
	})
	client, err := ghapi.New(ghapi.Options{Token: token, APIURL: s.URL(), Conditional: conditional})
	if err != nil {
		tb.Fatal(err)
	}
	d := &deploy.Deployer{API: client, Owner: owner, Repo: repoName, Now: clock.Now, Sleep: clock.Sleep, Rand: func() float64 { return 0.5 }}
	mode, _ := deploy.LookupMode("wait")
	settings := &deploy.Settings{Mode: mode, Enabled: true, Environment: "preview/*", Task: "deploy", WaitTimeout: 10 * time.Minute}
	before := s.e.Requests()
	rep, err := d.Stage(context.Background(), deploy.Job{Stage: deploy.StageMain, Settings: settings, SHA: sha, State: memState{}})
	if err != nil || rep.State != "success" {
		tb.Fatalf("wait: %v (%+v)", err, rep)
	}
	var c waitCost
	for _, r := range s.e.Requests()[len(before):] {
		if r.Method == http.MethodGet && r.Path != "/rate_limit" {
			c.requests++
			if r.Status == http.StatusNotModified {
				c.notModified++
			}
		}
	}
	c.primary = primaryUsed(tb, s.e, token)
	c.waited = rep.Wait.Waited
	return c
}

type memState map[string]string

func (m memState) State(k string) string       { return m[k] }
func (m memState) SaveState(k, v string) error { m[k] = v; return nil }

// BenchmarkWaitFiveMinutes reports a five-minute wait's requests and rate-limit cost with
// conditional requests (what wait does) and with plain polling.
func BenchmarkWaitFiveMinutes(b *testing.B) {
	for range b.N {
		cond, plain := fiveMinuteWait(b, true), fiveMinuteWait(b, false)
		figure(b, "wait 5 min (default schedule: 1 s for a minute after the start and after each change, then ×1.5 → 30 s): conditional %d requests, %d answered 304, %d counted against the primary limit; plain polling %d requests, %d counted (waited %s)",
			cond.requests, cond.notModified, cond.primary, plain.requests, plain.primary, cond.waited.Round(time.Second))
		if cond.primary >= plain.primary {
			b.Errorf("conditional requests cost %d of the primary limit, plain polling %d", cond.primary, plain.primary)
		}
	}
}

// TestWaitCostsLittleRateLimit: most of a long wait's looks are free (304).
func TestWaitCostsLittleRateLimit(t *testing.T) {
	t.Parallel()
	c := fiveMinuteWait(t, true)
	if c.notModified*2 < c.requests || c.primary > c.requests-c.notModified {
		t.Errorf("%d requests, %d answered 304, %d counted: want most of them free", c.requests, c.notModified, c.primary)
	}
}

// latestOn1000 seeds n deployments to production, 10 minutes apart, every one a success (the
// newest newFailed of them failures), and counts latest's requests.
func latestOn1000(tb testing.TB, n, newFailed int) (reads, requests int, live *deploy.Listed) {
	tb.Helper()
	clock := newSimClock()
	s := startServer(tb, emulator.Config{Now: clock.Now, PrimaryLimit: 100000}, false)
	const seeder = "ghs_seedTOKENseedTOKENseedTOKEN0000"
	sha := emulator.DefaultRepo().Branches["main"]
	for i := range n {
		dep := api(tb, s.e, seeder, "POST", "/deployments", map[string]any{"ref": sha, "environment": "production", "required_contexts": []string{}})
		state := "success"
		if i >= n-newFailed {
			state = "failure"
		}
		api(tb, s.e, seeder, "POST", fmt.Sprintf("/deployments/%d/statuses", int64(dep["id"].(float64))), map[string]any{"state": state})
		_ = clock.Sleep(context.Background(), 10*time.Minute)
	}
	client, err := ghapi.New(ghapi.Options{Token: token, APIURL: s.URL()})
	if err != nil {
		tb.Fatal(err)
	}
	d := &deploy.Deployer{API: client, Owner: owner, Repo: repoName}
	before := len(s.e.Requests())
	live, reads, err = d.Live(context.Background(), "production", "deploy")
	if err != nil || live == nil {
		tb.Fatalf("latest: %v", err)
	}
	return reads, len(s.e.Requests()) - before, live
}

// BenchmarkLatest1000 reports latest's requests on an environment with 1,000 deployments.
func BenchmarkLatest1000(b *testing.B) {
	for range b.N {
		_, all, _ := latestOn1000(b, 1000, 0)
		_, failed, _ := latestOn1000(b, 1000, 10)
		figure(b, "latest on 1,000 deployments (10 min apart): %d requests when the newest succeeded; %d when the newest 10 failed", all, failed)
	}
}

func TestLatestReadsFewStatuses(t *testing.T) {
	t.Parallel()
	reads, requests, live := latestOn1000(t, 300, 10)
	if reads > 20 || requests > reads+2 || live.ID == 0 {
		t.Errorf("latest read %d statuses in %d requests on 300 deployments", reads, requests)
	}
}
