package emulator

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ptrOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func (r *repo) htmlURL(base string) string { return webHost(base) + "/" + r.owner + "/" + r.name }

// rolePermissions is the permissions object of a role (repository and collaborator objects).
func rolePermissions(role string) obj {
	rank := roleRank[role]
	return obj{"admin": rank >= 5, "maintain": rank >= 4, "push": rank >= 3, "triage": rank >= 2, "pull": rank >= 1}
}

// fullRepoJSON renders full-repository for GET /repos/{o}/{r}; permissions are those of the
// token's user when it has a role, else what the token's scopes allow.
func (r *repo) fullRepoJSON(base string, u *user, p Permissions) obj {
	o := r.repoJSON(base)
	var perms obj
	if role := r.roleOf(u); role != "" {
		perms = rolePermissions(role)
	} else {
		admin := p.Administration
		push := p.level(scopeContents).atLeast(AccessWrite)
		perms = obj{"admin": admin, "maintain": admin, "push": push, "triage": push, "pull": true}
	}
	o["permissions"] = perms
	o["network_count"] = 0
	o["subscribers_count"] = 0
	o["allow_rebase_merge"] = true
	o["allow_squash_merge"] = true
	o["allow_merge_commit"] = true
	o["allow_auto_merge"] = false
	o["allow_update_branch"] = false
	o["delete_branch_on_merge"] = false
	o["use_squash_pr_title_as_default"] = false
	o["squash_merge_commit_title"] = "COMMIT_OR_PR_TITLE"
	o["squash_merge_commit_message"] = "COMMIT_MESSAGES"
	o["merge_commit_title"] = "MERGE_MESSAGE"
	o["merge_commit_message"] = "PR_TITLE"
	if r.ownerUser.typ == "Organization" {
		o["organization"] = r.ownerUser.json(base)
	}
	if r.parent != nil {
		root := r.parent
		for root.parent != nil {
			root = root.parent
		}
		o["parent"] = r.parent.repoJSON(base)
		o["source"] = root.repoJSON(base)
	}
	return o
}

func gitUser(u *user, date time.Time) obj {
	name, email := "Emulated Author", "author@example.com"
	if u != nil {
		name = u.login
		email = strconv.FormatInt(u.id, 10) + "+" + u.login + "@users.noreply.github.com"
	}
	return obj{"name": name, "email": email, "date": ts(date)}
}

func treeSHA(sha string) string { return FakeSHA("tree:" + sha) }

// commitJSON renders the commit schema (GET .../commits/{ref}); no files are emulated.
func (r *repo) commitJSON(base, sha string) obj {
	c := r.commit(sha)
	u := r.apiURL(base)
	parents := []any{}
	for _, p := range c.parents {
		parents = append(parents, obj{"sha": p, "url": u + "/commits/" + p, "html_url": r.htmlURL(base) + "/commit/" + p})
	}
	var author any
	if c.author != nil {
		author = c.author.json(base)
	}
	return obj{
		"sha": sha, "node_id": base64.StdEncoding.EncodeToString([]byte("06:Commit" + sha)),
		"url": u + "/commits/" + sha, "html_url": r.htmlURL(base) + "/commit/" + sha,
		"comments_url": u + "/commits/" + sha + "/comments",
		"commit": obj{
			"url": u + "/git/commits/" + sha, "author": gitUser(c.author, c.date), "committer": gitUser(c.author, c.date),
			"message": c.message, "comment_count": 0,
			"tree":         obj{"sha": treeSHA(sha), "url": u + "/git/trees/" + treeSHA(sha)},
			"verification": obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
		},
		"author": author, "committer": author, "parents": parents,
		"stats": obj{"additions": 0, "deletions": 0, "total": 0}, "files": []any{},
	}
}

func (r *repo) issueURL(base string, n int) string {
	return r.apiURL(base) + "/issues/" + strconv.Itoa(n)
}

func (r *repo) issueHTML(base string, is *issue) string {
	if is.pr != nil {
		return r.htmlURL(base) + "/pull/" + strconv.Itoa(is.number)
	}
	return r.htmlURL(base) + "/issues/" + strconv.Itoa(is.number)
}

func (r *repo) commentCount(is *issue) int {
	n := 0
	for _, c := range r.comments {
		if c.issue == is {
			n++
		}
	}
	return n
}

func reactionRollup(u string, rs []*reaction) obj {
	o := obj{"url": u, "total_count": len(rs)}
	for c := range reactionContents {
		o[c] = 0
	}
	for _, rc := range rs {
		o[rc.content] = o[rc.content].(int) + 1
	}
	return o
}

// pullSimpleJSON renders pull-request-simple (the list's items).
func (r *repo) pullSimpleJSON(base string, is *issue) obj {
	p := is.pr
	u := r.apiURL(base) + "/pulls/" + strconv.Itoa(is.number)
	html := r.issueHTML(base, is)
	iu := r.issueURL(base, is.number)
	statuses := r.apiURL(base) + "/statuses/" + p.headSHA
	side := func(ref, sha string, rp *repo, owner *user) obj {
		var repoObj any
		if rp != nil {
			repoObj = rp.repoJSON(base)
		}
		return obj{"label": owner.login + ":" + ref, "ref": ref, "sha": sha, "user": owner.json(base), "repo": repoObj}
	}
	link := func(h string) obj { return obj{"href": h} }
	var mergeSHA any
	if p.mergeSHA != "" {
		mergeSHA = p.mergeSHA
	}
	return obj{
		"url": u, "id": p.id, "node_id": nodeID("PullRequest", p.id), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": iu,
		"commits_url": u + "/commits", "review_comments_url": u + "/comments",
		"review_comment_url": r.apiURL(base) + "/pulls/comments{/number}", "comments_url": iu + "/comments",
		"statuses_url": statuses, "number": is.number, "state": is.state, "locked": false, "title": is.title,
		"user": is.user.json(base), "body": strOrNil(is.body), "labels": []any{}, "milestone": nil,
		"active_lock_reason": nil, "created_at": ts(is.createdAt), "updated_at": ts(is.updatedAt),
		"closed_at": tsOrNil(is.closedAt), "merged_at": tsOrNil(p.mergedAt), "merge_commit_sha": mergeSHA,
		"assignee": nil, "assignees": []any{}, "requested_reviewers": []any{}, "requested_teams": []any{},
		"head": side(p.headRef, p.headSHA, p.headRepo, p.headOwner),
		"base": side(p.baseRef, r.branches[p.baseRef], r, r.ownerUser),
		"_links": obj{
			"self": link(u), "html": link(html), "issue": link(iu), "comments": link(iu + "/comments"),
			"review_comments": link(u + "/comments"), "review_comment": link(r.apiURL(base) + "/pulls/comments{/number}"),
			"commits": link(u + "/commits"), "statuses": link(statuses),
		},
		"author_association": r.authorAssociation(is.user), "auto_merge": nil, "draft": p.draft,
	}
}

// pullJSON renders pull-request (GET .../pulls/{n}) and, with hook, the webhook's pull_request.
func (r *repo) pullJSON(base string, is *issue, hook bool) obj {
	o := r.pullSimpleJSON(base, is)
	p := is.pr
	var mergeable any
	state := "unknown"
	if is.state == "open" {
		ok := !(p.headRepo == r && r.conflicts[p.headRef])
		mergeable = ok
		switch {
		case !ok:
			state = "dirty"
		case p.draft:
			state = "draft"
		default:
			state = "clean"
		}
	}
	var mergedBy any
	if p.mergedBy != nil {
		mergedBy = p.mergedBy.json(base)
	}
	o["merged"] = p.merged
	o["mergeable"] = mergeable
	o["rebaseable"] = mergeable
	o["mergeable_state"] = state
	o["merged_by"] = mergedBy
	o["comments"] = r.commentCount(is)
	o["review_comments"] = 0
	o["maintainer_can_modify"] = p.headRepo != r && p.headRepo != nil
	o["commits"] = r.commitsAhead(p)
	o["additions"] = 0
	o["deletions"] = 0
	o["changed_files"] = 0
	if hook {
		o["allow_auto_merge"] = false
		o["delete_branch_on_merge"] = false
		o["use_squash_pr_title_as_default"] = false
	}
	return o
}

// commitsAhead counts the head's commits not on the base branch (following first parents of
// the commits the emulator made; at least 1).
func (r *repo) commitsAhead(p *pull) int {
	onBase := map[string]bool{}
	for sha, n := r.branches[p.baseRef], 0; sha != "" && n < 10000; n++ {
		onBase[sha] = true
		c := r.commitMeta[sha]
		if c == nil || len(c.parents) == 0 {
			break
		}
		sha = c.parents[0]
	}
	n := 0
	for sha := p.headSHA; sha != "" && !onBase[sha] && n < 10000; {
		n++
		c := r.commitMeta[sha]
		if c == nil && p.headRepo != nil {
			c = p.headRepo.commitMeta[sha]
		}
		if c == nil || len(c.parents) == 0 {
			break
		}
		sha = c.parents[0]
	}
	return max(n, 1)
}

// issueHookJSON renders the issue object of an issue_comment payload.
func (r *repo) issueHookJSON(base string, is *issue) obj {
	iu := r.issueURL(base, is.number)
	stateReason := any(nil)
	if is.state == "closed" {
		stateReason = "completed"
	}
	o := obj{
		"url": iu, "repository_url": r.apiURL(base), "labels_url": iu + "/labels{/name}",
		"comments_url": iu + "/comments", "events_url": iu + "/events", "html_url": r.issueHTML(base, is),
		"id": is.id, "node_id": nodeID("Issue", is.id), "number": is.number, "title": is.title,
		"user": is.user.json(base), "labels": []any{}, "state": is.state, "locked": false,
		"assignee": nil, "assignees": []any{}, "milestone": nil, "comments": r.commentCount(is),
		"created_at": ts(is.createdAt), "updated_at": ts(is.updatedAt), "closed_at": tsOrNil(is.closedAt),
		"author_association": r.authorAssociation(is.user), "active_lock_reason": nil, "body": strOrNil(is.body),
		"reactions": reactionRollup(iu+"/reactions", nil), "timeline_url": iu + "/timeline",
		"performed_via_github_app": nil, "state_reason": stateReason,
	}
	if p := is.pr; p != nil {
		html := r.issueHTML(base, is)
		o["draft"] = p.draft
		o["pull_request"] = obj{
			"url": r.apiURL(base) + "/pulls/" + strconv.Itoa(is.number), "html_url": html,
			"diff_url": html + ".diff", "patch_url": html + ".patch", "merged_at": tsOrNil(p.mergedAt),
		}
	}
	return o
}

func (r *repo) commentURL(base string, c *comment) string {
	return r.apiURL(base) + "/issues/comments/" + strconv.FormatInt(c.id, 10)
}

// commentJSON renders issue-comment (REST and webhooks).
func (r *repo) commentJSON(base string, c *comment) obj {
	u := r.commentURL(base, c)
	return obj{
		"id": c.id, "node_id": nodeID("IssueComment", c.id), "url": u,
		"html_url": r.issueHTML(base, c.issue) + "#issuecomment-" + strconv.FormatInt(c.id, 10),
		"body":     c.body, "user": c.user.json(base), "created_at": ts(c.createdAt), "updated_at": ts(c.updatedAt),
		"issue_url": r.issueURL(base, c.issue.number), "author_association": r.authorAssociation(c.user),
		"performed_via_github_app": nil, "reactions": reactionRollup(u+"/reactions", c.reactions),
	}
}

func reactionJSON(base string, rc *reaction) obj {
	return obj{"id": rc.id, "node_id": nodeID("Reaction", rc.id), "user": rc.user.json(base),
		"content": rc.content, "created_at": ts(rc.createdAt)}
}

// json renders integration (an app).
func (a *app) json(base string) obj {
	perms := obj{}
	for k, v := range a.permissions {
		perms[k] = v
	}
	events := make([]any, 0, len(a.events))
	for _, ev := range a.events {
		events = append(events, ev)
	}
	return obj{
		"id": a.id, "slug": a.slug, "node_id": nodeID("Integration", a.id), "client_id": "Iv1." + FakeSHA(a.slug)[:16],
		"owner": a.owner.json(base), "name": a.name, "description": "", "external_url": webHost(base) + "/" + a.slug,
		"html_url": webHost(base) + "/apps/" + a.slug, "created_at": ts(a.createdAt), "updated_at": ts(a.createdAt),
		"permissions": perms, "events": events,
	}
}

// minimalPulls are the pull-request-minimal objects of open same-repository pull requests whose
// head is sha (GitHub leaves out pull requests from forks).
func (r *repo) minimalPulls(base, sha string) []any {
	out := []any{}
	for _, is := range r.sortedIssues() {
		p := is.pr
		if p == nil || is.state != "open" || p.headSHA != sha || p.headRepo != r {
			continue
		}
		ref := obj{"id": r.id, "name": r.name, "url": r.apiURL(base)}
		out = append(out, obj{
			"id": p.id, "number": is.number, "url": r.apiURL(base) + "/pulls/" + strconv.Itoa(is.number),
			"head": obj{"ref": p.headRef, "sha": p.headSHA, "repo": ref},
			"base": obj{"ref": p.baseRef, "sha": r.branches[p.baseRef], "repo": ref},
		})
	}
	return out
}

func (r *repo) checkRunURL(base string, run *checkRun) string {
	return r.apiURL(base) + "/check-runs/" + strconv.FormatInt(run.id, 10)
}

func (r *repo) checkRunHTML(base string, run *checkRun) string {
	return r.htmlURL(base) + "/runs/" + strconv.FormatInt(run.id, 10)
}

// checkRunJSON renders check-run (REST).
func (r *repo) checkRunJSON(base string, run *checkRun) obj {
	u := r.checkRunURL(base, run)
	details := run.detailsURL
	if details == "" && run.app.slug == "github-actions" {
		details = r.checkRunHTML(base, run)
	}
	return obj{
		"id": run.id, "head_sha": run.headSHA, "node_id": nodeID("CheckRun", run.id),
		"external_id": run.externalID, "url": u, "html_url": r.checkRunHTML(base, run),
		"details_url": strOrNil(details), "status": run.status, "conclusion": strOrNil(run.conclusion),
		"started_at": tsOrNil(run.startedAt), "completed_at": tsOrNil(run.completedAt),
		"output": obj{"title": ptrOrNil(run.title), "summary": ptrOrNil(run.summary), "text": ptrOrNil(run.text),
			"annotations_count": 0, "annotations_url": u + "/annotations"},
		"name": run.name, "check_suite": obj{"id": run.suite.id}, "app": run.app.json(base),
		"pull_requests": r.minimalPulls(base, run.headSHA),
	}
}

// checkRunHookJSON renders check-run-with-simple-check-suite (the check_run webhook).
func (r *repo) checkRunHookJSON(base string, run *checkRun) obj {
	o := r.checkRunJSON(base, run)
	o["details_url"] = run.detailsURL
	if run.detailsURL == "" {
		o["details_url"] = r.checkRunHTML(base, run)
	}
	out := o["output"].(obj)
	for _, k := range []string{"title", "summary", "text"} {
		if out[k] == nil {
			out[k] = ""
		}
	}
	s := r.checkSuiteJSON(base, run.suite)
	delete(s, "head_commit")
	delete(s, "latest_check_runs_count")
	delete(s, "check_runs_url")
	delete(s, "rerequestable")
	delete(s, "runs_rerequestable")
	o["check_suite"] = s
	return o
}

// suiteState aggregates a suite's runs: completed once all are, with the most severe
// conclusion.
func (r *repo) suiteState(s *checkSuite) (status string, conclusion any, runs int) {
	all, any_ := true, false
	severity := map[string]int{"action_required": 7, "failure": 6, "timed_out": 5, "cancelled": 4, "stale": 3, "neutral": 1, "skipped": 0, "success": 2}
	worst := ""
	for _, run := range r.checkRuns {
		if run.suite != s {
			continue
		}
		runs++
		if run.status != "completed" {
			all = false
			if run.status == "in_progress" {
				any_ = true
			}
			continue
		}
		any_ = true
		if worst == "" || severity[run.conclusion] > severity[worst] {
			worst = run.conclusion
		}
	}
	switch {
	case all && runs > 0:
		if worst == "skipped" || worst == "neutral" {
			worst = "success"
		}
		return "completed", worst, runs
	case any_:
		return "in_progress", nil, runs
	}
	return "queued", nil, runs
}

// checkSuiteJSON renders check-suite (REST).
func (r *repo) checkSuiteJSON(base string, s *checkSuite) obj {
	status, conclusion, runs := r.suiteState(s)
	c := r.commit(s.headSHA)
	u := r.apiURL(base) + "/check-suites/" + strconv.FormatInt(s.id, 10)
	author := obj{"name": gitUser(c.author, c.date)["name"], "email": gitUser(c.author, c.date)["email"]}
	var before any
	if len(c.parents) > 0 {
		before = c.parents[0]
	}
	return obj{
		"id": s.id, "node_id": nodeID("CheckSuite", s.id), "head_branch": strOrNil(s.headBranch),
		"head_sha": s.headSHA, "status": status, "conclusion": conclusion, "url": u,
		"before": before, "after": s.headSHA, "pull_requests": r.minimalPulls(base, s.headSHA),
		"app": s.app.json(base), "repository": r.repoJSON(base),
		"created_at": ts(s.createdAt), "updated_at": ts(s.updatedAt),
		"head_commit": obj{"id": s.headSHA, "tree_id": treeSHA(s.headSHA), "message": c.message,
			"timestamp": ts(c.date), "author": author, "committer": author},
		"latest_check_runs_count": runs, "check_runs_url": u + "/check-runs",
		"rerequestable": true, "runs_rerequestable": true,
	}
}

// collaboratorJSON renders the user of the collaborator-permission answer.
func collaboratorJSON(base string, u *user, role string) obj {
	o := u.json(base)
	o["permissions"] = rolePermissions(role)
	o["role_name"] = roleName(role)
	return o
}

func roleName(role string) string {
	if role == "" {
		return "none"
	}
	return strings.ToLower(role)
}
