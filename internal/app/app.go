// Package app is the binary's single entry point: it picks the action stage (pre, main, post)
// from argv[0] or a subcommand, or the CLI, the standalone emulator and the local demo.
package app

import (
	"context"
	"io"
)

// Run is what main calls, with the process environment injected so tests and the runner
// simulation can run many stages in parallel in one process.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	_ = ctx
	_ = args
	_ = getenv
	_ = stdout
	_ = stderr
	return nil
}
