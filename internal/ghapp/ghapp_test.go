package ghapp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeGitHub verifies App JWTs with the App's public key the way GitHub does (signature, exp at
// most 10 minutes after iat, not expired) and hands out installation tokens.
type fakeGitHub struct {
	t       *testing.T
	pub     *rsa.PublicKey
	now     func() time.Time
	mu      sync.Mutex
	minted  int
	lastJWT jwt.MapClaims
	repoTok string // Authorization seen on /repos
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if strings.HasPrefix(r.URL.Path, "/repos/acme/api/deployments") {
		f.mu.Lock()
		f.repoTok = auth
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[]`))
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(auth, claims, func(*jwt.Token) (any, error) { return f.pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(f.now), jwt.WithIssuedAt())
	if err != nil {
		http.Error(w, `{"message":"A JSON web token could not be decoded"}`, http.StatusUnauthorized)
		return
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if exp.Sub(iat.Time) > 10*time.Minute {
		http.Error(w, `{"message":"'Expiration time' claim ('exp') is too far in the future"}`, http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	f.lastJWT = claims
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/repos/acme/api/installation":
		_, _ = w.Write([]byte(`{"id": 42}`))
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/installation"):
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	case r.Method == http.MethodPost && r.URL.Path == "/app/installations/42/access_tokens":
		f.mu.Lock()
		f.minted++
		n := f.minted
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{
			"token":       "ghs_token" + string(rune('0'+n)),
			"expires_at":  f.now().Add(time.Hour).UTC().Format(time.RFC3339),
			"permissions": map[string]string{"deployments": "write", "metadata": "read"},
		})
	default:
		http.NotFound(w, r)
	}
}

func newTestApp(t *testing.T) (*App, *fakeGitHub, *time.Time) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	clock := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	f := &fakeGitHub{t: t, pub: &key.PublicKey, now: now}
	srv := httptest.NewServer(f) // 127.0.0.1
	t.Cleanup(srv.Close)
	app, err := New(Options{AppID: "1234", PrivateKeyPEM: pemKey, APIURL: srv.URL, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return app, f, &clock
}

func TestJWTClaimsAreWhatGitHubAccepts(t *testing.T) {
	app, f, clock := newTestApp(t)
	if _, err := app.InstallationToken(context.Background(), "acme", "api"); err != nil {
		t.Fatal(err)
	}
	iat, _ := f.lastJWT.GetIssuedAt()
	exp, _ := f.lastJWT.GetExpirationTime()
	iss, _ := f.lastJWT.GetIssuer()
	if iss != "1234" {
		t.Errorf("iss = %q, want the App id 1234", iss)
	}
	if got := clock.Sub(iat.Time); got != 60*time.Second {
		t.Errorf("iat is %v before now, want 60s (clock drift)", got)
	}
	if got := exp.Sub(iat.Time); got <= 0 || got > 10*time.Minute {
		t.Errorf("exp-iat = %v, want at most 10m", got)
	}
}

func TestInstallationTokenCachedUntilFiveMinutesBeforeExpiry(t *testing.T) {
	app, f, clock := newTestApp(t)
	ctx := context.Background()
	t1, err := app.InstallationToken(ctx, "acme", "api")
	if err != nil {
		t.Fatal(err)
	}
	if t1.Permissions["deployments"] != "write" {
		t.Errorf("permissions = %v, want deployments: write", t1.Permissions)
	}
	*clock = clock.Add(54 * time.Minute) // 6 minutes left: still cached
	t2, err := app.InstallationToken(ctx, "Acme", "API")
	if err != nil {
		t.Fatal(err)
	}
	if t2.Value != t1.Value || f.minted != 1 {
		t.Fatalf("with 6 minutes left the token was replaced (%d minted)", f.minted)
	}
	*clock = clock.Add(2 * time.Minute) // 4 minutes left: replaced
	t3, err := app.InstallationToken(ctx, "acme", "api")
	if err != nil {
		t.Fatal(err)
	}
	if t3.Value == t1.Value || f.minted != 2 {
		t.Fatalf("with 4 minutes left the token was kept (%d minted)", f.minted)
	}
}

func TestInstallationClientUsesInstallationToken(t *testing.T) {
	app, f, _ := newTestApp(t)
	c, err := app.InstallationClient(context.Background(), "acme", "api")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ListDeployments(context.Background(), "acme", "api", nil); err != nil {
		t.Fatal(err)
	}
	if f.repoTok != "ghs_token1" {
		t.Errorf("/repos request carried %q, want the installation token", f.repoTok)
	}
}

func TestNotInstalled(t *testing.T) {
	app, _, _ := newTestApp(t)
	_, err := app.InstallationToken(context.Background(), "acme", "other")
	var ni *NotInstalledError
	if !errors.As(err, &ni) || ni.Repo != "other" {
		t.Fatalf("err = %v, want NotInstalledError for acme/other", err)
	}
	if !strings.Contains(err.Error(), "install it") {
		t.Errorf("error %q does not say how to fix it", err)
	}
}

func TestExpiredJWTRefused(t *testing.T) {
	app, f, clock := newTestApp(t)
	// The App's clock is 20 minutes behind GitHub's: its JWT has expired on arrival.
	real := *clock
	f.now = func() time.Time { return real.Add(20 * time.Minute) }
	_, err := app.InstallationToken(context.Background(), "acme", "api")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want GitHub's 401", err)
	}
}

func TestBadOptionsNamed(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{PrivateKeyPEM: []byte("x")}, "App id is empty"},
		{Options{AppID: "1"}, "private key is empty"},
		{Options{AppID: "1", PrivateKeyPEM: []byte("not a key")}, "not an RSA key"},
	} {
		if _, err := New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.opts.AppID, err, tc.want)
		}
	}
}
