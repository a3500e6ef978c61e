package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// BenchmarkMatrix runs a 50-leg matrix of full auto jobs at once (in-process, each stage with its
// own client, as on real runners) against one emulator with GitHub's secondary limit (80 writes
// per window, shared by the legs' common token) and 50 ms latency.
func BenchmarkMatrix(b *testing.B) {
	sc := getScale()
	act := loadAction(b)
	for range b.N {
		runMatrix(b, sc, act)
	}
}

func runMatrix(b *testing.B, sc scale, act *actionsim.Action) {
	srv := startServer(b, emulator.Config{Latency: latency, SecondaryPerMinute: secondaryLimit, SecondaryWindow: sc.window}, false)
	legs := sc.matrixLegs
	results := make([]*actionsim.Result, legs)
	errs := make([]error, legs)
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	t0 := time.Now()
	for i := range legs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := newJob(act, srv.URL(), map[string]string{"environment": "${{ matrix.region }}"})
			j.Contexts.Matrix = map[string]string{"region": fmt.Sprintf("leg-%02d", i)}
			j.Contexts.CheckRunID = fmt.Sprint(1000 + i)
			results[i], errs[i] = j.Run(ctx)
		}()
	}
	wg.Wait()
	wall := time.Since(t0)

	failed := 0
	for i, res := range results {
		switch {
		case errs[i] != nil:
			failed++
			b.Errorf("leg %d: %v", i, errs[i])
		case len(res.StageErrors) > 0:
			failed++
			b.Errorf("leg %d: %v", i, res.StageErrors)
		}
	}
	byEnv := map[string][]emulator.Deployment{}
	for _, d := range srv.e.Deployments(owner, repoName) {
		byEnv[d.Environment] = append(byEnv[d.Environment], d)
	}
	wrong := 0
	for i := range legs {
		env := fmt.Sprintf("leg-%02d", i)
		ds := byEnv[env]
		if len(ds) != 1 {
			wrong++
			b.Errorf("%s: %d deployments, want 1", env, len(ds))
			continue
		}
		var states []string
		for _, s := range ds[0].Statuses {
			states = append(states, s.State)
		}
		if got := strings.Join(states, ","); got != "in_progress,success" {
			wrong++
			b.Errorf("%s: states %s, want in_progress,success", env, got)
		}
		if results[i] != nil && results[i].Outputs["deployment-id"] != fmt.Sprint(ds[0].ID) {
			wrong++
			b.Errorf("%s: leg reported deployment %s, its own is %d", env, results[i].Outputs["deployment-id"], ds[0].ID)
		}
	}
	limited, accepted := 0, 0
	for _, r := range srv.e.Requests() {
		if r.Status == http.StatusForbidden || r.Status == http.StatusTooManyRequests {
			limited++
		} else {
			accepted++
		}
	}
	writes := 3 * legs
	exact := time.Duration((writes-1)/secondaryLimit)*sc.window + 3*latency
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(float64(limited), "limit-answers")
	b.ReportMetric(float64(accepted), "requests")
	b.ReportMetric(float64(failed+wrong), "wrong-legs")
	note := ""
	if !sc.full {
		note = " (the window is scaled, and so is retry-after: GitHub's real 60 s window and retry-after are exercised by the full mode)"
	}
	figure(b, "matrix of %d auto legs at once, window %s%s, 50 ms latency: %d requests accepted (%d = 3 per leg), %d limit answers; %d legs failed or ended wrong, %d deployments for %d environments; wall %s (floor for %d writes at 80 per window: %s)",
		legs, sc.window, note, accepted, writes, limited, failed+wrong, len(srv.e.Deployments(owner, repoName)), len(byEnv), wall.Round(time.Millisecond), writes, exact)
}
