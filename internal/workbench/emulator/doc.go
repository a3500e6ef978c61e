// Package emulator is a stateful, in-process stand-in for the parts of GitHub's REST API that
// deployments use: deployments, deployment statuses, environments, commit statuses and the
// combined status, and rate limits, plus the deployment and deployment_status webhooks and
// GitHub's repository webhooks API (POST/GET/PATCH/DELETE .../hooks, .../config, .../pings, with
// the ping event). The end-to-end tests, the local demo and the benchmarks run against it over
// real HTTP; `go run ./cmd/workbench emulator` serves it standalone (StartTLS: over https with a
// SelfSigned certificate), and internal/suites/clients drives it with @octokit/rest.
//
// It also serves the "toolkit" endpoints that waiting for other deployers and ChatOps need
// (../shared/notes/toolkit-facts.md): the repository, a commit, check runs and check suites,
// pull requests, issue comments and their reactions, and a collaborator's permission, with
// conditional requests (ETag/Last-Modified, 304) on every GET. Tests script what people and
// other systems do through Go methods: users and roles (AddUser, SetRole, SetTokenUser), pushes
// and forks (Push, Fork, DeleteRepo), pull requests and issues (OpenPullRequest,
// PushPullRequest, ClosePullRequest, MergePullRequest, OpenIssue), comments and reactions
// (AddComment, EditComment, DeleteComment, React), check runs and commit statuses
// (CreateCheckRun, UpdateCheckRun, CompleteCheckRun, AddCommitStatus), timed or gated steps
// (Run) and a third-party deployer (StartDeployer). Methods that cause a webhook event return it
// (Event: the payload as GitHub sends it, for GITHUB_EVENT_PATH) and deliver it to the hooks
// subscribed to it.
//
// GitHub Apps (apps.go): AddApp registers an App (AppConfig: id, slug, RSA public key, webhook
// URL and secret, events) and InstallApp installs it on a repository (one installation per
// owner account; the bot "<slug>[bot]" gets the write role there). The App authenticates with an
// RS256 JWT (Authorization: Bearer) on GET /app, GET /repos/{o}/{r}/installation (404 where it is
// not installed) and POST /app/installations/{id}/access_tokens (201: a "ghs_" token for one
// hour, optionally narrowed by repositories, repository_ids or permissions). The token acts as
// the bot: creator of its deployments and statuses and sender of their webhooks. The App's
// webhook gets the events of Events of its installed repositories, with "installation" {id,
// node_id} in the payload, from the same queue and worker as the other hooks; its delivery log is
// GET /app/hook/deliveries (newest first, per_page 30 up to 100, cursor paging with a Link
// rel="next"), GET /app/hook/deliveries/{id} (with request and response) and POST
// /app/hook/deliveries/{id}/attempts (202; a redelivery is a new entry with the same guid and
// redelivery true). AppDeliveries gives the log to tests.
//
// What it reproduces (see ../shared/notes/api-facts.md §3) and how it is checked: every response
// is shaped after GitHub's OpenAPI description, and emulatortest.Start validates each exchange
// against that description while a test runs. Routes are also served under /api/v3 (GitHub
// Enterprise Server's prefix), and every repository route also as /repositories/{id}/... (the
// form GitHub's Link headers use); absolute URLs in bodies and headers (url, statuses_url,
// Location, Link, ...) are built from the request's Host and that prefix, so they can be
// followed. Listings' Link headers name the repository by id, as GitHub's do. An empty list
// filter (?ref=, sha=, task=, environment=, check_name=) is no filter, as on GitHub.
// Environment names are not case sensitive, as on GitHub: STAGING finds staging, a deployment to
// Staging joins staging, and environment=STAGING lists both.
//
// # Deliberate deviations from GitHub
//
//   - Identity: a token acts as github-actions[bot] (id 41898282) unless SetTokenUser names
//     another user; that user is the creator of deployments, statuses and commit statuses, the
//     author of comments and reactions, and the webhook sender. Tokens are never recorded; the
//     token-to-user map and rate-limit buckets are keyed by a hash of the token. User ids are
//     derived from the login unless given. A repository's owner is an Organization unless
//     RepoSeed.OwnerType says User or a user of that login was added first; a fork's owner is
//     a User.
//   - Authentication is required on every route, /rate_limit included (GitHub answers that one
//     anonymously). There is no anonymous 60-per-hour budget; unauthenticated answers carry
//     limit 60 headers only for shape.
//   - Permissions: deployment and environment reads need DeploymentsRead or DeploymentsWrite,
//     their writes DeploymentsWrite; PUT and DELETE of an environment need Administration. The
//     toolkit scopes (Contents, Checks, Statuses, PullRequests, Issues) take the deployment
//     rights' level when unset, so older literals keep their meaning (commit statuses still
//     follow DeploymentsRead/Write). Metadata (the repository, a collaborator's permission) is
//     always readable. Issue-comment and reaction endpoints accept issues access, or
//     pull_requests access for a pull request's conversation. Refusals are 403 "Resource not
//     accessible by integration". An unknown repository is 404 before any permission check.
//     Anyone may edit or delete any comment (GitHub limits that to the author and to writers);
//     only a Bot token may create or update check runs (else 403 "You must authenticate via a
//     GitHub App."), as the app named by its login ("x[bot]" → app "x"), and any app may update
//     any run.
//   - Conditional requests: every 200 answer to a GET carries a strong ETag (a hash of the
//     token and the body, so another token never matches), Cache-Control and Vary as GitHub's,
//     and Last-Modified when the body is one object with updated_at. If-None-Match (weak
//     comparison, lists and * accepted) or, without it, If-Modified-Since answers 304 with no
//     body and gives back the primary rate-limit unit. A token at its limit is refused before
//     its validators are looked at.
//   - Auto-merge (RepoSeed.Behind) answers 202 once and then marks the branch up to date
//     without changing its sha (GitHub would create a merge commit with a new sha). Conflicts
//     (RepoSeed.Conflicts) answer 409 "Conflict merging <default> into <ref>.".
//   - The 409 body for failed status checks and the 422 texts for an unknown ref and for
//     deleting an active deployment follow community reports; GitHub does not document them.
//     A required context that never got a status is reported with state "missing".
//   - A status with an environment moves its deployment there (environment changes,
//     original_environment keeps the first); GitHub documents the environment "can be changed
//     when setting a deploy status" but no recording shows the deployment afterwards.
//   - auto_inactive: only a success status inactivates earlier deployments (same repository,
//     same current environment, not transient, not production, latest state success). No
//     deployment_status webhook is sent for inactive statuses.
//   - Deleting an environment deletes the deployments currently in it. Environment names may
//     contain "/", encoded or not.
//   - Environment names: an environment keeps the spelling it was created with (PUT with another
//     case updates it without renaming it); a deployment's environment and original_environment,
//     and a status's environment, keep the spelling of the request that set them (GitHub returns
//     the name as given in the request; no recording shows a mixed-case pair). A deployment to
//     "production" in any case is production_environment true unless the request says otherwise
//     (a documented choice: GitHub documents the default for "production" only).
//   - PUT environment accepts can_admins_bypass (go-github always sends it; GitHub accepts it
//     for public repositories though the description does not list it) and ignores its value.
//     Branch policies, protection-rule apps, secrets and variables are not emulated.
//   - Commit statuses: POST needs a known commit (full sha or a unique prefix of at least 7
//     characters), else 422 "No commit found for SHA: ..."; GET .../commits/{ref}/status(es)
//     resolves a branch, tag, heads/X, tags/X or sha and answers 404 for anything else.
//   - Git references and contents (gitrefs.go, for deployment locks): refs/heads and refs/tags
//     only; create answers 422 for a reference that exists, an invalid name or an unknown sha,
//     delete 422 for one that does not exist (and for the default branch). Files live per
//     commit: a contents PUT makes a commit on its branch with the parent's files plus the one
//     written (422 for a create of a file that exists, 409 for a replace with a stale sha, 404
//     for a missing branch); the seeded commits hold no files. Needs contents read/write.
//     PutFile seeds a file (a commit on the branch); a push keeps its parent's files.
//   - Custom deployment protection rules (runs.go, protection.go): RequestDeployment makes a
//     workflow run in "waiting" and sends deployment_protection_rule (action requested) to the
//     hooks subscribed to it; GET .../actions/runs/{id} serves the run (no Actions permission is
//     modelled: metadata read suffices); POST .../actions/runs/{id}/deployment_protection_rule
//     answers 204 once (approved: the run goes in_progress; rejected: completed, failure) and 422
//     to a second answer or another environment (the description documents only 204; see
//     apispec.KnownViolations). No jobs, logs or other Actions endpoints.
//   - Rate limits: the primary budget is a fixed hour window per token starting at its first
//     request (GitHub's is similar); /rate_limit is free. The secondary limit only counts
//     content-creating requests (POST, PATCH, PUT, DELETE) in a sliding minute (or
//     Config.SecondaryWindow); refused requests do not count. Both answer 403 (go-github v62 recognises only 403); Fault can produce 429.
//     X-GitHub-Api-Version other than 2022-11-28 and 2026-03-10 is refused with 400; with
//     2026-03-10 /rate_limit omits "rate".
//   - Error bodies carry message, documentation_url, errors where GitHub sends them, and the
//     "status" string (e.g. "404") newer GitHub responses add.
//   - Deployment, status, environment and commit-status ids come from one increasing counter
//     (so do those of issues, pull requests, comments, reactions, check runs and suites).
//   - Commits: GET .../commits/{ref} resolves like the status routes and answers 422 "No commit
//     found for SHA: <ref>" for an unknown or ambiguous ref. No files or stats (0) are emulated;
//     seeded commits have a synthetic message, the repository's creation date and no parents;
//     Push and merges record message, author (null unless given), date and parents.
//     verification is always unsigned.
//   - Check runs: filter=latest keeps the most recently created run of each name and app (the
//     description speaks of completed_at; a re-run in progress thus hides an older failure);
//     lists are newest first; an unknown ref is 404 "No commit found for SHA: <ref>". A check
//     suite exists per commit and app, its status and conclusion aggregated from its runs (the
//     most severe conclusion; only neutral/skipped gives success). Annotations, actions and
//     images are not kept, check_suite webhooks and check_run created/rerequested events are
//     not sent (only completed), and stale is accepted on create though the response schema
//     lacks it.
//   - Pull requests: mergeable is true with mergeable_state clean while open (draft for a
//     draft; false/dirty when the same-repository head branch is in RepoSeed.Conflicts) and
//     null/unknown once closed; base.sha is the base branch's current head; commits counts
//     along first parents of emulator-made commits (at least 1); additions, deletions and
//     changed_files are 0; labels, assignees, reviewers, milestones, auto_merge and review
//     comments are not emulated. sort=long-running sorts like created. A merge makes a merge
//     commit (parents: base head, pull request head) and moves the base branch. A fork's head
//     commit becomes a known commit of the base repository (refs/pull/N/head); after the fork
//     is deleted (DeleteRepo) head.repo is null, as on GitHub though the description says
//     non-null.
//   - author_association is OWNER (the repository's owner), COLLABORATOR (any role),
//     CONTRIBUTOR (author of a merged pull request) or NONE; MEMBER and the FIRST_TIME_ values
//     are never given.
//   - Collaborator permission: a known user without a role answers permission none and
//     role_name none (GitHub reportedly says read on public repositories); an unknown login or
//     an organization is 404. The owner of a user's repository is admin.
//   - Reactions exist on issue comments only.
//   - URLs in the new bodies are absolute, but only those of emulated routes can be followed
//     (issue_url, commits_url, check suite urls, html_url and the like answer 404).
//   - Events returned by the scripting methods are built with the started server's URL (no
//     /api/v3 prefix); REST-caused ones with the request's. Payloads of an organization-owned
//     repository carry organization (RepoSeed.OwnerType; GET /repos agrees on the owner's type);
//     none carries enterprise, and installation is only in an App's deliveries and in
//     deployment_protection_rule. toolkit.openapi.json has schemas for issue_comment created,
//     pull_request opened/closed/synchronize and check_run completed; issue_comment edited
//     (with changes.body.from) and deleted are shaped like created.
//   - Scripts (Run, StartDeployer) use real timers and optional gates; their steps run one at a
//     time on their own goroutine, and Close stops them (ErrClosed).
//   - Webhooks are delivered once each, in order, by one worker; failures are recorded in
//     Deliveries and never retried. Payloads carry action, deployment, deployment_status (for
//     status events), repository, sender, and workflow/workflow_run null for deployment events;
//     an empty log_url is left out of status payloads, as in GitHub's examples. Headers are
//     GitHub's (X-GitHub-Event, X-GitHub-Delivery, X-GitHub-Hook-ID, X-GitHub-Hook-Installation-
//     Target-Type "repository" and -ID the repository's id, User-Agent GitHub-Hookshot/<hex>,
//     X-Hub-Signature-256 and X-Hub-Signature over the body as sent).
//   - Repository hooks (REST): every hooks route needs Administration (GitHub needs admin rights
//     to read hooks too; GITHUB_TOKEN cannot). Only "web" hooks; content_type json or form
//     (default form: payload=<urlencoded JSON>); events default ["push"] and are not checked
//     against GitHub's list, and no push event is ever sent (Push does not emit one); a URL
//     already hooked on the repository is 422 "Hook already exists on this repository", a
//     missing one 422 "Config must contain URL for webhooks". A ping goes to a new hook when it
//     is active, and to any hook on POST .../pings. PATCH .../hooks/{id} with a config replaces
//     the whole config (the secret is dropped unless given again, as GitHub documents); PATCH
//     .../config changes only the fields given. last_response reflects the latest delivery
//     ("active"/"OK", or "failed" with "Invalid HTTP Response: <code>" or "failed to connect to
//     host"). insecure_ssl "1" skips certificate checks of an https receiver. deliveries_url and
//     test_url are not served. Hooks made with AddHook get every repository's events, as JSON,
//     no ping, and are not listed by the REST API.
//   - GitHub Apps: a JWT is checked as GitHub does (RS256 with the App's key, else 401 "A JSON web
//     token could not be decoded"; iss the App's id as a string or a number, else "'Issuer' claim
//     ('iss') must be an Integer", an unknown id "Integration not found"; exp in the future; iat
//     at most 60 s ahead; exp-iat at most 10 minutes, else "'Expiration time' claim ('exp') is too
//     far in the future"). A JWT anywhere but /app... and .../installation is 401 "Bad
//     credentials"; a token that is not a JWT on those is 401 "A JSON web token could not be
//     decoded". Every App has the same permissions (actions and metadata read; checks, contents,
//     deployments, issues, pull_requests and statuses write; no administration). An installation
//     token bypasses Config.Tokens; outside its repositories it reads public repositories, gets
//     403 on writes and 404 on private ones; expired it is 401 "Bad credentials". The App's
//     requests share one rate-limit bucket. Installations are always repository_selection
//     "selected"; there is no installation list, suspension, uninstall or installation webhook
//     (installation, installation_repositories), and no ping to an App's webhook. Deliveries'
//     X-GitHub-Hook-Installation-Target-Type is "integration" with the App's id. The delivery
//     log's status is "OK", "Invalid HTTP Response: <code>" or "failed to connect to host",
//     duration the measured seconds, throttled_at always null; cursors are "v1_<id>" (another
//     cursor is 422 "Invalid cursor"). The repository's description does not carry the delivery
//     log's routes (allow-listed in apispec.KnownViolations).
//   - StartTLS speaks HTTP/1.1 only (GitHub negotiates HTTP/2), so the connection-dropping
//     faults behave as over http.
//
// # Faults and latency
//
// AddFault injects failures into matching requests, in the order added. FaultReset and
// FaultLostResponse close the connection without a response; FaultLostResponse first commits the
// change (and queues its webhooks), which is what duplicate-avoidance tests need. Note that
// net/http's client transparently retries an idempotent request (GET, HEAD, ...) that failed
// this way on a reused keep-alive connection, so use Times: 2 or a fresh connection when a GET
// must see the failure. Config.Latency (and FaultLatency) delays the response after the request
// was handled, so a client that times out meanwhile leaves a committed change behind; the wait
// ends when the request's context does and the request is then recorded with status 0.
package emulator
