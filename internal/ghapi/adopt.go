package ghapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
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
	ids := make([]int64, len(matches))
	for i, d := range matches {
		ids[i] = d.GetID()
	}
	switch {
	case len(matches) == 0:
		return nil, nil
	case !identifiable(req.Payload):
		return c.ownAmongTwins(ctx, g, owner, repo, matches, logURLFrom(ctx))
	case len(matches) > 1:
		return nil, permanent(&UnknownOutcomeError{Op: OpCreateDeployment, Candidates: ids})
	}
	return matches[0], nil
}

// ownAmongTwins decides a lost create whose payload carries no id (a string), among the
// deployments that match it, all made since the first attempt: another job's identical request
// (a matrix leg, an earlier attempt) matches too. A deployment that already carries a status
// written by another job (its log_url is not this job's) is that job's; the lost create made
// none yet. Of the rest, a lone one is ours; none or several: nil, so the create is sent anew,
// which the log says (naming own, this job's log URL, when known).
func (c *Client) ownAmongTwins(ctx context.Context, g *github.Client, owner, repo string, matches []*github.Deployment, own string) (*github.Deployment, error) {
	var mine []*github.Deployment
	var others []int64
	for _, d := range matches {
		ss, _, err := g.Repositories.ListDeploymentStatuses(ctx, owner, repo, d.GetID(), &github.ListOptions{PerPage: 1})
		if err != nil {
			return nil, err
		}
		if len(ss) > 0 {
			// This job has written nothing to the deployment its lost create made: a status
			// is another job's (even one whose log URL looks like this job's, as a re-run
			// attempt's may).
			others = append(others, d.GetID())
			continue
		}
		mine = append(mine, d)
	}
	if len(mine) == 1 {
		return mine[0], nil
	}
	ids := make([]int64, len(mine))
	for i, d := range mine {
		ids[i] = d.GetID()
	}
	switch {
	case len(mine) == 0:
		c.logf("create deployment: response lost; deployments %v match the request but carry another job's statuses (this job's log URL: %s): creating this job's deployment anew", others, cmp.Or(own, "unknown"))
	default:
		c.logf("create deployment: response lost; deployments %v match the request and none has a status yet, so none can be told to be this job's "+
			"(the payload is a string): creating a new one; one of them may be left without a status", ids)
	}
	return nil, nil
}

type logURLKey struct{}

// WithLogURL tells CreateDeployment the log URL this job writes into its statuses, so that a lost
// create with a string payload can tell a twin's deployment (statuses with another log URL) from
// its own.
func WithLogURL(ctx context.Context, url string) context.Context {
	return context.WithValue(ctx, logURLKey{}, url)
}

func logURLFrom(ctx context.Context) string {
	s, _ := ctx.Value(logURLKey{}).(string)
	return s
}

// identifiable reports a payload that can tell one request from another: an object, into which
// callers put a unique id. A string (or no payload) is the same for identical requests.
func identifiable(payload any) bool {
	switch payload.(type) {
	case map[string]any:
		return true
	}
	return false
}

// UnknownOutcomeError means a create's answer was lost and the deployments that match the request
// cannot be told apart from another caller's identical request: the client neither adopts one nor
// creates a second.
type UnknownOutcomeError struct {
	Op            Op
	Candidates    []int64 // the matching deployments, newest first
	StringPayload bool    // the request had no object payload to carry a unique id
}

func (e *UnknownOutcomeError) Error() string {
	if e.StringPayload {
		return fmt.Sprintf("%s: the response was lost and deployments %v match the request, but so would another job's identical request "+
			"(the payload is not an object that could carry a unique id); refusing to adopt one or to create a second one", e.Op, e.Candidates)
	}
	return fmt.Sprintf("%s: the response was lost and %d deployments %v match the request; "+
		"refusing to guess which one is ours (put a unique id into the payload to tell them apart)", e.Op, len(e.Candidates), e.Candidates)
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
	opts.PerPage = 100
	var out []*github.Deployment
	err := EachPage(func(page int) ([]*github.Deployment, Page, error) {
		opts.Page = max(page, 1)
		ds, resp, err := g.Repositories.ListDeployments(ctx, owner, repo, &opts)
		return ds, pageOf(resp), err
	}, func(ds []*github.Deployment) (bool, error) {
		older := false
		for _, d := range ds {
			if d.CreatedAt != nil && d.CreatedAt.Before(notBefore) {
				older = true
				continue
			}
			out = append(out, d)
		}
		return !older, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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

// payloadEqual compares the request payload with the one GitHub stored, as JSON values: key order
// and number formatting do not matter, and numbers are compared exactly (an id above 2^53 is not
// rounded). An omitted payload matches GitHub's empty forms.
func payloadEqual(sent any, stored json.RawMessage) bool {
	var got any
	if trimmed := bytes.TrimSpace(stored); len(trimmed) > 0 {
		var ok bool
		if got, ok = decodeExact(trimmed); !ok {
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
	want, ok := decodeExact(raw)
	return ok && reflect.DeepEqual(want, got)
}

// decodeExact decodes JSON with every number as an exact rational in canonical form.
func decodeExact(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return canonicalNumbers(v), true
}

func canonicalNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if r, ok := new(big.Rat).SetString(x.String()); ok {
			return r.RatString()
		}
		return x.String()
	case map[string]any:
		for k, e := range x {
			x[k] = canonicalNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = canonicalNumbers(e)
		}
	}
	return v
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
