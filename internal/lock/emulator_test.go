package lock_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/lock"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// The store through the real client against the emulator: every exchange is checked against
// GitHub's OpenAPI description, and the requests are counted from the emulator's log.
func TestStoreAgainstTheEmulator(t *testing.T) {
	em := emulatortest.Start(t, emulator.Config{})
	api, err := ghapi.New(ghapi.Options{Token: "t0k3n", APIURL: em.URL()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s := lock.New(api, "octo-org", "hello-world", func() time.Time { return now })
	ctx := context.Background()
	since := len(em.Requests())
	won, _, err := s.Acquire(ctx, lock.Lock{Environment: "Prod.EU", Holder: "alice", Reason: "migration `rm -rf`", PR: 3, Source: lock.SourceCLI})
	if err != nil || !won {
		t.Fatalf("acquire: %v %v", won, err)
	}
	var got []string
	for _, r := range em.Requests()[since:] {
		got = append(got, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
	}
	want := []string{
		"GET /repos/octo-org/hello-world 200",
		"GET /repos/octo-org/hello-world/git/ref/heads/main 200",
		"POST /repos/octo-org/hello-world/git/refs 201",
		"PUT /repos/octo-org/hello-world/contents/lock.json 201",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests of a take:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The branch is there for anyone to see, with the lock in lock.json.
	file, ok := em.File("octo-org", "hello-world", "deployment-lock/prod%2Eeu", "lock.json")
	if !ok || !strings.Contains(string(file), `"holder": "alice"`) {
		t.Fatalf("lock.json on the lock branch: %q %v", file, ok)
	}
	won, holder, err := s.Acquire(ctx, lock.Lock{Environment: "prod.eu", Holder: "bob"})
	if err != nil || won || holder.Holder != "alice" || holder.Reason != "migration `rm -rf`" || holder.PR != 3 || !holder.Created.Equal(now) {
		t.Fatalf("bob: won=%v %+v %v", won, holder, err)
	}
	ls, err := s.List(ctx)
	if err != nil || len(ls) != 1 || ls[0].Environment != "Prod.EU" {
		t.Fatalf("list: %+v %v", ls, err)
	}
	if _, err := s.Release(ctx, "PROD.EU", "bob", false); err == nil {
		t.Fatal("bob released alice's lock")
	}
	if _, err := s.Release(ctx, "prod.eu", "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, held, err := s.Get(ctx, "prod.eu"); held || err != nil {
		t.Fatalf("after release: %v %v", held, err)
	}
	if _, ok := em.File("octo-org", "hello-world", "deployment-lock/prod%2Eeu", "lock.json"); ok {
		t.Fatal("the branch outlived the release")
	}
	// Expired: taken over by the next taker.
	won, _, _ = s.Acquire(ctx, lock.Lock{Environment: "qa", Holder: "alice", Expires: now.Add(time.Hour)})
	now = now.Add(time.Hour)
	won2, l, err := s.Acquire(ctx, lock.Lock{Environment: "qa", Holder: "bob"})
	if !won || !won2 || err != nil || l.Holder != "bob" {
		t.Fatalf("take over an expired lock: %v %v %+v %v", won, won2, l, err)
	}
}

func TestConcurrentTakersAgainstTheEmulator(t *testing.T) {
	em := emulatortest.Start(t, emulator.Config{})
	var wg sync.WaitGroup
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	won := make([]bool, len(names))
	saw := make([]lock.Lock, len(names))
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			api, _ := ghapi.New(ghapi.Options{Token: "t0k3n", APIURL: em.URL()})
			var err error
			won[i], saw[i], err = lock.New(api, "octo-org", "hello-world", nil).Acquire(context.Background(), lock.Lock{Environment: "staging", Holder: n})
			if err != nil {
				t.Error(n, err)
			}
		}()
	}
	wg.Wait()
	var winners []string
	for i, w := range won {
		if w {
			winners = append(winners, names[i])
		}
	}
	if len(winners) != 1 {
		t.Fatalf("winners: %v", winners)
	}
	for i, w := range won {
		if !w && saw[i].Holder != winners[0] {
			t.Errorf("%s was told %q holds it; %s does", names[i], saw[i].Holder, winners[0])
		}
	}
}
