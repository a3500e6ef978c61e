package gate_test

import (
	"context"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/gate"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

type staticTokens string

func (s staticTokens) TokenForInstallation(context.Context, int64) (string, error) {
	return string(s), nil
}

// The service holds a request during the soak, schedules the next look for its end, and
// approves then; the same webhook delivered again changes nothing.
func TestServiceSchedulesTheEndOfTheSoak(t *testing.T) {
	w := newWorld(t, rules)
	if _, err := w.em.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "test", HeadSHA: w.sha, Status: "completed", Conclusion: "success"}); err != nil {
		t.Fatal(err)
	}
	w.deploy("staging", "success")
	w.now = w.now.Add(20 * time.Minute)
	var after time.Duration
	var later func()
	svc := &gate.Service{APIURL: w.em.URL(), Web: "https://github.com", Tokens: staticTokens(token), Now: func() time.Time { return w.now },
		Schedule: func(d time.Duration, f func()) { after, later = d, f }}
	_, ev, err := w.em.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: "production", SHA: w.sha})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.HandleEvent(context.Background(), ev.JSON()); err != nil {
		t.Fatal(err)
	}
	req, _, _ := gate.ParseRequest(ev.JSON())
	if st := w.run(req); st.Status != "waiting" || later == nil || after != 10*time.Minute {
		t.Fatalf("during the soak: %+v, next look in %s", st, after)
	}
	w.now = w.now.Add(after)
	later()
	if st := w.run(req); st.Status != "in_progress" || st.Answer == nil || st.Answer.State != "approved" {
		t.Fatalf("after the scheduled look: %+v", st)
	}
	if err := svc.HandleEvent(context.Background(), ev.JSON()); err != nil {
		t.Fatal(err)
	}
	if st := w.run(req); st.Refused != 0 || st.Answer.State != "approved" {
		t.Fatalf("after a redelivery: %+v", st)
	}
}
