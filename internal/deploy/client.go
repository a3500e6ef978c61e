package deploy

import (
	"net/http"

	"github.com/deployment-action/deployment-action/internal/ghapi"
	"github.com/deployment-action/deployment-action/internal/version"
)

// ClientOptions are what a front end chooses for its API client: where GitHub is, how retries are
// paced and said. Everything that follows from the work itself, NewClient decides.
type ClientOptions struct {
	// Token authenticates; empty takes the settings' token.
	Token      string
	APIURL     string
	HTTPClient *http.Client // nil: a fresh transport
	Retry      ghapi.RetryPolicy
	// Logf receives debug lines, Notef one line per retry (see ghapi.Options).
	Logf, Notef func(format string, args ...any)
}

// NewClient builds the API client for one piece of work. The action's stages, the CLI's commands
// and the server all build theirs here, so that they send the same User-Agent and decide alike:
// a mode that polls, the promotion gate and the checks gate send conditional requests (answers
// that did not change cost no primary rate limit); a clean-up paces its writes under GitHub's
// 80 a minute. s is the validated work; nil is a client tied to no mode (a server's installation
// client), which sends plain requests.
func NewClient(s *Settings, o ClientOptions) (*ghapi.Client, error) {
	opts := ghapi.Options{Token: o.Token, APIURL: o.APIURL, UserAgent: version.UserAgent(), HTTPClient: o.HTTPClient,
		Retry: o.Retry, Logf: o.Logf, Notef: o.Notef}
	if s != nil {
		if opts.Token == "" {
			opts.Token = s.Token.Value()
		}
		opts.Conditional = s.Mode.Polls || s.RequireDeployedIn != "" || s.WaitForChecks
		if s.Mode.Cleans {
			opts = opts.ForCleanup()
		}
	}
	return ghapi.New(opts)
}
