package ghapi

import (
	"context"
	"fmt"
	"net/url"

	"github.com/google/go-github/v62/github"
)

// The calls ChatOps and the checks gate make: pull requests, a commenter's permission, issue
// comments and reactions, check runs and commit statuses.

// Permission is a user's access to a repository as GitHub reports it: Permission is the legacy
// level (admin, write, read, none; maintain reads as write, triage as read), RoleName the actual
// role (admin, maintain, write, triage, read, or a custom role's name).
type Permission struct {
	Permission string `json:"permission"`
	RoleName   string `json:"role_name"`
}

// GetPullRequest fetches a pull request.
func (c *Client) GetPullRequest(ctx context.Context, owner, repo string, number int) (*github.PullRequest, error) {
	var pr *github.PullRequest
	err := c.do(ctx, OpGetPullRequest, func(ctx context.Context, g *github.Client) (err error) {
		pr, _, err = g.PullRequests.Get(ctx, owner, repo, number)
		return err
	})
	return pr, c.finish(err)
}

// CollaboratorPermission reads login's permission on the repository. GitHub answers 404 for a
// login that is not a user (or not visible).
func (c *Client) CollaboratorPermission(ctx context.Context, owner, repo, login string) (Permission, error) {
	var p Permission
	err := c.do(ctx, OpGetPermission, func(ctx context.Context, g *github.Client) error {
		// go-github v62's RepositoryPermissionLevel has no role_name: decode the answer ourselves.
		u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(owner), url.PathEscape(repo), url.PathEscape(login))
		req, err := g.NewRequest("GET", u, nil)
		if err != nil {
			return permanent(err)
		}
		p = Permission{}
		_, err = g.Do(ctx, req, &p)
		return err
	})
	return p, c.finish(err)
}

// CreateIssueComment comments on an issue or pull request. A create whose answer was lost is
// never repeated blindly: the next attempt first looks for a comment with exactly this body made
// since the first attempt and adopts it, so give body a unique marker (an HTML comment) when
// another identical comment could exist.
func (c *Client) CreateIssueComment(ctx context.Context, owner, repo string, number int, body string) (*github.IssueComment, error) {
	first := c.retry.Now()
	return createOnce(ctx, c, OpCreateComment,
		func(ctx context.Context, g *github.Client) (*github.IssueComment, error) {
			cm, _, err := g.Issues.CreateComment(ctx, owner, repo, number, &github.IssueComment{Body: github.String(body)})
			return cm, err
		},
		func(ctx context.Context, g *github.Client) (*github.IssueComment, error) {
			since := first.Add(-c.retry.ClockSkew)
			opts := &github.IssueListCommentsOptions{Since: &since, ListOptions: github.ListOptions{PerPage: 100}}
			var found *github.IssueComment
			err := EachPage(func(page int) ([]*github.IssueComment, Page, error) {
				opts.Page = page
				cms, resp, err := g.Issues.ListComments(ctx, owner, repo, number, opts)
				return cms, pageOf(resp), err
			}, func(cms []*github.IssueComment) (bool, error) {
				for _, cm := range cms {
					if cm.GetBody() == body {
						found = cm
						return false, nil
					}
				}
				return true, nil
			})
			return found, err
		},
		func(cm *github.IssueComment) string { return fmt.Sprintf("comment %d", cm.GetID()) })
}

// EditIssueComment replaces a comment's body (repeating it is harmless).
func (c *Client) EditIssueComment(ctx context.Context, owner, repo string, id int64, body string) (*github.IssueComment, error) {
	var out *github.IssueComment
	err := c.do(ctx, OpUpdateComment, func(ctx context.Context, g *github.Client) (err error) {
		out, _, err = g.Issues.EditComment(ctx, owner, repo, id, &github.IssueComment{Body: github.String(body)})
		return err
	})
	return out, c.finish(err)
}

// ReactToIssueComment adds the token's reaction (+1, -1, laugh, confused, heart, hooray,
// rocket, eyes) to an issue comment. GitHub keeps one reaction per user and content (200 when it
// exists already), so repeating it is harmless.
func (c *Client) ReactToIssueComment(ctx context.Context, owner, repo string, id int64, content string) error {
	err := c.do(ctx, OpCreateReaction, func(ctx context.Context, g *github.Client) error {
		_, _, err := g.Reactions.CreateIssueCommentReaction(ctx, owner, repo, id, content)
		return err
	})
	return c.finish(err)
}

// ListCheckRuns returns the latest check run of each name and app for ref (GitHub's filter
// latest), reading every page.
func (c *Client) ListCheckRuns(ctx context.Context, owner, repo, ref string) ([]*github.CheckRun, error) {
	var out []*github.CheckRun
	err := c.do(ctx, OpListCheckRuns, func(ctx context.Context, g *github.Client) error {
		out = nil
		opts := &github.ListCheckRunsOptions{Filter: github.String("latest"), ListOptions: github.ListOptions{PerPage: 100}}
		return EachPage(func(page int) ([]*github.CheckRun, Page, error) {
			opts.Page = page
			res, resp, err := g.Checks.ListCheckRunsForRef(ctx, owner, repo, ref, opts)
			if err != nil {
				return nil, Page{}, err
			}
			return res.CheckRuns, pageOf(resp), nil
		}, all(&out))
	})
	return out, c.finish(err)
}

// ListCheckSuites returns every check suite of ref, reading every page.
func (c *Client) ListCheckSuites(ctx context.Context, owner, repo, ref string) ([]*github.CheckSuite, error) {
	var out []*github.CheckSuite
	err := c.do(ctx, OpListCheckSuites, func(ctx context.Context, g *github.Client) error {
		out = nil
		opts := &github.ListCheckSuiteOptions{ListOptions: github.ListOptions{PerPage: 100}}
		return EachPage(func(page int) ([]*github.CheckSuite, Page, error) {
			opts.Page = page
			res, resp, err := g.Checks.ListCheckSuitesForRef(ctx, owner, repo, ref, opts)
			if err != nil {
				return nil, Page{}, err
			}
			return res.CheckSuites, pageOf(resp), nil
		}, all(&out))
	})
	return out, c.finish(err)
}

// CombinedStatus returns ref's combined commit status with every context's latest status,
// reading every page. With no status at all GitHub says pending with total_count 0.
func (c *Client) CombinedStatus(ctx context.Context, owner, repo, ref string) (*github.CombinedStatus, error) {
	var out *github.CombinedStatus
	err := c.do(ctx, OpGetCombinedStatus, func(ctx context.Context, g *github.Client) error {
		opts := &github.ListOptions{PerPage: 100}
		out = nil
		var statuses []*github.RepoStatus
		err := EachPage(func(page int) ([]*github.RepoStatus, Page, error) {
			opts.Page = page
			cs, resp, err := g.Repositories.GetCombinedStatus(ctx, owner, repo, ref, opts)
			if err != nil {
				return nil, Page{}, err
			}
			if out == nil {
				out = cs
			}
			return cs.Statuses, pageOf(resp), nil
		}, func(page []*github.RepoStatus) (bool, error) {
			statuses = append(statuses, page...)
			return len(statuses) < out.GetTotalCount(), nil
		})
		if out != nil {
			out.Statuses = statuses
		}
		return err
	})
	return out, c.finish(err)
}
