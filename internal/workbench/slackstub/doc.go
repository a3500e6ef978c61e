// Package slackstub is a local stand-in for Slack, for the tests and the demo of
// `deployment-action serve`.
//
// It plays both sides of Slack that the server meets:
//
//   - Slack's Web API, at URL() (an address ending in "/api/", what SLACK_API_URL is set to):
//     auth.test, chat.postMessage, chat.update, chat.postEphemeral and chat.getPermalink, with
//     bodies form-encoded (as github.com/slack-go/slack sends them) or JSON, and the bot token
//     taken from "Authorization: Bearer …" or the "token" field. A missing token is answered
//     200 {"ok":false,"error":"not_authed"}, a wrong one "invalid_auth", an unknown method
//     "unknown_method", as Slack does. Every call is counted per method (Calls).
//   - Response URLs (NewResponseURL): each accepts 5 posts within 30 minutes of its creation;
//     a 6th is refused 404 "used_url", a late one 404 "expired_url". Accepted posts are
//     recorded (Responses). A response URL made by Interaction belongs to the message the
//     button was on: replace_original rewrites that message, delete_original removes it.
//   - Slack calling the server: SlashCommand and Interaction send the form Slack sends to a
//     slash command's or an app's interactivity request URL, signed with the signing secret
//     the way Slack signs ("v0=" + hex HMAC-SHA256 of "v0:<timestamp>:<body>", see Sign). Call
//     options send a stale timestamp, a bad signature or a retry header, for replay tests.
//
// What it holds can be read back, safely from any goroutine: Messages, Thread, Ephemerals,
// Responses; WaitFor blocks until a condition over them holds, waking on every change.
//
// What it leaves out: there is one workspace, one bot user and no channel list (any channel id
// is accepted, none has members, so chat.postEphemeral never refuses a user); no scopes, rate
// limits, retries of its own, Events API, Socket Mode, modals (trigger_id is filled but never
// honoured), attachments, message metadata, mrkdwn parsing or block validation beyond "is it
// JSON". Latency (Config.Latency) is real time added to each Web API and response-URL answer.
package slackstub
