package app

import (
	"context"
	"fmt"
	"io"
)

// runCLI runs the non-stage commands.
func runCLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	_ = ctx
	_ = getenv
	_ = stderr
	switch args[0] {
	case "help", "-h", "--help":
		_, err := fmt.Fprintln(stdout, "usage: deployment-action <command>")
		return err
	}
	return fmt.Errorf("unknown command %q: run `deployment-action help`", args[0])
}
