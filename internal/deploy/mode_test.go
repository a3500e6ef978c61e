package deploy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/deployment-action/deployment-action/internal/ghapi"
)

// TestModeCommandsReadTheirFlags: every flag of a mode's CLI command is an input the mode reads,
// so no flag is silently dropped by validation; names are unique, and every text names the
// binary through {bin} only.
func TestModeCommandsReadTheirFlags(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, m := range Modes() {
		c := m.CLI
		if c == nil {
			continue
		}
		for _, name := range []string{c.Name, c.Alias} {
			if name == "" {
				continue
			}
			if other, dup := seen[name]; dup {
				t.Errorf("command name %q of mode %s is also mode %s's", name, m.Name, other)
			}
			seen[name] = m.Name
		}
		if c.Short == "" || c.Long == "" || !strings.Contains(c.Usage, "{bin} "+c.Name) || !strings.Contains(c.Examples, "{bin} ") {
			t.Errorf("mode %s: command %s lacks a short or long text, a usage naming it, or an example", m.Name, c.Name)
		}
		for _, f := range c.Flags {
			if !m.Reads(f.Name) {
				t.Errorf("mode %s: flag --%s is not an input the mode reads", m.Name, f.Name)
			}
			if (f.Required || f.Env != "") && f.Why == "" {
				t.Errorf("mode %s: flag --%s can be missing but has no Why for the message", m.Name, f.Name)
			}
		}
	}
	if len(seen) == 0 {
		t.Fatal("no mode has a CLI command")
	}
}

// TestFinishCommandTakesFinalStatesOnly: finish's command refuses the states status sets.
func TestFinishCommandTakesFinalStatesOnly(t *testing.T) {
	t.Parallel()
	check := mustMode("finish").CLI.Check
	for st, refused := range map[string]bool{"in_progress": true, "queued": true, "pending": true, "success": false, "failure": false, "": false} {
		msg := check(func(name string) string {
			if name == "state" {
				return st
			}
			return ""
		})
		if (msg != "") != refused {
			t.Errorf("state %q: message %q, want refused %v", st, msg, refused)
		}
	}
}

// TestPostFindsATableOnlyMode: post finishes with the post function of the mode the state names,
// looked up in the Deployer's table, so a mode added there finishes at job end too; a name the
// table lacks is an error.
func TestPostFindsATableOnlyMode(t *testing.T) {
	t.Parallel()
	var ran []string
	extra := Mode{Name: "extra", Post: func(_ *Deployer, _ context.Context, j Job, r *Report) error {
		ran = append(ran, j.State.State(KeyDeploymentID))
		r.State = "success"
		return nil
	}}
	st := mapState{KeyFinish: "extra", KeyDeploymentID: "7"}
	d := &Deployer{API: newFake(), Owner: "o", Repo: "r", Modes: Modes().With(extra)}
	post := settings("auto")
	post.Mode = Finishing()
	rep := stage(t, d, st, StagePost, post)
	if len(ran) != 1 || ran[0] != "7" || rep.Mode.Name != "extra" || rep.State != "success" {
		t.Errorf("post ran %v, report mode %q state %q; want extra's post on deployment 7", ran, rep.Mode.Name, rep.State)
	}
	d.Modes = nil // the product's table: no such mode
	if _, err := d.Stage(context.Background(), Job{Stage: StagePost, Settings: post, State: st}); err == nil || !strings.Contains(err.Error(), `"extra"`) {
		t.Errorf("post with an unknown mode in the state: %v, want an error naming it", err)
	}
}

// TestStateReaders: the repository saved with the deployment, and post's error naming the
// deployment it left unfinished.
func TestStateReaders(t *testing.T) {
	t.Parallel()
	st := mapState{KeyInputs: `{"mode":"auto","repository":"octo/other","environment":"qa"}`, KeyDeploymentID: "42",
		KeyDeploymentURL: "https://api.github.com/repos/octo/other/deployments/42", KeyEnvironment: "qa", KeyState: "in_progress"}
	if got := SavedRepository(st); got != "octo/other" {
		t.Errorf("SavedRepository = %q, want octo/other", got)
	}
	if got := SavedRepository(mapState{KeyInputs: "{not json"}); got != "" {
		t.Errorf("SavedRepository of a broken identity = %q, want empty", got)
	}
	cause := errors.New("token is empty")
	var u *Unfinished
	if err := UnfinishedFrom(st, cause); !errors.As(err, &u) || u.ID != 42 || u.Environment != "qa" || u.State != "in_progress" || !errors.Is(err, cause) {
		t.Errorf("UnfinishedFrom = %#v, want deployment 42 in qa left in_progress, wrapping the cause", err)
	}
	if err := UnfinishedFrom(mapState{}, cause); err != cause {
		t.Errorf("UnfinishedFrom without a deployment = %v, want the cause itself", err)
	}
}

// TestNewClientDecidesFromTheWork: the client's User-Agent and token, and conditional requests
// for a mode that polls only.
func TestNewClientDecidesFromTheWork(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": 1, "environment": "qa"}`))
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		mode        string
		conditional bool
	}{{"wait", true}, {"start", false}} {
		mu.Lock()
		got = nil
		mu.Unlock()
		s := settings(tc.mode)
		s.Token = ghapi.Token("ghs_clientTOKEN")
		c, err := NewClient(s, ClientOptions{APIURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if dep, err := c.GetDeployment(context.Background(), "o", "r", 1); err != nil || dep.GetEnvironment() != "qa" {
				t.Fatalf("%s: GetDeployment = %v, %v", tc.mode, dep, err)
			}
		}
		mu.Lock()
		hs := got
		mu.Unlock()
		if len(hs) != 2 {
			t.Fatalf("%s: %d requests, want 2", tc.mode, len(hs))
		}
		if ua := hs[0].Get("User-Agent"); !strings.HasPrefix(ua, "deployment-action/") {
			t.Errorf("%s: User-Agent %q", tc.mode, ua)
		}
		if a := hs[0].Get("Authorization"); a != "Bearer ghs_clientTOKEN" {
			t.Errorf("%s: the settings' token was not sent (Authorization %q)", tc.mode, a)
		}
		if cond := hs[1].Get("If-None-Match") != ""; cond != tc.conditional {
			t.Errorf("%s: second GET conditional %v, want %v", tc.mode, cond, tc.conditional)
		}
	}
}
