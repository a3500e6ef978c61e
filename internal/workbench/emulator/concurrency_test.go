package emulator_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

func TestConcurrentClients(t *testing.T) {
	a := start(t, emulator.Config{})
	gh := ghClient(t, a, false)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				d, _, err := gh.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{
					Ref: github.String("main"), Environment: github.String(fmt.Sprintf("env-%d", g)),
				})
				if err != nil {
					errs <- err
					return
				}
				for _, st := range []string{"in_progress", "success"} {
					if _, _, err := gh.Repositories.CreateDeploymentStatus(ctx, owner, repo, d.GetID(), &github.DeploymentStatusRequest{State: github.String(st)}); err != nil {
						errs <- err
						return
					}
				}
				if _, _, err := gh.Repositories.ListDeployments(ctx, owner, repo, nil); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	deps := a.e.Deployments(owner, repo)
	eq(t, "deployments", len(deps), 128)
	ids := map[int64]bool{}
	for _, d := range deps {
		if ids[d.ID] {
			t.Fatalf("duplicate id %d", d.ID)
		}
		ids[d.ID] = true
	}
	// in each environment only the newest deployment is still success
	latest := map[string]int64{}
	for _, d := range deps {
		latest[d.Environment] = d.ID
	}
	for _, d := range deps {
		want := "inactive"
		if latest[d.Environment] == d.ID {
			want = "success"
		}
		if got := d.Statuses[len(d.Statuses)-1].State; got != want {
			t.Errorf("deployment %d (%s): %s, want %s", d.ID, d.Environment, got, want)
		}
	}
}

func BenchmarkCreateDeploymentAndStatus(b *testing.B) {
	e := emulator.New(emulator.Config{PrimaryLimit: 1 << 30})
	e.AddRepo(emulator.DefaultRepo())
	if err := e.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	a := &api{t: b, e: e, base: e.URL()}
	gh := ghClient(nil, a, false)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, _, err := gh.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{Ref: github.String("main"), Environment: github.String("bench")})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := gh.Repositories.CreateDeploymentStatus(ctx, owner, repo, d.GetID(), &github.DeploymentStatusRequest{State: github.String("success")}); err != nil {
			b.Fatal(err)
		}
	}
}
