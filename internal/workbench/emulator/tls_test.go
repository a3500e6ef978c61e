package emulator_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

func TestStartTLSWithSelfSignedCertificate(t *testing.T) {
	now := time.Now()
	cert, certPEM, err := emulator.SelfSigned(now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	eq(t, "key", leaf.PublicKeyAlgorithm, x509.ECDSA)
	if leaf.NotAfter.After(now.Add(25*time.Hour)) || leaf.VerifyHostname("127.0.0.1") != nil || leaf.VerifyHostname("localhost") != nil {
		t.Errorf("certificate: until %s, names %v %v", leaf.NotAfter, leaf.DNSNames, leaf.IPAddresses)
	}

	e := emulator.New(emulator.Config{})
	e.AddRepo(emulator.DefaultRepo())
	if err := e.StartTLS("127.0.0.1:0", cert); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if !strings.HasPrefix(e.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s", e.URL())
	}

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("PEM not usable")
	}
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(c *http.Client, path string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", e.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer t")
		return c.Do(req)
	}
	resp, err := get(trusting, "/api/v3"+repoURL)
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	decode(t, resp, &r)
	resp.Body.Close()
	eq(t, "status", resp.StatusCode, 200)
	eq(t, "URLs in bodies are https", r["url"], any(e.URL()+"/api/v3"+repoURL))
	eq(t, "protocol", resp.Proto, "HTTP/1.1")

	// A client with the system's roots only does not trust it.
	_, err = get(&http.Client{Transport: &http.Transport{}}, repoURL)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("a client without the certificate: err = %v, want x509.UnknownAuthorityError", err)
	}
}

func TestReposSnapshot(t *testing.T) {
	a := start(t, emulator.Config{}, emulator.DefaultRepo(), emulator.RepoSeed{Owner: "alice", Name: "app", OwnerType: "User"})
	repos := a.e.Repos()
	if len(repos) != 2 {
		t.Fatalf("%d repos", len(repos))
	}
	eq(t, "sorted", repos[0].Owner+"/"+repos[0].Name, "alice/app")
	eq(t, "user-owned", repos[0].OwnerType, "User")
	eq(t, "org-owned", repos[1].OwnerType, "Organization")
	eq(t, "branch", repos[1].Branches["main"], seed.Branches["main"])
	eq(t, "tag", repos[1].Tags["v1.0.0"], seed.Tags["v1.0.0"])
	eq(t, "default branch of a seed without branches", repos[0].DefaultBranch, "main")
	if repos[0].Branches["main"] == "" {
		t.Errorf("alice/app has no main")
	}
	eq(t, "id matches the API", jsonNum(a.do("GET", "/repos/alice/app", nil).must(t, 200).obj()["id"]), jsonNum(repos[0].ID))
}
