package gate

import (
	"context"
	"fmt"
	"testing"
	"time"
)

type fakeLog struct {
	pages    [][]Delivery
	payloads map[int64]string
	reads    int
}

func (f *fakeLog) Deliveries(_ context.Context, cursor string) ([]Delivery, string, error) {
	i := 0
	fmt.Sscan(cursor, &i)
	next := ""
	if i+1 < len(f.pages) {
		next = fmt.Sprint(i + 1)
	}
	return f.pages[i], next, nil
}

func (f *fakeLog) Payload(_ context.Context, id int64) ([]byte, error) {
	f.reads++
	return []byte(f.payloads[id]), nil
}

func payload(run int) string {
	return fmt.Sprintf(`{"action":"requested","environment":"production","sha":"abc123","deployment_callback_url":"https://api.github.com/repos/o/r/actions/runs/%d/deployment_protection_rule"}`, run)
}

// A request delivered, one that failed to deliver (status 0 in the log, still listed), a
// redelivery of the first, another event and one older than GitHub's pending limit.
func TestRecoverWalksTheDeliveryLog(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	log := &fakeLog{
		pages: [][]Delivery{
			{
				{ID: 5, GUID: "g1", Event: "deployment_protection_rule", Action: "requested", DeliveredAt: now.Add(-time.Minute), Redelivery: true},
				{ID: 4, GUID: "g2", Event: "deployment_protection_rule", Action: "requested", DeliveredAt: now.Add(-time.Hour)},
			},
			{
				{ID: 3, GUID: "g3", Event: "deployment_status", Action: "created", DeliveredAt: now.Add(-2 * time.Hour)},
				{ID: 2, GUID: "g1", Event: "deployment_protection_rule", Action: "requested", DeliveredAt: now.Add(-3 * time.Hour)},
				{ID: 1, GUID: "g0", Event: "deployment_protection_rule", Action: "requested", DeliveredAt: now.Add(-31 * 24 * time.Hour)},
			},
		},
		payloads: map[int64]string{5: payload(11), 4: payload(12), 2: payload(11), 1: payload(10)},
	}
	var runs []int64
	n, err := Recover(context.Background(), log, now, func(_ context.Context, r Request) error {
		runs = append(runs, r.RunID)
		return nil
	})
	if err != nil || n != 2 || fmt.Sprint(runs) != "[11 12]" || log.reads != 2 {
		t.Fatalf("n=%d runs=%v reads=%d err=%v", n, runs, log.reads, err)
	}
}

func TestParseRequest(t *testing.T) {
	r, ok, err := ParseRequest([]byte(`{"action":"requested","environment":"Prod","sha":"abc","ref":"refs/heads/main","event":"push","deployment_callback_url":"https://ghe.example/api/v3/repos/o/r/actions/runs/42/deployment_protection_rule","installation":{"id":7},"sender":{"login":"mona"}}`))
	if err != nil || !ok || r.Owner != "o" || r.Repo != "r" || r.RunID != 42 || r.Installation != 7 || r.Sender != "mona" || r.Environment != "Prod" {
		t.Fatalf("%+v %v %v", r, ok, err)
	}
	if _, ok, err := ParseRequest([]byte(`{"action":"completed"}`)); ok || err != nil {
		t.Fatalf("another action: %v %v", ok, err)
	}
	for _, bad := range []string{
		`{"action":"requested","environment":"p","sha":"a","deployment_callback_url":"https://api.github.com/repos/o/r/issues/1"}`,
		`{"action":"requested","sha":"a","deployment_callback_url":"https://api.github.com/repos/o/r/actions/runs/1/deployment_protection_rule"}`,
		`not json`,
	} {
		if _, _, err := ParseRequest([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
