package slackops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/ghapp"
	"github.com/deployment-action/deployment-action/internal/policy"
)

// Directory is the server's config file's slack section: who is who, and which channel
// deploys which repository.
type Directory struct {
	// Channels maps a Slack channel id to the owner/repo a bare /deploy there addresses.
	Channels map[string]string
	// Users maps a Slack user id to a GitHub login; authorization is that login's permission
	// on the repository.
	Users map[string]string
}

// Installations gives the App's installation token for a repository (*ghapp.App); a
// *ghapp.NotInstalledError when the App is not installed there.
type Installations interface {
	InstallationToken(ctx context.Context, owner, repo string) (ghapp.Token, error)
}

// Ops is the Slack flow. Safe for concurrent use; it keeps no state beyond the policy cache
// (by ETag) and the App's token cache.
type Ops struct {
	Directory Directory
	GitHub    Installations
	APIURL    string // GitHub's API root
	Web       string // GitHub's web root for links ("" = derived from APIURL)
	HTTP      *http.Client
	Slack     Slack
	// Secret keys the MAC that ties a deployment's payload to its Slack message (the webhook
	// secret serves: it is the server's and never leaves it).
	Secret string
	Now    func() time.Time
	Log    *slog.Logger

	once     sync.Once
	policies *policy.Loader
}

// Request is the slash command's form fields this flow reads. The legacy token field is never
// trusted: the request's signature was checked before.
type Request struct {
	TeamID, ChannelID, UserID, UserName, Command, Text, ResponseURL, TriggerID string
}

// RequestFromForm reads a slash command's form.
func RequestFromForm(f url.Values) Request {
	return Request{TeamID: f.Get("team_id"), ChannelID: f.Get("channel_id"), UserID: f.Get("user_id"), UserName: f.Get("user_name"),
		Command: f.Get("command"), Text: f.Get("text"), ResponseURL: f.Get("response_url"), TriggerID: f.Get("trigger_id")}
}

// Reply is the immediate answer to Slack (the HTTP response, within 3 s): only the requester
// sees it.
type Reply struct{ Text string }

// Work is what runs after the answer.
type Work func(ctx context.Context)

func (o *Ops) init() {
	o.once.Do(func() {
		o.policies = &policy.Loader{}
		if o.Log == nil {
			o.Log = slog.New(slog.DiscardHandler)
		}
		if o.Now == nil {
			o.Now = time.Now
		}
		if o.Web == "" {
			o.Web = ghapi.WebURL(o.APIURL)
		}
	})
}

// Command reads a slash command. The answer is immediate and makes no request; the work (every
// GitHub and Slack call) runs after it. A nil Work means nothing more happens.
func (o *Ops) Command(r Request) (Reply, Work) {
	o.init()
	c, err := Parse(r.Text)
	if err != nil {
		return Reply{Text: err.Error()}, nil
	}
	if c.Verb == VerbHelp {
		return Reply{Text: Help}, nil
	}
	login, ok := o.Directory.Users[r.UserID]
	if !ok || login == "" {
		return Reply{Text: fmt.Sprintf("Your Slack account (%s) is not mapped to a GitHub login, so I cannot tell your role on the repository. "+
			"Ask whoever runs the deployment server to add `%s: <your-github-login>` under `slack.users` in its config file.", r.UserID, r.UserID)}, nil
	}
	full := c.Repo
	if full == "" {
		full = o.Directory.Channels[r.ChannelID]
	}
	if full == "" {
		return Reply{Text: fmt.Sprintf("This channel (%s) is not mapped to a repository: name one, `/deploy owner/repo[@ref] to <environment>`, "+
			"or ask whoever runs the deployment server to add `%s: owner/repo` under `slack.channels`.", r.ChannelID, r.ChannelID)}, nil
	}
	owner, repo, _ := strings.Cut(full, "/")
	t := task{o: o, r: r, c: c, login: login, owner: owner, repo: repo}
	switch c.Verb {
	case VerbDeploy:
		return Reply{Text: fmt.Sprintf("Checking %s for %s…", t.what(), code(c.Environment))}, t.deploy
	case VerbStatus:
		return Reply{Text: fmt.Sprintf("Looking up %s in %s…", code(c.Environment), full)}, t.status
	default:
		return Reply{Text: "Working on it…"}, t.locks
	}
}

// task is one command's work.
type task struct {
	o           *Ops
	r           Request
	c           Command
	login       string
	owner, repo string
	confirmed   bool
}

func (t *task) full() string { return t.owner + "/" + t.repo }

func (t *task) what() string {
	if t.c.Ref == "" {
		return t.full() + " (default branch)"
	}
	return t.full() + "@" + code(t.c.Ref)
}

// respond replaces the "Checking…" answer with m (only the requester sees it), or, for a
// message meant for the channel, posts it there beside that answer.
func (t *task) respond(ctx context.Context, m Message) {
	m.ReplaceOriginal = !m.InChannel
	if err := t.o.Slack.Respond(ctx, t.r.ResponseURL, m); err != nil {
		t.o.Log.Error("slack answer failed", "user", t.r.UserID, "err", err)
	}
}

func (t *task) refuse(ctx context.Context, format string, args ...any) {
	t.o.Log.Info("slack command refused", "user", t.r.UserID, "login", t.login, "repository", t.full(), "environment", t.c.Environment, "reason", fmt.Sprintf(format, args...))
	t.respond(ctx, Message{Text: ":no_entry: " + fmt.Sprintf(format, args...)})
}

// client is the project's API client with the App's installation token for the repository.
// ok is false when the requester has been told why not.
func (t *task) client(ctx context.Context) (*ghapi.Client, string, bool) {
	tok, err := t.o.GitHub.InstallationToken(ctx, t.owner, t.repo)
	var ni *ghapp.NotInstalledError
	switch {
	case errors.As(err, &ni):
		t.refuse(ctx, "The deployment App is not installed on %s (or the repository does not exist). Ask an owner of %s to install it: the App's page → Install → %s.", t.full(), t.owner, t.full())
		return nil, "", false
	case err != nil:
		t.fail(ctx, "reach GitHub as the App", err)
		return nil, "", false
	}
	api, err := deploy.NewClient(nil, deploy.ClientOptions{Token: tok.Value, APIURL: t.o.APIURL, HTTPClient: t.o.HTTP})
	if err != nil {
		t.fail(ctx, "reach GitHub as the App", err)
		return nil, "", false
	}
	return api, tok.Value, true
}

// fail tells the requester that something broke on the way (not a refusal), and logs it.
func (t *task) fail(ctx context.Context, doing string, err error) {
	t.o.Log.Error("slack command failed", "doing", doing, "repository", t.full(), "environment", t.c.Environment, "err", err)
	t.respond(ctx, Message{Text: fmt.Sprintf(":warning: Could not %s for %s: %s. Nothing was deployed; try again, and tell whoever runs the server if it persists.", doing, t.full(), escape(err.Error()))})
}

// role is the login's role on the repository ("none" when it has none).
func (t *task) role(ctx context.Context, api *ghapi.Client) (string, error) {
	p, err := api.CollaboratorPermission(ctx, t.owner, t.repo, t.login)
	if err != nil {
		var ae *ghapi.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return "none", nil
		}
		return "", err
	}
	return effectiveRole(p), nil
}

// escape makes user-written text inert in Slack mrkdwn (no <!channel>, no links).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// code is s in a code span, inert.
func code(s string) string {
	return "`" + strings.ReplaceAll(escape(s), "`", "'") + "`"
}
