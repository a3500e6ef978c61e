package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const docRoot = "https://docs.github.com"

const (
	botUserID = 41898282
	botLogin  = "github-actions[bot]"
)

type obj = map[string]any

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func webHost(base string) string {
	// Build html_url style links from the API base: http://host[/api/v3] -> http://host
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return u.Scheme + "://" + u.Host
}

func ownerJSON(base, login string, id int64) obj {
	u := base + "/users/" + url.PathEscape(login)
	return obj{
		"login": login, "id": id, "node_id": nodeID("Organization", id),
		"avatar_url":  webHost(base) + "/avatars/u/" + strconv.FormatInt(id, 10) + "?v=4",
		"gravatar_id": "", "url": u, "html_url": webHost(base) + "/" + url.PathEscape(login),
		"followers_url": u + "/followers", "following_url": u + "/following{/other_user}",
		"gists_url": u + "/gists{/gist_id}", "starred_url": u + "/starred{/owner}{/repo}",
		"subscriptions_url": u + "/subscriptions", "organizations_url": u + "/orgs",
		"repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
		"received_events_url": u + "/received_events", "type": "Organization", "site_admin": false,
	}
}

// orgJSON renders an organization as webhook payloads carry it (organization-simple-webhooks).
func orgJSON(base string, u *user) obj {
	a := base + "/orgs/" + url.PathEscape(u.login)
	return obj{
		"login": u.login, "id": u.id, "node_id": u.nodeID(), "url": a,
		"repos_url": a + "/repos", "events_url": a + "/events", "hooks_url": a + "/hooks",
		"issues_url": a + "/issues", "members_url": a + "/members{/member}",
		"public_members_url": a + "/public_members{/member}",
		"avatar_url":         webHost(base) + "/avatars/u/" + strconv.FormatInt(u.id, 10) + "?v=4",
		"description":        nil,
	}
}

// addOwner completes a webhook payload with the repository and, when an organization owns it,
// the organization (GitHub sends it for organization-owned repositories).
func (r *repo) addOwner(base string, payload obj) {
	payload["repository"] = r.repoJSON(base)
	if r.ownerUser.typ == "Organization" {
		payload["organization"] = orgJSON(base, r.ownerUser)
	} else {
		delete(payload, "organization")
	}
}

func (r *repo) apiURL(base string) string {
	return base + "/repos/" + url.PathEscape(r.owner) + "/" + url.PathEscape(r.name)
}

// repoJSON renders a repository object that satisfies both minimal-repository (REST) and the
// webhook repository schema.
func (r *repo) repoJSON(base string) obj {
	u := r.apiURL(base)
	html := webHost(base) + "/" + r.owner + "/" + r.name
	vis := "public"
	if r.private {
		vis = "private"
	}
	return obj{
		"id": r.id, "node_id": nodeID("Repository", r.id), "name": r.name, "full_name": r.owner + "/" + r.name,
		"private": r.private, "owner": r.ownerUser.json(base), "html_url": html,
		"description": nil, "fork": r.parent != nil, "url": u,
		"forks_url": u + "/forks", "keys_url": u + "/keys{/key_id}", "collaborators_url": u + "/collaborators{/collaborator}",
		"teams_url": u + "/teams", "hooks_url": u + "/hooks", "issue_events_url": u + "/issues/events{/number}",
		"events_url": u + "/events", "assignees_url": u + "/assignees{/user}", "branches_url": u + "/branches{/branch}",
		"tags_url": u + "/tags", "blobs_url": u + "/git/blobs{/sha}", "git_tags_url": u + "/git/tags{/sha}",
		"git_refs_url": u + "/git/refs{/sha}", "trees_url": u + "/git/trees{/sha}", "statuses_url": u + "/statuses/{sha}",
		"languages_url": u + "/languages", "stargazers_url": u + "/stargazers", "contributors_url": u + "/contributors",
		"subscribers_url": u + "/subscribers", "subscription_url": u + "/subscription", "commits_url": u + "/commits{/sha}",
		"git_commits_url": u + "/git/commits{/sha}", "comments_url": u + "/comments{/number}",
		"issue_comment_url": u + "/issues/comments{/number}", "contents_url": u + "/contents/{+path}",
		"compare_url": u + "/compare/{base}...{head}", "merges_url": u + "/merges", "archive_url": u + "/{archive_format}{/ref}",
		"downloads_url": u + "/downloads", "issues_url": u + "/issues{/number}", "pulls_url": u + "/pulls{/number}",
		"milestones_url": u + "/milestones{/number}", "notifications_url": u + "/notifications{?since,all,participating}",
		"labels_url": u + "/labels{/name}", "releases_url": u + "/releases{/id}", "deployments_url": u + "/deployments",
		"created_at": ts(r.createdAt), "updated_at": ts(r.createdAt), "pushed_at": ts(r.createdAt),
		"git_url":   "git://" + hostOf(base) + "/" + r.owner + "/" + r.name + ".git",
		"ssh_url":   "git@" + hostOf(base) + ":" + r.owner + "/" + r.name + ".git",
		"clone_url": html + ".git", "svn_url": html, "homepage": nil, "size": 1,
		"stargazers_count": 0, "watchers_count": 0, "language": "Go", "has_issues": true, "has_projects": true,
		"has_downloads": true, "has_wiki": true, "has_pages": false, "has_discussions": false, "forks_count": 0,
		"mirror_url": nil, "archived": false, "disabled": false, "open_issues_count": 0, "license": nil,
		"forks": 0, "open_issues": 0, "watchers": 0, "default_branch": r.defaultBranch, "is_template": false,
		"web_commit_signoff_required": false, "topics": []string{}, "visibility": vis,
		"allow_forking": true, "custom_properties": obj{},
	}
}

func hostOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return "localhost"
	}
	return u.Hostname()
}

func (r *repo) deploymentURL(base string, d *deployment) string {
	return r.apiURL(base) + "/deployments/" + strconv.FormatInt(d.id, 10)
}

func (r *repo) deploymentJSON(base string, d *deployment) obj {
	u := r.deploymentURL(base, d)
	var desc any
	if d.description != nil {
		desc = *d.description
	}
	return obj{
		"url": u, "id": d.id, "node_id": nodeID("Deployment", d.id), "sha": d.sha, "ref": d.ref, "task": d.task,
		"payload": json.RawMessage(d.payload), "original_environment": d.origEnv, "environment": d.environment,
		"description": desc, "creator": d.creatorUser().json(base), "created_at": ts(d.createdAt), "updated_at": ts(d.updatedAt),
		"statuses_url": u + "/statuses", "repository_url": r.apiURL(base),
		"transient_environment": d.transient, "production_environment": d.production,
		"performed_via_github_app": nil,
	}
}

func (r *repo) statusJSON(base string, d *deployment, s *depStatus) obj {
	du := r.deploymentURL(base, d)
	return obj{
		"url": du + "/statuses/" + strconv.FormatInt(s.id, 10), "id": s.id, "node_id": nodeID("DeploymentStatus", s.id),
		"state": s.state, "creator": s.creatorUser().json(base), "description": s.description, "environment": s.environment,
		"target_url": s.targetURL, "created_at": ts(s.createdAt), "updated_at": ts(s.createdAt),
		"deployment_url": du, "repository_url": r.apiURL(base), "environment_url": s.environmentURL,
		"log_url": s.logURL, "performed_via_github_app": nil,
	}
}

func (r *repo) envJSON(base string, env *environment) obj {
	// GitHub lists the rules as branch_policy, required_reviewers, wait_timer (recorded).
	rules := []any{}
	var policy any
	if env.branchPolicy != nil {
		policy = obj{"protected_branches": env.branchPolicy.Protected, "custom_branch_policies": env.branchPolicy.Custom}
		rules = append(rules, obj{"id": env.protectionIDs[2], "node_id": nodeID("Gate", env.protectionIDs[2]), "type": "branch_policy"})
	}
	if len(env.reviewers) > 0 {
		revs := []any{}
		for _, rv := range env.reviewers {
			revs = append(revs, obj{"type": rv["type"], "reviewer": reviewerJSON(base, rv)})
		}
		rules = append(rules, obj{"id": env.protectionIDs[1], "node_id": nodeID("Gate", env.protectionIDs[1]), "type": "required_reviewers", "prevent_self_review": env.preventSelfReview, "reviewers": revs})
	}
	if env.waitTimer > 0 {
		rules = append(rules, obj{"id": env.protectionIDs[0], "node_id": nodeID("Gate", env.protectionIDs[0]), "type": "wait_timer", "wait_timer": env.waitTimer})
	}
	// GitHub keeps a "/" in the name as is in url (recorded: .../environments/test/env); the
	// routes accept it both ways.
	segs := strings.Split(env.name, "/")
	for i, sg := range segs {
		segs[i] = url.PathEscape(sg)
	}
	return obj{
		"id": env.id, "node_id": nodeID("Environment", env.id), "name": env.name,
		"url":        r.apiURL(base) + "/environments/" + strings.Join(segs, "/"),
		"html_url":   webHost(base) + "/" + r.owner + "/" + r.name + "/deployments/activity_log?environments_filter=" + url.QueryEscape(env.name),
		"created_at": ts(env.createdAt), "updated_at": ts(env.updatedAt), "can_admins_bypass": true,
		"protection_rules": rules, "deployment_branch_policy": policy,
	}
}

func reviewerJSON(base string, rv map[string]any) obj {
	id, _ := rv["id"].(float64)
	if rv["type"] == "Team" {
		tid := int64(id)
		return obj{"id": tid, "node_id": nodeID("Team", tid), "name": "team-" + strconv.FormatInt(tid, 10),
			"slug": "team-" + strconv.FormatInt(tid, 10), "description": nil, "privacy": "closed", "permission": "pull",
			"url": base + "/teams/" + strconv.FormatInt(tid, 10), "html_url": webHost(base) + "/teams/" + strconv.FormatInt(tid, 10),
			"members_url":      base + "/teams/" + strconv.FormatInt(tid, 10) + "/members{/member}",
			"repositories_url": base + "/teams/" + strconv.FormatInt(tid, 10) + "/repos", "parent": nil, "type": "team"}
	}
	u := ownerJSON(base, "user-"+strconv.FormatInt(int64(id), 10), int64(id))
	u["type"] = "User"
	u["node_id"] = nodeID("User", int64(id))
	return u
}

func (r *repo) commitStatusJSON(base, sha string, s *commitStatus, simple bool) obj {
	o := obj{
		"url": r.apiURL(base) + "/statuses/" + sha, "avatar_url": s.creatorUser().json(base)["avatar_url"],
		"id": s.id, "node_id": nodeID("StatusContext", s.id), "state": s.state,
		"description": s.description, "target_url": s.targetURL, "context": s.context,
		"created_at": ts(s.createdAt), "updated_at": ts(s.createdAt),
	}
	if !simple {
		o["creator"] = s.creatorUser().json(base)
	}
	return o
}

// ---- error bodies ----

func basicError(msg, doc string) obj { return obj{"message": msg, "documentation_url": doc} }

func jsonResponse(status int, v any) *response {
	if o, ok := v.(obj); ok && status >= 400 {
		if _, has := o["status"]; !has {
			o["status"] = strconv.Itoa(status) // newer GitHub error bodies carry it, as a string
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"message":"emulator: cannot encode response"}`)
		status = http.StatusInternalServerError
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return &response{status: status, header: h, body: b}
}
