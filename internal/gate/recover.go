package gate

import (
	"context"
	"time"
)

// Recovery without local state: every request GitHub sent (or failed to send while the server was
// down) is in the App's delivery log, GET /app/hook/deliveries (newest first) and
// /app/hook/deliveries/{id} (the payload). Recover walks it back to the pending limit and hands
// each deployment_protection_rule request to handle; Handle then skips runs that are no longer
// waiting, so a request is answered once however many replicas recover it or GitHub redelivers it.

// PendingLimit is how long GitHub lets a job wait for approval before failing it (docs:
// "Reviewing deployments": "If a job is not approved within 30 days, it will automatically fail").
const PendingLimit = 30 * 24 * time.Hour

// Delivery is one entry of the App's delivery log.
type Delivery struct {
	ID          int64
	GUID        string
	Event       string
	Action      string
	DeliveredAt time.Time
	Redelivery  bool
	StatusCode  int // the receiver's answer; 0 when it could not be reached
}

// DeliveryLog is the App's delivery log (JWT-authenticated; internal/ghapp implements it).
type DeliveryLog interface {
	// Deliveries returns one page, newest first, and the cursor of the next ("" on the last).
	Deliveries(ctx context.Context, cursor string) ([]Delivery, string, error)
	// Payload returns a delivery's request body.
	Payload(ctx context.Context, id int64) ([]byte, error)
}

// Recover hands every deployment_protection_rule request of the last PendingLimit to handle,
// once per GUID (a redelivery shares its original's GUID; a failed delivery is in the log too).
// Each run is decided on its own, so the order does not matter. It returns how many it handed on.
func Recover(ctx context.Context, log DeliveryLog, now time.Time, handle func(context.Context, Request) error) (int, error) {
	seen := map[string]bool{}
	n := 0
	cursor := ""
	for {
		page, next, err := log.Deliveries(ctx, cursor)
		if err != nil {
			return n, err
		}
		for _, d := range page {
			if now.Sub(d.DeliveredAt) > PendingLimit {
				return n, nil // older ones GitHub has failed already
			}
			if d.Event != "deployment_protection_rule" || d.Action != "requested" || seen[d.GUID] {
				continue
			}
			seen[d.GUID] = true
			body, err := log.Payload(ctx, d.ID)
			if err != nil {
				return n, err
			}
			req, ok, err := ParseRequest(body)
			if err != nil || !ok {
				continue // not a request we can answer; nothing to recover
			}
			n++
			if err := handle(ctx, req); err != nil {
				return n, err
			}
		}
		if next == "" || len(page) == 0 {
			return n, nil
		}
		cursor = next
	}
}
