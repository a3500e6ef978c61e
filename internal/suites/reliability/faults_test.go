package reliability

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

var (
	faultSeed       = flag.Uint64("fault.seed", 20260425, "seed of the fault-injection suite (each lifecycle i uses PCG(seed, i))")
	faultLifecycles = flag.Int("fault.lifecycles", 200, "lifecycles in the fault-injection suite (35 with -short unless set; 2000 with -fault.long unless set)")
	faultLong       = flag.Bool("fault.long", false, "long fault-injection run (also DEPLOYMENT_ACTION_FAULT_LONG=1)")
)

// faultConcurrency is how many lifecycles run at once, each against its own emulator.
const faultConcurrency = 8

// Fault kinds as counted in the figures.
const (
	k5xx = iota
	kReset
	kLost
	kSecondary
	kLatency
	kNone
)

var kindNames = [...]string{"5xx", "reset", "lost", "secondary", "latency"}

// injector decides, for every request a lifecycle makes, whether and how it fails. Decisions
// come from the lifecycle's own seeded generator, so a lifecycle's faults are reproducible
// (retries and their timing aside).
type injector struct {
	mu     sync.Mutex
	rng    *rand.Rand
	chosen map[*http.Request][2]int // kind, variant
	counts [kNone]int
	hits   []string // "POST /path: kind" for failure reports
}

// variants of each kind: which 5xx, 403 or 429, how much latency.
var variants = [kNone]int{k5xx: 3, kReset: 1, kLost: 1, kSecondary: 2, kLatency: 4}

// choose rolls once per request: 30% of POSTs and 15% of other requests fail. Lost responses
// (commit, then drop the connection) only hit POSTs, where they matter: creates and statuses.
// Secondary limits (Retry-After: 1, a real one-second wait) are kept to a small share.
func (in *injector) choose(r *http.Request) (kind, variant int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if c, ok := in.chosen[r]; ok {
		return c[0], c[1]
	}
	p := 0.15
	if r.Method == http.MethodPost {
		p = 0.30
	}
	kind = kNone
	if in.rng.Float64() < p {
		x := in.rng.Float64()
		switch {
		case x < 0.30:
			kind = k5xx
		case x < 0.45:
			kind = kReset
		case x < 0.75:
			kind = kLost
			if r.Method != http.MethodPost {
				kind = k5xx
			}
		case x < 0.82:
			kind = kSecondary
		default:
			kind = kLatency
		}
		variant = in.rng.IntN(variants[kind])
		in.counts[kind]++
		in.hits = append(in.hits, fmt.Sprintf("%s %s: %s", r.Method, r.URL.Path, kindNames[kind]))
	}
	in.chosen[r] = [2]int{kind, variant}
	return kind, variant
}

// install queues the faults on e; choose decides which one applies to a request.
func (in *injector) install(e *emulator.Emulator) {
	const forever = 1 << 30
	match := func(k, v int) func(*http.Request) bool {
		return func(r *http.Request) bool {
			kind, variant := in.choose(r)
			return kind == k && variant == v
		}
	}
	for i, st := range []int{502, 503, 500} {
		e.AddFault(emulator.Fault{Kind: emulator.FaultStatus, Status: st, Match: match(k5xx, i), Times: forever})
	}
	e.AddFault(emulator.Fault{Kind: emulator.FaultReset, Match: match(kReset, 0), Times: forever})
	e.AddFault(emulator.Fault{Kind: emulator.FaultLostResponse, Match: match(kLost, 0), Times: forever})
	for i, st := range []int{403, 429} {
		e.AddFault(emulator.Fault{Kind: emulator.FaultSecondaryLimit, Status: st, RetryAfter: 1, Match: match(kSecondary, i), Times: forever})
	}
	for i, d := range []time.Duration{20, 50, 100, 200} {
		e.AddFault(emulator.Fault{Kind: emulator.FaultLatency, Delay: d * time.Millisecond, Match: match(kLatency, i), Times: forever})
	}
}

// lifecycle is the outcome of one job.
type lifecycle struct {
	index     int
	env       string
	intent    string // success, failure, cancel (the user's step), cancel-pre (Cancel clicked during set-up)
	wall      time.Duration
	res       *actionsim.Result
	deps      []emulator.Deployment
	requests  []emulator.Request
	faults    [kNone]int
	faultHits []string
}

// runLifecycle runs one auto job (pre, main, the user's step, post, as the runner orders them)
// against its own emulator.
func runLifecycle(t *testing.T, a *actionsim.Action, seed uint64, i int, inject bool) lifecycle {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	lc := lifecycle{index: i, env: fmt.Sprintf("env-%d", i)}
	switch x := rng.Float64(); {
	case x < 0.30:
		lc.intent = "success"
	case x < 0.55:
		lc.intent = "failure"
	case x < 0.80:
		lc.intent = "cancel"
	default:
		lc.intent = "cancel-pre"
	}
	cancelAfter := time.Duration(rng.IntN(300)) * time.Millisecond
	e := emulatortest.Start(t, emulator.Config{Logf: quiet})
	var in *injector
	if inject {
		in = &injector{rng: rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, uint64(i))), chosen: map[*http.Request][2]int{}}
		in.install(e)
	}
	j := newJob(t, a, e.URL(), map[string]string{"environment": lc.env, "environment-url": "${{ steps.app.outputs.url }}"})
	intent := lc.intent
	j.StepsAfter = []actionsim.Step{{ID: "app", Run: func(ctx context.Context, s *actionsim.StepRun) error {
		s.SetOutput("url", "https://"+lc.env+".example.com")
		switch intent {
		case "failure":
			return fmt.Errorf("deploy script failed")
		case "cancel":
			s.Cancel()
		}
		return nil
	}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if intent == "cancel-pre" {
		// The workflow run is cancelled while pre is (most likely) still talking to GitHub.
		stop := time.AfterFunc(cancelAfter, cancel)
		defer stop.Stop()
	}
	start := time.Now()
	res, err := j.Run(ctx)
	lc.wall = time.Since(start)
	if err != nil {
		t.Errorf("lifecycle %d: job: %v", i, err)
		return lc
	}
	lc.res = res
	for _, d := range e.Deployments(owner, repoName) {
		if d.Environment == lc.env {
			lc.deps = append(lc.deps, d)
		}
	}
	lc.requests = e.Requests()
	e.Close() // free its port and connections now: long runs make thousands (idempotent at cleanup)
	if in != nil {
		in.mu.Lock()
		lc.faults, lc.faultHits = in.counts, append([]string(nil), in.hits...)
		in.mu.Unlock()
	}
	return lc
}

func (lc lifecycle) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lifecycle %d (%s, step %s, job %s, post saw %q, %s)", lc.index, lc.env, lc.intent, lc.res.JobStatus,
		lc.res.StageEnv["post"][actionsim.InputEnvName("job-status")], lc.wall.Round(time.Millisecond))
	for _, d := range lc.deps {
		fmt.Fprintf(&b, "\n  deployment %d: %v", d.ID, states(d))
	}
	for st, err := range lc.res.StageErrors {
		fmt.Fprintf(&b, "\n  %s failed: %v", st, err)
	}
	b.WriteString("\n  faults: " + strings.Join(lc.faultHits, "; "))
	for _, r := range lc.requests {
		fmt.Fprintf(&b, "\n  %s %s?%s -> %d %s", r.Method, r.Path, r.RawQuery, r.Status, r.Fault)
	}
	return b.String()
}

func runBatch(t *testing.T, a *actionsim.Action, seed uint64, n int, inject bool) []lifecycle {
	out := make([]lifecycle, n)
	sem := make(chan struct{}, faultConcurrency)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = runLifecycle(t, a, seed, i, inject)
		}()
	}
	wg.Wait()
	return out
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)) + 0.5)
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

// TestFaultInjection drives whole auto lifecycles through the runner simulation while the API
// fails at random (5xx, resets, responses lost after the change was made, secondary limits,
// latency), and checks what a user would see on GitHub afterwards: one deployment per job, never
// left in progress, in the state matching the job's outcome.
func TestFaultInjection(t *testing.T) {
	t.Parallel()
	n := *faultLifecycles
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	long := *faultLong || os.Getenv("DEPLOYMENT_ACTION_FAULT_LONG") == "1"
	switch {
	case set["fault.lifecycles"]:
	case long:
		n = 2000
	case testing.Short():
		// The fewest with the default seed that still inject every kind of fault a few times
		// (20 inject no 5xx at all); about 4 s on 2 cores.
		n = 35
	}
	seed := *faultSeed
	t.Logf("fault-injection: seed=%d lifecycles=%d (rerun with -fault.seed=%d -fault.lifecycles=%d)", seed, n, seed, n)
	a := loadAction(t)

	// The baseline: the same jobs without faults. Its median is what a lifecycle costs anyway.
	baseline := runBatch(t, a, seed, 3*faultConcurrency, false)
	var base []time.Duration
	for _, lc := range baseline {
		if lc.res == nil {
			continue
		}
		if v := classify(lc); v.bad() || v.aborted && lc.intent != "cancel-pre" {
			t.Errorf("fault-free baseline went wrong: %s", lc.describe())
		}
		if lc.intent != "cancel-pre" { // cut short at a random moment: not comparable
			base = append(base, lc.wall)
		}
	}
	slices.Sort(base)
	median := percentile(base, 0.5)

	lcs := runBatch(t, a, seed, n, true)
	var (
		total                                [kNone]int
		duplicates, nonFinal, wrong, aborted int
		extra                                []time.Duration
	)
	for _, lc := range lcs {
		if lc.res == nil {
			continue
		}
		for k, c := range lc.faults {
			total[k] += c
		}
		if lc.intent != "cancel-pre" {
			extra = append(extra, lc.wall-median)
		}
		v := classify(lc)
		duplicates += v.duplicates
		nonFinal += v.nonFinal
		wrong += v.wrong
		switch {
		case v.bad():
			t.Errorf("%s", lc.describe())
		case v.aborted:
			aborted++
			t.Logf("aborted, left clean: %s", lc.describe())
		}
	}
	slices.Sort(extra)
	if slow := slices.MaxFunc(lcs, func(a, b lifecycle) int { return int(a.wall - b.wall) }); slow.res != nil {
		t.Logf("slowest: %s", slow.describe())
	}
	faults := 0
	for _, c := range total {
		faults += c
	}
	t.Logf("fault-injection: seed=%d lifecycles=%d faults=%d (5xx=%d reset=%d lost=%d secondary=%d latency=%d) duplicates=%d non-final=%d wrong-final=%d aborted-clean=%d",
		seed, n, faults, total[k5xx], total[kReset], total[kLost], total[kSecondary], total[kLatency], duplicates, nonFinal, wrong, aborted)
	t.Logf("fault-injection: extra wall time per lifecycle p50=%dms p99=%dms (vs fault-free baseline median %dms)",
		percentile(extra, 0.5).Milliseconds(), percentile(extra, 0.99).Milliseconds(), median.Milliseconds())
	if duplicates != 0 || nonFinal != 0 || wrong != 0 {
		t.Errorf("want duplicates=0 non-final=0 wrong-final=0, got %d %d %d (seed %d)", duplicates, nonFinal, wrong, seed)
	}
	if total[kLost] == 0 || total[k5xx] == 0 || total[kReset] == 0 || total[kLatency] == 0 {
		t.Errorf("the run injected too few faults to mean anything: %v", total)
	}
}

// verdict is what a user would find on GitHub after one lifecycle.
type verdict struct {
	duplicates, nonFinal, wrong int
	aborted                     bool // a stage gave up, or the run was cancelled before any deployment
}

func (v verdict) bad() bool { return v.duplicates+v.nonFinal+v.wrong > 0 }

func classify(lc lifecycle) verdict {
	var v verdict
	if len(lc.deps) > 1 {
		v.duplicates = len(lc.deps) - 1
	}
	// The final state follows the job's status as post saw it: a cancellation that lands while
	// post is already finishing cannot change what post was told.
	jobStatus := lc.res.JobStatus
	if env, ok := lc.res.StageEnv["post"]; ok {
		jobStatus = env[actionsim.InputEnvName("job-status")]
	}
	want := finalFor(jobStatus)
	for _, d := range lc.deps {
		switch st := latestState(d); {
		case !isFinal(st):
			v.nonFinal++
		case st != want:
			v.wrong++
		}
	}
	v.aborted = lc.res.Failed() || (len(lc.deps) == 0 && lc.res.JobStatus == "cancelled")
	if !v.aborted && len(lc.deps) == 0 {
		v.wrong++ // a job that reported no error must have made its deployment
	}
	return v
}

// finalFor is the state a deployment must end in for a job status.
func finalFor(jobStatus string) string {
	switch jobStatus {
	case "success":
		return "success"
	case "failure":
		return "failure"
	case "cancelled":
		return "error" // the default cancelled-state
	}
	return "?" + jobStatus
}

// TestAbortedLifecycleLeavesClean: when pre gives up (GitHub asks to wait longer than the retry
// budget), the job fails, and post still leaves nothing in progress: no deployment when the
// create never happened, or the deployment in failure when it did but its answer was lost.
func TestAbortedLifecycleLeavesClean(t *testing.T) {
	t.Parallel()
	a := loadAction(t)
	for _, tc := range []struct {
		name   string
		faults []emulator.Fault
		want   []string // states of the one deployment; nil = no deployment
	}{
		{name: "create refused", faults: []emulator.Fault{
			{Method: "POST", Match: isCreate, Kind: emulator.FaultSecondaryLimit, RetryAfter: 600},
		}},
		{name: "create made, answer lost, look-up refused", faults: []emulator.Fault{
			{Method: "POST", Match: isCreate, Kind: emulator.FaultLostResponse},
			{Method: "GET", PathContains: "/deployments", Kind: emulator.FaultSecondaryLimit, RetryAfter: 600},
		}, want: []string{"failure"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := emulatortest.Start(t, emulator.Config{Logf: quiet})
			for _, f := range tc.faults {
				e.AddFault(f)
			}
			res := runJob(t, newJob(t, a, e.URL(), map[string]string{"environment": "aborted"}))
			if res.StageErrors["pre"] == nil || res.JobStatus != "failure" {
				t.Fatalf("pre error %v, job %s: the fault did not abort pre", res.StageErrors["pre"], res.JobStatus)
			}
			if res.StageErrors["post"] != nil {
				t.Errorf("post failed: %v", res.StageErrors["post"])
			}
			deps := e.Deployments(owner, repoName)
			switch {
			case tc.want == nil && len(deps) != 0:
				t.Errorf("%d deployments, want none", len(deps))
			case tc.want != nil && (len(deps) != 1 || strings.Join(states(deps[0]), ",") != strings.Join(tc.want, ",")):
				t.Errorf("deployments %+v, want one with states %v", deps, tc.want)
			}
		})
	}
}
