package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is the error of a Script stopped because the emulator was closed (or Stop called)
// before all its steps ran.
var ErrClosed = errors.New("emulator: script stopped before its last step")

// Step is one step of a Script: after waiting After (real time, from the end of the previous
// step) and, when Gate is non-nil, for a receive from Gate (or its close), Do runs. A step that
// returns an error ends the script. Gate lets a test pace a script exactly (release the next
// step once it has seen the previous one) instead of relying on timing.
type Step struct {
	Name  string
	After time.Duration
	Gate  <-chan struct{}
	Do    func() error
}

// StepEvent reports a step that ran.
type StepEvent struct {
	Script string
	Index  int // 0-based
	Name   string
	Err    error     // what Do returned
	At     time.Time // the emulator's clock (Config.Now) when the step ended
}

// Script runs steps in the background, in order, until the last one, a failing one, Stop or
// the emulator's Close. Tests learn about progress from Steps (one StepEvent per step that ran,
// buffered, closed at the end) and Done/Wait, so they never sleep to order things.
type Script struct {
	name   string
	steps  chan StepEvent
	done   chan struct{}
	cancel context.CancelFunc
	mu     sync.Mutex
	err    error
}

// Run starts a script. Steps run on one goroutine, one after another.
func (e *Emulator) Run(name string, steps ...Step) *Script {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Script{name: name, steps: make(chan StepEvent, len(steps)), done: make(chan struct{}), cancel: cancel}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		cancel()
		s.finish(ErrClosed)
		return s
	}
	e.scripts[s] = struct{}{}
	e.scriptWG.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.scriptWG.Done()
		defer func() {
			e.mu.Lock()
			delete(e.scripts, s)
			e.mu.Unlock()
		}()
		s.finish(s.run(ctx, e, steps))
	}()
	return s
}

func (s *Script) run(ctx context.Context, e *Emulator, steps []Step) error {
	for i, st := range steps {
		if st.After > 0 {
			t := time.NewTimer(st.After)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ErrClosed
			}
		}
		if st.Gate != nil {
			select {
			case <-st.Gate:
			case <-ctx.Done():
				return ErrClosed
			}
		}
		if ctx.Err() != nil {
			return ErrClosed
		}
		var err error
		if st.Do != nil {
			err = st.Do()
		}
		s.steps <- StepEvent{Script: s.name, Index: i, Name: st.Name, Err: err, At: e.now()}
		if err != nil {
			return fmt.Errorf("emulator: script %s, step %d (%s): %w", s.name, i, st.Name, err)
		}
	}
	return nil
}

func (s *Script) finish(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	close(s.steps)
	close(s.done)
}

// Name is the script's name.
func (s *Script) Name() string { return s.name }

// Steps delivers a StepEvent for every step that ran and is closed when the script ends.
func (s *Script) Steps() <-chan StepEvent { return s.steps }

// Done is closed when the script has ended.
func (s *Script) Done() <-chan struct{} { return s.done }

// Err is the script's outcome once Done is closed: nil when every step ran and succeeded, the
// failing step's error, or ErrClosed.
func (s *Script) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Wait blocks until the script ends (returning Err) or ctx ends.
func (s *Script) Wait(ctx context.Context) error {
	select {
	case <-s.done:
		return s.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop ends the script before its next step (a running step finishes first).
func (s *Script) Stop() { s.cancel() }

// stopScripts stops every running script and waits for them (Close).
func (e *Emulator) stopScripts() {
	e.mu.Lock()
	for s := range e.scripts {
		s.cancel()
	}
	e.mu.Unlock()
	e.scriptWG.Wait()
}

// ---- a scripted third-party deployer ----

// Deployer describes a third-party deployment system (a bot such as vercel[bot]) that creates a
// deployment and then walks it through statuses, as its own app token would over the API.
type Deployer struct {
	// User is the bot's login (registered if unknown); "" = "deployer[bot]".
	User string
	// Owner and Name are the repository.
	Owner, Name string
	// Ref is the branch, tag or sha deployed (required); the deployment's sha is its commit.
	Ref string
	// Environment is the deployment's environment; "" = production.
	Environment string
	// Task ("" = deploy), Description and Payload (any JSON value; nil = {}) of the deployment.
	Task, Description string
	Payload           any
	// Transient and Production are the deployment's flags; Production nil = Environment is
	// "production".
	Transient  bool
	Production *bool
	// After (and Gate, when non-nil) is the wait before the deployment is created, as in Step.
	After time.Duration
	Gate  <-chan struct{}
	// Statuses are set one after another, each after its own wait.
	Statuses []DeployerStatus
}

// DeployerStatus is one status a Deployer sets.
type DeployerStatus struct {
	After time.Duration   // wait, as in Step
	Gate  <-chan struct{} // wait, as in Step

	State          string // error, failure, inactive, in_progress, queued, pending, success
	EnvironmentURL string
	LogURL         string
	Description    string
}

// DeployerRun is a running Deployer: a Script whose step 0 creates the deployment and step i
// sets Statuses[i-1].
type DeployerRun struct {
	*Script
	id atomic.Int64
}

// DeploymentID is the id of the deployment once step 0 ran (0 before).
func (d *DeployerRun) DeploymentID() int64 { return d.id.Load() }

// StartDeployer checks d and runs it in the background.
func (e *Emulator) StartDeployer(d Deployer) (*DeployerRun, error) {
	if d.User == "" {
		d.User = "deployer[bot]"
	}
	if d.Environment == "" {
		d.Environment = "production"
	}
	if d.Task == "" {
		d.Task = "deploy"
	}
	payload := json.RawMessage(`{}`)
	if d.Payload != nil {
		b, err := json.Marshal(d.Payload)
		if err != nil {
			return nil, fmt.Errorf("emulator: deployer payload: %w", err)
		}
		payload = b
	}
	for i, st := range d.Statuses {
		if !deploymentStates[st.State] {
			return nil, fmt.Errorf("emulator: deployer status %d: state %q: want error, failure, inactive, in_progress, queued, pending or success", i, st.State)
		}
		for _, u := range []string{st.EnvironmentURL, st.LogURL} {
			if pu, err := url.Parse(u); u != "" && (err != nil || (pu.Scheme != "http" && pu.Scheme != "https")) {
				return nil, fmt.Errorf("emulator: deployer status %d: %q is not an http(s) URL", i, u)
			}
		}
	}
	e.mu.Lock()
	r := e.repoLocked(d.Owner, d.Name)
	if r == nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("emulator: deployer: no repository %s/%s", d.Owner, d.Name)
	}
	if _, _, ok := r.resolveRef(d.Ref); !ok {
		e.mu.Unlock()
		return nil, fmt.Errorf("emulator: deployer: ref %q is not a branch, tag or known commit of %s/%s", d.Ref, d.Owner, d.Name)
	}
	bot := e.userLocked(d.User)
	e.mu.Unlock()

	run := &DeployerRun{}
	var dep *deployment
	steps := []Step{{Name: "create deployment", After: d.After, Gate: d.Gate, Do: func() error {
		e.mu.Lock()
		defer e.mu.Unlock()
		r := e.repoLocked(d.Owner, d.Name)
		if r == nil {
			return fmt.Errorf("no repository %s/%s", d.Owner, d.Name)
		}
		sha, _, ok := r.resolveRef(d.Ref)
		if !ok {
			return fmt.Errorf("ref %q is gone", d.Ref)
		}
		prod := strings.EqualFold(d.Environment, "production")
		if d.Production != nil {
			prod = *d.Production
		}
		dep = &deployment{ref: d.Ref, sha: sha, task: d.Task, environment: d.Environment, origEnv: d.Environment,
			payload: payload, transient: d.Transient, production: prod}
		if d.Description != "" {
			desc := d.Description
			dep.description = &desc
		}
		e.addDeploymentLocked(r, e.baseLocked(), bot, dep)
		run.id.Store(dep.id)
		return nil
	}}}
	for _, st := range d.Statuses {
		steps = append(steps, Step{Name: "status " + st.State, After: st.After, Gate: st.Gate, Do: func() error {
			e.mu.Lock()
			defer e.mu.Unlock()
			r := e.repoLocked(d.Owner, d.Name)
			if r == nil {
				return fmt.Errorf("no repository %s/%s", d.Owner, d.Name)
			}
			if _, cur := r.findDeployment(dep.id); cur == nil {
				return fmt.Errorf("deployment %d was deleted", dep.id)
			}
			e.addDeploymentStatusLocked(r, e.baseLocked(), bot, dep, &depStatus{state: st.State,
				description: st.Description, logURL: st.LogURL, environmentURL: st.EnvironmentURL}, true)
			return nil
		}})
	}
	run.Script = e.Run("deployer "+d.User+" "+strings.ToLower(d.Owner+"/"+d.Name)+" "+d.Environment, steps...)
	return run, nil
}
