package emulator

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// RepoSeed describes a repository to add.
type RepoSeed struct {
	Owner, Name   string
	DefaultBranch string            // "" = "main"
	Branches      map[string]string // name -> 40-hex sha
	Tags          map[string]string // name -> 40-hex sha
	// Behind marks branches that are behind the default branch: creating a deployment of one
	// with auto_merge answers 202 once (and the branch is then up to date).
	Behind map[string]bool
	// Conflicts marks branches that cannot be merged with the default branch: creating a
	// deployment of one with auto_merge answers 409 "Conflict merging ...".
	Conflicts map[string]bool
	// Commits are extra known commit shas (besides the branch and tag heads).
	Commits []string
	// ID is the repository id; 0 = derived from the name.
	ID int64
	// Private marks the repository private in repository objects.
	Private bool
	// OwnerType is the owner's account type: "User" or "Organization". "" = an Organization,
	// unless the login is already known (AddUser, an earlier repository), whose type is kept.
	OwnerType string
}

// DefaultRepo is octo-org/hello-world with branches main and feature-x (behind main) and tag
// v1.0.0.
func DefaultRepo() RepoSeed {
	return RepoSeed{
		Owner:         "octo-org",
		Name:          "hello-world",
		DefaultBranch: "main",
		Branches: map[string]string{
			"main":      "6dcb09b5b57875f334f61aebed695e2e4193db5e",
			"feature-x": "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d",
		},
		Tags:   map[string]string{"v1.0.0": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc"},
		Behind: map[string]bool{"feature-x": true},
	}
}

// FakeSHA returns a deterministic 40-hex sha for a name (handy for seeds).
func FakeSHA(name string) string {
	s := sha1.Sum([]byte(name))
	return hex.EncodeToString(s[:])
}

type repo struct {
	id            int64
	owner, name   string
	ownerType     string // RepoSeed.OwnerType
	private       bool
	defaultBranch string
	branches      map[string]string
	tags          map[string]string
	behind        map[string]bool
	conflicts     map[string]bool
	commits       map[string]bool
	createdAt     time.Time

	deployments  []*deployment              // oldest first
	envs         map[string]*environment    // by envKey
	envOrder     []string                   // envKeys in creation order
	commitStatus map[string][]*commitStatus // sha -> oldest first

	ownerUser      *user
	parent         *repo                        // the repository this one is a fork of
	roles          map[string]string            // lower-case login -> role
	commitMeta     map[string]*commitInfo       // commits made by Push and merges
	files          map[string]map[string][]byte // commit sha -> path -> content (contents API; gitrefs.go)
	runs           map[int64]*workflowRun       // workflow runs waiting for protection rules (runs.go)
	refusedAnswers map[int64]int                // protection answers refused per run
	pushes         int                          // makes derived shas unique
	issues         map[int]*issue               // number -> issue or pull request
	lastNumber     int
	comments       []*comment // oldest first
	checkRuns      []*checkRun
	checkSuites    []*checkSuite
}

type deployment struct {
	id                    int64
	ref, sha, task        string
	environment, origEnv  string
	description           *string
	payload               json.RawMessage
	transient, production bool
	createdAt, updatedAt  time.Time
	statuses              []*depStatus // oldest first
	creator               *user
}

type depStatus struct {
	id                                int64
	state, description, environment   string
	targetURL, logURL, environmentURL string
	createdAt                         time.Time
	creator                           *user
}

type environment struct {
	id                   int64
	name                 string
	createdAt, updatedAt time.Time
	waitTimer            int
	preventSelfReview    bool
	reviewers            []map[string]any
	branchPolicy         *branchPolicy
	protectionIDs        [3]int64
}

type branchPolicy struct{ Protected, Custom bool }

type commitStatus struct {
	id                     int64
	state, context         string
	description, targetURL *string
	createdAt              time.Time
	creator                *user
}

func repoKey(owner, name string) string { return strings.ToLower(owner + "/" + name) }

// AddRepo adds (or replaces) a repository.
func (e *Emulator) AddRepo(s RepoSeed) {
	if s.DefaultBranch == "" {
		s.DefaultBranch = "main"
	}
	r := &repo{
		id: s.ID, owner: s.Owner, ownerType: s.OwnerType, name: s.Name, private: s.Private, defaultBranch: s.DefaultBranch,
		branches: map[string]string{}, tags: map[string]string{}, behind: map[string]bool{},
		conflicts: map[string]bool{}, commits: map[string]bool{},
		envs: map[string]*environment{}, commitStatus: map[string][]*commitStatus{},
		createdAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		roles:     map[string]string{}, commitMeta: map[string]*commitInfo{}, issues: map[int]*issue{},
	}
	if r.id == 0 {
		h := sha1.Sum([]byte(repoKey(s.Owner, s.Name)))
		r.id = int64(h[0])<<24 | int64(h[1])<<16 | int64(h[2])<<8 | int64(h[3])
		r.id = r.id%900000000 + 100000000
	}
	for k, v := range s.Branches {
		r.branches[k] = strings.ToLower(v)
		r.commits[strings.ToLower(v)] = true
	}
	if _, ok := r.branches[r.defaultBranch]; !ok {
		sha := FakeSHA(repoKey(s.Owner, s.Name) + "@" + r.defaultBranch)
		r.branches[r.defaultBranch] = sha
		r.commits[sha] = true
	}
	for k, v := range s.Tags {
		r.tags[k] = strings.ToLower(v)
		r.commits[strings.ToLower(v)] = true
	}
	for k, v := range s.Behind {
		r.behind[k] = v
	}
	for k, v := range s.Conflicts {
		r.conflicts[k] = v
	}
	for _, c := range s.Commits {
		r.commits[strings.ToLower(c)] = true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.addRepoLocked(r)
}

// addRepoLocked stores r; its owner becomes a known account (of r.ownerType, by default an
// Organization, unless that login was known before).
func (e *Emulator) addRepoLocked(r *repo) {
	typ := "Organization"
	if r.ownerType == "User" {
		typ = "User"
	}
	r.ownerUser = e.addUserLocked(User{Login: r.owner, Type: typ})
	r.owner = r.ownerUser.login
	e.repos[repoKey(r.owner, r.name)] = r
}

func (e *Emulator) repoLocked(owner, name string) *repo { return e.repos[repoKey(owner, name)] }

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return s != ""
}

// resolveSHA resolves a full sha or a unique prefix of >= 7 hex chars of a known commit.
func (r *repo) resolveSHA(s string) (string, bool) {
	s = strings.ToLower(s)
	if len(s) < 7 || len(s) > 40 || !isHex(s) {
		return "", false
	}
	if r.commits[s] {
		return s, true
	}
	found := ""
	for c := range r.commits {
		if strings.HasPrefix(c, s) {
			if found != "" && found != c {
				return "", false
			}
			found = c
		}
	}
	return found, found != ""
}

// resolveRef resolves a branch, tag or sha; branch reports whether it named a branch.
func (r *repo) resolveRef(ref string) (sha, branch string, ok bool) {
	name := ref
	switch {
	case strings.HasPrefix(name, "refs/heads/"):
		name = strings.TrimPrefix(name, "refs/heads/")
		if s, ok := r.branches[name]; ok {
			return s, name, true
		}
		return "", "", false
	case strings.HasPrefix(name, "heads/"):
		if s, ok := r.branches[strings.TrimPrefix(name, "heads/")]; ok {
			return s, strings.TrimPrefix(name, "heads/"), true
		}
	case strings.HasPrefix(name, "refs/tags/"):
		s, ok := r.tags[strings.TrimPrefix(name, "refs/tags/")]
		return s, "", ok
	case strings.HasPrefix(name, "tags/"):
		if s, ok := r.tags[strings.TrimPrefix(name, "tags/")]; ok {
			return s, "", true
		}
	}
	if s, ok := r.branches[ref]; ok {
		return s, ref, true
	}
	if s, ok := r.tags[ref]; ok {
		return s, "", true
	}
	if s, ok := r.resolveSHA(ref); ok {
		return s, "", true
	}
	return "", "", false
}

func (d *deployment) latestState() string {
	if len(d.statuses) == 0 {
		return ""
	}
	return d.statuses[len(d.statuses)-1].state
}

// effectiveEnv is the deployment's current environment: the one it was created for, or the one
// its latest status moved it to.
func (d *deployment) effectiveEnv() string { return d.environment }

func (r *repo) findDeployment(id int64) (int, *deployment) {
	for i, d := range r.deployments {
		if d.id == id {
			return i, d
		}
	}
	return -1, nil
}

// latestContexts returns the newest status per context (case-insensitive), sorted by context.
func (r *repo) latestContexts(sha string) []*commitStatus {
	seen := map[string]*commitStatus{}
	for _, s := range r.commitStatus[sha] {
		seen[strings.ToLower(s.context)] = s
	}
	out := make([]*commitStatus, 0, len(seen))
	for _, s := range seen {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].context < out[j].context })
	return out
}

// envKey is an environment's key in repo.envs: GitHub's environment names are not case
// sensitive ("Staging" and "staging" are one environment).
func envKey(name string) string { return strings.ToLower(name) }

// env returns the environment named name (any case), or nil.
func (r *repo) env(name string) *environment { return r.envs[envKey(name)] }

// ensureEnvLocked returns the environment named name in any case, creating it with this
// spelling when there is none.
func (e *Emulator) ensureEnvLocked(r *repo, name string) *environment {
	if env := r.env(name); env != nil {
		return env
	}
	now := e.now().UTC()
	env := &environment{id: e.newID(), name: name, createdAt: now, updatedAt: now}
	r.envs[envKey(name)] = env
	r.envOrder = append(r.envOrder, envKey(name))
	return env
}

func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("0%d:%s%d", len(kind), kind, id)))
}

// ---- public snapshots ----

// Status is a snapshot of a deployment status.
type Status struct {
	ID                                                      int64
	State, Environment, EnvironmentURL, LogURL, Description string
	CreatedAt                                               time.Time
	Creator                                                 string // login
}

// Deployment is a snapshot of a deployment.
type Deployment struct {
	ID                                       int64
	Ref, SHA, Task, Environment, Description string
	OriginalEnvironment                      string // Environment may be moved by statuses
	Payload                                  any
	Transient, Production                    bool
	Statuses                                 []Status // oldest first
	CreatedAt                                time.Time
	Creator                                  string // login of the user whose token created it
}

// Deployments returns the repository's deployments, oldest first (deep copies).
func (e *Emulator) Deployments(owner, name string) []Deployment {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return nil
	}
	out := make([]Deployment, 0, len(r.deployments))
	for _, d := range r.deployments {
		var p any
		_ = json.Unmarshal(d.payload, &p)
		dd := Deployment{ID: d.id, Ref: d.ref, SHA: d.sha, Task: d.task, Environment: d.environment, OriginalEnvironment: d.origEnv,
			Payload: p, Transient: d.transient, Production: d.production, CreatedAt: d.createdAt, Creator: d.creatorUser().login}
		if d.description != nil {
			dd.Description = *d.description
		}
		for _, s := range d.statuses {
			dd.Statuses = append(dd.Statuses, Status{ID: s.id, State: s.state, Environment: s.environment,
				EnvironmentURL: s.environmentURL, LogURL: s.logURL, Description: s.description, CreatedAt: s.createdAt,
				Creator: s.creatorUser().login})
		}
		out = append(out, dd)
	}
	return out
}

// AddSampleRepo adds owner/name with a default branch main of three commits, the last one
// tagged v1.0.0 (what `workbench emulator --repo` seeds), and returns its snapshot. ownerType is
// "User" or "Organization" ("" = Organization), as RepoSeed.OwnerType.
func (e *Emulator) AddSampleRepo(owner, name, ownerType string) (Repo, error) {
	full := owner + "/" + name
	shas := make([]string, 3)
	for i := range shas {
		shas[i] = FakeSHA(fmt.Sprintf("%s#%d", strings.ToLower(full), i+1))
	}
	e.AddRepo(RepoSeed{Owner: owner, Name: name, OwnerType: ownerType, DefaultBranch: "main",
		Branches: map[string]string{"main": shas[0]}, Tags: map[string]string{"v1.0.0": shas[2]}})
	for i, msg := range []string{"Add the deploy script", "Release 1.0.0"} {
		if _, err := e.Push(owner, name, "main", Commit{SHA: shas[i+1], Message: msg}); err != nil {
			return Repo{}, fmt.Errorf("emulator: seeding %s: %w", full, err)
		}
	}
	for _, r := range e.Repos() {
		if strings.EqualFold(r.Owner+"/"+r.Name, full) {
			return r, nil
		}
	}
	return Repo{}, fmt.Errorf("emulator: seeding %s: not found afterwards", full)
}

// Repo is a snapshot of a repository.
type Repo struct {
	Owner, Name   string
	ID            int64
	OwnerType     string // "Organization" or "User"
	Private       bool
	DefaultBranch string
	Branches      map[string]string // name -> sha
	Tags          map[string]string // name -> sha
}

// Repos returns the repositories, sorted by full name.
func (e *Emulator) Repos() []Repo {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Repo
	for _, r := range e.sortedReposLocked() {
		x := Repo{Owner: r.owner, Name: r.name, ID: r.id, OwnerType: r.ownerUser.typ, Private: r.private,
			DefaultBranch: r.defaultBranch, Branches: map[string]string{}, Tags: map[string]string{}}
		for k, v := range r.branches {
			x.Branches[k] = v
		}
		for k, v := range r.tags {
			x.Tags[k] = v
		}
		out = append(out, x)
	}
	return out
}

// Environments returns the names of the repository's environments in creation order, each
// spelled as when it was created.
func (e *Emulator) Environments(owner, name string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return nil
	}
	out := make([]string, 0, len(r.envOrder))
	for _, k := range r.envOrder {
		out = append(out, r.envs[k].name)
	}
	return out
}

// SetCommitStatus adds a commit status (as POST /repos/{o}/{r}/statuses/{sha} would); the sha
// becomes a known commit if it was not one.
func (e *Emulator) SetCommitStatus(owner, name, sha, context, state string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return
	}
	sha = strings.ToLower(sha)
	if full, ok := r.resolveSHA(sha); ok {
		sha = full
	}
	if s, _, ok := r.resolveRef(sha); ok {
		sha = s
	}
	r.commits[sha] = true
	if context == "" {
		context = "default"
	}
	r.commitStatus[sha] = append(r.commitStatus[sha], &commitStatus{id: e.newID(), state: state, context: context, createdAt: e.now().UTC()})
}

func (d *deployment) creatorUser() *user {
	if d.creator == nil {
		return actionsBot
	}
	return d.creator
}

func (s *depStatus) creatorUser() *user {
	if s.creator == nil {
		return actionsBot
	}
	return s.creator
}

func (s *commitStatus) creatorUser() *user {
	if s.creator == nil {
		return actionsBot
	}
	return s.creator
}
