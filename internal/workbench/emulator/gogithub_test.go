package emulator_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

func ghClient(t testing.TB, a *api, enterprise bool) *github.Client {
	if t == nil {
		t = a.t
	}
	t.Helper()
	c := github.NewClient(nil).WithAuthToken("test-token")
	if enterprise {
		var err error
		c, err = c.WithEnterpriseURLs(a.base, a.base)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var err error
	c, err = c.WithEnterpriseURLs(a.base+"/", a.base+"/")
	if err != nil {
		t.Fatal(err)
	}
	// WithEnterpriseURLs adds /api/v3/ when missing; point the plain client at the root.
	u := *c.BaseURL
	u.Path = "/"
	c.BaseURL = &u
	return c
}

func TestGoGitHubCompatibility(t *testing.T) {
	for _, enterprise := range []bool{false, true} {
		name := "root"
		if enterprise {
			name = "api-v3"
		}
		t.Run(name, func(t *testing.T) {
			a := start(t, emulator.Config{})
			gh := ghClient(t, a, enterprise)
			ctx := context.Background()

			d, resp, err := gh.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{
				Ref: github.String("main"), Environment: github.String("staging"),
				Payload: map[string]any{"pr": 7}, RequiredContexts: &[]string{},
			})
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "status", resp.StatusCode, 201)
			eq(t, "env", d.GetEnvironment(), "staging")
			eq(t, "sha", d.GetSHA(), seed.Branches["main"])
			eq(t, "creator", d.GetCreator().GetLogin(), "github-actions[bot]")

			st, _, err := gh.Repositories.CreateDeploymentStatus(ctx, owner, repo, d.GetID(), &github.DeploymentStatusRequest{
				State: github.String("success"), LogURL: github.String("https://ci.example/1"),
				EnvironmentURL: github.String("https://staging.example"),
			})
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "state", st.GetState(), "success")
			eq(t, "target_url", st.GetTargetURL(), "https://ci.example/1")

			got, _, err := gh.Repositories.GetDeployment(ctx, owner, repo, d.GetID())
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "get id", got.GetID(), d.GetID())

			for i := 0; i < 4; i++ {
				if _, _, err := gh.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{Ref: github.String("v1.0.0"), Environment: github.String("qa")}); err != nil {
					t.Fatal(err)
				}
			}
			opts := &github.DeploymentsListOptions{Environment: "qa", ListOptions: github.ListOptions{PerPage: 3}}
			var all []*github.Deployment
			for {
				page, resp, err := gh.Repositories.ListDeployments(ctx, owner, repo, opts)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, page...)
				if resp.NextPage == 0 {
					eq(t, "last page", resp.LastPage, 0)
					break
				}
				eq(t, "last", resp.LastPage, 2)
				opts.Page = resp.NextPage
			}
			eq(t, "listed", len(all), 4)

			sts, _, err := gh.Repositories.ListDeploymentStatuses(ctx, owner, repo, d.GetID(), nil)
			if err != nil || len(sts) != 1 {
				t.Fatalf("statuses %v %v", sts, err)
			}

			// 202 auto-merge surfaces as AcceptedError
			_, _, err = gh.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{Ref: github.String("feature-x")})
			var acc *github.AcceptedError
			if !errors.As(err, &acc) {
				t.Errorf("auto-merge err = %v", err)
			}
			// 422 bad ref
			_, _, err = gh.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{Ref: github.String("nope")})
			var er *github.ErrorResponse
			if !errors.As(err, &er) || er.Response.StatusCode != 422 || er.Message != "No ref found for: nope" {
				t.Errorf("bad ref err = %v", err)
			}

			// commit statuses and combined status
			if _, _, err := gh.Repositories.CreateStatus(ctx, owner, repo, seed.Branches["main"], &github.RepoStatus{State: github.String("success"), Context: github.String("ci")}); err != nil {
				t.Fatal(err)
			}
			cs, _, err := gh.Repositories.GetCombinedStatus(ctx, owner, repo, "main", nil)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "combined", cs.GetState(), "success")

			rl, _, err := gh.RateLimit.Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "core limit", rl.GetCore().Limit, 5000)

			// delete: the first deployment is still active and others exist -> 422; make it
			// inactive, then delete.
			if _, err := gh.Repositories.DeleteDeployment(ctx, owner, repo, d.GetID()); err == nil {
				t.Errorf("deleting an active deployment succeeded")
			}
			if _, _, err := gh.Repositories.CreateDeploymentStatus(ctx, owner, repo, d.GetID(), &github.DeploymentStatusRequest{State: github.String("inactive")}); err != nil {
				t.Fatal(err)
			}
			if _, err := gh.Repositories.DeleteDeployment(ctx, owner, repo, d.GetID()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestGoGitHubRateLimitErrors(t *testing.T) {
	clk := newClock()
	a := start(t, emulator.Config{PrimaryLimit: 2, SecondaryPerMinute: 1, Now: clk.now})
	gh2 := ghClient(t, a, false) // go-github blocks locally after a secondary limit
	gh := ghClient(t, a, false)
	ctx := context.Background()
	if _, _, err := gh.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{Ref: github.String("main")}); err != nil {
		t.Fatal(err)
	}
	// second write within the minute: secondary limit, with retry-after
	_, _, err := gh.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{Ref: github.String("main")})
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.RetryAfter == nil || *abuse.RetryAfter <= 0 {
		t.Fatalf("secondary: %v", err)
	}
	// a refused request does not count: one read is left, then the primary budget (2) is gone
	if _, _, err := gh2.Repositories.ListDeployments(ctx, owner, repo, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = gh2.Repositories.ListDeployments(ctx, owner, repo, nil)
	var rle *github.RateLimitError
	if !errors.As(err, &rle) || rle.Rate.Remaining != 0 || rle.Rate.Reset.IsZero() {
		t.Fatalf("primary: %v", err)
	}
}

// go-github's CreateUpdateEnvironment always sends can_admins_bypass, which GitHub accepts but the
// description's request schema (additionalProperties: false) does not list: no conformance hook.
func TestGoGitHubEnvironments(t *testing.T) {
	a := startRaw(t, emulator.Config{})
	gh := ghClient(t, a, false)
	ctx := context.Background()
	env, _, err := gh.Repositories.CreateUpdateEnvironment(ctx, owner, repo, "review/1", &github.CreateUpdateEnvironment{WaitTimer: github.Int(1)})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "env name", env.GetName(), "review/1")
	if _, _, err := gh.Repositories.CreateDeployment(ctx, owner, repo, &github.DeploymentRequest{Ref: github.String("main"), Environment: github.String("qa")}); err != nil {
		t.Fatal(err)
	}
	envs, _, err := gh.Repositories.ListEnvironments(ctx, owner, repo, nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "env count", envs.GetTotalCount(), 2)
	got, _, err := gh.Repositories.GetEnvironment(ctx, owner, repo, "review/1")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "wait timer rule", len(got.ProtectionRules), 1)
	if _, err := gh.Repositories.DeleteEnvironment(ctx, owner, repo, "review/1"); err != nil {
		t.Fatal(err)
	}
	eq(t, "after delete", strings.Join(a.e.Environments(owner, repo), ","), "qa")
}
