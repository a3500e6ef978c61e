package slackops

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/slack-go/slack"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/gate"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/policy"
)

// PayloadKey is where a deployment's payload names the Slack message it was started from.
const PayloadKey = "slack"

// Origin is the payload's slack object: enough for any replica to update the message.
type Origin struct {
	Channel   string `json:"channel"`
	TS        string `json:"ts"`
	User      string `json:"user"`       // Slack user id of the requester
	Login     string `json:"login"`      // their GitHub login
	TriggerID string `json:"trigger_id"` // the command's, so a replayed or retried command deploys once
	// MAC binds the message to the repository (originMAC): anyone who may create deployments
	// there writes payloads too, and must not point the server at another repository's message.
	MAC string `json:"mac"`
}

// originMAC is HMAC-SHA256 of the repository and the message under a key derived from the
// server's secret. A payload naming a message without it (or copied from another repository)
// updates nothing.
func (o *Ops) originMAC(fullRepo, channel, ts string) string {
	k := hmac.New(sha256.New, []byte(o.Secret))
	k.Write([]byte("deployment-action slack origin v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(strings.ToLower(fullRepo) + "\n" + channel + "\n" + ts))
	return hex.EncodeToString(m.Sum(nil))
}

// verifiedOrigin is the payload's slack object when its MAC is this server's for the repository.
func (o *Ops) verifiedOrigin(fullRepo string, payload json.RawMessage) (Origin, bool) {
	org, ok := originOf(payload)
	if !ok || o.Secret == "" || !hmac.Equal([]byte(org.MAC), []byte(o.originMAC(fullRepo, org.Channel, org.TS))) {
		return Origin{}, false
	}
	return org, true
}

// replayWindow is how far back a command's deployment is looked for before creating one:
// Slack's signature accepts a request for 5 minutes.
const replayWindow = 10 * time.Minute

func effectiveRole(p ghapi.Permission) string { return deploy.EffectiveRole(p) }

// deploy runs the checks, then posts the channel message, then creates the deployment.
func (t *task) deploy(ctx context.Context) {
	api, token, ok := t.client(ctx)
	if !ok {
		return
	}
	sha, ok := t.resolve(ctx, api)
	if !ok {
		return
	}
	env, ok := t.allowed(ctx, api, token)
	if !ok {
		return
	}
	if env.Confirm && !t.confirmed {
		t.askConfirm(ctx, sha)
		return
	}
	if !t.gate(ctx, api, token, env, sha) {
		return
	}
	if dup, err := t.alreadyDeployed(ctx, api); err != nil {
		t.fail(ctx, "look for an earlier run of this command", err)
		return
	} else if dup != nil {
		t.o.Log.Info("slack command already deployed (a retry or a replay)", "trigger", t.r.TriggerID, "deployment", dup.GetID())
		return
	}
	t.start(ctx, api, sha)
}

// resolve turns the ref (default: the default branch's head) into the commit deployed: the
// deployment names that exact commit, the one the checks were read for.
func (t *task) resolve(ctx context.Context, api *ghapi.Client) (string, bool) {
	var sha string
	var err error
	if t.c.Ref == "" {
		sha, err = api.DefaultBranchSHA(ctx, t.owner, t.repo)
	} else {
		sha, err = api.CommitSHA(ctx, t.owner, t.repo, t.c.Ref)
	}
	var ae *ghapi.APIError
	switch {
	case errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusUnprocessableEntity) && t.c.Ref != "":
		hint := ""
		if strings.Contains(t.c.Ref, "/") {
			hint = " A branch name with a slash is fine; check its spelling."
		}
		t.refuse(ctx, "%s has no branch, tag or commit %s.%s", t.full(), code(t.c.Ref), hint)
		return "", false
	case err != nil:
		t.fail(ctx, "resolve "+t.what(), err)
		return "", false
	}
	return sha, true
}

// allowed reads the policy and the requester's role. A bad policy file denies.
func (t *task) allowed(ctx context.Context, api *ghapi.Client, token string) (policy.Environment, bool) {
	p, err := t.o.policies.Load(ctx, policy.HTTPFetcher{BaseURL: t.o.APIURL, Token: token, Client: t.o.HTTP}, t.owner, t.repo)
	var fe *policy.FileError
	switch {
	case errors.As(err, &fe):
		t.refuse(ctx, "%s's %s is invalid, so nothing deploys until it is fixed on the default branch:\n%s", t.full(), policy.Path, escape(fe.Error()))
		return policy.Environment{}, false
	case err != nil:
		t.fail(ctx, "read "+policy.Path, err)
		return policy.Environment{}, false
	}
	env, _ := p.Environment(t.c.Environment)
	role, err := t.role(ctx, api)
	if err != nil {
		t.fail(ctx, "read your role", err)
		return env, false
	}
	if !env.Allows(role) {
		where := "the default"
		if p.Found {
			where = policy.Path
		}
		t.refuse(ctx, "Deploying %s to %s needs the %s role on %s (%s); @%s has %s. A repository admin can raise it (Settings → Collaborators and teams).",
			t.full(), code(t.c.Environment), env.AllowedPermission, t.full(), where, escape(t.login), role)
		return env, false
	}
	return env, true
}

// gate applies the rules PR-comment deploys and the protection rule apply (gate.Decide): deploy
// windows and freezes, locks, checks (always required here, as the checks gate is for PR
// comments), and after:/soak. A soak still running refuses with the time to come back.
func (t *task) gate(ctx context.Context, api *ghapi.Client, token string, env policy.Environment, sha string) bool {
	env.ChecksRequired = true
	facts := &gate.GitHub{API: api, HTTP: t.o.HTTP, BaseURL: t.o.APIURL, Token: token, Owner: t.owner, Repo: t.repo, Now: t.o.Now}
	v, err := gate.Decide(ctx, facts, t.o.Web, env, gate.Request{Owner: t.owner, Repo: t.repo, Environment: t.c.Environment, SHA: sha, Ref: t.c.Ref, Sender: t.login}, t.o.Now())
	if err != nil {
		t.fail(ctx, "check the deploy's rules", err)
		return false
	}
	switch v.State {
	case gate.Approved:
		return true
	case gate.Pending:
		t.refuse(ctx, "%s Run the command again after %s.", mrkdwn(v.Comment), v.RecheckAt.UTC().Format(time.RFC3339))
	default:
		t.refuse(ctx, "%s", mrkdwn(strings.ReplaceAll(v.Comment, "`/unlock ", "`/deploy unlock ")))
	}
	return false
}

// alreadyDeployed finds a deployment this very command created (a Slack retry, or a replay of
// the signed request within its 5 minutes, on any replica).
func (t *task) alreadyDeployed(ctx context.Context, api *ghapi.Client) (*github.Deployment, error) {
	if t.r.TriggerID == "" {
		return nil, nil
	}
	ds, err := api.FindDeployments(ctx, t.owner, t.repo, &github.DeploymentsListOptions{Environment: t.c.Environment}, t.o.Now().Add(-replayWindow))
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if o, ok := originOf(d.Payload); ok && o.TriggerID == t.r.TriggerID {
			return d, nil
		}
	}
	return nil, nil
}

// originOf reads a deployment payload's slack object.
func originOf(payload json.RawMessage) (Origin, bool) {
	var p map[string]json.RawMessage
	if json.Unmarshal(payload, &p) != nil || p[PayloadKey] == nil {
		return Origin{}, false
	}
	var o Origin
	if json.Unmarshal(p[PayloadKey], &o) != nil || o.Channel == "" || o.TS == "" {
		return Origin{}, false
	}
	return o, true
}

// start posts the channel message, then creates the deployment naming it.
func (t *task) start(ctx context.Context, api *ghapi.Client, sha string) {
	v := view{Owner: t.owner, Repo: t.repo, Web: t.o.Web, SHA: sha, Ref: t.c.Ref, Environment: t.c.Environment, User: t.r.UserID}
	ts, err := t.o.Slack.Post(ctx, t.r.ChannelID, v.message("starting"))
	if err != nil {
		t.fail(ctx, "post to this channel (is the App's bot in it? `/invite @<bot>`)", err)
		return
	}
	t.respond(ctx, Message{Text: fmt.Sprintf("Deploying %s to %s: follow it in the channel.", t.what(), code(t.c.Environment))})
	d := &deploy.Deployer{API: api, Owner: t.owner, Repo: t.repo, Now: t.o.Now}
	desc := "Deploy from Slack by @" + t.login
	dep, err := d.Create(ctx, deploy.CreateSpec{
		Ref: sha, Task: "deploy", Environment: t.c.Environment, Description: desc,
		Payload: map[string]any{PayloadKey: Origin{Channel: t.r.ChannelID, TS: ts, User: t.r.UserID, Login: t.login, TriggerID: t.r.TriggerID,
			MAC: t.o.originMAC(t.full(), t.r.ChannelID, ts)}, "ref": t.c.Ref},
		RequestID: deploy.NewRequestID(),
	})
	if err != nil {
		v.Error = err.Error()
		t.o.Log.Error("slack deploy: create failed", "repository", t.full(), "environment", t.c.Environment, "err", err)
		if uerr := t.o.Slack.Update(ctx, t.r.ChannelID, ts, v.message("create_failed")); uerr != nil {
			t.o.Log.Error("slack update failed", "err", uerr)
		}
		return
	}
	v.ID = dep.GetID()
	t.o.Log.Info("slack deploy: deployment created", "repository", t.full(), "environment", t.c.Environment, "deployment", v.ID, "sha", sha, "login", t.login)
	// A fast workflow may have reported (and its webhook updated the message) already: then
	// the message is left to the webhooks, never set back to "waiting".
	if st, err := t.o.newestStatus(ctx, t.owner, t.repo, v.ID); err != nil || st != nil {
		return
	}
	if err := t.o.Slack.Update(ctx, t.r.ChannelID, ts, v.message("")); err != nil {
		t.o.Log.Error("slack update failed", "err", err)
	}
}

// askConfirm answers with the buttons; the click comes back to Interaction.
func (t *task) askConfirm(ctx context.Context, sha string) {
	val, _ := json.Marshal(confirmValue{Repo: t.full(), Ref: t.c.Ref, SHA: sha, Environment: t.c.Environment, User: t.r.UserID, Trigger: t.r.TriggerID})
	text := fmt.Sprintf("Deploy %s (%s) to %s? %s asks for a confirmation.", t.what(), deploy.ShortSHA(sha), code(t.c.Environment), policy.Path)
	yes := slack.NewButtonBlockElement(actionConfirm, string(val), slack.NewTextBlockObject(slack.PlainTextType, "Deploy", false, false))
	yes.Style = slack.StylePrimary
	no := slack.NewButtonBlockElement(actionCancel, string(val), slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false))
	t.respond(ctx, Message{Text: text, Blocks: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
		slack.NewActionBlock("deploy_confirm", yes, no),
	}})
}

var mdLink = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)

// mrkdwn turns the gate's GitHub-markdown comment into Slack mrkdwn (links, bold).
func mrkdwn(s string) string {
	// The gate made user-written parts inert already (inert: no mentions, < > as entities).
	s = strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
	s = mdLink.ReplaceAllString(s, "<$2|$1>")
	return strings.ReplaceAll(s, "**", "*")
}
