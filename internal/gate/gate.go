// Package gate is the custom deployment protection rule: it answers GitHub's
// deployment_protection_rule webhook (action requested) by the rules of the environment in the
// repository's policy file (internal/policy).
//
// The decision is a pure function of what GitHub holds at decision time (the policy on the
// default branch, the commit's checks, the deployments of the after: environment, the lock
// branch, the run's status) and the clock, so two replicas looking at one request decide the same,
// and nothing is stored locally:
//
//   - A run that is no longer "waiting" was answered (by us or a person): no second answer.
//     GitHub refuses a second answer too (the emulator answers 422); Answer reports it as
//     ErrAnswered, which is not a failure.
//   - while a soak is not over the verdict is Pending with RecheckAt: no answer yet; the caller
//     re-evaluates then (Handle again). Nothing is lost on a restart: the run stays waiting and the
//     request can be found again in the App's delivery log.
//
// Service is what the server registers for the event (HandleEvent with the verified body); it
// schedules the next look at a Pending request. Recover walks the App's delivery log at start-up.
//
// GitHub fails a job that waits for approval for 30 days ("If a job is not approved within 30
// days, it will automatically fail", docs: Reviewing deployments). A production request held by
// after: whose commit never succeeds in staging is therefore rejected by us as soon as it cannot
// pass (never deployed there, or replaced there by another commit), not left to time out.
package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/policy"
)

// Request is a deployment_protection_rule webhook's fields the gate uses.
type Request struct {
	Owner, Repo  string
	Environment  string
	SHA, Ref     string
	Event        string
	Sender       string
	CallbackURL  string
	RunID        int64
	Installation int64
	// CheckSuite is the run's check suite (from the run, set by Handle): its own jobs' check runs
	// are left out of checks: required, as the held job cannot finish before the answer.
	CheckSuite int64
}

var callbackPath = regexp.MustCompile(`^/(?:api/v3/)?repos/([^/]+)/([^/]+)/actions/runs/([0-9]+)/deployment_protection_rule$`)

// ParseRequest reads a deployment_protection_rule payload (the signature was checked before).
// Anything but action requested is (zero, false, nil): not for the gate.
func ParseRequest(body []byte) (Request, bool, error) {
	var p struct {
		Action      string `json:"action"`
		Environment string `json:"environment"`
		Event       string `json:"event"`
		SHA         string `json:"sha"`
		Ref         string `json:"ref"`
		Callback    string `json:"deployment_callback_url"`
		Install     struct {
			ID int64 `json:"id"`
		} `json:"installation"`
		Sender struct {
			Login string `json:"login"`
		} `json:"sender"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return Request{}, false, fmt.Errorf("deployment_protection_rule payload: %w", err)
	}
	if p.Action != "requested" {
		return Request{}, false, nil
	}
	u, err := url.Parse(p.Callback)
	if err != nil || p.Environment == "" || p.SHA == "" {
		return Request{}, false, fmt.Errorf("deployment_protection_rule payload: environment, sha and deployment_callback_url are needed")
	}
	m := callbackPath.FindStringSubmatch(u.Path)
	if m == nil {
		return Request{}, false, fmt.Errorf("deployment_protection_rule payload: deployment_callback_url %q is not a run's deployment_protection_rule URL", p.Callback)
	}
	id, _ := strconv.ParseInt(m[3], 10, 64)
	return Request{Owner: m[1], Repo: m[2], Environment: p.Environment, SHA: p.SHA, Ref: p.Ref, Event: p.Event,
		Sender: p.Sender.Login, CallbackURL: p.Callback, RunID: id, Installation: p.Install.ID}, true, nil
}

// Facts is what the gate reads from GitHub for one repository.
type Facts interface {
	// RunStatus is the workflow run's status ("waiting" while rules have not all answered) and
	// its check suite id (its own jobs' check runs are left out of checks: required).
	RunStatus(ctx context.Context, runID int64) (status string, checkSuite int64, err error)
	Checks(ctx context.Context, sha string, checkSuite int64) (deploy.ChecksSeen, error)
	// Live is the deployment live in environment by latest's rule (deploy.Deployer.Live); nil
	// when none is.
	Live(ctx context.Context, environment string) (*deploy.Listed, error)
	// Lock is the environment's lock; held false when free or expired.
	Lock(ctx context.Context, environment string) (holder, reason string, held bool, err error)
}

// States of a verdict.
const (
	Approved = "approved"
	Rejected = "rejected"
	Pending  = "" // no answer yet: re-evaluate at RecheckAt
)

// Verdict is the gate's decision.
type Verdict struct {
	State     string
	Comment   string
	RecheckAt time.Time // Pending only
}

// Decide applies env's rules to req at now. Every rule is looked at in a fixed order and the first
// that rejects decides; a soak not yet over makes the verdict Pending only if nothing rejects.
func Decide(ctx context.Context, f Facts, web string, env policy.Environment, req Request, now time.Time) (Verdict, error) {
	commit := fmt.Sprintf("[%s](%s/%s/%s/commit/%s)", deploy.ShortSHA(req.SHA), web, req.Owner, req.Repo, req.SHA)
	policyLink := fmt.Sprintf("[%s](%s/%s/%s/blob/HEAD/%s)", policy.Path, web, req.Owner, req.Repo, policy.Path)
	var passed []string
	if why, closed := env.Closed(now); closed {
		return Verdict{State: Rejected, Comment: fmt.Sprintf("%s is closed: %s (%s).", req.Environment, why, policyLink)}, nil
	}
	if len(env.Windows) > 0 || len(env.Freezes) > 0 {
		passed = append(passed, "inside the deploy windows, no freeze")
	}
	// Locks apply to every environment, with rules or not.
	if holder, reason, held, err := f.Lock(ctx, req.Environment); err != nil {
		return Verdict{}, err
	} else if held && !strings.EqualFold(holder, req.Sender) {
		msg := fmt.Sprintf("%s is locked by @%s", req.Environment, holder)
		if reason != "" {
			msg += ": " + inert(reason)
		}
		return Verdict{State: Rejected, Comment: msg + ". The holder can unlock it with `/unlock " + req.Environment + "`."}, nil
	}
	if !env.HasRules() {
		return Verdict{State: Approved, Comment: fmt.Sprintf("No rules for %s in %s: approved.", req.Environment, policyLink)}, nil
	}
	if env.ChecksRequired {
		seen, err := f.Checks(ctx, req.SHA, req.CheckSuite)
		if err != nil {
			return Verdict{}, err
		}
		switch {
		case len(seen.Failed) > 0:
			return Verdict{State: Rejected, Comment: fmt.Sprintf("Checks of %s failed: %s (%s requires green checks).", commit, checkLinks(seen.Failed), policyLink)}, nil
		case len(seen.Pending) > 0:
			return Verdict{State: Rejected, Comment: fmt.Sprintf("Checks of %s are not finished: %s (%s requires green checks; re-run the job once they are).", commit, checkLinks(seen.Pending), policyLink)}, nil
		case seen.Passed == 0:
			return Verdict{State: Rejected, Comment: fmt.Sprintf("No check has reported on %s (%s requires at least one green check).", commit, policyLink)}, nil
		}
		passed = append(passed, fmt.Sprintf("%d checks green", seen.Passed))
	}
	var wait time.Time
	if a := env.After; a != nil {
		live, err := f.Live(ctx, a.Environment)
		if err != nil {
			return Verdict{}, err
		}
		standing, ready := deploy.CheckAfter(live, req.SHA, *a, now)
		switch {
		case standing == deploy.AfterNotLive && live == nil:
			return Verdict{State: Rejected, Comment: fmt.Sprintf("%s was never deployed to %s: %s needs it live there first (%s).", commit, a.Environment, req.Environment, policyLink)}, nil
		case standing == deploy.AfterNotLive:
			return Verdict{State: Rejected, Comment: fmt.Sprintf("%s is not live in %s: [%s](%s) is. Deploy %s to %s first (%s).", commit, a.Environment, deploy.ShortSHA(live.SHA), live.URL, deploy.ShortSHA(req.SHA), a.Environment, policyLink)}, nil
		case standing == deploy.AfterSoaking:
			wait = ready
		default:
			passed = append(passed, fmt.Sprintf("live in %s since %s (soak %s)", a.Environment, live.StatusAt.UTC().Format(time.RFC3339), a.Soak))
		}
	}
	if !wait.IsZero() {
		return Verdict{State: Pending, RecheckAt: wait, Comment: fmt.Sprintf("%s soaks in %s until %s.", commit, env.After.Environment, wait.UTC().Format(time.RFC3339))}, nil
	}
	return Verdict{State: Approved, Comment: fmt.Sprintf("Approved by %s for %s: %s.", policyLink, req.Environment, strings.Join(passed, "; "))}, nil
}

func checkLinks(cs []deploy.Check) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		name := inert(c.Name)
		if c.URL != "" {
			parts[i] = fmt.Sprintf("[%s](%s) (%s)", name, c.URL, c.State)
		} else {
			parts[i] = fmt.Sprintf("%s (%s)", name, c.State)
		}
	}
	return strings.Join(parts, ", ")
}

// inert keeps text from others (lock reasons, check names) from becoming markup or mentions.
func inert(s string) string {
	r := strings.NewReplacer("@", "@\u200b", "[", "\\[", "]", "\\]", "`", "'", "<", "&lt;", ">", "&gt;", "\n", " ")
	return r.Replace(s)
}

// ErrAnswered is GitHub refusing an answer because the run has one already.
var ErrAnswered = errors.New("the request was answered already")

// Answer posts the verdict to the request's callback with the installation token. The URL is
// built from apiURL and the run, not taken from the payload: the token goes to GitHub only.
func Answer(ctx context.Context, c *http.Client, apiURL, token string, req Request, v Verdict) error {
	body, _ := json.Marshal(map[string]string{"environment_name": req.Environment, "state": v.State, "comment": v.Comment})
	u := fmt.Sprintf("%s/repos/%s/%s/actions/runs/%d/deployment_protection_rule", strings.TrimRight(apiURL, "/"), url.PathEscape(req.Owner), url.PathEscape(req.Repo), req.RunID)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Header.Set("Authorization", "Bearer "+token)
	hr.Header.Set("Accept", "application/vnd.github+json")
	hr.Header.Set("Content-Type", "application/json")
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(hr)
	if err != nil {
		return fmt.Errorf("answer run %d: %w", req.RunID, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusUnprocessableEntity:
		return ErrAnswered
	}
	return fmt.Errorf("answer run %d: GitHub answered %d", req.RunID, resp.StatusCode)
}

// Gate handles requests for one repository's facts.
type Gate struct {
	APIURL   string // GitHub's API root (answers go there, whatever the payload's callback URL says)
	Policies *policy.Loader
	Web      string // https://github.com
	Now      func() time.Time
}

// Outcome is what Handle did.
type Outcome struct {
	Verdict  Verdict
	Answered bool // an answer was posted now
	Skipped  bool // the run was not waiting: answered before (a redelivery, another replica)
}

// Handle decides req and answers it unless the verdict is Pending. A bad or unreadable policy
// file rejects, naming the problem.
func (g *Gate) Handle(ctx context.Context, f Facts, pf policy.Fetcher, client *http.Client, token string, req Request) (Outcome, error) {
	status, suite, err := f.RunStatus(ctx, req.RunID)
	if err != nil {
		return Outcome{}, err
	}
	req.CheckSuite = suite
	if status != "waiting" {
		return Outcome{Skipped: true}, nil
	}
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	var v Verdict
	p, err := g.Policies.Load(ctx, pf, req.Owner, req.Repo)
	var fe *policy.FileError
	switch {
	case errors.As(err, &fe):
		v = Verdict{State: Rejected, Comment: "Rejected: " + fe.Error()}
	case err != nil:
		return Outcome{}, err // no answer: the request stays waiting and is retried
	default:
		env, _ := p.Environment(req.Environment)
		v, err = Decide(ctx, f, g.Web, env, req, now())
		if err != nil {
			return Outcome{}, err
		}
	}
	if v.State == Pending {
		return Outcome{Verdict: v}, nil
	}
	switch err := Answer(ctx, client, g.APIURL, token, req, v); {
	case errors.Is(err, ErrAnswered):
		return Outcome{Verdict: v, Skipped: true}, nil
	case err != nil:
		return Outcome{Verdict: v}, err
	}
	return Outcome{Verdict: v, Answered: true}, nil
}
