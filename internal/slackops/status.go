package slackops

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/gate"
)

// view is everything the channel message shows; it is rebuilt from GitHub on every update.
type view struct {
	Owner, Repo, Web string
	SHA, Ref         string
	Environment      string
	User             string // Slack user id
	ID               int64  // 0 until created
	State            string // latest status; "" = none yet
	Description      string
	EnvironmentURL   string
	LogURL           string
	Error            string // the create failed
}

func (v view) repoLink() string {
	return fmt.Sprintf("<%s/%s/%s|%s/%s>", v.Web, v.Owner, v.Repo, v.Owner, v.Repo)
}

func (v view) commitLink() string {
	s := fmt.Sprintf("<%s/%s/%s/commit/%s|%s>", v.Web, v.Owner, v.Repo, v.SHA, deploy.ShortSHA(v.SHA))
	if v.Ref != "" && !strings.HasPrefix(strings.ToLower(v.SHA), strings.ToLower(v.Ref)) {
		s += " (" + code(v.Ref) + ")"
	}
	return s
}

func (v view) pageLink() string {
	return fmt.Sprintf("<%s/%s/%s/deployments/%s|deployment %d>", v.Web, v.Owner, v.Repo, url.PathEscape(v.Environment), v.ID)
}

// stateLine is the message's second line for a state.
var stateLines = map[string]string{
	"queued":      ":hourglass_flowing_sand: queued",
	"pending":     ":hourglass_flowing_sand: pending",
	"in_progress": ":arrows_counterclockwise: in progress",
	"success":     ":white_check_mark: success",
	"failure":     ":x: failure",
	"error":       ":x: error",
	"inactive":    ":zzz: inactive (replaced by a later deployment)",
}

// final reports whether a state ends a deploy (a thread reply says so).
func final(state string) bool { return state == "success" || state == "failure" || state == "error" }

// message renders the channel message. phase "starting": before the deployment exists;
// "create_failed": it could not be created.
func (v view) message(phase string) Message {
	verb := "is deploying"
	switch v.State {
	case "success", "inactive":
		verb = "deployed"
	case "failure", "error":
		verb = "could not deploy"
	}
	head := fmt.Sprintf("<@%s> %s %s %s to *%s*", v.User, verb, v.repoLink(), v.commitLink(), escape(v.Environment))
	var line string
	switch {
	case phase == "starting":
		line = ":hourglass_flowing_sand: creating the deployment…"
	case phase == "create_failed":
		line = ":x: GitHub did not create the deployment: " + escape(v.Error)
	case v.State == "":
		line = ":hourglass_flowing_sand: created, waiting for a workflow `on: deployment` to pick it up · " + v.pageLink()
	default:
		line = stateLines[v.State]
		if line == "" {
			line = escape(v.State)
		}
		line += " · " + v.pageLink()
		if v.EnvironmentURL != "" {
			line += fmt.Sprintf(" · <%s|%s>", v.EnvironmentURL, escape(v.EnvironmentURL))
		}
		if v.LogURL != "" {
			line += fmt.Sprintf(" · <%s|log>", v.LogURL)
		}
		if v.Description != "" {
			line += "\n> " + escape(v.Description)
		}
	}
	return Message{Text: head + "\n" + line}
}

// reply is the thread reply on a final state.
func (v view) reply() Message {
	switch v.State {
	case "success":
		s := fmt.Sprintf(":white_check_mark: <@%s> %s is live in *%s*", v.User, deploy.ShortSHA(v.SHA), escape(v.Environment))
		if v.EnvironmentURL != "" {
			s += fmt.Sprintf(": <%s|%s>", v.EnvironmentURL, escape(v.EnvironmentURL))
		}
		return Message{Text: s}
	default:
		s := fmt.Sprintf(":x: <@%s> the deploy of %s to *%s* ended in %s", v.User, deploy.ShortSHA(v.SHA), escape(v.Environment), v.State)
		if v.LogURL != "" {
			s += fmt.Sprintf(": <%s|see the log>", v.LogURL)
		}
		return Message{Text: s}
	}
}

// statusEvent is the deployment_status webhook's fields used here.
type statusEvent struct {
	Status struct {
		ID             int64  `json:"id"`
		State          string `json:"state"`
		Description    string `json:"description"`
		EnvironmentURL string `json:"environment_url"`
		LogURL         string `json:"log_url"`
		TargetURL      string `json:"target_url"`
	} `json:"deployment_status"`
	Deployment struct {
		ID          int64           `json:"id"`
		SHA         string          `json:"sha"`
		Ref         string          `json:"ref"`
		Environment string          `json:"environment"`
		Payload     json.RawMessage `json:"payload"`
	} `json:"deployment"`
	Repository struct {
		Name  string `json:"name"`
		Owner struct {
			Login string `json:"login"`
		} `json:"owner"`
	} `json:"repository"`
}

// HandleStatus is the deployment_status webhook (a verified body): it updates the Slack message
// named in the deployment's payload and, on a final state, replies in its thread. Deployments
// not started from Slack are ignored. Webhooks may arrive out of order, so the message shows
// the deployment's newest status as GitHub has it now, and the thread reply is made only for
// the status that is the newest.
func (o *Ops) HandleStatus(ctx context.Context, body []byte) error {
	_, err := o.handleStatus(ctx, body, true)
	return err
}

// handleStatus updates the message of a deployment_status payload and, when reply, replies in
// its thread on a final state. It returns the deployment (0 when it was not started from Slack).
func (o *Ops) handleStatus(ctx context.Context, body []byte, reply bool) (int64, error) {
	o.init()
	var ev statusEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return 0, fmt.Errorf("deployment_status payload: %w", err)
	}
	owner, repo := ev.Repository.Owner.Login, ev.Repository.Name
	origin, ok := o.verifiedOrigin(owner+"/"+repo, ev.Deployment.Payload)
	if !ok {
		if _, named := originOf(ev.Deployment.Payload); named {
			o.Log.Warn("deployment_status names a Slack message this server did not start: ignored", "repository", owner+"/"+repo, "deployment", ev.Deployment.ID)
		}
		return 0, nil
	}
	var ref string
	var p map[string]any
	if json.Unmarshal(ev.Deployment.Payload, &p) == nil {
		ref, _ = p["ref"].(string)
	}
	v := view{Owner: owner, Repo: repo, Web: o.Web, SHA: ev.Deployment.SHA, Ref: ref, Environment: ev.Deployment.Environment, User: origin.User, ID: ev.Deployment.ID,
		State: ev.Status.State, Description: ev.Status.Description, EnvironmentURL: ev.Status.EnvironmentURL, LogURL: ev.Status.LogURL}
	if v.LogURL == "" {
		v.LogURL = ev.Status.TargetURL
	}
	newest, err := o.newestStatus(ctx, owner, repo, ev.Deployment.ID)
	if err != nil {
		return v.ID, err
	}
	isNewest := newest == nil || newest.GetID() <= ev.Status.ID
	if !isNewest {
		v.State, v.Description, v.EnvironmentURL, v.LogURL = newest.GetState(), newest.GetDescription(), newest.GetEnvironmentURL(), newest.GetLogURL()
	}
	if err := o.Slack.Update(ctx, origin.Channel, origin.TS, v.message("")); err != nil {
		return v.ID, err
	}
	if reply && isNewest && final(v.State) {
		m := v.reply()
		m.ThreadTS = origin.TS
		if _, err := o.Slack.Post(ctx, origin.Channel, m); err != nil {
			return v.ID, err
		}
	}
	return v.ID, nil
}

// DeliveryLog is the App's delivery log, with GitHub's redelivery (internal/ghapp).
type DeliveryLog interface {
	gate.DeliveryLog
	// Redeliver asks GitHub to send a delivery again (POST /app/hook/deliveries/{id}/attempts).
	Redeliver(ctx context.Context, id int64) error
}

// RecoverWindow is how far back Recover reads the App's delivery log at start: a process
// killed between answering a deployment_status delivery and updating Slack, or down while one
// was sent, is back well within it.
const RecoverWindow = 15 * time.Minute

// Recover brings the Slack messages of recent deployments up to date after a start, from the
// App's delivery log: for each deployment with a deployment_status delivery since since, the
// message shows its newest status again (chat.update is idempotent, and no thread reply is
// posted: one may have been). A newest status whose delivery never reached a server is
// redelivered by GitHub instead, so it is handled, thread reply included, once. It returns how
// many messages it updated or had redelivered.
func (o *Ops) Recover(ctx context.Context, log DeliveryLog, since time.Time) (int, error) {
	// Deliveries are logged as they were sent, not in the order of their statuses: the newest
	// status of each deployment is found by its id.
	type newest struct {
		body       []byte
		statusID   int64
		failed     bool
		deliveryID int64
	}
	latest := map[string]*newest{} // owner/repo#deployment
	var order []string
	seen := map[string]bool{}
	err := walkDeliveries(ctx, log, since, func(d gate.Delivery) error {
		if d.Event != "deployment_status" || seen[d.GUID] {
			return nil
		}
		seen[d.GUID] = true
		body, err := log.Payload(ctx, d.ID)
		if err != nil {
			return err
		}
		var ev statusEvent
		if json.Unmarshal(body, &ev) != nil {
			return nil
		}
		key := fmt.Sprintf("%s/%s#%d", ev.Repository.Owner.Login, ev.Repository.Name, ev.Deployment.ID)
		failed := d.StatusCode < 200 || d.StatusCode > 299
		switch cur := latest[key]; {
		case cur == nil:
			latest[key] = &newest{body: body, statusID: ev.Status.ID, failed: failed, deliveryID: d.ID}
			order = append(order, key)
		case ev.Status.ID > cur.statusID:
			*cur = newest{body: body, statusID: ev.Status.ID, failed: failed, deliveryID: d.ID}
		case ev.Status.ID == cur.statusID:
			cur.failed = cur.failed && failed // a redelivery of it that got through
		}
		return nil
	})
	n := 0
	for _, key := range order {
		l := latest[key]
		if l.failed {
			// No server took it: GitHub sends it again, and whichever replica gets it updates
			// the message and replies, once; the log then shows it delivered, so a later
			// start leaves it alone.
			if rerr := log.Redeliver(ctx, l.deliveryID); rerr != nil {
				o.Log.Warn("slack recovery: redelivery refused", "deployment", key, "err", rerr)
			} else {
				n++
			}
			continue
		}
		id, herr := o.handleStatus(ctx, l.body, false)
		if herr != nil {
			o.Log.Warn("slack recovery: a message could not be updated", "deployment", key, "err", herr)
			continue
		}
		if id != 0 {
			n++
		}
	}
	return n, err
}

// walkDeliveries hands every delivery of the log since since to visit, newest first.
func walkDeliveries(ctx context.Context, log gate.DeliveryLog, since time.Time, visit func(gate.Delivery) error) error {
	cursor := ""
	for {
		page, next, err := log.Deliveries(ctx, cursor)
		if err != nil {
			return err
		}
		for _, d := range page {
			if d.DeliveredAt.Before(since) {
				return nil
			}
			if err := visit(d); err != nil {
				return err
			}
		}
		if next == "" || len(page) == 0 {
			return nil
		}
		cursor = next
	}
}

// newestStatus is the deployment's latest status now (nil when it has none).
func (o *Ops) newestStatus(ctx context.Context, owner, repo string, id int64) (*github.DeploymentStatus, error) {
	tok, err := o.GitHub.InstallationToken(ctx, owner, repo)
	if err != nil {
		return nil, err
	}
	api, err := deploy.NewClient(nil, deploy.ClientOptions{Token: tok.Value, APIURL: o.APIURL, HTTPClient: o.HTTP})
	if err != nil {
		return nil, err
	}
	ss, _, err := api.ListDeploymentStatuses(ctx, owner, repo, id, &github.ListOptions{PerPage: 1})
	if err != nil || len(ss) == 0 {
		return nil, err
	}
	return ss[0], nil
}
