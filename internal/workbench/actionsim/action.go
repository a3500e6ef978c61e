// Package actionsim runs a container action's stages (pre, main, post) in-process the way the
// GitHub Actions runner does: per-stage input evaluation against live contexts, INPUT_/STATE_
// environment, file commands, workflow commands on stdout/stderr, job status and cancellation.
// The rules it follows are the runner's (actions/runner, src/Runner.Worker); see the repo's
// notes on the runner for sources.
package actionsim

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Input is one declared input of action.yml.
type Input struct {
	Name        string
	Description string
	Default     string
	HasDefault  bool
	Required    bool
}

// Output is one declared output of action.yml.
type Output struct {
	Name        string
	Description string
}

// Runs is action.yml's runs section for a container action.
type Runs struct {
	Using          string
	Image          string
	PreEntrypoint  string
	Entrypoint     string
	PostEntrypoint string
	PreIf          string // "always()" when unset, as the runner defaults it
	PostIf         string // "always()" when unset
	Args           []string
	Env            []Pair // in file order
}

// Action is a parsed action.yml.
type Action struct {
	Name        string
	Description string
	Inputs      []Input // in file order
	Outputs     []Output
	Runs        Runs
}

type actionYAML struct {
	Name        string    `yaml:"name"`
	Description string    `yaml:"description"`
	Inputs      yaml.Node `yaml:"inputs"`
	Outputs     yaml.Node `yaml:"outputs"`
	Runs        struct {
		Using          string    `yaml:"using"`
		Image          string    `yaml:"image"`
		PreEntrypoint  string    `yaml:"pre-entrypoint"`
		Entrypoint     string    `yaml:"entrypoint"`
		PostEntrypoint string    `yaml:"post-entrypoint"`
		PreIf          string    `yaml:"pre-if"`
		PostIf         string    `yaml:"post-if"`
		Args           []string  `yaml:"args"`
		Env            yaml.Node `yaml:"env"`
	} `yaml:"runs"`
}

// LoadAction reads and checks an action.yml the way the runner's manifest loader would for a
// docker action, including which contexts each field's expressions may use.
func LoadAction(path string) (*Action, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read action: %w", err)
	}
	a, err := ParseAction(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// ParseAction parses action.yml content; see LoadAction.
func ParseAction(data []byte) (*Action, error) {
	var y actionYAML
	if err := yaml.Unmarshal(data, &y); err != nil {
		return nil, fmt.Errorf("parse action: %w", err)
	}
	a := &Action{Name: y.Name, Description: y.Description}
	var errs []error

	err := eachPair(&y.Inputs, func(name string, v *yaml.Node) error {
		var in struct {
			Description string    `yaml:"description"`
			Default     yaml.Node `yaml:"default"`
			Required    bool      `yaml:"required"`
		}
		if err := v.Decode(&in); err != nil {
			return fmt.Errorf("input %q: %w", name, err)
		}
		input := Input{Name: name, Description: in.Description, Required: in.Required}
		if in.Default.Kind == yaml.ScalarNode {
			input.Default, input.HasDefault = in.Default.Value, true
		}
		a.Inputs = append(a.Inputs, input)
		return nil
	})
	errs = append(errs, err)
	errs = append(errs, eachPair(&y.Outputs, func(name string, v *yaml.Node) error {
		var out struct {
			Description string `yaml:"description"`
		}
		if err := v.Decode(&out); err != nil {
			return fmt.Errorf("output %q: %w", name, err)
		}
		a.Outputs = append(a.Outputs, Output{Name: name, Description: out.Description})
		return nil
	}))
	errs = append(errs, eachPair(&y.Runs.Env, func(name string, v *yaml.Node) error {
		a.Runs.Env = append(a.Runs.Env, Pair{Name: name, Value: v.Value})
		return nil
	}))

	r := y.Runs
	a.Runs.Using, a.Runs.Image = r.Using, r.Image
	a.Runs.PreEntrypoint, a.Runs.Entrypoint, a.Runs.PostEntrypoint = r.PreEntrypoint, r.Entrypoint, r.PostEntrypoint
	a.Runs.PreIf, a.Runs.PostIf, a.Runs.Args = r.PreIf, r.PostIf, r.Args
	if a.Runs.PreIf == "" {
		a.Runs.PreIf = "always()"
	}
	if a.Runs.PostIf == "" {
		a.Runs.PostIf = "always()"
	}

	if a.Runs.Using != "docker" {
		errs = append(errs, fmt.Errorf("runs.using is %q: the simulator only runs docker actions", a.Runs.Using))
	}
	if a.Runs.Image == "" {
		errs = append(errs, errors.New("runs.image is required"))
	} else if !strings.HasPrefix(a.Runs.Image, "docker://") && !isDockerfile(a.Runs.Image) {
		errs = append(errs, fmt.Errorf("runs.image %q should be either '[path]/Dockerfile' or 'docker://image[:tag]'", a.Runs.Image))
	}
	for _, ep := range []struct{ field, v string }{
		{"pre-entrypoint", a.Runs.PreEntrypoint}, {"entrypoint", a.Runs.Entrypoint}, {"post-entrypoint", a.Runs.PostEntrypoint},
	} {
		// docker run --entrypoint takes one path, resolved outside the image's WORKDIR.
		if ep.v != "" && (!strings.HasPrefix(ep.v, "/") || strings.ContainsAny(ep.v, " \t")) {
			errs = append(errs, fmt.Errorf("runs.%s %q must be one absolute path", ep.field, ep.v))
		}
	}
	if a.Runs.Entrypoint == "" {
		errs = append(errs, errors.New("runs.entrypoint is required by this simulator (the binary dispatches on it)"))
	}

	// Check expressions against the contexts the runner's schema allows for each field.
	for _, in := range a.Inputs {
		errs = append(errs, checkExpr("inputs."+in.Name+".default", in.Default, false, defaultContexts))
	}
	for _, arg := range a.Runs.Args {
		errs = append(errs, checkExpr("runs.args", arg, false, argsContexts))
	}
	for _, e := range a.Runs.Env {
		errs = append(errs, checkExpr("runs.env."+e.Name, e.Value, false, argsContexts))
	}
	for field, cond := range map[string]string{"runs.pre-if": a.Runs.PreIf, "runs.post-if": a.Runs.PostIf} {
		if strings.Contains(cond, "${{") {
			errs = append(errs, fmt.Errorf("%s: write a bare expression, ${{ }} is not allowed there", field))
			continue
		}
		errs = append(errs, checkExpr(field, cond, true, ifContexts))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}

var (
	defaultContexts = names("github", "strategy", "matrix", "job", "runner")
	argsContexts    = names("inputs")
	ifContexts      = names("github", "strategy", "matrix", "steps", "job", "runner", "env", "vars")
	withContexts    = names("github", "strategy", "matrix", "steps", "job", "runner", "env", "vars", "secrets", "inputs", "needs")
)

func names(n ...string) map[string]bool {
	m := make(map[string]bool, len(n))
	for _, s := range n {
		m[s] = true
	}
	return m
}

// checkExpr evaluates s against empty, lenient contexts to find syntax errors and contexts the
// field may not use.
func checkExpr(field, s string, condition bool, allowed map[string]bool) error {
	sc := &evalScope{contexts: map[string]any{}, allowed: allowed, status: "success", functions: condition}
	for n := range allowed {
		sc.contexts[n] = map[string]any{}
	}
	var err error
	if condition {
		_, err = evalCondition(s, sc)
	} else {
		_, err = interpolate(s, sc)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

var dockerfileRE = regexp.MustCompile(`(?i)(^|/)(Dockerfile(\.[^/]*)?|[^/]*Dockerfile)$`)

func isDockerfile(image string) bool { return dockerfileRE.MatchString(image) }

func eachPair(n *yaml.Node, f func(name string, v *yaml.Node) error) error {
	if n.Kind == 0 {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a mapping", n.Line)
	}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		errs = append(errs, f(n.Content[i].Value, n.Content[i+1]))
	}
	return errors.Join(errs...)
}
