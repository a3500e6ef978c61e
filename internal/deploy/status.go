package deploy

import "context"

// finish and status: main adds one status to an existing deployment. finish defaults the state
// to the job's status so far; status requires it.
func (d *Deployer) mainStatus(ctx context.Context, j Job, r *Report) error {
	s := j.Settings
	r.DeploymentID = s.DeploymentID
	state := s.State
	if state == "" {
		state, _ = FinalState(s.JobStatus, s.CancelledState)
	}
	return d.status(ctx, j, r, state, s.EnvironmentURL)
}
