package ghapi

import (
	"context"

	"github.com/google/go-github/v62/github"
)

// createOnce is the one path for a create that must never happen twice (a deployment, a status,
// a comment): when an attempt's outcome is unknown (its answer was lost, it timed out after the
// request was sent), the next attempt first calls find, which looks for what that attempt would
// have made. A find that returns something adopts it; nil means the create did not happen, so it
// is sent again. When the retry budget runs out right after such an attempt, one last look
// (within one attempt timeout) avoids leaving an orphan behind. adopted names what was adopted
// for the debug line ("deployment 102").
//
// create returns go-github's error unchanged, or a permanent one to stop at once.
func createOnce[T any](ctx context.Context, c *Client, op Op,
	create func(ctx context.Context, g *github.Client) (*T, error),
	find func(ctx context.Context, g *github.Client) (*T, error),
	adopted func(*T) string,
) (*T, error) {
	pending := false // a previous attempt may have made it
	var out *T
	err := c.do(ctx, op, func(ctx context.Context, g *github.Client) error {
		if pending {
			found, err := find(ctx, g)
			if err != nil {
				return err
			}
			if found != nil {
				c.logf("%s: response lost; adopted %s", op, adopted(found))
				out = found
				return nil
			}
			pending = false
		}
		var err error
		out, err = create(ctx, g)
		if err != nil {
			pending = mayHaveReachedServer(err)
		}
		return err
	})
	if err != nil && pending && budgetRanOut(err) {
		actx, cancel := context.WithTimeout(ctx, c.retry.AttemptTimeout)
		found, lerr := find(actx, c.gh())
		cancel()
		if lerr == nil && found != nil {
			c.logf("%s: response lost; adopted %s", op, adopted(found))
			return found, nil
		}
	}
	return out, c.finish(err)
}

// EachPage is the one pagination loop: it reads a listing page by page, newest first as GitHub
// lists it. fetch asks for one page (0 is the first) and returns its items and cursor; visit sees
// each page's items and says whether to read on. It stops after the last page, after an empty
// page (a cursor that does not move on cannot loop), when visit says so, or at the first error,
// which it returns unchanged.
func EachPage[T any](fetch func(page int) ([]T, Page, error), visit func(items []T) (more bool, err error)) error {
	page := 0
	for {
		items, cur, err := fetch(page)
		if err != nil {
			return err
		}
		more, err := visit(items)
		if err != nil || !more || cur.Next == 0 || len(items) == 0 {
			return err
		}
		page = cur.Next
	}
}

// all is a visit for EachPage that reads every page into *out.
func all[T any](out *[]T) func([]T) (bool, error) {
	return func(items []T) (bool, error) {
		*out = append(*out, items...)
		return true, nil
	}
}
