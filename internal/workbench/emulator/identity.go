package emulator

import (
	"crypto/sha1"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Access is a token's level on one permission scope, as in a workflow's permissions: block.
// The zero value ("") means unset: see Permissions.
type Access string

// The levels of Access.
const (
	AccessNone  Access = "none"
	AccessRead  Access = "read"
	AccessWrite Access = "write"
)

func (a Access) atLeast(b Access) bool { return a.rank() >= b.rank() }

func (a Access) rank() int {
	switch a {
	case AccessRead:
		return 1
	case AccessWrite:
		return 2
	}
	return 0
}

// Permissions is what a token may do.
//
// DeploymentsRead/DeploymentsWrite/Administration are the original three rights and keep their
// meaning. The scopes added for the toolkit endpoints are Access values; an unset ("") scope
// takes the level of the deployment rights (DeploymentsWrite → write, else DeploymentsRead →
// read, else none), so a literal written before they existed still describes a token that is
// read-only, read-write or powerless as a whole. Set a scope to AccessNone to refuse it
// explicitly. Metadata (GET /repos/{o}/{r}, collaborator permission) is always readable, as
// GITHUB_TOKEN always has metadata: read.
type Permissions struct {
	DeploymentsWrite, DeploymentsRead, Administration bool

	Contents     Access // GET .../commits/{ref}
	Checks       Access // check runs and check suites
	Statuses     Access // commit statuses and the combined status
	PullRequests Access // pulls; also PR comments and their reactions
	Issues       Access // issue comments and their reactions
}

// fullPermissions is what any token has when Config.Tokens is empty.
var fullPermissions = Permissions{DeploymentsWrite: true, DeploymentsRead: true, Administration: true,
	Contents: AccessWrite, Checks: AccessWrite, Statuses: AccessWrite, PullRequests: AccessWrite, Issues: AccessWrite}

type scope int

const (
	scopeMetadata scope = iota
	scopeDeployments
	scopeAdministration
	scopeContents
	scopeChecks
	scopeStatuses
	scopePullRequests
	scopeIssues
)

func (p Permissions) legacy() Access {
	switch {
	case p.DeploymentsWrite:
		return AccessWrite
	case p.DeploymentsRead:
		return AccessRead
	}
	return AccessNone
}

// level is the token's access on scope s.
func (p Permissions) level(s scope) Access {
	pick := func(a Access) Access {
		if a == "" {
			return p.legacy()
		}
		return a
	}
	switch s {
	case scopeMetadata:
		return AccessRead
	case scopeDeployments:
		return p.legacy()
	case scopeAdministration:
		if p.Administration {
			return AccessWrite
		}
		return AccessNone
	case scopeContents:
		return pick(p.Contents)
	case scopeChecks:
		return pick(p.Checks)
	case scopeStatuses:
		return pick(p.Statuses)
	case scopePullRequests:
		return pick(p.PullRequests)
	case scopeIssues:
		return pick(p.Issues)
	}
	return AccessNone
}

// User is a GitHub account known to the emulator.
type User struct {
	Login string
	// ID is the account id; 0 = derived from the login (deterministic).
	ID int64
	// Type is "User", "Bot" or "Organization"; "" = "Bot" for a login ending in "[bot]", else
	// "User".
	Type string
}

// DefaultUser is the login every token acts as unless SetTokenUser says otherwise.
const DefaultUser = botLogin

type user struct {
	login string
	id    int64
	typ   string
}

// actionsBot is the default identity (never modified).
var actionsBot = &user{login: botLogin, id: botUserID, typ: "Bot"}

// Roles a user can have on a repository (SetRole). RoleNone removes the user's role.
const (
	RoleAdmin    = "admin"
	RoleMaintain = "maintain"
	RoleWrite    = "write"
	RoleTriage   = "triage"
	RoleRead     = "read"
	RoleNone     = ""
)

var roleRank = map[string]int{RoleRead: 1, RoleTriage: 2, RoleWrite: 3, RoleMaintain: 4, RoleAdmin: 5}

func derivedID(kind, login string) int64 {
	h := sha1.Sum([]byte(kind + ":" + strings.ToLower(login)))
	id := int64(h[0])<<24 | int64(h[1])<<16 | int64(h[2])<<8 | int64(h[3])
	return id%90000000 + 10000000
}

// AddUser registers a user (or returns the one already known by that login, unchanged) and
// returns it with ID and Type filled in.
func (e *Emulator) AddUser(u User) User {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.addUserLocked(u)
	return User{Login: x.login, ID: x.id, Type: x.typ}
}

func (e *Emulator) addUserLocked(u User) *user {
	if x := e.users[strings.ToLower(u.Login)]; x != nil {
		return x
	}
	x := &user{login: u.Login, id: u.ID, typ: u.Type}
	if x.typ == "" {
		x.typ = "User"
		if strings.HasSuffix(x.login, "[bot]") {
			x.typ = "Bot"
		}
	}
	if x.id == 0 {
		x.id = derivedID(x.typ, x.login)
	}
	e.users[strings.ToLower(u.Login)] = x
	return x
}

// userLocked returns the known user login, registering it (as AddUser would) when unknown.
func (e *Emulator) userLocked(login string) *user {
	return e.addUserLocked(User{Login: login})
}

// Users lists the known users, the default github-actions[bot] included, in no particular order.
func (e *Emulator) Users() []User {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]User, 0, len(e.users))
	for _, u := range e.users {
		out = append(out, User{Login: u.login, ID: u.id, Type: u.typ})
	}
	return out
}

// SetTokenUser makes token act as the user login (registered if unknown): it becomes the
// creator of what the token creates, the author of its comments and reactions, and the sender
// of the webhooks it causes. It works whether or not Config.Tokens lists the token; the token
// itself is not stored, only a hash of it.
func (e *Emulator) SetTokenUser(token, login string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokenUsers[tokenKey(token)] = e.userLocked(login)
}

func (e *Emulator) tokenUserLocked(tok string) *user {
	if u := e.tokenUsers[tokenKey(tok)]; u != nil {
		return u
	}
	return actionsBot
}

// SetRole gives login (registered if unknown) a role on a repository: RoleAdmin, RoleMaintain,
// RoleWrite, RoleTriage, RoleRead, or RoleNone to remove it.
func (e *Emulator) SetRole(owner, name, login, role string) error {
	if _, ok := roleRank[role]; !ok && role != RoleNone {
		return fmt.Errorf("emulator: role %q: want admin, maintain, write, triage, read or \"\"", role)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repoLocked(owner, name)
	if r == nil {
		return fmt.Errorf("emulator: no repository %s/%s", owner, name)
	}
	u := e.userLocked(login)
	if role == RoleNone {
		delete(r.roles, strings.ToLower(u.login))
	} else {
		r.roles[strings.ToLower(u.login)] = role
	}
	return nil
}

// roleOf is the user's role on r: the owner (a user account) is admin.
func (r *repo) roleOf(u *user) string {
	if strings.EqualFold(u.login, r.owner) && u.typ != "Organization" {
		return RoleAdmin
	}
	return r.roles[strings.ToLower(u.login)]
}

// permissionOf maps a role to the collaborator-permission API's "permission" value.
func permissionOf(role string) string {
	switch role {
	case RoleAdmin:
		return "admin"
	case RoleMaintain, RoleWrite:
		return "write"
	case RoleTriage, RoleRead:
		return "read"
	}
	return "none"
}

// authorAssociation is what GitHub shows for u on r: OWNER, COLLABORATOR (any role),
// CONTRIBUTOR (a merged pull request), else NONE.
func (r *repo) authorAssociation(u *user) string {
	if strings.EqualFold(u.login, r.owner) {
		return "OWNER"
	}
	if r.roles[strings.ToLower(u.login)] != "" {
		return "COLLABORATOR"
	}
	for _, is := range r.issues {
		if is.pr != nil && is.pr.merged && is.user == u {
			return "CONTRIBUTOR"
		}
	}
	return "NONE"
}

func (u *user) apiURL(base string) string { return base + "/users/" + url.PathEscape(u.login) }

func (u *user) htmlURL(base string) string {
	if u.typ == "Bot" {
		return webHost(base) + "/apps/" + url.PathEscape(strings.TrimSuffix(u.login, "[bot]"))
	}
	return webHost(base) + "/" + url.PathEscape(u.login)
}

func (u *user) nodeID() string {
	if u == actionsBot {
		return "MDM6Qm90NDE4OTgyODI="
	}
	return nodeID(u.typ, u.id)
}

// json renders a simple-user.
func (u *user) json(base string) obj {
	a := u.apiURL(base)
	return obj{
		"login":               u.login,
		"id":                  u.id,
		"node_id":             u.nodeID(),
		"avatar_url":          webHost(base) + "/avatars/u/" + strconv.FormatInt(u.id, 10) + "?v=4",
		"gravatar_id":         "",
		"url":                 a,
		"html_url":            u.htmlURL(base),
		"followers_url":       a + "/followers",
		"following_url":       a + "/following{/other_user}",
		"gists_url":           a + "/gists{/gist_id}",
		"starred_url":         a + "/starred{/owner}{/repo}",
		"subscriptions_url":   a + "/subscriptions",
		"organizations_url":   a + "/orgs",
		"repos_url":           a + "/repos",
		"events_url":          a + "/events{/privacy}",
		"received_events_url": a + "/received_events",
		"type":                u.typ,
		"site_admin":          false,
	}
}
