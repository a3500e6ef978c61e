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

// latestOn seeds n deployments to production, gap apart, each a success when it is made (the
// newest newFailed of them failures; lateFinisher > 0: the deployment that many from the newest
// stays in progress and succeeds last, after the newest), and counts latest's requests.
func latestOn(tb testing.TB, n int, gap time.Duration, newFailed, lateFinisher int) (reads, requests int, live *deploy.Listed, want int64) {
	tb.Helper()
	clock := newSimClock()
	s := startServer(tb, emulator.Config{Now: clock.Now, PrimaryLimit: 100000}, false)
	const seeder = "ghs_seedTOKENseedTOKENseedTOKEN0000"
	sha := emulator.DefaultRepo().Branches["main"]
	var late int64
	for i := range n {
		dep := api(tb, s.e, seeder, "POST", "/deployments", map[string]any{"ref": sha, "environment": "production", "required_contexts": []string{}})
		id := int64(dep["id"].(float64))
		state := "success"
		switch {
		case i == n-1-lateFinisher && lateFinisher > 0:
			state, late = "in_progress", id
		case i >= n-newFailed:
			state = "failure"
		}
		api(tb, s.e, seeder, "POST", fmt.Sprintf("/deployments/%d/statuses", id), map[string]any{"state": state})
		if state == "success" {
			want = id
		}
		_ = clock.Sleep(context.Background(), gap)
	}
	if late != 0 {
		api(tb, s.e, seeder, "POST", fmt.Sprintf("/deployments/%d/statuses", late), map[string]any{"state": "success"})
		want = late
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
	return reads, len(s.e.Requests()) - before, live, want
}

// BenchmarkLatest1000 reports latest's requests on an environment with 1,000 deployments made
// 4 s apart, the live one the newest or the 150th newest (the 149 newer ones failed).
func BenchmarkLatest1000(b *testing.B) {
	for range b.N {
		_, newest, l1, w1 := latestOn(b, 1000, 4*time.Second, 0, 0)
		_, at150, l2, w2 := latestOn(b, 1000, 4*time.Second, 149, 0)
		_, late, l3, w3 := latestOn(b, 1000, 4*time.Second, 0, 30)
		if l1.ID != w1 || l2.ID != w2 || l3.ID != w3 {
			b.Errorf("latest found %d, %d, %d; want %d, %d, %d", l1.ID, l2.ID, l3.ID, w1, w2, w3)
		}
		figure(b, "latest on 1,000 deployments (4 s apart): %d requests when the newest is live (target <= 3: %s); %d when the 150th newest is (the newer 149 failed); %d when the 31st newest finished last",
			newest, met(newest <= 3), at150, late)
		b.ReportMetric(float64(newest), "newest-live-requests")
		b.ReportMetric(float64(at150), "150th-live-requests")
		b.ReportMetric(float64(late), "late-finisher-requests")
	}
}

func TestLatestReadsFewStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		newFailed, late, limit int
	}{
		{"the newest is live", 0, 0, 3},
		{"the newest 10 failed", 10, 0, 14},
		{"an older one finished last", 0, 30, 5},
	} {
		_, requests, live, want := latestOn(t, 300, 4*time.Second, tc.newFailed, tc.late)
		if live.ID != want {
			t.Errorf("%s: latest found deployment %d, want %d", tc.name, live.ID, want)
		}
		if requests > tc.limit {
			t.Errorf("%s: %d requests on 300 deployments, want <= %d", tc.name, requests, tc.limit)
		}
	}
}
