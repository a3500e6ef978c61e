// Package app is the binary's single entry point: it picks the action stage (pre, main, post)
// from argv[0] or a subcommand, else the CLI (which includes serve). The emulator and the demo
// live in cmd/workbench, outside the shipped binary.
package app

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/deployment-action/deployment-action/internal/cli"
	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/version"
)

// Run is what main calls, with the process environment injected so tests and the runner
// simulation can run many stages in parallel in one process.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		args = []string{"deployment-action"}
	}
	// The container's entrypoints /action/pre, /action/main and /action/post are links to one
	// binary: the runner passes the same args to every stage, so argv[0] is what tells them apart.
	switch name := filepath.Base(args[0]); name {
	case "pre", "main", "post":
		return RunStage(ctx, deploy.Stage(name), getenv, stdout)
	}
	if len(args) < 2 {
		return cli.Run(ctx, []string{"help"}, getenv, stdout, stderr)
	}
	switch args[1] {
	case "stage":
		if len(args) != 3 || !isStage(args[2]) {
			return fmt.Errorf("usage: %s stage pre|main|post", filepath.Base(args[0]))
		}
		return RunStage(ctx, deploy.Stage(args[2]), getenv, stdout)
	case "version", "--version":
		_, err := fmt.Fprintf(stdout, "deployment-action %s\n", version.Version())
		return err
	}
	return cli.Run(ctx, args[1:], getenv, stdout, stderr)
}

func isStage(s string) bool { return s == "pre" || s == "main" || s == "post" }
