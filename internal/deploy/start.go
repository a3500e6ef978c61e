package deploy

import "context"

// start: main creates the deployment and sets the initial state; the workflow finishes it later
// (mode finish, or the CLI's finish).
func (d *Deployer) mainStart(ctx context.Context, j Job, r *Report) error { return d.start(ctx, j, r) }
