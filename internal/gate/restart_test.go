package gate_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/gate"
	"github.com/deployment-action/deployment-action/internal/policy"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// emulatorLog is the delivery log read from the emulator's record of its deliveries. It stands
// in for GET /app/hook/deliveries until the emulator serves the App's log (branch i21).
type emulatorLog struct {
	em  *emulator.Emulator
	now time.Time
}

func (l emulatorLog) Deliveries(context.Context, string) ([]gate.Delivery, string, error) {
	ds := l.em.Deliveries()
	var out []gate.Delivery
	for i := len(ds) - 1; i >= 0; i-- { // newest first, as GitHub lists them
		out = append(out, gate.Delivery{ID: int64(i + 1), GUID: ds[i].ID, Event: ds[i].Event, Action: "requested", DeliveredAt: l.now})
	}
	return out, "", nil
}

func (l emulatorLog) Payload(_ context.Context, id int64) ([]byte, error) {
	return l.em.Deliveries()[id-1].Payload, nil
}

// The server is down when GitHub sends the request (the delivery fails); once back (a fresh gate,
// nothing carried over) it finds the request in the delivery log, holds it while the soak runs,
// approves it after, and a later recovery answers nothing twice.
func TestMissedDeliveryAndRestart(t *testing.T) {
	w := newWorld(t, rules)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/webhook"
	ln.Close()
	w.em.AddHook(down, "s3cret", "deployment_protection_rule")
	if _, err := w.em.CreateCheckRun(owner, repo, emulator.CheckRun{Name: "test", HeadSHA: w.sha, Status: "completed", Conclusion: "success"}); err != nil {
		t.Fatal(err)
	}
	w.deploy("staging", "success")
	req := w.request("production", "octocat")
	if err := w.em.WaitDeliveries(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ds := w.em.Deliveries(); len(ds) != 1 || ds[0].Status != 0 {
		t.Fatalf("the delivery should have failed: %+v", ds)
	}
	recoverOnce := func() gate.Outcome {
		t.Helper()
		w.g = &gate.Gate{APIURL: w.em.URL(), Policies: &policy.Loader{}, Web: "https://github.com", Now: func() time.Time { return w.now }} // a restart
		var out gate.Outcome
		n, err := gate.Recover(context.Background(), emulatorLog{em: w.em, now: w.now}, w.now, func(_ context.Context, r gate.Request) error {
			if r.RunID != req.RunID {
				t.Fatalf("recovered run %d, want %d", r.RunID, req.RunID)
			}
			out = w.handle(r)
			return nil
		})
		if err != nil || n != 1 {
			t.Fatalf("recover: %d %v", n, err)
		}
		return out
	}
	w.now = w.now.Add(5 * time.Minute)
	if out := recoverOnce(); out.Verdict.State != gate.Pending || out.Answered {
		t.Fatalf("back during the soak: %+v", out)
	}
	w.now = w.now.Add(26 * time.Minute) // restarted again after the soak ended
	if out := recoverOnce(); !out.Answered || out.Verdict.State != gate.Approved {
		t.Fatalf("back after the soak: %+v", out)
	}
	if out := recoverOnce(); !out.Skipped {
		t.Fatalf("a third recovery: %+v", out)
	}
	st := w.run(req)
	if st.Status != "in_progress" || st.Refused != 0 {
		t.Fatalf("run %s: %+v", strconv.FormatInt(req.RunID, 10), st)
	}
}
