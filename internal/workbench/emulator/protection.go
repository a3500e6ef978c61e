package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Custom deployment protection rules: RequestDeployment starts a run that waits for the rule and
// sends the deployment_protection_rule webhook; the callback answers it once. A second answer is
// refused with 422, as GitHub refuses a review of a run with nothing pending.

// ProtectionRequest seeds a run waiting for a protection rule.
type ProtectionRequest struct {
	Environment string
	SHA, Ref    string // Ref "" = the default branch; SHA "" = its head
	Event       string // "" = push
	Sender      string // the login that started the run ("" = octocat)
	// Installation is the App installation id put in the payload (0 = the installation of an
	// App subscribed to deployment_protection_rule and installed on the repository, else 1). An
	// App's own webhook always gets its own installation's id.
	Installation int64
}

// RequestDeployment makes a waiting workflow run and delivers deployment_protection_rule
// (action requested) to the webhooks subscribed to it. It returns the run's id and the event.
func (e *Emulator) RequestDeployment(owner, name string, req ProtectionRequest) (int64, Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return 0, Event{}, fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	if req.Environment == "" {
		return 0, Event{}, fmt.Errorf("emulator: a protection request needs an environment")
	}
	ref := req.Ref
	if ref == "" {
		ref = r.defaultBranch
	}
	sha := req.SHA
	if sha == "" {
		s, _, ok := r.resolveRef(ref)
		if !ok {
			return 0, Event{}, fmt.Errorf("emulator: no ref %q in %s/%s", ref, owner, name)
		}
		sha = s
	}
	event := req.Event
	if event == "" {
		event = "push"
	}
	inst := req.Installation
	if inst == 0 {
		inst = 1
		if in := e.installationForLocked(r, "deployment_protection_rule"); in != nil {
			inst = in.id
		}
	}
	now := ts(e.now())
	run := &workflowRun{id: e.newID(), sha: sha, branch: ref, event: event, status: "waiting", environment: req.Environment, createdAt: now, updatedAt: now}
	if r.runs == nil {
		r.runs = map[int64]*workflowRun{}
		r.refusedAnswers = map[int64]int{}
	}
	r.runs[run.id] = run
	base := e.baseLocked()
	callback := r.apiURL(base) + "/actions/runs/" + strconv.FormatInt(run.id, 10) + "/deployment_protection_rule"
	payload := obj{
		"action": "requested", "environment": req.Environment, "event": event, "sha": sha, "ref": "refs/heads/" + ref,
		"deployment_callback_url": callback, "deployment": nil, "pull_requests": []any{},
		"installation": obj{"id": inst, "node_id": nodeID("Installation", inst)},
	}
	var sender *user
	if req.Sender != "" {
		sender = e.userLocked(req.Sender)
	}
	return run.id, e.emitLocked(r, "deployment_protection_rule", payload, sender), nil
}

func (c *hctx) answerProtection() *response {
	doc := docURL("actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run")
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	run := c.repo.runs[id]
	if err != nil || run == nil {
		return notFound()
	}
	f, bad := c.parseBody(doc, false)
	if bad != nil {
		return bad
	}
	env, _, bad := f.str("environment_name", doc)
	if bad != nil {
		return bad
	}
	state, _, bad := f.str("state", doc)
	if bad != nil {
		return bad
	}
	comment, _, bad := f.str("comment", doc)
	if bad != nil {
		return bad
	}
	if env == "" {
		return invalidRequest(`"environment_name" wasn't supplied.`, doc)
	}
	if state != "approved" && state != "rejected" {
		return invalidRequest(fmt.Sprintf("%q is not a member of [approved, rejected]", state), doc)
	}
	if run.answer != nil || run.status != "waiting" || !strings.EqualFold(env, run.environment) {
		c.repo.refusedAnswers[id]++
		return jsonResponse(http.StatusUnprocessableEntity, basicError("No pending deployment requests to approve or reject", doc))
	}
	run.answer = &ProtectionAnswer{Environment: env, State: state, Comment: comment}
	run.updatedAt = ts(c.e.now())
	if state == "approved" {
		run.status = "in_progress"
	} else {
		run.status, run.conclusion = "completed", "failure"
	}
	return &response{status: http.StatusNoContent, header: http.Header{}}
}

func (e *Emulator) protectionRoutes() {
	e.repoRoute("GET /repos/{owner}/{repo}/actions/runs/{id}", scopeMetadata, AccessRead, (*hctx).getRun)
	e.repoRoute("POST /repos/{owner}/{repo}/actions/runs/{id}/deployment_protection_rule", scopeDeployments, AccessWrite, (*hctx).answerProtection)
}
