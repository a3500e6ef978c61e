// Package ghapp authenticates as a GitHub App: an RS256 JWT for the /app endpoints, and
// installation tokens (cached until shortly before they expire) for a repository's endpoints.
package ghapp

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

const (
	// jwtBackdate sets iat in the past: GitHub refuses a JWT issued "in the future" by a clock
	// slightly ahead of its own.
	jwtBackdate = 60 * time.Second
	// jwtLifetime is exp-iat; GitHub refuses more than 10 minutes.
	jwtLifetime = 9 * time.Minute
	// tokenMargin: a cached installation token is replaced this long before expires_at, so a
	// request started with it does not fail half-way.
	tokenMargin = 5 * time.Minute
)

// Options configures New.
type Options struct {
	// AppID is the App's id (or client id): the JWT's iss.
	AppID string
	// PrivateKeyPEM is the App's private key (PEM, PKCS#1 or PKCS#8). Never logged.
	PrivateKeyPEM []byte
	// APIURL is the API root, resolved as the CLI does (ghapi.APIURLFromEnv).
	APIURL     string
	UserAgent  string
	HTTPClient *http.Client
	// Now is the clock (tests inject one). Nil means time.Now.
	Now func() time.Time
}

// App is a GitHub App's credentials and its token cache. Safe for concurrent use.
type App struct {
	id      string
	key     *rsa.PrivateKey
	apiURL  string
	base    string // resolved API root, ends in "/"
	ua      string
	hc      *http.Client
	now     func() time.Time
	mu      sync.Mutex
	install map[string]int64 // "owner/repo" (lower case) → installation id
	tokens  map[int64]Token
}

// Token is an installation access token.
type Token struct {
	Value       string
	ExpiresAt   time.Time
	Permissions map[string]string
}

// NotInstalledError says the App has no installation on a repository (GitHub answered 404).
type NotInstalledError struct{ Owner, Repo string }

func (e *NotInstalledError) Error() string {
	return fmt.Sprintf("the GitHub App is not installed on %s/%s: install it on the repository (Settings → GitHub Apps) or ask an organisation owner to", e.Owner, e.Repo)
}

// New checks the options and parses the key; it makes no request.
func New(opts Options) (*App, error) {
	if strings.TrimSpace(opts.AppID) == "" {
		return nil, errors.New("GitHub App id is empty: set it to the App's id (App settings → About → App ID)")
	}
	if len(opts.PrivateKeyPEM) == 0 {
		return nil, errors.New("GitHub App private key is empty: give the PEM file generated in the App's settings (Private keys)")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(opts.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("GitHub App private key: not an RSA key in PEM form (generate one in the App's settings): %w", err)
	}
	probe, err := ghapi.New(ghapi.Options{APIURL: opts.APIURL})
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		hc = &c
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = ghapi.DefaultUserAgent
	}
	return &App{id: strings.TrimSpace(opts.AppID), key: key, apiURL: opts.APIURL, base: probe.BaseURL(), ua: ua,
		hc: hc, now: now, install: map[string]int64{}, tokens: map[int64]Token{}}, nil
}

// JWT signs a fresh App JWT: iat 60 s in the past, exp 9 minutes after iat.
func (a *App) JWT() (string, error) {
	iat := a.now().Add(-jwtBackdate)
	claims := jwt.RegisteredClaims{
		Issuer:    a.id,
		IssuedAt:  jwt.NewNumericDate(iat),
		ExpiresAt: jwt.NewNumericDate(iat.Add(jwtLifetime)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(a.key)
	if err != nil {
		return "", fmt.Errorf("signing the GitHub App JWT: %w", err)
	}
	return s, nil
}

// AppClient is a go-github client authenticated with a fresh JWT per request, for /app endpoints.
func (a *App) AppClient() *github.Client {
	hc := *a.hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &jwtTransport{app: a, base: base}
	g := github.NewClient(&hc)
	u := *mustParse(a.base)
	g.BaseURL = &u
	g.UserAgent = a.ua
	return g
}

// InstallationToken returns a token for the installation on owner/repo, from the cache while it
// has more than 5 minutes left.
func (a *App) InstallationToken(ctx context.Context, owner, repo string) (Token, error) {
	id, err := a.installationID(ctx, owner, repo)
	if err != nil {
		return Token{}, err
	}
	t, err := a.tokenFor(ctx, id)
	if err != nil {
		return Token{}, fmt.Errorf("installation token for %s/%s: %w", owner, repo, err)
	}
	return t, nil
}

// TokenForInstallation is the token of an installation known by id (a webhook's
// installation.id), from the cache while it has more than 5 minutes left.
func (a *App) TokenForInstallation(ctx context.Context, id int64) (string, error) {
	t, err := a.tokenFor(ctx, id)
	return t.Value, err
}

func (a *App) tokenFor(ctx context.Context, id int64) (Token, error) {
	a.mu.Lock()
	t, ok := a.tokens[id]
	a.mu.Unlock()
	if ok && a.now().Before(t.ExpiresAt.Add(-tokenMargin)) {
		return t, nil
	}
	// An empty options object, not nil: go-github would send the body "null", which GitHub's
	// description does not allow (the emulator's conformance checks report it).
	it, _, err := a.AppClient().Apps.CreateInstallationToken(ctx, id, &github.InstallationTokenOptions{})
	if err != nil {
		return Token{}, fmt.Errorf("installation %d: %w", id, err)
	}
	t = Token{Value: it.GetToken(), ExpiresAt: it.GetExpiresAt().Time, Permissions: permissions(it.GetPermissions())}
	if t.Value == "" {
		return Token{}, fmt.Errorf("installation %d: GitHub answered without a token", id)
	}
	a.mu.Lock()
	a.tokens[id] = t
	a.mu.Unlock()
	return t, nil
}

// InstallationClient is the project's API client for owner/repo, authenticated with the
// installation's token. Build one per unit of work: the token behind it expires within an hour.
func (a *App) InstallationClient(ctx context.Context, owner, repo string) (*ghapi.Client, error) {
	t, err := a.InstallationToken(ctx, owner, repo)
	if err != nil {
		return nil, err
	}
	return ghapi.New(ghapi.Options{Token: t.Value, APIURL: a.apiURL, UserAgent: a.ua, HTTPClient: a.hc})
}

// HookDeliveries is one page of the App's webhook delivery log (GET /app/hook/deliveries,
// newest first, 100 a page) and the cursor of the next page ("" on the last).
func (a *App) HookDeliveries(ctx context.Context, cursor string) ([]*github.HookDelivery, string, error) {
	ds, resp, err := a.AppClient().Apps.ListHookDeliveries(ctx, &github.ListCursorOptions{PerPage: 100, Cursor: cursor})
	if err != nil {
		return nil, "", fmt.Errorf("reading the App's webhook deliveries: %w", err)
	}
	return ds, resp.Cursor, nil
}

// HookPayload is one delivery's request body (GET /app/hook/deliveries/{id}).
func (a *App) HookPayload(ctx context.Context, id int64) ([]byte, error) {
	d, _, err := a.AppClient().Apps.GetHookDelivery(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading webhook delivery %d: %w", id, err)
	}
	if d.Request == nil || d.Request.RawPayload == nil {
		return nil, fmt.Errorf("webhook delivery %d has no payload", id)
	}
	return []byte(*d.Request.RawPayload), nil
}

// RedeliverHook asks GitHub to send a delivery again (POST /app/hook/deliveries/{id}/attempts;
// GitHub answers 202 and sends it in the background).
func (a *App) RedeliverHook(ctx context.Context, id int64) error {
	_, _, err := a.AppClient().Apps.RedeliverHookDelivery(ctx, id)
	var accepted *github.AcceptedError
	if err != nil && !errors.As(err, &accepted) {
		return fmt.Errorf("redelivering webhook delivery %d: %w", id, err)
	}
	return nil
}

func (a *App) installationID(ctx context.Context, owner, repo string) (int64, error) {
	k := strings.ToLower(owner + "/" + repo)
	a.mu.Lock()
	id, ok := a.install[k]
	a.mu.Unlock()
	if ok {
		return id, nil
	}
	inst, resp, err := a.AppClient().Apps.FindRepositoryInstallation(ctx, owner, repo)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return 0, &NotInstalledError{Owner: owner, Repo: repo}
		}
		return 0, fmt.Errorf("looking up the GitHub App's installation on %s/%s: %w", owner, repo, err)
	}
	a.mu.Lock()
	a.install[k] = inst.GetID()
	a.mu.Unlock()
	return inst.GetID(), nil
}

func permissions(p *github.InstallationPermissions) map[string]string {
	out := map[string]string{}
	if p == nil {
		return out
	}
	for k, v := range map[string]*string{
		"actions": p.Actions, "checks": p.Checks, "contents": p.Contents, "deployments": p.Deployments,
		"metadata": p.Metadata, "pull_requests": p.PullRequests, "statuses": p.Statuses,
	} {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// jwtTransport adds the App JWT to requests for the API's own origin only (a redirect elsewhere
// must not carry it).
type jwtTransport struct {
	app  *App
	base http.RoundTripper
}

func (t *jwtTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := mustParse(t.app.base)
	if !strings.EqualFold(req.URL.Scheme+"://"+req.URL.Host, u.Scheme+"://"+u.Host) {
		return t.base.RoundTrip(req)
	}
	s, err := t.app.JWT()
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+s)
	return t.base.RoundTrip(req)
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err) // s came from ghapi's resolution, which already parsed it
	}
	return u
}
