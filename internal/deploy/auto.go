package deploy

import (
	"context"
	"fmt"
)

// auto: pre creates the deployment and sets the initial state at job start, main writes the
// outputs (creating the deployment itself when pre did not run, as for `uses: ./`), and post sets
// the final state from the job's status.

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
	if j.State.State(KeyRequestID) != "" {
		// pre started a create and was cut off (its failure would normally end the job before
		// main): find that deployment instead of creating a second one.
		if err := d.recover(ctx, j, r); err != nil || r.DeploymentID != 0 {
			if err == nil {
				err = d.setInitial(ctx, j, r)
			}
			return err
		}
	}
	// pre did not run (a local `uses: ./` action): main creates the deployment itself.
	return d.start(ctx, j, r)
}

// postAuto sets the final state from the job's status, whatever happened
// before (failed initial status, interrupted create, cancelled job).
func (d *Deployer) postAuto(ctx context.Context, j Job, r *Report) error {
	st := j.State
	r.fromState(st)
	if r.DeploymentID == 0 {
		if err := d.recover(ctx, j, r); err != nil || r.DeploymentID == 0 {
			return err
		}
	}
	state, known := FinalState(j.Settings.JobStatus, j.Settings.CancelledState)
	if !known {
		r.Warnings = append(r.Warnings, fmt.Sprintf("job status %q is unknown; marking the deployment %s so it does not stay in progress", j.Settings.JobStatus, state))
	}
	return d.status(ctx, j, r, state, j.Settings.EnvironmentURL)
}
