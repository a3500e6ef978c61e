package slackops

import (
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

// The channel message in each state, the thread replies, and a gate comment in Slack's mrkdwn.
func TestRenderedMessages(t *testing.T) {
	t.Parallel()
	v := view{Owner: "acme", Repo: "shop", Web: "https://github.com", SHA: "124531131b4d24bdf8219025d4ed2e67076f9910", Ref: "main",
		Environment: "production", User: "U0WRITER", ID: 1008}
	var b strings.Builder
	add := func(name string, m Message) { b.WriteString("## " + name + "\n" + m.Text + "\n\n") }
	add("starting", v.message("starting"))
	e := v
	e.Error = "GitHub answered 409: <conflict> & more"
	add("create failed", e.message("create_failed"))
	add("created", v.message(""))
	for _, st := range []string{"in_progress", "success", "failure", "inactive"} {
		s := v
		s.State, s.LogURL = st, "https://ci.example/run/1"
		if st == "success" {
			s.EnvironmentURL = "https://shop.example.com"
		}
		add(st, s.message(""))
		if final(st) {
			add(st+" thread reply", s.reply())
		}
	}
	add("gate comment", Message{Text: mrkdwn("production is locked by @\u200bmona: &lt;!channel&gt;. Checks of [1245311](https://github.com/acme/shop/commit/1245) failed: [lint](https://ci/1) (**required**).")})
	add("user text", Message{Text: "ref " + code("<!channel> `x`") + ", reason " + escape("<@U123> & co")})
	testkit.Golden(t, "testdata/slack/messages.golden", b.String())
}
