package main

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/deployment-action/deployment-action/internal/app"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/demo"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// flagError is a bad command line: main exits 2 for it, like the flag package's own usage exits.
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }
func (e flagError) Unwrap() error { return e.err }

// parseFlags parses args; -h prints the usage and is not an error.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, flagError{fmt.Errorf("%s: %w", fs.Name(), err)}
	}
	if fs.NArg() > 0 {
		return false, flagError{fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return false, nil
}

// runDemo is `workbench demo`: the action's real stages in a matrix of jobs against the
// in-process emulator, with a webhook consumer, and a verdict. A failing deploy step (--fail) is
// a normal outcome; only a run that went wrong exits non-zero.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	_ = getenv // the demo builds every job's environment itself
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envs := fs.String("environments", strings.Join(demo.DefaultEnvironments(), ","), "comma-separated environments: one job per environment, run in parallel")
	fail := fs.String("fail", "", "environment whose deploy step fails (its deployment must end in failure)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	actionPath := fs.String("action", "action.yml", "the action.yml whose stages run (the repository root's by default)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./cmd/workbench demo [flags] [scene ...]\n\nRuns the action end to end on this machine: an emulated GitHub API, a matrix of jobs\n(pre, a deploy step, main, post) and a webhook consumer that verifies signatures, then the\nscenes (all the default ones, or those named):\n")
		for _, sc := range demo.Scenes() {
			fmt.Fprintf(fs.Output(), "  %-9s %s\n", sc.Name, sc.Title)
		}
		fmt.Fprintf(fs.Output(), "\n")
		fs.PrintDefaults()
	}
	// Scene names follow the flags: parse them off first, as parseFlags refuses arguments.
	flagArgs, names := args, []string(nil)
	for i, a := range args {
		if !strings.HasPrefix(a, "-") && (i == 0 || !demoFlagTakesValue(args[i-1])) {
			flagArgs, names = args[:i], args[i:]
			break
		}
	}
	if help, err := parseFlags(fs, flagArgs); help || err != nil {
		return err
	}
	scenes, err := demo.SelectScenes(names)
	if err != nil {
		return flagError{err}
	}
	action, err := actionsim.LoadAction(*actionPath)
	if errors.Is(err, os.ErrNotExist) {
		wd, _ := os.Getwd()
		return fmt.Errorf("demo: no %s in %s: run the demo from the repository root or pass --action path/to/action.yml: %w", filepath.Base(*actionPath), wd, err)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	rep, err := demo.Run(ctx, demo.Config{Action: action, Entry: app.Run, Environments: strings.Split(*envs, ","), Fail: *fail, Timeout: *timeout, Scenes: scenes})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if !rep.OK() {
		return fmt.Errorf("demo: %d problem(s), listed above", len(rep.Problems))
	}
	return nil
}

// demoFlagTakesValue is whether arg is one of demo's flags that takes the next argument as
// its value (written without "="), so that value is not read as a scene's name.
func demoFlagTakesValue(arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if strings.Contains(name, "=") {
		return false
	}
	switch name {
	case "environments", "fail", "action", "timeout":
		return true
	}
	return false
}

// repoFlags collects repeated --repo owner/name flags.
type repoFlags []string

func (r *repoFlags) String() string { return strings.Join(*r, ",") }

func (r *repoFlags) Set(v string) error {
	owner, name, ok := strings.Cut(v, "/")
	if !ok || !validName(owner) || !validName(name) || strings.Contains(name, "/") {
		return fmt.Errorf("%q is not owner/name (letters, digits, '-', '_' and '.'), e.g. --repo acme/shop", v)
	}
	for _, x := range *r {
		if strings.EqualFold(x, v) {
			return fmt.Errorf("%s is given twice", v)
		}
	}
	*r = append(*r, v)
	return nil
}

// loginFlags collects repeated --user login flags.
type loginFlags []string

func (l *loginFlags) String() string { return strings.Join(*l, ",") }

func (l *loginFlags) Set(v string) error {
	if !validName(v) {
		return fmt.Errorf("%q is not a login (letters, digits, '-', '_' and '.')", v)
	}
	*l = append(*l, v)
	return nil
}

func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// writeRepos prints each repository with its branches and tags.
func writeRepos(w io.Writer, repos []emulator.Repo) {
	for _, r := range repos {
		kind := "an organization's"
		if r.OwnerType == "User" {
			kind = "a user's"
		}
		fmt.Fprintf(w, "repository %s/%s (id %d, %s)\n", r.Owner, r.Name, r.ID, kind)
		for _, b := range sortedNames(r.Branches) {
			def := ""
			if b == r.DefaultBranch {
				def = "  (default branch)"
			}
			fmt.Fprintf(w, "  branch %-12s %s%s\n", b, r.Branches[b], def)
		}
		for _, tag := range sortedNames(r.Tags) {
			fmt.Fprintf(w, "  tag    %-12s %s\n", tag, r.Tags[tag])
		}
	}
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// runEmulator is `workbench emulator`: the GitHub API emulator as a local server until ctx ends
// (Ctrl-C), over http or, with --tls, https with a self-signed certificate.
func runEmulator(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	_ = getenv
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "loopback address to listen on (port 0 picks a free one)")
	var repos repoFlags
	fs.Var(&repos, "repo", "seed the repository owner/name (repeatable): branch main with three commits, tag v1.0.0 on its head; default: octo-org/hello-world")
	var users loginFlags
	fs.Var(&users, "user", "an account that is a user, not an organization (repeatable): its repositories are user-owned; owners are organizations otherwise")
	token := fs.String("token", "", "the only token accepted (default: any non-empty token)")
	latency := fs.Duration("latency", 0, "delay added to every response, e.g. 50ms")
	secondary := fs.Int("secondary-limit", 0, "content-creating requests allowed per token per minute (GitHub's is 80); 0 = no limit")
	useTLS := fs.Bool("tls", false, "serve https with a self-signed certificate (printed: how gh, our CLI and curl trust it)")
	certFile := fs.String("cert-file", "", "with --tls: where to write the certificate (PEM); default: a new temporary directory, removed at exit")
	quiet := fs.Bool("quiet", false, "do not log each request to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./cmd/workbench emulator [flags]\n\nServes an emulated GitHub REST API (deployments, statuses, environments, webhooks, ...) on a\nloopback address until interrupted. See docs/emulator.md. Run a built binary\n(go build -o /tmp/workbench ./cmd/workbench): a kill of `go run` leaves the emulator running.\n\n")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *certFile != "" && !*useTLS {
		return flagError{errors.New("emulator: --cert-file needs --tls")}
	}
	cfg := emulator.Config{Latency: *latency, SecondaryPerMinute: *secondary,
		Logf: func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }}
	if *token != "" {
		cfg.Tokens = map[string]emulator.Permissions{*token: {DeploymentsWrite: true, DeploymentsRead: true, Administration: true,
			Contents: emulator.AccessWrite, Checks: emulator.AccessWrite, Statuses: emulator.AccessWrite,
			PullRequests: emulator.AccessWrite, Issues: emulator.AccessWrite}}
	}
	if !*quiet {
		cfg.Observe = func(req *http.Request, _ []byte, status int, _ http.Header, _ []byte) {
			fmt.Fprintf(stderr, "%s %s %s -> %d\n", time.Now().Format("15:04:05.000"), req.Method, req.URL.RequestURI(), status)
		}
	}
	e := emulator.New(cfg)
	for _, u := range users {
		e.AddUser(emulator.User{Login: u, Type: "User"})
	}
	if len(repos) == 0 {
		e.AddRepo(emulator.DefaultRepo())
	}
	for _, full := range repos {
		owner, name, _ := strings.Cut(full, "/")
		typ := "Organization"
		for _, u := range users {
			if strings.EqualFold(u, owner) {
				typ = "User"
			}
		}
		if _, err := e.AddSampleRepo(owner, name, typ); err != nil {
			e.Close()
			return err
		}
	}

	var certPath string
	var validUntil time.Time
	if *useTLS {
		cert, certPEM, err := emulator.SelfSigned(time.Now(), 24*time.Hour)
		if err != nil {
			e.Close()
			return err
		}
		validUntil = cert.Leaf.NotAfter
		certPath = *certFile
		if certPath == "" {
			dir, err := os.MkdirTemp("", "workbench-emulator-")
			if err != nil {
				e.Close()
				return fmt.Errorf("emulator: %w", err)
			}
			defer os.RemoveAll(dir)
			certPath = filepath.Join(dir, "cert.pem")
		}
		if certPath, err = filepath.Abs(certPath); err == nil {
			err = os.WriteFile(certPath, certPEM, 0o644)
		}
		if err != nil {
			e.Close()
			return fmt.Errorf("emulator: --cert-file: %w", err)
		}
		err = e.StartTLS(*addr, cert)
		if err != nil {
			e.Close()
			return err
		}
	} else if err := e.Start(*addr); err != nil {
		e.Close()
		return err
	}
	defer e.Close()

	base := e.URL()
	hostPort := strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
	tok, tokNote := "any-token", "any non-empty token is accepted"
	if *token != "" {
		// The token is not printed: the hints read it from a variable the user sets.
		tok, tokNote = "$EMULATOR_TOKEN", "only the --token value is accepted: export EMULATOR_TOKEN=<it> for the lines below"
	}
	first := e.Repos()[0]
	repo := first.Owner + "/" + first.Name
	fmt.Fprintf(stdout, "emulator: GitHub's REST API at %s (also under /api/v3); %s; stop with Ctrl-C\n", base, tokNote)
	writeRepos(stdout, e.Repos())
	fmt.Fprintf(stdout, "point our action and CLI at it: GITHUB_API_URL=%s\n", base)
	curl := "curl"
	if *useTLS {
		curl = "curl --cacert " + certPath
		fmt.Fprintf(stdout, "TLS: self-signed certificate for 127.0.0.1 and localhost, valid until %s: %s\n", validUntil.UTC().Format(time.RFC3339), certPath)
		fmt.Fprintf(stdout, "  gh:  GH_HOST=%s GH_ENTERPRISE_TOKEN=%s SSL_CERT_FILE=%s gh api repos/%s/deployments\n", hostPort, tok, certPath, repo)
		fmt.Fprintf(stdout, "  CLI: GH_HOST=%s GH_ENTERPRISE_TOKEN=%s SSL_CERT_FILE=%s deployment-action list -R %s\n", hostPort, tok, certPath, repo)
	}
	auth := fmt.Sprintf("-H \"Authorization: Bearer %s\"", tok)
	fmt.Fprintf(stdout, "try:\n")
	fmt.Fprintf(stdout, "  %s %s %s/repos/%s/deployments\n", curl, auth, base, repo)
	fmt.Fprintf(stdout, "  %s %s -d '{\"ref\":\"main\",\"environment\":\"staging\"}' %s/repos/%s/deployments\n", curl, auth, base, repo)
	fmt.Fprintf(stdout, "  %s %s -d '{\"config\":{\"url\":\"http://127.0.0.1:9000/\",\"content_type\":\"json\",\"secret\":\"s3cret\"},\"events\":[\"deployment\",\"deployment_status\"]}' %s/repos/%s/hooks\n", curl, auth, base, repo)

	<-ctx.Done()
	n := len(e.Requests())
	if err := e.Close(); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	fmt.Fprintf(stdout, "emulator: stopped after %d requests\n", n)
	return nil
}

// runReceiver is `workbench receiver`: a webhook receiver to subscribe to the emulator (or
// anything that sends GitHub-style webhooks). It prints one line per delivery and checks
// X-Hub-Signature-256 when --secret is given, answering 401 to a delivery whose signature is
// missing or wrong, 200 otherwise.
func runReceiver(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	_ = getenv
	fs := flag.NewFlagSet("receiver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9000", "loopback address to listen on (port 0 picks a free one)")
	secret := fs.String("secret", "", "the hook's secret: deliveries must carry a valid X-Hub-Signature-256")
	payloads := fs.Bool("payloads", false, "also print each delivery's JSON payload")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./cmd/workbench receiver [flags]\n\nReceives webhooks on a loopback address until interrupted and prints one line per delivery.\n\n")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return flagError{fmt.Errorf("receiver: --addr %q: %w", *addr, err)}
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("receiver: refusing to listen on non-loopback address %q", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	var mu sync.Mutex // one delivery's lines at a time
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil || r.Method != http.MethodPost {
			http.Error(w, "POST a webhook delivery", http.StatusBadRequest)
			return
		}
		sig := "unsigned"
		status := http.StatusOK
		if *secret != "" {
			got := r.Header.Get("X-Hub-Signature-256")
			if hmac.Equal([]byte(got), []byte(emulator.Sign(*secret, body))) {
				sig = "signature valid"
			} else {
				sig, status = "signature INVALID", http.StatusUnauthorized
			}
		}
		payload := body
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if v, err := url.ParseQuery(string(body)); err == nil {
				payload = []byte(v.Get("payload"))
			}
		}
		mu.Lock()
		fmt.Fprintf(stdout, "%s %s (hook %s, delivery %s): %s\n", r.Header.Get("X-GitHub-Event"), summarize(payload),
			r.Header.Get("X-GitHub-Hook-ID"), r.Header.Get("X-GitHub-Delivery"), sig)
		if *payloads {
			fmt.Fprintf(stdout, "  %s\n", payload)
		}
		mu.Unlock()
		w.WriteHeader(status)
	})}
	fmt.Fprintf(stdout, "receiver: listening on http://%s/ (subscribe this URL); stop with Ctrl-C\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-done:
		return fmt.Errorf("receiver: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-done
	return nil
}

// summarize says what a webhook payload is about in a few words.
func summarize(payload []byte) string {
	var p struct {
		Action     string `json:"action"`
		Zen        string `json:"zen"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		Deployment *struct {
			ID          int64  `json:"id"`
			Ref         string `json:"ref"`
			Environment string `json:"environment"`
		} `json:"deployment"`
		DeploymentStatus *struct {
			State string `json:"state"`
		} `json:"deployment_status"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return "(payload is not JSON)"
	}
	parts := []string{p.Repository.FullName}
	if p.Action != "" {
		parts = append(parts, p.Action)
	}
	if p.Zen != "" {
		parts = append(parts, fmt.Sprintf("%q", p.Zen))
	}
	if d := p.Deployment; d != nil {
		parts = append(parts, fmt.Sprintf("deployment %d of %s to %s", d.ID, d.Ref, d.Environment))
	}
	if s := p.DeploymentStatus; s != nil {
		parts = append(parts, "state "+s.State)
	}
	return strings.Join(parts, " ")
}
