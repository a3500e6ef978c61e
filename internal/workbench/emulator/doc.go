// Package emulator is a stateful, in-process stand-in for the parts of GitHub's REST API that
// deployments use: deployments, deployment statuses, environments, commit statuses and the
// combined status, and rate limits, plus the deployment and deployment_status webhooks. The
// end-to-end tests, the local demo and the benchmarks run against it over real HTTP.
//
// What it reproduces (see ../shared/notes/api-facts.md §3) and how it is checked: every response
// is shaped after GitHub's OpenAPI description, and emulatortest.Start validates each exchange
// against that description while a test runs. Routes are also served under /api/v3 (GitHub
// Enterprise Server's prefix); absolute URLs in bodies and headers (url, statuses_url, Location,
// Link, ...) are built from the request's Host and that prefix, so they can be followed.
//
// # Deliberate deviations from GitHub
//
//   - Identity: every token acts as one user, github-actions[bot] (id 41898282), which appears as
//     creator and webhook sender. Tokens are never recorded; rate-limit buckets are keyed by a
//     hash of the token.
//   - Authentication is required on every route, /rate_limit included (GitHub answers that one
//     anonymously). There is no anonymous 60-per-hour budget; unauthenticated answers carry
//     limit 60 headers only for shape.
//   - Permissions are the three booleans of Permissions: reads need DeploymentsRead or
//     DeploymentsWrite; every write (including commit statuses) needs DeploymentsWrite; PUT and
//     DELETE of an environment need Administration. An unknown repository is 404 before any
//     permission check.
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
//   - PUT environment accepts can_admins_bypass (go-github always sends it; GitHub accepts it
//     for public repositories though the description does not list it) and ignores its value.
//     Branch policies, protection-rule apps, secrets and variables are not emulated.
//   - Commit statuses: POST needs a known commit (full sha or a unique prefix of at least 7
//     characters), else 422 "No commit found for SHA: ..."; GET .../commits/{ref}/status(es)
//     resolves a branch, tag, heads/X, tags/X or sha and answers 404 for anything else.
//   - Rate limits: the primary budget is a fixed hour window per token starting at its first
//     request (GitHub's is similar); /rate_limit is free. The secondary limit only counts
//     content-creating requests (POST, PATCH, PUT, DELETE) in a sliding minute (or
//     Config.SecondaryWindow); refused requests do not count. Both answer 403 (go-github v62 recognises only 403); Fault can produce 429.
//     X-GitHub-Api-Version other than 2022-11-28 and 2026-03-10 is refused with 400; with
//     2026-03-10 /rate_limit omits "rate".
//   - Error bodies carry message, documentation_url, errors where GitHub sends them, and the
//     "status" string (e.g. "404") newer GitHub responses add.
//   - Deployment, status, environment and commit-status ids come from one increasing counter.
//   - Webhooks are delivered once each, in order, by one worker; failures are recorded in
//     Deliveries and never retried. Payloads carry action, deployment, deployment_status (for
//     status events), repository, sender, and workflow/workflow_run null for deployment events;
//     an empty log_url is left out of status payloads, as in GitHub's examples.
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
