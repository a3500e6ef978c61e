package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/google/go-github/v62/github"
)

// identity is what decides which deployment a create makes. Pre saves it with the deployment, so
// that main, whose inputs are evaluated again later (values from earlier steps are empty at job
// start), can tell when they would make a different deployment, and post can find an interrupted
// create by what was really sent.
type identity struct {
	Mode          string          `json:"mode"`
	Repository    string          `json:"repository"`
	Environment   string          `json:"environment"`
	Ref           string          `json:"ref"`
	Task          string          `json:"task"`
	Payload       json.RawMessage `json:"payload,omitempty"` // the user's payload, as JSON
	StringPayload bool            `json:"string_payload,omitempty"`
	Transient     bool            `json:"transient"`
	Production    *bool           `json:"production,omitempty"`
}

func (j Job) identity() identity {
	s := j.Settings
	id := identity{Mode: s.Mode.Name, Repository: s.Owner + "/" + s.Repo, Environment: s.Environment, Ref: j.Ref, Task: s.Task,
		Transient: s.TransientEnvironment, Production: s.ProductionEnvironment}
	if s.Payload != nil {
		id.Payload, _ = json.Marshal(s.Payload) // maps marshal with sorted keys: comparable as text
	}
	_, id.StringPayload = s.Payload.(string)
	return id
}

// Change is one input whose value differs between job start and this step.
type Change struct {
	Input    string
	Was, Now string
}

// changes lists the identity inputs whose values differ between a and b, in input order.
func (a identity) changes(b identity) []Change {
	var out []Change
	add := func(input, was, now string) {
		if was != now {
			out = append(out, Change{Input: input, Was: was, Now: now})
		}
	}
	add("mode", a.Mode, b.Mode)
	add("repository", a.Repository, b.Repository)
	add("environment", a.Environment, b.Environment)
	add("ref", a.Ref, b.Ref)
	add("task", a.Task, b.Task)
	if !bytes.Equal(a.Payload, b.Payload) {
		out = append(out, Change{Input: "payload", Was: string(a.Payload), Now: string(b.Payload)})
	}
	add("transient-environment", strconv.FormatBool(a.Transient), strconv.FormatBool(b.Transient))
	add("production-environment", optBool(a.Production), optBool(b.Production))
	return out
}

func optBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// reconcile runs at the start of main. Pre acted at job start on the inputs it could see then;
// main sees them again, with values from earlier steps filled in. When they no longer describe
// the deployment pre made (another environment, ref, payload, mode; or enabled is now false),
// that deployment is retired and main goes on with its own inputs: a job never leaves a
// deployment that claims something it did not do.
func (d *Deployer) reconcile(ctx context.Context, j Job, r *Report) error {
	st := j.State
	if st.State(KeyFinish) == "" || st.State(KeyDeploymentID) == "" {
		return nil
	}
	was, ok := savedIdentity(st)
	if !ok {
		return nil
	}
	if was.Mode == j.Settings.Mode.Name && j.Settings.Mode.DecidedAtStart {
		// A command's deployment is decided by the comment, final at job start: nothing to compare.
		return nil
	}
	var why string
	var changed []Change
	switch {
	case !j.Settings.Enabled:
		why = "enabled is false at this step"
	default:
		now := j.identity()
		if j.Settings.Mode.Name != was.Mode {
			// Another mode does not reuse the deployment: only the mode is the difference.
			changed = []Change{{Input: "mode", Was: was.Mode, Now: now.Mode}}
		} else {
			changed = was.changes(now)
		}
		if len(changed) == 0 {
			return nil
		}
		parts := make([]string, len(changed))
		for i, c := range changed {
			parts[i] = fmt.Sprintf("%s was %q at job start and is %q here", c.Input, clipRunes(c.Was, 60), clipRunes(c.Now, 60))
		}
		why = strings.Join(parts, "; ")
	}
	id, _ := strconv.ParseInt(st.State(KeyDeploymentID), 10, 64)
	if err := d.retire(ctx, id, "replaced: its inputs changed after job start"); err != nil {
		return fmt.Errorf("retiring deployment %d that pre created with other inputs: %w", id, err)
	}
	for _, k := range []string{KeyFinish, KeyInputs, KeyRequestID, KeyDeploymentID, KeyDeploymentURL, KeyStatusID, KeyState, KeyEnvironment, KeyEnvironmentURL, KeyLogURL, KeyRef, KeySHA} {
		if err := st.SaveState(k, ""); err != nil {
			return fmt.Errorf("saving state: %w", err)
		}
	}
	r.Replaced = &Replaced{ID: id, Why: why, Changes: changed}
	return nil
}

// Replaced says that main removed the deployment pre had made, and why.
type Replaced struct {
	ID      int64
	Why     string
	Changes []Change
}

// retire removes a deployment this job made that must not stand: inactive first (GitHub deletes
// only inactive deployments when there are others; an inactive one claims nothing), then delete.
// One that cannot be deleted stays inactive, which is reported but not an error.
func (d *Deployer) retire(ctx context.Context, id int64, description string) error {
	if _, err := d.SetStatus(ctx, id, StatusSpec{State: "inactive", Description: description}); err != nil {
		return err
	}
	if err := d.API.DeleteDeployment(ctx, d.Owner, d.Repo, id); err != nil {
		d.debugf("deployment %d is inactive but could not be deleted: %v", id, err)
	}
	return nil
}

// unrecognisable is post's answer to an interrupted create whose payload was a string: nothing
// in such a deployment says which job made it, so the candidates are reported, not touched.
func (d *Deployer) unrecognisable(ctx context.Context, j Job, r *Report, id identity, since time.Time) error {
	deps, err := d.API.FindDeployments(ctx, d.Owner, d.Repo, &github.DeploymentsListOptions{Ref: id.Ref, Environment: id.Environment, Task: id.Task}, since)
	if err != nil {
		return Fail(err, ghapi.OpListDeployments, "")
	}
	// The same rule as a lost create's adoption (ghapi): a twin that already has a status was
	// written by another job (an interrupted create has written none); a lone twin without one,
	// made since this job's first attempt, is this job's.
	var ids []string
	var unclaimed []*github.Deployment
	for _, dep := range deps {
		if !bytes.Equal(bytes.TrimSpace(dep.Payload), id.Payload) {
			continue
		}
		ids = append(ids, strconv.FormatInt(dep.GetID(), 10))
		ss, _, err := d.API.ListDeploymentStatuses(ctx, d.Owner, d.Repo, dep.GetID(), &github.ListOptions{PerPage: 1})
		if err != nil {
			return Fail(err, ghapi.OpListDeploymentStatuses, "")
		}
		if len(ss) == 0 {
			unclaimed = append(unclaimed, dep)
		}
	}
	if len(ids) == 0 {
		r.Skipped = "the create was interrupted before GitHub made the deployment: nothing to finish"
		return nil
	}
	if len(unclaimed) == 1 {
		d.notef("the interrupted create made deployment %d (the only deployment with this string payload and no status since the create began): finishing it", unclaimed[0].GetID())
		r.Recovered = true
		return saveDeployment(j, r, unclaimed[0])
	}
	r.Warnings = append(r.Warnings, fmt.Sprintf("The create of this job's deployment was interrupted, and deployment %s of %s matches it; its payload is a string, "+
		"which carries nothing that tells this job's deployment from another job's identical one, so it was left as it is. "+
		"Check it on the environment's page; a JSON object payload lets the action recognise its own deployment.", strings.Join(ids, ", "), id.Environment))
	r.Skipped = "an interrupted create with a string payload cannot be recognised"
	return nil
}
