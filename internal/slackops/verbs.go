package slackops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/lock"
	"github.com/deployment-action/deployment-action/internal/policy"
)

// status answers /deploy status <environment>: the live deployment, by latest's rule.
func (t *task) status(ctx context.Context) {
	api, _, ok := t.client(ctx)
	if !ok {
		return
	}
	// Reading needs read access, as on GitHub; the App could read more than the requester may.
	if role, err := t.role(ctx, api); err != nil {
		t.fail(ctx, "read your role", err)
		return
	} else if role == "none" {
		t.refuse(ctx, "@%s has no access to %s.", escape(t.login), t.full())
		return
	}
	d := &deploy.Deployer{API: api, Owner: t.owner, Repo: t.repo, Now: t.o.Now}
	live, _, err := d.Live(ctx, t.c.Environment, "")
	if err != nil {
		t.fail(ctx, "read the deployments of "+code(t.c.Environment), err)
		return
	}
	if live == nil {
		t.respond(ctx, Message{Text: fmt.Sprintf("Nothing is live in %s of %s: no deployment there has ended success (or every one was replaced).", code(t.c.Environment), t.full())})
		return
	}
	v := view{Owner: t.owner, Repo: t.repo, Web: t.o.Web, SHA: live.SHA, Ref: live.Ref, Environment: live.Environment, ID: live.ID}
	s := fmt.Sprintf("Live in *%s* of %s: %s, %s since %s (by %s)", escape(live.Environment), v.repoLink(), v.commitLink(), v.pageLink(),
		live.StatusAt.UTC().Format(time.RFC3339), escape(live.Creator))
	if live.EnvironmentURL != "" {
		s += fmt.Sprintf(" · <%s|%s>", live.EnvironmentURL, escape(live.EnvironmentURL))
	}
	t.respond(ctx, Message{Text: s})
}

// locks answers lock, unlock and locks with the lock store the PR comments use.
func (t *task) locks(ctx context.Context) {
	api, token, ok := t.client(ctx)
	if !ok {
		return
	}
	p, err := t.o.policies.Load(ctx, policy.HTTPFetcher{BaseURL: t.o.APIURL, Token: token, Client: t.o.HTTP}, t.owner, t.repo)
	var fe *policy.FileError
	if errors.As(err, &fe) {
		t.refuse(ctx, "%s's %s is invalid: %s", t.full(), policy.Path, escape(fe.Error()))
		return
	} else if err != nil {
		t.fail(ctx, "read "+policy.Path, err)
		return
	}
	env, _ := p.Environment(t.c.Environment)
	role, err := t.role(ctx, api)
	if err != nil {
		t.fail(ctx, "read your role", err)
		return
	}
	// Locking is deploying's business: the role that may deploy there may lock it. Listing
	// needs read access.
	if t.c.Verb == VerbLocks {
		if role == "none" {
			t.refuse(ctx, "@%s has no access to %s.", escape(t.login), t.full())
			return
		}
	} else if !env.Allows(role) {
		t.refuse(ctx, "Locking %s of %s needs the %s role; @%s has %s.", code(t.c.Environment), t.full(), env.AllowedPermission, escape(t.login), role)
		return
	}
	store := lock.New(api, t.owner, t.repo, t.o.Now)
	switch t.c.Verb {
	case VerbLock:
		l := lock.Lock{Environment: t.c.Environment, Holder: t.login, Reason: t.c.Reason, Created: t.o.Now(), Source: lock.SourceSlack}
		if t.c.Duration > 0 {
			l.Expires = l.Created.Add(t.c.Duration)
		}
		won, holder, err := store.Acquire(ctx, l)
		switch {
		case err != nil:
			t.fail(ctx, "lock "+code(t.c.Environment), err)
		case !won:
			t.refuse(ctx, "%s is locked by @%s since %s%s. They can unlock it with `/deploy unlock %s`.", code(holder.Environment), escape(holder.Holder),
				holder.Created.UTC().Format(time.RFC3339), reasonOf(holder), escape(holder.Environment))
		default:
			until := "until unlocked"
			if !l.Expires.IsZero() {
				until = "until " + l.Expires.UTC().Format(time.RFC3339)
			}
			t.respond(ctx, Message{InChannel: true, Text: fmt.Sprintf(":lock: <@%s> locked %s of %s %s%s. Deploys there by anyone else are refused.",
				t.r.UserID, code(t.c.Environment), t.full(), until, reasonOf(l))})
		}
	case VerbUnlock:
		force := deploy.RoleAtLeast(role, "maintain")
		l, err := store.Release(ctx, t.c.Environment, t.login, force)
		var held *lock.HeldError
		var none *lock.NotHeldError
		switch {
		case errors.As(err, &held):
			t.refuse(ctx, "%s is locked by @%s%s: only they, or a maintainer or admin, can unlock it.", code(held.Lock.Environment), escape(held.Lock.Holder), reasonOf(held.Lock))
		case errors.As(err, &none):
			t.respond(ctx, Message{Text: escape(none.Error()) + "."})
		case err != nil:
			t.fail(ctx, "unlock "+code(t.c.Environment), err)
		default:
			t.respond(ctx, Message{InChannel: true, Text: fmt.Sprintf(":unlock: <@%s> unlocked %s of %s (held by @%s since %s).", t.r.UserID, code(l.Environment), t.full(), escape(l.Holder), l.Created.UTC().Format(time.RFC3339))})
		}
	case VerbLocks:
		ls, err := store.List(ctx)
		if err != nil {
			t.fail(ctx, "list the locks", err)
			return
		}
		if len(ls) == 0 {
			t.respond(ctx, Message{Text: fmt.Sprintf("No environment of %s is locked.", t.full())})
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Locks of %s:", t.full())
		for _, l := range ls {
			fmt.Fprintf(&b, "\n• %s by @%s since %s", code(l.Environment), escape(l.Holder), l.Created.UTC().Format(time.RFC3339))
			if !l.Expires.IsZero() {
				fmt.Fprintf(&b, ", until %s", l.Expires.UTC().Format(time.RFC3339))
			}
			b.WriteString(reasonOf(l))
		}
		t.respond(ctx, Message{Text: b.String()})
	}
}

func reasonOf(l lock.Lock) string {
	if l.Reason == "" {
		return ""
	}
	return ": " + escape(l.Reason)
}

// Buttons of a confirmation.
const (
	actionConfirm = "deploy_confirm_yes"
	actionCancel  = "deploy_confirm_no"
)

// confirmValue is what a confirmation button carries (Slack signs the click; everything is
// checked again when it comes back).
type confirmValue struct {
	Repo        string `json:"repo"`
	Ref         string `json:"ref,omitempty"`
	SHA         string `json:"sha"`
	Environment string `json:"env"`
	User        string `json:"user"`
	Trigger     string `json:"trigger"`
}

// interaction is the block_actions payload's fields used here.
type interaction struct {
	Type string `json:"type"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		ChannelID string `json:"channel_id"`
	} `json:"container"`
	ResponseURL string `json:"response_url"`
	TriggerID   string `json:"trigger_id"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
	} `json:"actions"`
}

// Interaction reads a button click (the payload field of a verified request).
func (o *Ops) Interaction(payload []byte) (Reply, Work) {
	o.init()
	var in interaction
	if err := json.Unmarshal(payload, &in); err != nil || in.Type != "block_actions" || len(in.Actions) == 0 {
		return Reply{}, nil
	}
	a := in.Actions[0]
	if a.ActionID != actionConfirm && a.ActionID != actionCancel {
		return Reply{}, nil
	}
	var cv confirmValue
	if json.Unmarshal([]byte(a.Value), &cv) != nil {
		return Reply{}, nil
	}
	owner, repo, ok := strings.Cut(cv.Repo, "/")
	if !ok {
		return Reply{}, nil
	}
	channel := in.Container.ChannelID
	if channel == "" {
		channel = in.Channel.ID
	}
	r := Request{ChannelID: channel, UserID: in.User.ID, ResponseURL: in.ResponseURL, TriggerID: cv.Trigger}
	t := &task{o: o, r: r, c: Command{Verb: VerbDeploy, Ref: cv.Ref, Environment: cv.Environment}, owner: owner, repo: repo, confirmed: true}
	return Reply{}, func(ctx context.Context) {
		if in.User.ID != cv.User {
			// Someone else clicked a button only the requester should have seen.
			t.o.Log.Warn("slack confirmation clicked by another user", "user", in.User.ID, "requester", cv.User)
			return
		}
		if a.ActionID == actionCancel {
			t.respond(ctx, Message{Text: fmt.Sprintf("Cancelled: %s was not deployed to %s.", t.what(), code(cv.Environment))})
			return
		}
		login, ok := o.Directory.Users[in.User.ID]
		if !ok {
			t.refuse(ctx, "Your Slack account (%s) is no longer mapped to a GitHub login.", in.User.ID)
			return
		}
		t.login = login
		t.confirmedDeploy(ctx, cv.SHA)
	}
}

// confirmedDeploy deploys the commit the confirmation showed, after checking everything again
// (the role, the policy, the lock and the checks may have changed since the question).
func (t *task) confirmedDeploy(ctx context.Context, sha string) {
	api, token, ok := t.client(ctx)
	if !ok {
		return
	}
	env, ok := t.allowed(ctx, api, token)
	if !ok || !t.gate(ctx, api, token, env, sha) {
		return
	}
	if dup, err := t.alreadyDeployed(ctx, api); err != nil {
		t.fail(ctx, "look for an earlier run of this command", err)
		return
	} else if dup != nil {
		return
	}
	t.start(ctx, api, sha)
}
