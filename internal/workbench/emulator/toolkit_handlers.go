package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (e *Emulator) toolkitRoutes() {
	const (
		read  = AccessRead
		write = AccessWrite
	)
	e.repoRoute("GET /repos/{owner}/{repo}", scopeMetadata, read, (*hctx).getRepo)
	e.repoRoute("GET /repos/{owner}/{repo}/collaborators/{username}/permission", scopeMetadata, read, (*hctx).collaboratorPermission)
	e.repoRoute("GET /repos/{owner}/{repo}/pulls", scopePullRequests, read, (*hctx).listPulls)
	e.repoRoute("GET /repos/{owner}/{repo}/pulls/{number}", scopePullRequests, read, (*hctx).getPull)
	e.repoRoute("POST /repos/{owner}/{repo}/check-runs", scopeChecks, write, (*hctx).createCheckRun)
	e.repoRoute("GET /repos/{owner}/{repo}/check-runs/{id}", scopeChecks, read, (*hctx).getCheckRun)
	e.repoRoute("PATCH /repos/{owner}/{repo}/check-runs/{id}", scopeChecks, write, (*hctx).updateCheckRun)
	// issues/{number}/comments and issues/comments/{id} overlap as ServeMux patterns: one route
	// per method dispatches on the path. Each handler checks issues or pull_requests access.
	for _, m := range []string{"GET", "POST", "PATCH", "DELETE"} {
		e.repoRoute(m+" /repos/{owner}/{repo}/issues/{rest...}", scopeMetadata, read, (*hctx).issuesDispatch)
	}
}

// ---- repository, commits, collaborators ----

func (c *hctx) getRepo() *response {
	return jsonResponse(http.StatusOK, c.repo.fullRepoJSON(c.base, c.ri.user, c.ri.perms))
}

func (c *hctx) getCommit(ref string) *response {
	sha, _, ok := c.repo.resolveRef(ref)
	if !ok {
		return jsonResponse(http.StatusUnprocessableEntity, obj{"message": "No commit found for SHA: " + ref,
			"documentation_url": docURL("commits/commits#get-a-commit")})
	}
	return jsonResponse(http.StatusOK, c.repo.commitJSON(c.base, sha))
}

func (c *hctx) collaboratorPermission() *response {
	u := c.e.users[strings.ToLower(c.r.PathValue("username"))]
	if u == nil || u.typ == "Organization" {
		return notFound()
	}
	role := c.repo.roleOf(u)
	return jsonResponse(http.StatusOK, obj{
		"permission": permissionOf(role), "role_name": roleName(role), "user": collaboratorJSON(c.base, u, role),
	})
}

// ---- pull requests ----

func (c *hctx) listPulls() *response {
	doc := docURL("pulls/pulls#list-pull-requests")
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	sortBy := q.Get("sort")
	if sortBy == "" {
		sortBy = "created"
	}
	dir := q.Get("direction")
	if dir == "" {
		dir = "desc"
		if sortBy != "created" {
			dir = "asc"
		}
	}
	switch {
	case state != "open" && state != "closed" && state != "all":
		return validationFailed(doc, "PullRequest", "state", state)
	case sortBy != "created" && sortBy != "updated" && sortBy != "popularity" && sortBy != "long-running":
		return validationFailed(doc, "PullRequest", "sort", sortBy)
	case dir != "asc" && dir != "desc":
		return validationFailed(doc, "PullRequest", "direction", dir)
	}
	headOwner, headRef := c.repo.owner, q.Get("head")
	if o, b, ok := strings.Cut(headRef, ":"); ok {
		headOwner, headRef = o, b
	}
	var match []*issue
	for _, is := range c.repo.sortedIssues() {
		p := is.pr
		if p == nil || (state != "all" && is.state != state) {
			continue
		}
		if q.Get("head") != "" && (!strings.EqualFold(p.headOwner.login, headOwner) || p.headRef != headRef) {
			continue
		}
		if b := q.Get("base"); b != "" && p.baseRef != b {
			continue
		}
		match = append(match, is)
	}
	key := func(is *issue) int64 {
		switch sortBy {
		case "updated":
			return is.updatedAt.UnixNano()
		case "popularity":
			return int64(c.repo.commentCount(is))
		}
		return int64(is.number) // created, long-running
	}
	sort.SliceStable(match, func(i, j int) bool {
		ki, kj := key(match[i]), key(match[j])
		if ki == kj {
			ki, kj = int64(match[i].number), int64(match[j].number)
		}
		if dir == "desc" {
			return ki > kj
		}
		return ki < kj
	})
	return paged(c, len(match), func(i int) any { is := match[i]; return c.repo.pullSimpleJSON(c.base, is) })
}

func validationFailed(doc, resource, field, value string) *response {
	return jsonResponse(http.StatusUnprocessableEntity, obj{
		"message": "Validation Failed", "documentation_url": doc,
		"errors": []any{obj{"resource": resource, "field": field, "code": "invalid", "value": value}},
	})
}

func (c *hctx) getPull() *response {
	n, err := strconv.Atoi(c.r.PathValue("number"))
	if err != nil {
		return notFound()
	}
	is := c.repo.issues[n]
	if is == nil || is.pr == nil {
		return notFound()
	}
	return jsonResponse(http.StatusOK, c.repo.pullJSON(c.base, is, false))
}

// ---- issue comments and reactions ----

func (c *hctx) issuesDispatch() *response {
	parts := strings.Split(c.r.PathValue("rest"), "/")
	m := c.r.Method
	switch {
	case len(parts) == 2 && parts[1] == "comments" && parts[0] != "comments":
		is, bad := c.issueFromPath(parts[0], map[string]Access{"GET": AccessRead, "POST": AccessWrite}[m])
		if bad != nil {
			return bad
		}
		if m == http.MethodGet {
			return c.listComments(is)
		}
		if m == http.MethodPost {
			return c.createComment(is)
		}
	case len(parts) == 2 && parts[0] == "comments":
		lvl := map[string]Access{"GET": AccessRead, "PATCH": AccessWrite, "DELETE": AccessWrite}[m]
		cm, bad := c.commentFromPath(parts[1], lvl)
		if bad != nil {
			return bad
		}
		switch m {
		case http.MethodGet:
			return jsonResponse(http.StatusOK, c.repo.commentJSON(c.base, cm))
		case http.MethodPatch:
			return c.updateComment(cm)
		case http.MethodDelete:
			c.e.deleteCommentLocked(c.repo, cm, c.ri.user, c.base)
			return &response{status: http.StatusNoContent, header: http.Header{}}
		}
	case len(parts) == 3 && parts[0] == "comments" && parts[2] == "reactions":
		lvl := map[string]Access{"GET": AccessRead, "POST": AccessWrite}[m]
		cm, bad := c.commentFromPath(parts[1], lvl)
		if bad != nil {
			return bad
		}
		switch m {
		case http.MethodGet:
			return c.listReactions(cm)
		case http.MethodPost:
			return c.createReaction(cm)
		}
	case len(parts) == 4 && parts[0] == "comments" && parts[2] == "reactions" && m == http.MethodDelete:
		cm, bad := c.commentFromPath(parts[1], AccessWrite)
		if bad != nil {
			return bad
		}
		id, err := strconv.ParseInt(parts[3], 10, 64)
		if err != nil {
			return notFound()
		}
		for i, rc := range cm.reactions {
			if rc.id == id {
				cm.reactions = append(cm.reactions[:i:i], cm.reactions[i+1:]...)
				return &response{status: http.StatusNoContent, header: http.Header{}}
			}
		}
		return notFound()
	}
	return notFound()
}

// canIssue says whether the token reaches is at lvl: issues access, or pull_requests access for
// a pull request's conversation.
func (c *hctx) canIssue(is *issue, lvl Access) bool {
	p := c.ri.perms
	return p.level(scopeIssues).atLeast(lvl) || (is.pr != nil && p.level(scopePullRequests).atLeast(lvl))
}

// issueGate refuses a token that has neither issues nor pull_requests access at lvl (before
// the addressed issue is looked up, as GitHub checks the route first).
func (c *hctx) issueGate(lvl Access) *response {
	if lvl == "" {
		return notFound()
	}
	p := c.ri.perms
	if !p.level(scopeIssues).atLeast(lvl) && !p.level(scopePullRequests).atLeast(lvl) {
		return forbidden()
	}
	return nil
}

func (c *hctx) issueFromPath(num string, lvl Access) (*issue, *response) {
	if bad := c.issueGate(lvl); bad != nil {
		return nil, bad
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return nil, notFound()
	}
	is := c.repo.issues[n]
	if is == nil {
		return nil, notFound()
	}
	if !c.canIssue(is, lvl) {
		return nil, forbidden()
	}
	return is, nil
}

func (c *hctx) commentFromPath(idStr string, lvl Access) (*comment, *response) {
	if bad := c.issueGate(lvl); bad != nil {
		return nil, bad
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return nil, notFound()
	}
	_, cm := c.repo.findComment(id)
	if cm == nil {
		return nil, notFound()
	}
	if !c.canIssue(cm.issue, lvl) {
		return nil, forbidden()
	}
	return cm, nil
}

func (c *hctx) listComments(is *issue) *response {
	var since time.Time
	if s := c.r.URL.Query().Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return validationFailed(docURL("issues/comments#list-issue-comments"), "IssueComment", "since", s)
		}
		since = t
	}
	var list []*comment
	for _, cm := range c.repo.comments {
		if cm.issue == is && !cm.updatedAt.Before(since) {
			list = append(list, cm)
		}
	}
	return paged(c, len(list), func(i int) any { cm := list[i]; return c.repo.commentJSON(c.base, cm) })
}

func (c *hctx) commentBody(doc string) (string, *response) {
	f, bad := c.parseBody(doc, false)
	if bad != nil {
		return "", bad
	}
	body, ok, bad := f.str("body", doc)
	if bad != nil {
		return "", bad
	}
	if !ok {
		return "", invalidRequest(`"body" wasn't supplied.`, doc)
	}
	if len(body) > 65536 {
		return "", jsonResponse(http.StatusUnprocessableEntity, obj{"message": "Validation Failed", "documentation_url": doc,
			"errors": []any{obj{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}}})
	}
	return body, nil
}

func (c *hctx) createComment(is *issue) *response {
	body, bad := c.commentBody(docURL("issues/comments#create-an-issue-comment"))
	if bad != nil {
		return bad
	}
	cm, _ := c.e.addCommentLocked(c.repo, is, c.ri.user, body, c.base)
	resp := jsonResponse(http.StatusCreated, c.repo.commentJSON(c.base, cm))
	resp.header.Set("Location", c.repo.commentURL(c.base, cm))
	return resp
}

func (c *hctx) updateComment(cm *comment) *response {
	body, bad := c.commentBody(docURL("issues/comments#update-an-issue-comment"))
	if bad != nil {
		return bad
	}
	c.e.editCommentLocked(c.repo, cm, c.ri.user, body, c.base)
	return jsonResponse(http.StatusOK, c.repo.commentJSON(c.base, cm))
}

func (c *hctx) listReactions(cm *comment) *response {
	content := c.r.URL.Query().Get("content")
	if content != "" && !reactionContents[content] {
		return validationFailed(docURL("reactions/reactions#list-reactions-for-an-issue-comment"), "Reaction", "content", content)
	}
	var list []*reaction
	for _, rc := range cm.reactions {
		if content == "" || rc.content == content {
			list = append(list, rc)
		}
	}
	return paged(c, len(list), func(i int) any { rc := list[i]; return reactionJSON(c.base, rc) })
}

func (c *hctx) createReaction(cm *comment) *response {
	doc := docURL("reactions/reactions#create-reaction-for-an-issue-comment")
	f, bad := c.parseBody(doc, false)
	if bad != nil {
		return bad
	}
	content, ok, bad := f.str("content", doc)
	if bad != nil {
		return bad
	}
	if !ok {
		return invalidRequest(`"content" wasn't supplied.`, doc)
	}
	if !reactionContents[content] {
		return invalidRequest(fmt.Sprintf(`For 'properties/content', %q is not one of ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"].`, content), doc)
	}
	rc, created := c.e.reactLocked(cm, c.ri.user, content)
	st := http.StatusOK
	if created {
		st = http.StatusCreated
	}
	return jsonResponse(st, reactionJSON(c.base, rc))
}

// ---- check runs and suites ----

func (c *hctx) checkRunFromPath() (*checkRun, *response) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, notFound()
	}
	run := c.repo.findCheckRun(id)
	if run == nil {
		return nil, notFound()
	}
	return run, nil
}

func (c *hctx) getCheckRun() *response {
	run, bad := c.checkRunFromPath()
	if bad != nil {
		return bad
	}
	return jsonResponse(http.StatusOK, c.repo.checkRunJSON(c.base, run))
}

// checkRunFields are the writable fields common to create and update.
type checkRunFields struct {
	name, detailsURL, externalID *string
	headSHA                      *string
	status, conclusion           string
	startedAt, completedAt       time.Time
	hasCompletedAt               bool
	output                       *struct{ Title, Summary, Text *string }
}

func (c *hctx) parseCheckRun(doc string) (*checkRunFields, *response) {
	f, bad := c.parseBody(doc, false)
	if bad != nil {
		return nil, bad
	}
	out := &checkRunFields{}
	strs := map[string]**string{"name": &out.name, "details_url": &out.detailsURL, "external_id": &out.externalID, "head_sha": &out.headSHA}
	for k, dst := range strs {
		s, ok, bad := f.str(k, doc)
		if bad != nil {
			return nil, bad
		}
		if ok {
			*dst = &s
		}
	}
	var bad2 *response
	if out.status, _, bad2 = f.str("status", doc); bad2 != nil {
		return nil, bad2
	}
	if out.conclusion, _, bad2 = f.str("conclusion", doc); bad2 != nil {
		return nil, bad2
	}
	for k, dst := range map[string]*time.Time{"started_at": &out.startedAt, "completed_at": &out.completedAt} {
		s, ok, bad := f.str(k, doc)
		if bad != nil {
			return nil, bad
		}
		if !ok {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, invalidRequest(fmt.Sprintf("For 'properties/%s', %q is not a date-time.", k, s), doc)
		}
		*dst = t.UTC()
		if k == "completed_at" {
			out.hasCompletedAt = true
		}
	}
	if raw, ok := f["output"]; ok && !isNull(raw) {
		var o struct{ Title, Summary, Text *string }
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, invalidRequest("For 'properties/output', "+string(raw)+" is not an object.", doc)
		}
		out.output = &o
	}
	switch out.status {
	case "", "queued", "in_progress", "completed":
	default:
		return nil, invalidRequest(fmt.Sprintf(`For 'properties/status', %q is not one of ["queued", "in_progress", "completed"].`, out.status), doc)
	}
	if out.conclusion != "" {
		if !checkConclusions[out.conclusion] {
			return nil, invalidRequest(fmt.Sprintf(`For 'properties/conclusion', %q is not one of ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"].`, out.conclusion), doc)
		}
		out.status = "completed" // "Providing conclusion will automatically set the status parameter to completed."
	}
	return out, nil
}

func (f *checkRunFields) apply(run *checkRun) {
	if f.name != nil {
		run.name = *f.name
	}
	if f.detailsURL != nil {
		run.detailsURL = *f.detailsURL
	}
	if f.externalID != nil {
		run.externalID = *f.externalID
	}
	if !f.startedAt.IsZero() {
		run.startedAt = f.startedAt
	}
	if o := f.output; o != nil {
		run.title, run.summary, run.text = o.Title, o.Summary, o.Text
	}
}

func (c *hctx) checkApp(doc string) (*app, *response) {
	u := c.ri.user
	if u.typ != "Bot" {
		return nil, jsonResponse(http.StatusForbidden, basicError("You must authenticate via a GitHub App.", doc))
	}
	return c.e.appLocked(strings.TrimSuffix(u.login, "[bot]")), nil
}

func (c *hctx) createCheckRun() *response {
	doc := docURL("checks/runs#create-a-check-run")
	f, bad := c.parseCheckRun(doc)
	if bad != nil {
		return bad
	}
	a, bad := c.checkApp(doc)
	if bad != nil {
		return bad
	}
	headSHA := ""
	if f.headSHA != nil {
		headSHA = *f.headSHA
	}
	switch {
	case f.name == nil || *f.name == "":
		return invalidRequest(`"name" wasn't supplied.`, doc)
	case headSHA == "":
		return invalidRequest(`"head_sha" wasn't supplied.`, doc)
	case f.status == "completed" && f.conclusion == "":
		return invalidRequest(`No subschema in "anyOf" matched. "conclusion" wasn't supplied.`, doc)
	case f.hasCompletedAt && f.conclusion == "":
		return invalidRequest(`"conclusion" is required when "completed_at" is given.`, doc)
	}
	sha, ok := c.repo.resolveSHA(headSHA)
	if !ok || len(headSHA) != 40 {
		return jsonResponse(http.StatusUnprocessableEntity, obj{"message": "No commit found for SHA: " + headSHA, "documentation_url": doc})
	}
	run := c.e.newCheckRunLocked(c.repo, a, *f.name, sha)
	f.apply(run)
	status := f.status
	if status == "" {
		status = "queued"
	}
	c.e.setCheckStatusLocked(c.repo, run, status, f.conclusion, f.completedAt, c.ri.user, c.base)
	resp := jsonResponse(http.StatusCreated, c.repo.checkRunJSON(c.base, run))
	resp.header.Set("Location", c.repo.checkRunURL(c.base, run))
	return resp
}

func (c *hctx) updateCheckRun() *response {
	doc := docURL("checks/runs#update-a-check-run")
	run, bad := c.checkRunFromPath()
	if bad != nil {
		return bad
	}
	f, bad := c.parseCheckRun(doc)
	if bad != nil {
		return bad
	}
	if _, bad := c.checkApp(doc); bad != nil {
		return bad
	}
	switch {
	case f.conclusion == "stale":
		return invalidRequest("You cannot change a check run conclusion to stale; only GitHub can set this.", doc)
	case f.status == "completed" && f.conclusion == "" && run.conclusion == "":
		return invalidRequest(`"conclusion" is required when "status" is "completed".`, doc)
	case f.hasCompletedAt && f.conclusion == "" && run.conclusion == "":
		return invalidRequest(`"conclusion" is required when "completed_at" is given.`, doc)
	}
	f.apply(run)
	status, conclusion := run.status, run.conclusion
	if f.status != "" {
		status = f.status
	}
	if f.conclusion != "" {
		conclusion = f.conclusion
	}
	if status != "completed" {
		conclusion = ""
	}
	c.e.setCheckStatusLocked(c.repo, run, status, conclusion, f.completedAt, c.ri.user, c.base)
	return jsonResponse(http.StatusOK, c.repo.checkRunJSON(c.base, run))
}

func (c *hctx) listCheckRunsForRef(ref string) *response {
	doc := docURL("checks/runs#list-check-runs-for-a-git-reference")
	sha, _, ok := c.repo.resolveRef(ref)
	if !ok {
		return jsonResponse(http.StatusNotFound, obj{"message": "No commit found for SHA: " + ref, "documentation_url": doc})
	}
	q := c.r.URL.Query()
	filter := q.Get("filter")
	if filter == "" {
		filter = "latest"
	}
	status := q.Get("status")
	switch {
	case filter != "latest" && filter != "all":
		return validationFailed(doc, "CheckRun", "filter", filter)
	case status != "" && status != "queued" && status != "in_progress" && status != "completed":
		return validationFailed(doc, "CheckRun", "status", status)
	}
	var appID int64
	if v := q.Get("app_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return validationFailed(doc, "CheckRun", "app_id", v)
		}
		appID = n
	}
	// Newest first; "latest" keeps the newest run of each name (and app).
	seen := map[string]bool{}
	var list []*checkRun
	for i := len(c.repo.checkRuns) - 1; i >= 0; i-- {
		run := c.repo.checkRuns[i]
		if run.headSHA != sha {
			continue
		}
		if filter == "latest" {
			k := run.name + "\x00" + strconv.FormatInt(run.app.id, 10)
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		if (q.Get("check_name") != "" && run.name != q.Get("check_name")) || (status != "" && run.status != status) ||
			(appID != 0 && run.app.id != appID) {
			continue
		}
		list = append(list, run)
	}
	h := http.Header{}
	start, end := c.paginate(len(list), h)
	out := []any{}
	for _, run := range list[start:end] {
		out = append(out, c.repo.checkRunJSON(c.base, run))
	}
	resp := jsonResponse(http.StatusOK, obj{"total_count": len(list), "check_runs": out})
	copyHeader(resp.header, h)
	return resp
}

func (c *hctx) listCheckSuitesForRef(ref string) *response {
	doc := docURL("checks/suites#list-check-suites-for-a-git-reference")
	sha, _, ok := c.repo.resolveRef(ref)
	if !ok {
		return jsonResponse(http.StatusNotFound, obj{"message": "No commit found for SHA: " + ref, "documentation_url": doc})
	}
	q := c.r.URL.Query()
	var appID int64
	if v := q.Get("app_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return validationFailed(doc, "CheckSuite", "app_id", v)
		}
		appID = n
	}
	var list []*checkSuite
	for _, s := range c.repo.checkSuites {
		if s.headSHA != sha || (appID != 0 && s.app.id != appID) {
			continue
		}
		if name := q.Get("check_name"); name != "" {
			has := false
			for _, run := range c.repo.checkRuns {
				has = has || (run.suite == s && run.name == name)
			}
			if !has {
				continue
			}
		}
		list = append(list, s)
	}
	h := http.Header{}
	start, end := c.paginate(len(list), h)
	out := []any{}
	for _, s := range list[start:end] {
		out = append(out, c.repo.checkSuiteJSON(c.base, s))
	}
	resp := jsonResponse(http.StatusOK, obj{"total_count": len(list), "check_suites": out})
	copyHeader(resp.header, h)
	return resp
}
