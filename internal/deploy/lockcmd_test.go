package deploy

import (
	"testing"
	"time"
)

func TestLockGrammar(t *testing.T) {
	for _, tc := range []struct {
		body, word string
		ok         bool // addressed as a lock command
		understood bool
		verb       LockVerb
		env        string
		dur        time.Duration
		reason     string
	}{
		{body: "/lock staging", word: "/deploy", ok: true, understood: true, verb: LockTake, env: "staging"},
		{body: "/LOCK   Staging  2h  load test \nmore", word: "/deploy", ok: true, understood: true, verb: LockTake, env: "Staging", dur: 2 * time.Hour, reason: "load test"},
		{body: "/lock staging 1h30m", word: "/deploy", ok: true, understood: true, verb: LockTake, env: "staging", dur: 90 * time.Minute},
		{body: "/lock staging 3d why", word: "/deploy", ok: true, understood: true, verb: LockTake, env: "staging", dur: 72 * time.Hour, reason: "why"},
		{body: "/lock staging 2 hours", word: "/deploy", ok: true, understood: true, verb: LockTake, env: "staging", reason: "2 hours"},
		{body: "/lock staging 100d", word: "/deploy", ok: true, understood: false, verb: LockTake},
		{body: "/lock staging 0m", word: "/deploy", ok: true, understood: false, verb: LockTake},
		{body: "/lock", word: "/deploy", ok: true, understood: false, verb: LockTake},
		{body: "/unlock staging", word: "/deploy", ok: true, understood: true, verb: LockRelease, env: "staging"},
		{body: "/unlock staging now", word: "/deploy", ok: true, understood: false, verb: LockRelease},
		{body: "/unlock", word: "/deploy", ok: true, understood: false, verb: LockRelease},
		{body: "/locks", word: "/deploy", ok: true, understood: true, verb: LockList},
		{body: "/locks staging", word: "/deploy", ok: true, understood: false, verb: LockList},
		{body: ".lock qa", word: ".deploy", ok: true, understood: true, verb: LockTake, env: "qa"},
		{body: "/lock qa", word: ".deploy"},
		{body: "!lock qa", word: "!ship", ok: true, understood: true, verb: LockTake, env: "qa"},
		{body: "/locked qa", word: "/deploy"},
		{body: "please /lock qa", word: "/deploy"},
		{body: "", word: "/deploy"},
	} {
		l, ok := parseLockLine(tc.body, tc.word)
		if ok != tc.ok {
			t.Errorf("%q (%s): lock command %v, want %v", tc.body, tc.word, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if l.Understood != tc.understood || l.Lock.Verb != tc.verb {
			t.Errorf("%q: understood %v verb %d, want %v %d", tc.body, l.Understood, l.Lock.Verb, tc.understood, tc.verb)
			continue
		}
		if tc.understood && (l.Environment != tc.env || l.Lock.Duration != tc.dur || l.Lock.Reason != tc.reason) {
			t.Errorf("%q: env %q dur %s reason %q, want %q %s %q", tc.body, l.Environment, l.Lock.Duration, l.Lock.Reason, tc.env, tc.dur, tc.reason)
		}
	}
}

func TestLockWords(t *testing.T) {
	for word, want := range map[string][3]string{
		"/deploy": {"/lock", "/unlock", "/locks"},
		".deploy": {".lock", ".unlock", ".locks"},
		"deploy":  {"lock", "unlock", "locks"},
		"!!ship":  {"!!lock", "!!unlock", "!!locks"},
	} {
		a, b, c := LockWords(word)
		if [3]string{a, b, c} != want {
			t.Errorf("LockWords(%q) = %q %q %q, want %v", word, a, b, c, want)
		}
	}
}
