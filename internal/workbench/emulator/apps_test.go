package emulator_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/gate"
	"github.com/deployment-action/deployment-action/internal/ghapp"
	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

const (
	testAppID   = 4242
	testAppSlug = "deploy-gate"
	testAppBot  = testAppSlug + "[bot]"
	appSecret   = "app-webhook-secret"
)

// appKit is an emulator with one GitHub App registered, and the App's own client.
type appKit struct {
	*api
	key   *rsa.PrivateKey
	clock *testkit.Clock
	app   *ghapp.App
	rc    *receiver // the App's webhook receiver
}

func newAppKit(t *testing.T, events []string, repos ...emulator.RepoSeed) *appKit {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	clock := testkit.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	a := start(t, emulator.Config{Now: clock.Now}, repos...)
	rc := newReceiver(t)
	if err := a.e.AddApp(emulator.AppConfig{ID: testAppID, Slug: testAppSlug, PublicKey: &key.PublicKey,
		WebhookURL: rc.srv.URL, WebhookSecret: appSecret, Events: events}); err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	app, err := ghapp.New(ghapp.Options{AppID: strconv.Itoa(testAppID), PrivateKeyPEM: pemKey, APIURL: a.base, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &appKit{api: a, key: key, clock: clock, app: app, rc: rc}
}

func (k *appKit) install(t *testing.T, owner, name string) int64 {
	t.Helper()
	id, err := k.e.InstallApp(testAppID, owner, name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// jwtWith signs claims with key (RS256).
func jwtWith(t *testing.T, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func wait(t *testing.T, e *emulator.Emulator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
}

// installationOf decodes a delivered payload's installation id (0 when absent).
func installationOf(t *testing.T, body []byte) int64 {
	t.Helper()
	var p struct {
		Installation *struct {
			ID     int64  `json:"id"`
			NodeID string `json:"node_id"`
		} `json:"installation"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Installation == nil {
		return 0
	}
	if p.Installation.NodeID == "" {
		t.Errorf("installation without node_id: %s", body)
	}
	return p.Installation.ID
}

func TestAppInstallationTokenDeploysAsBot(t *testing.T) {
	k := newAppKit(t, []string{"deployment", "deployment_status"})
	plain := newReceiver(t) // a repository-wide hook of the old kind, to see payloads stay apart
	k.e.AddHook(plain.srv.URL, "")
	inst := k.install(t, owner, repo)
	ctx := context.Background()

	me, _, err := k.app.AppClient().Apps.Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "app id", me.GetID(), int64(testAppID))
	eq(t, "app slug", me.GetSlug(), testAppSlug)

	tok, err := k.app.InstallationToken(ctx, owner, repo)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Value, "ghs_") {
		t.Errorf("token %q: want ghs_ prefix", tok.Value[:4])
	}
	eq(t, "expires_at", tok.ExpiresAt.UTC(), k.clock.Now().Add(time.Hour))
	eq(t, "deployments permission", tok.Permissions["deployments"], "write")

	c, err := k.app.InstallationClient(ctx, owner, repo)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{Ref: github.String("main"),
		Environment: github.String("staging"), RequiredContexts: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "creator", d.GetCreator().GetLogin(), testAppBot)
	eq(t, "creator type", d.GetCreator().GetType(), "Bot")
	st, err := c.CreateDeploymentStatus(ctx, owner, repo, d.GetID(), &github.DeploymentStatusRequest{State: github.String("success")})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "status creator", st.GetCreator().GetLogin(), testAppBot)
	wait(t, k.e)

	got := k.rc.all()
	if len(got) != 2 {
		t.Fatalf("App webhook got %d deliveries, want deployment and deployment_status", len(got))
	}
	for i, want := range []string{"deployment", "deployment_status"} {
		h := got[i].header
		eq(t, "event", h.Get("X-GitHub-Event"), want)
		eq(t, "signature", h.Get("X-Hub-Signature-256"), emulator.Sign(appSecret, got[i].body))
		eq(t, "target type", h.Get("X-GitHub-Hook-Installation-Target-Type"), "integration")
		eq(t, "target id", h.Get("X-GitHub-Hook-Installation-Target-ID"), strconv.Itoa(testAppID))
		eq(t, want+" installation", installationOf(t, got[i].body), inst)
		var p struct {
			Sender struct{ Login, Type string } `json:"sender"`
		}
		if err := json.Unmarshal(got[i].body, &p); err != nil {
			t.Fatal(err)
		}
		eq(t, want+" sender", p.Sender.Login, testAppBot)
	}
	if wc := webhookValidator(t); wc != nil {
		for _, r := range got {
			if err := wc.ValidateWebhook(r.header.Get("X-GitHub-Event"), r.body); err != nil {
				t.Errorf("App delivery against the description's webhook schema: %v", err)
			}
		}
	}
	for _, r := range plain.all() {
		if installationOf(t, r.body) != 0 {
			t.Errorf("repository hook got an installation: %s", r.body)
		}
	}

	// The bot is a writer on the installed repository.
	perm, _, err := ghClient(t, k.api, false).Repositories.GetPermissionLevel(ctx, owner, repo, testAppBot)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "bot permission", perm.GetPermission(), "write")
}

func TestAppTokenWritesOnlyInstalledRepositories(t *testing.T) {
	other := emulator.RepoSeed{Owner: owner, Name: "other", Branches: map[string]string{"main": emulator.FakeSHA("other")}}
	secret := emulator.RepoSeed{Owner: owner, Name: "secret", Private: true, Branches: map[string]string{"main": emulator.FakeSHA("secret")}}
	k := newAppKit(t, nil, emulator.DefaultRepo(), other, secret)
	k.install(t, owner, repo)
	tok, err := k.app.InstallationToken(context.Background(), owner, repo)
	if err != nil {
		t.Fatal(err)
	}
	k.token = tok.Value
	body := map[string]any{"ref": "main", "required_contexts": []string{}}
	k.do("POST", repoURL+"/deployments", body).must(t, 201)
	k.do("GET", "/repos/"+owner+"/other/deployments", nil).must(t, 200)
	k.do("POST", "/repos/"+owner+"/other/deployments", body).must(t, 403)
	k.do("GET", "/repos/"+owner+"/secret/deployments", nil).must(t, 404)

	// An hour later the token is refused.
	k.clock.Advance(time.Hour)
	r := k.do("GET", repoURL+"/deployments", nil).must(t, 401)
	eq(t, "message", r.obj()["message"], any("Bad credentials"))
}

func TestAppJWTRefusals(t *testing.T) {
	k := newAppKit(t, nil)
	k.install(t, owner, repo)
	now := k.clock.Now()
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	claims := func(iss any, iat, exp time.Duration) jwt.MapClaims {
		return jwt.MapClaims{"iss": iss, "iat": now.Add(iat).Unix(), "exp": now.Add(exp).Unix()}
	}
	good := jwtWith(t, k.key, claims(strconv.Itoa(testAppID), -time.Minute, 8*time.Minute))
	numeric := jwtWith(t, k.key, claims(testAppID, -time.Minute, 8*time.Minute))
	for _, tc := range []struct {
		name, path, token string
		status            int
		message           string
	}{
		{"valid JWT", "/app", good, 200, ""},
		{"iss as a number", "/app", numeric, 200, ""},
		{"valid JWT on installation", repoURL + "/installation", good, 200, ""},
		{"signed by another key", "/app", jwtWith(t, otherKey, claims(strconv.Itoa(testAppID), -time.Minute, 8*time.Minute)), 401,
			"A JSON web token could not be decoded"},
		{"expired", "/app", jwtWith(t, k.key, claims(strconv.Itoa(testAppID), -11*time.Minute, -time.Minute)), 401,
			"'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"},
		{"lives too long", "/app", jwtWith(t, k.key, claims(strconv.Itoa(testAppID), -time.Minute, 10*time.Minute)), 401,
			"'Expiration time' claim ('exp') is too far in the future"},
		{"issued in the future", "/app", jwtWith(t, k.key, claims(strconv.Itoa(testAppID), 2*time.Minute, 9*time.Minute)), 401,
			"'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"},
		{"unknown app", "/app", jwtWith(t, k.key, claims("99", -time.Minute, 8*time.Minute)), 401, "Integration not found"},
		{"not a JWT on /app", "/app", "test-token", 401, "A JSON web token could not be decoded"},
		{"JWT on a repository endpoint", repoURL + "/deployments", good, 401, "Bad credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := k.send("GET", tc.path, nil, bearer(tc.token)).must(t, tc.status)
			if tc.message != "" {
				eq(t, "message", r.obj()["message"], any(tc.message))
			}
		})
	}

	// An installation token is no JWT: /app refuses it.
	tok, err := k.app.InstallationToken(context.Background(), owner, repo)
	if err != nil {
		t.Fatal(err)
	}
	k.send("GET", "/app", nil, bearer(tok.Value)).must(t, 401)
}

func TestAppNotInstalled(t *testing.T) {
	k := newAppKit(t, nil)
	_, err := k.app.InstallationToken(context.Background(), owner, repo)
	var ni *ghapp.NotInstalledError
	if !errors.As(err, &ni) {
		t.Fatalf("err = %v, want NotInstalledError", err)
	}
	eq(t, "repo", ni.Repo, repo)
	jwtTok, err := k.app.JWT()
	if err != nil {
		t.Fatal(err)
	}
	k.send("GET", repoURL+"/installation", nil, bearer(jwtTok)).must(t, 404)

	// Installed, the same lookup finds the installation, and a token for an unknown installation
	// id is 404.
	inst := k.install(t, owner, repo)
	r := k.send("GET", repoURL+"/installation", nil, bearer(jwtTok)).must(t, 200)
	eq(t, "id", jsonNum(r.obj()["id"]), strconv.FormatInt(inst, 10))
	eq(t, "app_slug", r.obj()["app_slug"], any(testAppSlug))
	k.send("POST", "/app/installations/"+strconv.FormatInt(inst+1000, 10)+"/access_tokens", nil, bearer(jwtTok)).must(t, 404)
}

// deployN creates n deployments with the installation token.
func (k *appKit) deployN(t *testing.T, n int) {
	t.Helper()
	tok, err := k.app.InstallationToken(context.Background(), owner, repo)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		k.send("POST", repoURL+"/deployments", map[string]any{"ref": "main", "environment": "env" + strconv.Itoa(i),
			"required_contexts": []string{}}, bearer(tok.Value)).must(t, 201)
	}
	wait(t, k.e)
}

func TestAppDeliveryLog(t *testing.T) {
	k := newAppKit(t, []string{"deployment"})
	inst := k.install(t, owner, repo)
	k.deployN(t, 5)
	ctx := context.Background()
	gh := k.app.AppClient()

	// Paging by cursor, newest first.
	var ids []int64
	var guids []string
	opts := &github.ListCursorOptions{PerPage: 2}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		page, resp, err := gh.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d, per_page 2", len(page))
		}
		for _, d := range page {
			ids = append(ids, d.GetID())
			guids = append(guids, d.GetGUID())
			eq(t, "event", d.GetEvent(), "deployment")
			eq(t, "action", d.GetAction(), "created")
			eq(t, "status_code", d.GetStatusCode(), 200)
			eq(t, "installation_id", d.GetInstallationID(), inst)
		}
		if resp.Cursor == "" {
			break
		}
		opts.Cursor = resp.Cursor
	}
	if len(ids) != 5 || !sort.SliceIsSorted(ids, func(i, j int) bool { return ids[i] > ids[j] }) {
		t.Fatalf("ids %v: want 5, newest first", ids)
	}
	log := k.e.AppDeliveries(testAppID)
	eq(t, "log length", len(log), 5)
	eq(t, "newest", ids[0], log[4].ID)
	received := k.rc.all()
	eq(t, "newest guid is the last delivery's", guids[0], received[4].header.Get("X-GitHub-Delivery"))

	// The items' fields are GitHub's hook-delivery-item.
	jwtTok, err := k.app.JWT()
	if err != nil {
		t.Fatal(err)
	}
	raw := k.send("GET", "/app/hook/deliveries?per_page=1", nil, bearer(jwtTok)).must(t, 200)
	var keys []string
	for key := range raw.arr()[0].(map[string]any) {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	eq(t, "item fields", strings.Join(keys, ","),
		"action,delivered_at,duration,event,guid,id,installation_id,redelivery,repository_id,status,status_code,throttled_at")
	if !strings.Contains(raw.header.Get("Link"), `rel="next"`) || !strings.Contains(raw.header.Get("Link"), "cursor=") {
		t.Errorf("Link %q: want rel=next with a cursor", raw.header.Get("Link"))
	}

	// One delivery with its request and response.
	full, _, err := gh.Apps.GetHookDelivery(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "guid", full.GetGUID(), guids[0])
	eq(t, "event header", full.GetRequest().Headers["X-GitHub-Event"], "deployment")
	var payload struct {
		Installation struct{ ID int64 } `json:"installation"`
		Deployment   struct{ Environment string }
	}
	if err := json.Unmarshal(*full.GetRequest().RawPayload, &payload); err != nil {
		t.Fatal(err)
	}
	eq(t, "payload installation", payload.Installation.ID, inst)
	eq(t, "payload environment", payload.Deployment.Environment, "env4")

	// Redelivery: a new entry, the same guid, redelivery true; the receiver sees the guid again.
	_, _, err = gh.Apps.RedeliverHookDelivery(ctx, ids[4])
	var accepted *github.AcceptedError
	if err != nil && !errors.As(err, &accepted) {
		t.Fatal(err)
	}
	wait(t, k.e)
	log = k.e.AppDeliveries(testAppID)
	eq(t, "log length after redelivery", len(log), 6)
	again := log[5]
	eq(t, "redelivery", again.Redelivery, true)
	eq(t, "redelivered guid", again.GUID, guids[4])
	if again.ID == ids[4] {
		t.Error("a redelivery needs its own id")
	}
	received = k.rc.all()
	eq(t, "receiver saw the guid again", received[5].header.Get("X-GitHub-Delivery"), guids[4])
	eq(t, "same body", string(received[5].body), string(received[0].body))
	first, _, err := gh.Apps.ListHookDeliveries(ctx, &github.ListCursorOptions{PerPage: 1})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "listed first", first[0].GetRedelivery(), true)
}

func TestAppFailedDeliveriesAreLogged(t *testing.T) {
	k := newAppKit(t, []string{"deployment"})
	k.rc.code = http.StatusServiceUnavailable
	k.install(t, owner, repo)
	k.deployN(t, 1)
	log := k.e.AppDeliveries(testAppID)
	if len(log) != 1 {
		t.Fatalf("log %+v", log)
	}
	eq(t, "status_code", log[0].StatusCode, 503)
	eq(t, "status", log[0].Status, "Invalid HTTP Response: 503")

	// A receiver that is down: status_code 0.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.e.AddApp(emulator.AppConfig{ID: 77, Slug: "down", PublicKey: &key.PublicKey,
		WebhookURL: "http://127.0.0.1:1/down", Events: []string{"deployment"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.e.InstallApp(77, owner, repo); err != nil {
		t.Fatal(err)
	}
	k.deployN(t, 1)
	down := k.e.AppDeliveries(77)
	if len(down) != 1 {
		t.Fatalf("down log %+v", down)
	}
	eq(t, "unreachable status_code", down[0].StatusCode, 0)
	eq(t, "unreachable status", down[0].Status, "failed to connect to host")
	now := k.clock.Now()
	tok := jwtWith(t, key, jwt.MapClaims{"iss": "77", "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix()})
	r := k.send("GET", "/app/hook/deliveries", nil, bearer(tok)).must(t, 200)
	eq(t, "listed", len(r.arr()), 1)
	eq(t, "listed status_code", jsonNum(r.arr()[0].(map[string]any)["status_code"]), "0")
	eq(t, "503 stays in the first App's log", len(k.e.AppDeliveries(testAppID)), 2)
}

func TestAppProtectionRuleCarriesInstallation(t *testing.T) {
	k := newAppKit(t, []string{"deployment_protection_rule"})
	inst := k.install(t, owner, repo)
	_, ev, err := k.e.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: "production"})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "event installation", installationOf(t, ev.JSON()), inst)
	wait(t, k.e)
	got := k.rc.all()
	if len(got) != 1 {
		t.Fatalf("App webhook got %d deliveries", len(got))
	}
	eq(t, "event", got[0].header.Get("X-GitHub-Event"), "deployment_protection_rule")
	eq(t, "delivered installation", installationOf(t, got[0].body), inst)
}

// deliveryLog is gate.DeliveryLog over go-github and the App's JWT client (the shape a server's
// implementation has), to show the emulator's log serves the gate's recovery.
type deliveryLog struct{ gh *github.Client }

func (l deliveryLog) Deliveries(ctx context.Context, cursor string) ([]gate.Delivery, string, error) {
	page, resp, err := l.gh.Apps.ListHookDeliveries(ctx, &github.ListCursorOptions{Cursor: cursor, PerPage: 2})
	if err != nil {
		return nil, "", err
	}
	out := make([]gate.Delivery, 0, len(page))
	for _, d := range page {
		out = append(out, gate.Delivery{ID: d.GetID(), GUID: d.GetGUID(), Event: d.GetEvent(), Action: d.GetAction(),
			DeliveredAt: d.GetDeliveredAt().Time, Redelivery: d.GetRedelivery()})
	}
	return out, resp.Cursor, nil
}

func (l deliveryLog) Payload(ctx context.Context, id int64) ([]byte, error) {
	d, _, err := l.gh.Apps.GetHookDelivery(ctx, id)
	if err != nil {
		return nil, err
	}
	return *d.GetRequest().RawPayload, nil
}

func TestAppDeliveryLogFeedsGateRecovery(t *testing.T) {
	k := newAppKit(t, []string{"deployment_protection_rule", "deployment"})
	k.rc.code = http.StatusBadGateway // the gate is down: every delivery fails
	inst := k.install(t, owner, repo)
	run1, _, err := k.e.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: "production"})
	if err != nil {
		t.Fatal(err)
	}
	k.deployN(t, 2) // other events in between
	run2, _, err := k.e.RequestDeployment(owner, repo, emulator.ProtectionRequest{Environment: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	wait(t, k.e)
	gh := k.app.AppClient()
	first := k.e.AppDeliveries(testAppID)[0]
	_, _, err = gh.Apps.RedeliverHookDelivery(context.Background(), first.ID)
	var accepted *github.AcceptedError
	if err != nil && !errors.As(err, &accepted) {
		t.Fatal(err)
	}
	wait(t, k.e)

	var got []string
	n, err := gate.Recover(context.Background(), deliveryLog{gh}, k.clock.Now(), func(_ context.Context, r gate.Request) error {
		got = append(got, r.Environment+":"+strconv.FormatInt(r.RunID, 10))
		eq(t, "installation", r.Installation, inst)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Newest first (the redelivery of the production request is the newest entry), and the
	// redelivered request once.
	eq(t, "recovered", n, 2)
	eq(t, "runs", strings.Join(got, ","), "production:"+strconv.FormatInt(run1, 10)+",staging:"+strconv.FormatInt(run2, 10))
}
