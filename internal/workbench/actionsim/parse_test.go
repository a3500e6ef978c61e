package actionsim

import (
	"strings"
	"testing"
)

func TestParseFileCommand(t *testing.T) {
	t.Parallel()
	pairs, err := ParseFileCommand("a=1\n\nb<<EOF\nx\r\ny\nEOF\nc=<<not heredoc\nd<<=\nv\n=\ne<<E\n\nE")
	if err != nil {
		t.Fatal(err)
	}
	want := []Pair{{"a", "1"}, {"b", "x\r\ny"}, {"c", "<<not heredoc"}, {"d", "v"}, {"e", ""}}
	if len(pairs) != len(want) {
		t.Fatalf("pairs = %q", pairs)
	}
	for i := range want {
		if pairs[i] != want[i] {
			t.Errorf("pair %d = %q, want %q", i, pairs[i], want[i])
		}
	}
	for _, bad := range []string{"=v", "noform", "<<EOF\nx\nEOF", "a<<\nx", "a<<EOF\nx\n", "a<<EOF\nx"} {
		if _, err := ParseFileCommand(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseCommands(t *testing.T) {
	t.Parallel()
	out := strings.Join([]string{
		"plain ::error::not at start",
		"  ::Warning file=a.go,line=3,title=x%3Ay::msg%0Aline2%25",
		"::unknown::x",
		"::stop-commands::TOK",
		"::error::ignored while stopped",
		"::tok::",
		"x ##[debug]legacy",
		"::add-mask::p4ss",
		"p4ss shown\r::notice::after CR",
	}, "\n")
	var s commandScanner
	cmds, log := s.scan(out)
	var got []string
	for _, c := range cmds {
		got = append(got, c.Name+":"+c.Data)
	}
	want := "warning:msg\nline2%|stop-commands:TOK|debug:legacy|add-mask:p4ss|notice:after CR"
	if strings.Join(got, "|") != want {
		t.Errorf("commands = %q\nwant       %q", strings.Join(got, "|"), want)
	}
	if p := cmds[0].Properties; p["file"] != "a.go" || p["line"] != "3" || p["title"] != "x:y" {
		t.Errorf("properties = %v", p)
	}
	if !strings.Contains(log, "*** shown") || strings.Contains(log, "p4ss") {
		t.Errorf("log not masked:\n%s", log)
	}
}

func TestExpressions(t *testing.T) {
	t.Parallel()
	sc := &evalScope{
		contexts: map[string]any{
			"github": map[string]any{"ref": "refs/heads/main", "event": map[string]any{"pull_request": map[string]any{"head": map[string]any{"ref": "topic"}}}},
			"job":    map[string]any{"status": "failure"},
			"steps":  map[string]any{},
		},
		strict:    map[string]bool{"github": true, "job": true},
		status:    "failure",
		functions: true,
	}
	cases := map[string]string{
		"${{ github.ref }}":                              "refs/heads/main",
		"x-${{ github.event.pull_request.head.ref }}":    "x-topic",
		"${{ github['ref'] }}":                           "refs/heads/main",
		"${{ github.event.nope.deeper }}":                "",
		"${{ steps.a.outputs.b || 'fallback' }}":         "fallback",
		"${{ job.status == 'FAILURE' }}":                 "true",
		"${{ !failure() }}":                              "false",
		"${{ 'it''s' }}${{ '}}' }}":                      "it's}}",
		"${{ cancelled() || job.status != 'x' && 'y' }}": "y",
	}
	for in, want := range cases {
		got, err := interpolate(in, sc)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", in, got, err, want)
		}
	}
}
