// Package policy reads a repository's deployment policy, .github/deployments.yml on its default
// branch, shared by the server's Slack commands (issue 21), the custom deployment protection rule
// (issue 22, internal/gate) and, when it exists, command mode.
//
// The API (kept stable; callers in other packages rely on it):
//
//   - Parse(file, data) (*Policy, error): strict parse and validation. Unknown keys, wrong types
//     and bad values are errors; the error is a *FileError listing every problem with its line,
//     key and fix. A caller that gets an error DENIES: a bad policy never allows anything.
//   - (*Policy).Environment(name) (Environment, bool): the rules of an environment, matched
//     case-insensitively (GitHub's environment names are). A policy without that environment, or
//     a repository without the file (Policy.Found false), gives a zero Environment: write access,
//     no other rule.
//   - Environment.Allows(permission) bool: whether a user's repository permission (read, triage,
//     write, maintain, admin) is at least allowed-permission.
//   - Environment.Closed(t) (why string, closed bool): whether a deploy window or a freeze keeps
//     the environment closed at t.
//   - Environment.HasRules() bool: whether anything beyond the default applies (the gate approves
//     an environment without rules at once).
//   - Loader{}.Load(ctx, fetcher, owner, repo) (*Policy, error): reads the file from the default
//     branch through the contents API with no ref (so a pull request cannot loosen its own
//     policy) and caches it per repository by ETag (If-None-Match; a 304 reuses the parsed
//     policy). HTTPFetcher is the Fetcher over GitHub's REST API with a token.
//
// The file:
//
//	environments:
//	  production:
//	    allowed-permission: maintain   # read|triage|write|maintain|admin; default write
//	    checks: required               # green, and at least one check reported
//	    after:                         # live in staging (by latest's rule) for 30 minutes first
//	      environment: staging
//	      soak: 30m                    # a Go duration
//	    confirm: true                  # a confirmation button first (Slack)
//	    windows:                       # deploys only inside one of these
//	      - days: [mon, tue, wed, thu, fri]   # or "mon-fri"
//	        hours: "09:00-17:00"
//	        time-zone: Europe/Berlin   # IANA name; default UTC
//	    freezes:                       # no deploys from..until (RFC 3339)
//	      - from: 2026-12-20T00:00:00Z
//	        until: 2027-01-04T00:00:00Z
//	        reason: end-of-year freeze
package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"
	// The container image has no zoneinfo; windows name IANA time zones.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"
)

// Path is where the policy lives in a repository.
const Path = ".github/deployments.yml"

// Permissions in increasing order, as GitHub names repository roles.
var permissions = []string{"read", "triage", "write", "maintain", "admin"}

func permRank(p string) int {
	for i, q := range permissions {
		if strings.EqualFold(p, q) {
			return i
		}
	}
	return -1
}

// Policy is a parsed .github/deployments.yml.
type Policy struct {
	// Found is false when the repository has no policy file (every environment: the defaults).
	Found bool
	// File names where the policy came from (for messages), e.g. "octo/app:.github/deployments.yml".
	File string
	envs map[string]Environment // by lower-case name
}

// Environment is the rules of one environment.
type Environment struct {
	// Name as written in the file ("" for an environment the file does not name).
	Name string
	// AllowedPermission is the lowest repository permission that may deploy; default "write".
	AllowedPermission string
	// ChecksRequired: the commit's checks must be green with at least one reported.
	ChecksRequired bool
	// After, when set, requires the commit to have been live in another environment for a soak.
	After *After
	// Confirm asks for a confirmation first (a button in Slack).
	Confirm bool
	Windows []Window
	Freezes []Freeze
}

// After is the after: rule.
type After struct {
	Environment string
	Soak        time.Duration
}

// Window is a weekly deploy window: on Days, from Start to End (minutes after midnight, End
// exclusive; End may be 24*60) in Location.
type Window struct {
	Days       [7]bool // by time.Weekday
	Start, End int
	Location   *time.Location
	Text       string // as written, for messages
}

// Freeze is a period with no deploys: From inclusive, Until exclusive.
type Freeze struct {
	From, Until time.Time
	Reason      string
}

// Environment returns the rules of name (case-insensitive). ok is false when the file does not
// name it; the Environment is then the defaults.
func (p *Policy) Environment(name string) (Environment, bool) {
	if p != nil {
		if e, ok := p.envs[strings.ToLower(name)]; ok {
			return e, true
		}
	}
	return Environment{AllowedPermission: "write"}, false
}

// Environments lists the names the file gives, as written.
func (p *Policy) Environments() []string {
	var out []string
	if p != nil {
		for _, e := range p.envs {
			out = append(out, e.Name)
		}
	}
	return out
}

// HasRules reports whether anything gates the environment beyond who may deploy.
func (e Environment) HasRules() bool {
	return e.ChecksRequired || e.After != nil || e.Confirm || len(e.Windows) > 0 || len(e.Freezes) > 0
}

// Allows reports whether permission (read|triage|write|maintain|admin) may deploy.
func (e Environment) Allows(permission string) bool {
	need := permRank(e.AllowedPermission)
	if need < 0 {
		need = permRank("write")
	}
	have := permRank(permission)
	return have >= 0 && have >= need
}

// Closed reports whether a freeze or the deploy windows keep the environment closed at t, and why.
func (e Environment) Closed(t time.Time) (string, bool) {
	for _, f := range e.Freezes {
		if !t.Before(f.From) && t.Before(f.Until) {
			why := fmt.Sprintf("frozen from %s until %s", f.From.Format(time.RFC3339), f.Until.Format(time.RFC3339))
			if f.Reason != "" {
				why += ": " + f.Reason
			}
			return why, true
		}
	}
	if len(e.Windows) == 0 {
		return "", false
	}
	var texts []string
	for _, w := range e.Windows {
		if w.open(t) {
			return "", false
		}
		texts = append(texts, w.Text)
	}
	return "outside the deploy windows (" + strings.Join(texts, "; ") + ")", true
}

func (w Window) open(t time.Time) bool {
	lt := t.In(w.Location)
	m := lt.Hour()*60 + lt.Minute()
	return w.Days[lt.Weekday()] && m >= w.Start && m < w.End
}

// Problem is one thing wrong in a policy file.
type Problem struct {
	Line    int
	Key     string // dotted path, e.g. environments.production.after.soak
	Message string
	Fix     string
}

// FileError is a policy file that cannot be used. Whoever gets one denies.
type FileError struct {
	File     string
	Problems []Problem
}

func (e *FileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is not a valid deployment policy, so nothing is allowed until it is fixed:", e.File)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		if p.Line > 0 {
			fmt.Fprintf(&b, "line %d: ", p.Line)
		}
		if p.Key != "" {
			b.WriteString(p.Key + ": ")
		}
		b.WriteString(p.Message)
		if p.Fix != "" {
			b.WriteString(" (fix: " + p.Fix + ")")
		}
	}
	return b.String()
}

type parser struct {
	file     string
	problems []Problem
}

func (ps *parser) add(n *yaml.Node, key, msg, fix string) {
	line := 0
	if n != nil {
		line = n.Line
	}
	ps.problems = append(ps.problems, Problem{Line: line, Key: key, Message: msg, Fix: fix})
}

// Parse reads a policy file. file names it in errors.
func Parse(file string, data []byte) (*Policy, error) {
	ps := &parser{file: file}
	p := &Policy{Found: true, File: file, envs: map[string]Environment{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		ps.add(nil, "", "not YAML: "+err.Error(), "check indentation and quoting")
		return nil, &FileError{File: file, Problems: ps.problems}
	}
	if len(doc.Content) == 0 {
		ps.add(nil, "", "the file is empty", "add an environments: mapping, or delete the file")
		return nil, &FileError{File: file, Problems: ps.problems}
	}
	root := doc.Content[0]
	ps.mapping(root, "", map[string]func(k, v *yaml.Node, key string){
		"environments": func(_, v *yaml.Node, key string) { ps.environments(p, v, key) },
	})
	if len(ps.problems) > 0 {
		return nil, &FileError{File: file, Problems: ps.problems}
	}
	return p, nil
}

// mapping walks a mapping node, calling the handler of each key; unknown and repeated keys are
// problems.
func (ps *parser) mapping(n *yaml.Node, at string, keys map[string]func(k, v *yaml.Node, key string)) {
	if n.Kind != yaml.MappingNode {
		ps.add(n, at, "expected a mapping (key: value lines)", "indent the keys under "+orTop(at))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(at, k.Value)
		h, ok := keys[k.Value]
		if !ok {
			ps.add(k, key, "unknown key", "use one of "+known(keys))
			continue
		}
		if seen[k.Value] {
			ps.add(k, key, "given twice", "keep one")
			continue
		}
		seen[k.Value] = true
		h(k, v, key)
	}
}

func (ps *parser) environments(p *Policy, n *yaml.Node, at string) {
	if n.Kind != yaml.MappingNode {
		ps.add(n, at, "expected a mapping of environment names", "write environments:, then each name indented below it")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := strings.TrimSpace(k.Value)
		key := join(at, name)
		if name == "" {
			ps.add(k, key, "empty environment name", "name the environment")
			continue
		}
		if prev, dup := p.envs[strings.ToLower(name)]; dup {
			ps.add(k, key, fmt.Sprintf("the same environment as %q (names are case-insensitive)", prev.Name), "merge the two into one")
			continue
		}
		e := Environment{Name: name, AllowedPermission: "write"}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			p.envs[strings.ToLower(name)] = e // "production:" alone: the defaults
			continue
		}
		ps.mapping(v, key, map[string]func(k, v *yaml.Node, key string){
			"allowed-permission": func(_, v *yaml.Node, key string) {
				if v.Kind != yaml.ScalarNode || permRank(v.Value) < 0 {
					ps.add(v, key, fmt.Sprintf("%q is not a permission", v.Value), "use one of read, triage, write, maintain, admin")
					return
				}
				e.AllowedPermission = strings.ToLower(v.Value)
			},
			"checks": func(_, v *yaml.Node, key string) {
				if v.Kind != yaml.ScalarNode || v.Value != "required" {
					ps.add(v, key, fmt.Sprintf("%q is not a checks rule", v.Value), "write checks: required, or leave the key out")
					return
				}
				e.ChecksRequired = true
			},
			"confirm": func(_, v *yaml.Node, key string) {
				var b bool
				if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
					ps.add(v, key, fmt.Sprintf("%q is not true or false", v.Value), "write confirm: true, or leave the key out")
					return
				}
				e.Confirm = b
			},
			"after": func(_, v *yaml.Node, key string) { e.After = ps.after(v, key, name) },
			"windows": func(_, v *yaml.Node, key string) {
				ps.sequence(v, key, func(item *yaml.Node, key string) {
					if w, ok := ps.window(item, key); ok {
						e.Windows = append(e.Windows, w)
					}
				})
			},
			"freezes": func(_, v *yaml.Node, key string) {
				ps.sequence(v, key, func(item *yaml.Node, key string) {
					if f, ok := ps.freeze(item, key); ok {
						e.Freezes = append(e.Freezes, f)
					}
				})
			},
		})
		p.envs[strings.ToLower(name)] = e
	}
}

func (ps *parser) after(n *yaml.Node, at, self string) *After {
	a := &After{}
	var envNode *yaml.Node
	ps.mapping(n, at, map[string]func(k, v *yaml.Node, key string){
		"environment": func(_, v *yaml.Node, key string) {
			envNode = v
			if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
				ps.add(v, key, "expected an environment name", "write environment: staging")
				return
			}
			a.Environment = strings.TrimSpace(v.Value)
		},
		"soak": func(_, v *yaml.Node, key string) {
			d, err := time.ParseDuration(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || d < 0 {
				ps.add(v, key, fmt.Sprintf("%q is not a duration", v.Value), "write a Go duration such as 30m, 2h or 1h30m")
				return
			}
			a.Soak = d
		},
	})
	if n.Kind != yaml.MappingNode {
		return nil
	}
	if envNode == nil {
		ps.add(n, join(at, "environment"), "missing", "name the environment the commit must have been live in, e.g. environment: staging")
	} else if strings.EqualFold(a.Environment, self) {
		ps.add(envNode, join(at, "environment"), "an environment cannot come after itself", "name an earlier environment, such as staging")
	}
	return a
}

func (ps *parser) sequence(n *yaml.Node, at string, item func(n *yaml.Node, key string)) {
	if n.Kind != yaml.SequenceNode {
		ps.add(n, at, "expected a list", "write each entry on a line starting with - ")
		return
	}
	for i, c := range n.Content {
		item(c, fmt.Sprintf("%s[%d]", at, i))
	}
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func day(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 {
		return 0, false
	}
	d, ok := dayNames[s[:3]]
	if ok && len(s) > 3 && !strings.HasPrefix(strings.ToLower(d.String()), s) {
		return 0, false // "monkey" is not Monday
	}
	return d, ok
}

func (ps *parser) window(n *yaml.Node, at string) (Window, bool) {
	w := Window{Location: time.UTC, End: 24 * 60}
	var daysText, hoursText, zoneText string
	before := len(ps.problems)
	hasDays := false
	ps.mapping(n, at, map[string]func(k, v *yaml.Node, key string){
		"days": func(_, v *yaml.Node, key string) {
			hasDays = true
			fix := "write days: [mon, tue, wed, thu, fri] or days: mon-fri"
			var names []string
			switch v.Kind {
			case yaml.SequenceNode:
				for _, c := range v.Content {
					names = append(names, c.Value)
				}
			case yaml.ScalarNode:
				if a, b, ok := strings.Cut(v.Value, "-"); ok {
					da, ok1 := day(a)
					db, ok2 := day(b)
					if !ok1 || !ok2 {
						ps.add(v, key, fmt.Sprintf("%q is not a range of days", v.Value), fix)
						return
					}
					for d := da; ; d = (d + 1) % 7 {
						w.Days[d] = true
						if d == db {
							break
						}
					}
					daysText = v.Value
					return
				}
				names = strings.Split(v.Value, ",")
			default:
				ps.add(v, key, "expected a list of days", fix)
				return
			}
			for _, s := range names {
				d, ok := day(s)
				if !ok {
					ps.add(v, key, fmt.Sprintf("%q is not a day", s), fix)
					return
				}
				w.Days[d] = true
			}
			daysText = strings.Join(names, ", ")
		},
		"hours": func(_, v *yaml.Node, key string) {
			start, end, ok := hours(v.Value)
			if v.Kind != yaml.ScalarNode || !ok {
				ps.add(v, key, fmt.Sprintf("%q is not a range of hours", v.Value), `write hours: "09:00-17:00" (24-hour clock, start before end)`)
				return
			}
			w.Start, w.End, hoursText = start, end, v.Value
		},
		"time-zone": func(_, v *yaml.Node, key string) {
			loc, err := time.LoadLocation(v.Value)
			if v.Kind != yaml.ScalarNode || v.Value == "" || err != nil {
				ps.add(v, key, fmt.Sprintf("%q is not a time zone", v.Value), "use an IANA name such as Europe/Berlin or America/New_York")
				return
			}
			w.Location, zoneText = loc, v.Value
		},
	})
	if n.Kind == yaml.MappingNode && !hasDays {
		for d := range w.Days {
			w.Days[d] = true
		}
		daysText = "every day"
	}
	if zoneText == "" {
		zoneText = "UTC"
	}
	if hoursText == "" {
		hoursText = "all day"
	}
	w.Text = fmt.Sprintf("%s %s %s", daysText, hoursText, zoneText)
	return w, len(ps.problems) == before
}

// hours parses "HH:MM-HH:MM"; the end may be 24:00.
func hours(s string) (int, int, bool) {
	a, b, ok := strings.Cut(strings.ReplaceAll(s, " ", ""), "-")
	if !ok {
		return 0, 0, false
	}
	clock := func(s string) (int, bool) {
		var h, m int
		if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); n != 2 || err != nil || len(s) != 5 || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
			return 0, false
		}
		return h*60 + m, true
	}
	start, ok1 := clock(a)
	end, ok2 := clock(b)
	return start, end, ok1 && ok2 && start < end
}

func (ps *parser) freeze(n *yaml.Node, at string) (Freeze, bool) {
	var f Freeze
	before := len(ps.problems)
	stamp := func(v *yaml.Node, key string, into *time.Time) {
		t, err := time.Parse(time.RFC3339, v.Value)
		if v.Kind != yaml.ScalarNode || err != nil {
			ps.add(v, key, fmt.Sprintf("%q is not an RFC 3339 time", v.Value), "write a time with its offset, e.g. 2026-12-20T00:00:00Z or 2026-12-20T09:00:00+01:00")
			return
		}
		*into = t
	}
	ps.mapping(n, at, map[string]func(k, v *yaml.Node, key string){
		"from":  func(_, v *yaml.Node, key string) { stamp(v, key, &f.From) },
		"until": func(_, v *yaml.Node, key string) { stamp(v, key, &f.Until) },
		"reason": func(_, v *yaml.Node, key string) {
			if v.Kind != yaml.ScalarNode {
				ps.add(v, key, "expected text", "write reason: followed by a sentence")
				return
			}
			f.Reason = v.Value
		},
	})
	if len(ps.problems) > before || n.Kind != yaml.MappingNode {
		return f, false
	}
	switch {
	case f.From.IsZero():
		ps.add(n, join(at, "from"), "missing", "give the freeze's start, e.g. from: 2026-12-20T00:00:00Z")
	case f.Until.IsZero():
		ps.add(n, join(at, "until"), "missing", "give the freeze's end, e.g. until: 2027-01-04T00:00:00Z")
	case !f.Until.After(f.From):
		ps.add(n, join(at, "until"), "not after from", "end the freeze after it starts")
	}
	return f, len(ps.problems) == before
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func orTop(at string) string {
	if at == "" {
		return "the top of the file"
	}
	return at
}

func known(keys map[string]func(k, v *yaml.Node, key string)) string {
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names) // stable messages
	return strings.Join(names, ", ")
}
