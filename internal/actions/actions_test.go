package actions

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
)

// env is a fake runner environment with fresh file-command files.
type env map[string]string

func newEnv(t *testing.T) env {
	t.Helper()
	dir := t.TempDir()
	e := env{"GITHUB_ACTIONS": "true"}
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"} {
		p := filepath.Join(dir, strings.ToLower(name))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		e[name] = p
	}
	return e
}

func (e env) get(k string) string { return e[k] }

func (e env) file(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(e[name])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (e env) parsed(t *testing.T, name string) map[string]string {
	t.Helper()
	m, err := actionsim.ParseFileCommandMap(e.file(t, name))
	if err != nil {
		t.Fatalf("runner could not parse %s: %v\n%s", name, err, e.file(t, name))
	}
	return m
}

func TestOutputsRoundTripThroughRunnerParser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := New(e.get, &bytes.Buffer{})
	values := map[string]string{
		"plain":       "https://example.com/app",
		"empty":       "",
		"multiline":   "line 1\nline 2\n",
		"crlf":        "a\r\nb",
		"fixed-delim": "x\n_GitHubActionsFileCommandDelimeter_\ninjected=1",
		"toolkit-ish": "ghadelimiter_00000000000000000000000000000000\nEOF\n",
		"heredoc-ish": "evil<<EOF\nEOF",
		"unicode":     "déploiement ✓",
	}
	for k, v := range values {
		if err := r.SetOutput(k, v); err != nil {
			t.Fatalf("SetOutput(%q): %v", k, err)
		}
	}
	got := e.parsed(t, "GITHUB_OUTPUT")
	if len(got) != len(values) {
		t.Errorf("runner read %d outputs, want %d: %q", len(got), len(values), got)
	}
	for k, v := range values {
		if got[k] != v {
			t.Errorf("output %q = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["injected"]; ok {
		t.Error("a value smuggled in another output")
	}
}

func TestStateAndEnvUseTheirOwnFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := New(e.get, &bytes.Buffer{})
	if err := r.SaveState("deployment_id", "42"); err != nil {
		t.Fatal(err)
	}
	if err := r.SetEnv("DEPLOYMENT_ID", "42"); err != nil {
		t.Fatal(err)
	}
	if got := e.parsed(t, "GITHUB_STATE")["deployment_id"]; got != "42" {
		t.Errorf("state = %q", got)
	}
	if got := e.parsed(t, "GITHUB_ENV")["DEPLOYMENT_ID"]; got != "42" {
		t.Errorf("env = %q", got)
	}
	if out := e.file(t, "GITHUB_OUTPUT"); out != "" {
		t.Errorf("output file written: %q", out)
	}

	e["STATE_deployment_id"] = "42"
	if got := New(e.get, nil).State("deployment_id"); got != "42" {
		t.Errorf("State = %q", got)
	}
}

func TestDelimiterIsRandomPerWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := New(e.get, &bytes.Buffer{})
	for range 3 {
		if err := r.SetOutput("a", "b"); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(e.file(t, "GITHUB_OUTPUT"), "\n") {
		if _, delim, ok := strings.Cut(line, "<<"); ok {
			if !strings.HasPrefix(delim, "ghadelimiter_") || len(delim) != len("ghadelimiter_")+32 {
				t.Errorf("delimiter %q", delim)
			}
			seen[delim] = true
		}
	}
	if len(seen) != 3 {
		t.Errorf("want 3 different delimiters, got %v", seen)
	}
}

// zeros makes the "random" delimiter predictable, to prove a collision is refused.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestValueHoldingTheDelimiterIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := New(e.get, &bytes.Buffer{})
	r.rand = zeros{}
	delim := "ghadelimiter_" + strings.Repeat("0", 32)
	if err := r.SetOutput("x", "a\n"+delim+"\nb=c"); err == nil {
		t.Fatal("value with the delimiter line was written")
	}
	if got := e.file(t, "GITHUB_OUTPUT"); got != "" {
		t.Errorf("file written anyway: %q", got)
	}
}

func TestBadNamesAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := New(e.get, &bytes.Buffer{})
	for _, name := range []string{"", "a=b", "a<<b", "a\nb"} {
		if err := r.SetOutput(name, "v"); err == nil {
			t.Errorf("SetOutput(%q) accepted", name)
		}
	}
}

func TestMissingFileVariable(t *testing.T) {
	t.Parallel()
	// Under Actions a missing GITHUB_OUTPUT would lose the value silently: error.
	r := New(env{"GITHUB_ACTIONS": "true"}.get, &bytes.Buffer{})
	if err := r.SetOutput("a", "b"); !errors.Is(err, ErrNoFileCommand) {
		t.Errorf("under Actions: err = %v", err)
	}
	if err := r.AddSummary("x"); !errors.Is(err, ErrNoFileCommand) {
		t.Errorf("summary under Actions: err = %v", err)
	}
	// Outside Actions (a CLI run) there is nobody to tell: no error, nothing written.
	r = New(env{}.get, &bytes.Buffer{})
	if err := r.SetOutput("a", "b"); err != nil {
		t.Errorf("outside Actions: %v", err)
	}
	if err := r.SaveState("a", "b"); err != nil {
		t.Errorf("outside Actions: %v", err)
	}
}

func TestSummaryAppendsAndStaysUnderLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var out bytes.Buffer
	r := New(e.get, &out)
	if err := r.AddSummary("# Deployment"); err != nil {
		t.Fatal(err)
	}
	if err := r.AddSummary("| env | state |\n"); err != nil {
		t.Fatal(err)
	}
	if got := e.file(t, "GITHUB_STEP_SUMMARY"); got != "# Deployment\n| env | state |\n" {
		t.Errorf("summary = %q", got)
	}

	big := strings.Repeat("| row | ✓ |\n", SummaryLimit/8)
	if err := r.AddSummary(big); err != nil {
		t.Fatal(err)
	}
	got := e.file(t, "GITHUB_STEP_SUMMARY")
	if len(got) > SummaryLimit {
		t.Fatalf("summary is %d bytes, over the runner's %d: it would not be shown at all", len(got), SummaryLimit)
	}
	if !strings.HasPrefix(got, "# Deployment\n") || !strings.Contains(got, "Summary truncated") {
		t.Errorf("truncation not visible: ...%q", got[len(got)-200:])
	}
	if !strings.Contains(out.String(), "::warning::") {
		t.Errorf("no warning logged: %q", out.String())
	}

	// Once full, further writes add nothing rather than pushing it over.
	if err := r.AddSummary("more"); err != nil {
		t.Fatal(err)
	}
	if after := e.file(t, "GITHUB_STEP_SUMMARY"); len(after) > SummaryLimit {
		t.Errorf("summary grew to %d bytes", len(after))
	}
}

func TestMaskLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := New(env{}.get, &out)
	r.Mask("ghs_secret%value")
	r.Mask("  ")
	r.Mask("line1\nline2")
	cmds := actionsim.ParseCommands(out.String())
	var masks []string
	for _, c := range cmds {
		if c.Name == "add-mask" {
			masks = append(masks, c.Data)
		}
	}
	want := []string{"ghs_secret%value", "line1\nline2", "line1", "line2"}
	if strings.Join(masks, "|") != strings.Join(want, "|") {
		t.Errorf("masks = %q, want %q (output %q)", masks, want, out.String())
	}
}

func TestAnnotationsAreEscaped(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := New(env{}.get, &out)
	msg := "100% failed\n::set-output name=a::b\r\n::add-mask::x"
	r.Errorf("deploy: %s", msg)
	r.Warningf("%s", msg)
	r.Noticef("%s", msg)
	r.Debugf("%s", msg)
	r.Annotate("error", map[string]string{"title": "a:b,c\n::error::x"}, "m")
	end := r.Group("env " + msg)
	end()

	cmds := actionsim.ParseCommands(out.String())
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "error,warning,notice,debug,error,group,endgroup" {
		t.Fatalf("commands = %s\n%s", got, out.String())
	}
	if cmds[0].Data != "deploy: "+msg {
		t.Errorf("message did not survive: %q", cmds[0].Data)
	}
	if got := cmds[4].Properties["title"]; got != "a:b,c\n::error::x" {
		t.Errorf("title = %q", got)
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	if got := Escape("a%b\r\nc"); got != "a%25b%0D%0Ac" {
		t.Errorf("Escape = %q", got)
	}
	if got := EscapeProperty("a:b,c%\n"); got != "a%3Ab%2Cc%25%0A" {
		t.Errorf("EscapeProperty = %q", got)
	}
}

func TestUntrustedTextCannotStartACommand(t *testing.T) {
	t.Parallel()
	attacks := []string{
		"x\n::set-output name=a::b",
		"::add-mask::ghs_public",
		"   ::warning::indented",
		"\u00a0::error::nbsp-indented",
		"a\r::save-state name=deployment_id::1",
		"::stop-commands::tok",
		"prefix ##[set-output name=a;]b",
		"##[add-mask]x",
		"::STOP-COMMANDS::upper",
	}
	for _, a := range attacks {
		var out bytes.Buffer
		r := New(env{}.get, &out)
		r.Infof("deployment description: %s", a)
		r.Infof("%s", a)
		// A command after the untrusted text must still work (stop-commands would break it).
		r.Mask("real-secret")
		cmds := actionsim.ParseCommands(out.String())
		if len(cmds) != 1 || cmds[0].Name != "add-mask" || cmds[0].Data != "real-secret" {
			t.Errorf("%q produced commands %+v\noutput:\n%s", a, cmds, out.String())
		}
		if !strings.Contains(out.String(), "set-output") && strings.Contains(a, "set-output") {
			t.Errorf("%q: text lost: %q", a, out.String())
		}
	}
	if got := SafeLine("ok: value"); got != "ok: value" {
		t.Errorf("harmless text changed: %q", got)
	}
}

func TestContextAndEventPayload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "event.json")
	if err := os.WriteFile(p, []byte(`{"deployment":{"id":7},"repository":{"name":"r"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e := env{"GITHUB_EVENT_PATH": p, "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "99", "GITHUB_API_URL": "http://127.0.0.1:1"}
	c, err := New(e.get, nil).Context()
	if err != nil {
		t.Fatal(err)
	}
	if owner, repo := c.Repo(); owner != "o" || repo != "r" || c.RunID != 99 || c.APIURL != "http://127.0.0.1:1" {
		t.Errorf("context = %+v", c)
	}
	ev, err := EventPayload(e.get)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := ev["deployment"].(map[string]any); d["id"] != 7.0 {
		t.Errorf("payload = %v", ev)
	}

	if ev, err := EventPayload(env{}.get); err != nil || len(ev) != 0 {
		t.Errorf("no path: %v %v", ev, err)
	}
	if err := os.WriteFile(p, []byte(`not json`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := EventPayload(e.get); err == nil {
		t.Error("invalid payload accepted")
	}
}

func TestInputKeepsHyphens(t *testing.T) {
	t.Parallel()
	r := New(env{"INPUT_ENVIRONMENT-URL": " https://x \n"}.get, nil)
	if got := r.Input("environment-url"); got != "https://x" {
		t.Errorf("Input = %q", got)
	}
}
