// Command workbench is the project's development tool, kept out of the shipped binary: the
// emulator of GitHub's REST API (standalone), the local demo that runs the action's real stages
// through the runner simulation against it, and the tool that regenerates the conformance
// reference under testdata/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for a bad command line, like the flag package's own usage exits, else 1.
func exitCode(err error) int {
	var fe flagError
	if errors.As(err, &fe) {
		return 2
	}
	return 1
}

const usage = `usage: go run ./cmd/workbench <command> [flags]

COMMANDS
  demo       Run the action end to end on an embedded GitHub emulator (the README's first command)
  emulator   Serve the GitHub API emulator on a loopback address until interrupted
  receiver   Receive webhooks (from the emulator) and print them, checking signatures
  reference  Regenerate the conformance reference (testdata/github) from ../shared

Run 'go run ./cmd/workbench <command> -h' for a command's flags.
`

// run dispatches a workbench command; the environment and output are injected for tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		// No command is a usage error (exit 2, usage on stderr), as a script that forgot the
		// command must not pass; asking for help is not (exit 0, usage on stdout).
		_, _ = io.WriteString(stderr, usage)
		return flagError{errors.New("no command given")}
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], getenv, stdout, stderr)
	case "emulator":
		return runEmulator(ctx, args[1:], getenv, stdout, stderr)
	case "receiver":
		return runReceiver(ctx, args[1:], getenv, stdout, stderr)
	case "reference":
		return runReference(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	}
	return flagError{fmt.Errorf("unknown command %q (commands: demo, emulator, receiver, reference)", args[0])}
}
