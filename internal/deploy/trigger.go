package deploy

import "context"

// trigger: main creates the deployment and sets its final state (state, default success) at
// once, for consumers of deployment_status events such as Checkly.
func (d *Deployer) mainTrigger(ctx context.Context, j Job, r *Report) error {
	if err := d.create(ctx, j, r); err != nil {
		return err
	}
	state := j.Settings.State
	if state == "" {
		state = "success"
	}
	return d.status(ctx, j, r, state, j.Settings.EnvironmentURL)
}
