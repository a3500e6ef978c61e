package ghapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// TestSecondaryLimitWithRetryAfterZero: GitHub answering a create with a secondary limit and
// Retry-After: 0 (twice, as the emulator sends it on the wire) does not make a burst: the client
// waits 1 s, then 2 s, and creates one deployment. The waits go to an injected sleep, so the test
// takes no real time (it was a 3 s job run through the action).
func TestSecondaryLimitWithRetryAfterZero(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{})
	e.AddFault(emulator.Fault{Method: "POST", Match: func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/deployments") },
		Kind: emulator.FaultSecondaryLimit, RetryAfter: -1, Times: 2})
	var mu sync.Mutex
	var sleeps []time.Duration
	clock := testkit.NewClock(time.Now())
	c, err := ghapi.New(ghapi.Options{Token: tkToken, APIURL: e.URL(), Retry: ghapi.RetryPolicy{
		MaxElapsed: time.Minute, Rand: func() float64 { return 0.5 }, Now: clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			sleeps = append(sleeps, d)
			clock.Advance(d)
			return ctx.Err()
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.CreateDeployment(t.Context(), tkOwner, tkRepo, &github.DeploymentRequest{Ref: github.String("main"), Environment: github.String("staging")})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(sleeps, want) {
		t.Errorf("waits %v, want %v (a floor for Retry-After 0, doubled when the limit persists)", sleeps, want)
	}
	if deps := e.Deployments(tkOwner, tkRepo); len(deps) != 1 || deps[0].ID != d.GetID() {
		t.Errorf("deployments %+v, want the one created (%d)", deps, d.GetID())
	}
}
