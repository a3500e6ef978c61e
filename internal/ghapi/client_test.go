package ghapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v62/github"
)

func TestBaseURLResolution(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", "https://api.github.com/"},
		{"https://api.github.com", "https://api.github.com/"},
		{"https://api.github.com/", "https://api.github.com/"},
		{"https://ghes.example.com/api/v3", "https://ghes.example.com/api/v3/"},
		{"https://ghes.example.com/api/v3/", "https://ghes.example.com/api/v3/"},
		{"https://ghes.example.com", "https://ghes.example.com/api/v3/"}, // bare GHES host, as go-github
		{"https://api.octocorp.ghe.com", "https://api.octocorp.ghe.com/"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/"}, // loopback: an emulator at the root
		{"http://127.0.0.1:8080/api/v3", "http://127.0.0.1:8080/api/v3/"},
		{"http://127.0.0.1:8080/custom/root", "http://127.0.0.1:8080/custom/root/"},
	} {
		c, err := New(Options{APIURL: tc.in})
		if err != nil {
			t.Errorf("New(%q): %v", tc.in, err)
			continue
		}
		if c.BaseURL() != tc.want {
			t.Errorf("New(%q).BaseURL() = %q, want %q", tc.in, c.BaseURL(), tc.want)
		}
	}
	for _, bad := range []string{"api.github.com", "ftp://x", "https://user:pw@h/api/v3", "https://h/api/v3?x=1"} {
		if _, err := New(Options{APIURL: bad}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "pw@") {
			t.Errorf("credentials echoed: %v", err)
		}
	}
}

func TestAutoMerged202(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	f.on("create", respond(http.StatusAccepted, `{"message":"Auto-merged main into topic on deployment."}`))
	c, logs := newClient(t, f, nil)
	_, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("m"))
	noToken(t, err, logs)
	var am *AutoMergedError
	if !errors.As(err, &am) || am.Message != "Auto-merged main into topic on deployment." {
		t.Fatalf("err = %v, want *AutoMergedError with GitHub's message", err)
	}
	var acc *github.AcceptedError
	if !errors.As(err, &acc) {
		t.Error("go-github AcceptedError not wrapped")
	}
	if f.total() != 1 || f.creates() != 0 {
		t.Errorf("requests = %d, deployments = %d", f.total(), f.creates())
	}
}

func TestConflictContextsParsed(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	f.on("create", respond(http.StatusConflict, `{"message":"Conflict: Commit status checks failed for main.",
		"errors":[{"contexts":[{"context":"ci/test","state":"failure"},{"context":"lint","state":"pending"}],
		"resource":"Deployment","field":"required_contexts","code":"invalid"}],
		"documentation_url":"https://docs.github.com/rest/deployments/deployments#create-a-deployment"}`))
	c, _ := newClient(t, f, nil)
	_, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("c"))
	var api *APIError
	if !errors.As(err, &api) || !IsConflict(err) {
		t.Fatalf("err = %v", err)
	}
	want := []ContextState{{"ci/test", "failure"}, {"lint", "pending"}}
	got := api.Contexts()
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("contexts = %v, want %v", got, want)
	}
	if fe := api.Errors[0]; fe.Field != "required_contexts" || fe.Code != "invalid" || fe.Resource != "Deployment" {
		t.Errorf("field error = %+v", fe)
	}
	msg := err.Error()
	for _, s := range []string{"create deployment: 409 Conflict: Commit status checks failed for main.", "ci/test (failure)", "lint (pending)"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}
	if f.total() != 1 {
		t.Errorf("requests = %d", f.total())
	}
}

func TestValidationMessagesKept(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	f.on("delete", respond(422, `{"message":"We cannot delete an active deployment unless it is the only deployment in a given environment.","errors":["deployment is active"],"documentation_url":"https://docs.github.com/rest/deployments/deployments#delete-a-deployment"}`))
	c, _ := newClient(t, f, nil)
	err := c.DeleteDeployment(t.Context(), "o", "r", 7)
	if !IsValidation(err) {
		t.Fatalf("err = %v", err)
	}
	want := "delete deployment: 422 We cannot delete an active deployment unless it is the only deployment in a given environment.; deployment is active"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestTokenEchoedByServerIsRedacted(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	f.on("get",
		respond(502, `{"message":"proxy saw Bearer `+testToken+`"}`),
		respond(400, `{"message":"bad header Authorization: Bearer `+testToken+`"}`))
	c, logs := newClient(t, f, nil)
	_, err := c.GetDeployment(t.Context(), "o", "r", 1)
	if err == nil || !strings.Contains(err.Error(), "Bearer ***") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(logs.String(), "proxy saw Bearer ***") {
		t.Errorf("retry not logged: %q", logs)
	}
	noToken(t, err, logs)
	if StatusCode(err) != 400 {
		t.Error("typed error lost behind redaction")
	}
	// The typed error is what callers explain from: its fields are redacted too.
	var api *APIError
	if !errors.As(err, &api) || strings.Contains(api.Message, testToken) || !strings.Contains(api.Message, "Bearer ***") {
		t.Errorf("APIError.Message = %q", api.Message)
	}
}

// TestTokenNeverFollowsARedirectToAnotherHost: a redirect from the API to another host (a
// misconfigured proxy, a hostile server) gets no Authorization header; the API host keeps it.
func TestTokenNeverFollowsARedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	var got []string
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id": 7, "ref": "main"}`)
	}))
	defer other.Close()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	f.on("get", func(w http.ResponseWriter, r *http.Request, _ func()) bool {
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
		return true
	})
	c, logs := newClient(t, f, nil)
	d, err := c.GetDeployment(t.Context(), "o", "r", 7)
	noToken(t, err, logs)
	if err != nil || d.GetID() != 7 {
		t.Fatalf("deployment %v, err %v: the redirect should still be followed", d, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "" {
		t.Errorf("Authorization sent to the other host: %q", got)
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	c, _ := newClient(t, f, nil)
	link := `<` + f.srv.URL + `/api/v3/repos/o/r/deployments?page=2>; rel="next", <` + f.srv.URL + `/api/v3/repos/o/r/deployments?page=5>; rel="last"`
	f.on("list", respond(200, `[{"id":1}]`, "Link", link))
	ds, page, err := c.ListDeployments(t.Context(), "o", "r", &github.DeploymentsListOptions{Environment: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || page != (Page{Next: 2, Last: 5}) {
		t.Errorf("got %d deployments, page %+v", len(ds), page)
	}
	f.on("statuses", respond(200, `[]`))
	_, page, err = c.ListDeploymentStatuses(t.Context(), "o", "r", 1, &github.ListOptions{PerPage: 5})
	if err != nil || page != (Page{}) {
		t.Errorf("last page = %+v, %v", page, err)
	}
}

func TestDeleteEnvironmentEscapesName(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	var uri string
	f.on("delete-env", func(w http.ResponseWriter, r *http.Request, _ func()) bool {
		uri = r.RequestURI
		if r.PathValue("name") != "review/pr 1" {
			t.Errorf("name = %q", r.PathValue("name"))
		}
		w.WriteHeader(http.StatusNoContent)
		return true
	})
	c, _ := newClient(t, f, nil)
	if err := c.DeleteEnvironment(t.Context(), "o", "r", "review/pr 1"); err != nil {
		t.Fatal(err)
	}
	if uri != "/api/v3/repos/o/r/environments/review%2Fpr%201" {
		t.Errorf("request URI = %q", uri)
	}
	// An environment that is already gone is what was asked for (a re-run of a clean-up, or one
	// whose first answer was lost).
	f.on("delete-env", respond(404, `{"message":"Not Found"}`))
	if err := c.DeleteEnvironment(t.Context(), "o", "r", "gone"); err != nil {
		t.Errorf("err = %v, want none for an environment already gone", err)
	}
}

// TestLostDeleteAnswerThen404IsDone: a DELETE whose answer was lost is retried; GitHub then
// answers 404 because the first one worked, which is success, not a failed clean-up. A 404 on a
// first attempt is still an error (a wrong id).
func TestLostDeleteAnswerThen404IsDone(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := newFakeGitHub(t, clock)
	c, logs := newClient(t, f, nil)
	d, err := c.CreateDeployment(t.Context(), "o", "r", deployReq("del"))
	if err != nil {
		t.Fatal(err)
	}
	f.on("delete", dropConnection(true), respond(404, `{"message":"Not Found"}`))
	if err := c.DeleteDeployment(t.Context(), "o", "r", d.GetID()); err != nil {
		t.Fatalf("err = %v, want success: the lost attempt deleted it", err)
	}
	if f.count("delete") != 2 {
		t.Errorf("delete requests = %d, want 2", f.count("delete"))
	}
	f.on("delete", respond(404, `{"message":"Not Found"}`))
	if err := c.DeleteDeployment(t.Context(), "o", "r", 424242); !IsNotFound(err) {
		t.Errorf("first-attempt 404: err = %v, want not found", err)
	}
	noToken(t, nil, logs)
}
