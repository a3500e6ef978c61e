package slackops

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want Command
	}{
		{"", Command{Verb: VerbHelp}},
		{"help", Command{Verb: VerbHelp}},
		{"production", Command{Verb: VerbDeploy, Environment: "production"}},
		{"to production", Command{Verb: VerbDeploy, Environment: "production"}},
		{"main production", Command{Verb: VerbDeploy, Ref: "main", Environment: "production"}},
		{"v1.2.3 to staging", Command{Verb: VerbDeploy, Ref: "v1.2.3", Environment: "staging"}},
		{"@feature/login to staging", Command{Verb: VerbDeploy, Ref: "feature/login", Environment: "staging"}},
		{"acme/shop to production", Command{Verb: VerbDeploy, Repo: "acme/shop", Environment: "production"}},
		{"acme/shop@feature/x production", Command{Verb: VerbDeploy, Repo: "acme/shop", Ref: "feature/x", Environment: "production"}},
		{"  acme/shop@v2   TO   production ", Command{Verb: VerbDeploy, Repo: "acme/shop", Ref: "v2", Environment: "production"}},
		{"<!here>/x to staging", Command{Verb: VerbDeploy, Ref: "<!here>/x", Environment: "staging"}}, // not a repository name
		{"status production", Command{Verb: VerbStatus, Environment: "production"}},
		{"status acme/shop staging", Command{Verb: VerbStatus, Repo: "acme/shop", Environment: "staging"}},
		{"lock production", Command{Verb: VerbLock, Environment: "production"}},
		{"lock production 2h migrating the db", Command{Verb: VerbLock, Environment: "production", Duration: 2 * time.Hour, Reason: "migrating the db"}},
		{"lock acme/shop production freeze", Command{Verb: VerbLock, Repo: "acme/shop", Environment: "production", Reason: "freeze"}},
		{"unlock production", Command{Verb: VerbUnlock, Environment: "production"}},
		{"locks", Command{Verb: VerbLocks}},
		{"locks acme/shop", Command{Verb: VerbLocks, Repo: "acme/shop"}},
	} {
		got, err := Parse(tc.text)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.text, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
	}
}

// Lines the grammar cannot read get a usage error that says what to write.
func TestParseRefusesWithTheFix(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"main to":                             "Name the environment",
		"acme/shop":                           "Name the environment",
		"a b c d":                             "words I cannot place",
		"main to prod*":                       "is a pattern",
		"status":                              "/deploy status <environment>",
		"unlock":                              "/deploy unlock <environment>",
		"lock":                                "/deploy lock <environment>",
		"lock production 3000h":               "at most 90 days",
		"locks production":                    "lists every lock",
		"status acme/shop@main prod":          "names a ref",
		"help me":                             "takes nothing",
		"acme/shop@ production":               "ends in @",
		"main to " + strings.Repeat("x", 300): "255",
	} {
		_, err := Parse(text)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "/deploy help") {
			t.Errorf("Parse(%q) = %v, want a usage error containing %q and pointing at /deploy help", text, err, want)
		}
	}
}
