package emulator

import (
	"net/http"
	"strings"
	"time"
)

// FaultKind says what a Fault does to a matching request.
type FaultKind int

const (
	// FaultStatus answers Status (e.g. 502) with a GitHub-shaped error body, without touching
	// state.
	FaultStatus FaultKind = iota
	// FaultReset closes the connection before the request is handled (nothing changes).
	FaultReset
	// FaultLostResponse handles the request and commits its change, then drops the connection
	// without sending the response.
	FaultLostResponse
	// FaultSecondaryLimit answers 403 (or Status, e.g. 429) with GitHub's secondary-rate-limit
	// body and a Retry-After of RetryAfter seconds (default 60; negative sends 0), without touching
	// state.
	FaultSecondaryLimit
	// FaultLatency delays the response by Delay (in addition to Config.Latency).
	FaultLatency
)

func (k FaultKind) String() string {
	switch k {
	case FaultStatus:
		return "status"
	case FaultReset:
		return "reset"
	case FaultLostResponse:
		return "lost_response"
	case FaultSecondaryLimit:
		return "secondary_limit"
	case FaultLatency:
		return "latency"
	}
	return "unknown"
}

// Fault is an injected failure. Faults are tried in the order they were added; the first that
// matches a request and has uses left applies to it.
type Fault struct {
	Method       string                   // "" = any
	PathContains string                   // "" = any; matched against the path without /api/v3
	Match        func(*http.Request) bool // optional extra condition
	Kind         FaultKind
	Status       int
	RetryAfter   int
	Delay        time.Duration
	Times        int // how many matching requests it hits; 0 = 1
}

type faultState struct {
	Fault
	left int
}

// AddFault queues a fault.
func (e *Emulator) AddFault(f Fault) {
	n := f.Times
	if n <= 0 {
		n = 1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &faultState{Fault: f, left: n})
}

func (e *Emulator) takeFault(r *http.Request) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range append([]*faultState(nil), e.faults...) {
		if f.left <= 0 {
			continue
		}
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.PathContains != "" && !strings.Contains(r.URL.Path, f.PathContains) {
			continue
		}
		if f.Match != nil {
			e.mu.Unlock()
			ok := f.Match(r)
			e.mu.Lock()
			if !ok || f.left <= 0 {
				continue
			}
		}
		f.left--
		out := f.Fault
		if f.left == 0 {
			for j, g := range e.faults {
				if g == f {
					e.faults = append(e.faults[:j:j], e.faults[j+1:]...)
					break
				}
			}
		}
		return &out
	}
	return nil
}
