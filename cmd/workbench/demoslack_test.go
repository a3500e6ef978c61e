package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// slackScene runs `workbench demo --json … slack` and returns the slack scene's lines.
func slackScene(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := runDemoForTest(t, append(append([]string{"--json"}, args...), "slack")...)
	if err != nil {
		t.Fatalf("demo %v: %v\n%s", args, err, out)
	}
	var rep struct {
		Scenes []struct {
			Name     string   `json:"name"`
			Lines    []string `json:"lines"`
			Problems []string `json:"problems"`
		} `json:"scenes"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if len(rep.Scenes) != 1 || rep.Scenes[0].Name != "slack" {
		t.Fatalf("scenes %+v, want the slack scene alone", rep.Scenes)
	}
	if len(rep.Scenes[0].Problems) > 0 {
		t.Errorf("problems: %q", rep.Scenes[0].Problems)
	}
	return rep.Scenes[0].Lines
}

// find returns the lines containing every one of subs, in order.
func find(lines []string, subs ...string) []string {
	var out []string
	for _, l := range lines {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// messageVersions are the numbered versions of the channel message the scene prints.
func messageVersions(lines []string) []string {
	var out []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if len(t) > 3 && t[0] >= '1' && t[0] <= '9' && t[1] == '.' {
			out = append(out, t)
		}
	}
	return out
}

// Issue 21's loop: the slash command's message goes from "creating" through "waiting for a
// workflow" and "in progress" (the deployer workflow's first status) to success with the
// environment URL, a thread reply says it is live, and a reader is refused.
func TestDemoSlackLoopReachesSuccess(t *testing.T) {
	lines := slackScene(t, "--environments", "staging")
	text := strings.Join(lines, "\n")
	if len(find(lines, "ack", "Checking octo-org/hello-world (default branch) for `production`")) != 2 {
		t.Errorf("want alice's and rita's immediate acks:\n%s", text)
	}
	vs := messageVersions(lines)
	want := []string{"creating the deployment", "waiting for a workflow `on: deployment`", ":arrows_counterclockwise: in progress", ":white_check_mark: success"}
	if len(vs) != len(want) {
		t.Fatalf("message versions %q, want %d", vs, len(want))
	}
	for i, w := range want {
		if !strings.Contains(vs[i], w) {
			t.Errorf("version %d = %q, want it to say %q", i+1, vs[i], w)
		}
	}
	if last := vs[len(vs)-1]; !strings.Contains(last, "@alice deployed octo-org/hello-world 6dcb09b to *production*") || !strings.Contains(last, "https://production.example.com") {
		t.Errorf("final version %q: want alice's deploy of main's head with the environment URL", last)
	}
	if len(find(lines, "thread reply:", "@alice 6dcb09b is live in *production*: https://production.example.com")) != 1 {
		t.Errorf("no thread reply saying it is live:\n%s", text)
	}
	if len(find(lines, "deployer job success", "deploy step success", "the message meanwhile: :arrows_counterclockwise: in progress", "status success, environment-url https://production.example.com")) != 1 {
		t.Errorf("the workflow on: deployment's line:\n%s", text)
	}
	if len(find(lines, "created by deploy-bot[bot]")) != 1 {
		t.Errorf("the deployment should be the App's:\n%s", text)
	}
	if len(find(lines, "only rita sees", ":no_entry:", "needs the write role", "@rita has read")) != 1 {
		t.Errorf("no refusal for the reader:\n%s", text)
	}
}

// With --fail production the deployer's deploy step fails: the action's failure step reports
// failure, and the message and its thread reply say so, with no environment URL.
func TestDemoSlackLoopShowsAFailedDeploy(t *testing.T) {
	lines := slackScene(t, "--environments", "staging,production", "--fail", "production")
	text := strings.Join(lines, "\n")
	vs := messageVersions(lines)
	if len(vs) != 4 || !strings.Contains(vs[3], "@alice could not deploy") || !strings.Contains(vs[3], ":x: failure") || strings.Contains(vs[3], "example.com") {
		t.Errorf("message versions %q: want the last to show the failure and no environment URL", vs)
	}
	if len(find(lines, "deployer job failure", "deploy step failure", "status failure")) != 1 {
		t.Errorf("the workflow on: deployment's line:\n%s", text)
	}
	if len(find(lines, "thread reply:", "the deploy of 6dcb09b to *production* ended in failure: see the log")) != 1 {
		t.Errorf("no thread reply saying it failed:\n%s", text)
	}
}
