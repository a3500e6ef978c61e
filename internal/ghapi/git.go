package ghapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"
)

// The calls deployment locks make (internal/lock): a lock is a branch holding one file, created
// atomically with create-reference (GitHub answers 422 when the reference exists).

// FileWrite is one file written with the contents API (a commit on Branch).
type FileWrite struct {
	Path    string
	Branch  string
	Message string
	Content []byte
	// SHA is the blob being replaced; "" creates the file (GitHub answers 422 when it exists).
	// With a SHA GitHub answers 409 when the file changed since it was read.
	SHA string
}

// DefaultBranchSHA is the commit at the head of the repository's default branch.
func (c *Client) DefaultBranchSHA(ctx context.Context, owner, repo string) (string, error) {
	var branch string
	err := c.do(ctx, OpGetRepository, func(ctx context.Context, g *github.Client) error {
		r, _, err := g.Repositories.Get(ctx, owner, repo)
		branch = r.GetDefaultBranch()
		return err
	})
	if err != nil {
		return "", c.finish(err)
	}
	var sha string
	err = c.do(ctx, OpGetRef, func(ctx context.Context, g *github.Client) error {
		ref, _, err := g.Git.GetRef(ctx, owner, repo, "refs/heads/"+branch)
		sha = ref.GetObject().GetSHA()
		return err
	})
	return sha, c.finish(err)
}

// CreateRef creates ref (refs/heads/...) at sha. GitHub answers 422 when it exists.
func (c *Client) CreateRef(ctx context.Context, owner, repo, ref, sha string) error {
	err := c.do(ctx, OpCreateRef, func(ctx context.Context, g *github.Client) error {
		_, _, err := g.Git.CreateRef(ctx, owner, repo, &github.Reference{Ref: &ref, Object: &github.GitObject{SHA: &sha}})
		return err
	})
	return c.finish(err)
}

// DeleteRef deletes ref. GitHub answers 422 when it does not exist.
func (c *Client) DeleteRef(ctx context.Context, owner, repo, ref string) error {
	err := c.do(ctx, OpDeleteRef, func(ctx context.Context, g *github.Client) error {
		_, err := g.Git.DeleteRef(ctx, owner, repo, ref)
		return err
	})
	return c.finish(err)
}

// MatchingRefs lists the full names of the references starting with prefix (heads/...), every
// page.
func (c *Client) MatchingRefs(ctx context.Context, owner, repo, prefix string) ([]string, error) {
	var out []string
	err := c.do(ctx, OpListRefs, func(ctx context.Context, g *github.Client) error {
		out = out[:0]
		opts := &github.ReferenceListOptions{Ref: strings.TrimPrefix(prefix, "refs/"), ListOptions: github.ListOptions{PerPage: 100}}
		return EachPage(func(page int) ([]*github.Reference, Page, error) {
			opts.Page = page
			refs, resp, err := g.Git.ListMatchingRefs(ctx, owner, repo, opts)
			return refs, pageOf(resp), err
		}, func(refs []*github.Reference) (bool, error) {
			for _, r := range refs {
				out = append(out, r.GetRef())
			}
			return true, nil
		})
	})
	return out, c.finish(err)
}

// GetFile reads a file at ref: its content and blob sha. 404 when the ref or the file is missing.
func (c *Client) GetFile(ctx context.Context, owner, repo, path, ref string) ([]byte, string, error) {
	var content []byte
	var sha string
	err := c.do(ctx, OpGetContents, func(ctx context.Context, g *github.Client) error {
		f, _, _, err := g.Repositories.GetContents(ctx, owner, repo, path, &github.RepositoryContentGetOptions{Ref: ref})
		if err != nil {
			return err
		}
		if f == nil {
			return permanent(&APIError{Op: OpGetContents, Status: 404, Message: path + " is a directory"})
		}
		s, err := f.GetContent()
		if err != nil {
			return permanent(err)
		}
		content, sha = []byte(s), f.GetSHA()
		return nil
	})
	return content, sha, c.finish(err)
}

// DefaultBranchFile implements API: GetFile at the default branch (no ref sent), under its own
// operation so that errors name the policy file rather than a lock.
func (c *Client) DefaultBranchFile(ctx context.Context, owner, repo, path string) ([]byte, error) {
	var content []byte
	err := c.do(ctx, OpGetPolicyFile, func(ctx context.Context, g *github.Client) error {
		f, _, _, err := g.Repositories.GetContents(ctx, owner, repo, path, nil)
		if err != nil {
			return err
		}
		if f == nil {
			return permanent(&APIError{Op: OpGetPolicyFile, Status: 404, Message: path + " is a directory"})
		}
		s, err := f.GetContent()
		if err != nil {
			return permanent(fmt.Errorf("%s: %w", path, err))
		}
		content = []byte(s)
		return nil
	})
	return content, c.finish(err)
}

// PutFile creates or replaces a file (see FileWrite.SHA).
func (c *Client) PutFile(ctx context.Context, owner, repo string, w FileWrite) error {
	err := c.do(ctx, OpPutContents, func(ctx context.Context, g *github.Client) error {
		opts := &github.RepositoryContentFileOptions{Message: &w.Message, Content: w.Content, Branch: &w.Branch}
		if w.SHA != "" {
			opts.SHA = &w.SHA
		}
		_, _, err := g.Repositories.CreateFile(ctx, owner, repo, w.Path, opts)
		return err
	})
	return c.finish(err)
}
