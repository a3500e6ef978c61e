package gate

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/deployment-action/deployment-action/internal/deploy"
	"github.com/deployment-action/deployment-action/internal/policy"
)

// Tokens gives an installation's access token (internal/ghapp, with the App's JWT).
type Tokens interface {
	TokenForInstallation(ctx context.Context, installation int64) (string, error)
}

// Service is what the server registers for the deployment_protection_rule event: HandleEvent
// takes the verified webhook body. Pending requests are decided again when their soak ends
// (Schedule); after a restart gate.Recover finds them in the delivery log instead.
type Service struct {
	APIURL string // GitHub's API root
	Web    string // GitHub's web root, for links
	Tokens Tokens
	HTTP   *http.Client // nil = http.DefaultClient
	Now    func() time.Time
	// Schedule runs f after d (nil: time.AfterFunc). Tests run it by hand.
	Schedule func(d time.Duration, f func())
	Logf     func(format string, args ...any)

	once     sync.Once
	policies *policy.Loader
}

// HandleEvent decides one request (a payload GitHub signed; the caller checked the signature).
// Other actions are ignored.
func (s *Service) HandleEvent(ctx context.Context, body []byte) error {
	req, ok, err := ParseRequest(body)
	if err != nil || !ok {
		return err
	}
	return s.Decide(ctx, req)
}

// Decide decides req now and, when it is Pending, schedules the next look.
func (s *Service) Decide(ctx context.Context, req Request) error {
	s.once.Do(func() { s.policies = &policy.Loader{} })
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	token, err := s.Tokens.TokenForInstallation(ctx, req.Installation)
	if err != nil {
		return fmt.Errorf("installation %d: %w", req.Installation, err)
	}
	api, err := deploy.NewClient(nil, deploy.ClientOptions{Token: token, APIURL: s.APIURL, HTTPClient: s.HTTP})
	if err != nil {
		return err
	}
	facts := &GitHub{API: api, HTTP: s.HTTP, BaseURL: s.APIURL, Token: token, Owner: req.Owner, Repo: req.Repo, Now: now}
	g := &Gate{APIURL: s.APIURL, Policies: s.policies, Web: s.Web, Now: now}
	out, err := g.Handle(ctx, facts, policy.HTTPFetcher{BaseURL: s.APIURL, Token: token, Client: s.HTTP}, s.HTTP, token, req)
	if err != nil {
		return err
	}
	if out.Verdict.State == Pending {
		schedule := s.Schedule
		if schedule == nil {
			schedule = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
		}
		schedule(out.Verdict.RecheckAt.Sub(now()), func() {
			// A fresh token at that time; the request is decided from GitHub's data again.
			if err := s.Decide(context.Background(), req); err != nil && s.Logf != nil {
				s.Logf("protection rule: run %d of %s/%s: %v", req.RunID, req.Owner, req.Repo, err)
			}
		})
	}
	if s.Logf != nil {
		s.Logf("protection rule: run %d of %s/%s, %s: %q answered=%v skipped=%v", req.RunID, req.Owner, req.Repo, req.Environment, out.Verdict.State, out.Answered, out.Skipped)
	}
	return nil
}
