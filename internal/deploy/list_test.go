package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// heldStatuses counts concurrent status look-ups. The first ones are held until wave of them run
// at once, so the test sees the concurrency bound reached without timing anything; a List that
// never runs wave at once fails after a generous watchdog instead of hanging.
type heldStatuses struct {
	*fakeAPI
	wave      int32
	now, peak atomic.Int32
	full      chan struct{}
	once      sync.Once
}

func (s *heldStatuses) ListDeploymentStatuses(ctx context.Context, o, r string, id int64, opts *github.ListOptions) ([]*github.DeploymentStatus, ghapi.Page, error) {
	n := s.now.Add(1)
	defer s.now.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if n >= s.wave {
		s.once.Do(func() { close(s.full) })
	}
	select {
	case <-s.full:
	case <-ctx.Done():
		return nil, ghapi.Page{}, ctx.Err()
	case <-time.After(10 * time.Second):
		return nil, ghapi.Page{}, fmt.Errorf("never %d status look-ups at once", s.wave)
	}
	return s.fakeAPI.ListDeploymentStatuses(ctx, o, r, id, opts)
}

func TestListLatestStateLimitAndConcurrency(t *testing.T) {
	t.Parallel()
	f := newFake()
	ctx := context.Background()
	seedD := &Deployer{API: f, Owner: "o", Repo: "r"}
	succeeded := map[int64]bool{}
	for i := range 130 {
		dep, err := seedD.Create(ctx, CreateSpec{Ref: "main", Task: "deploy", Environment: "staging"})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := seedD.SetStatus(ctx, dep.GetID(), StatusSpec{State: "success"}); err != nil {
				t.Fatal(err)
			}
			succeeded[dep.GetID()] = true
		}
	}
	api := &heldStatuses{fakeAPI: f, wave: 3, full: make(chan struct{})}
	d := &Deployer{API: api, Owner: "o", Repo: "r", Concurrency: 3}
	ls, err := d.List(ctx, ListSpec{Environment: "staging", Limit: 120})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 120 {
		t.Fatalf("%d deployments, want the limit, 120 (two pages)", len(ls))
	}
	if ls[0].ID <= ls[1].ID {
		t.Errorf("not newest first: %d then %d", ls[0].ID, ls[1].ID)
	}
	for _, l := range ls {
		want := ""
		if succeeded[l.ID] {
			want = "success"
		}
		if l.State != want {
			t.Fatalf("deployment %d state %q, want %q", l.ID, l.State, want)
		}
	}
	if p := api.peak.Load(); p != 3 {
		t.Errorf("peak concurrent status look-ups = %d, want 3 (Concurrency 3, reached and never passed)", p)
	}
	pages := 0
	for _, c := range f.Calls() {
		if strings.HasPrefix(c, "list page=") {
			pages++
		}
	}
	if pages != 2 {
		t.Errorf("%d list pages read, want 2 (100 + 20)", pages)
	}
}

func TestListFailsOnAStatusError(t *testing.T) {
	t.Parallel()
	f := newFake()
	ctx := context.Background()
	d := &Deployer{API: f, Owner: "o", Repo: "r"}
	for range 5 {
		if _, err := d.Create(ctx, CreateSpec{Ref: "main", Task: "deploy", Environment: "staging"}); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("connection reset")
	// The shared fake never fails a status look-up: wrap it.
	_, err := (&Deployer{API: failingStatuses{f, boom}, Owner: "o", Repo: "r"}).List(ctx, ListSpec{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the status look-up's error", err)
	}
}

type failingStatuses struct {
	*fakeAPI
	err error
}

func (f failingStatuses) ListDeploymentStatuses(context.Context, string, string, int64, *github.ListOptions) ([]*github.DeploymentStatus, ghapi.Page, error) {
	return nil, ghapi.Page{}, fmt.Errorf("statuses: %w", f.err)
}
