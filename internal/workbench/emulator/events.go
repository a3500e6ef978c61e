package emulator

import (
	"encoding/json"
	"fmt"
	"os"
)

// Event is a webhook event as GitHub sends it: the X-GitHub-Event name and the JSON payload.
// The scripting methods return the events they cause (the same payloads are delivered to the
// subscribed webhooks, see AddHook), so a test can hand one to the runner simulation as
// GITHUB_EVENT_PATH.
type Event struct {
	Name    string         // X-GitHub-Event: issue_comment, pull_request, check_run, ...
	Action  string         // the payload's action
	Payload map[string]any // the decoded payload (numbers are float64); the caller's own copy
	raw     []byte
}

// JSON returns the payload exactly as delivered to webhooks.
func (ev Event) JSON() []byte { return append([]byte(nil), ev.raw...) }

// WriteFile writes the payload to path (mode 0o644), as the runner writes GITHUB_EVENT_PATH.
func (ev Event) WriteFile(path string) error {
	if err := os.WriteFile(path, ev.raw, 0o644); err != nil {
		return fmt.Errorf("emulator: write %s event: %w", ev.Name, err)
	}
	return nil
}

// baseLocked is the API base URL for bodies built outside a request (the scripting methods):
// the started server's URL, or a placeholder before Start.
func (e *Emulator) baseLocked() string {
	if e.url != "" {
		return e.url
	}
	return "http://127.0.0.1"
}

// emitLocked completes a payload (repository, sender), queues it for the subscribed webhooks and
// returns it as an Event.
func (e *Emulator) emitLocked(r *repo, name string, payload obj, sender *user) Event {
	return e.emitAtLocked(r, name, e.baseLocked(), payload, sender)
}

// emitAtLocked is emitLocked with the URLs built from base (a request's).
func (e *Emulator) emitAtLocked(r *repo, name, base string, payload obj, sender *user) Event {
	if sender == nil {
		sender = actionsBot
	}
	r.addOwner(base, payload)
	payload["sender"] = sender.json(base)
	raw, err := json.Marshal(payload)
	if err != nil {
		// Only maps, slices, strings, numbers and booleans are put in payloads.
		panic(fmt.Sprintf("emulator: %s payload: %v", name, err))
	}
	ev := Event{Name: name, raw: raw}
	ev.Action, _ = payload["action"].(string)
	_ = json.Unmarshal(raw, &ev.Payload)
	e.enqueueRawLocked(r, name, raw)
	return ev
}
