package app_test

// Deployment locks through the runner simulation: /lock, /unlock and /locks comments, deploys a
// lock refuses, push deploys and ignore-locks, two /lock commands at once, and expiry, against
// the emulator (the lock is a real branch there, with lock.json on it).

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/lock"
	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// command runs one comment by login through a command job and returns the result and the
// replies the action made for it.
func (c *chatops) command(t *testing.T, login, body string, with map[string]string) (*actionsim.Result, []string, bool) {
	t.Helper()
	before := len(botComments(c.e, c.pr.Number))
	_, ev := c.comment(t, login, body)
	j := c.job(t, ev, with)
	shipped := false
	j.StepsAfter = []actionsim.Step{{ID: "ship", If: "steps.deploy.outputs.triggered == 'true'", Run: func(context.Context, *actionsim.StepRun) error {
		shipped = true
		return nil
	}}}
	res := run(t, j)
	var replies []string
	for _, cm := range botComments(c.e, c.pr.Number)[before:] {
		replies = append(replies, visible(cm.Body))
	}
	return res, replies, shipped
}

func lockFile(t *testing.T, e *emulator.Emulator, env string) (lock.Lock, bool) {
	t.Helper()
	b, ok := e.File(owner, repoName, lock.Branch(env), lock.FileName)
	if !ok {
		return lock.Lock{}, false
	}
	var l lock.Lock
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("lock.json: %v\n%s", err, b)
	}
	return l, true
}

func TestLockCommands(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	n0 := len(c.e.Requests())

	// alice locks staging; nothing is deployed, the deploy step does not run.
	res, replies, shipped := c.command(t, "alice", "/lock staging 2h testing the migration @bob `x`", nil)
	if res.Failed() || shipped || res.Outputs["triggered"] != "false" {
		t.Fatalf("/lock: errors %v, shipped %v, outputs %v", res.StageErrors, shipped, res.Outputs)
	}
	lockReqs := requestsSince(c.e, n0)
	golden(t, "lock-taken", replies)
	if len(replies) != 1 || !strings.Contains(replies[0], "@alice locked **staging** until ") ||
		!strings.Contains(replies[0], "Reason: `testing the migration @bob 'x'`") || !strings.Contains(replies[0], "`deployment-lock/staging`") {
		t.Fatalf("/lock replies %q", replies)
	}
	l, ok := lockFile(t, c.e, "staging")
	if !ok || l.Holder != "alice" || l.PR != c.pr.Number || l.Reason != "testing the migration @bob `x`" || l.Source != "comment" ||
		l.Expires.Sub(l.Created) != 2*time.Hour || !strings.Contains(l.Link, "#issuecomment-") {
		t.Fatalf("lock.json %+v (found %v)", l, ok)
	}
	if len(c.e.Deployments(owner, repoName)) != 0 {
		t.Fatal("/lock made a deployment")
	}

	// bob's /deploy staging is refused, naming alice, the reason, since when and how to unlock.
	n := len(c.e.Requests())
	res, replies, shipped = c.command(t, "bob", "/deploy staging", nil)
	refusedReqs := requestsSince(c.e, n)
	if !res.Failed() || shipped || len(c.e.Deployments(owner, repoName)) != 0 {
		t.Fatalf("bob's deploy: failed %v shipped %v deployments %d", res.Failed(), shipped, len(c.e.Deployments(owner, repoName)))
	}
	if len(replies) != 1 {
		t.Fatalf("bob got %d replies", len(replies))
	}
	golden(t, "lock-refused-deploy", replies)
	for _, s := range []string{"@bob `/deploy staging` was not run", "**staging** is locked by alice since " + l.Created.UTC().Format("2006-01-02 15:04 UTC"),
		"(`testing the migration @bob 'x'`)", "`/unlock staging`"} {
		if !strings.Contains(replies[0], s) {
			t.Errorf("bob's reply lacks %q:\n%s", s, replies[0])
		}
	}
	if strings.Contains(replies[0], "@alice") {
		t.Errorf("the reply mentions alice: %s", replies[0])
	}

	// alice deploys (any pull request: this one is bob's).
	n = len(c.e.Requests())
	res, _, shipped = c.command(t, "alice", "/deploy staging", nil)
	lockedDeployReqs := requestsSince(c.e, n)
	if res.Failed() || !shipped || len(c.e.Deployments(owner, repoName)) != 1 {
		t.Fatalf("alice's deploy: errors %v shipped %v", res.StageErrors, shipped)
	}

	// /locks lists it.
	n = len(c.e.Requests())
	res, replies, _ = c.command(t, "bob", "/locks", nil)
	listReqs := requestsSince(c.e, n)
	golden(t, "locks", replies)
	if res.Failed() || len(replies) != 1 || !strings.Contains(replies[0], "| staging | alice | `testing the migration @bob 'x'` | ") {
		t.Fatalf("/locks: %v %q", res.StageErrors, replies)
	}

	// bob cannot unlock it; the lock stays.
	res, replies, _ = c.command(t, "bob", "/unlock staging", nil)
	if !res.Failed() || len(replies) != 1 || !strings.Contains(replies[0], "only the holder or someone with the maintain or admin role can unlock it") {
		t.Fatalf("bob's unlock: failed %v %q", res.Failed(), replies)
	}
	if _, ok := lockFile(t, c.e, "staging"); !ok {
		t.Fatal("bob's refused unlock removed the lock")
	}
	// rita (read) is refused every lock command by allowed-permission.
	res, replies, _ = c.command(t, "rita", "/lock production", nil)
	if !res.Failed() || len(replies) != 1 || !strings.Contains(replies[0], "rita has the read role") {
		t.Fatalf("rita: failed %v %q", res.Failed(), replies)
	}
	// An environment outside the list is refused as for a deploy.
	res, replies, _ = c.command(t, "alice", "/lock qa", nil)
	if !res.Failed() || len(replies) != 1 || !strings.Contains(replies[0], "is not an environment this workflow deploys to") {
		t.Fatalf("/lock qa: failed %v %q", res.Failed(), replies)
	}

	// max (maintain) forces it; the reply says so.
	n = len(c.e.Requests())
	res, replies, _ = c.command(t, "max", "/unlock STAGING", nil)
	unlockReqs := requestsSince(c.e, n)
	golden(t, "lock-forced-unlock", replies)
	if res.Failed() || len(replies) != 1 || !strings.Contains(replies[0], "@max **force-unlocked** **staging**: the lock was alice's") {
		t.Fatalf("max's unlock: %v %q", res.StageErrors, replies)
	}
	if _, ok := lockFile(t, c.e, "staging"); ok {
		t.Fatal("the lock survived a forced unlock")
	}
	// Now bob deploys.
	res, _, shipped = c.command(t, "bob", "/deploy staging", nil)
	if res.Failed() || !shipped {
		t.Fatalf("bob after the unlock: %v", res.StageErrors)
	}
	// The holder unlocks her own lock; the prefix follows command.
	c.command(t, "alice", ".lock production", map[string]string{"command": ".deploy"})
	res, replies, _ = c.command(t, "alice", ".unlock production", map[string]string{"command": ".deploy"})
	if res.Failed() || len(replies) != 1 || !strings.Contains(replies[0], "@alice unlocked **production**") {
		t.Fatalf(".unlock: %v %q", res.StageErrors, replies)
	}

	t.Logf("requests per /lock: %d (%s)", len(lockReqs), strings.Join(lockReqs, ", "))
	t.Logf("requests per refused /deploy (locked): %d; per /deploy by the holder: %d", len(refusedReqs), len(lockedDeployReqs))
	t.Logf("requests per /unlock: %d (%s); per /locks with one lock: %d (%s)", len(unlockReqs), strings.Join(normalise(unlockReqs), ", "), len(listReqs), strings.Join(normalise(listReqs), ", "))
	// A /deploy reads the policy (404 here) too.
	if len(refusedReqs) != 7 || len(lockedDeployReqs) != 14 || len(unlockReqs) != 5 || len(listReqs) != 5 {
		t.Errorf("requests: refused deploy %d (want 7), holder's deploy %d (want 14), unlock %d (want 5), locks %d (want 5)",
			len(refusedReqs), len(lockedDeployReqs), len(unlockReqs), len(listReqs))
	}
	base := "/repos/" + owner + "/" + repoName
	wantLock := []string{"POST " + base + "/issues/comments/{id}/reactions", "GET " + base + "/collaborators/alice/permission",
		"GET " + base, "GET " + base + "/git/ref/heads/main", "POST " + base + "/git/refs", "PUT " + base + "/contents/lock.json",
		"POST " + base + "/issues/{n}/comments"}
	if got := strings.Join(normalise(lockReqs), "\n"); got != strings.Join(wantLock, "\n") {
		t.Errorf("requests of /lock:\n%s\nwant\n%s", got, strings.Join(wantLock, "\n"))
	}
	if !contains(lockedDeployReqs, "GET "+base+"/contents/lock.json") {
		t.Errorf("the holder's deploy did not read the lock: %v", lockedDeployReqs)
	}
}

var (
	stampRE = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d UTC`)
	ageRE   = regexp.MustCompile(`\| \d+[smhd]( \d+[mh])? \|`)
)

// golden compares the one reply with testdata/comment/<name>.md, times made stable (the binary
// runs on the real clock).
func golden(t *testing.T, name string, replies []string) {
	t.Helper()
	if len(replies) != 1 {
		t.Fatalf("%s: %d replies, want 1", name, len(replies))
	}
	got := ageRE.ReplaceAllString(stampRE.ReplaceAllString(replies[0], "2026-12-07 10:00 UTC"), "| 1m |")
	testkit.Golden(t, "testdata/comment/"+name+".md", got)
}

// normalise replaces ids in request paths, for comparisons.
func normalise(reqs []string) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		f := strings.Split(r, "/")
		for k := range f {
			if k > 0 && isDigits(f[k]) {
				if f[k-1] == "comments" {
					f[k] = "{id}"
				} else {
					f[k] = "{n}"
				}
			}
		}
		out[i] = strings.Join(f, "/")
	}
	return out
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// takeLock locks env for holder directly through the store (as the CLI or Slack would), with
// created and expires given.
func takeLock(t *testing.T, e *emulator.Emulator, l lock.Lock, now time.Time) {
	t.Helper()
	api, err := ghapi.New(ghapi.Options{Token: testTok, APIURL: e.URL()})
	if err != nil {
		t.Fatal(err)
	}
	won, _, err := lock.New(api, owner, repoName, func() time.Time { return now }).Acquire(context.Background(), l)
	if err != nil || !won {
		t.Fatalf("taking %+v: %v %v", l, won, err)
	}
}

func TestLockStopsPushDeploys(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	takeLock(t, c.e, lock.Lock{Environment: "Staging", Holder: "alice", Reason: "load test", Source: lock.SourceCLI}, time.Now())
	for _, mode := range []string{"auto", "start", "trigger"} {
		n := len(c.e.Requests())
		res := run(t, newJob(t, c.e, map[string]string{"mode": mode, "environment": "staging"}))
		if !res.Failed() || len(c.e.Deployments(owner, repoName)) != 0 {
			t.Fatalf("%s: failed %v, %d deployments", mode, res.Failed(), len(c.e.Deployments(owner, repoName)))
		}
		for _, r := range requestsSince(c.e, n) {
			if !strings.HasPrefix(r, "GET ") {
				t.Errorf("%s: a refused push deploy wrote: %s", mode, r)
			}
		}
		log := strings.Join([]string{res.Log["pre"], res.Log["main"]}, "\n")
		for _, s := range []string{"Staging is locked by alice since", `("load test")`, "ignore-locks: true"} {
			if !strings.Contains(log, s) {
				t.Errorf("%s: the log lacks %q:\n%s", mode, s, log)
			}
		}
	}
	// ignore-locks lets it through.
	res := run(t, newJob(t, c.e, map[string]string{"mode": "trigger", "environment": "staging", "ignore-locks": "true"}))
	if res.Failed() || len(c.e.Deployments(owner, repoName)) != 1 {
		t.Fatalf("ignore-locks: %v", res.StageErrors)
	}
	// wait and latest only read deployments: unaffected.
	res = run(t, newJob(t, c.e, map[string]string{"mode": "latest", "environment": "staging", "allow-none": "true"}))
	if res.Failed() {
		t.Fatalf("latest: %v", res.StageErrors)
	}
	res = run(t, newJob(t, c.e, map[string]string{"mode": "wait", "environment": "staging", "sha": c.e.Deployments(owner, repoName)[0].SHA, "wait-timeout": "5s"}))
	if res.Failed() {
		t.Fatalf("wait: %v", res.StageErrors)
	}
	// Other environments are free.
	res = run(t, newJob(t, c.e, map[string]string{"mode": "trigger", "environment": "production"}))
	if res.Failed() {
		t.Fatalf("production: %v", res.StageErrors)
	}
}

// A token that may not read contents (a workflow written before locks) still deploys, warned.
func TestLockGateWithoutContentsRead(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t, emulator.Config{Tokens: map[string]emulator.Permissions{testTok: {DeploymentsWrite: true, DeploymentsRead: true, Contents: emulator.AccessNone}}})
	res := run(t, newJob(t, e, map[string]string{"mode": "trigger", "environment": "staging"}))
	if res.Failed() || len(e.Deployments(owner, repoName)) != 1 {
		t.Fatalf("errors %v", res.StageErrors)
	}
	var warned bool
	for _, a := range res.AnnotationsAt("warning") {
		warned = warned || strings.Contains(a.Message, "could not read the lock of staging (the token lacks `permissions: contents: read`)")
	}
	if !warned {
		t.Errorf("no warning: %+v", res.Annotations)
	}
}

// /lock with a token that may only read contents fails with one reply naming the permission.
func TestLockNeedsContentsWrite(t *testing.T) {
	t.Parallel()
	p := emulator.Permissions{DeploymentsWrite: true, DeploymentsRead: true, Contents: emulator.AccessRead, Checks: emulator.AccessRead,
		Statuses: emulator.AccessRead, PullRequests: emulator.AccessWrite, Issues: emulator.AccessWrite}
	c := newChatopsWith(t, emulator.Config{Tokens: map[string]emulator.Permissions{testTok: p}})
	res, replies, _ := c.command(t, "alice", "/lock staging", nil)
	err := res.StageErrors["pre"]
	if err == nil || !strings.Contains(err.Error(), "contents: write") || len(replies) != 1 || !strings.Contains(replies[0], "contents: write") {
		t.Fatalf("pre error %v, replies %q: want both to name contents: write", err, replies)
	}
	t.Logf("reply: %s", replies[0])
}

// Expiry is checked when the lock is read: an expired lock stops nobody, and its branch stays
// until someone takes or releases the environment.
func TestExpiredLockStopsNobody(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	past := time.Now().Add(-3 * time.Hour)
	takeLock(t, c.e, lock.Lock{Environment: "staging", Holder: "alice", Expires: past.Add(time.Hour)}, past)
	res, _, shipped := c.command(t, "bob", "/deploy staging", nil)
	if res.Failed() || !shipped {
		t.Fatalf("bob's deploy through an expired lock: %v", res.StageErrors)
	}
	res, replies, _ := c.command(t, "bob", "/lock staging", nil)
	if res.Failed() || len(replies) != 1 || !strings.Contains(replies[0], "@bob locked **staging**") {
		t.Fatalf("bob's lock over an expired one: %v %q", res.StageErrors, replies)
	}
	if l, _ := lockFile(t, c.e, "staging"); l.Holder != "bob" {
		t.Fatalf("lock.json holder %q", l.Holder)
	}
}

// Two /lock staging at once (two jobs running concurrently): exactly one wins, the other is told
// who holds it.
func TestTwoLocksAtOnce(t *testing.T) {
	t.Parallel()
	c := newChatops(t)
	_, evA := c.comment(t, "alice", "/lock staging mine")
	_, evB := c.comment(t, "bob", "/lock staging no, mine")
	jobs := []*actionsim.Job{c.job(t, evA, nil), c.job(t, evB, nil)}
	results := make([]*actionsim.Result, 2)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = run(t, j)
		}()
	}
	close(start)
	wg.Wait()
	l, ok := lockFile(t, c.e, "staging")
	if !ok {
		t.Fatal("nobody holds staging")
	}
	// Both asked GitHub to create the branch; GitHub refused the second (422).
	var creates []int
	for _, r := range c.e.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/git/refs") {
			creates = append(creates, r.Status)
		}
	}
	if len(creates) != 2 || creates[0]+creates[1] != 201+422 {
		t.Fatalf("create-reference answers %v, want one 201 and one 422", creates)
	}
	winner, loser := 0, 1
	if l.Holder == "bob" {
		winner, loser = 1, 0
	}
	names := []string{"alice", "bob"}
	if results[winner].Failed() || !results[loser].Failed() {
		t.Fatalf("winner %s failed %v, loser failed %v", names[winner], results[winner].Failed(), results[loser].Failed())
	}
	var loserReplies []string
	for _, cm := range botComments(c.e, c.pr.Number) {
		if strings.HasPrefix(cm.Body, "@"+names[loser]+" ") {
			loserReplies = append(loserReplies, cm.Body)
		}
	}
	if len(loserReplies) != 1 || !strings.Contains(loserReplies[0], fmt.Sprintf("**staging** is locked by %s since", names[winner])) {
		t.Fatalf("%s's replies %q", names[loser], loserReplies)
	}
}
