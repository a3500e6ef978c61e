// Command deployment-action is a GitHub Action (pre/main/post stages) and a CLI that drive the
// GitHub Deployments API. The emulator, the runner simulation and the demo are not part of it:
// they live in the dev command, cmd/workbench.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/deployment-action/deployment-action/internal/actions"
	"github.com/deployment-action/deployment-action/internal/app"
)

func main() {
	// The runner sends SIGINT on cancellation, then SIGTERM 7.5 s later: both cancel ctx so the
	// stage ends its work cleanly (post still gets its own time to set a final state).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		// A usage error carries its own exit code (2); everything else exits 1.
		code := 1
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		// The runner reads workflow commands from stderr too, and the message may quote GitHub's
		// or the user's text: print it inert.
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "error:", actions.SafeLine(msg))
		}
		os.Exit(code)
	}
}
