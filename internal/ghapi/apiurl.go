package ghapi

import (
	"net/url"
	"strings"
)

// APIURLFromEnv is where the API lives: GH_HOST as gh reads it (an explicit choice of host), else
// GITHUB_API_URL (set by the Actions runner, GHES included), else github.com. The CLI and the
// server (GitHub App auth) resolve it the same way.
func APIURLFromEnv(getenv func(string) string) string {
	if host := strings.TrimSpace(getenv("GH_HOST")); host != "" {
		return hostAPIURL(host)
	}
	if u := strings.TrimSpace(getenv("GITHUB_API_URL")); u != "" {
		return u
	}
	return "https://api.github.com"
}

// hostAPIURL maps a host name to its API root the way gh does: github.com and ghe.com tenants
// have an api. host, GitHub Enterprise Server serves the API under /api/v3.
func hostAPIURL(host string) string {
	h := strings.ToLower(strings.TrimSuffix(host, "/"))
	switch {
	case h == "github.com":
		return "https://api.github.com"
	case strings.HasSuffix(h, ".ghe.com"):
		return "https://api." + h
	}
	return "https://" + h + "/api/v3"
}

// WebURL is GitHub's web root for an API root, as gh maps hosts: api.github.com is github.com,
// api.SUB.ghe.com is SUB.ghe.com, a GHES HOST/api/v3 is HOST, anything else (an emulator) is
// the API root itself. "" when apiURL is not an http(s) URL.
func WebURL(apiURL string) string {
	u, err := url.Parse(strings.TrimSpace(apiURL))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	host := strings.ToLower(u.Host)
	path := strings.TrimSuffix(u.Path, "/")
	switch {
	case host == "api.github.com":
		host = "github.com"
	case strings.HasPrefix(host, "api.") && strings.HasSuffix(host, ".ghe.com"):
		host = strings.TrimPrefix(host, "api.")
	default:
		path = strings.TrimSuffix(path, "/api/v3")
	}
	return u.Scheme + "://" + host + path
}
