package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func load(t *testing.T, m map[string]string) *Config {
	t.Helper()
	c, err := Load(context.Background(), ActionInputs(env(m)), EnvLookuper(env(m)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHyphenatedInputsAndEmptyMeansDefault(t *testing.T) {
	t.Parallel()
	// The runner exports every declared input, "" when the user gave none.
	c := load(t, map[string]string{
		"INPUT_TOKEN": "ghs_x", "INPUT_MODE": "", "INPUT_TASK": "", "INPUT_ENVIRONMENT-URL": "https://x.example.com",
		"INPUT_AUTO-INACTIVE": "", "INPUT_INITIAL-STATE": "", "GITHUB_REPOSITORY": "o/r",
	})
	s, err := c.Validate(0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode.Name != "auto" || s.Task != "deploy" || !s.AutoInactive || s.InitialState != "in_progress" || s.Environment != "production" {
		t.Errorf("defaults not applied: %+v", s)
	}
	if s.EnvironmentURL != "https://x.example.com" || s.Owner != "o" || s.Repo != "r" {
		t.Errorf("hyphenated input or repository default lost: %+v", s)
	}
	if s.ProductionEnvironment != nil || s.AutoMerge || s.RequiredContexts.All || len(s.RequiredContexts.List) != 0 {
		t.Errorf("optional defaults wrong: %+v", s)
	}
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	t.Parallel()
	c := load(t, map[string]string{"INPUT_MODE": "dance", "INPUT_STATE": "done", "INPUT_ENVIRONMENT-URL": "ftp://x", "INPUT_PAYLOAD": "{bad"})
	_, err := c.Validate(0)
	var p Problems
	if !errors.As(err, &p) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"token", "repository", "mode", "state", "environment-url", "payload"} {
		found := false
		for _, pr := range p {
			found = found || pr.Input == want && pr.Reason != "" && pr.Fix != ""
		}
		if !found {
			t.Errorf("no problem named %s in %q", want, p)
		}
	}
}

func TestPayloadForms(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]any{
		`{"a": 1}`: map[string]any{"a": float64(1)},
		`"quoted"`: "quoted",
		`plain`:    "plain",
		``:         nil,
	} {
		got, err := parsePayload(in)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("parsePayload(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{`{"a":`, `[1,2]`, `"unterminated`} {
		if _, err := parsePayload(bad); err == nil {
			t.Errorf("parsePayload(%q): want an error", bad)
		}
	}
}

func TestRequiredContexts(t *testing.T) {
	t.Parallel()
	rc, err := parseContexts("ci/build, ci/test\nlint")
	if err != nil || len(rc.List) != 3 || rc.List[2] != "lint" {
		t.Errorf("list = %+v, %v", rc, err)
	}
	if rc, _ := parseContexts(" * "); !rc.All {
		t.Error("'*' must mean all contexts")
	}
	for _, bad := range []string{"a,,b", "*,a"} {
		if _, err := parseContexts(bad); err == nil {
			t.Errorf("parseContexts(%q): want an error", bad)
		}
	}
}

func TestDeploymentIDFromEvent(t *testing.T) {
	t.Parallel()
	c := load(t, map[string]string{"INPUT_TOKEN": "t", "GITHUB_REPOSITORY": "o/r", "INPUT_MODE": "status", "INPUT_STATE": "success"})
	s, err := c.Validate(991)
	if err != nil || s.DeploymentID != 991 {
		t.Fatalf("deployment id = %d, %v", s.DeploymentID, err)
	}
	if _, err := c.Validate(0); err == nil || !strings.Contains(err.Error(), "deployment-id") {
		t.Errorf("status mode without id: err = %v", err)
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	const tok = "ghp_SECRETSECRETSECRET"
	c := load(t, map[string]string{"INPUT_TOKEN": tok, "INPUT_MODE": "bad mode"})
	b, _ := json.Marshal(c)
	_, err := c.Validate(0)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c.Inputs.Token, c.Inputs.Token), string(b), err.Error()} {
		if strings.Contains(out, tok) {
			t.Fatalf("token printed: %s", out)
		}
	}
	if c.Inputs.Token.Value() != tok {
		t.Error("Value() must return the token")
	}
}

func TestCleanupNeverDefaultsToProduction(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"deactivate", "delete"} {
		c := load(t, map[string]string{"INPUT_TOKEN": "t", "GITHUB_REPOSITORY": "o/r", "INPUT_MODE": mode, "INPUT_ENVIRONMENT": ""})
		if _, err := c.Validate(0); err == nil || !strings.Contains(err.Error(), "environment is empty") {
			t.Errorf("%s without environment: err = %v, want it to ask for the environment", mode, err)
		}
	}
	c := load(t, map[string]string{"INPUT_TOKEN": "t", "GITHUB_REPOSITORY": "o/r", "INPUT_MODE": "trigger"})
	if s, err := c.Validate(0); err != nil || s.Environment != "production" {
		t.Errorf("trigger without environment: %v, %v; want GitHub's default production", s, err)
	}
}

func TestDeclaredInputsReadTheStructTags(t *testing.T) {
	t.Parallel()
	got := map[string]Declared{}
	for _, d := range DeclaredInputs() {
		if _, dup := got[d.Name]; dup {
			t.Errorf("%s declared twice", d.Name)
		}
		got[d.Name] = d
	}
	for name, want := range map[string]struct {
		def string
		has bool
	}{"mode": {"auto", true}, "wait-timeout": {"10m", true}, "command": {"/deploy", true}, "environment-url": {"", false}, "token": {"", false}} {
		d, ok := got[name]
		if !ok || d.Default != want.def || d.HasDefault != want.has {
			t.Errorf("%s: %+v (declared %v), want default %q (has %v)", name, d, ok, want.def, want.has)
		}
	}
	if _, ok := got["environment_url"]; ok {
		t.Error("names keep the runner's hyphens, not envconfig's underscores")
	}
}
