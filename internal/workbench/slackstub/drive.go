package slackstub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AckTimeout is how long Slack waits for a slash command or an interaction to be
// acknowledged before it shows the user a timeout.
const AckTimeout = 3 * time.Second

// ErrNoAck is returned (wrapped) when the target did not answer within the ack timeout.
var ErrNoAck = errors.New("slackstub: no acknowledgement in time")

// Sign is Slack's request signature: "v0=" + hex HMAC-SHA256(secret, "v0:<ts>:<body>"),
// sent in X-Slack-Signature with ts in X-Slack-Request-Timestamp.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Command is a slash command as a user types it.
type Command struct {
	TeamID      string // TeamID when empty
	ChannelID   string
	ChannelName string
	UserID      string
	UserName    string
	Command     string // "/deploy" when empty
	Text        string
	// ResponseURL and TriggerID are fresh ones when empty.
	ResponseURL string
	TriggerID   string
}

// Action is one element of a block_actions interaction (a button press).
type Action struct {
	ActionID string
	BlockID  string
	Value    string
	Type     string // "button" when empty
}

// BlockActions is an interaction with a message's interactive blocks.
type BlockActions struct {
	TeamID    string // TeamID when empty
	UserID    string
	UserName  string
	ChannelID string
	// MessageTS is the message the buttons are on (container.message_ts).
	MessageTS string
	Actions   []Action
	// ResponseURL and TriggerID are fresh ones when empty; a fresh response URL belongs to
	// the message, for replace_original and delete_original.
	ResponseURL string
	TriggerID   string
}

// CallOption changes how SlashCommand or Interaction sends, for tests of refusals.
type CallOption func(*callOptions)

type callOptions struct {
	ts          *int64
	age         time.Duration
	secret      *string
	signature   *string
	unsigned    bool
	retryNum    int
	retryReason string
	ackTimeout  time.Duration
}

// WithTimestamp sends (and signs) ts as X-Slack-Request-Timestamp instead of Now.
func WithTimestamp(ts int64) CallOption { return func(o *callOptions) { o.ts = &ts } }

// WithAge sends a timestamp d before Now, signed correctly: a replay of an old request.
func WithAge(d time.Duration) CallOption { return func(o *callOptions) { o.age = d } }

// WithSecret signs with secret instead of Config.SigningSecret.
func WithSecret(secret string) CallOption { return func(o *callOptions) { o.secret = &secret } }

// WithSignature sends sig as X-Slack-Signature, whatever the body.
func WithSignature(sig string) CallOption { return func(o *callOptions) { o.signature = &sig } }

// WithoutSignature sends neither X-Slack-Signature nor X-Slack-Request-Timestamp.
func WithoutSignature() CallOption { return func(o *callOptions) { o.unsigned = true } }

// WithRetry marks the request as Slack's retry number n (X-Slack-Retry-Num, with
// X-Slack-Retry-Reason reason, "http_timeout" when empty).
func WithRetry(n int, reason string) CallOption {
	return func(o *callOptions) {
		if reason == "" {
			reason = "http_timeout"
		}
		o.retryNum, o.retryReason = n, reason
	}
}

// WithAckTimeout waits d for the answer instead of AckTimeout; 0 waits as long as ctx lets.
func WithAckTimeout(d time.Duration) CallOption { return func(o *callOptions) { o.ackTimeout = d } }

// SlashCommand posts c to target (a slash command's request URL) as Slack does: form-encoded,
// signed, with a response URL, a trigger id and the app id. It answers the HTTP status and
// body; an error only when no answer came (ErrNoAck after AckTimeout).
func (s *Slack) SlashCommand(ctx context.Context, target string, c Command, opts ...CallOption) (status int, body []byte, err error) {
	if c.TeamID == "" {
		c.TeamID = TeamID
	}
	if c.Command == "" {
		c.Command = "/deploy"
	}
	if c.ResponseURL == "" {
		c.ResponseURL = s.newResponseURL(c.ChannelID, c.UserID, "")
	}
	if c.TriggerID == "" {
		c.TriggerID = s.triggerID()
	}
	form := url.Values{
		"token":                 {"deprecated-verification-token"}, // Slack still sends it; never trust it
		"team_id":               {c.TeamID},
		"team_domain":           {TeamDomain},
		"channel_id":            {c.ChannelID},
		"channel_name":          {c.ChannelName},
		"user_id":               {c.UserID},
		"user_name":             {c.UserName},
		"command":               {c.Command},
		"text":                  {c.Text},
		"api_app_id":            {AppID},
		"is_enterprise_install": {"false"},
		"response_url":          {c.ResponseURL},
		"trigger_id":            {c.TriggerID},
	}
	return s.send(ctx, target, []byte(form.Encode()), opts)
}

// Interaction posts p to target (the app's interactivity request URL) as Slack does: a form
// with one field, payload, holding the block_actions JSON, signed.
func (s *Slack) Interaction(ctx context.Context, target string, p BlockActions, opts ...CallOption) (status int, body []byte, err error) {
	payload, err := s.blockActionsPayload(p)
	if err != nil {
		return 0, nil, err
	}
	form := url.Values{"payload": {string(payload)}}
	return s.send(ctx, target, []byte(form.Encode()), opts)
}

func (s *Slack) blockActionsPayload(p BlockActions) ([]byte, error) {
	if p.TeamID == "" {
		p.TeamID = TeamID
	}
	if p.ResponseURL == "" {
		p.ResponseURL = s.newResponseURL(p.ChannelID, p.UserID, p.MessageTS)
	}
	if p.TriggerID == "" {
		p.TriggerID = s.triggerID()
	}
	s.mu.Lock()
	actionTS := s.nextTSLocked()
	var msg obj
	ephemeral := false
	if m := s.findLocked(p.ChannelID, p.MessageTS); m != nil {
		ephemeral = m.ephemeral
		if !ephemeral {
			msg = messageObj(m)
		}
	}
	s.mu.Unlock()
	actions := make([]obj, 0, len(p.Actions))
	for _, a := range p.Actions {
		if a.Type == "" {
			a.Type = "button"
		}
		actions = append(actions, obj{"action_id": a.ActionID, "block_id": a.BlockID, "value": a.Value,
			"type": a.Type, "action_ts": actionTS})
	}
	payload := obj{
		"type":       "block_actions",
		"team":       obj{"id": p.TeamID, "domain": TeamDomain},
		"user":       obj{"id": p.UserID, "username": p.UserName, "name": p.UserName, "team_id": p.TeamID},
		"api_app_id": AppID,
		"token":      "deprecated-verification-token",
		"container": obj{"type": "message", "message_ts": p.MessageTS, "channel_id": p.ChannelID,
			"is_ephemeral": ephemeral},
		"trigger_id":   p.TriggerID,
		"channel":      obj{"id": p.ChannelID},
		"response_url": p.ResponseURL,
		"actions":      actions,
	}
	if msg != nil {
		payload["message"] = msg
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("slackstub: payload: %w", err)
	}
	return b, nil
}

func (s *Slack) triggerID() string {
	return strconv.FormatInt(s.now().Unix(), 10) + "." + randomHex(4) + "." + randomHex(16)
}

// send posts a signed form to target and reads the answer.
func (s *Slack) send(ctx context.Context, target string, body []byte, opts []CallOption) (int, []byte, error) {
	o := callOptions{ackTimeout: AckTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	ts := s.now().Add(-o.age).Unix()
	if o.ts != nil {
		ts = *o.ts
	}
	secret := s.cfg.SigningSecret
	if o.secret != nil {
		secret = *o.secret
	}
	sig := Sign(secret, ts, body)
	if o.signature != nil {
		sig = *o.signature
	}
	parent := ctx
	if o.ackTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.ackTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(string(body)))
	if err != nil {
		return 0, nil, fmt.Errorf("slackstub: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	if !o.unsigned {
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Slack-Signature", sig)
	}
	if o.retryNum > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(o.retryNum))
		req.Header.Set("X-Slack-Retry-Reason", o.retryReason)
	}
	resp, err := s.client.Do(req)
	if err == nil {
		var b []byte
		b, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err == nil {
			return resp.StatusCode, b, nil
		}
	}
	if parent.Err() == nil && ctx.Err() != nil { // our ack timeout, not the caller's ctx
		return 0, nil, fmt.Errorf("%w (%v): %w", ErrNoAck, o.ackTimeout, err)
	}
	return 0, nil, fmt.Errorf("slackstub: post to %s: %w", target, err)
}
