package ghapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v62/github"
	"golang.org/x/oauth2"
)

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "deployment-action"

// Options configures New.
type Options struct {
	// Token authenticates every request (Authorization: Bearer). It is never logged and never
	// part of an error. Empty means unauthenticated requests.
	Token string
	// APIURL is GITHUB_API_URL. "" or https://api.github.com means github.com; anything else
	// (GHES https://HOST/api/v3, ghe.com https://api.SUBDOMAIN.ghe.com, an emulator) is the base
	// URL. A bare GHES host (no path, host not api.*) gets /api/v3/ appended, as go-github does.
	APIURL    string
	UserAgent string
	// HTTPClient is the base client (transport, TLS, timeout); it is copied and its transport is
	// wrapped to add the token. Nil means a fresh transport.
	HTTPClient *http.Client
	Retry      RetryPolicy
	// WriteLimit paces creates and deletes to stay under a content-creating limit (clean-ups use
	// GitHubWriteLimit()). Zero: no pacing. Independently of it, after any rate-limit answer the
	// whole client (all goroutines) waits until GitHub's retry-after instant.
	WriteLimit WriteLimit
	// Logf receives debug lines about adoption and the like. Optional.
	Logf func(format string, args ...any)
	// Notef receives one line per retry, for the person watching (the action's log, the CLI's
	// stderr): what failed, the next try in N s, attempt k of n. The token never appears in it.
	// Nil: the lines go to Logf.
	Notef func(format string, args ...any)
	// Conditional makes repeated GETs conditional requests (ETag, If-None-Match): for polling,
	// where most answers are 304 Not Modified, which GitHub does not count against the primary
	// rate limit.
	Conditional bool
}

// Client is the go-github implementation of API. It is safe for concurrent use.
type Client struct {
	http      *http.Client // one transport, so one kept-alive connection serves a whole stage
	baseURL   url.URL
	userAgent string
	token     string
	retry     RetryPolicy
	pace      *pacer
	logf      func(format string, args ...any)
	notef     func(format string, args ...any)
	cond      *conditional // nil unless Options.Conditional
}

var _ API = (*Client)(nil)

// New builds a Client. It fails only on an unusable APIURL.
func New(opts Options) (*Client, error) {
	base, err := resolveBaseURL(opts.APIURL)
	if err != nil {
		return nil, err
	}
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	var cond *conditional
	if opts.Conditional {
		// Below the token: the cache sees each request as sent, Authorization included.
		cond = &conditional{base: rt, entries: map[string]*cached{}}
		rt = cond
	}
	if opts.Token != "" {
		rt = &apiOnly{
			origin: base.Scheme + "://" + strings.ToLower(base.Host),
			auth: &oauth2.Transport{
				Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: opts.Token}),
				Base:   rt,
			},
			base: rt,
		}
	}
	hc.Transport = rt
	ua := opts.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	logf := redactedf(opts.Token, opts.Logf)
	notef := logf
	if opts.Notef != nil {
		notef = redactedf(opts.Token, opts.Notef)
	}
	return &Client{
		http:      &hc,
		baseURL:   *base,
		userAgent: ua,
		token:     opts.Token,
		retry:     opts.Retry.withDefaults(),
		pace:      newPacer(opts.WriteLimit),
		logf:      logf,
		notef:     notef,
		cond:      cond,
	}, nil
}

// redactedf formats lines for out with the token replaced; nil out discards them.
func redactedf(token string, out func(format string, args ...any)) func(format string, args ...any) {
	if out == nil {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		if token != "" {
			line = strings.ReplaceAll(line, token, "***")
		}
		out("%s", line)
	}
}

// BaseURL is the API root every request is resolved against (always ends in "/").
func (c *Client) BaseURL() string { return c.baseURL.String() }

func resolveBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		raw = "https://api.github.com/"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("GitHub API URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("GitHub API URL %q: want an http(s) URL such as https://api.github.com or https://HOST/api/v3", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("GitHub API URL %q: must not carry credentials, a query or a fragment", u.Redacted())
	}
	// GITHUB_API_URL is already the API root on every flavour, so a path is kept as given. Only a
	// bare host that is not an api.* host is taken to be a GHES web address (go-github's rule).
	if u.Path == "" || u.Path == "/" {
		host := strings.ToLower(u.Hostname())
		// Loopback is a local emulator or proxy serving the API at its root, never a GHES web host.
		loopback := host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
		if !loopback && !strings.HasPrefix(host, "api.") && !strings.Contains(host, ".api.") {
			u.Path = "/api/v3/"
		} else {
			u.Path = "/"
		}
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u, nil
}

// gh returns a go-github client for one attempt. go-github remembers rate-limit resets (by the
// real clock) and then refuses requests locally; we decide about waits ourselves, so each
// attempt starts without that memory. The http.Client (and its connections) is shared.
func (c *Client) gh() *github.Client {
	g := github.NewClient(c.http)
	base := c.baseURL
	g.BaseURL = &base
	g.UserAgent = c.userAgent
	return g
}

func (c *Client) finish(err error) error {
	var api *APIError
	if errors.As(err, &api) {
		api.redact(c.token)
	}
	return redact(c.token, err)
}

// apiOnly sends the token to the API's own origin only. net/http follows redirects through the
// transport, and the oauth2 transport adds Authorization to every request it sees, so a redirect
// to another host would otherwise carry the token there.
type apiOnly struct {
	origin     string // scheme://host[:port] of the API, lower case
	auth, base http.RoundTripper
}

func (t *apiOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme+"://"+strings.ToLower(req.URL.Host) == t.origin {
		return t.auth.RoundTrip(req)
	}
	if req.Header.Get("Authorization") != "" {
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
	}
	return t.base.RoundTrip(req)
}

// GetDeployment fetches one deployment.
func (c *Client) GetDeployment(ctx context.Context, owner, repo string, id int64) (*github.Deployment, error) {
	var d *github.Deployment
	err := c.do(ctx, OpGetDeployment, func(ctx context.Context, g *github.Client) (err error) {
		d, _, err = g.Repositories.GetDeployment(ctx, owner, repo, id)
		return err
	})
	return d, c.finish(err)
}

// ListDeployments returns one page of deployments, newest first.
func (c *Client) ListDeployments(ctx context.Context, owner, repo string, opts *github.DeploymentsListOptions) ([]*github.Deployment, Page, error) {
	var ds []*github.Deployment
	var page Page
	err := c.do(ctx, OpListDeployments, func(ctx context.Context, g *github.Client) error {
		var resp *github.Response
		var err error
		ds, resp, err = g.Repositories.ListDeployments(ctx, owner, repo, opts)
		page = pageOf(resp)
		return err
	})
	return ds, page, c.finish(err)
}

// DeleteDeployment deletes a deployment (GitHub refuses active ones with 422 unless it is the
// only one).
func (c *Client) DeleteDeployment(ctx context.Context, owner, repo string, id int64) error {
	return c.deleteOnce(ctx, OpDeleteDeployment, false, func(ctx context.Context, g *github.Client) error {
		_, err := g.Repositories.DeleteDeployment(ctx, owner, repo, id)
		return err
	})
}

// deleteOnce runs a DELETE whose retry may find the thing gone: a 404 after an attempt that may
// have reached GitHub (its answer was lost) means the delete worked. goneIsDone makes any 404
// success (an environment already deleted is what was asked for).
func (c *Client) deleteOnce(ctx context.Context, op Op, goneIsDone bool, fn func(ctx context.Context, g *github.Client) error) error {
	reached := false
	err := c.do(ctx, op, func(ctx context.Context, g *github.Client) error {
		err := fn(ctx, g)
		if err != nil && (reached || goneIsDone) && isNotFoundAnswer(err) {
			c.logf("%s: already gone (404)", op)
			return nil
		}
		if err != nil && mayHaveReachedServer(err) {
			reached = true
		}
		return err
	})
	return c.finish(err)
}

func isNotFoundAnswer(err error) bool {
	var ere *github.ErrorResponse
	return errors.As(err, &ere) && ere.Response != nil && ere.Response.StatusCode == http.StatusNotFound
}

// ListDeploymentStatuses returns one page of a deployment's statuses, newest first.
func (c *Client) ListDeploymentStatuses(ctx context.Context, owner, repo string, id int64, opts *github.ListOptions) ([]*github.DeploymentStatus, Page, error) {
	var ss []*github.DeploymentStatus
	var page Page
	err := c.do(ctx, OpListDeploymentStatuses, func(ctx context.Context, g *github.Client) error {
		var resp *github.Response
		var err error
		ss, resp, err = g.Repositories.ListDeploymentStatuses(ctx, owner, repo, id, opts)
		page = pageOf(resp)
		return err
	})
	return ss, page, c.finish(err)
}

// DeleteEnvironment deletes an environment with its deployments and settings; one that does not
// exist (any more) counts as deleted.
func (c *Client) DeleteEnvironment(ctx context.Context, owner, repo, name string) error {
	// go-github puts the name into the path unescaped; GitHub wants "/" in names as %2F.
	escaped := url.PathEscape(name)
	return c.deleteOnce(ctx, OpDeleteEnvironment, true, func(ctx context.Context, g *github.Client) error {
		_, err := g.Repositories.DeleteEnvironment(ctx, owner, repo, escaped)
		return err
	})
}

// CommitSHA resolves a branch, tag or (short) SHA to the full commit SHA.
func (c *Client) CommitSHA(ctx context.Context, owner, repo, ref string) (string, error) {
	var sha string
	err := c.do(ctx, OpGetCommit, func(ctx context.Context, g *github.Client) error {
		rc, _, err := g.Repositories.GetCommit(ctx, owner, repo, ref, &github.ListOptions{PerPage: 1})
		sha = rc.GetSHA()
		return err
	})
	return sha, c.finish(err)
}

// CommitParents returns the SHAs of a commit's parents, first parent first.
func (c *Client) CommitParents(ctx context.Context, owner, repo, sha string) ([]string, error) {
	var out []string
	err := c.do(ctx, OpGetCommit, func(ctx context.Context, g *github.Client) error {
		rc, _, err := g.Repositories.GetCommit(ctx, owner, repo, sha, &github.ListOptions{PerPage: 1})
		out = nil
		for _, p := range rc.Parents {
			out = append(out, p.GetSHA())
		}
		return err
	})
	return out, c.finish(err)
}

// CreateDeployment creates a deployment without ever creating two: when a create's outcome is
// unknown, the next attempt first looks for the deployment that request would have made.
func (c *Client) CreateDeployment(ctx context.Context, owner, repo string, req *github.DeploymentRequest) (*github.Deployment, error) {
	if req == nil || req.Ref == nil {
		return nil, errors.New("create deployment: a ref is required")
	}
	first := c.retry.Now()
	return createOnce(ctx, c, OpCreateDeployment,
		func(ctx context.Context, g *github.Client) (*github.Deployment, error) {
			d, _, err := g.Repositories.CreateDeployment(ctx, owner, repo, req)
			var ae *github.AcceptedError
			if errors.As(err, &ae) {
				auto := &AutoMergedError{Err: err}
				if api, ok := toAPIError(OpCreateDeployment, err); ok {
					auto.Message = api.Message
				}
				return d, permanent(auto)
			}
			return d, err
		},
		func(ctx context.Context, g *github.Client) (*github.Deployment, error) {
			return c.findCreatedDeployment(ctx, g, owner, repo, req, first)
		},
		func(d *github.Deployment) string { return fmt.Sprintf("deployment %d", d.GetID()) })
}

// CreateDeploymentStatus adds a status. When a create's outcome is unknown, the next attempt
// adopts the newest status if it is the one asked for, so a retry never leaves another state.
func (c *Client) CreateDeploymentStatus(ctx context.Context, owner, repo string, id int64, req *github.DeploymentStatusRequest) (*github.DeploymentStatus, error) {
	if req == nil || req.State == nil {
		return nil, errors.New("create deployment status: a state is required")
	}
	first := c.retry.Now()
	return createOnce(ctx, c, OpCreateDeploymentStatus,
		func(ctx context.Context, g *github.Client) (*github.DeploymentStatus, error) {
			s, _, err := g.Repositories.CreateDeploymentStatus(ctx, owner, repo, id, req)
			return s, err
		},
		func(ctx context.Context, g *github.Client) (*github.DeploymentStatus, error) {
			return c.findCreatedStatus(ctx, g, owner, repo, id, req, first)
		},
		func(s *github.DeploymentStatus) string {
			return fmt.Sprintf("status %d (%s) of deployment %d", s.GetID(), s.GetState(), id)
		})
}

func budgetRanOut(err error) bool {
	var re *RetryError
	return errors.As(err, &re)
}

func pageOf(resp *github.Response) Page {
	if resp == nil {
		return Page{}
	}
	return Page{Next: resp.NextPage, Last: resp.LastPage}
}
