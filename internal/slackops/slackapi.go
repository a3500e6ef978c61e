package slackops

import (
	"context"
	"fmt"
	"net/http"

	"github.com/slack-go/slack"
)

// Message is one Slack message as this package writes it: mrkdwn text, and blocks when it has
// buttons.
type Message struct {
	Text     string
	Blocks   []slack.Block
	ThreadTS string // a reply in this message's thread
	// Response URL answers only: shown in the channel (default: only the requester sees it), or
	// replacing the message the button was on.
	InChannel, ReplaceOriginal bool
}

// Slack is the Web API calls and response-URL answers the flow makes (slack-go in production;
// tests use the workbench's Slack stand-in through the same client).
type Slack interface {
	Post(ctx context.Context, channel string, m Message) (ts string, err error)
	Update(ctx context.Context, channel, ts string, m Message) error
	Respond(ctx context.Context, responseURL string, m Message) error
}

// WebAPI is Slack over slack-go: chat.postMessage, chat.update and response URLs.
type WebAPI struct{ c *slack.Client }

var _ Slack = (*WebAPI)(nil)

// NewWebAPI talks to apiURL ("" = https://slack.com/api/) with the bot token. The token is never
// logged: slack-go's debug output is off.
func NewWebAPI(token, apiURL string, hc *http.Client) *WebAPI {
	opts := []slack.Option{}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	if hc != nil {
		opts = append(opts, slack.OptionHTTPClient(hc))
	}
	return &WebAPI{c: slack.New(token, opts...)}
}

func (m Message) options() []slack.MsgOption {
	o := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionDisableLinkUnfurl()}
	if len(m.Blocks) > 0 {
		o = append(o, slack.MsgOptionBlocks(m.Blocks...))
	}
	if m.ThreadTS != "" {
		o = append(o, slack.MsgOptionTS(m.ThreadTS))
	}
	return o
}

// Post implements Slack: chat.postMessage.
func (w *WebAPI) Post(ctx context.Context, channel string, m Message) (string, error) {
	_, ts, err := w.c.PostMessageContext(ctx, channel, m.options()...)
	if err != nil {
		return "", fmt.Errorf("slack chat.postMessage to %s: %w", channel, err)
	}
	return ts, nil
}

// Update implements Slack: chat.update.
func (w *WebAPI) Update(ctx context.Context, channel, ts string, m Message) error {
	if _, _, _, err := w.c.UpdateMessageContext(ctx, channel, ts, m.options()...); err != nil {
		return fmt.Errorf("slack chat.update of %s/%s: %w", channel, ts, err)
	}
	return nil
}

// Respond implements Slack: a post to the command's or the button's response URL.
func (w *WebAPI) Respond(ctx context.Context, responseURL string, m Message) error {
	kind := slack.ResponseTypeEphemeral
	if m.InChannel {
		kind = slack.ResponseTypeInChannel
	}
	o := append(m.options(), slack.MsgOptionResponseURL(responseURL, kind))
	if m.ReplaceOriginal {
		o = append(o, slack.MsgOptionReplaceOriginal(responseURL))
	}
	if _, _, err := w.c.PostMessageContext(ctx, "", o...); err != nil {
		return fmt.Errorf("slack response URL: %w", err)
	}
	return nil
}
