package app

import (
	"context"
	"io"

	"github.com/deployment-action/deployment-action/internal/cli"
)

// runCLI runs the non-stage commands: the emulator and the demo here, every other word (the
// deployment commands, help, and unknown commands, which it reports) in internal/cli.
func runCLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "emulator":
			return runEmulator(ctx, args[1:], getenv, stdout, stderr)
		case "demo":
			return runDemo(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	return cli.Run(ctx, args, getenv, stdout, stderr)
}
