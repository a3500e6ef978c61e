package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// GitHub Apps (../shared/notes/server-facts.md): an App authenticates with an RS256 JWT on the
// /app endpoints and on GET /repos/{o}/{r}/installation, trades it for an installation token
// that acts as "<slug>[bot]" on the installed repositories, and gets the events of those
// repositories on its own webhook, whose deliveries it can list and redeliver.

// AppConfig registers a GitHub App (AddApp).
type AppConfig struct {
	// ID is the App's id: the JWT's iss.
	ID int64
	// Slug names the App; its bot account is "<slug>[bot]".
	Slug string
	// PublicKey verifies the App's JWTs.
	PublicKey *rsa.PublicKey
	// WebhookURL receives the events of Events of the installed repositories ("" = no webhook),
	// signed with WebhookSecret (X-Hub-Signature-256) when it is set.
	WebhookURL, WebhookSecret string
	// Events are the webhook events the App subscribes to (deployment, deployment_status,
	// deployment_protection_rule, issue_comment, ...).
	Events []string
}

// AppDelivery is one entry of an App's delivery log (GET /app/hook/deliveries).
type AppDelivery struct {
	ID             int64
	GUID           string // X-GitHub-Delivery; a redelivery keeps its original's
	DeliveredAt    time.Time
	Redelivery     bool
	Event, Action  string
	StatusCode     int    // the receiver's status; 0 when it could not be reached
	Status         string // "OK", "Invalid HTTP Response: 503", "failed to connect to host"
	InstallationID int64
	RepositoryID   int64
	Payload        []byte // the JSON payload as delivered
}

type ghApp struct {
	cfg       AppConfig
	bot       *user
	owner     *user
	createdAt time.Time
	hook      *hook // nil without a WebhookURL
	installs  []*installation
	log       []*appDelivery // oldest first
}

type installation struct {
	id        int64
	app       *ghApp
	account   *user
	repos     []*repo
	createdAt time.Time
}

// instToken is an installation access token (stored under the hash of the token).
type instToken struct {
	inst    *installation
	expires time.Time
	repos   []*repo // what the token may write: the installation's repositories or a subset
	perms   Permissions
	granted map[string]string
}

type appDelivery struct {
	AppDelivery
	duration   time.Duration
	hookURL    string
	reqHeader  http.Header
	respHeader http.Header
	respBody   []byte
}

// appGrants is what every App is granted (GitHub lets an App choose; the emulator's Apps have
// what a deployment gate needs, and no administration).
var appGrants = map[string]string{
	"actions": "read", "checks": "write", "contents": "write", "deployments": "write",
	"issues": "write", "metadata": "read", "pull_requests": "write", "statuses": "write",
}

// grantsToPermissions maps App permissions to the emulator's token rights.
func grantsToPermissions(g map[string]string) Permissions {
	lvl := func(k string) Access {
		switch g[k] {
		case "write":
			return AccessWrite
		case "read":
			return AccessRead
		}
		return AccessNone
	}
	dep := lvl("deployments")
	return Permissions{DeploymentsWrite: dep == AccessWrite, DeploymentsRead: dep.atLeast(AccessRead),
		Contents: lvl("contents"), Checks: lvl("checks"), Statuses: lvl("statuses"),
		PullRequests: lvl("pull_requests"), Issues: lvl("issues")}
}

// AddApp registers a GitHub App. Its bot "<slug>[bot]" becomes a known user and the App the
// check-runs app of that slug.
func (e *Emulator) AddApp(c AppConfig) error {
	if c.ID <= 0 || c.Slug == "" || c.PublicKey == nil {
		return errors.New("emulator: an App needs an ID, a Slug and a PublicKey")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ghApps[c.ID] != nil {
		return fmt.Errorf("emulator: App %d exists", c.ID)
	}
	for _, a := range e.ghApps {
		if strings.EqualFold(a.cfg.Slug, c.Slug) {
			return fmt.Errorf("emulator: an App with slug %q exists", c.Slug)
		}
	}
	c.Events = append([]string(nil), c.Events...)
	now := e.now().UTC().Truncate(time.Second)
	a := &ghApp{cfg: c, createdAt: now,
		bot:   e.addUserLocked(User{Login: c.Slug + "[bot]", Type: "Bot"}),
		owner: &user{login: c.Slug, id: derivedID("Organization", c.Slug), typ: "Organization"}}
	if c.WebhookURL != "" {
		h := &hook{id: e.newID(), url: c.WebhookURL, secret: c.WebhookSecret, active: true, contentType: "json",
			insecureSSL: "0", createdAt: now, updatedAt: now, last: hookResponse{status: "unused"}, app: a}
		h.setEvents(c.Events)
		a.hook = h
		e.hooks = append(e.hooks, h)
	}
	e.ghApps[c.ID] = a
	// Check runs the bot creates name this App.
	e.apps[c.Slug] = &app{id: c.ID, slug: c.Slug, name: c.Slug, owner: a.owner, createdAt: now,
		permissions: appGrants, events: c.Events}
	return nil
}

// InstallApp installs App appID on owner/repo and returns the installation's id. An App has one
// installation per account: installing it on another repository of the same owner adds that
// repository to it (repository_selection "selected"). The bot gets the write role there.
func (e *Emulator) InstallApp(appID int64, owner, repo string) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.ghApps[appID]
	if a == nil {
		return 0, fmt.Errorf("emulator: no App %d", appID)
	}
	r := e.repoLocked(owner, repo)
	if r == nil {
		return 0, fmt.Errorf("emulator: no repository %s/%s", owner, repo)
	}
	var inst *installation
	for _, in := range a.installs {
		if in.account == r.ownerUser {
			inst = in
		}
	}
	if inst == nil {
		inst = &installation{id: e.newID(), app: a, account: r.ownerUser, createdAt: e.now().UTC().Truncate(time.Second)}
		a.installs = append(a.installs, inst)
	}
	if !inst.has(r) {
		inst.repos = append(inst.repos, r)
	}
	r.roles[strings.ToLower(a.bot.login)] = RoleWrite
	return inst.id, nil
}

// AppDeliveries returns App appID's delivery log, oldest first.
func (e *Emulator) AppDeliveries(appID int64) []AppDelivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.ghApps[appID]
	if a == nil {
		return nil
	}
	out := make([]AppDelivery, len(a.log))
	for i, d := range a.log {
		out[i] = d.AppDelivery
		out[i].Payload = append([]byte(nil), d.Payload...)
	}
	return out
}

func (in *installation) has(r *repo) bool {
	for _, x := range in.repos {
		if x == r {
			return true
		}
	}
	return false
}

// installationOn is the App's installation covering r, or nil.
func (a *ghApp) installationOn(r *repo) *installation {
	for _, in := range a.installs {
		if in.has(r) {
			return in
		}
	}
	return nil
}

// installationForLocked is the installation of the first App subscribed to event that is
// installed on r, or nil (for payloads built before delivery, such as RequestDeployment's).
func (e *Emulator) installationForLocked(r *repo, event string) *installation {
	ids := make([]int64, 0, len(e.ghApps))
	for id := range e.ghApps {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		a := e.ghApps[id]
		if a.hook != nil && a.hook.events[event] {
			if in := a.installationOn(r); in != nil {
				return in
			}
		}
	}
	return nil
}

func (t *instToken) covers(r *repo) bool {
	for _, x := range t.repos {
		if x == r {
			return true
		}
	}
	return false
}

// withInstallation puts "installation": {id, node_id} in an encoded payload (replacing one
// there), as GitHub does for an App's deliveries.
func withInstallation(b []byte, in *installation) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return b
	}
	inst, _ := json.Marshal(obj{"id": in.id, "node_id": nodeID("Installation", in.id)})
	m["installation"] = inst
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

// ---- authentication ----

// authKind is what an Authorization header turned out to be.
type authKind int

const (
	authToken        authKind = iota // an ordinary token (Config.Tokens)
	authJWT                          // a verified App JWT
	authInstallation                 // an installation token
)

func unauthorized(msg string) *response {
	return jsonResponse(http.StatusUnauthorized, basicError(msg, docRoot+"/rest"))
}

// looksLikeJWT says whether tok is a JWS compact serialization (header.payload.signature with a
// JSON header naming an alg).
func looksLikeJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var hdr map[string]any
	if json.Unmarshal(h, &hdr) != nil {
		return false
	}
	_, ok := hdr["alg"]
	return ok
}

// jwtPath says whether path is one an App authenticates to with its JWT.
func jwtPath(path string) bool {
	if path == "/app" || strings.HasPrefix(path, "/app/") {
		return true
	}
	segs := strings.Split(path, "/")
	return len(segs) == 5 && segs[1] == "repos" && segs[4] == "installation"
}

// appAuth recognises App JWTs and installation tokens. For those it fills ri (token key, rights,
// user, App or installation) and answers 401 to what GitHub refuses; for an ordinary token it
// returns authToken and leaves ri alone, except that /app endpoints refuse it.
func (e *Emulator) appAuth(r *http.Request, ri *reqInfo, tok string) (authKind, *response) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.appTokens[tokenKey(tok)]; t != nil {
		if !now.Before(t.expires) {
			return authInstallation, unauthorized("Bad credentials")
		}
		if jwtPath(r.URL.Path) {
			return authInstallation, unauthorized("A JSON web token could not be decoded")
		}
		ri.token, ri.perms, ri.user, ri.inst = tok, t.perms, t.inst.app.bot, t
		return authInstallation, nil
	}
	if !looksLikeJWT(tok) {
		if jwtPath(r.URL.Path) {
			return authToken, unauthorized("A JSON web token could not be decoded")
		}
		return authToken, nil
	}
	a, msg := e.verifyJWTLocked(tok, now)
	if a == nil {
		return authJWT, unauthorized(msg)
	}
	if !jwtPath(r.URL.Path) {
		return authJWT, unauthorized("Bad credentials")
	}
	// The App's requests share one rate-limit bucket and ETag key, whichever JWT carries them.
	ri.token, ri.perms, ri.user, ri.app = "\x00app:"+strconv.FormatInt(a.cfg.ID, 10), Permissions{}, a.bot, a
	return authJWT, nil
}

// numericClaim reads a NumericDate claim (a JSON number; GitHub wants an integer).
func numericClaim(c jwt.MapClaims, name string) (float64, bool) {
	switch v := c[name].(type) {
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// verifyJWTLocked checks an App JWT as GitHub does and returns its App, or nil and GitHub's
// message.
func (e *Emulator) verifyJWTLocked(tok string, now time.Time) (*ghApp, string) {
	const undecodable = "A JSON web token could not be decoded"
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		return nil, undecodable
	}
	var id int64
	switch v := claims["iss"].(type) {
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, "'Issuer' claim ('iss') must be an Integer"
		}
		id = n
	case float64:
		if v != math.Trunc(v) {
			return nil, "'Issuer' claim ('iss') must be an Integer"
		}
		id = int64(v)
	default:
		return nil, "'Issuer' claim ('iss') must be an Integer"
	}
	a := e.ghApps[id]
	if a == nil {
		return nil, "Integration not found"
	}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()).
		Parse(tok, func(*jwt.Token) (any, error) { return a.cfg.PublicKey, nil })
	if err != nil {
		return nil, undecodable
	}
	exp, ok := numericClaim(claims, "exp")
	if !ok || !time.Unix(int64(exp), 0).After(now) {
		return nil, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	}
	iat, ok := numericClaim(claims, "iat")
	if !ok || time.Unix(int64(iat), 0).After(now.Add(60*time.Second)) {
		return nil, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	}
	if exp-iat > 600 || time.Unix(int64(exp), 0).After(now.Add(10*time.Minute+60*time.Second)) {
		return nil, "'Expiration time' claim ('exp') is too far in the future"
	}
	return a, ""
}

// ---- routes ----

func (e *Emulator) appRoutes() {
	e.appRoute("GET /app", (*actx).getApp)
	e.appRoute("POST /app/installations/{installation_id}/access_tokens", (*actx).createInstallationToken)
	e.appRoute("GET /app/hook/deliveries", (*actx).listAppDeliveries)
	e.appRoute("GET /app/hook/deliveries/{delivery_id}", (*actx).getAppDelivery)
	e.appRoute("POST /app/hook/deliveries/{delivery_id}/attempts", (*actx).redeliverAppDelivery)
	e.mux.HandleFunc("GET /repos/{owner}/{repo}/installation", func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		e.mu.Lock()
		defer e.mu.Unlock()
		if ri.app == nil {
			ri.resp = unauthorized("A JSON web token could not be decoded")
			return
		}
		rp := e.repoLocked(r.PathValue("owner"), r.PathValue("repo"))
		if rp == nil {
			ri.resp = notFound()
			return
		}
		in := ri.app.installationOn(rp)
		if in == nil {
			ri.resp = notFound()
			return
		}
		ri.resp = jsonResponse(http.StatusOK, in.json(ri.base))
	})
}

// actx is what an /app handler gets; the emulator's mutex is held while it runs.
type actx struct {
	e    *Emulator
	r    *http.Request
	ri   *reqInfo
	app  *ghApp
	base string
}

func (e *Emulator) appRoute(pattern string, h func(*actx) *response) {
	e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		e.mu.Lock()
		defer e.mu.Unlock()
		if ri.app == nil { // authAndLimit lets only JWTs through to /app
			ri.resp = unauthorized("A JSON web token could not be decoded")
			return
		}
		ri.resp = h(&actx{e: e, r: r, ri: ri, app: ri.app, base: ri.base})
	})
}

func (a *ghApp) clientID() string {
	return "Iv1." + FakeSHA("client:" + strconv.FormatInt(a.cfg.ID, 10))[:16]
}

func (a *ghApp) json(base string) obj {
	return obj{
		"id": a.cfg.ID, "slug": a.cfg.Slug, "node_id": nodeID("Integration", a.cfg.ID), "client_id": a.clientID(),
		"owner": a.owner.json(base), "name": a.cfg.Slug, "description": nil,
		"external_url": webHost(base) + "/" + url.PathEscape(a.owner.login),
		"html_url":     webHost(base) + "/apps/" + url.PathEscape(a.cfg.Slug),
		"created_at":   ts(a.createdAt), "updated_at": ts(a.createdAt),
		"permissions": copyGrants(appGrants), "events": append([]string{}, a.cfg.Events...),
		"installations_count": len(a.installs),
	}
}

func copyGrants(g map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range g {
		out[k] = v
	}
	return out
}

func (in *installation) json(base string) obj {
	idStr := strconv.FormatInt(in.id, 10)
	html := webHost(base) + "/settings/installations/" + idStr
	if in.account.typ == "Organization" {
		html = webHost(base) + "/organizations/" + url.PathEscape(in.account.login) + "/settings/installations/" + idStr
	}
	return obj{
		"id": in.id, "client_id": in.app.clientID(), "account": in.account.json(base), "repository_selection": "selected",
		"access_tokens_url": base + "/app/installations/" + idStr + "/access_tokens",
		"repositories_url":  base + "/installation/repositories", "html_url": html,
		"app_id": in.app.cfg.ID, "app_slug": in.app.cfg.Slug, "target_id": in.account.id, "target_type": in.account.typ,
		"permissions": copyGrants(appGrants), "events": append([]string{}, in.app.cfg.Events...),
		"created_at": ts(in.createdAt), "updated_at": ts(in.createdAt),
		"single_file_name": nil, "has_multiple_single_files": false, "single_file_paths": []any{},
		"suspended_by": nil, "suspended_at": nil,
	}
}

func (c *actx) getApp() *response { return jsonResponse(http.StatusOK, c.app.json(c.base)) }

// newInstallationToken is "ghs_" and 36 random alphanumerics, as GitHub's.
func newInstallationToken() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	b.WriteString("ghs_")
	for range 36 {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(fmt.Sprintf("emulator: crypto/rand: %v", err))
		}
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String()
}

// createInstallationToken is POST /app/installations/{id}/access_tokens: a token for one hour,
// optionally narrowed to some of the installation's repositories and to fewer permissions.
func (c *actx) createInstallationToken() *response {
	doc := docURL("apps/apps#create-an-installation-access-token-for-an-app")
	id, err := strconv.ParseInt(c.r.PathValue("installation_id"), 10, 64)
	var in *installation
	for _, x := range c.app.installs {
		if err == nil && x.id == id {
			in = x
		}
	}
	if in == nil {
		return notFound()
	}
	hc := &hctx{e: c.e, r: c.r, ri: c.ri, base: c.base}
	f, bad := hc.parseBody(doc, true)
	if bad != nil {
		return bad
	}
	repos := append([]*repo(nil), in.repos...)
	notAccessible := jsonResponse(http.StatusUnprocessableEntity, basicError(
		"There is at least one repository that does not exist or is not accessible to the parent installation.", doc))
	var names []string
	if raw, has := f["repositories"]; has && !isNull(raw) {
		if json.Unmarshal(raw, &names) != nil {
			return invalidRequest(fmt.Sprintf("For 'properties/repositories', %s is not an array of strings.", string(raw)), doc)
		}
	}
	var ids []int64
	if raw, has := f["repository_ids"]; has && !isNull(raw) {
		if json.Unmarshal(raw, &ids) != nil {
			return invalidRequest(fmt.Sprintf("For 'properties/repository_ids', %s is not an array of integers.", string(raw)), doc)
		}
	}
	if len(names) > 0 || len(ids) > 0 {
		repos = nil
		for _, n := range names {
			r := c.e.repoLocked(in.account.login, n)
			if r == nil || !in.has(r) {
				return notAccessible
			}
			repos = append(repos, r)
		}
		for _, rid := range ids {
			var found *repo
			for _, r := range in.repos {
				if r.id == rid {
					found = r
				}
			}
			if found == nil {
				return notAccessible
			}
			repos = append(repos, found)
		}
	}
	granted := map[string]string{}
	for k, v := range appGrants {
		granted[k] = v
	}
	if raw, has := f["permissions"]; has && !isNull(raw) {
		var want map[string]string
		if json.Unmarshal(raw, &want) != nil {
			return invalidRequest(fmt.Sprintf("For 'properties/permissions', %s is not an object of strings.", string(raw)), doc)
		}
		granted = map[string]string{"metadata": "read"}
		for k, v := range want {
			have := appGrants[k]
			if (v != "read" && v != "write") || have == "" || (v == "write" && have != "write") {
				return jsonResponse(http.StatusUnprocessableEntity, basicError("The permissions requested are not granted to this installation.", doc))
			}
			granted[k] = v
		}
	}
	tok := newInstallationToken()
	expires := c.e.now().UTC().Truncate(time.Second).Add(time.Hour)
	c.e.appTokens[tokenKey(tok)] = &instToken{inst: in, expires: expires, repos: repos, perms: grantsToPermissions(granted), granted: granted}
	c.e.tokenUsers[tokenKey(tok)] = c.app.bot
	list := make([]any, 0, len(repos))
	for _, r := range repos {
		list = append(list, r.repoJSON(c.base))
	}
	return jsonResponse(http.StatusCreated, obj{
		"token": tok, "expires_at": ts(expires), "permissions": copyGrants(granted),
		"repository_selection": "selected", "repositories": list,
	})
}

// ---- the delivery log ----

// logAppDeliveryLocked records a finished delivery of an App's hook.
func (e *Emulator) logAppDeliveryLocked(d delivery, out Delivery, at sent) {
	a := d.hook.app
	var action string
	var p struct {
		Action string `json:"action"`
	}
	if json.Unmarshal(d.payload, &p) == nil {
		action = p.Action
	}
	lr := lastResponse(out)
	status := lr.message
	a.log = append(a.log, &appDelivery{
		AppDelivery: AppDelivery{
			ID: e.newID(), GUID: d.id, DeliveredAt: at.at, Redelivery: d.redelivery, Event: d.event, Action: action,
			StatusCode: out.Status, Status: status, InstallationID: d.instID, RepositoryID: d.repoID, Payload: d.payload,
		},
		duration: at.duration, hookURL: d.hook.url, reqHeader: at.reqHeader, respHeader: at.respHeader, respBody: at.respBody,
	})
}

func (d *appDelivery) itemJSON() obj {
	o := obj{
		"id": d.ID, "guid": d.GUID, "delivered_at": ts(d.DeliveredAt), "redelivery": d.Redelivery,
		"duration": math.Round(d.duration.Seconds()*1000) / 1000, "status": d.Status, "status_code": d.StatusCode,
		"event": d.Event, "action": nil, "installation_id": nil, "repository_id": nil, "throttled_at": nil,
	}
	if d.Action != "" {
		o["action"] = d.Action
	}
	if d.InstallationID != 0 {
		o["installation_id"] = d.InstallationID
	}
	if d.RepositoryID != 0 {
		o["repository_id"] = d.RepositoryID
	}
	return o
}

// flatHeaders renders headers as the delivery log does: one string each, GitHub's own headers
// spelled X-GitHub-... as GitHub sends them.
func flatHeaders(h http.Header) obj {
	o := obj{}
	for k, v := range h {
		if rest, ok := strings.CutPrefix(k, "X-Github-"); ok {
			k = "X-GitHub-" + rest
		}
		o[k] = strings.Join(v, ", ")
	}
	return o
}

func (d *appDelivery) json() obj {
	o := d.itemJSON()
	o["url"] = d.hookURL
	var payload any
	if json.Unmarshal(d.Payload, &payload) != nil {
		payload = nil
	}
	o["request"] = obj{"headers": flatHeaders(d.reqHeader), "payload": payload}
	var body any
	if d.StatusCode != 0 {
		body = string(d.respBody)
	}
	o["response"] = obj{"headers": flatHeaders(d.respHeader), "payload": body}
	return o
}

const cursorPrefix = "v1_"

// listAppDeliveries is GET /app/hook/deliveries: newest first, per_page (30, at most 100) and
// an opaque cursor, the next page's cursor in a Link rel="next".
func (c *actx) listAppDeliveries() *response {
	doc := docURL("apps/webhooks#list-deliveries-for-an-app-webhook")
	q := c.r.URL.Query()
	perPage := 30
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	start := len(c.app.log) - 1 // index of the newest
	if cur := q.Get("cursor"); cur != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(cur, cursorPrefix), 10, 64)
		if err != nil || !strings.HasPrefix(cur, cursorPrefix) {
			return jsonResponse(http.StatusUnprocessableEntity, basicError("Invalid cursor", doc))
		}
		start = -1
		for i := len(c.app.log) - 1; i >= 0; i-- {
			if c.app.log[i].ID <= n {
				start = i
				break
			}
		}
	}
	out := []any{}
	i := start
	for ; i >= 0 && len(out) < perPage; i-- {
		out = append(out, c.app.log[i].itemJSON())
	}
	resp := jsonResponse(http.StatusOK, out)
	if i >= 0 {
		v := url.Values{}
		v.Set("per_page", strconv.Itoa(perPage))
		v.Set("cursor", cursorPrefix+strconv.FormatInt(c.app.log[i].ID, 10))
		resp.header.Set("Link", fmt.Sprintf("<%s/app/hook/deliveries?%s>; rel=\"next\"", c.base, v.Encode()))
	}
	return resp
}

func (c *actx) deliveryFromPath() *appDelivery {
	id, err := strconv.ParseInt(c.r.PathValue("delivery_id"), 10, 64)
	if err != nil {
		return nil
	}
	for _, d := range c.app.log {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func (c *actx) getAppDelivery() *response {
	d := c.deliveryFromPath()
	if d == nil {
		return notFound()
	}
	return jsonResponse(http.StatusOK, d.json())
}

// redeliverAppDelivery is POST /app/hook/deliveries/{id}/attempts: the same payload is sent
// again with the same GUID, and logged as a new entry with redelivery true.
func (c *actx) redeliverAppDelivery() *response {
	d := c.deliveryFromPath()
	if d == nil || c.app.hook == nil {
		return notFound()
	}
	c.e.queueLocked(delivery{hook: c.app.hook, event: d.Event, id: d.GUID, payload: d.Payload, targetID: c.app.cfg.ID,
		repoID: d.RepositoryID, instID: d.InstallationID, redelivery: true})
	return jsonResponse(http.StatusAccepted, obj{})
}
