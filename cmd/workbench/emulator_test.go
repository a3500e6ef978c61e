package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

// The emulator as a tool: `workbench emulator` and `workbench receiver` run as a user runs them,
// and are talked to only over the network, with what they print as the only guide.

const requireToolsEnv = "DEPLOYMENT_ACTION_REQUIRE_TOOLS"

type command func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// running is a workbench command started by a test.
type running struct {
	t      *testing.T
	lines  chan string   // stdout, line by line
	seen   []string      // lines read so far by wait
	done   chan error    // the command's result
	cancel func()        // stops it
	stderr *lockedBuffer // for failure messages
}

// startCommand runs cmd with args until the test ends (or stop is called).
func startCommand(t *testing.T, cmd command, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	r := &running{t: t, lines: make(chan string, 1000), done: make(chan error, 1), cancel: cancel, stderr: &lockedBuffer{}}
	go func() {
		err := cmd(ctx, args, func(string) string { return "" }, pw, r.stderr)
		pw.Close()
		r.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	t.Cleanup(func() { r.stop() })
	return r
}

// stop cancels the command and returns its result (nil when it ended as it should).
func (r *running) stop() error {
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // later calls see it too
		return err
	case <-time.After(10 * time.Second):
		r.t.Errorf("the command did not stop within 10s of its context's end")
		return errors.New("did not stop")
	}
}

// wait returns the submatches of the first line (from those not yet read) matching re; it fails
// the test when the command ends or 10 seconds pass first.
func (r *running) wait(re string) []string {
	r.t.Helper()
	rx := regexp.MustCompile(re)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				r.t.Fatalf("output ended before a line matching %q; read:\n%s\nstderr:\n%s", re, strings.Join(r.seen, "\n"), r.stderr.String())
			}
			r.seen = append(r.seen, l)
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-timeout:
			r.t.Fatalf("no line matching %q within 10s; read:\n%s\nstderr:\n%s", re, strings.Join(r.seen, "\n"), r.stderr.String())
		}
	}
}

// rest is a small client of the started emulator.
type rest struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (c rest) do(method, path, body string, header ...string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer any-token")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (c rest) must(method, path, body string, want int) map[string]any {
	c.t.Helper()
	resp, b := c.do(method, path, body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// TestEmulatorToolWebhooksReachASubscribedReceiver is docs/emulator.md's webhook walk-through: seed
// repositories with --repo, subscribe `workbench receiver` over REST, deploy, and see ping,
// deployment and deployment_status arrive signed.
func TestEmulatorToolWebhooksReachASubscribedReceiver(t *testing.T) {
	emu := startCommand(t, runEmulator, "--addr", "127.0.0.1:0", "--repo", "acme/shop", "--repo", "alice/blog", "--user", "alice", "--quiet")
	base := emu.wait(`REST API at (http://127\.0\.0\.1:\d+) `)[1]
	shop := emu.wait(`^repository acme/shop \(id (\d+), an organization's\)$`)
	mainSHA := emu.wait(`^  branch main +([0-9a-f]{40})  \(default branch\)$`)[1]
	tagSHA := emu.wait(`^  tag +v1\.0\.0 +([0-9a-f]{40})$`)[1]
	emu.wait(`^repository alice/blog \(id \d+, a user's\)$`)
	emu.wait(`GITHUB_API_URL=` + regexp.QuoteMeta(base) + `$`)

	api := rest{t: t, base: base, client: &http.Client{}}
	// What was printed is what the API serves: main's head is the tag, after two pushes.
	head := api.must("GET", "/repos/acme/shop/commits/main", "", 200)
	if head["sha"] != mainSHA || tagSHA != mainSHA {
		t.Errorf("main = %v, printed %s, tag %s", head["sha"], mainSHA, tagSHA)
	}
	if ps, _ := head["parents"].([]any); len(ps) != 1 {
		t.Errorf("main's head has parents %v, want one", head["parents"])
	}
	repo := api.must("GET", "/repos/acme/shop", "", 200)
	if jsonNumber(repo["id"]) != shop[1] || repo["owner"].(map[string]any)["type"] != "Organization" {
		t.Errorf("GET /repos/acme/shop: id %v owner %v; printed id %s", repo["id"], repo["owner"], shop[1])
	}
	if api.must("GET", "/repos/alice/blog", "", 200)["owner"].(map[string]any)["type"] != "User" {
		t.Errorf("--user alice: alice/blog is not user-owned")
	}

	rcv := startCommand(t, runReceiver, "--addr", "127.0.0.1:0", "--secret", "s3cret")
	hookURL := rcv.wait(`listening on (http://127\.0\.0\.1:\d+/)`)[1]

	hook := api.must("POST", "/repos/acme/shop/hooks", `{"config":{"url":"`+hookURL+`","content_type":"json","secret":"s3cret"},"events":["deployment","deployment_status"]}`, 201)
	hookID := jsonNumber(hook["id"])
	rcv.wait(`^ping acme/shop "[^"]+" \(hook ` + hookID + `, delivery [0-9a-f-]{36}\): signature valid$`)

	dep := api.must("POST", "/repos/acme/shop/deployments", `{"ref":"v1.0.0","environment":"staging"}`, 201)
	id := jsonNumber(dep["id"])
	api.must("POST", "/repos/acme/shop/deployments/"+id+"/statuses", `{"state":"success","environment_url":"https://staging.example.com"}`, 201)
	rcv.wait(`^deployment acme/shop created deployment ` + id + ` of v1\.0\.0 to staging \(hook ` + hookID + `, .*\): signature valid$`)
	rcv.wait(`^deployment_status acme/shop created deployment ` + id + ` of v1\.0\.0 to staging state success \(hook ` + hookID + `, .*\): signature valid$`)

	// GitHub's default content type is form; its body is signed as sent.
	form := api.must("POST", "/repos/acme/shop/hooks", `{"config":{"url":"`+hookURL+`form","secret":"s3cret"},"events":["*"]}`, 201)
	rcv.wait(`^ping acme/shop .*\(hook ` + jsonNumber(form["id"]) + `, .*\): signature valid$`)
	// A wrong secret is caught by the receiver.
	bad := api.must("POST", "/repos/acme/shop/hooks", `{"config":{"url":"`+hookURL+`bad","content_type":"json","secret":"other"}}`, 201)
	rcv.wait(`^ping acme/shop .*\(hook ` + jsonNumber(bad["id"]) + `, .*\): signature INVALID$`)

	if err := emu.stop(); err != nil {
		t.Errorf("emulator: %v", err)
	}
	emu.wait(`^emulator: stopped after \d+ requests$`)
	if err := rcv.stop(); err != nil {
		t.Errorf("receiver: %v", err)
	}
}

// TestEmulatorToolConditionalRequests: a repeated GET with If-None-Match answers 304 and costs
// no rate limit, as GitHub's does.
func TestEmulatorToolConditionalRequests(t *testing.T) {
	emu := startCommand(t, runEmulator, "--addr", "127.0.0.1:0", "--repo", "acme/shop", "--quiet")
	api := rest{t: t, base: emu.wait(`REST API at (http://127\.0\.0\.1:\d+) `)[1], client: &http.Client{}}
	conditionalRoundTrip(t, api, "/repos/acme/shop/deployments")
}

func conditionalRoundTrip(t *testing.T, api rest, path string) {
	t.Helper()
	api.must("POST", path, `{"ref":"main","environment":"staging"}`, 201)
	first, _ := api.do("GET", path, "")
	etag, remaining := first.Header.Get("ETag"), first.Header.Get("X-RateLimit-Remaining")
	if first.StatusCode != 200 || etag == "" || remaining == "" {
		t.Fatalf("first GET: %d, ETag %q, remaining %q", first.StatusCode, etag, remaining)
	}
	for i := 0; i < 3; i++ {
		resp, body := api.do("GET", path, "", "If-None-Match", etag)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Fatalf("conditional GET %d: %d with %d bytes, want 304 without a body", i, resp.StatusCode, len(body))
		}
		if got := resp.Header.Get("X-RateLimit-Remaining"); got != remaining {
			t.Errorf("conditional GET %d: x-ratelimit-remaining %s, want %s (a 304 is free)", i, got, remaining)
		}
	}
	// A change makes the ETag stale.
	api.must("POST", path, `{"ref":"main","environment":"production"}`, 201)
	if resp, _ := api.do("GET", path, "", "If-None-Match", etag); resp.StatusCode != 200 {
		t.Errorf("GET after a change with the old ETag: %d, want 200", resp.StatusCode)
	}
}

// TestEmulatorToolTLS: with --tls the emulator serves https with the certificate it wrote, and a
// client trusting only that file talks to it (conditional requests included); others do not.
func TestEmulatorToolTLS(t *testing.T) {
	certFile := filepath.Join(t.TempDir(), "emulator.pem")
	emu := startCommand(t, runEmulator, "--addr", "127.0.0.1:0", "--repo", "acme/shop", "--tls", "--cert-file", certFile, "--quiet")
	base := emu.wait(`REST API at (https://127\.0\.0\.1:(\d+)) `)
	tlsLine := emu.wait(`^TLS: self-signed certificate for 127\.0\.0\.1 and localhost, valid until (\S+): (.+)$`)
	if tlsLine[2] != certFile {
		t.Errorf("printed certificate path %s, want %s", tlsLine[2], certFile)
	}
	if until, err := time.Parse(time.RFC3339, tlsLine[1]); err != nil || until.After(time.Now().Add(25*time.Hour)) {
		t.Errorf("valid until %s: want a short validity (a day)", tlsLine[1])
	}
	ghLine := emu.wait(`^  gh:  (.*)$`)[1]
	wantEnv := "GH_HOST=127.0.0.1:" + base[2] + " GH_ENTERPRISE_TOKEN=any-token SSL_CERT_FILE=" + certFile + " "
	if !strings.HasPrefix(ghLine, wantEnv) {
		t.Errorf("gh line %q, want it to start with %q", ghLine, wantEnv)
	}

	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", certFile)
	}
	trusting := rest{t: t, base: base[1] + "/api/v3", client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	repo := trusting.must("GET", "/repos/acme/shop", "", 200)
	if repo["url"] != base[1]+"/api/v3/repos/acme/shop" {
		t.Errorf("url %v: bodies must name the https address", repo["url"])
	}
	conditionalRoundTrip(t, trusting, "/repos/acme/shop/deployments")

	req, _ := http.NewRequest("GET", base[1]+"/rate_limit", nil)
	_, err = (&http.Client{Transport: &http.Transport{}}).Do(req)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("a client not trusting the file: %v, want x509.UnknownAuthorityError", err)
	}
}

// TestEmulatorToolTLSDefaultCertificatePlace: without --cert-file the certificate goes to a new
// temporary directory, printed, and removed when the emulator stops.
func TestEmulatorToolTLSDefaultCertificatePlace(t *testing.T) {
	emu := startCommand(t, runEmulator, "--addr", "127.0.0.1:0", "--tls", "--quiet")
	path := emu.wait(`^TLS: .*: (/.+\.pem)$`)[1]
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("printed certificate %s: %v", path, err)
	}
	if err := emu.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after the emulator stopped (err %v)", filepath.Dir(path), err)
	}
}

// TestEmulatorToolTLSWithGH runs the gh line the emulator prints, as printed (gh from Debian's gh
// package; skipped without it unless DEPLOYMENT_ACTION_REQUIRE_TOOLS=1).
func TestEmulatorToolTLSWithGH(t *testing.T) {
	gh, err := exec.LookPath("gh")
	if err != nil {
		if os.Getenv(requireToolsEnv) == "1" {
			t.Fatalf("gh is not installed (apt-get install gh); %s=1: required", requireToolsEnv)
		}
		t.Skip("gh is not installed (apt-get install gh): skipping the gh check of --tls")
	}
	emu := startCommand(t, runEmulator, "--addr", "127.0.0.1:0", "--repo", "acme/shop", "--tls", "--cert-file", filepath.Join(t.TempDir(), "cert.pem"), "--quiet")
	env, argv := printedCommand(t, emu.wait(`^  gh:  (.*)$`)[1])
	if len(argv) < 1 || argv[0] != "gh" {
		t.Fatalf("gh line runs %v", argv)
	}
	runGH := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(gh, args...)
		// Only the printed variables and an empty gh configuration: no token or host of the
		// machine's own gh set-up can help.
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GH_CONFIG_DIR=" + t.TempDir(), "GH_NO_UPDATE_NOTIFIER=1", "NO_COLOR=1"}, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gh %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if out := runGH(argv[1:]...); out != "[]" {
		t.Errorf("printed gh line: %s, want []", out)
	}
	for i := 0; i < 8; i++ {
		runGH("api", "repos/acme/shop/deployments", "-f", "ref=main", "-f", "environment=staging", "--silent")
	}
	// --paginate follows the Link headers (/repositories/{id} URLs under /api/v3).
	if out := runGH("api", "--paginate", "repos/acme/shop/deployments?per_page=3", "--jq", ".[].environment"); strings.Count(out, "staging") != 8 {
		t.Errorf("gh api --paginate: %q, want 8 deployments", out)
	}
}

// TestEmulatorToolTLSWithOurCLI runs the CLI line the emulator prints with the real binary.
func TestEmulatorToolTLSWithOurCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; not in -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the binary")
	}
	dir := t.TempDir()
	build := exec.Command(goBin, "build", "-o", filepath.Join(dir, "deployment-action"), ".")
	build.Dir = testkit.Root(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	emu := startCommand(t, runEmulator, "--addr", "127.0.0.1:0", "--repo", "acme/shop", "--tls", "--cert-file", filepath.Join(dir, "cert.pem"), "--quiet")
	env, argv := printedCommand(t, emu.wait(`^  CLI: (.*)$`)[1])
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(dir, "deployment-action"), args...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("deployment-action %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("create", "-R", "acme/shop", "--environment", "staging", "--ref", "v1.0.0")
	if out := run(argv[1:]...); !strings.Contains(out, "staging") {
		t.Errorf("printed CLI line printed:\n%s", out)
	}
}

// printedCommand splits a printed "VAR=value ... cmd args" line.
func printedCommand(t *testing.T, line string) (env, argv []string) {
	t.Helper()
	for _, f := range strings.Fields(line) {
		if len(argv) == 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(f) {
			env = append(env, f)
			continue
		}
		argv = append(argv, f)
	}
	return env, argv
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestEmulatorToolNeverPrintsTheToken: with --token the hints read the token from a variable.
func TestEmulatorToolNeverPrintsTheToken(t *testing.T) {
	const tok = "tok-3f9a1c"
	emu := startCommand(t, runEmulator, "--addr", "127.0.0.1:0", "--token", tok, "--tls", "--quiet")
	emu.wait(`only the --token value is accepted: export EMULATOR_TOKEN=<it>`)
	emu.wait(`^  gh:  .*GH_ENTERPRISE_TOKEN=\$EMULATOR_TOKEN `)
	emu.wait(`^  curl .*-H "Authorization: Bearer \$EMULATOR_TOKEN" `)
	if err := emu.stop(); err != nil {
		t.Fatal(err)
	}
	for l := range emu.lines {
		emu.seen = append(emu.seen, l)
	}
	if out := strings.Join(emu.seen, "\n") + emu.stderr.String(); strings.Contains(out, tok) {
		t.Errorf("the token was printed:\n%s", out)
	}
}
