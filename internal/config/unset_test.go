package config

import (
	"context"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/deploy"
)

// TestUnsetTellsDefaultsFromValues: an input the runner exported empty reads as its default, and
// Unset says it had no value; one given keeps its value and is not unset.
func TestUnsetTellsDefaultsFromValues(t *testing.T) {
	t.Parallel()
	env := map[string]string{"INPUT_MODE": "", "INPUT_TOKEN": "", "INPUT_ENVIRONMENT-URL": "https://x.example.com", "INPUT_ENABLED": "true"}
	c, err := Load(context.Background(), ActionInputs(func(k string) string { return env[k] }), EnvLookuper(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	if c.Inputs.Mode != "auto" || !c.Unset("mode") || !c.Unset("token") {
		t.Errorf("mode %q unset %v, token unset %v: want the default auto, both unset", c.Inputs.Mode, c.Unset("mode"), c.Unset("token"))
	}
	if c.Unset("environment-url") || c.Unset("enabled") {
		t.Error("an input given a value reads as unset")
	}
}

// TestModeLookedUpInTheConfigTable: the mode input is looked up in Config.Modes, and an unknown
// one is a problem listing that table's names.
func TestModeLookedUpInTheConfigTable(t *testing.T) {
	t.Parallel()
	in := map[string]string{"token": "t", "repository": "o/r", "mode": "extra"}
	c, err := Load(context.Background(), MapInputs(in), EnvLookuper(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Validate(0); err == nil || !strings.Contains(err.Error(), `mode "extra" is not known`) {
		t.Errorf("without the mode: %v", err)
	}
	c.Modes = deploy.Modes().With(deploy.Mode{Name: "extra"})
	s, err := c.Validate(0)
	if err != nil || s.Mode.Name != "extra" {
		t.Fatalf("with the mode: %v, %v", s, err)
	}
	c.Inputs.Mode = "nope"
	if _, err := c.Validate(0); err == nil || !strings.Contains(err.Error(), ", command, extra") {
		t.Errorf("an unknown mode's problem does not list the table's modes: %v", err)
	}
}
