package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// hctx is what a repository handler gets; the emulator's mutex is held while it runs.
type hctx struct {
	e    *Emulator
	r    *http.Request
	ri   *reqInfo
	repo *repo
	base string
}

func (e *Emulator) routes() {
	e.mux.HandleFunc("GET /rate_limit", func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		ri.resp = e.rateLimitHandler(r, ri)
	})
	const (
		dep   = scopeDeployments
		admin = scopeAdministration
		read  = AccessRead
		write = AccessWrite
	)
	e.repoRoute("GET /repos/{owner}/{repo}/deployments", dep, read, (*hctx).listDeployments)
	e.repoRoute("POST /repos/{owner}/{repo}/deployments", dep, write, (*hctx).createDeployment)
	e.repoRoute("GET /repos/{owner}/{repo}/deployments/{id}", dep, read, (*hctx).getDeployment)
	e.repoRoute("DELETE /repos/{owner}/{repo}/deployments/{id}", dep, write, (*hctx).deleteDeployment)
	e.repoRoute("GET /repos/{owner}/{repo}/deployments/{id}/statuses", dep, read, (*hctx).listStatuses)
	e.repoRoute("POST /repos/{owner}/{repo}/deployments/{id}/statuses", dep, write, (*hctx).createStatus)
	e.repoRoute("GET /repos/{owner}/{repo}/deployments/{id}/statuses/{sid}", dep, read, (*hctx).getStatus)
	e.repoRoute("GET /repos/{owner}/{repo}/environments", dep, read, (*hctx).listEnvironments)
	e.repoRoute("GET /repos/{owner}/{repo}/environments/{name...}", dep, read, (*hctx).getEnvironment)
	e.repoRoute("PUT /repos/{owner}/{repo}/environments/{name...}", admin, write, (*hctx).putEnvironment)
	e.repoRoute("DELETE /repos/{owner}/{repo}/environments/{name...}", admin, write, (*hctx).deleteEnvironment)
	e.repoRoute("POST /repos/{owner}/{repo}/statuses/{sha...}", scopeStatuses, write, (*hctx).createCommitStatus)
	// commits/{ref...} serves the commit, its statuses, combined status, check runs and check
	// suites (a ref may contain "/"); the handler checks the scope of each.
	e.repoRoute("GET /repos/{owner}/{repo}/commits/{ref...}", scopeMetadata, read, (*hctx).commitsDispatch)
	e.toolkitRoutes()
	e.hookRoutes()
	e.gitRoutes()
	e.protectionRoutes()
	e.appRoutes()
}

func (e *Emulator) repoRoute(pattern string, sc scope, lvl Access, h func(*hctx) *response) {
	e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		e.mu.Lock()
		defer e.mu.Unlock()
		rp := e.repoLocked(r.PathValue("owner"), r.PathValue("repo"))
		if rp == nil {
			ri.resp = notFound()
			return
		}
		c := &hctx{e: e, r: r, ri: ri, repo: rp, base: ri.base}
		if ri.inst != nil && !ri.inst.covers(rp) {
			// An installation token reaches only its repositories: others are hidden when
			// private and read-only when public, as on GitHub.
			if rp.private {
				ri.resp = notFound()
				return
			}
			if lvl == AccessWrite {
				ri.resp = forbidden()
				return
			}
		}
		if bad := c.require(sc, lvl); bad != nil {
			ri.resp = bad
			return
		}
		ri.resp = h(c)
	})
}

// require answers 403 as GitHub does for an integration token without the scope.
func (c *hctx) require(sc scope, lvl Access) *response {
	if c.ri.perms.level(sc).atLeast(lvl) {
		return nil
	}
	return forbidden()
}

func forbidden() *response {
	return jsonResponse(http.StatusForbidden, basicError("Resource not accessible by integration", docRoot+"/rest"))
}

func notFound() *response {
	return jsonResponse(http.StatusNotFound, basicError("Not Found", docRoot+"/rest"))
}

func docURL(path string) string { return docRoot + "/rest/" + path }

// ---- request body helpers ----

type fields map[string]json.RawMessage

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func invalidRequest(detail, doc string) *response {
	return jsonResponse(http.StatusUnprocessableEntity, obj{"message": "Invalid request.\n\n" + detail, "documentation_url": doc})
}

func (c *hctx) parseBody(doc string, allowEmpty bool) (fields, *response) {
	body := bytes.TrimSpace(c.ri.body)
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		if allowEmpty {
			return fields{}, nil
		}
		return nil, jsonResponse(http.StatusBadRequest, basicError("Problems parsing JSON", doc))
	}
	var f fields
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, jsonResponse(http.StatusBadRequest, basicError("Problems parsing JSON", doc))
	}
	return f, nil
}

func (f fields) str(name, doc string) (string, bool, *response) {
	raw, ok := f[name]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, invalidRequest(fmt.Sprintf("For 'properties/%s', %s is not a string.", name, string(raw)), doc)
	}
	return s, true, nil
}

func (f fields) boolean(name, doc string) (bool, bool, *response) {
	raw, ok := f[name]
	if !ok || isNull(raw) {
		return false, false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, false, invalidRequest(fmt.Sprintf("For 'properties/%s', %s is not a boolean.", name, string(raw)), doc)
	}
	return b, true, nil
}

func pageParams(r *http.Request) (perPage, page int) {
	q := r.URL.Query()
	perPage, page = 30, 1
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	return
}

// paginate returns the slice bounds for the requested page and sets a Link header on h.
// paged answers a listing of n items with the page the request asks for (Link header included);
// item(i) renders the i-th.
func paged(c *hctx, n int, item func(i int) any) *response {
	h := http.Header{}
	start, end := c.paginate(n, h)
	out := []any{}
	for i := start; i < end; i++ {
		out = append(out, item(i))
	}
	resp := jsonResponse(http.StatusOK, out)
	copyHeader(resp.header, h)
	return resp
}

func (c *hctx) paginate(total int, h http.Header) (int, int) {
	perPage, page := pageParams(c.r)
	// GitHub's Link URLs name the repository by id (/repositories/{id}/deployments?page=2),
	// whichever form the request used.
	path := c.r.URL.EscapedPath()
	if segs := strings.SplitN(path, "/", 5); len(segs) >= 4 && segs[1] == "repos" {
		path = "/repositories/" + strconv.FormatInt(c.repo.id, 10)
		if len(segs) == 5 {
			path += "/" + segs[4]
		}
	}
	last := (total + perPage - 1) / perPage
	if last < 1 {
		last = 1
	}
	link := func(p int, rel string) string {
		q := c.r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		if c.r.URL.Query().Has("per_page") {
			q.Set("per_page", strconv.Itoa(perPage))
		}
		return fmt.Sprintf("<%s%s?%s>; rel=%q", c.base, path, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		h.Set("Link", strings.Join(links, ", "))
	}
	start := (page - 1) * perPage
	if start > total {
		start = total
	}
	return start, min(start+perPage, total)
}

func (c *hctx) deploymentFromPath() (*deployment, *response) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, notFound()
	}
	_, d := c.repo.findDeployment(id)
	if d == nil {
		return nil, notFound()
	}
	return d, nil
}

// ---- deployments ----

func (c *hctx) createDeployment() *response {
	doc := docURL("deployments/deployments#create-a-deployment")
	f, bad := c.parseBody(doc, false)
	if bad != nil {
		return bad
	}
	ref, ok, bad := f.str("ref", doc)
	if bad != nil {
		return bad
	}
	if !ok {
		return invalidRequest(`"ref" wasn't supplied.`, doc)
	}
	task, hasTask, bad := f.str("task", doc)
	if bad != nil {
		return bad
	}
	if !hasTask || task == "" {
		task = "deploy"
	}
	env, hasEnv, bad := f.str("environment", doc)
	if bad != nil {
		return bad
	}
	if !hasEnv || env == "" {
		env = "production"
	}
	var desc *string
	if s, has, bad := f.str("description", doc); bad != nil {
		return bad
	} else if has {
		desc = &s
	}
	autoMerge, hasAM, bad := f.boolean("auto_merge", doc)
	if bad != nil {
		return bad
	}
	if !hasAM {
		autoMerge = true
	}
	transient, _, bad := f.boolean("transient_environment", doc)
	if bad != nil {
		return bad
	}
	production, hasProd, bad := f.boolean("production_environment", doc)
	if bad != nil {
		return bad
	}
	if !hasProd {
		production = strings.EqualFold(env, "production")
	}
	payload := json.RawMessage(`{}`)
	if raw, has := f["payload"]; has && !isNull(raw) {
		t := bytes.TrimSpace(raw)
		switch t[0] {
		case '{', '"':
			payload = append(json.RawMessage(nil), t...)
		default:
			return invalidRequest(fmt.Sprintf("For 'properties/payload', %s is not an object or string.", string(raw)), doc)
		}
	}
	var required []string
	checkAll := true
	if raw, has := f["required_contexts"]; has && !isNull(raw) {
		if err := json.Unmarshal(raw, &required); err != nil {
			return invalidRequest(fmt.Sprintf("For 'properties/required_contexts', %s is not an array of strings.", string(raw)), doc)
		}
		checkAll = false
	}

	sha, branch, ok := c.repo.resolveRef(ref)
	if !ok {
		return jsonResponse(http.StatusUnprocessableEntity, obj{
			"message":           "No ref found for: " + ref,
			"documentation_url": doc,
			"errors":            []any{obj{"resource": "Deployment", "field": "ref", "code": "invalid", "message": "No ref found for: " + ref}},
		})
	}
	if autoMerge && branch != "" && branch != c.repo.defaultBranch {
		if c.repo.conflicts[branch] {
			return jsonResponse(http.StatusConflict, basicError(fmt.Sprintf("Conflict merging %s into %s.", c.repo.defaultBranch, ref), doc))
		}
		if c.repo.behind[branch] {
			delete(c.repo.behind, branch)
			return jsonResponse(http.StatusAccepted, obj{"message": fmt.Sprintf("Auto-merged %s into %s on deployment.", c.repo.defaultBranch, ref)})
		}
	}
	// required contexts
	latest := map[string]string{}
	var order []string
	for _, s := range c.repo.latestContexts(sha) {
		latest[strings.ToLower(s.context)] = s.state
		order = append(order, s.context)
	}
	var failing []any
	if checkAll {
		for _, ctxName := range order {
			if st := latest[strings.ToLower(ctxName)]; st != "success" {
				failing = append(failing, obj{"context": ctxName, "state": st})
			}
		}
	} else {
		for _, ctxName := range required {
			st, ok := latest[strings.ToLower(ctxName)]
			if !ok {
				st = "missing"
			}
			if st != "success" {
				failing = append(failing, obj{"context": ctxName, "state": st})
			}
		}
	}
	if len(failing) > 0 {
		return jsonResponse(http.StatusConflict, obj{
			"message":           "Conflict: Commit status checks failed for " + ref + ".",
			"documentation_url": doc,
			"errors":            []any{obj{"resource": "Deployment", "field": "required_contexts", "code": "invalid", "contexts": failing}},
		})
	}

	d := &deployment{
		ref: ref, sha: sha, task: task, environment: env, origEnv: env,
		description: desc, payload: payload, transient: transient, production: production,
	}
	body := c.e.addDeploymentLocked(c.repo, c.base, c.ri.user, d)
	resp := jsonResponse(http.StatusCreated, body)
	resp.header.Set("Location", c.repo.deploymentURL(c.base, d))
	return resp
}

// addDeploymentLocked stores a new deployment d (ref, sha, ... filled in) made by creator,
// creates its environment and delivers the deployment webhook; it returns the deployment's body.
func (e *Emulator) addDeploymentLocked(r *repo, base string, creator *user, d *deployment) obj {
	now := e.now().UTC()
	d.id, d.createdAt, d.updatedAt, d.creator = e.newID(), now, now, creator
	r.deployments = append(r.deployments, d)
	e.ensureEnvLocked(r, d.environment)
	body := r.deploymentJSON(base, d)
	e.enqueueLocked(r, "deployment", base, obj{
		"action": "created", "deployment": body, "workflow": nil, "workflow_run": nil, "sender": creator.json(base),
	})
	return body
}

// addDeploymentStatusLocked adds status s (state, urls, description, environment filled in;
// environment "" = the deployment's) to d, delivers the deployment_status webhook (not for
// inactive), applies auto_inactive, and returns the status's body.
func (e *Emulator) addDeploymentStatusLocked(r *repo, base string, creator *user, d *deployment, s *depStatus, autoInactive bool) obj {
	if s.logURL != "" {
		s.targetURL = s.logURL
	} else if s.targetURL != "" {
		s.logURL = s.targetURL
	}
	if s.environment == "" {
		s.environment = d.effectiveEnv()
	}
	env := s.environment
	now := e.now().UTC()
	s.id, s.createdAt, s.creator = e.newID(), now, creator
	d.statuses = append(d.statuses, s)
	d.updatedAt = now
	// A status may move the deployment to another environment ("which can be changed when
	// setting a deploy status"); original_environment keeps the one it was created for.
	d.environment = env
	e.ensureEnvLocked(r, env)
	body := r.statusJSON(base, d, s)
	if s.state != "inactive" {
		hookStatus := r.statusJSON(base, d, s)
		if s.logURL == "" {
			delete(hookStatus, "log_url") // as in GitHub's example payloads
		}
		e.enqueueLocked(r, "deployment_status", base, obj{
			"action": "created", "deployment_status": hookStatus, "deployment": r.deploymentJSON(base, d),
			"sender": creator.json(base),
		})
	}
	if s.state == "success" && autoInactive {
		for _, o := range r.deployments {
			if o.id >= d.id {
				break
			}
			if o.transient || o.production || !strings.EqualFold(o.effectiveEnv(), env) || o.latestState() != "success" {
				continue
			}
			o.statuses = append(o.statuses, &depStatus{id: e.newID(), state: "inactive", environment: o.effectiveEnv(), createdAt: now})
			o.updatedAt = now
		}
	}
	return body
}

func (c *hctx) listDeployments() *response {
	// An empty value (?ref=) is no filter, as on GitHub: clients that always send every filter
	// (strumwolf/delete-deployment-environment with its default inputs) must see everything.
	// Environment names are compared without case, as GitHub's environments are.
	q := c.r.URL.Query()
	var match []*deployment
	for i := len(c.repo.deployments) - 1; i >= 0; i-- {
		d := c.repo.deployments[i]
		if v := q.Get("sha"); v != "" && v != d.sha {
			continue
		}
		if v := q.Get("ref"); v != "" && v != d.ref {
			continue
		}
		if v := q.Get("task"); v != "" && v != d.task {
			continue
		}
		if v := q.Get("environment"); v != "" && !strings.EqualFold(v, d.environment) {
			continue
		}
		match = append(match, d)
	}
	return paged(c, len(match), func(i int) any { d := match[i]; return c.repo.deploymentJSON(c.base, d) })
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

func (c *hctx) getDeployment() *response {
	d, bad := c.deploymentFromPath()
	if bad != nil {
		return bad
	}
	return jsonResponse(http.StatusOK, c.repo.deploymentJSON(c.base, d))
}

func (c *hctx) deleteDeployment() *response {
	d, bad := c.deploymentFromPath()
	if bad != nil {
		return bad
	}
	if d.latestState() != "inactive" && len(c.repo.deployments) > 1 {
		msg := "We cannot delete an active deployment unless it is the only deployment in a given environment."
		return jsonResponse(http.StatusUnprocessableEntity, obj{
			"message": msg, "errors": []string{msg},
			"documentation_url": docURL("deployments/deployments#delete-a-deployment"),
		})
	}
	i, _ := c.repo.findDeployment(d.id)
	c.repo.deployments = append(c.repo.deployments[:i:i], c.repo.deployments[i+1:]...)
	return &response{status: http.StatusNoContent, header: http.Header{}}
}

// ---- deployment statuses ----

var deploymentStates = map[string]bool{"error": true, "failure": true, "inactive": true, "in_progress": true, "queued": true, "pending": true, "success": true}

func (c *hctx) createStatus() *response {
	doc := docURL("deployments/statuses#create-a-deployment-status")
	d, bad := c.deploymentFromPath()
	if bad != nil {
		return bad
	}
	f, bad := c.parseBody(doc, false)
	if bad != nil {
		return bad
	}
	state, ok, bad := f.str("state", doc)
	if bad != nil {
		return bad
	}
	if !ok {
		return invalidRequest(`"state" wasn't supplied.`, doc)
	}
	if !deploymentStates[state] {
		return invalidRequest(fmt.Sprintf("For 'properties/state', %q is not one of [\"error\", \"failure\", \"inactive\", \"in_progress\", \"queued\", \"pending\", \"success\"].", state), doc)
	}
	var strs [5]string
	for i, name := range []string{"target_url", "log_url", "description", "environment", "environment_url"} {
		s, _, bad := f.str(name, doc)
		if bad != nil {
			return bad
		}
		strs[i] = s
	}
	targetURL, logURL, desc, env, envURL := strs[0], strs[1], strs[2], strs[3], strs[4]
	autoInactive, hasAI, bad := f.boolean("auto_inactive", doc)
	if bad != nil {
		return bad
	}
	if !hasAI {
		autoInactive = true
	}
	if n := utf8.RuneCountInString(desc); n > 140 {
		return jsonResponse(http.StatusUnprocessableEntity, obj{
			"message": "Validation Failed", "documentation_url": doc,
			"errors": []any{obj{"resource": "DeploymentStatus", "code": "custom", "field": "description",
				"message": "description is too long (maximum is 140 characters)"}},
		})
	}
	for _, u := range []struct{ name, v string }{{"target_url", targetURL}, {"log_url", logURL}, {"environment_url", envURL}} {
		if u.v == "" {
			continue
		}
		if pu, err := url.Parse(u.v); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return jsonResponse(http.StatusUnprocessableEntity, obj{
				"message": "Validation Failed", "documentation_url": doc,
				"errors": []any{obj{"resource": "DeploymentStatus", "code": "custom", "field": u.name,
					"message": u.name + " must use an http(s) scheme"}},
			})
		}
	}
	st := &depStatus{state: state, description: desc, environment: env,
		targetURL: targetURL, logURL: logURL, environmentURL: envURL}
	body := c.e.addDeploymentStatusLocked(c.repo, c.base, c.ri.user, d, st, autoInactive)
	resp := jsonResponse(http.StatusCreated, body)
	resp.header.Set("Location", body["url"].(string))
	return resp
}

func (c *hctx) listStatuses() *response {
	d, bad := c.deploymentFromPath()
	if bad != nil {
		return bad
	}
	h := http.Header{}
	start, end := c.paginate(len(d.statuses), h)
	out := []any{}
	for i := start; i < end; i++ {
		out = append(out, c.repo.statusJSON(c.base, d, d.statuses[len(d.statuses)-1-i]))
	}
	resp := jsonResponse(http.StatusOK, out)
	copyHeader(resp.header, h)
	return resp
}

func (c *hctx) getStatus() *response {
	d, bad := c.deploymentFromPath()
	if bad != nil {
		return bad
	}
	sid, err := strconv.ParseInt(c.r.PathValue("sid"), 10, 64)
	if err != nil {
		return notFound()
	}
	for _, s := range d.statuses {
		if s.id == sid {
			return jsonResponse(http.StatusOK, c.repo.statusJSON(c.base, d, s))
		}
	}
	return notFound()
}

// ---- environments ----

func (c *hctx) listEnvironments() *response {
	h := http.Header{}
	start, end := c.paginate(len(c.repo.envOrder), h)
	envs := []any{}
	for _, key := range c.repo.envOrder[start:end] {
		envs = append(envs, c.repo.envJSON(c.base, c.repo.envs[key]))
	}
	resp := jsonResponse(http.StatusOK, obj{"total_count": len(c.repo.envOrder), "environments": envs})
	copyHeader(resp.header, h)
	return resp
}

func (c *hctx) getEnvironment() *response {
	env := c.repo.env(c.r.PathValue("name"))
	if env == nil {
		return notFound()
	}
	return jsonResponse(http.StatusOK, c.repo.envJSON(c.base, env))
}

func (c *hctx) putEnvironment() *response {
	doc := docURL("deployments/environments#create-or-update-an-environment")
	name := c.r.PathValue("name")
	if name == "" || len(name) > 255 || strings.ContainsAny(name, "\x00\n\r") {
		return jsonResponse(http.StatusUnprocessableEntity, basicError("Environment name is invalid", doc))
	}
	f, bad := c.parseBody(doc, true)
	if bad != nil {
		return bad
	}
	for k := range f {
		switch k {
		case "wait_timer", "prevent_self_review", "reviewers", "deployment_branch_policy":
		case "can_admins_bypass":
			// Not in the description (additionalProperties: false) but accepted by GitHub for
			// public repositories; go-github always sends it.
		default:
			return invalidRequest(fmt.Sprintf("For 'properties', %q is not a permitted key.", k), doc)
		}
	}
	wait := 0
	if raw, ok := f["wait_timer"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &wait); err != nil || wait < 0 || wait > 43200 {
			return invalidRequest(fmt.Sprintf("For 'properties/wait_timer', %s is not a valid wait timer (0-43200).", string(raw)), doc)
		}
	}
	psr, _, bad := f.boolean("prevent_self_review", doc)
	if bad != nil {
		return bad
	}
	var reviewers []map[string]any
	if raw, ok := f["reviewers"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &reviewers); err != nil {
			return invalidRequest(fmt.Sprintf("For 'properties/reviewers', %s is not an array.", string(raw)), doc)
		}
		if len(reviewers) > 6 {
			return jsonResponse(http.StatusUnprocessableEntity, basicError("You can only add up to 6 reviewers.", doc))
		}
	}
	var policy *branchPolicy
	if raw, ok := f["deployment_branch_policy"]; ok && !isNull(raw) {
		var p struct {
			Protected *bool `json:"protected_branches"`
			Custom    *bool `json:"custom_branch_policies"`
		}
		if err := json.Unmarshal(raw, &p); err != nil || p.Protected == nil || p.Custom == nil {
			return invalidRequest("For 'properties/deployment_branch_policy', protected_branches and custom_branch_policies are required booleans.", doc)
		}
		if *p.Protected == *p.Custom {
			return jsonResponse(http.StatusUnprocessableEntity, basicError("Only one of protected_branches and custom_branch_policies can be set to true", doc))
		}
		policy = &branchPolicy{Protected: *p.Protected, Custom: *p.Custom}
	}
	env := c.e.ensureEnvLocked(c.repo, name)
	env.waitTimer, env.preventSelfReview, env.reviewers, env.branchPolicy = wait, psr, reviewers, policy
	for i := range env.protectionIDs {
		if env.protectionIDs[i] == 0 {
			env.protectionIDs[i] = c.e.newID()
		}
	}
	env.updatedAt = c.e.now().UTC()
	return jsonResponse(http.StatusOK, c.repo.envJSON(c.base, env))
}

func (c *hctx) deleteEnvironment() *response {
	name := c.r.PathValue("name")
	key := envKey(name)
	if c.repo.envs[key] == nil {
		return notFound()
	}
	delete(c.repo.envs, key)
	for i, n := range c.repo.envOrder {
		if n == key {
			c.repo.envOrder = append(c.repo.envOrder[:i:i], c.repo.envOrder[i+1:]...)
			break
		}
	}
	kept := c.repo.deployments[:0:0]
	for _, d := range c.repo.deployments {
		if envKey(d.environment) != key {
			kept = append(kept, d)
		}
	}
	c.repo.deployments = kept
	return &response{status: http.StatusNoContent, header: http.Header{}}
}

// ---- commit statuses ----

var commitStates = map[string]bool{"error": true, "failure": true, "pending": true, "success": true}

func (c *hctx) createCommitStatus() *response {
	doc := docURL("commits/statuses#create-a-commit-status")
	sha, ok := c.repo.resolveSHA(c.r.PathValue("sha"))
	if !ok {
		return jsonResponse(http.StatusUnprocessableEntity, obj{"message": "No commit found for SHA: " + c.r.PathValue("sha"), "documentation_url": doc})
	}
	f, bad := c.parseBody(doc, false)
	if bad != nil {
		return bad
	}
	state, has, bad := f.str("state", doc)
	if bad != nil {
		return bad
	}
	if !has {
		return invalidRequest(`"state" wasn't supplied.`, doc)
	}
	if !commitStates[state] {
		return invalidRequest(fmt.Sprintf("For 'properties/state', %q is not one of [\"error\", \"failure\", \"pending\", \"success\"].", state), doc)
	}
	cs := &commitStatus{id: c.e.newID(), state: state, createdAt: c.e.now().UTC(), creator: c.ri.user}
	ctxName, has, bad := f.str("context", doc)
	if bad != nil {
		return bad
	}
	if !has || ctxName == "" {
		ctxName = "default"
	}
	cs.context = ctxName
	if s, has, bad := f.str("description", doc); bad != nil {
		return bad
	} else if has {
		cs.description = &s
	}
	if s, has, bad := f.str("target_url", doc); bad != nil {
		return bad
	} else if has {
		cs.targetURL = &s
	}
	n := 0
	for _, o := range c.repo.commitStatus[sha] {
		if strings.EqualFold(o.context, ctxName) {
			n++
		}
	}
	if n >= 1000 {
		return jsonResponse(http.StatusUnprocessableEntity, obj{"message": "Validation Failed", "documentation_url": doc,
			"errors": []any{obj{"resource": "Status", "code": "custom", "message": "This SHA and context has reached the maximum number of statuses."}}})
	}
	c.repo.commitStatus[sha] = append(c.repo.commitStatus[sha], cs)
	resp := jsonResponse(http.StatusCreated, c.repo.commitStatusJSON(c.base, sha, cs, false))
	resp.header.Set("Location", c.repo.apiURL(c.base)+"/statuses/"+sha)
	return resp
}

func (c *hctx) commitsDispatch() *response {
	rest := c.r.PathValue("ref")
	for _, sub := range []struct {
		suffix string
		sc     scope
		h      func(*hctx, string) *response
	}{
		{"/status", scopeStatuses, func(c *hctx, ref string) *response { return c.commitStatuses(ref, true) }},
		{"/statuses", scopeStatuses, func(c *hctx, ref string) *response { return c.commitStatuses(ref, false) }},
		{"/check-runs", scopeChecks, (*hctx).listCheckRunsForRef},
		{"/check-suites", scopeChecks, (*hctx).listCheckSuitesForRef},
	} {
		if ref, ok := strings.CutSuffix(rest, sub.suffix); ok && ref != "" {
			if bad := c.require(sub.sc, AccessRead); bad != nil {
				return bad
			}
			return sub.h(c, ref)
		}
	}
	if bad := c.require(scopeContents, AccessRead); bad != nil {
		return bad
	}
	return c.getCommit(rest)
}

func (c *hctx) commitStatuses(rest string, combined bool) *response {
	sha, _, ok := c.repo.resolveRef(rest)
	if !ok {
		return jsonResponse(http.StatusNotFound, obj{"message": "No commit found for SHA: " + rest,
			"documentation_url": docURL("commits/statuses")})
	}
	if !combined {
		all := c.repo.commitStatus[sha]
		h := http.Header{}
		start, end := c.paginate(len(all), h)
		out := []any{}
		for i := start; i < end; i++ {
			out = append(out, c.repo.commitStatusJSON(c.base, sha, all[len(all)-1-i], false))
		}
		resp := jsonResponse(http.StatusOK, out)
		copyHeader(resp.header, h)
		return resp
	}
	latest := c.repo.latestContexts(sha)
	state := "success"
	if len(latest) == 0 {
		state = "pending"
	}
	for _, s := range latest {
		if s.state == "error" || s.state == "failure" {
			state = "failure"
			break
		}
		if s.state == "pending" {
			state = "pending"
		}
	}
	sts := []any{}
	for _, s := range latest {
		sts = append(sts, c.repo.commitStatusJSON(c.base, sha, s, true))
	}
	return jsonResponse(http.StatusOK, obj{
		"state": state, "statuses": sts, "sha": sha, "total_count": len(latest),
		"repository": c.repo.repoJSON(c.base), "commit_url": c.repo.apiURL(c.base) + "/commits/" + sha,
		"url": c.repo.apiURL(c.base) + "/commits/" + sha + "/status",
	})
}

// ---- rate limit ----

func (e *Emulator) rateLimitHandler(r *http.Request, ri *reqInfo) *response {
	e.mu.Lock()
	limit, remaining, used, reset := e.rateLocked(ri.token)
	e.mu.Unlock()
	core := obj{"limit": limit, "used": used, "remaining": remaining, "reset": reset}
	static := func(l int) obj { return obj{"limit": l, "used": 0, "remaining": l, "reset": reset} }
	// The resources of a recorded 2024 answer (pygithub RateLimiting.testGetRateLimit).
	body := obj{
		"resources": obj{
			"core": core, "search": static(30), "graphql": static(5000), "integration_manifest": static(5000),
			"source_import": static(100), "code_scanning_upload": static(1000), "code_scanning_autofix": static(10),
			"actions_runner_registration": static(10000), "scim": static(15000), "dependency_snapshots": static(100),
			"audit_log": static(1750), "audit_log_streaming": static(15), "code_search": static(10),
		},
	}
	if r.Header.Get("X-GitHub-Api-Version") != "2026-03-10" {
		body["rate"] = core
	}
	return jsonResponse(http.StatusOK, body)
}
