// Package ghapi talks to the GitHub REST API for deployments: the narrow interface the rest of
// the project depends on, its go-github implementation (token, GITHUB_API_URL for GHES/ghe.com,
// retries, rate limits, create-without-duplicates) and typed errors.
package ghapi

import (
	"context"
	"time"

	"github.com/google/go-github/v62/github"
)

// API is every GitHub call the action makes. deploy/ depends on this interface only, so unit tests
// use a recording fake and end-to-end tests use the real client against the emulator.
type API interface {
	// CreateDeployment creates a deployment. When the outcome of a create is unknown (response
	// lost, timeout after the request was sent) the implementation finds out whether the
	// deployment exists and adopts it rather than creating a second one.
	CreateDeployment(ctx context.Context, owner, repo string, req *github.DeploymentRequest) (*github.Deployment, error)
	GetDeployment(ctx context.Context, owner, repo string, id int64) (*github.Deployment, error)
	// ListDeployments returns one page; Page.Next is 0 on the last page.
	ListDeployments(ctx context.Context, owner, repo string, opts *github.DeploymentsListOptions) ([]*github.Deployment, Page, error)
	// FindDeployments returns every deployment matching opts' filters that was created at or
	// after since (less the clock-skew allowance), newest first, reading as many pages as that
	// takes. It is how an interrupted create is found again.
	FindDeployments(ctx context.Context, owner, repo string, opts *github.DeploymentsListOptions, since time.Time) ([]*github.Deployment, error)
	DeleteDeployment(ctx context.Context, owner, repo string, id int64) error
	// CreateDeploymentStatus adds a status. A retried status never leaves a different state than
	// the one asked for.
	CreateDeploymentStatus(ctx context.Context, owner, repo string, id int64, req *github.DeploymentStatusRequest) (*github.DeploymentStatus, error)
	// ListDeploymentStatuses returns one page, newest first; Page.Next is 0 on the last page.
	ListDeploymentStatuses(ctx context.Context, owner, repo string, id int64, opts *github.ListOptions) ([]*github.DeploymentStatus, Page, error)
	DeleteEnvironment(ctx context.Context, owner, repo, name string) error
	// CommitSHA resolves a branch, tag or (short) SHA to the full commit SHA.
	CommitSHA(ctx context.Context, owner, repo, ref string) (string, error)

	// ChatOps and the checks gate (toolkit.go).
	GetPullRequest(ctx context.Context, owner, repo string, number int) (*github.PullRequest, error)
	CollaboratorPermission(ctx context.Context, owner, repo, login string) (Permission, error)
	// CreateIssueComment never creates a second comment when an answer is lost: it adopts the
	// comment with exactly this body made since its first attempt.
	CreateIssueComment(ctx context.Context, owner, repo string, number int, body string) (*github.IssueComment, error)
	EditIssueComment(ctx context.Context, owner, repo string, id int64, body string) (*github.IssueComment, error)
	ReactToIssueComment(ctx context.Context, owner, repo string, id int64, content string) error
	// ListCheckRuns returns the latest check run of each name for ref, every page.
	ListCheckRuns(ctx context.Context, owner, repo, ref string) ([]*github.CheckRun, error)
	// ListCheckSuites returns every check suite of ref, every page: their created_at is GitHub's
	// record of when a commit was pushed to a branch.
	ListCheckSuites(ctx context.Context, owner, repo, ref string) ([]*github.CheckSuite, error)
	// CommitParents returns a commit's parents, first parent first.
	CommitParents(ctx context.Context, owner, repo, sha string) ([]string, error)
	// CombinedStatus returns ref's combined status with every context, every page.
	CombinedStatus(ctx context.Context, owner, repo, ref string) (*github.CombinedStatus, error)
	// DefaultBranchFile reads a file from the default branch (the contents API without a ref):
	// command mode's policy, .github/deployments.yml, which a pull request cannot change for
	// itself. GitHub's 404 (no such file) is an error IsNotFound recognises.
	DefaultBranchFile(ctx context.Context, owner, repo, path string) ([]byte, error)
}

// Page is the pagination cursor taken from the Link header.
type Page struct {
	Next int
	Last int
}
