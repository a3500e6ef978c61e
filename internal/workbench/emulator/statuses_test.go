package emulator_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

func TestDeploymentStatusFields(t *testing.T) {
	a := start(t, emulator.Config{})
	d := a.createDeployment(map[string]any{"ref": "main", "environment": "staging"})
	id := jsonNum(d["id"])

	res := a.do("POST", repoURL+"/deployments/"+id+"/statuses", map[string]any{
		"state": "in_progress", "log_url": "https://ci.example/run/1", "environment_url": "https://staging.example",
		"description": "rolling out",
	}).must(t, 201)
	s := res.obj()
	eq(t, "state", s["state"], any("in_progress"))
	eq(t, "log_url", s["log_url"], any("https://ci.example/run/1"))
	eq(t, "target_url (from log_url)", s["target_url"], any("https://ci.example/run/1"))
	eq(t, "environment_url", s["environment_url"], any("https://staging.example"))
	eq(t, "environment (from deployment)", s["environment"], any("staging"))
	eq(t, "description", s["description"], any("rolling out"))
	eq(t, "deployment_url", s["deployment_url"], d["url"])
	eq(t, "repository_url", s["repository_url"], any(a.base+repoURL))
	wantURL := a.base + repoURL + "/deployments/" + id + "/statuses/" + jsonNum(s["id"])
	eq(t, "url", s["url"], any(wantURL))
	eq(t, "Location", res.header.Get("Location"), wantURL)
	a.do("GET", s["url"].(string), nil).must(t, 200)

	// target_url alone is accepted and mirrored into log_url
	s = a.addStatus(id, map[string]any{"state": "queued", "target_url": "https://ci.example/run/2"})
	eq(t, "target_url", s["target_url"], any("https://ci.example/run/2"))
	eq(t, "log_url (from target_url)", s["log_url"], any("https://ci.example/run/2"))
	eq(t, "description default", s["description"], any(""))

	// environment fallback: an explicit environment sticks for later statuses
	s = a.addStatus(id, map[string]any{"state": "pending", "environment": "staging-eu"})
	eq(t, "explicit env", s["environment"], any("staging-eu"))
	s = a.addStatus(id, map[string]any{"state": "success"})
	eq(t, "env from previous status", s["environment"], any("staging-eu"))
	// the deployment moved with its statuses; original_environment remembers where it started
	got := a.do("GET", repoURL+"/deployments/"+id, nil).must(t, 200).obj()
	eq(t, "deployment env", got["environment"], any("staging-eu"))
	eq(t, "original env", got["original_environment"], any("staging"))

	// list: newest first, paging with Link
	res = a.do("GET", repoURL+"/deployments/"+id+"/statuses?per_page=2", nil).must(t, 200)
	list := res.arr()
	eq(t, "page size", len(list), 2)
	eq(t, "newest first", list[0].(map[string]any)["state"], any("success"))
	eq(t, "second", list[1].(map[string]any)["state"], any("pending"))
	l := links(res.header.Get("Link"))
	if l["next"] == "" || l["last"] == "" {
		t.Errorf("links %v", l)
	}
	res = a.do("GET", l["last"], nil).must(t, 200)
	eq(t, "last page", len(res.arr()), 2)
	eq(t, "oldest last", res.arr()[1].(map[string]any)["state"], any("in_progress"))

	// every state is accepted
	for _, st := range []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"} {
		a.addStatus(id, map[string]any{"state": st})
	}
	// snapshot
	deps := a.e.Deployments(owner, repo)
	if n := len(deps[0].Statuses); n != 11 {
		t.Errorf("%d statuses in snapshot", n)
	}
	eq(t, "snapshot oldest first", deps[0].Statuses[0].State, "in_progress")
	eq(t, "snapshot log url", deps[0].Statuses[0].LogURL, "https://ci.example/run/1")
}

func TestDeploymentStatusValidation(t *testing.T) {
	a := start(t, emulator.Config{})
	d := a.createDeployment(map[string]any{"ref": "main"})
	id := jsonNum(d["id"])
	p := repoURL + "/deployments/" + id + "/statuses"

	a.do("POST", p, map[string]any{"state": "bogus"}).must(t, 422)
	a.do("POST", p, map[string]any{"description": "no state"}).must(t, 422)
	res := a.do("POST", p, map[string]any{"state": "success", "description": strings.Repeat("x", 141)}).must(t, 422)
	if errs, ok := res.obj()["errors"].([]any); !ok || errs[0].(map[string]any)["field"] != "description" {
		t.Errorf("422 body %s", res.raw)
	}
	// exactly 140 (multi-byte) characters is fine
	a.addStatus(id, map[string]any{"state": "success", "description": strings.Repeat("é", 140)})
	a.do("POST", p, map[string]any{"state": "success", "log_url": "not a url"}).must(t, 422)

	a.do("POST", repoURL+"/deployments/424242/statuses", map[string]any{"state": "success"}).must(t, 404)
	a.do("GET", repoURL+"/deployments/424242/statuses", nil).must(t, 404)
	a.do("GET", p+"/424242", nil).must(t, 404)
	if n := len(a.e.Deployments(owner, repo)[0].Statuses); n != 1 {
		t.Errorf("%d statuses, want 1", n)
	}
}

func TestAutoInactive(t *testing.T) {
	a := start(t, emulator.Config{})
	dep := func(body map[string]any) string { return jsonNum(a.createDeployment(body)["id"]) }
	// staging: three non-transient deployments
	s1 := dep(map[string]any{"ref": "main", "environment": "staging"})
	s2 := dep(map[string]any{"ref": "main", "environment": "staging"})
	sTrans := dep(map[string]any{"ref": "main", "environment": "staging", "transient_environment": true})
	sProdFlag := dep(map[string]any{"ref": "main", "environment": "staging", "production_environment": true})
	sFailed := dep(map[string]any{"ref": "main", "environment": "staging"})
	other := dep(map[string]any{"ref": "main", "environment": "qa"})
	p1 := dep(map[string]any{"ref": "main"}) // production
	for _, id := range []string{s1, s2, sTrans, sProdFlag, other, p1} {
		a.addStatus(id, map[string]any{"state": "success"})
	}
	a.addStatus(sFailed, map[string]any{"state": "failure"})
	// s2's success made s1 inactive already.
	latest := func(id string) string {
		for _, d := range a.e.Deployments(owner, repo) {
			if jsonNum(d.ID) == id {
				return d.Statuses[len(d.Statuses)-1].State
			}
		}
		return "?"
	}
	eq(t, "s1 after s2 success", latest(s1), "inactive")

	s3 := dep(map[string]any{"ref": "main", "environment": "staging"})
	a.addStatus(s3, map[string]any{"state": "success"})
	eq(t, "s2", latest(s2), "inactive")
	eq(t, "transient untouched", latest(sTrans), "success")
	eq(t, "production flag untouched", latest(sProdFlag), "success")
	eq(t, "failed untouched", latest(sFailed), "failure")
	eq(t, "other env untouched", latest(other), "success")
	eq(t, "production untouched", latest(p1), "success")
	eq(t, "s3 itself", latest(s3), "success")

	p2 := dep(map[string]any{"ref": "main"})
	a.addStatus(p2, map[string]any{"state": "success"})
	eq(t, "production never auto-inactivated", latest(p1), "success")

	// auto_inactive false leaves earlier deployments alone
	s4 := dep(map[string]any{"ref": "main", "environment": "staging"})
	a.addStatus(s4, map[string]any{"state": "success", "auto_inactive": false})
	eq(t, "s3 with auto_inactive=false", latest(s3), "success")

	// a non-success state does not inactivate
	s5 := dep(map[string]any{"ref": "main", "environment": "staging"})
	a.addStatus(s5, map[string]any{"state": "in_progress"})
	eq(t, "s4 after in_progress", latest(s4), "success")

	// the inactive status carries the deployment's environment and shows in the list
	res := a.do("GET", repoURL+"/deployments/"+s1+"/statuses", nil).must(t, 200)
	top := res.arr()[0].(map[string]any)
	eq(t, "inactive listed first", top["state"], any("inactive"))
	eq(t, "inactive env", top["environment"], any("staging"))

	// explicit inactive on a transient deployment is just stored
	a.addStatus(sTrans, map[string]any{"state": "inactive"})
	eq(t, "transient inactive", latest(sTrans), "inactive")

	// status environment decides: a success reported for "staging" by a qa deployment
	// inactivates staging deployments
	q2 := dep(map[string]any{"ref": "main", "environment": "qa"})
	a.addStatus(q2, map[string]any{"state": "success", "environment": "staging"})
	eq(t, "s3 inactivated via status environment", latest(s3), "inactive")
	eq(t, "qa untouched", latest(other), "success")

	// later deployments are never touched
	if !slices.Equal(states(a.e.Deployments(owner, repo)[len(a.e.Deployments(owner, repo))-1]), []string{"success"}) {
		t.Errorf("newest deployment statuses changed")
	}
}

func TestCommitStatuses(t *testing.T) {
	a := start(t, emulator.Config{})
	sha := seed.Branches["main"]
	res := a.do("GET", repoURL+"/commits/main/status", nil).must(t, 200)
	eq(t, "no statuses: pending", res.obj()["state"], any("pending"))
	eq(t, "total_count", res.obj()["total_count"], any(0.0))

	res = a.do("POST", repoURL+"/statuses/"+sha, map[string]any{"state": "success"}).must(t, 201)
	eq(t, "default context", res.obj()["context"], any("default"))
	eq(t, "Location", res.header.Get("Location"), a.base+repoURL+"/statuses/"+sha)
	a.do("POST", repoURL+"/statuses/"+sha, map[string]any{"state": "pending", "context": "ci", "target_url": "https://ci.example/1", "description": "running"}).must(t, 201)

	res = a.do("GET", repoURL+"/commits/main/status", nil).must(t, 200)
	eq(t, "pending", res.obj()["state"], any("pending"))
	eq(t, "sha", res.obj()["sha"], any(sha))
	eq(t, "count", res.obj()["total_count"], any(2.0))

	a.do("POST", repoURL+"/statuses/"+sha, map[string]any{"state": "success", "context": "ci"}).must(t, 201)
	for _, ref := range []string{"main", "heads/main", sha, sha[:8]} {
		res = a.do("GET", repoURL+"/commits/"+ref+"/status", nil).must(t, 200)
		eq(t, "success via "+ref, res.obj()["state"], any("success"))
	}
	a.do("POST", repoURL+"/statuses/"+sha, map[string]any{"state": "error", "context": "lint"}).must(t, 201)
	res = a.do("GET", repoURL+"/commits/main/status", nil).must(t, 200)
	eq(t, "failure", res.obj()["state"], any("failure"))

	res = a.do("GET", repoURL+"/commits/main/statuses", nil).must(t, 200)
	eq(t, "all statuses", len(res.arr()), 4)
	eq(t, "newest first", res.arr()[0].(map[string]any)["context"], any("lint"))
	res = a.do("GET", repoURL+"/commits/"+seed.Tags["v1.0.0"]+"/statuses", nil).must(t, 200)
	eq(t, "other sha", len(res.arr()), 0)
	a.do("GET", repoURL+"/commits/tags/v1.0.0/status", nil).must(t, 200)

	a.do("GET", repoURL+"/commits/nope/status", nil).must(t, 404)

	// GitHub answers 422 here though the description documents only 201: checked without the
	// conformance hook.
	r := startRaw(t, emulator.Config{})
	r.do("POST", repoURL+"/statuses/"+sha, map[string]any{"state": "in_progress"}).must(t, 422)
	res = r.do("POST", repoURL+"/statuses/"+strings.Repeat("1", 40), map[string]any{"state": "success"}).must(t, 422)
	eq(t, "message", res.obj()["message"], any("No commit found for SHA: "+strings.Repeat("1", 40)))
}
