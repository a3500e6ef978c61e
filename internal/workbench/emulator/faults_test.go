package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// raw sends one request and returns the transport error, if any.
func (a *api) raw(method, path, body string) (*http.Response, error) {
	req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.client.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestFaultStatus(t *testing.T) {
	a := start(t, emulator.Config{})
	a.e.AddFault(emulator.Fault{Method: "POST", PathContains: "/deployments", Kind: emulator.FaultStatus, Status: 502, Times: 2})
	for i := 0; i < 2; i++ {
		res := a.do("POST", repoURL+"/deployments", map[string]any{"ref": "main"}).must(t, 502)
		if res.obj()["message"] == nil || res.header.Get("X-GitHub-Request-Id") == "" {
			t.Errorf("fault body/headers: %v %s", res.header, res.raw)
		}
	}
	eq(t, "nothing created", len(a.e.Deployments(owner, repo)), 0)
	// GET does not match; the fault is used up for POST afterwards
	a.do("GET", repoURL+"/deployments", nil).must(t, 200)
	a.createDeployment(map[string]any{"ref": "main"})
	reqs := a.e.Requests()
	eq(t, "requests", len(reqs), 4)
	eq(t, "fault recorded", reqs[0].Fault, "status")
	eq(t, "status recorded", reqs[0].Status, 502)
	eq(t, "no fault", reqs[3].Fault, "")
	eq(t, "created recorded", reqs[3].Status, 201)
}

func TestFaultReset(t *testing.T) {
	a := start(t, emulator.Config{})
	a.e.AddFault(emulator.Fault{Method: "POST", Kind: emulator.FaultReset})
	if _, err := a.raw("POST", repoURL+"/deployments", `{"ref":"main"}`); err == nil {
		t.Fatal("no error for a reset connection")
	}
	eq(t, "nothing created", len(a.e.Deployments(owner, repo)), 0)
	reqs := a.e.Requests()
	eq(t, "recorded", len(reqs), 1)
	eq(t, "status 0", reqs[0].Status, 0)
	eq(t, "fault", reqs[0].Fault, "reset")
	eq(t, "body", string(reqs[0].Body), `{"ref":"main"}`)
	a.createDeployment(map[string]any{"ref": "main"})
}

func TestFaultLostResponseCommits(t *testing.T) {
	rc := newReceiver(t)
	a := start(t, emulator.Config{})
	a.e.AddHook(rc.srv.URL, "")
	a.e.AddFault(emulator.Fault{Method: "POST", PathContains: "/deployments", Kind: emulator.FaultLostResponse})
	_, err := a.raw("POST", repoURL+"/deployments", `{"ref":"main","environment":"staging"}`)
	if err == nil {
		t.Fatal("client got a response")
	}
	deps := a.e.Deployments(owner, repo)
	if len(deps) != 1 || deps[0].Environment != "staging" {
		t.Fatalf("lost response did not commit: %+v", deps)
	}
	reqs := a.e.Requests()
	eq(t, "status 0", reqs[0].Status, 0)
	eq(t, "fault", reqs[0].Fault, "lost_response")
	// the client can find it afterwards
	res := a.do("GET", repoURL+"/deployments?environment=staging", nil).must(t, 200)
	eq(t, "found", len(res.arr()), 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.e.WaitDeliveries(ctx)
	eq(t, "webhook still sent", len(rc.all()), 1)

	// statuses too
	a.e.AddFault(emulator.Fault{Method: "POST", PathContains: "/statuses", Kind: emulator.FaultLostResponse})
	if _, err := a.raw("POST", repoURL+"/deployments/"+jsonNum(deps[0].ID)+"/statuses", `{"state":"success"}`); err == nil {
		t.Fatal("client got a response")
	}
	eq(t, "status committed", strings.Join(states(a.e.Deployments(owner, repo)[0]), ","), "success")
}

func TestFaultSecondaryLimit(t *testing.T) {
	a := start(t, emulator.Config{})
	a.e.AddFault(emulator.Fault{Kind: emulator.FaultSecondaryLimit, RetryAfter: 7})
	a.e.AddFault(emulator.Fault{Kind: emulator.FaultSecondaryLimit, Status: 429, RetryAfter: 3})
	res := a.do("POST", repoURL+"/deployments", map[string]any{"ref": "main"}).must(t, 403)
	eq(t, "retry-after", res.header.Get("Retry-After"), "7")
	if !strings.Contains(res.obj()["message"].(string), "secondary rate limit") {
		t.Errorf("message %q", res.obj()["message"])
	}
	res = a.do("GET", repoURL+"/deployments", nil).must(t, 429)
	eq(t, "retry-after 429", res.header.Get("Retry-After"), "3")
	eq(t, "nothing created", len(a.e.Deployments(owner, repo)), 0)
	eq(t, "fault name", a.e.Requests()[0].Fault, "secondary_limit")
}

func TestFaultLatencyAndMatch(t *testing.T) {
	a := start(t, emulator.Config{})
	a.e.AddFault(emulator.Fault{
		Kind: emulator.FaultLatency, Delay: 300 * time.Millisecond,
		Match: func(r *http.Request) bool { return r.URL.Query().Get("slow") == "1" },
	})
	t0 := time.Now()
	a.do("GET", repoURL+"/deployments", nil).must(t, 200)
	if d := time.Since(t0); d > 250*time.Millisecond {
		t.Errorf("unmatched request delayed %v", d)
	}
	t0 = time.Now()
	a.do("GET", repoURL+"/deployments?slow=1", nil).must(t, 200)
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Errorf("matched request took only %v", d)
	}
	eq(t, "fault", a.e.Requests()[1].Fault, "latency")
}

func TestLatencyRespectsContext(t *testing.T) {
	a := start(t, emulator.Config{Latency: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", a.base+repoURL+"/deployments", strings.NewReader(`{"ref":"main"}`))
	req.Header.Set("Authorization", "Bearer x")
	t0 := time.Now()
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	// The request was handled (a timeout after sending: the outcome is unknown to the client).
	deadline := time.Now().Add(time.Second)
	for len(a.e.Deployments(owner, repo)) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	eq(t, "handled", len(a.e.Deployments(owner, repo)), 1)
	// the server side gives up waiting too: the request is recorded as dropped soon after
	recorded := false
	for !recorded && time.Now().Before(deadline) {
		if r := a.e.Requests(); len(r) == 1 {
			eq(t, "dropped", r[0].Status, 0)
			recorded = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !recorded {
		t.Errorf("the dropped request was never recorded (requests %v)", a.e.Requests())
	}
	if d := time.Since(t0); d > 1500*time.Millisecond {
		t.Errorf("latency not cut short by the context: %v", d)
	}
}

func TestEnterprisePrefixAndRecording(t *testing.T) {
	a := start(t, emulator.Config{})
	res := a.do("POST", "/api/v3"+repoURL+"/deployments", map[string]any{"ref": "main"}).must(t, 201)
	d := res.obj()
	want := a.base + "/api/v3" + repoURL + "/deployments/" + jsonNum(d["id"])
	eq(t, "url", d["url"], any(want))
	eq(t, "Location", res.header.Get("Location"), want)
	eq(t, "statuses_url", d["statuses_url"], any(want+"/statuses"))
	eq(t, "repository_url", d["repository_url"], any(a.base+"/api/v3"+repoURL))
	st := a.do("POST", d["statuses_url"].(string), map[string]any{"state": "queued"}).must(t, 201).obj()
	a.do("GET", st["url"].(string), nil).must(t, 200)
	for i := 0; i < 3; i++ {
		a.createDeployment(map[string]any{"ref": "main"})
	}
	res = a.do("GET", "/api/v3"+repoURL+"/deployments?per_page=2", nil).must(t, 200)
	l := links(res.header.Get("Link"))
	if !strings.HasPrefix(l["next"], a.base+"/api/v3/repositories/") { // GitHub's id form
		t.Errorf("next link %q", l["next"])
	}
	a.do("GET", "/api/v3/rate_limit", nil).must(t, 200)

	reqs := a.e.Requests()
	eq(t, "path without prefix", reqs[0].Path, repoURL+"/deployments")
	eq(t, "method", reqs[0].Method, "POST")
	eq(t, "body", string(reqs[0].Body), `{"ref":"main"}`)
	eq(t, "status", reqs[0].Status, 201)
	if reqs[0].At.IsZero() {
		t.Errorf("no time recorded")
	}
	last := reqs[len(reqs)-2]
	eq(t, "query", last.RawQuery, "per_page=2")
	a.e.ResetRequests()
	eq(t, "reset", len(a.e.Requests()), 0)
}

func TestStartRefusesNonLoopback(t *testing.T) {
	e := emulator.New(emulator.Config{})
	defer e.Close()
	for _, addr := range []string{"0.0.0.0:0", ":0", "8.8.8.8:0", "example.com:0"} {
		if err := e.Start(addr); err == nil {
			t.Errorf("Start(%q) accepted", addr)
		}
	}
	if err := e.Start("localhost:0"); err != nil {
		t.Errorf("localhost: %v", err)
	}
	if !strings.HasPrefix(e.URL(), "http://127.0.0.1:") && !strings.HasPrefix(e.URL(), "http://[::1]:") {
		t.Errorf("URL %q", e.URL())
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- emulator.Serve(ctx, "127.0.0.1:0", emulator.Config{}) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if err := emulator.Serve(context.Background(), "0.0.0.0:0", emulator.Config{}); err == nil {
		t.Fatal("Serve accepted a non-loopback address")
	}
}

func TestMalformedJSONAndUnknownRoutes(t *testing.T) {
	a := startRaw(t, emulator.Config{})
	res := a.do("POST", repoURL+"/deployments", `{"ref":`).must(t, 400)
	eq(t, "message", res.obj()["message"], any("Problems parsing JSON"))
	a.do("GET", "/nope", nil).must(t, 404)
	a.do("PATCH", repoURL+"/deployments", nil).must(t, 404)
}

func TestRequestsInArrivalOrder(t *testing.T) {
	a := start(t, emulator.Config{})
	// The fault's Match runs when the request arrives, before its latency: arrived says the
	// request is in flight (no guess at how long a goroutine takes to send it).
	arrived := make(chan struct{})
	var once sync.Once
	a.e.AddFault(emulator.Fault{Kind: emulator.FaultLatency, Delay: 300 * time.Millisecond, PathContains: "/deployments",
		Match: func(*http.Request) bool { once.Do(func() { close(arrived) }); return true }})
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.raw("GET", repoURL+"/deployments", "")
	}()
	<-arrived
	a.do("GET", "/rate_limit", nil).must(t, 200)
	eq(t, "in flight not listed", len(a.e.Requests()), 1)
	<-done
	reqs := a.e.Requests()
	if len(reqs) != 2 || reqs[0].Path != repoURL+"/deployments" || reqs[1].Path != "/rate_limit" {
		t.Errorf("requests %+v", reqs)
	}
}
