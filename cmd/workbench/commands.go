package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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
		fmt.Fprintf(fs.Output(), "usage: go run ./cmd/workbench demo [flags]\n\nRuns the action end to end on this machine: an emulated GitHub API, a matrix of jobs\n(pre, a deploy step, main, post) and a webhook consumer that verifies signatures.\n\n")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	action, err := actionsim.LoadAction(*actionPath)
	if errors.Is(err, os.ErrNotExist) {
		wd, _ := os.Getwd()
		return fmt.Errorf("demo: no %s in %s: run the demo from the repository root or pass --action path/to/action.yml: %w", filepath.Base(*actionPath), wd, err)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	rep, err := demo.Run(ctx, demo.Config{Action: action, Entry: app.Run, Environments: strings.Split(*envs, ","), Fail: *fail, Timeout: *timeout})
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

// runEmulator is `workbench emulator`: the Deployments API emulator as a local server
// seeded with octo-org/hello-world, until ctx ends (Ctrl-C).
func runEmulator(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	_ = getenv
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "loopback address to listen on (port 0 picks a free one)")
	token := fs.String("token", "", "the only token accepted (default: any non-empty token)")
	latency := fs.Duration("latency", 0, "delay added to every response, e.g. 50ms")
	secondary := fs.Int("secondary-limit", 0, "content-creating requests allowed per token per minute (GitHub's is 80); 0 = no limit")
	quiet := fs.Bool("quiet", false, "do not log each request to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./cmd/workbench emulator [flags]\n\nServes an emulated GitHub Deployments API on a loopback address until interrupted.\n\n")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg := emulator.Config{Latency: *latency, SecondaryPerMinute: *secondary,
		Logf: func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }}
	if *token != "" {
		cfg.Tokens = map[string]emulator.Permissions{*token: {DeploymentsWrite: true, DeploymentsRead: true, Administration: true}}
	}
	if !*quiet {
		cfg.Observe = func(req *http.Request, _ []byte, status int, _ http.Header, _ []byte) {
			fmt.Fprintf(stderr, "%s %s %s -> %d\n", time.Now().Format("15:04:05.000"), req.Method, req.URL.RequestURI(), status)
		}
	}
	e := emulator.New(cfg)
	seed := emulator.DefaultRepo()
	e.AddRepo(seed)
	if err := e.Start(*addr); err != nil {
		e.Close()
		return err
	}
	defer e.Close()

	url := e.URL()
	tok := *token
	if tok == "" {
		tok = "any-token"
	}
	repo := seed.Owner + "/" + seed.Name
	// gh cannot be pointed at it: GH_HOST implies https. So the hints are for the action, the
	// CLI (both read GITHUB_API_URL) and curl.
	fmt.Fprintf(stdout, "emulator: GitHub Deployments API at %s (repository %s, branch %s); point clients at it with GITHUB_API_URL=%s\n",
		url, repo, seed.DefaultBranch, url)
	fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' %s/rate_limit\n", tok, url)
	fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' -d '{\"ref\":\"main\",\"environment\":\"staging\",\"required_contexts\":[]}' %s/repos/%s/deployments\n", tok, url, repo)
	fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' %s/repos/%s/deployments\n", tok, url, repo)
	fmt.Fprintf(stdout, "  (gh cannot use it: GH_HOST only speaks https.) Stop with Ctrl-C.\n")

	<-ctx.Done()
	n := len(e.Requests())
	if err := e.Close(); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	fmt.Fprintf(stdout, "emulator: stopped after %d requests\n", n)
	return nil
}
