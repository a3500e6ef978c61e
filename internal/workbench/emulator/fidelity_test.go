package emulator_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// Behaviours found by driving the standalone emulator with clients nobody on this project wrote
// (the peer actions' bundles and @octokit/rest).

// TestEmptyListFiltersAreNoFilters: GitHub reads ?ref= (and sha=, task=, environment=) as no
// filter; strumwolf/delete-deployment-environment sends ref= with its default inputs and must find
// every deployment.
func TestEmptyListFiltersAreNoFilters(t *testing.T) {
	a := start(t, emulator.Config{})
	for _, env := range []string{"staging", "production", "preview/pr-1"} {
		a.createDeployment(map[string]any{"ref": "main", "environment": env, "required_contexts": []string{}})
	}
	for _, q := range []string{"ref=", "sha=", "task=", "environment=", "ref=&sha=&task=&environment=", "environment=&per_page=2&page=2"} {
		res := a.do("GET", repoURL+"/deployments?"+q, nil).must(t, 200)
		want := 3
		if strings.Contains(q, "page=2") {
			want = 1
		}
		eq(t, "deployments for ?"+q, len(res.arr()), want)
	}
	// A non-empty filter still filters.
	eq(t, "environment=staging", len(a.do("GET", repoURL+"/deployments?environment=staging&ref=", nil).must(t, 200).arr()), 1)
	eq(t, "task=other", len(a.do("GET", repoURL+"/deployments?task=other&ref=", nil).must(t, 200).arr()), 0)
}

// TestEnvironmentNamesIgnoreCase: GitHub's environment names are not case sensitive. A deployment
// keeps the spelling its request used; the environment keeps the spelling it was created with.
func TestEnvironmentNamesIgnoreCase(t *testing.T) {
	a := start(t, emulator.Config{})
	d1 := a.createDeployment(map[string]any{"ref": "main", "environment": "staging", "required_contexts": []string{}})
	a.addStatus(d1["id"], map[string]any{"state": "success"})

	env := a.do("GET", repoURL+"/environments/STAGING", nil).must(t, 200).obj()
	eq(t, "name", env["name"], any("staging"))

	d2 := a.createDeployment(map[string]any{"ref": "main", "environment": "Staging", "required_contexts": []string{}})
	eq(t, "deployment's environment (as given)", d2["environment"], any("Staging"))
	envs := a.do("GET", repoURL+"/environments", nil).must(t, 200).obj()
	eq(t, "one environment", envs["total_count"], any(float64(1)))
	eq(t, "Environments()", strings.Join(a.e.Environments(owner, repo), ","), "staging")

	// The listing filter matches without case and returns each deployment's own spelling.
	list := a.do("GET", repoURL+"/deployments?environment=STAGING", nil).must(t, 200).arr()
	eq(t, "environment=STAGING", len(list), 2)
	eq(t, "newest first, as given", list[0].(map[string]any)["environment"], any("Staging"))
	eq(t, "older, as given", list[1].(map[string]any)["environment"], any("staging"))

	// auto_inactive treats them as one environment.
	a.addStatus(d2["id"], map[string]any{"state": "success"})
	eq(t, "d1 after d2's success", strings.Join(states(a.e.Deployments(owner, repo)[0]), ","), "success,inactive")

	// PUT with another spelling updates the same environment (its name is kept).
	put := a.do("PUT", repoURL+"/environments/STAGING", map[string]any{"wait_timer": 5}).must(t, 200).obj()
	eq(t, "PUT keeps the name", put["name"], any("staging"))
	eq(t, "still one environment", len(a.e.Environments(owner, repo)), 1)

	// production_environment defaults to true for "production" in any case.
	p := a.createDeployment(map[string]any{"ref": "main", "environment": "Production", "required_contexts": []string{}})
	eq(t, "Production is production", p["production_environment"], any(true))

	// DELETE in another spelling removes the environment and its deployments of either spelling.
	a.do("DELETE", repoURL+"/environments/Staging", nil).must(t, 204)
	a.do("GET", repoURL+"/environments/staging", nil).must(t, 404)
	eq(t, "left: the production deployment", len(a.e.Deployments(owner, repo)), 1)
}

// TestWebhookPayloadsCarryOrganization: GitHub adds organization to payloads of an
// organization-owned repository; the repository object's owner says the same.
func TestWebhookPayloadsCarryOrganization(t *testing.T) {
	rc := newReceiver(t)
	userRepo := emulator.RepoSeed{Owner: "alice", Name: "app", OwnerType: "User"}
	a := start(t, emulator.Config{}, emulator.DefaultRepo(), userRepo)
	a.e.AddHook(rc.srv.URL, "", "*")

	a.createDeployment(map[string]any{"ref": "main", "required_contexts": []string{}})
	a.do("POST", "/repos/alice/app/deployments", map[string]any{"ref": "main"}).must(t, 201)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.e.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	got := rc.all()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2", len(got))
	}
	validator := webhookValidator(t)
	for i, wantOrg := range []string{owner, ""} {
		var p map[string]any
		if err := json.Unmarshal(got[i].body, &p); err != nil {
			t.Fatal(err)
		}
		org, has := p["organization"].(map[string]any)
		ownerType := p["repository"].(map[string]any)["owner"].(map[string]any)["type"]
		if wantOrg == "" {
			if has {
				t.Errorf("a user's repository: payload has organization %v", org["login"])
			}
			eq(t, "owner type", ownerType, any("User"))
		} else {
			if !has {
				t.Fatalf("an organization's repository: payload lacks organization")
			}
			eq(t, "organization login", org["login"], any(wantOrg))
			eq(t, "owner type", ownerType, any("Organization"))
		}
		if validator != nil {
			if err := validator.ValidateWebhook("deployment", got[i].body); err != nil {
				t.Error(err)
			}
		}
	}
	eq(t, "GET org repo owner type", a.do("GET", repoURL, nil).must(t, 200).obj()["owner"].(map[string]any)["type"], any("Organization"))
	eq(t, "GET user repo owner type", a.do("GET", "/repos/alice/app", nil).must(t, 200).obj()["owner"].(map[string]any)["type"], any("User"))
}

// TestRepositoriesByID: every repository route is reachable as /repositories/{id}/..., also
// under /api/v3, and listings' Link headers use that form, as GitHub's do.
func TestRepositoriesByID(t *testing.T) {
	a := start(t, emulator.Config{})
	r := a.do("GET", repoURL, nil).must(t, 200).obj()
	id := jsonNum(r["id"])
	byID := "/repositories/" + id
	eq(t, "GET /repositories/{id}", a.do("GET", byID, nil).must(t, 200).obj()["full_name"], any(owner+"/"+repo))

	d := a.do("POST", byID+"/deployments", map[string]any{"ref": "main", "environment": "a/b", "required_contexts": []string{}}).must(t, 201).obj()
	eq(t, "url is canonical", d["url"], any(a.base+repoURL+"/deployments/"+jsonNum(d["id"])))
	a.do("POST", "/api/v3"+byID+"/deployments/"+jsonNum(d["id"])+"/statuses", map[string]any{"state": "success"}).must(t, 201)
	eq(t, "statuses by id", len(a.do("GET", byID+"/deployments/"+jsonNum(d["id"])+"/statuses", nil).must(t, 200).arr()), 1)
	eq(t, "environment with a slash, encoded", a.do("GET", byID+"/environments/a%2Fb", nil).must(t, 200).obj()["name"], any("a/b"))
	a.do("GET", "/repositories/1/deployments", nil).must(t, 404)
	a.do("GET", "/repositories/x/deployments", nil).must(t, 404)

	for i := 0; i < 4; i++ {
		a.createDeployment(map[string]any{"ref": "main", "required_contexts": []string{}})
	}
	for _, prefix := range []string{"", "/api/v3"} {
		res := a.do("GET", prefix+repoURL+"/deployments?per_page=2&environment=", nil).must(t, 200)
		l := links(res.header.Get("Link"))
		want := a.base + prefix + byID + "/deployments?"
		if !strings.HasPrefix(l["next"], want) || !strings.HasPrefix(l["last"], want) {
			t.Fatalf("Link %q: want URLs starting with %s", res.header.Get("Link"), want)
		}
		u, _ := url.Parse(l["next"])
		eq(t, "next keeps the query", u.Query().Encode(), "environment=&page=2&per_page=2")
		// Following the links walks every deployment.
		seen := len(res.arr())
		for next := l["next"]; next != ""; {
			res := a.do("GET", next, nil).must(t, 200)
			seen += len(res.arr())
			next = links(res.header.Get("Link"))["next"]
		}
		eq(t, "deployments walked via "+strconv.Quote(prefix+"/repositories"), seen, 5)
	}
	eq(t, "recorded path is canonical", a.e.Requests()[1].Path, repoURL)
	eq(t, "recorded path is canonical", a.e.Requests()[2].Path, repoURL+"/deployments")
}
