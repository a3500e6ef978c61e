package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/gate"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/policy"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// playPromotion is the custom deployment protection rule: a job targeting production waits
// while the commit soaks in staging, and is approved once the soak is over. The gate's clock is
// moved on (10 minutes, then the end of the soak) instead of waiting half an hour.
func playPromotion(ctx context.Context, st *Stage) (*SceneReport, error) {
	r := &SceneReport{}
	if st.succeeded("staging") != "staging" {
		r.line("skipped: staging did not end success")
		return r, nil
	}
	owner, name, _ := strings.Cut(st.Report.Repository, "/")
	em := st.Emulator
	const file = "environments:\n  production:\n    after: {environment: staging, soak: 30m}\n"
	if _, err := em.PutFile(owner, name, "", policy.Path, []byte(file)); err != nil {
		return nil, err
	}
	r.line("%s on the default branch: production after staging, soak 30m", policy.Path)
	api, err := ghapi.New(ghapi.Options{Token: demoToken, APIURL: st.Report.APIURL})
	if err != nil {
		return nil, err
	}
	var clock time.Time
	now := func() time.Time { return clock }
	facts := &gate.GitHub{API: api, BaseURL: st.Report.APIURL, Token: demoToken, Owner: owner, Repo: name, Now: now}
	live, err := facts.Live(ctx, "staging")
	if err != nil || live == nil {
		return nil, fmt.Errorf("staging's live deployment: %v", err)
	}
	runID, ev, err := em.RequestDeployment(owner, name, emulator.ProtectionRequest{Environment: "production", SHA: live.SHA})
	if err != nil {
		return nil, err
	}
	req, _, err := gate.ParseRequest(ev.JSON())
	if err != nil {
		return nil, err
	}
	r.line("a job of run %d targets production with %s: GitHub holds it and sends deployment_protection_rule", runID, deploy.ShortSHA(live.SHA))
	g := &gate.Gate{APIURL: st.Report.APIURL, Policies: &policy.Loader{}, Web: "https://github.com", Now: now}
	fetch := policy.HTTPFetcher{BaseURL: st.Report.APIURL, Token: demoToken}
	for i, at := range []time.Duration{10 * time.Minute, 30 * time.Minute} {
		clock = live.StatusAt.Add(at)
		out, err := g.Handle(ctx, facts, fetch, nil, demoToken, req)
		if err != nil {
			return nil, err
		}
		run, err := em.WorkflowRun(owner, name, runID)
		if err != nil {
			return nil, err
		}
		switch {
		case i == 0 && (out.Verdict.State != gate.Pending || run.Status != "waiting"):
			r.problem("during the soak the gate answered %q (run %s)", out.Verdict.State, run.Status)
		case i == 0:
			r.line("+%s after staging succeeded: no answer yet, the run stays %s; decide again at +%s", at, run.Status, out.Verdict.RecheckAt.Sub(live.StatusAt))
		case run.Answer == nil || run.Answer.State != "approved" || run.Status != "in_progress":
			r.problem("after the soak: %+v, run %s", out.Verdict, run.Status)
		default:
			r.line("+%s: %s, the run is %s; comment: %s", at, run.Answer.State, run.Status, run.Answer.Comment)
		}
	}
	return r, nil
}
