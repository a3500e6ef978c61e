package ghapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

func TestLostCreateResponseAdoptsDeployment(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	// An older deployment of the same ref and environment, from another run, must not be adopted.
	other := deployReq("other-run")
	c, logs := newClient(t, f, nil)
	if _, err := c.CreateDeployment(t.Context(), "o", "r", other); err != nil {
		t.Fatal(err)
	}
	f.on("create", dropConnection(true))
	d, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("ours"))
	noToken(t, err, logs)
	if err != nil {
		t.Fatal(err)
	}
	if f.creates() != 2 || f.count("create") != 2 {
		t.Errorf("deployments = %d, create requests = %d; want 2 and 2 (no duplicate)", f.creates(), f.count("create"))
	}
	var payload map[string]any
	_ = json.Unmarshal(d.Payload, &payload)
	if payload["request_id"] != "ours" || d.GetID() != 102 {
		t.Errorf("adopted %d with payload %s", d.GetID(), d.Payload)
	}
	if !strings.Contains(logs.String(), "response lost; adopted deployment 102") {
		t.Errorf("log = %q", logs)
	}
}

func TestLostCreateBeforeCommitIsRetriedOnce(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	f.on("create", dropConnection(false))
	c, _ := newClient(t, f, nil)
	d, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("r1"))
	if err != nil {
		t.Fatal(err)
	}
	if f.creates() != 1 || f.count("create") != 2 || f.count("list") != 1 || d.GetID() != 101 {
		t.Errorf("deployments=%d creates=%d lists=%d id=%d", f.creates(), f.count("create"), f.count("list"), d.GetID())
	}
}

func TestLostCreateWithTwoMatchesFails(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	c, logs := newClient(t, f, nil)
	// A caller that reuses a payload (no unique id) cannot be told apart from itself.
	if _, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("same")); err != nil {
		t.Fatal(err)
	}
	f.on("create", dropConnection(true))
	_, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("same"))
	noToken(t, err, logs)
	if err == nil || !strings.Contains(err.Error(), "2 deployments [102 101] match") {
		t.Fatalf("err = %v", err)
	}
	if f.count("create") != 2 || f.creates() != 2 {
		t.Errorf("create requests = %d, deployments = %d; no third create", f.count("create"), f.creates())
	}
}

// TestLostCreateWithStringPayload: a string payload carries no unique id, so a deployment that
// matches a lost create could be another job's identical request (a matrix leg, an earlier
// attempt). One that already carries a status is that job's (the lost create's own has none
// yet); a lone one without a status is ours; several without: the create is sent anew, and the
// log says so.
func TestLostCreateWithStringPayload(t *testing.T) {
	t.Parallel()
	stringReq := func() *github.DeploymentRequest {
		req := deployReq("")
		req.Payload = "deploy eu"
		return req
	}
	for _, tc := range []struct {
		name    string
		twin    bool // another job's identical deployment exists
		twinSts bool // and it carries a status
		wantID  int64
		creates int
		log     string
	}{
		{name: "alone", wantID: 101, creates: 1},
		{name: "beside a twin with statuses", twin: true, twinSts: true, wantID: 103, creates: 2}, // 102 is the twin's status,
		{name: "beside a twin without statuses", twin: true, wantID: 103, creates: 3, log: "creating a new one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			f := newFakeGitHub(t, clock)
			c, logs := newClient(t, f, nil)
			if tc.twin {
				twin, err := c.CreateDeployment(t.Context(), "o", "r", stringReq())
				if err != nil {
					t.Fatal(err)
				}
				if tc.twinSts {
					if _, err := c.CreateDeploymentStatus(t.Context(), "o", "r", twin.GetID(), &github.DeploymentStatusRequest{State: github.String("in_progress"),
						LogURL: github.String("https://github.com/o/r/actions/runs/1/job/1")}); err != nil {
						t.Fatal(err)
					}
				}
			}
			f.on("create", dropConnection(true))
			ctx := WithLogURL(t.Context(), "https://github.com/o/r/actions/runs/1/job/2")
			d, err := c.CreateDeployment(ctx, "o", "r", stringReq())
			noToken(t, err, logs)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if d.GetID() != tc.wantID || f.creates() != tc.creates {
				t.Errorf("got deployment %d with %d deployments made, want %d with %d", d.GetID(), f.creates(), tc.wantID, tc.creates)
			}
			if tc.log != "" && !strings.Contains(logs.String(), tc.log) {
				t.Errorf("the log does not say the create was sent anew:\n%s", logs)
			}
		})
	}
}

func TestLostCreateIgnoresOldDeploymentWithSamePayload(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	c, _ := newClient(t, f, nil)
	if _, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("same")); err != nil {
		t.Fatal(err)
	}
	clock.Sleep(t.Context(), time.Hour) // that one is an hour old, beyond the clock-skew allowance
	f.on("create", dropConnection(false))
	d, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("same"))
	if err != nil {
		t.Fatal(err)
	}
	if d.GetID() != 102 || f.creates() != 2 {
		t.Errorf("id = %d, deployments = %d; want a fresh 102", d.GetID(), f.creates())
	}
}

func TestLostStatusResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		commit      bool
		wantPosts   int
		wantAdopted bool
	}{
		{"committed: newest status matches, adopted", true, 1, true},
		{"not committed: newest differs, retried", false, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			f := newFakeGitHub(t, clock)
			c, logs := newClient(t, f, nil)
			d, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("st"))
			if err != nil {
				t.Fatal(err)
			}
			id := d.GetID()
			f.addStatus(id, "in_progress", nil, nil)
			f.on("status", dropConnection(tc.commit))
			req := &github.DeploymentStatusRequest{
				State: github.String("success"), EnvironmentURL: github.String("https://staging.example.com"),
				LogURL: github.String("https://github.com/o/r/actions/runs/1"),
			}
			s, err := c.CreateDeploymentStatus(t.Context(), "o", "r", id, req)
			noToken(t, err, logs)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.count("status"); got != tc.wantPosts {
				t.Errorf("status POSTs = %d, want %d", got, tc.wantPosts)
			}
			if f.statusCount(id) != 2 || s.GetState() != "success" || s.GetEnvironmentURL() != "https://staging.example.com" {
				t.Errorf("statuses on server = %d, returned %s %s", f.statusCount(id), s.GetState(), s.GetEnvironmentURL())
			}
			if adopted := strings.Contains(logs.String(), "adopted status"); adopted != tc.wantAdopted {
				t.Errorf("adopted = %v, log = %q", adopted, logs)
			}
		})
	}
}

func TestLostStatusWithDifferentURLIsRetried(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	c, _ := newClient(t, f, nil)
	d, _ := c.CreateDeployment(t.Context(), "o", "r", deployReq("u"))
	// The newest status has the asked-for state but a different URL: not ours.
	f.addStatus(d.GetID(), "success", github.String("https://old.example.com"), nil)
	f.on("status", respond(http.StatusBadGateway, `{"message":"bad gateway"}`))
	s, err := c.CreateDeploymentStatus(t.Context(), "o", "r", d.GetID(), &github.DeploymentStatusRequest{
		State: github.String("success"), EnvironmentURL: github.String("https://new.example.com"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.count("status") != 2 || s.GetEnvironmentURL() != "https://new.example.com" {
		t.Errorf("POSTs = %d, url = %s", f.count("status"), s.GetEnvironmentURL())
	}
}

func TestPayloadEqual(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sent   any
		stored string
		want   bool
	}{
		{map[string]any{"a": 1, "b": "x"}, `{"b":"x","a":1.0}`, true},
		{map[string]any{"a": 1}, `{"a":2}`, false},
		// Exact numbers: these two differ by 1 but are the same float64.
		{map[string]any{"id": json.Number("9007199254740993")}, `{"id":9007199254740993}`, true},
		{map[string]any{"id": json.Number("9007199254740993")}, `{"id":9007199254740992}`, false},
		{map[string]any{"n": json.Number("1e2")}, `{"n":100}`, true},
		{"text payload", `"text payload"`, true},
		{nil, `{}`, true},
		{nil, `""`, true},
		{nil, ``, true},
		{nil, `{"a":1}`, false},
		{json.RawMessage(`{"id":"z"}`), `{"id":"z"}`, true},
	} {
		if got := payloadEqual(tc.sent, json.RawMessage(tc.stored)); got != tc.want {
			t.Errorf("payloadEqual(%v, %s) = %v", tc.sent, tc.stored, got)
		}
	}
}

func TestLostCreateOnLastAttemptStillAdopted(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	// 1s backoff fits the 2s budget, the next 2s does not: the second create is the last one.
	f.on("create", respond(http.StatusBadGateway, `{"message":"Server Error"}`), dropConnection(true))
	c, logs := newClient(t, f, func(o *Options) { o.Retry.MaxElapsed = 2 * time.Second })
	d, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("last"))
	if err != nil {
		t.Fatal(err)
	}
	if d.GetID() != 101 || f.creates() != 1 || f.count("create") != 2 {
		t.Errorf("id=%d deployments=%d creates=%d", d.GetID(), f.creates(), f.count("create"))
	}
	if !strings.Contains(logs.String(), "adopted deployment 101") {
		t.Errorf("log = %q", logs)
	}
}

func TestLostStatusOnLastAttemptStillAdopted(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	c, _ := newClient(t, f, func(o *Options) { o.Retry.MaxElapsed = 2 * time.Second })
	d, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("ls"))
	if err != nil {
		t.Fatal(err)
	}
	f.on("status", respond(http.StatusBadGateway, `{"message":"Server Error"}`), dropConnection(true))
	s, err := c.CreateDeploymentStatus(t.Context(), "o", "r", d.GetID(), &github.DeploymentStatusRequest{State: github.String("failure")})
	if err != nil {
		t.Fatal(err)
	}
	if s.GetState() != "failure" || f.statusCount(d.GetID()) != 1 {
		t.Errorf("state=%s statuses=%d", s.GetState(), f.statusCount(d.GetID()))
	}
}

func TestLostCreateEveryTimeReportsBudget(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	for range 5 {
		f.on("create", dropConnection(false))
	}
	c, logs := newClient(t, f, func(o *Options) { o.Retry.MaxElapsed = 2 * time.Second })
	_, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("never"))
	noToken(t, err, logs)
	var re *RetryError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "EOF") || f.creates() != 0 {
		t.Errorf("err = %v, deployments = %d", err, f.creates())
	}
}
