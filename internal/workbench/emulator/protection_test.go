package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// A run waiting for a protection rule: the webhook, the run, one answer, a second refused.
func TestProtectionRuleRun(t *testing.T) {
	a := start(t, emulator.Config{})
	rc := newReceiver(t)
	a.e.AddHook(rc.srv.URL, "", "deployment_protection_rule")
	id, ev, err := a.e.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: "Production", Sender: "mona"})
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Action, Environment, SHA, Callback string
	}
	if err := a.e.WaitDeliveries(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := rc.all()
	if len(all) != 1 || all[0].header.Get("X-GitHub-Event") != "deployment_protection_rule" {
		t.Fatalf("deliveries: %d", len(all))
	}
	body := all[0].body
	if err := json.Unmarshal(body, &struct {
		Action      *string `json:"action"`
		Environment *string `json:"environment"`
		SHA         *string `json:"sha"`
		Callback    *string `json:"deployment_callback_url"`
	}{&p.Action, &p.Environment, &p.SHA, &p.Callback}); err != nil {
		t.Fatal(err)
	}
	runURL := fmt.Sprintf("%s/actions/runs/%d", repoURL, id)
	if p.Action != "requested" || p.Environment != "Production" || p.SHA != seed.Branches["main"] || !strings.HasSuffix(p.Callback, runURL+"/deployment_protection_rule") || string(ev.JSON()) != string(body) {
		t.Fatalf("webhook: %+v", p)
	}
	if r := a.do("GET", runURL, nil).must(t, 200); r.obj()["status"] != "waiting" || r.obj()["head_sha"] != p.SHA {
		t.Fatalf("run: %s", r.raw)
	}
	if r := a.do("GET", repoURL+"/actions/runs/999999", nil); r.status != 404 {
		t.Fatalf("unknown run: %d", r.status)
	}
	if r := a.do("POST", runURL+"/deployment_protection_rule", map[string]any{"environment_name": "production", "state": "maybe"}); r.status != 422 {
		t.Fatalf("bad state: %d", r.status)
	}
	if r := a.do("POST", runURL+"/deployment_protection_rule", map[string]any{"environment_name": "staging", "state": "approved"}); r.status != 422 {
		t.Fatalf("another environment: %d", r.status)
	}
	a.do("POST", runURL+"/deployment_protection_rule", map[string]any{"environment_name": "production", "state": "rejected", "comment": "red"}).must(t, http.StatusNoContent)
	if r := a.do("POST", runURL+"/deployment_protection_rule", map[string]any{"environment_name": "production", "state": "approved"}); r.status != 422 {
		t.Fatalf("second answer: %d", r.status)
	}
	st, _ := a.e.WorkflowRun(owner, repo, id)
	if st.Status != "completed" || st.Conclusion != "failure" || st.Answer == nil || st.Answer.Comment != "red" || st.Refused != 2 {
		t.Fatalf("after: %+v", st)
	}
	if r := a.do("GET", runURL, nil).must(t, 200); r.obj()["conclusion"] != "failure" {
		t.Fatalf("run after: %s", r.raw)
	}
}

// Answering needs deployments write.
func TestProtectionAnswerNeedsDeploymentsWrite(t *testing.T) {
	a := start(t, emulator.Config{Tokens: map[string]emulator.Permissions{"test-token": {DeploymentsRead: true}}})
	id, _, err := a.e.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: "production"})
	if err != nil {
		t.Fatal(err)
	}
	if r := a.do("POST", fmt.Sprintf("%s/actions/runs/%d/deployment_protection_rule", repoURL, id), map[string]any{"environment_name": "production", "state": "approved"}); r.status != 403 {
		t.Fatalf("read-only token: %d", r.status)
	}
}
