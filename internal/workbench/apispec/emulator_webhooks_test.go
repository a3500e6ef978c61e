package apispec_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// TestEmulatorWebhooksMatchSpec checks the emulator's deployment and deployment_status webhook
// payloads against GitHub's webhook schemas (x-webhooks of the description), through the
// allow-list of known deviations (apispec.KnownViolations).
func TestEmulatorWebhooksMatchSpec(t *testing.T) {
	v := validator(t)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer sink.Close()
	e := emulatortest.Start(t, emulator.Config{})
	e.AddHook(sink.URL, "s3cret")

	post := func(path, body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.URL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "token t")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
	}
	post("/repos/octo-org/hello-world/deployments", `{"ref":"main","environment":"staging","auto_merge":false,"required_contexts":[],"payload":{"k":"v"}}`)
	post("/repos/octo-org/hello-world/deployments", `{"ref":"main","environment":"qa","auto_merge":false,"required_contexts":[],"payload":"as-string","transient_environment":true}`)
	deps := e.Deployments("octo-org", "hello-world")
	if len(deps) != 2 {
		t.Fatalf("deployments: %d", len(deps))
	}
	id := deps[0].ID
	base := "/repos/octo-org/hello-world/deployments/"
	post(base+itoa(id)+"/statuses", `{"state":"in_progress","log_url":"https://ci.example/1"}`)
	post(base+itoa(id)+"/statuses", `{"state":"success","environment_url":"https://staging.example"}`)
	post(base+itoa(id)+"/statuses", `{"state":"failure","description":"`+strings.Repeat("x", 140)+`"}`)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, d := range e.Deliveries() {
		counts[d.Event]++
		if err := v.ValidateWebhook(d.Event, d.Payload); err != nil {
			t.Errorf("emulator %s delivery %s:\n%v", d.Event, d.ID, err)
		}
	}
	if counts["deployment"] != 2 || counts["deployment_status"] != 3 {
		t.Errorf("deliveries by event: %v, want 2 deployment and 3 deployment_status", counts)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
