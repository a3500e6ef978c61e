package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileConfig is the server's config file (--config or $DEPLOYMENT_SERVER_CONFIG). It holds no
// secret: those come from the environment only, and a key that looks like one is refused.
//
//	slack:
//	  channels:            # channel id → the repository a bare /deploy there addresses
//	    C0123456789: acme/shop
//	  users:               # Slack user id → GitHub login (authorization is that login's role)
//	    U0123456789: octocat
type FileConfig struct {
	Slack struct {
		Channels map[string]string `yaml:"channels"`
		Users    map[string]string `yaml:"users"`
	} `yaml:"slack"`
}

var (
	channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	userID    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	repoName  = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)
	login     = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
)

// LoadConfig reads and checks the file; every problem is reported at once, with its fix. An
// empty path is no file (nothing mapped: only /deploy owner/repo … works, and nobody is mapped).
func LoadConfig(path string) (*FileConfig, error) {
	c := &FileConfig{}
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	if err := ParseConfig(path, data, c); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseConfig decodes data (strictly: unknown keys are errors) into c and checks it.
func ParseConfig(path string, data []byte, c *FileConfig) error {
	for _, k := range []string{"token", "secret", "private_key", "private-key", "password"} {
		if bytes.Contains(bytes.ToLower(data), []byte(k+":")) {
			return fmt.Errorf("%s: a %q key: secrets come from the environment only (GITHUB_WEBHOOK_SECRET, GITHUB_APP_PRIVATE_KEY, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN), never this file", path, k)
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return fmt.Errorf("%s: %w (the file has slack.channels and slack.users: see docs/server.md)", path, err)
	}
	var probs []string
	for _, ch := range sortedKeys(c.Slack.Channels) {
		repo := c.Slack.Channels[ch]
		if !channelID.MatchString(ch) {
			probs = append(probs, fmt.Sprintf("slack.channels: %q is not a channel id: use the id (C…, from the channel's details), not its name", ch))
		}
		if !repoName.MatchString(repo) {
			probs = append(probs, fmt.Sprintf("slack.channels.%s: %q is not owner/repo", ch, repo))
		}
	}
	for _, u := range sortedKeys(c.Slack.Users) {
		l := c.Slack.Users[u]
		if !userID.MatchString(u) {
			probs = append(probs, fmt.Sprintf("slack.users: %q is not a Slack user id: use the member id (U…, from the profile's ⋮ → Copy member ID)", u))
		}
		if !login.MatchString(strings.TrimPrefix(l, "@")) {
			probs = append(probs, fmt.Sprintf("slack.users.%s: %q is not a GitHub login", u, l))
		} else {
			c.Slack.Users[u] = strings.TrimPrefix(l, "@")
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%s:\n  %s", path, strings.Join(probs, "\n  "))
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
