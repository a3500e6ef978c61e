package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const full = `environments:
  Production:
    allowed-permission: maintain
    checks: required
    after:
      environment: staging
      soak: 30m
    confirm: true
    windows:
      - days: [mon, tue, wed, thu, fri]
        hours: "09:00-17:00"
        time-zone: Europe/Berlin
    freezes:
      - from: 2026-12-20T00:00:00Z
        until: 2027-01-04T00:00:00Z
        reason: end-of-year freeze
  staging:
  qa:
    windows:
      - days: sat-sun
`

func TestParseFullFile(t *testing.T) {
	p, err := Parse("f.yml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := p.Environment("PRODUCTION")
	if !ok || e.Name != "Production" || e.AllowedPermission != "maintain" || !e.ChecksRequired || !e.Confirm {
		t.Fatalf("production: %+v %v", e, ok)
	}
	if e.After == nil || e.After.Environment != "staging" || e.After.Soak != 30*time.Minute {
		t.Fatalf("after: %+v", e.After)
	}
	if len(e.Windows) != 1 || len(e.Freezes) != 1 || e.Freezes[0].Reason != "end-of-year freeze" {
		t.Fatalf("windows/freezes: %+v %+v", e.Windows, e.Freezes)
	}
	s, ok := p.Environment("Staging")
	if !ok || s.HasRules() || s.AllowedPermission != "write" {
		t.Fatalf("staging (named, no rules): %+v %v", s, ok)
	}
	if d, ok := p.Environment("dev"); ok || d.HasRules() || !d.Allows("write") || d.Allows("triage") {
		t.Fatalf("an environment the file does not name: %+v %v", d, ok)
	}
}

func TestAllows(t *testing.T) {
	p, _ := Parse("f.yml", []byte(full))
	e, _ := p.Environment("production")
	for perm, want := range map[string]bool{"read": false, "triage": false, "write": false, "maintain": true, "admin": true, "": false, "owner": false} {
		if got := e.Allows(perm); got != want {
			t.Errorf("Allows(%q) = %v", perm, got)
		}
	}
}

func TestClosed(t *testing.T) {
	p, _ := Parse("f.yml", []byte(full))
	e, _ := p.Environment("production")
	cases := []struct {
		at     string
		closed bool
		why    string
	}{
		{"2026-12-07T08:30:00Z", false, ""},                          // Monday 09:30 in Berlin (UTC+1)
		{"2026-12-07T07:59:00Z", true, "outside the deploy windows"}, // 08:59 Berlin
		{"2026-12-07T16:00:00Z", true, "outside the deploy windows"}, // 17:00 Berlin: the end is exclusive
		{"2026-12-05T10:00:00Z", true, "outside the deploy windows"}, // Saturday
		{"2026-12-21T10:00:00Z", true, "end-of-year freeze"},         // Monday, but frozen
		{"2027-01-04T10:00:00Z", false, ""},                          // the freeze ended (until is exclusive)
	}
	for _, c := range cases {
		at, _ := time.Parse(time.RFC3339, c.at)
		why, closed := e.Closed(at)
		if closed != c.closed || !strings.Contains(why, c.why) {
			t.Errorf("%s: closed=%v %q", c.at, closed, why)
		}
	}
	q, _ := p.Environment("qa")
	if _, closed := q.Closed(time.Date(2026, 12, 6, 23, 59, 0, 0, time.UTC)); closed {
		t.Error("qa is open all Sunday")
	}
	if _, closed := q.Closed(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)); !closed {
		t.Error("qa is closed on Monday")
	}
}

// Every bad file is a *FileError naming the line, the key and the fix.
func TestParseRejects(t *testing.T) {
	cases := []struct {
		name, yaml, key, fix string
		line                 int
	}{
		{"unknown top key", "environment:\n  prod: {}\n", "environment", "use one of environments", 1},
		{"unknown env key", "environments:\n  prod:\n    check: required\n", "environments.prod.check", "use one of after, allowed-permission, checks, confirm, freezes, windows", 3},
		{"permission", "environments:\n  prod:\n    allowed-permission: owner\n", "environments.prod.allowed-permission", "read, triage, write, maintain, admin", 3},
		{"checks", "environments:\n  prod:\n    checks: true\n", "environments.prod.checks", "checks: required", 3},
		{"confirm", "environments:\n  prod:\n    confirm: yes please\n", "environments.prod.confirm", "confirm: true", 3},
		{"soak", "environments:\n  prod:\n    after: {environment: staging, soak: 30 minutes}\n", "environments.prod.after.soak", "Go duration", 3},
		{"negative soak", "environments:\n  prod:\n    after: {environment: staging, soak: -1m}\n", "environments.prod.after.soak", "Go duration", 3},
		{"after without environment", "environments:\n  prod:\n    after: {soak: 1h}\n", "environments.prod.after.environment", "environment: staging", 3},
		{"after itself", "environments:\n  prod:\n    after: {environment: PROD}\n", "environments.prod.after.environment", "earlier environment", 3},
		{"after unknown key", "environments:\n  prod:\n    after: {environment: staging, wait: 1h}\n", "environments.prod.after.wait", "environment, soak", 3},
		{"duplicate by case", "environments:\n  prod: {}\n  Prod: {}\n", "environments.Prod", "merge", 3},
		{"day", "environments:\n  prod:\n    windows:\n      - days: [mon, funday]\n", "environments.prod.windows[0].days", "mon-fri", 4},
		{"hours", "environments:\n  prod:\n    windows:\n      - hours: 17:00-09:00\n", "environments.prod.windows[0].hours", "09:00-17:00", 4},
		{"zone", "environments:\n  prod:\n    windows:\n      - time-zone: Mars/Olympus\n", "environments.prod.windows[0].time-zone", "IANA", 4},
		{"windows not a list", "environments:\n  prod:\n    windows: weekdays\n", "environments.prod.windows", "- ", 3},
		{"freeze time", "environments:\n  prod:\n    freezes:\n      - {from: 2026-12-20, until: 2027-01-04T00:00:00Z}\n", "environments.prod.freezes[0].from", "with its offset", 4},
		{"freeze order", "environments:\n  prod:\n    freezes:\n      - {from: 2027-01-04T00:00:00Z, until: 2026-12-20T00:00:00Z}\n", "environments.prod.freezes[0].until", "after it starts", 4},
		{"freeze missing until", "environments:\n  prod:\n    freezes:\n      - {from: 2027-01-04T00:00:00Z}\n", "environments.prod.freezes[0].until", "end", 4},
		{"not yaml", "environments: [\n", "", "indentation", 0},
		{"empty", "", "", "delete the file", 0},
		{"env not a mapping", "environments:\n  prod: strict\n", "environments.prod", "indent", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("octo/app:.github/deployments.yml", []byte(c.yaml))
			var fe *FileError
			if p != nil || !errors.As(err, &fe) {
				t.Fatalf("got %+v, %v; want a *FileError", p, err)
			}
			if fe.File != "octo/app:.github/deployments.yml" || len(fe.Problems) == 0 {
				t.Fatalf("%+v", fe)
			}
			pr := fe.Problems[0]
			if pr.Key != c.key || pr.Line != c.line || !strings.Contains(pr.Fix, c.fix) {
				t.Fatalf("problem %+v; want key %q line %d fix containing %q", pr, c.key, c.line, c.fix)
			}
			if msg := err.Error(); !strings.Contains(msg, "octo/app:.github/deployments.yml") || !strings.Contains(msg, "nothing is allowed") {
				t.Fatalf("message: %s", msg)
			}
		})
	}
}

// All problems are listed at once, not only the first.
func TestParseListsEveryProblem(t *testing.T) {
	_, err := Parse("f", []byte("environments:\n  prod:\n    checks: maybe\n    confirm: 3\n  qa:\n    soak: 1h\n"))
	var fe *FileError
	if !errors.As(err, &fe) || len(fe.Problems) != 3 {
		t.Fatalf("%v", err)
	}
	want := "f is not a valid deployment policy, so nothing is allowed until it is fixed:\n" +
		"  line 3: environments.prod.checks: \"maybe\" is not a checks rule (fix: write checks: required, or leave the key out)\n" +
		"  line 4: environments.prod.confirm: \"3\" is not true or false (fix: write confirm: true, or leave the key out)\n" +
		"  line 6: environments.qa.soak: unknown key (fix: use one of after, allowed-permission, checks, confirm, freezes, windows)"
	if err.Error() != want {
		t.Fatalf("got\n%s\nwant\n%s", err, want)
	}
}
