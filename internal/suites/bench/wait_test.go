package bench

// How fast wait sees what it waits for, and what that costs: a third-party deployer (another
// token) acts on the emulator at scripted moments of a simulated clock that the wait shares, so a
// scenario runs in milliseconds and its figures do not depend on the machine. Each scenario runs
// with several event times and jitter seeds; the figures are medians over those runs.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

const botToken = "ghs_botTOKENbotTOKENbotTOKEN000000"

// waitScenario scripts the deployer around one wait. at is when the deciding event happens
// (seconds after the wait starts, varied per run).
type waitScenario struct {
	name string
	// existing: a deployment of the commit is in progress when the wait starts.
	existing bool
	// script schedules the deployer's acts; dep is the deployment (set by the existing one or by
	// the script itself).
	script  func(tb testing.TB, b *bot, at time.Duration)
	timeout time.Duration
	want    string // the outcome: "success", or a WaitError reason's word
}

type bot struct {
	s     *server
	clock *simClock
	dep   int64
}

func (b *bot) create(tb testing.TB, sha, env string) int64 {
	tb.Helper()
	return int64(api(tb, b.s.e, botToken, "POST", "/deployments", map[string]any{"ref": sha, "environment": env, "required_contexts": []string{}})["id"].(float64))
}

func (b *bot) status(tb testing.TB, id int64, state string) {
	tb.Helper()
	api(tb, b.s.e, botToken, "POST", fmt.Sprintf("/deployments/%d/statuses", id), map[string]any{"state": state, "log_url": "https://ci.example.com/1"})
}

var (
	mainSHA    = emulator.DefaultRepo().Branches["main"]
	featureSHA = emulator.DefaultRepo().Branches["feature-x"]
)

func waitScenarios() []waitScenario {
	return []waitScenario{
		{name: "success", existing: true, want: "success", script: func(tb testing.TB, b *bot, at time.Duration) {
			b.clock.at(at, func() { b.status(tb, b.dep, "success") })
		}},
		{name: "appears-and-succeeds", want: "success", script: func(tb testing.TB, b *bot, at time.Duration) {
			b.clock.at(at/2, func() { b.dep = b.create(tb, mainSHA, "preview/pr-7"); b.status(tb, b.dep, "pending") })
			b.clock.at(at, func() { b.status(tb, b.dep, "success") })
		}},
		{name: "failure", existing: true, want: "ended failure", script: func(tb testing.TB, b *bot, at time.Duration) {
			b.clock.at(at, func() { b.status(tb, b.dep, "failure") })
		}},
		{name: "superseded", existing: true, want: "superseded", script: func(tb testing.TB, b *bot, at time.Duration) {
			b.clock.at(at, func() { b.status(tb, b.create(tb, featureSHA, "preview/pr-7"), "in_progress") })
		}},
		{name: "stuck", existing: true, want: "is still in_progress", timeout: 10 * time.Minute, script: func(testing.TB, *bot, time.Duration) {}},
	}
}

type waitRun struct {
	seen             time.Duration // from the deciding event to the end of the wait
	primary, reqs    int           // counted against the primary limit; every GET
	waited           time.Duration
	primaryPerMinute float64
}

// runWait runs one scenario: environment is what wait is given (a name or a pattern), at the
// event's time, seed the jitter's.
func runWait(tb testing.TB, sc waitScenario, environment string, at time.Duration, seed uint64) waitRun {
	tb.Helper()
	clock := newSimClock()
	s := startServer(tb, emulator.Config{Now: clock.Now}, false)
	b := &bot{s: s, clock: clock}
	if sc.existing {
		b.dep = b.create(tb, mainSHA, "preview/pr-7")
		b.status(tb, b.dep, "in_progress")
		_ = clock.Sleep(context.Background(), 3*time.Second)
	}
	start := clock.Now()
	sc.script(tb, b, at)
	client, err := ghapi.New(ghapi.Options{Token: token, APIURL: s.URL(), Conditional: true})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	d := &deploy.Deployer{API: client, Owner: owner, Repo: repoName, Now: clock.Now, Sleep: clock.Sleep, Rand: rng.Float64}
	mode, _ := deploy.LookupMode("wait")
	timeout := sc.timeout
	if timeout == 0 {
		timeout = time.Hour
	}
	settings := &deploy.Settings{Mode: mode, Enabled: true, Environment: environment, Task: "deploy", WaitTimeout: timeout}
	before := len(s.e.Requests())
	rep, err := d.Stage(context.Background(), deploy.Job{Stage: deploy.StageMain, Settings: settings, SHA: mainSHA, State: memState{}})
	got := "success"
	if err != nil {
		got = err.Error()
	}
	if !strings.Contains(got, sc.want) {
		tb.Fatalf("%s (%s, event at %s): got %q, want %q", sc.name, environment, at, got, sc.want)
	}
	var r waitRun
	for _, q := range s.e.Requests()[before:] {
		if q.Method == http.MethodGet && q.Path != "/rate_limit" {
			r.reqs++
		}
	}
	r.primary = primaryUsed(tb, s.e, token)
	r.waited = clock.Now().Sub(start)
	r.seen = r.waited - at
	if rep != nil && rep.Wait != nil && rep.Wait.Waited > 0 {
		r.primaryPerMinute = float64(r.primary) / rep.Wait.Waited.Minutes()
	}
	return r
}

// eventTimes are the deciding events' times over the runs of a scenario: spread over a deploy's
// usual first minutes.
var eventTimes = []time.Duration{4 * time.Second, 9 * time.Second, 15 * time.Second, 22 * time.Second, 31 * time.Second, 43 * time.Second, 58 * time.Second}

type waitFigures struct {
	seen, primary, reqs, waited float64 // medians
	primaryPerMinute            float64
}

func measureWait(tb testing.TB, sc waitScenario, environment string) waitFigures {
	tb.Helper()
	times := eventTimes
	if sc.name == "stuck" {
		times = times[:3]
	}
	var seen, primary, reqs, waited, ppm []float64
	for i, at := range times {
		r := runWait(tb, sc, environment, at, uint64(i+1))
		seen = append(seen, r.seen.Seconds())
		primary = append(primary, float64(r.primary))
		reqs = append(reqs, float64(r.reqs))
		waited = append(waited, r.waited.Seconds())
		ppm = append(ppm, r.primaryPerMinute)
	}
	return waitFigures{seen: median(seen), primary: median(primary), reqs: median(reqs), waited: median(waited), primaryPerMinute: median(ppm)}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkWaitScenarios reports, per scenario and for an exact environment and a pattern, how
// long after the deciding event wait saw it and how many answers counted against the primary
// rate limit (304s do not).
func BenchmarkWaitScenarios(b *testing.B) {
	for range b.N {
		for _, env := range []string{"preview/pr-7", "preview/*"} {
			kind := "name"
			if env == "preview/*" {
				kind = "pattern"
			}
			for _, sc := range waitScenarios() {
				f := measureWait(b, sc, env)
				if sc.name == "stuck" {
					figure(b, "wait %s, %s: %.2f primary requests a minute over %s (%.0f GETs, %.0f counted; target <= 1.5 a minute: %s)",
						sc.name, kind, f.primaryPerMinute, time.Duration(f.waited*float64(time.Second)).Round(time.Second), f.reqs, f.primary, met(f.primaryPerMinute <= 1.5))
					b.ReportMetric(f.primaryPerMinute, sc.name+"-"+kind+"-primary/min")
					continue
				}
				figure(b, "wait %s, %s: seen %.2f s after it happened (median; target <= 1.2 s: %s), %.0f primary requests, %.0f GETs in all",
					sc.name, kind, f.seen, met(f.seen <= 1.2), f.primary, f.reqs)
				b.ReportMetric(f.seen, sc.name+"-"+kind+"-seen-s")
				b.ReportMetric(f.primary, sc.name+"-"+kind+"-primary")
			}
		}
	}
}

// TestWaitSeesThingsFast: every scenario is decided right, within 1.2 s of its event, and a
// deployment in progress that succeeds costs at most 3 answers against the primary limit.
func TestWaitSeesThingsFast(t *testing.T) {
	t.Parallel()
	for _, sc := range waitScenarios() {
		if sc.name == "stuck" {
			continue
		}
		for i, at := range []time.Duration{7 * time.Second, 40 * time.Second} {
			for _, env := range []string{"preview/pr-7", "preview/*"} {
				r := runWait(t, sc, env, at, uint64(i+1))
				if r.seen > 1200*time.Millisecond || r.seen < 0 {
					t.Errorf("%s (%s) at %s: seen after %s, want within 1.2 s", sc.name, env, at, r.seen)
				}
				if sc.name == "success" && env == "preview/pr-7" && r.primary > 3 {
					t.Errorf("%s at %s: %d requests counted against the primary limit, want <= 3", sc.name, at, r.primary)
				}
			}
		}
	}
}

// TestWaitWhileStuckIsCheap: a deployment that never finishes costs almost no primary rate limit.
func TestWaitWhileStuckIsCheap(t *testing.T) {
	t.Parallel()
	var stuck waitScenario
	for _, sc := range waitScenarios() {
		if sc.name == "stuck" {
			stuck = sc
		}
	}
	r := runWait(t, stuck, "preview/*", 0, 1)
	if r.primaryPerMinute > 1.5 {
		t.Errorf("%.2f primary requests a minute while stuck (%d over %s), want <= 1.5", r.primaryPerMinute, r.primary, r.waited)
	}
	if r.reqs > 200 {
		t.Errorf("%d requests in a ten-minute stuck wait: the schedule does not back off", r.reqs)
	}
}
