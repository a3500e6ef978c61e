// Package version says which build of deployment-action is running: for `deployment-action
// version` and the User-Agent of every API request.
package version

import (
	"runtime/debug"
	"strings"
)

// version is the release tag, stamped at build time (the Dockerfile and the release do it):
//
//	go build -ldflags "-X github.com/deployment-action/deployment-action/internal/version.version=v1.2.3"
//
// It is a variable only because -X can set nothing else; nothing assigns it at run time.
var version string

// Version is the stamped tag; without one, the module version of a `go install …@v1.2.3`
// build; else the commit of a build in a checkout (12 hex digits, "+dirty" with local changes);
// else "dev".
func Version() string {
	bi, _ := debug.ReadBuildInfo() // nil when the binary has none
	return resolve(version, bi)
}

// UserAgent is the User-Agent header for API requests: deployment-action/<Version()>.
func UserAgent() string { return "deployment-action/" + Version() }

// resolve picks the version from the stamp and the binary's build information (nil: none).
func resolve(stamp string, bi *debug.BuildInfo) string {
	if stamp != "" {
		return stamp
	}
	if bi == nil {
		return "dev"
	}
	var revision string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	mod := bi.Main.Version
	if mod == "(devel)" {
		mod = ""
	}
	switch {
	case revision == "" && mod != "":
		// Built from the module proxy's copy (go install …@v1.2.3): no checkout, the version is
		// the one asked for.
		return mod
	case revision != "" && mod != "" && !isPseudo(mod):
		// Built in a checkout of a tagged commit: Go gives the tag (with +dirty itself).
		return mod
	case revision != "":
		// Built in a checkout between tags: Go's pseudo-version is long; the commit says it all.
		if len(revision) > 12 {
			revision = revision[:12]
		}
		if modified {
			revision += "+dirty"
		}
		return revision
	}
	return "dev"
}

// isPseudo reports whether v is a Go pseudo-version (…-20240102150405-0123456789ab, or
// ….0.20240102150405-0123456789ab after a pre-release), with or without "+dirty".
func isPseudo(v string) bool {
	v, _, _ = strings.Cut(v, "+")
	i := strings.LastIndexByte(v, '-')
	if i < 0 || !isHex(v[i+1:], 12) {
		return false
	}
	rest := v[:i]
	return len(rest) > 15 && isDigits(rest[len(rest)-14:]) && (rest[len(rest)-15] == '-' || rest[len(rest)-15] == '.')
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
