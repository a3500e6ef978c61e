package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// GitHub's repository webhooks REST API (../shared/notes/toolkit-facts.md §12): a hook made here
// is a hook of AddHook's kind bound to one repository, so both are delivered by the same worker.

func (e *Emulator) hookRoutes() {
	const (
		admin = scopeAdministration
		read  = AccessRead
		write = AccessWrite
	)
	e.repoRoute("GET /repos/{owner}/{repo}/hooks", admin, read, (*hctx).listHooks)
	e.repoRoute("POST /repos/{owner}/{repo}/hooks", admin, write, (*hctx).createHook)
	e.repoRoute("GET /repos/{owner}/{repo}/hooks/{hook_id}", admin, read, (*hctx).getHook)
	e.repoRoute("PATCH /repos/{owner}/{repo}/hooks/{hook_id}", admin, write, (*hctx).updateHook)
	e.repoRoute("DELETE /repos/{owner}/{repo}/hooks/{hook_id}", admin, write, (*hctx).deleteHook)
	e.repoRoute("GET /repos/{owner}/{repo}/hooks/{hook_id}/config", admin, read, (*hctx).getHookConfig)
	e.repoRoute("PATCH /repos/{owner}/{repo}/hooks/{hook_id}/config", admin, write, (*hctx).updateHookConfig)
	e.repoRoute("POST /repos/{owner}/{repo}/hooks/{hook_id}/pings", admin, write, (*hctx).pingHook)
}

func (r *repo) hookURL(base string, h *hook) string {
	return r.apiURL(base) + "/hooks/" + strconv.FormatInt(h.id, 10)
}

func (h *hook) configJSON() obj {
	o := obj{"content_type": h.contentType, "insecure_ssl": h.insecureSSL, "url": h.url}
	if h.secret != "" {
		o["secret"] = "********" // GitHub never shows a secret back
	}
	return o
}

func (h hookResponse) json() obj {
	o := obj{"code": nil, "status": h.status, "message": nil}
	if h.code != 0 {
		o["code"] = h.code
	}
	if h.message != "" {
		o["message"] = h.message
	}
	return o
}

// hookJSON renders hook (REST) and the hook of a ping payload.
func (r *repo) hookJSON(base string, h *hook) obj {
	u := r.hookURL(base, h)
	return obj{
		"type": "Repository", "id": h.id, "name": "web", "active": h.active,
		"events": append([]string{}, h.eventList...), "config": h.configJSON(),
		"updated_at": ts(h.updatedAt), "created_at": ts(h.createdAt),
		"url": u, "test_url": u + "/test", "ping_url": u + "/pings", "deliveries_url": u + "/deliveries",
		"last_response": h.last.json(),
	}
}

// zen is what a ping says (GitHub picks one of its design principles).
var zen = []string{
	"Design for failure.", "Keep it logically awesome.", "Speak like a human.",
	"Practicality beats purity.", "Non-blocking is better than blocking.", "Favor focus over features.",
	"Approachable is better than simple.", "Responsive is better than fast.",
}

// pingLocked delivers the ping event to h alone, whatever its events.
func (e *Emulator) pingLocked(r *repo, base string, h *hook, sender *user) {
	payload := obj{"zen": zen[h.id%int64(len(zen))], "hook_id": h.id, "hook": r.hookJSON(base, h), "sender": sender.json(base)}
	r.addOwner(base, payload)
	b, err := json.Marshal(payload)
	if err != nil {
		e.logf("emulator: ping payload: %v", err)
		return
	}
	e.queueLocked(delivery{hook: h, event: "ping", id: newGUID(), payload: b, targetID: r.id})
}

func (c *hctx) hookFromPath() (*hook, *response) {
	id, err := strconv.ParseInt(c.r.PathValue("hook_id"), 10, 64)
	if err != nil {
		return nil, notFound()
	}
	for _, h := range c.e.hooks {
		if h.id == id && h.repo == c.repo {
			return h, nil
		}
	}
	return nil, notFound()
}

func hookInvalid(doc, msg string) *response {
	return jsonResponse(http.StatusUnprocessableEntity, obj{
		"message": "Validation Failed", "documentation_url": doc,
		"errors": []any{obj{"resource": "Hook", "code": "custom", "message": msg}},
	})
}

// hookConfig is a config object of a request; each field nil when absent.
type hookConfig struct {
	url, contentType, secret, insecureSSL *string
}

// applyTo sets the fields the config gives on h (the others keep their values).
func (hc hookConfig) applyTo(h *hook) {
	if hc.contentType != nil {
		h.contentType = *hc.contentType
	}
	if hc.secret != nil {
		h.secret = *hc.secret
	}
	if hc.insecureSSL != nil {
		h.insecureSSL = *hc.insecureSSL
	}
}

func (c *hctx) parseHookConfig(raw json.RawMessage, doc string) (hookConfig, *response) {
	var hc hookConfig
	f := fields{}
	if err := json.Unmarshal(raw, &f); err != nil {
		return hc, invalidRequest(fmt.Sprintf("For 'properties/config', %s is not an object.", string(raw)), doc)
	}
	for name, dst := range map[string]**string{"url": &hc.url, "content_type": &hc.contentType, "secret": &hc.secret} {
		s, has, bad := f.str(name, doc)
		if bad != nil {
			return hc, bad
		}
		if has {
			*dst = &s
		}
	}
	if v, has := f["insecure_ssl"]; has && !isNull(v) {
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(v, &s) == nil:
		case json.Unmarshal(v, &n) == nil:
			s = n.String()
		default:
			return hc, invalidRequest(fmt.Sprintf("For 'properties/insecure_ssl', %s is not a string or a number.", string(v)), doc)
		}
		if s != "0" && s != "1" {
			return hc, hookInvalid(doc, "insecure_ssl must be 0 or 1")
		}
		hc.insecureSSL = &s
	}
	if hc.contentType != nil && *hc.contentType != "json" && *hc.contentType != "form" {
		return hc, hookInvalid(doc, fmt.Sprintf("%q is not a valid content type (json or form)", *hc.contentType))
	}
	if hc.url != nil {
		if u, err := url.Parse(*hc.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return hc, hookInvalid(doc, "url is not a valid URL")
		}
	}
	return hc, nil
}

func stringList(f fields, name, doc string) ([]string, bool, *response) {
	raw, has := f[name]
	if !has || isNull(raw) {
		return nil, false, nil
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, false, invalidRequest(fmt.Sprintf("For 'properties/%s', %s is not an array of strings.", name, string(raw)), doc)
	}
	return out, true, nil
}

func (c *hctx) duplicateHook(u string, except *hook) bool {
	for _, h := range c.e.hooks {
		if h.repo == c.repo && h != except && h.url == u {
			return true
		}
	}
	return false
}

func (c *hctx) createHook() *response {
	doc := docURL("repos/webhooks#create-a-repository-webhook")
	f, bad := c.parseBody(doc, true)
	if bad != nil {
		return bad
	}
	for k := range f {
		switch k {
		case "name", "config", "events", "active":
		default:
			return invalidRequest(fmt.Sprintf("For 'properties', %q is not a permitted key.", k), doc)
		}
	}
	if name, has, bad := f.str("name", doc); bad != nil {
		return bad
	} else if has && name != "web" {
		return hookInvalid(doc, fmt.Sprintf("Name %q is not a valid hook name; only \"web\" is", name))
	}
	var hc hookConfig
	if raw, has := f["config"]; has && !isNull(raw) {
		if hc, bad = c.parseHookConfig(raw, doc); bad != nil {
			return bad
		}
	}
	if hc.url == nil {
		return hookInvalid(doc, "Config must contain URL for webhooks")
	}
	events, hasEvents, bad := stringList(f, "events", doc)
	if bad != nil {
		return bad
	}
	if !hasEvents {
		events = []string{"push"} // GitHub's default
	}
	active, hasActive, bad := f.boolean("active", doc)
	if bad != nil {
		return bad
	}
	if !hasActive {
		active = true
	}
	if c.duplicateHook(*hc.url, nil) {
		return hookInvalid(doc, "Hook already exists on this repository")
	}
	now := c.e.now().UTC()
	h := &hook{id: c.e.newID(), repo: c.repo, url: *hc.url, active: active, contentType: "form", insecureSSL: "0",
		createdAt: now, updatedAt: now, last: hookResponse{status: "unused"}}
	hc.applyTo(h)
	h.setEvents(events)
	c.e.hooks = append(c.e.hooks, h)
	body := c.repo.hookJSON(c.base, h)
	if h.active {
		c.e.pingLocked(c.repo, c.base, h, c.ri.user)
	}
	resp := jsonResponse(http.StatusCreated, body)
	resp.header.Set("Location", c.repo.hookURL(c.base, h))
	return resp
}

func (c *hctx) listHooks() *response {
	var mine []*hook
	for _, h := range c.e.hooks {
		if h.repo == c.repo {
			mine = append(mine, h)
		}
	}
	return paged(c, len(mine), func(i int) any { x := mine[i]; return c.repo.hookJSON(c.base, x) })
}

func (c *hctx) getHook() *response {
	h, bad := c.hookFromPath()
	if bad != nil {
		return bad
	}
	return jsonResponse(http.StatusOK, c.repo.hookJSON(c.base, h))
}

// updateHook is PATCH .../hooks/{id}. A config given replaces the whole configuration: GitHub
// removes the secret unless the request gives it again.
func (c *hctx) updateHook() *response {
	doc := docURL("repos/webhooks#update-a-repository-webhook")
	h, bad := c.hookFromPath()
	if bad != nil {
		return bad
	}
	f, bad := c.parseBody(doc, false)
	if bad != nil {
		return bad
	}
	var hc *hookConfig
	if raw, has := f["config"]; has && !isNull(raw) {
		parsed, bad := c.parseHookConfig(raw, doc)
		if bad != nil {
			return bad
		}
		if parsed.url == nil {
			return hookInvalid(doc, "Config must contain URL for webhooks")
		}
		if c.duplicateHook(*parsed.url, h) {
			return hookInvalid(doc, "Hook already exists on this repository")
		}
		hc = &parsed
	}
	events, hasEvents, bad := stringList(f, "events", doc)
	if bad != nil {
		return bad
	}
	add, _, bad := stringList(f, "add_events", doc)
	if bad != nil {
		return bad
	}
	remove, _, bad := stringList(f, "remove_events", doc)
	if bad != nil {
		return bad
	}
	active, hasActive, bad := f.boolean("active", doc)
	if bad != nil {
		return bad
	}
	if hc != nil {
		h.url, h.contentType, h.secret, h.insecureSSL = *hc.url, "form", "", "0"
		hc.applyTo(h)
	}
	list := h.eventList
	if hasEvents {
		list = events
	}
	list = append(append([]string{}, list...), add...)
	kept := list[:0]
	for _, ev := range list {
		if !containsString(remove, ev) {
			kept = append(kept, ev)
		}
	}
	h.setEvents(kept)
	if hasActive {
		h.active = active
	}
	h.updatedAt = c.e.now().UTC()
	return jsonResponse(http.StatusOK, c.repo.hookJSON(c.base, h))
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *hctx) deleteHook() *response {
	h, bad := c.hookFromPath()
	if bad != nil {
		return bad
	}
	for i, x := range c.e.hooks {
		if x == h {
			c.e.hooks = append(c.e.hooks[:i:i], c.e.hooks[i+1:]...)
			break
		}
	}
	// Deliveries not started yet are not made for a deleted hook.
	kept := c.e.hookQueue[:0:0]
	for _, d := range c.e.hookQueue {
		if d.hook != h {
			kept = append(kept, d)
		}
	}
	c.e.hookQueue = kept
	c.e.settleIdle()
	return &response{status: http.StatusNoContent, header: http.Header{}}
}

func (c *hctx) getHookConfig() *response {
	h, bad := c.hookFromPath()
	if bad != nil {
		return bad
	}
	return jsonResponse(http.StatusOK, h.configJSON())
}

// updateHookConfig is PATCH .../hooks/{id}/config: only the fields given change.
func (c *hctx) updateHookConfig() *response {
	doc := docURL("repos/webhooks#update-a-webhook-configuration-for-a-repository")
	h, bad := c.hookFromPath()
	if bad != nil {
		return bad
	}
	body := strings.TrimSpace(string(c.ri.body))
	if body == "" || body == "null" {
		body = "{}"
	}
	var f fields
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		return jsonResponse(http.StatusBadRequest, basicError("Problems parsing JSON", doc))
	}
	for k := range f {
		switch k {
		case "url", "content_type", "secret", "insecure_ssl":
		default:
			return invalidRequest(fmt.Sprintf("For 'properties', %q is not a permitted key.", k), doc)
		}
	}
	hc, bad := c.parseHookConfig([]byte(body), doc)
	if bad != nil {
		return bad
	}
	if hc.url != nil && c.duplicateHook(*hc.url, h) {
		return hookInvalid(doc, "Hook already exists on this repository")
	}
	if hc.url != nil {
		h.url = *hc.url
	}
	hc.applyTo(h)
	h.updatedAt = c.e.now().UTC()
	return jsonResponse(http.StatusOK, h.configJSON())
}

func (c *hctx) pingHook() *response {
	h, bad := c.hookFromPath()
	if bad != nil {
		return bad
	}
	c.e.pingLocked(c.repo, c.base, h, c.ri.user)
	return &response{status: http.StatusNoContent, header: http.Header{}}
}
