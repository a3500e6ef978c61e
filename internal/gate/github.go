package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/lock"
)

// GitHub is Facts over GitHub's REST API for one repository, with the installation token.
type GitHub struct {
	API         *ghapi.Client // the project's client (retries, conditional requests)
	HTTP        *http.Client  // for the run's status (not in ghapi); nil = http.DefaultClient
	BaseURL     string
	Token       string
	Owner, Repo string
	Now         func() time.Time
}

var _ Facts = (*GitHub)(nil)

func (g *GitHub) deployer() *deploy.Deployer {
	return &deploy.Deployer{API: g.API, Owner: g.Owner, Repo: g.Repo, Now: g.Now}
}

// RunStatus implements Facts: GET /repos/{o}/{r}/actions/runs/{id}.
func (g *GitHub) RunStatus(ctx context.Context, runID int64) (string, int64, error) {
	u := strings.TrimRight(g.BaseURL, "/") + "/repos/" + g.Owner + "/" + g.Repo + "/actions/runs/" + strconv.FormatInt(runID, 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Authorization", "Bearer "+g.Token)
	req.Header.Set("Accept", "application/vnd.github+json")
	c := g.HTTP
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("read run %d: %w", runID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("read run %d: GitHub answered %d", runID, resp.StatusCode)
	}
	var run struct {
		Status     string `json:"status"`
		CheckSuite int64  `json:"check_suite_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&run); err != nil {
		return "", 0, fmt.Errorf("read run %d: %w", runID, err)
	}
	return run.Status, run.CheckSuite, nil
}

// Checks implements Facts with the checks gate's rule, leaving out the held run's own jobs.
func (g *GitHub) Checks(ctx context.Context, sha string, suite int64) (deploy.ChecksSeen, error) {
	return g.deployer().ChecksNow(ctx, sha, func(cr *github.CheckRun) bool {
		return suite != 0 && cr.GetCheckSuite().GetID() == suite
	})
}

// Live implements Facts with latest's rule (deploy.Deployer.Live).
func (g *GitHub) Live(ctx context.Context, environment string) (*deploy.Listed, error) {
	l, _, err := g.deployer().Live(ctx, environment, "")
	return l, err
}

// Lock implements Facts with the lock store (internal/lock).
func (g *GitHub) Lock(ctx context.Context, environment string) (string, string, bool, error) {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	l, held, err := lock.New(g.API, g.Owner, g.Repo, now).Get(ctx, environment)
	return l.Holder, l.Reason, held, err
}
