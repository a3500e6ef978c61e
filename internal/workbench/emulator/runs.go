package emulator

import (
	"fmt"
	"net/http"
	"strconv"
)

// Workflow runs, as far as custom deployment protection rules need them: a run whose job targets
// an environment with the App's rule waits (status "waiting") until the rule answers; approved,
// it moves on (in_progress), rejected, it fails (completed, failure).

type workflowRun struct {
	id                   int64
	sha, branch, event   string
	status, conclusion   string
	environment          string // the environment the waiting job targets
	answer               *ProtectionAnswer
	createdAt, updatedAt string
}

// ProtectionAnswer is what a protection rule answered for a run.
type ProtectionAnswer struct {
	Environment, State, Comment string
}

// RunState is a workflow run as tests see it.
type RunState struct {
	Status, Conclusion string
	Answer             *ProtectionAnswer // nil: no answer yet
	Refused            int               // answers refused because the run had one already
}

func (r *repo) runJSON(base string, run *workflowRun) obj {
	u := r.apiURL(base)
	ru := u + "/actions/runs/" + strconv.FormatInt(run.id, 10)
	html := webHost(base) + "/" + r.owner + "/" + r.name + "/actions/runs/" + strconv.FormatInt(run.id, 10)
	var conclusion any
	if run.conclusion != "" {
		conclusion = run.conclusion
	}
	who := obj{"name": "Monalisa Octocat", "email": "octocat@github.com"}
	return obj{
		"id": run.id, "node_id": nodeID("WorkflowRun", run.id), "name": "deploy", "head_branch": run.branch,
		"head_sha": run.sha, "path": ".github/workflows/deploy.yml", "run_number": run.id, "run_attempt": 1,
		"display_title": "deploy", "event": run.event, "status": run.status, "conclusion": conclusion,
		"workflow_id": 1, "check_suite_id": run.id + 1000000, "check_suite_node_id": nodeID("CheckSuite", run.id+1000000),
		"url": ru, "html_url": html, "pull_requests": []any{},
		"created_at": run.createdAt, "updated_at": run.updatedAt, "run_started_at": run.createdAt,
		"jobs_url": ru + "/jobs", "logs_url": ru + "/logs", "check_suite_url": u + "/check-suites/" + strconv.FormatInt(run.id+1000000, 10),
		"artifacts_url": ru + "/artifacts", "cancel_url": ru + "/cancel", "rerun_url": ru + "/rerun",
		"previous_attempt_url": nil, "workflow_url": u + "/actions/workflows/1",
		"head_commit": obj{"id": run.sha, "tree_id": FakeSHA("tree:" + run.sha), "message": "deploy", "timestamp": run.createdAt,
			"author": who, "committer": who},
		"repository": r.repoJSON(base), "head_repository": r.repoJSON(base),
	}
}

func (c *hctx) getRun() *response {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	run := c.repo.runs[id]
	if err != nil || run == nil {
		return notFound()
	}
	return jsonResponse(http.StatusOK, c.repo.runJSON(c.base, run))
}

// WorkflowRun returns the state of workflow run id of owner/name.
func (e *Emulator) WorkflowRun(owner, name string, id int64) (RunState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil || r.runs[id] == nil {
		return RunState{}, fmt.Errorf("emulator: no run %d in %s/%s", id, owner, name)
	}
	run := r.runs[id]
	st := RunState{Status: run.status, Conclusion: run.conclusion, Refused: r.refusedAnswers[id]}
	if run.answer != nil {
		a := *run.answer
		st.Answer = &a
	}
	return st, nil
}
