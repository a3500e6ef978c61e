package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures an Emulator.
type Config struct {
	// Tokens maps accepted tokens to their rights. nil/empty: any non-empty token is accepted
	// with full rights.
	Tokens map[string]Permissions
	// PrimaryLimit is the number of requests per token per hour; 0 = 5000.
	PrimaryLimit int
	// SecondaryPerMinute limits content-creating (POST/PATCH/PUT/DELETE) requests per token in
	// any sliding minute; 0 = off. GitHub's documented value is 80.
	SecondaryPerMinute int
	// SecondaryWindow is the secondary limit's window; 0 = one minute (GitHub's). Benchmarks
	// shorten it to run GitHub's pacing at a faster time scale.
	SecondaryWindow time.Duration
	// Latency is added to every response (after the request is handled, before the response
	// is written); it ends early when the request's context ends.
	Latency time.Duration
	// Observe is called for every exchange that produced a response (conformance checks).
	Observe func(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte)
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// Logf receives diagnostic lines; optional.
	Logf func(format string, args ...any)
}

// Emulator is a stateful, in-process stand-in for GitHub's Deployments REST API.
type Emulator struct {
	cfg Config
	mux *http.ServeMux

	mu        sync.Mutex
	repos     map[string]*repo // "owner/name" (lower case)
	nextID    int64
	faults    []*faultState
	requests  []*logEntry        // arrival order
	buckets   map[string]*bucket // key: hash of token
	hooks     []*hook
	hookQueue []delivery
	inflight  int
	idle      chan struct{}
	wake      chan struct{}
	delivered []Delivery
	closed    bool

	users      map[string]*user // lower-case login
	tokenUsers map[string]*user // key: hash of token
	apps       map[string]*app  // by slug
	ghApps     map[int64]*ghApp // GitHub Apps (AddApp) by id
	appTokens  map[string]*instToken
	scripts    map[*Script]struct{}
	scriptWG   sync.WaitGroup

	srv      *http.Server
	url      string
	done     chan struct{}
	hookStop chan struct{}
	hookWG   sync.WaitGroup
	client   *http.Client
	// insecureClient delivers to hooks with insecure_ssl "1" (no certificate verification).
	insecureClient *http.Client
}

// New returns an Emulator with no repositories.
func New(cfg Config) *Emulator {
	if cfg.PrimaryLimit <= 0 {
		cfg.PrimaryLimit = 5000
	}
	e := &Emulator{
		cfg:        cfg,
		repos:      map[string]*repo{},
		nextID:     1000,
		buckets:    map[string]*bucket{},
		users:      map[string]*user{strings.ToLower(botLogin): actionsBot},
		tokenUsers: map[string]*user{},
		scripts:    map[*Script]struct{}{},
		apps:       map[string]*app{},
		ghApps:     map[int64]*ghApp{},
		appTokens:  map[string]*instToken{},
		wake:       make(chan struct{}, 1),
		hookStop:   make(chan struct{}),
		client:     &http.Client{Timeout: 10 * time.Second},
		insecureClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the hook asked for insecure_ssl "1", as on GitHub
		}},
	}
	e.idle = make(chan struct{})
	close(e.idle)
	e.mux = http.NewServeMux()
	e.routes()
	e.hookWG.Add(1)
	go e.hookWorker()
	return e
}

func (e *Emulator) now() time.Time {
	if e.cfg.Now != nil {
		return e.cfg.Now()
	}
	return time.Now()
}

func (e *Emulator) logf(format string, args ...any) {
	if e.cfg.Logf != nil {
		e.cfg.Logf(format, args...)
	}
}

func (e *Emulator) newID() int64 {
	e.nextID++
	return e.nextID
}

// Start listens on addr (a loopback address such as "127.0.0.1:0") and serves http in the
// background.
func (e *Emulator) Start(addr string) error { return e.start(addr, nil) }

// StartTLS is Start serving https with cert (see SelfSigned); URL then begins with https://.
// It speaks HTTP/1.1 only, so the connection-dropping faults work as over http.
func (e *Emulator) StartTLS(addr string, cert tls.Certificate) error {
	return e.start(addr, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12})
}

func (e *Emulator) start(addr string, tlsConfig *tls.Config) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("emulator: bad address %q: %w", addr, err)
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("emulator: refusing to listen on non-loopback address %q", addr)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	e.mu.Lock()
	if e.srv != nil {
		e.mu.Unlock()
		ln.Close()
		return errors.New("emulator: already started")
	}
	e.url = "http://" + ln.Addr().String()
	if tlsConfig != nil {
		e.url = "https://" + ln.Addr().String()
		ln = tls.NewListener(ln, tlsConfig)
	}
	e.srv = &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 10 * time.Second}
	e.done = make(chan struct{})
	srv, done := e.srv, e.done
	e.mu.Unlock()
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logf("emulator: serve: %v", err)
		}
	}()
	return nil
}

// URL is the base URL of the started server, usable as GITHUB_API_URL (no trailing slash).
func (e *Emulator) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.url
}

// Close stops the server, the running scripts (their Err is then ErrClosed) and the webhook
// worker. Queued deliveries that have not started are dropped.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	srv, done := e.srv, e.done
	e.hookQueue = nil
	e.mu.Unlock()
	e.stopScripts()
	close(e.hookStop)
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err = srv.Shutdown(ctx); err != nil {
			err = srv.Close()
		}
		<-done
	}
	e.hookWG.Wait()
	e.insecureClient.CloseIdleConnections()
	e.mu.Lock()
	e.settleIdle()
	e.mu.Unlock()
	return err
}

// Serve runs a standalone emulator on addr until ctx ends.
func Serve(ctx context.Context, addr string, cfg Config, repos ...RepoSeed) error {
	e := New(cfg)
	if len(repos) == 0 {
		repos = []RepoSeed{DefaultRepo()}
	}
	for _, r := range repos {
		e.AddRepo(r)
	}
	if err := e.Start(addr); err != nil {
		return err
	}
	<-ctx.Done()
	return e.Close()
}

// Request is one recorded request.
type Request struct {
	Method   string
	Path     string // without any /api/v3 prefix; /repositories/{id}/x as /repos/{owner}/{name}/x
	RawQuery string
	Status   int    // 0 when the connection was dropped
	Body     []byte // request body
	Fault    string // "" or the fault kind's name
	At       time.Time
}

// logEntry is a request's slot in the log, taken on arrival and filled in when it ends.
type logEntry struct {
	Request
	done bool
}

// Requests returns every finished request so far, in arrival order.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Request, 0, len(e.requests))
	for _, r := range e.requests {
		if !r.done {
			continue
		}
		c := r.Request
		c.Body = append([]byte(nil), c.Body...)
		out = append(out, c)
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = nil
}

// ---- request pipeline ----

const enterprisePrefix = "/api/v3"

type ctxKey struct{}

// reqInfo travels with a request through the pipeline.
type reqInfo struct {
	id    string // X-GitHub-Request-Id, also quoted in rate-limit messages
	base  string // scheme://host[/api/v3]
	token string // empty when unauthenticated
	perms Permissions
	user  *user      // who the token acts as
	app   *ghApp     // set for a verified App JWT
	inst  *instToken // set for an installation token
	body  []byte
	resp  *response
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func info(r *http.Request) *reqInfo { return r.Context().Value(ctxKey{}).(*reqInfo) }

// Handler returns the emulator's http.Handler (usable with httptest.NewServer too).
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serveHTTP) }

func (e *Emulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	r.Body.Close()

	prefix := ""
	if r.URL.Path == enterprisePrefix || strings.HasPrefix(r.URL.Path, enterprisePrefix+"/") {
		prefix = enterprisePrefix
		r2 := r.Clone(r.Context())
		u := *r.URL
		u.Path = strings.TrimPrefix(r.URL.Path, enterprisePrefix)
		if u.Path == "" {
			u.Path = "/"
		}
		if u.RawPath != "" {
			u.RawPath = strings.TrimPrefix(u.RawPath, enterprisePrefix)
		}
		r2.URL = &u
		r2.RequestURI = u.RequestURI()
		r = r2
	}
	r = e.byIDPath(r)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	ri := &reqInfo{id: newRequestID(), base: scheme + "://" + r.Host + prefix, body: body}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
	r.Body = io.NopCloser(bytes.NewReader(body))

	rec := &logEntry{Request: Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: body, At: e.now()}}
	e.mu.Lock()
	e.requests = append(e.requests, rec)
	e.mu.Unlock()

	f := e.takeFault(r)
	var extraDelay time.Duration
	if f != nil {
		rec.Fault = f.Kind.String()
		if tok, ok := parseAuth(r.Header.Get("Authorization")); ok {
			ri.token = tok // for the rate-limit headers only; nothing is counted
		}
		switch f.Kind {
		case FaultReset:
			e.record(rec, 0)
			dropConnection(w)
			return
		case FaultStatus:
			st := f.Status
			if st == 0 {
				st = http.StatusBadGateway
			}
			resp := jsonResponse(st, basicError(http.StatusText(st), docRoot+"/rest"))
			e.withRateHeaders(r, ri, resp)
			e.finish(w, r, ri, resp, rec, 0)
			return
		case FaultSecondaryLimit:
			st := f.Status
			if st == 0 {
				st = http.StatusForbidden
			}
			ra := f.RetryAfter
			switch {
			case ra < 0:
				ra = 0 // "Retry-After: 0", which some proxies and GitHub itself have sent
			case ra == 0:
				ra = 60
			}
			resp := e.secondaryLimitResponse(ri, st, ra)
			e.withRateHeaders(r, ri, resp)
			e.finish(w, r, ri, resp, rec, 0)
			return
		case FaultLatency:
			extraDelay = f.Delay
		}
	}

	resp := e.handle(r, ri)
	if f != nil && f.Kind == FaultLostResponse {
		e.record(rec, 0)
		e.observe(r, ri, resp)
		dropConnection(w)
		return
	}
	e.finish(w, r, ri, resp, rec, extraDelay)
}

// handle runs auth, limits and routing, and returns the complete response.
func (e *Emulator) handle(r *http.Request, ri *reqInfo) (resp *response) {
	resp = e.authAndLimit(r, ri)
	if resp == nil {
		rw := &bufWriter{h: http.Header{}}
		ri.resp = nil
		e.mux.ServeHTTP(rw, r)
		if ri.resp != nil {
			resp = ri.resp
		} else {
			// the mux itself answered (404/405)
			st := rw.status
			if st == 0 {
				st = http.StatusOK
			}
			if st == http.StatusMethodNotAllowed || st == http.StatusNotFound {
				resp = notFound()
			} else {
				resp = &response{status: st, header: rw.h, body: rw.buf.Bytes()}
			}
		}
		resp = e.conditional(r, ri, resp, r.URL.Path != "/rate_limit")
	}
	e.withRateHeaders(r, ri, resp)
	return resp
}

// byIDPath rewrites /repositories/{id}[/...], GitHub's id form of every repository route (the
// one its Link headers use), to /repos/{owner}/{name}[/...]; an unknown id is left alone and
// ends in 404.
func (e *Emulator) byIDPath(r *http.Request) *http.Request {
	const pre = "/repositories/"
	rest, ok := strings.CutPrefix(r.URL.Path, pre)
	if !ok {
		return r
	}
	idStr, tail, hasTail := strings.Cut(rest, "/")
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return r
	}
	e.mu.Lock()
	var rp *repo
	for _, x := range e.repos {
		if x.id == id {
			rp = x
			break
		}
	}
	e.mu.Unlock()
	if rp == nil {
		return r
	}
	r2 := r.Clone(r.Context())
	u := *r.URL
	u.Path = "/repos/" + rp.owner + "/" + rp.name
	if hasTail {
		u.Path += "/" + tail
	}
	if r.URL.RawPath != "" {
		u.RawPath = "/repos/" + url.PathEscape(rp.owner) + "/" + url.PathEscape(rp.name)
		if _, rawTail, ok := strings.Cut(strings.TrimPrefix(r.URL.RawPath, pre), "/"); ok {
			u.RawPath += "/" + rawTail
		}
	}
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	return r2
}

func (e *Emulator) finish(w http.ResponseWriter, r *http.Request, ri *reqInfo, resp *response, rec *logEntry, extra time.Duration) {
	if d := e.cfg.Latency + extra; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			e.record(rec, 0)
			return
		}
	}
	e.record(rec, resp.status)
	e.observe(r, ri, resp)
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp.body) // the client may be gone; nothing to do about it
	}
}

func (e *Emulator) observe(r *http.Request, ri *reqInfo, resp *response) {
	if e.cfg.Observe == nil {
		return
	}
	r2 := r.Clone(context.Background())
	r2.Body = io.NopCloser(bytes.NewReader(ri.body))
	e.cfg.Observe(r2, append([]byte(nil), ri.body...), resp.status, resp.header.Clone(), append([]byte(nil), resp.body...))
}

// record completes a request's log entry (status 0: the connection was dropped).
func (e *Emulator) record(rec *logEntry, status int) {
	e.mu.Lock()
	rec.Status = status
	rec.done = true
	e.mu.Unlock()
}

func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// Not hijackable (e.g. an httptest.ResponseRecorder or HTTP/2): abort the handler,
		// which makes net/http reset the stream/connection.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

type bufWriter struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (b *bufWriter) Header() http.Header { return b.h }
func (b *bufWriter) WriteHeader(s int) {
	if b.status == 0 {
		b.status = s
	}
}
func (b *bufWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}

// ---- auth and rate limits ----

type bucket struct {
	windowStart time.Time
	used        int
	writes      []time.Time // content-creating requests in the last minute
}

func tokenKey(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:8])
}

func parseAuth(h string) (string, bool) {
	h = strings.TrimSpace(h)
	sp := strings.IndexByte(h, ' ')
	if sp < 0 {
		return "", false
	}
	scheme, tok := strings.ToLower(h[:sp]), strings.TrimSpace(h[sp+1:])
	if (scheme != "bearer" && scheme != "token") || tok == "" {
		return "", false
	}
	return tok, true
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

func (e *Emulator) authAndLimit(r *http.Request, ri *reqInfo) *response {
	if v := r.Header.Get("X-GitHub-Api-Version"); v != "" && v != "2022-11-28" && v != "2026-03-10" {
		return jsonResponse(http.StatusBadRequest, basicError(fmt.Sprintf("API version %s is not supported.", v), docRoot+"/rest/about-the-rest-api/api-versions"))
	}
	ah := r.Header.Get("Authorization")
	if ah == "" {
		return jsonResponse(http.StatusUnauthorized, basicError("Requires authentication", docRoot+"/rest"))
	}
	tok, ok := parseAuth(ah)
	if !ok {
		return jsonResponse(http.StatusUnauthorized, basicError("Bad credentials", docRoot+"/rest"))
	}
	kind, bad := e.appAuth(r, ri, tok)
	if bad != nil {
		return bad
	}
	if kind == authToken {
		perms := fullPermissions
		if len(e.cfg.Tokens) > 0 {
			p, found := e.cfg.Tokens[tok]
			if !found {
				return jsonResponse(http.StatusUnauthorized, basicError("Bad credentials", docRoot+"/rest"))
			}
			perms = p
		}
		ri.token = tok
		ri.perms = perms
	}

	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if ri.user == nil {
		ri.user = e.tokenUserLocked(tok)
	}
	b := e.bucketLocked(ri.token, now)
	isRateLimit := r.URL.Path == "/rate_limit"
	if !isRateLimit {
		if b.used >= e.cfg.PrimaryLimit {
			return jsonResponse(http.StatusForbidden, basicError(
				"API rate limit exceeded for user ID "+strconv.FormatInt(ri.user.id, 10)+". If you reach out to GitHub Support for help, please include the request ID "+ri.id+".",
				docRoot+"/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit"))
		}
	}
	if e.cfg.SecondaryPerMinute > 0 && isWrite(r.Method) {
		window := e.cfg.SecondaryWindow
		if window <= 0 {
			window = time.Minute
		}
		cut := now.Add(-window)
		i := 0
		for i < len(b.writes) && !b.writes[i].After(cut) {
			i++
		}
		b.writes = b.writes[i:]
		if len(b.writes) >= e.cfg.SecondaryPerMinute {
			wait := b.writes[0].Add(window).Sub(now)
			secs := int((wait + time.Second - 1) / time.Second)
			if secs < 1 {
				secs = 1
			}
			return e.secondaryLimitResponse(ri, http.StatusForbidden, secs)
		}
		b.writes = append(b.writes, now)
	}
	if !isRateLimit {
		b.used++
	}
	return nil
}

func (e *Emulator) bucketLocked(tok string, now time.Time) *bucket {
	k := tokenKey(tok)
	b := e.buckets[k]
	if b == nil {
		b = &bucket{windowStart: now}
		e.buckets[k] = b
	}
	if now.Sub(b.windowStart) >= time.Hour {
		b.windowStart = now
		b.used = 0
	}
	return b
}

// rate returns limit, remaining, used and reset for a token.
func (e *Emulator) rateLocked(tok string) (limit, remaining, used int, reset int64) {
	now := e.now()
	if tok == "" {
		return 60, 60, 0, now.Add(time.Hour).Unix()
	}
	b := e.bucketLocked(tok, now)
	limit = e.cfg.PrimaryLimit
	used = b.used
	remaining = limit - used
	if remaining < 0 {
		remaining = 0
	}
	return limit, remaining, used, b.windowStart.Add(time.Hour).Unix()
}

func (e *Emulator) withRateHeaders(r *http.Request, ri *reqInfo, resp *response) {
	e.mu.Lock()
	limit, remaining, used, reset := e.rateLocked(ri.token)
	e.mu.Unlock()
	h := resp.header
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-GitHub-Request-Id", ri.id)
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	if v := r.Header.Get("X-GitHub-Api-Version"); v == "2026-03-10" {
		h.Set("X-GitHub-Api-Version-Selected", v)
	}
	h.Set("Access-Control-Expose-Headers", "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset")
	if h.Get("Content-Type") == "" && resp.status != http.StatusNoContent && resp.status != http.StatusNotModified {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
}

func (e *Emulator) secondaryLimitResponse(ri *reqInfo, status, retryAfter int) *response {
	resp := jsonResponse(status, basicError(
		"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID "+ri.id+".",
		docRoot+"/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"))
	resp.header.Set("Retry-After", strconv.Itoa(retryAfter))
	return resp
}

func newRequestID() string {
	var b [10]byte
	rand.Read(b[:])
	x := strings.ToUpper(hex.EncodeToString(b[:]))
	return x[0:4] + ":" + x[4:8] + ":" + x[8:14] + ":" + x[14:20]
}

func newGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
