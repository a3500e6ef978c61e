package emulator_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

func TestCreateDeploymentDefaults(t *testing.T) {
	a := start(t, emulator.Config{})
	res := a.do("POST", repoURL+"/deployments", map[string]any{"ref": "main"}).must(t, 201)
	d := res.obj()
	eq(t, "task", d["task"], any("deploy"))
	eq(t, "environment", d["environment"], any("production"))
	eq(t, "original_environment", d["original_environment"], any("production"))
	eq(t, "transient_environment", d["transient_environment"], any(false))
	eq(t, "production_environment", d["production_environment"], any(true))
	eq(t, "sha", d["sha"], any(seed.Branches["main"]))
	eq(t, "ref", d["ref"], any("main"))
	eq(t, "description", d["description"], nil)
	if p, ok := d["payload"].(map[string]any); !ok || len(p) != 0 {
		t.Errorf("payload = %#v, want {}", d["payload"])
	}
	eq(t, "performed_via_github_app", d["performed_via_github_app"], nil)
	if c, ok := d["creator"].(map[string]any); !ok || c["login"] == "" || c["type"] == nil {
		t.Errorf("creator = %#v", d["creator"])
	}
	id := jsonNum(d["id"])
	wantURL := a.base + repoURL + "/deployments/" + id
	eq(t, "url", d["url"], any(wantURL))
	eq(t, "statuses_url", d["statuses_url"], any(wantURL+"/statuses"))
	eq(t, "repository_url", d["repository_url"], any(a.base+repoURL))
	eq(t, "Location", res.header.Get("Location"), wantURL)
	if d["node_id"] == "" || d["created_at"] == nil || d["updated_at"] == nil {
		t.Errorf("missing node_id/created_at/updated_at: %s", res.raw)
	}
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset", "X-RateLimit-Resource", "X-GitHub-Request-Id", "X-GitHub-Media-Type"} {
		if res.header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	eq(t, "Content-Type", res.header.Get("Content-Type"), "application/json; charset=utf-8")

	// Following the URLs works.
	got := a.do("GET", d["url"].(string), nil).must(t, 200).obj()
	eq(t, "GET id", got["id"], d["id"])

	// Environment created with the deployment.
	a.do("GET", repoURL+"/environments/production", nil).must(t, 200)
}

func TestCreateDeploymentExplicitFields(t *testing.T) {
	a := start(t, emulator.Config{})
	d := a.createDeployment(map[string]any{
		"ref": "v1.0.0", "task": "deploy:migrations", "environment": "staging", "description": "hi",
		"transient_environment": true, "auto_merge": false, "required_contexts": []string{},
	})
	eq(t, "task", d["task"], any("deploy:migrations"))
	eq(t, "environment", d["environment"], any("staging"))
	eq(t, "production_environment", d["production_environment"], any(false))
	eq(t, "transient_environment", d["transient_environment"], any(true))
	eq(t, "description", d["description"], any("hi"))
	eq(t, "sha", d["sha"], any(seed.Tags["v1.0.0"]))

	d = a.createDeployment(map[string]any{"ref": "main", "environment": "qa", "production_environment": true})
	eq(t, "production_environment explicit", d["production_environment"], any(true))
	d = a.createDeployment(map[string]any{"ref": "main", "production_environment": false})
	eq(t, "production_environment explicit false", d["production_environment"], any(false))
}

func TestRefResolution(t *testing.T) {
	a := start(t, emulator.Config{})
	main := seed.Branches["main"]
	for _, ref := range []string{"main", "refs/heads/main", main, main[:7], strings.ToUpper(main[:12])} {
		d := a.createDeployment(map[string]any{"ref": ref})
		eq(t, "sha for "+ref, d["sha"], any(main))
		eq(t, "ref echoed", d["ref"], any(ref))
	}
	d := a.createDeployment(map[string]any{"ref": "refs/tags/v1.0.0"})
	eq(t, "tag sha", d["sha"], any(seed.Tags["v1.0.0"]))

	for _, ref := range []string{"nope", main[:6], strings.Repeat("0", 40), "refs/heads/v1.0.0"} {
		res := a.do("POST", repoURL+"/deployments", map[string]any{"ref": ref}).must(t, 422)
		eq(t, "message", res.obj()["message"], any("No ref found for: "+ref))
		if res.obj()["documentation_url"] == nil {
			t.Errorf("422 without documentation_url")
		}
	}
	// ref missing.
	res := a.do("POST", repoURL+"/deployments", map[string]any{"task": "deploy"}).must(t, 422)
	if !strings.Contains(res.obj()["message"].(string), "ref") {
		t.Errorf("message %q", res.obj()["message"])
	}
	// wrong type.
	a.do("POST", repoURL+"/deployments", map[string]any{"ref": 12}).must(t, 422)
	if n := len(a.e.Deployments(owner, repo)); n != 6 {
		t.Errorf("%d deployments, want 6 (failed requests must create none)", n)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	a := start(t, emulator.Config{})
	// object
	d := a.createDeployment(map[string]any{"ref": "main", "payload": map[string]any{"a": 1.5, "b": []any{"x"}}})
	p, ok := d["payload"].(map[string]any)
	if !ok || p["a"] != 1.5 || fmt.Sprint(p["b"]) != "[x]" {
		t.Errorf("object payload = %#v", d["payload"])
	}
	got := a.do("GET", repoURL+"/deployments/"+jsonNum(d["id"]), nil).must(t, 200).obj()
	if _, ok := got["payload"].(map[string]any); !ok {
		t.Errorf("GET payload = %#v", got["payload"])
	}
	// string stays a string, byte for byte
	s := `{"user":"atmos","room_id":123456}`
	d = a.createDeployment(map[string]any{"ref": "main", "payload": s})
	eq(t, "string payload", d["payload"], any(s))
	got = a.do("GET", repoURL+"/deployments/"+jsonNum(d["id"]), nil).must(t, 200).obj()
	eq(t, "GET string payload", got["payload"], any(s))
	deps := a.e.Deployments(owner, repo)
	eq(t, "snapshot string payload", deps[1].Payload, any(s))
	// a number is not an accepted payload
	a.do("POST", repoURL+"/deployments", map[string]any{"ref": "main", "payload": 3}).must(t, 422)
}

func TestRequiredContexts(t *testing.T) {
	a := start(t, emulator.Config{})
	sha := seed.Branches["main"]
	// No statuses: passes.
	a.createDeployment(map[string]any{"ref": "main"})

	a.e.SetCommitStatus(owner, repo, sha, "ci/build", "success")
	a.e.SetCommitStatus(owner, repo, sha, "ci/lint", "failure")
	a.e.SetCommitStatus(owner, repo, sha, "ci/test", "pending")
	res := a.do("POST", repoURL+"/deployments", map[string]any{"ref": "main"}).must(t, 409)
	body := res.obj()
	eq(t, "message", body["message"], any("Conflict: Commit status checks failed for main."))
	errs := body["errors"].([]any)
	e0 := errs[0].(map[string]any)
	eq(t, "resource", e0["resource"], any("Deployment"))
	eq(t, "field", e0["field"], any("required_contexts"))
	eq(t, "code", e0["code"], any("invalid"))
	ctxs := e0["contexts"].([]any)
	got := map[string]string{}
	for _, c := range ctxs {
		m := c.(map[string]any)
		got[m["context"].(string)] = m["state"].(string)
	}
	if len(got) != 2 || got["ci/lint"] != "failure" || got["ci/test"] != "pending" {
		t.Errorf("failing contexts = %v", got)
	}

	// [] skips the check.
	a.createDeployment(map[string]any{"ref": "main", "required_contexts": []string{}})
	// Listed contexts: only those count.
	a.createDeployment(map[string]any{"ref": "main", "required_contexts": []string{"ci/build"}})
	res = a.do("POST", repoURL+"/deployments", map[string]any{"ref": "main", "required_contexts": []string{"ci/build", "ci/missing"}}).must(t, 409)
	ctxs = res.obj()["errors"].([]any)[0].(map[string]any)["contexts"].([]any)
	if len(ctxs) != 1 || ctxs[0].(map[string]any)["context"] != "ci/missing" {
		t.Errorf("missing context not reported: %s", res.raw)
	}
	// Latest status per context counts.
	a.e.SetCommitStatus(owner, repo, sha, "ci/lint", "success")
	a.e.SetCommitStatus(owner, repo, sha, "ci/test", "success")
	a.createDeployment(map[string]any{"ref": "main"})
	// Statuses through the API count too.
	a.do("POST", repoURL+"/statuses/"+sha, map[string]any{"state": "error", "context": "ci/build"}).must(t, 201)
	a.do("POST", repoURL+"/deployments", map[string]any{"ref": sha[:10]}).must(t, 409)
	if n := len(a.e.Deployments(owner, repo)); n != 4 {
		t.Errorf("%d deployments, want 4", n)
	}
}

func TestAutoMerge(t *testing.T) {
	a := start(t, emulator.Config{})
	res := a.do("POST", repoURL+"/deployments", map[string]any{"ref": "feature-x"}).must(t, 202)
	eq(t, "message", res.obj()["message"], any("Auto-merged main into feature-x on deployment."))
	if n := len(a.e.Deployments(owner, repo)); n != 0 {
		t.Fatalf("202 created %d deployments", n)
	}
	d := a.createDeployment(map[string]any{"ref": "feature-x"})
	eq(t, "ref", d["ref"], any("feature-x"))

	// auto_merge false deploys a behind branch directly.
	s := emulator.DefaultRepo()
	s.Name = "other"
	a.e.AddRepo(s)
	a.do("POST", "/repos/octo-org/other/deployments", map[string]any{"ref": "feature-x", "auto_merge": false}).must(t, 201)

	// merge conflict
	s.Name = "conflicted"
	s.Conflicts = map[string]bool{"feature-x": true}
	a.e.AddRepo(s)
	res = a.do("POST", "/repos/octo-org/conflicted/deployments", map[string]any{"ref": "feature-x"}).must(t, 409)
	eq(t, "conflict message", res.obj()["message"], any("Conflict merging main into feature-x."))
}

var linkRE = regexp.MustCompile(`<([^>]+)>; rel="(\w+)"`)

func links(h string) map[string]string {
	out := map[string]string{}
	for _, m := range linkRE.FindAllStringSubmatch(h, -1) {
		out[m[2]] = m[1]
	}
	return out
}

func TestListPagingAndLinks(t *testing.T) {
	a := start(t, emulator.Config{})
	for i := 0; i < 250; i++ {
		a.createDeployment(map[string]any{"ref": "main", "environment": fmt.Sprintf("env-%d", i%3), "required_contexts": []string{}})
	}
	// default page size 30, newest first
	res := a.do("GET", repoURL+"/deployments", nil).must(t, 200)
	if n := len(res.arr()); n != 30 {
		t.Fatalf("default page has %d items", n)
	}
	all := a.e.Deployments(owner, repo)
	eq(t, "newest first", jsonNum(res.arr()[0].(map[string]any)["id"]), jsonNum(all[249].ID))
	l := links(res.header.Get("Link"))
	if l["next"] == "" || l["last"] == "" || l["prev"] != "" || l["first"] != "" {
		t.Errorf("page 1 links %v", l)
	}
	if u, _ := url.Parse(l["last"]); u.Query().Get("page") != "9" {
		t.Errorf("last = %s", l["last"])
	}

	// walk with per_page=100 following next links
	next := a.base + repoURL + "/deployments?per_page=100"
	var seen []float64
	pages := 0
	for next != "" {
		res := a.do("GET", next, nil).must(t, 200)
		for _, d := range res.arr() {
			seen = append(seen, d.(map[string]any)["id"].(float64))
		}
		pages++
		l := links(res.header.Get("Link"))
		if pages > 1 && (l["prev"] == "" || l["first"] == "") {
			t.Errorf("page %d lacks prev/first: %v", pages, l)
		}
		next = l["next"]
	}
	eq(t, "pages", pages, 3)
	eq(t, "items", len(seen), 250)
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("not newest first at %d", i)
		}
	}
	// per_page above 100 is capped
	res = a.do("GET", repoURL+"/deployments?per_page=500", nil).must(t, 200)
	eq(t, "capped", len(res.arr()), 100)
	// beyond the last page: empty
	res = a.do("GET", repoURL+"/deployments?page=50", nil).must(t, 200)
	eq(t, "beyond last", len(res.arr()), 0)

	// filters
	res = a.do("GET", repoURL+"/deployments?environment=env-1&per_page=100", nil).must(t, 200)
	eq(t, "env filter", len(res.arr()), 83)
	res = a.do("GET", repoURL+"/deployments?environment=env-1&sha="+seed.Branches["main"]+"&ref=main&task=deploy&per_page=100", nil).must(t, 200)
	eq(t, "combined filter", len(res.arr()), 83)
	res = a.do("GET", repoURL+"/deployments?task=other", nil).must(t, 200)
	eq(t, "task filter", len(res.arr()), 0)
	res = a.do("GET", repoURL+"/deployments?ref=feature-x", nil).must(t, 200)
	eq(t, "ref filter", len(res.arr()), 0)
}

func TestGetAndDeleteDeployment(t *testing.T) {
	a := start(t, emulator.Config{})
	a.do("GET", repoURL+"/deployments/12345", nil).must(t, 404)
	a.do("GET", repoURL+"/deployments/abc", nil).must(t, 404)

	only := a.createDeployment(map[string]any{"ref": "main"})
	a.addStatus(only["id"], map[string]any{"state": "success"})
	// the only deployment can be deleted whatever its state
	a.do("DELETE", repoURL+"/deployments/"+jsonNum(only["id"]), nil).must(t, 204)
	a.do("GET", repoURL+"/deployments/"+jsonNum(only["id"]), nil).must(t, 404)

	d1 := a.createDeployment(map[string]any{"ref": "main", "environment": "staging"})
	d2 := a.createDeployment(map[string]any{"ref": "main", "environment": "staging"})
	a.addStatus(d1["id"], map[string]any{"state": "success"})
	res := a.do("DELETE", repoURL+"/deployments/"+jsonNum(d1["id"]), nil).must(t, 422)
	eq(t, "message", res.obj()["message"], any("We cannot delete an active deployment unless it is the only deployment in a given environment."))
	if errs, ok := res.obj()["errors"].([]any); !ok || len(errs) == 0 {
		t.Errorf("errors = %#v", res.obj()["errors"])
	} else if _, ok := errs[0].(string); !ok {
		t.Errorf("errors must be strings (validation-error-simple): %#v", errs)
	}
	// d2 has no status at all: still not inactive
	a.do("DELETE", repoURL+"/deployments/"+jsonNum(d2["id"]), nil).must(t, 422)
	// success on d2 makes d1 inactive (non-production); then d1 can go
	a.addStatus(d2["id"], map[string]any{"state": "success"})
	a.do("DELETE", repoURL+"/deployments/"+jsonNum(d1["id"]), nil).must(t, 204)
	deps := a.e.Deployments(owner, repo)
	if len(deps) != 1 || deps[0].ID != int64(d2["id"].(float64)) {
		t.Errorf("remaining deployments %+v", deps)
	}
	a.do("DELETE", repoURL+"/deployments/99999999", nil).must(t, 404)
}
