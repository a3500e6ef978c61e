package ghapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/google/go-github/v62/github"
)

// Defaults GitHub applies to omitted create-deployment fields; a deployment made from a request
// that omitted them carries these values.
const (
	defaultTask        = "deploy"
	defaultEnvironment = "production"
)

// findCreatedDeployment looks for the deployment that an earlier create with req may have made.
// It returns nil when there is none; more than one candidate is an error, since adopting either
// could be wrong.
func (c *Client) findCreatedDeployment(ctx context.Context, g *github.Client, owner, repo string, req *github.DeploymentRequest, firstAttempt time.Time) (*github.Deployment, error) {
	opts := &github.DeploymentsListOptions{
		Ref:         req.GetRef(),
		Task:        orDefault(req.Task, defaultTask),
		Environment: orDefault(req.Environment, defaultEnvironment),
	}
	notBefore := firstAttempt.Add(-c.retry.ClockSkew)
	ds, err := listSince(ctx, g, owner, repo, opts, notBefore)
	if err != nil {
		return nil, err
	}
	var matches []*github.Deployment
	for _, d := range ds {
		if deploymentMatches(d, req, notBefore) {
			matches = append(matches, d)
		}
	}
	switch len(matches) {
	case 0:
		return nil, nil
	case 1:
		return matches[0], nil
	default:
		ids := make([]int64, len(matches))
		for i, d := range matches {
			ids[i] = d.GetID()
		}
		return nil, permanent(fmt.Errorf("create deployment: the response was lost and %d deployments %v match the request; "+
			"refusing to guess which one is ours (put a unique id into the payload to tell them apart)", len(ids), ids))
	}
}

// FindDeployments returns the deployments matching opts' filters created at or after since, less
// the clock-skew allowance, newest first, reading as many pages as that takes.
func (c *Client) FindDeployments(ctx context.Context, owner, repo string, opts *github.DeploymentsListOptions, since time.Time) ([]*github.Deployment, error) {
	var out []*github.Deployment
	err := c.do(ctx, OpListDeployments, func(ctx context.Context, g *github.Client) error {
		var err error
		out, err = listSince(ctx, g, owner, repo, opts, since.Add(-c.retry.ClockSkew))
		return err
	})
	return out, c.finish(err)
}

// listSince pages through a filtered listing (newest first) until it passes notBefore, so that
// any number of deployments made meanwhile (other matrix legs) cannot hide the one looked for.
func listSince(ctx context.Context, g *github.Client, owner, repo string, filter *github.DeploymentsListOptions, notBefore time.Time) ([]*github.Deployment, error) {
	opts := *filter
	opts.PerPage, opts.Page = 100, 1
	var out []*github.Deployment
	for {
		page, resp, err := g.Repositories.ListDeployments(ctx, owner, repo, &opts)
		if err != nil {
			return nil, err
		}
		older := false
		for _, d := range page {
			if d.CreatedAt != nil && d.CreatedAt.Before(notBefore) {
				older = true
				continue
			}
			out = append(out, d)
		}
		if older || resp == nil || resp.NextPage == 0 || len(page) == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

func deploymentMatches(d *github.Deployment, req *github.DeploymentRequest, notBefore time.Time) bool {
	if d.GetRef() != req.GetRef() {
		return false
	}
	if d.GetTask() != orDefault(req.Task, defaultTask) {
		return false
	}
	if d.GetEnvironment() != orDefault(req.Environment, defaultEnvironment) {
		return false
	}
	if d.GetDescription() != req.GetDescription() {
		return false
	}
	if d.CreatedAt != nil && d.CreatedAt.Before(notBefore) {
		return false
	}
	return payloadEqual(req.Payload, d.Payload)
}

// payloadEqual compares the request payload with the one GitHub stored, as JSON values (key order
// and number formatting do not matter). An omitted payload matches GitHub's empty forms.
func payloadEqual(sent any, stored json.RawMessage) bool {
	var got any
	trimmed := bytes.TrimSpace(stored)
	if len(trimmed) > 0 {
		if err := json.Unmarshal(trimmed, &got); err != nil {
			return false
		}
	}
	if sent == nil {
		switch v := got.(type) {
		case nil:
			return true
		case string:
			return v == ""
		case map[string]any:
			return len(v) == 0
		}
		return false
	}
	raw, err := json.Marshal(sent)
	if err != nil {
		return false
	}
	var want any
	if err := json.Unmarshal(raw, &want); err != nil {
		return false
	}
	return reflect.DeepEqual(want, got)
}

// findCreatedStatus returns the deployment's newest status when it is the one req asked for and
// was made after the first attempt (minus clock skew); otherwise nil.
func (c *Client) findCreatedStatus(ctx context.Context, g *github.Client, owner, repo string, id int64, req *github.DeploymentStatusRequest, firstAttempt time.Time) (*github.DeploymentStatus, error) {
	ss, _, err := g.Repositories.ListDeploymentStatuses(ctx, owner, repo, id, &github.ListOptions{PerPage: 5})
	if err != nil {
		return nil, err
	}
	// GitHub lists newest first; pick by time and id anyway so the page order does not matter.
	var newest *github.DeploymentStatus
	for _, s := range ss {
		if newest == nil || newerStatus(s, newest) {
			newest = s
		}
	}
	if newest == nil || !statusMatches(newest, req, firstAttempt.Add(-c.retry.ClockSkew)) {
		return nil, nil
	}
	return newest, nil
}

func newerStatus(a, b *github.DeploymentStatus) bool {
	at, bt := a.GetCreatedAt().Time, b.GetCreatedAt().Time
	if !at.Equal(bt) {
		return at.After(bt)
	}
	return a.GetID() > b.GetID()
}

func statusMatches(s *github.DeploymentStatus, req *github.DeploymentStatusRequest, notBefore time.Time) bool {
	if s.GetState() != req.GetState() {
		return false
	}
	if req.EnvironmentURL != nil && s.GetEnvironmentURL() != req.GetEnvironmentURL() {
		return false
	}
	if req.LogURL != nil && s.GetLogURL() != req.GetLogURL() && s.GetTargetURL() != req.GetLogURL() {
		return false
	}
	if req.Environment != nil && s.Environment != nil && s.GetEnvironment() != req.GetEnvironment() {
		return false
	}
	if s.CreatedAt != nil && s.CreatedAt.Before(notBefore) {
		return false
	}
	return true
}

func orDefault(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}
