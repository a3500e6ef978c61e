package emulator_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

func (a *api) waitDeliveries() {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.e.WaitDeliveries(ctx); err != nil {
		a.t.Fatal(err)
	}
}

// payloadOf returns the JSON payload of a delivery, decoding the form content type's
// payload=<urlencoded JSON>.
func payloadOf(t *testing.T, g received) ([]byte, map[string]any) {
	t.Helper()
	raw := g.body
	if g.header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(string(g.body))
		if err != nil {
			t.Fatalf("form body: %v", err)
		}
		raw = []byte(v.Get("payload"))
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("payload is not JSON: %v: %s", err, raw)
	}
	return raw, m
}

func events(got []received) []string {
	var out []string
	for _, g := range got {
		out = append(out, g.header.Get("X-GitHub-Event"))
	}
	return out
}

func TestRepositoryHooksREST(t *testing.T) {
	const secret = "It's a Secret to Everybody"
	jsonRC, formRC, allRC := newReceiver(t), newReceiver(t), newReceiver(t)
	other := emulator.RepoSeed{Owner: "octo-org", Name: "other"}
	a := start(t, emulator.Config{}, emulator.DefaultRepo(), other)
	validator := webhookValidator(t)

	res := a.do("POST", repoURL+"/hooks", map[string]any{
		"name": "web", "events": []string{"deployment", "deployment_status"},
		"config": map[string]any{"url": jsonRC.srv.URL, "content_type": "json", "secret": secret},
	}).must(t, 201)
	h := res.obj()
	hookID := jsonNum(h["id"])
	eq(t, "Location", res.header.Get("Location"), a.base+repoURL+"/hooks/"+hookID)
	eq(t, "type", h["type"], any("Repository"))
	eq(t, "name", h["name"], any("web"))
	eq(t, "active", h["active"], any(true))
	cfg := h["config"].(map[string]any)
	eq(t, "secret is masked", cfg["secret"], any("********"))
	eq(t, "content_type", cfg["content_type"], any("json"))
	eq(t, "insecure_ssl", cfg["insecure_ssl"], any("0"))
	eq(t, "last_response before any delivery", h["last_response"].(map[string]any)["status"], any("unused"))

	// No content_type and no events: GitHub's defaults, form and ["push"].
	form := a.do("POST", repoURL+"/hooks", map[string]any{"config": map[string]any{"url": formRC.srv.URL, "secret": secret}}).must(t, 201).obj()
	eq(t, "default content_type", form["config"].(map[string]any)["content_type"], any("form"))
	eq(t, "default events", len(form["events"].([]any)), 1)
	eq(t, "default events", form["events"].([]any)[0], any("push"))
	all := a.do("POST", repoURL+"/hooks", map[string]any{"events": []string{"*"}, "config": map[string]any{"url": allRC.srv.URL, "content_type": "json"}}).must(t, 201).obj()

	// Events of this repository, and of another one that no hook here must see.
	d := a.createDeployment(map[string]any{"ref": "main", "environment": "staging", "required_contexts": []string{}})
	a.addStatus(d["id"], map[string]any{"state": "success"})
	a.do("POST", "/repos/octo-org/other/deployments", map[string]any{"ref": "main"}).must(t, 201)
	a.waitDeliveries()

	eq(t, "json hook events", join(events(jsonRC.all())), "ping,deployment,deployment_status")
	eq(t, "form hook events (push only)", join(events(formRC.all())), "ping")
	eq(t, "* hook events", join(events(allRC.all())), "ping,deployment,deployment_status")

	for name, rc := range map[string]*receiver{"json": jsonRC, "form": formRC} {
		for i, g := range rc.all() {
			raw, p := payloadOf(t, g)
			ev := g.header.Get("X-GitHub-Event")
			if !hmac.Equal([]byte(g.header.Get("X-Hub-Signature-256")), []byte(emulator.Sign(secret, g.body))) {
				t.Errorf("%s hook delivery %d (%s): X-Hub-Signature-256 is not the HMAC of the body as sent", name, i, ev)
			}
			if g.header.Get("X-Hub-Signature") == "" {
				t.Errorf("%s hook delivery %d: no legacy X-Hub-Signature", name, i)
			}
			if !guidRE.MatchString(g.header.Get("X-GitHub-Delivery")) || !hookshotRE.MatchString(g.header.Get("User-Agent")) {
				t.Errorf("%s hook delivery %d: headers %v", name, i, g.header)
			}
			eq(t, "target type", g.header.Get("X-GitHub-Hook-Installation-Target-Type"), "repository")
			eq(t, "target id", g.header.Get("X-GitHub-Hook-Installation-Target-ID"), jsonNum(a.do("GET", repoURL, nil).obj()["id"]))
			if validator != nil {
				if err := validator.ValidateWebhook(ev, raw); err != nil {
					t.Errorf("%s hook delivery %d: %v", name, i, err)
				}
			}
			if ev == "ping" {
				eq(t, "ping hook_id", jsonNum(p["hook_id"]), g.header.Get("X-GitHub-Hook-ID"))
				if p["zen"] == "" || p["hook"].(map[string]any)["type"] != "Repository" {
					t.Errorf("ping payload %s", raw)
				}
				if _, ok := p["organization"].(map[string]any); !ok {
					t.Errorf("ping of an organization's repository lacks organization")
				}
			}
		}
	}
	eq(t, "json hook id header", jsonRC.all()[0].header.Get("X-GitHub-Hook-ID"), hookID)
	eq(t, "form content type", formRC.all()[0].header.Get("Content-Type"), "application/x-www-form-urlencoded")

	// Listing, reading, last_response.
	list := a.do("GET", repoURL+"/hooks", nil).must(t, 200).arr()
	eq(t, "hooks listed", len(list), 3)
	eq(t, "other repository's hooks", len(a.do("GET", "/repos/octo-org/other/hooks", nil).must(t, 200).arr()), 0)
	got := a.do("GET", repoURL+"/hooks/"+hookID, nil).must(t, 200).obj()
	lr := got["last_response"].(map[string]any)
	eq(t, "last_response code", lr["code"], any(float64(200)))
	eq(t, "last_response status", lr["status"], any("active"))
	a.do("GET", "/repos/octo-org/other/hooks/"+hookID, nil).must(t, 404)

	// PATCH: deactivate the * hook; nothing more reaches it.
	a.do("PATCH", repoURL+"/hooks/"+jsonNum(all["id"]), map[string]any{"active": false}).must(t, 200)
	// PATCH with a config replaces it: the secret is gone unless given again.
	up := a.do("PATCH", repoURL+"/hooks/"+hookID, map[string]any{
		"config": map[string]any{"url": jsonRC.srv.URL, "content_type": "json"}, "add_events": []string{"ping"}, "remove_events": []string{"deployment"},
	}).must(t, 200).obj()
	if _, has := up["config"].(map[string]any)["secret"]; has {
		t.Errorf("secret kept after a PATCH whose config has none: %v", up["config"])
	}
	eq(t, "events after add/remove", len(up["events"].([]any)), 2)
	// The config endpoint changes only what it is given.
	c := a.do("PATCH", repoURL+"/hooks/"+hookID+"/config", map[string]any{"secret": "new-secret"}).must(t, 200).obj()
	eq(t, "config url kept", c["url"], any(jsonRC.srv.URL))
	eq(t, "config content_type kept", c["content_type"], any("json"))
	eq(t, "GET config", a.do("GET", repoURL+"/hooks/"+hookID+"/config", nil).must(t, 200).obj()["secret"], any("********"))

	a.addStatus(d["id"], map[string]any{"state": "failure"})
	a.do("POST", repoURL+"/hooks/"+hookID+"/pings", nil).must(t, 204)
	a.waitDeliveries()
	js := jsonRC.all()
	eq(t, "json hook events after PATCH", join(events(js)), "ping,deployment,deployment_status,deployment_status,ping")
	eq(t, "new secret signs", js[len(js)-1].header.Get("X-Hub-Signature-256"), emulator.Sign("new-secret", js[len(js)-1].body))
	eq(t, "inactive hook got nothing more", len(allRC.all()), 3)

	// DELETE.
	a.do("DELETE", repoURL+"/hooks/"+hookID, nil).must(t, 204)
	a.do("GET", repoURL+"/hooks/"+hookID, nil).must(t, 404)
	a.do("POST", repoURL+"/hooks/"+hookID+"/pings", nil).must(t, 404)
	a.do("GET", repoURL+"/hooks/abc", nil).must(t, 404)

	// Deliveries() names the hook of each delivery.
	for _, dl := range a.e.Deliveries() {
		if dl.HookID == 0 || dl.Status != 200 {
			t.Errorf("delivery %+v", dl)
		}
	}
}

func join(s []string) string { return strings.Join(s, ",") }

func TestRepositoryHooksRefusals(t *testing.T) {
	rc := newReceiver(t)
	a := start(t, emulator.Config{Tokens: map[string]emulator.Permissions{
		"admin":  {DeploymentsWrite: true, DeploymentsRead: true, Administration: true},
		"writer": {DeploymentsWrite: true, DeploymentsRead: true},
	}})
	a.token = "writer"
	a.do("POST", repoURL+"/hooks", map[string]any{"config": map[string]any{"url": rc.srv.URL}}).must(t, 403)
	a.do("GET", repoURL+"/hooks", nil).must(t, 403)
	a.token = "admin"
	for _, body := range []map[string]any{
		{"events": []string{"deployment"}},                                                    // no url
		{"config": map[string]any{"url": rc.srv.URL, "content_type": "xml"}},                  // bad content type
		{"name": "email", "config": map[string]any{"url": rc.srv.URL}},                        // only "web"
		{"config": map[string]any{"url": "ftp://example.com/x"}},                              // not http(s)
		{"config": map[string]any{"url": rc.srv.URL, "insecure_ssl": "2"}},                    // 0 or 1
		{"config": map[string]any{"url": rc.srv.URL}, "events": "deployment"},                 // not an array
		{"config": map[string]any{"url": rc.srv.URL}, "events": []string{"*"}, "colour": "x"}, // unknown key
	} {
		a.do("POST", repoURL+"/hooks", body).must(t, 422)
	}
	// An inactive hook gets no ping at creation; an explicit ping reaches it.
	h := a.do("POST", repoURL+"/hooks", map[string]any{"active": false, "config": map[string]any{"url": rc.srv.URL, "insecure_ssl": 0}}).must(t, 201).obj()
	a.do("POST", repoURL+"/hooks", map[string]any{"config": map[string]any{"url": rc.srv.URL}}).must(t, 422) // already exists
	a.waitDeliveries()
	eq(t, "no ping for an inactive hook", len(rc.all()), 0)
	a.do("POST", repoURL+"/hooks/"+jsonNum(h["id"])+"/pings", nil).must(t, 204)
	a.waitDeliveries()
	eq(t, "explicit ping", join(events(rc.all())), "ping")
	a.do("GET", "/repos/octo-org/nope/hooks", nil).must(t, 404)

	// AddHook's hooks (every repository) are not the REST API's.
	a.e.AddHook(rc.srv.URL, "")
	eq(t, "REST listing", len(a.do("GET", repoURL+"/hooks", nil).must(t, 200).arr()), 1)
}
