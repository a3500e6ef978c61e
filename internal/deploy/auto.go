package deploy

import (
	"context"
	"fmt"
)

// auto: pre creates the deployment and sets the initial state at job start, main writes the
// outputs (creating the deployment itself when pre did not: `uses: ./`, or an input pre could
// not know), and post sets the final state from the job's status.

func (d *Deployer) preAuto(ctx context.Context, j Job, r *Report) error { return d.start(ctx, j, r) }

func (d *Deployer) mainAuto(ctx context.Context, j Job, r *Report) error {
	s := j.Settings
	if id := j.State.State(KeyDeploymentID); id != "" {
		r.fromState(j.State)
		// Inputs are evaluated again in main: an environment URL known by now is the output
		// (post will put it on the final status).
		if s.EnvironmentURL != "" {
			r.EnvironmentURL = s.EnvironmentURL
		}
		if s.LogURL != "" {
			r.LogURL = s.LogURL
		}
		if r.State == "" {
			// pre created the deployment but its initial status failed: set it now.
			return d.setInitial(ctx, j, r)
		}
		return nil
	}
	if j.State.State(KeyRequestID) != "" && j.State.State(KeyFinish) != "" {
		// pre started a create and was cut off (its failure would normally end the job before
		// main): find that deployment instead of creating a second one.
		if err := d.recover(ctx, j, r); err != nil || r.DeploymentID != 0 {
			if err == nil {
				err = d.setInitial(ctx, j, r)
			}
			return err
		}
	}
	// pre did not create (a local `uses: ./` action, or it left the create to main): main does.
	r.Deferred = j.State.State(KeyDeferred)
	return d.start(ctx, j, r)
}

// postAuto sets the final state from the job's status, whatever happened before (failed
// initial status, interrupted create, cancelled job). When main never ran in a job that did not
// fail, the step was skipped by its if: (which pre ignores): the deployment is retired instead.
func (d *Deployer) postAuto(ctx context.Context, j Job, r *Report) error {
	st := j.State
	r.fromState(st)
	if r.DeploymentID == 0 {
		if err := d.recover(ctx, j, r); err != nil || r.DeploymentID == 0 {
			return err
		}
	}
	if st.State(KeyMainRan) == "" && j.Settings.JobStatus == "success" {
		if err := d.retire(ctx, r.DeploymentID, "skipped: the step's if: was false"); err != nil {
			return d.unfinished(r, err)
		}
		r.Retired, r.State = true, "inactive"
		r.Warnings = append(r.Warnings, fmt.Sprintf("This step was skipped by its if:, but GitHub runs an action's pre at job start whatever the step's if: says, "+
			"so deployment %d to %s had been created then; it has been removed. To skip the deployment, put the condition on the job (jobs.<id>.if) "+
			"or in the action's enabled input, which is evaluated at job start too.", r.DeploymentID, r.Environment))
		return nil
	}
	state, known := FinalState(j.Settings.JobStatus, j.Settings.CancelledState)
	if !known {
		r.Warnings = append(r.Warnings, fmt.Sprintf("job status %q is unknown; marking the deployment %s so it does not stay in progress", j.Settings.JobStatus, state))
	}
	if err := d.status(ctx, j, r, state, j.Settings.EnvironmentURL); err != nil {
		return d.unfinished(r, err)
	}
	return nil
}

// Unfinished is post's failure to finish a deployment: it names the deployment left as it was.
type Unfinished struct {
	ID          int64
	URL         string
	Environment string
	State       string // the state it is left in ("" when unknown)
	Err         error
}

func (e *Unfinished) Error() string {
	return fmt.Sprintf("%v; deployment %d to %s is left %s", e.Err, e.ID, e.Environment, orUnknown(e.State))
}

func (e *Unfinished) Unwrap() error { return e.Err }

func orUnknown(s string) string {
	if s == "" {
		return "without a final state"
	}
	return s
}

func (d *Deployer) unfinished(r *Report, err error) error {
	return &Unfinished{ID: r.DeploymentID, URL: r.DeploymentURL, Environment: r.Environment, State: r.State, Err: err}
}
