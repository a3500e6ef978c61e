// Package actions is the runner side of the action: everything it writes back to the GitHub
// Actions runner (outputs, state, step summary, masks, annotations, groups) and what it reads
// from it (STATE_*, the github context, the event payload). The environment is injected, so
// stages can run in parallel in one process (tests, the simulator, the demo).
package actions

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sethvargo/go-githubactions"
)

// SummaryLimit is the runner's cap on one step's GITHUB_STEP_SUMMARY (1 MiB). Above it the
// runner uploads nothing at all, so AddSummary truncates instead.
const SummaryLimit = 1024 * 1024

// Runner writes to the runner through stdout and the file commands named by the environment.
type Runner struct {
	getenv func(string) string
	gha    *githubactions.Action
	out    io.Writer
	rand   io.Reader // crypto/rand.Reader; replaced in tests to force a delimiter collision

	mu    sync.Mutex        // serialises stdout lines and file appends
	saved map[string]string // state saved by this process, which State returns from then on
}

// New returns a Runner reading the environment through getenv and printing to stdout.
func New(getenv func(string) string, stdout io.Writer) *Runner {
	if stdout == nil {
		stdout = io.Discard
	}
	return &Runner{
		getenv: getenv,
		gha:    githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout)),
		out:    stdout,
		rand:   rand.Reader,
	}
}

// ErrNoFileCommand is returned when running under Actions but the runner gave no file for a
// file command (GITHUB_OUTPUT etc.): the value would be lost silently otherwise.
var ErrNoFileCommand = errors.New("file command variable is not set")

// InActions reports whether the process runs under GitHub Actions (GITHUB_ACTIONS=true).
func (r *Runner) InActions() bool { return r.getenv("GITHUB_ACTIONS") == "true" }

// Debug reports whether step debug logging is on (RUNNER_DEBUG=1).
func (r *Runner) Debug() bool { return r.getenv("RUNNER_DEBUG") == "1" }

// SetOutput sets a step output (GITHUB_OUTPUT). The runner keeps outputs from main only.
func (r *Runner) SetOutput(name, value string) error {
	return r.fileCommand("GITHUB_OUTPUT", name, value)
}

// SaveState saves a value that later stages read with State (GITHUB_STATE → STATE_<name>); this
// stage reads it back too.
func (r *Runner) SaveState(name, value string) error {
	if err := r.fileCommand("GITHUB_STATE", name, value); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.saved == nil {
		r.saved = map[string]string{}
	}
	r.saved[name] = value
	return nil
}

// SetEnv exports a variable to later steps and stages (GITHUB_ENV).
func (r *Runner) SetEnv(name, value string) error {
	return r.fileCommand("GITHUB_ENV", name, value)
}

// State returns what this or an earlier stage saved with SaveState ("" when nothing was saved).
func (r *Runner) State(name string) string {
	r.mu.Lock()
	v, ok := r.saved[name]
	r.mu.Unlock()
	if ok {
		return v
	}
	return r.getenv("STATE_" + name)
}

// fileCommand appends NAME<<DELIM\nVALUE\nDELIM to the file named by env. The delimiter is
// random for every write (as actions/toolkit does): go-githubactions uses one fixed delimiter,
// so a value holding that line (an API error body, a user description) could end the value
// early and smuggle in other outputs or fail the step.
func (r *Runner) fileCommand(env, name, value string) error {
	if name == "" {
		return fmt.Errorf("%s: empty name", env)
	}
	// The runner picks the form by the first "=" or "<<" and reads one line: a name holding any
	// of them would be split differently from what was meant.
	if strings.ContainsAny(name, "=\r\n") || strings.Contains(name, "<<") {
		return fmt.Errorf("%s: name %q may not contain '=', '<<' or a line break", env, name)
	}
	path := r.getenv(env)
	if path == "" {
		if r.InActions() {
			return fmt.Errorf("%s for %q: %w", env, name, ErrNoFileCommand)
		}
		return nil // outside Actions there is no runner to tell
	}
	delim, err := r.delimiter()
	if err != nil {
		return fmt.Errorf("%s: %w", env, err)
	}
	if strings.Contains(name, delim) || strings.Contains(value, delim) {
		return fmt.Errorf("%s: %q: name or value contains the delimiter %q", env, name, delim)
	}
	return r.appendFile(env, path, name+"<<"+delim+"\n"+value+"\n"+delim+"\n")
}

func (r *Runner) delimiter() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r.rand, b); err != nil {
		return "", fmt.Errorf("random delimiter: %w", err)
	}
	return "ghadelimiter_" + hex.EncodeToString(b), nil
}

func (r *Runner) appendFile(env, path, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", env, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", env, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", env, err)
	}
	return nil
}

// AddSummary appends markdown to the step summary (GITHUB_STEP_SUMMARY). The runner drops the
// whole summary when the file passes 1 MiB, so what would not fit is cut off at a line (or
// character) boundary with a visible note, and a warning is logged.
func (r *Runner) AddSummary(markdown string) error {
	path := r.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		if r.InActions() {
			return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", ErrNoFileCommand)
		}
		return nil
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	if room := SummaryLimit - size; int64(len(markdown)) > room {
		cut := len(markdown)
		markdown = truncateSummary(markdown, room)
		r.Warningf("The step summary was cut to GitHub's 1 MiB limit (%d of %d bytes not shown).", cut-len(markdown), cut)
		if markdown == "" {
			return nil
		}
	}
	return r.appendFile("GITHUB_STEP_SUMMARY", path, markdown)
}

// truncateSummary cuts s so that it, plus a note saying so, fits in room bytes.
func truncateSummary(s string, room int64) string {
	const note = "\n\n> [!WARNING]\n> Summary truncated: GitHub shows at most 1 MiB per step.\n"
	keep := room - int64(len(note))
	if keep <= 0 {
		return ""
	}
	s = s[:keep]
	if i := strings.LastIndexByte(s, '\n'); i > 0 {
		s = s[:i]
	}
	for !utf8.ValidString(s) { // never split a multi-byte character
		s = s[:len(s)-1]
	}
	return s + note
}

// Mask tells the runner to hide secret in the log from now on. Each line of a multi-line value
// is masked too (the runner only masks the whole value and its lines, so register both).
func (r *Runner) Mask(secret string) {
	if strings.TrimSpace(secret) == "" {
		return // the runner would only warn
	}
	r.command("add-mask", nil, secret)
	if strings.ContainsAny(secret, "\r\n") {
		for _, l := range strings.FieldsFunc(secret, func(c rune) bool { return c == '\r' || c == '\n' }) {
			if strings.TrimSpace(l) != "" {
				r.command("add-mask", nil, l)
			}
		}
	}
}

// Debugf logs a debug line (shown when step debug logging is on).
func (r *Runner) Debugf(format string, args ...any) {
	r.command("debug", nil, fmt.Sprintf(format, args...))
}

// Infof logs a plain line. Untrusted text in args cannot start a workflow command: the line is
// passed through SafeLine.
func (r *Runner) Infof(format string, args ...any) {
	r.println(SafeLine(fmt.Sprintf(format, args...)))
}

// Noticef adds a notice annotation.
func (r *Runner) Noticef(format string, args ...any) {
	r.command("notice", nil, fmt.Sprintf(format, args...))
}

// Warningf adds a warning annotation.
func (r *Runner) Warningf(format string, args ...any) {
	r.command("warning", nil, fmt.Sprintf(format, args...))
}

// Errorf adds an error annotation. It does not fail the step: return an error for that.
func (r *Runner) Errorf(format string, args ...any) {
	r.command("error", nil, fmt.Sprintf(format, args...))
}

// Annotate adds an annotation (level debug, notice, warning or error; anything else is treated
// as notice, so a level can never name another command) with properties such as title, file or
// line; property values are escaped.
func (r *Runner) Annotate(level string, props map[string]string, message string) {
	switch level {
	case "debug", "notice", "warning", "error":
	default:
		level = "notice"
	}
	r.command(level, props, message)
}

// Group starts a collapsible log group; call the returned func to end it.
func (r *Runner) Group(title string) func() {
	r.command("group", nil, title)
	return func() { r.command("endgroup", nil, "") }
}

// command prints ::name props::message with the message and property values escaped, so
// untrusted text stays inside this one command. go-githubactions formats it (its escaping is the
// runner's); the write is ours because the library panics when stdout fails, and a broken log
// pipe must not crash a stage that still has to finish the deployment.
func (r *Runner) command(name string, props map[string]string, message string) {
	cmd := githubactions.Command{Name: name, Message: message, Properties: props}
	r.println(cmd.String())
}

func (r *Runner) println(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = io.WriteString(r.out, line+"\n")
}

// Escape escapes s for the message part of a workflow command (%, CR, LF), the runner's rules.
func Escape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// EscapeProperty escapes s for a workflow command property value (also ':' and ',').
func EscapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// SafeLine makes untrusted text safe to print as plain log lines. The runner reads a command
// from any line that starts with "::" after leading white space, and from a legacy "##[name]"
// anywhere in a line (both stdout and stderr; CR, LF and CRLF all end a line). So every line is
// kept, but a leading "::" becomes "%3A:" and "##[" becomes "##%5B": readable, and inert. That
// also covers "::stop-commands::", which would otherwise switch off our own later commands,
// masks included.
func SafeLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.ReplaceAll(l, "##[", "##%5B")
		trimmed := strings.TrimLeftFunc(l, isDotNetSpace)
		if strings.HasPrefix(trimmed, "::") {
			l = l[:len(l)-len(trimmed)] + "%3A" + trimmed[1:]
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// isDotNetSpace is char.IsWhiteSpace, which the runner's TrimStart uses.
func isDotNetSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// Context returns the github context from the environment, with the event payload parsed from
// GITHUB_EVENT_PATH (errors from either are joined; a usable context may come with an error).
func (r *Runner) Context() (*githubactions.GitHubContext, error) {
	c, err := r.gha.Context()
	if err != nil {
		return c, fmt.Errorf("github context: %w", err)
	}
	return c, nil
}

// Input returns an input as the runner exported it (INPUT_<NAME>, hyphens kept), trimmed.
func (r *Runner) Input(name string) string { return r.gha.GetInput(name) }

// EventPayload reads the webhook payload at GITHUB_EVENT_PATH. No path gives an empty payload;
// an unreadable or invalid file is an error.
func EventPayload(getenv func(string) string) (map[string]any, error) {
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return map[string]any{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read event payload: %w", err)
	}
	payload := map[string]any{}
	if err := json.Unmarshal(data, &payload); err != nil {
		return nil, fmt.Errorf("parse event payload %s: %w", path, err)
	}
	return payload, nil
}
