package reliability

// Many jobs at once against one environment, where telling one's own deployment from the others
// is the hard part: lost creates and cancelled set-ups with 45 legs to one environment (more
// than one page of deployments), identical string payloads across legs, and re-run attempts.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// legs runs n jobs of the action at once against e, job i with check run id 1000+i (so each
// status's log URL names its leg), with each job's context from ctxFor.
func legs(t *testing.T, e *emulator.Emulator, n int, with map[string]string, ctxFor func(i int) (context.Context, context.CancelFunc)) []*actionsim.Result {
	t.Helper()
	a := loadAction(t)
	out := make([]*actionsim.Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := newJob(t, a, e.URL(), with)
			j.Contexts.CheckRunID = fmt.Sprint(1000 + i)
			ctx, cancel := ctxFor(i)
			defer cancel()
			res, err := j.Run(ctx)
			if err != nil {
				t.Errorf("leg %d: %v", i, err)
				return
			}
			out[i] = res
		}()
	}
	wg.Wait()
	return out
}

func background(int) (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// legOf is the leg whose job page a status links to, or -1.
func legOf(s emulator.Status) int {
	var n int
	if _, err := fmt.Sscanf(s.LogURL[strings.LastIndex(s.LogURL, "/job/")+len("/job/"):], "%d", &n); err != nil {
		return -1
	}
	return n - 1000
}

// checkOnePerLeg: every deployment's statuses come from one leg, and no leg has two deployments.
func checkOnePerLeg(t *testing.T, deps []emulator.Deployment) map[int]emulator.Deployment {
	t.Helper()
	byLeg := map[int]emulator.Deployment{}
	for _, d := range deps {
		leg := -1
		for _, s := range d.Statuses {
			switch l := legOf(s); {
			case leg == -1:
				leg = l
			case l != leg:
				t.Errorf("deployment %d got statuses from legs %d and %d: one adopted another's deployment", d.ID, leg, l)
			}
		}
		if leg == -1 {
			continue
		}
		if prev, ok := byLeg[leg]; ok {
			t.Errorf("leg %d has two deployments, %d and %d", leg, prev.ID, d.ID)
		}
		byLeg[leg] = d
	}
	return byLeg
}

// TestManyLegsLostCreates: 45 legs deploy to one environment and every create's answer is lost
// after GitHub made the deployment. Each leg must find its own among more than a page of
// identical-looking deployments (the action's request id in the object payload tells them
// apart) and finish it: 45 deployments, one per leg, all success.
func TestManyLegsLostCreates(t *testing.T) {
	t.Parallel()
	const n = 45
	e := emulatortest.Start(t, emulator.Config{Logf: quiet})
	e.AddFault(emulator.Fault{Method: http.MethodPost, Match: isCreate, Kind: emulator.FaultLostResponse, Times: n})
	res := legs(t, e, n, map[string]string{"environment": "production", "payload": `{"service": "api"}`}, background)
	deps := e.Deployments(owner, repoName)
	if len(deps) != n {
		t.Errorf("%d deployments, want %d", len(deps), n)
	}
	byLeg := checkOnePerLeg(t, deps)
	for i, r := range res {
		if r == nil {
			continue
		}
		if r.Failed() {
			t.Errorf("leg %d failed: %v", i, r.StageErrors)
			continue
		}
		if d, ok := byLeg[i]; !ok || latestState(d) != "success" {
			t.Errorf("leg %d: deployment %+v, want its own, success", i, d)
		}
	}
}

// TestManyLegsCancelledMidCreate: 45 legs to one environment are cancelled while their creates
// are in flight (GitHub makes each deployment, the answer comes too late). Post of each leg must
// find its leg's deployment among all the others and finish it: none left without a final state.
func TestManyLegsCancelledMidCreate(t *testing.T) {
	t.Parallel()
	const n = 45
	e := emulatortest.Start(t, emulator.Config{Logf: quiet})
	arrived := make(chan struct{}, n)
	e.AddFault(emulator.Fault{Method: http.MethodPost, Kind: emulator.FaultLatency, Delay: 5 * time.Second, Times: n,
		Match: func(r *http.Request) bool {
			if !isCreate(r) {
				return false
			}
			arrived <- struct{}{}
			return true
		}})
	// Cancel the run once every leg's create has reached GitHub (each is then stuck on its answer).
	cancels := make([]context.CancelFunc, n)
	var mu sync.Mutex
	go func() {
		for range n {
			<-arrived
		}
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cancels {
			if c != nil {
				c()
			}
		}
	}()
	res := legs(t, e, n, map[string]string{"environment": "production"}, func(i int) (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		mu.Lock()
		cancels[i] = cancel
		mu.Unlock()
		return ctx, cancel
	})
	deps := e.Deployments(owner, repoName)
	if len(deps) != n {
		t.Errorf("%d deployments, want %d", len(deps), n)
	}
	checkOnePerLeg(t, deps)
	for _, d := range deps {
		if st := latestState(d); st != "error" {
			t.Errorf("deployment %d ended %q (%v), want error (cancelled)", d.ID, st, states(d))
		}
	}
	for i, r := range res {
		if r != nil && r.JobStatus != "cancelled" {
			t.Errorf("leg %d: job %s, want cancelled", i, r.JobStatus)
		}
	}
}

// TestStringPayloadLegsNeverAdoptAnother: legs with the same string payload are identical to
// GitHub. When a leg's create answer is lost, a matching deployment that already carries a status
// is another leg's and is never adopted; a lone one without a status is the leg's own; when
// several have none yet, the leg creates its deployment anew and says so. Every leg succeeds on a
// deployment of its own; what may be left over are deployments without any status.
func TestStringPayloadLegsNeverAdoptAnother(t *testing.T) {
	t.Parallel()
	const n = 8
	e := emulatortest.Start(t, emulator.Config{Logf: quiet})
	e.AddFault(emulator.Fault{Method: http.MethodPost, Match: isCreate, Kind: emulator.FaultLostResponse, Times: n / 2})
	res := legs(t, e, n, map[string]string{"environment": "production", "payload": "release 1.2"}, background)
	deps := e.Deployments(owner, repoName)
	finished, bare := 0, 0
	for _, d := range deps {
		switch sts := states(d); {
		case len(sts) == 0:
			bare++
		case slices.Equal(sts, []string{"in_progress", "success"}):
			finished++
		default:
			t.Errorf("deployment %d has statuses %v: two legs wrote to it, or a leg did not finish it", d.ID, sts)
		}
	}
	if finished != n || bare > n/2 {
		t.Errorf("%d deployments finished (want %d, one per leg), %d without a status (want at most %d, one per lost answer)", finished, n, bare, n/2)
	}
	for i, r := range res {
		if r != nil && r.Failed() {
			t.Errorf("leg %d failed: %v", i, r.StageErrors)
		}
	}
}

// TestRerunNeverAdoptsTheFirstAttempt: attempt 2 of a run whose create answer is lost must not
// adopt attempt 1's deployment (which ended in failure) and turn it into a success.
func TestRerunNeverAdoptsTheFirstAttempt(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{"", `{"service": "api"}`, "release 1.2"} {
		t.Run("payload "+payload, func(t *testing.T) {
			t.Parallel()
			a := loadAction(t)
			e := emulatortest.Start(t, emulator.Config{Logf: quiet})
			with := map[string]string{"environment": "staging", "payload": payload}
			first := newJob(t, a, e.URL(), with)
			first.StepsAfter = []actionsim.Step{{ID: "app", Run: func(context.Context, *actionsim.StepRun) error { return fmt.Errorf("deploy failed") }}}
			runJob(t, first)
			e.AddFault(emulator.Fault{Method: http.MethodPost, Match: isCreate, Kind: emulator.FaultLostResponse})
			second := newJob(t, a, e.URL(), with)
			second.Env["GITHUB_RUN_ATTEMPT"] = "2"
			res := runJob(t, second)
			deps := e.Deployments(owner, repoName)
			if len(deps) != 2 {
				t.Fatalf("%d deployments, want 2 (one per attempt)", len(deps))
			}
			if got := latestState(deps[0]); got != "failure" {
				t.Errorf("attempt 1's deployment is now %q (%v): attempt 2 adopted it", got, states(deps[0]))
			}
			// A string payload too: attempt 1's deployment carries its statuses, so it is not
			// attempt 2's; the lone one without a status is.
			if got := latestState(deps[1]); res.Failed() || got != "success" {
				t.Errorf("attempt 2: errors %v, its deployment %v", res.StageErrors, states(deps[1]))
			}
		})
	}
}
