package server_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapp"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// The custom deployment protection rule, answered by the server from the policy file.
func TestProtectionRuleThroughTheServer(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.putPolicy("environments:\n  production:\n    checks: required\n  staging:\n")
	run := func(env, sha string) int64 {
		t.Helper()
		id, _, err := w.em.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: env, SHA: sha})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	answered := func(id int64) emulator.RunState {
		t.Helper()
		var st emulator.RunState
		w.waitFor("the answer to run", func() bool {
			var err error
			st, err = w.em.WorkflowRun(owner, repo, id)
			return err == nil && st.Answer != nil
		})
		return st
	}
	// No checks yet: production is rejected, naming the rule; staging has no rules.
	red := run("production", w.head)
	if st := answered(red); st.Answer.State != "rejected" || !strings.Contains(st.Answer.Comment, "No check has reported") {
		t.Errorf("production without checks: %+v", st.Answer)
	}
	if st := answered(run("staging", w.head)); st.Answer.State != "approved" {
		t.Errorf("staging: %+v", st.Answer)
	}
	w.greenChecks(w.head)
	if st := answered(run("production", w.head)); st.Answer.State != "approved" || !strings.Contains(st.Answer.Comment, "checks green") {
		t.Errorf("production with green checks: %+v", st.Answer)
	}
	// A freeze closes production whatever the checks say.
	now := time.Now().UTC()
	w.putPolicy(fmt.Sprintf("environments:\n  production:\n    freezes:\n      - from: %s\n        until: %s\n        reason: launch week\n",
		now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339)))
	w.greenChecks(w.head)
	if st := answered(run("production", w.head)); st.Answer.State != "rejected" || !strings.Contains(st.Answer.Comment, "launch week") {
		t.Errorf("freeze: %+v", st.Answer)
	}
	// A lock (taken from Slack) holds the environment for anyone else.
	w.putPolicy("environments:\n  production:\n    checks: required\n")
	w.greenChecks(w.head)
	w.command(maintainer, channel, "lock production release train")
	w.waitFor("the lock", func() bool {
		for _, m := range w.sl.Messages(channel) {
			if strings.Contains(m.Text, "locked `production`") {
				return true
			}
		}
		return false
	})
	if st := answered(run("production", w.head)); st.Answer.State != "rejected" || !strings.Contains(st.Answer.Comment, "locked by @mona") {
		t.Errorf("lock: %+v", st.Answer)
	}
	// A policy that does not parse denies.
	w.putPolicy("environments:\n  production:\n    soak: forever\n")
	if st := answered(run("production", w.head)); st.Answer.State != "rejected" {
		t.Errorf("bad policy: %+v", st.Answer)
	}
}

// Requests sent while the server was down are found in the App's delivery log at start and
// answered once; a redelivery afterwards changes nothing.
func TestProtectionRuleRecoveredFromTheDeliveryLog(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{noStart: true})
	w.putPolicy("environments:\n  production:\n    checks: required\n")
	w.greenChecks(w.head)
	id, _, err := w.em.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: "production", SHA: w.head})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.em.WaitDeliveries(t.Context()); err != nil {
		t.Fatal(err)
	}
	log := w.em.AppDeliveries(appID)
	if len(log) != 1 || log[0].StatusCode != 0 || log[0].Event != "deployment_protection_rule" {
		t.Fatalf("the delivery should have failed and be in the App's log: %+v", log)
	}
	w.start()
	var st emulator.RunState
	w.waitFor("the recovered answer", func() bool {
		st, _ = w.em.WorkflowRun(owner, repo, id)
		return st.Answer != nil
	})
	if st.Answer.State != "approved" {
		t.Fatalf("recovered: %+v", st.Answer)
	}
	// GitHub's redelivery of the request, asked for through the App's delivery log, changes
	// nothing: the run is answered.
	app, err := ghapp.New(ghapp.Options{AppID: fmt.Sprint(appID), PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(w.key)}), APIURL: w.em.URL()})
	if err != nil {
		t.Fatal(err)
	}
	var accepted *github.AcceptedError // 202: GitHub redelivers in the background
	if _, _, err := app.AppClient().Apps.RedeliverHookDelivery(t.Context(), log[0].ID); !errors.As(err, &accepted) {
		t.Fatalf("redeliver: %v", err)
	}
	w.waitFor("the redelivery", func() bool {
		return len(w.em.AppDeliveries(appID)) == 2 && w.em.AppDeliveries(appID)[1].StatusCode != 0
	})
	// A second replica starting (or this one restarting) recovers again: the run is no
	// longer waiting, so nothing is answered twice.
	w.stop()
	w.start()
	w.waitFor("the second start's recovery", func() bool { return strings.Contains(w.srv.logs(), "recovered from the delivery log") })
	if st, _ := w.em.WorkflowRun(owner, repo, id); st.Refused != 0 {
		t.Errorf("a second answer was sent (%d refused)", st.Refused)
	}
}

// after: through the binary, on the real clock: a commit never deployed to staging is rejected;
// one live there is held (no answer) while its soak runs and approved once it is over, by the
// server's own re-evaluation; a deploy window that is closed now rejects.
func TestProtectionRuleSoakAndWindow(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.putPolicy("environments:\n  production:\n    after: {environment: staging, soak: 2s}\n")
	request := func(env string) int64 {
		t.Helper()
		id, _, err := w.em.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: env, SHA: w.head})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	state := func(id int64) *emulator.ProtectionAnswer {
		st, err := w.em.WorkflowRun(owner, repo, id)
		if err != nil {
			t.Fatal(err)
		}
		return st.Answer
	}
	never := request("production")
	w.waitFor("the rejection", func() bool { return state(never) != nil })
	if a := state(never); a.State != "rejected" || !strings.Contains(a.Comment, "never deployed to staging") {
		t.Errorf("never in staging: %+v", a)
	}
	// Live in staging now: held for 2 s, then approved without another delivery.
	d, _, err := w.gh.Repositories.CreateDeployment(t.Context(), owner, repo, &github.DeploymentRequest{
		Ref: github.String(w.head), Environment: github.String("staging"), RequiredContexts: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	w.setStatus(d.GetID(), "success", "", "")
	held := request("production")
	w.waitFor("the server to look at it", func() bool { return strings.Contains(w.srv.logs(), fmt.Sprintf("run %d of", held)) })
	if a := state(held); a != nil {
		t.Fatalf("answered during the soak: %+v", a)
	}
	w.waitFor("the approval after the soak", func() bool { return state(held) != nil })
	if a := state(held); a.State != "approved" || !strings.Contains(a.Comment, "live in staging since") {
		t.Errorf("after the soak: %+v", a)
	}
	// A window that excludes now.
	now := time.Now().UTC()
	closed := now.Add(6 * time.Hour)
	w.putPolicy(fmt.Sprintf("environments:\n  qa:\n    windows:\n      - days: [mon, tue, wed, thu, fri, sat, sun]\n        hours: \"%02d:00-%02d:00\"\n",
		closed.Hour(), closed.Hour()+1)) // 23:00-24:00 is a window too
	qa := request("qa")
	w.waitFor("the window's rejection", func() bool { return state(qa) != nil })
	if a := state(qa); a.State != "rejected" || !strings.Contains(a.Comment, "qa is closed") {
		t.Errorf("closed window: %+v", a)
	}
}

// A request held by a soak survives a restart: the server that held it stops, a new one starts,
// finds the request in the delivery log, and approves it when the soak is over.
func TestProtectionRuleHeldAcrossARestart(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.putPolicy("environments:\n  production:\n    after: {environment: staging, soak: 3s}\n")
	d, _, err := w.gh.Repositories.CreateDeployment(t.Context(), owner, repo, &github.DeploymentRequest{
		Ref: github.String(w.head), Environment: github.String("staging"), RequiredContexts: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	w.setStatus(d.GetID(), "success", "", "")
	id, _, err := w.em.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: "production", SHA: w.head})
	if err != nil {
		t.Fatal(err)
	}
	w.waitFor("the first server to hold it", func() bool { return strings.Contains(w.srv.logs(), fmt.Sprintf("run %d of", id)) })
	w.stop()
	if st, _ := w.em.WorkflowRun(owner, repo, id); st.Answer != nil || st.Status != "waiting" {
		t.Fatalf("answered before the soak ended: %+v", st)
	}
	w.start()
	w.waitFor("the new server's approval", func() bool {
		st, _ := w.em.WorkflowRun(owner, repo, id)
		return st.Answer != nil
	})
	if st, _ := w.em.WorkflowRun(owner, repo, id); st.Answer.State != "approved" || st.Refused != 0 {
		t.Errorf("after the restart: %+v", st)
	}
}
