package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/apispec"
)

// sharedDir returns ../shared, or skips (fails when $DEPLOYMENT_ACTION_REQUIRE_SHARED is set).
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, required := apispec.SharedDir()
	if dir == "" || !fileExists(filepath.Join(dir, "github", "server.openapi.json")) {
		msg := "shared reference directory (../shared, or $" + apispec.EnvShared + ") not found: the committed " + referenceOut + " cannot be compared with its source"
		if required {
			t.Fatal(msg + " — and $" + apispec.EnvRequireShared + " is set")
		}
		t.Skip(msg)
	}
	return dir
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// TestReferenceUpToDate regenerates testdata/github in memory from ../shared and fails when the
// committed files differ (regenerate with `go run ./cmd/workbench reference`).
func TestReferenceUpToDate(t *testing.T) {
	shared := sharedDir(t)
	files, err := referenceFiles(shared)
	if err != nil {
		t.Fatal(err)
	}
	root := testkit.Path(t, referenceOut)
	onDisk := map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		onDisk[filepath.ToSlash(rel)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const fix = "; regenerate with `go run ./cmd/workbench reference` and commit the result"
	for _, name := range slices.Sorted(maps.Keys(files)) {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		switch {
		case err != nil:
			t.Errorf("%s/%s: %v%s", referenceOut, name, err, fix)
		case !bytes.Equal(got, files[name]):
			t.Errorf("%s/%s differs from what %s generates (%d bytes committed, %d generated)%s", referenceOut, name, shared, len(got), len(files[name]), fix)
		}
	}
	for name := range onDisk {
		if _, ok := files[name]; !ok && name != "README.md" {
			t.Errorf("%s/%s is not generated (stale?)%s", referenceOut, name, fix)
		}
	}
	for name := range files {
		if strings.Contains(name, "pygithub") {
			t.Errorf("%s: PyGithub's recordings are LGPL-3.0 and stay out of the repository", name)
		}
	}
}

// smallDescription has a bit of everything the subset must strip or keep.
const smallDescription = `{
	 "openapi": "3.0.3",
	 "info": {"title": "T", "version": "1.2.3", "description": "prose", "license": {"name": "MIT"}, "contact": {"name": "x"}},
	 "tags": [{"name": "repos", "description": "prose"}],
	 "externalDocs": {"url": "https://docs"},
	 "x-subset-of": {"note": "upstream"},
	 "paths": {"/things/{id}": {"get": {
	   "summary": "Get a thing", "description": "prose", "tags": ["repos"], "operationId": "things/get",
	   "externalDocs": {"url": "https://docs"}, "x-github": {"category": "c"},
	   "parameters": [{"$ref": "#/components/parameters/id"}],
	   "responses": {
	     "200": {"description": "OK", "content": {"application/json": {
	       "schema": {"$ref": "#/components/schemas/thing"},
	       "examples": {"default": {"$ref": "#/components/examples/thing"}}}}},
	     "404": {"$ref": "#/components/responses/not_found"}}}}},
	 "x-webhooks": {"thing-created": {"post": {"operationId": "thing/created", "description": "prose",
	   "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/webhook-thing-created"}}}},
	   "responses": {"200": {"description": "ok"}}}}},
	 "components": {
	   "parameters": {"id": {"name": "id", "in": "path", "required": true, "description": "prose", "schema": {"type": "integer"}, "x-multi-segment": true}},
	   "schemas": {
	     "thing": {"title": "Thing", "type": "object", "description": "prose", "required": ["description"],
	       "properties": {"description": {"type": "string", "description": "prose", "example": "x"},
	                      "title": {"type": "string", "enum": ["a"], "default": "a"},
	                      "big": {"type": "integer", "maximum": 9007199254740993}},
	       "x-github-breaking-changes": [{"changeset": "c"}]},
	     "webhook-thing-created": {"type": "object", "properties": {"thing": {"$ref": "#/components/schemas/thing"}}},
	     "basic-error": {"type": "object", "properties": {"message": {"type": "string"}}},
	     "unused": {"type": "string"}},
	   "responses": {"not_found": {"description": "Not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/basic-error"}}}}},
	   "examples": {"thing": {"value": {"description": "x"}}}}
	}`

// TestOpenAPISubset checks the stripping and the closure on a small description: prose goes,
// names that look like keywords stay, responses keep an empty description, only reachable
// components are kept, and the output is stable.
func TestOpenAPISubset(t *testing.T) {
	src := []byte(smallDescription)
	out, err := openAPISubset(src)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := openAPISubset(src)
	if !bytes.Equal(out, again) {
		t.Error("two runs differ")
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	get := func(path ...string) any {
		var cur any = doc
		for _, p := range path {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = m[p]
		}
		return cur
	}
	for _, path := range [][]string{
		{"tags"}, {"externalDocs"}, {"info", "description"}, {"info", "contact"},
		{"paths", "/things/{id}", "get", "summary"}, {"paths", "/things/{id}", "get", "description"},
		{"paths", "/things/{id}", "get", "tags"}, {"paths", "/things/{id}", "get", "x-github"},
		{"paths", "/things/{id}", "get", "externalDocs"},
		{"paths", "/things/{id}", "get", "responses", "200", "content", "application/json", "examples"},
		{"x-webhooks", "thing-created", "post", "description"},
		{"components", "schemas", "thing", "title"}, {"components", "schemas", "thing", "description"},
		{"components", "schemas", "thing", "x-github-breaking-changes"},
		{"components", "schemas", "thing", "properties", "description", "description"},
		{"components", "schemas", "thing", "properties", "description", "example"},
		{"components", "parameters", "id", "description"},
		{"components", "schemas", "unused"}, {"components", "examples"},
	} {
		if v := get(path...); v != nil {
			t.Errorf("%s kept: %v", strings.Join(path, "."), v)
		}
	}
	for _, path := range [][]string{
		{"info", "title"}, {"info", "version"}, {"info", "license"},
		{"paths", "/things/{id}", "get", "operationId"},
		{"components", "schemas", "thing", "properties", "description", "type"},
		{"components", "schemas", "thing", "properties", "title", "enum"},
		{"components", "schemas", "thing", "properties", "title", "default"},
		{"components", "schemas", "thing", "required"},
		{"components", "schemas", "webhook-thing-created"},
		{"components", "schemas", "basic-error"},
		{"components", "parameters", "id", "x-multi-segment"},
		{"x-subset-of", "source_x-subset-of", "note"},
	} {
		if v := get(path...); v == nil {
			t.Errorf("%s dropped", strings.Join(path, "."))
		}
	}
	for _, path := range [][]string{
		{"paths", "/things/{id}", "get", "responses", "200", "description"},
		{"components", "responses", "not_found", "description"},
		{"x-webhooks", "thing-created", "post", "responses", "200", "description"},
	} {
		if v := get(path...); v != "" {
			t.Errorf("%s = %v, want \"\" (OpenAPI requires a response description)", strings.Join(path, "."), v)
		}
	}
	if !bytes.Contains(out, []byte(`"maximum": 9007199254740993`)) {
		t.Error("a large number was not kept as written")
	}

	if _, err := openAPISubset([]byte(`{"openapi":"3.0.3","info":{},"paths":{"/x":{"get":{"responses":{"200":{"$ref":"#/components/responses/gone"}}}}},"x-webhooks":{"a":{}},"components":{}}`)); err == nil || !strings.Contains(err.Error(), "#/components/responses/gone") {
		t.Errorf("unresolved reference: got %v", err)
	}
}

// TestReferenceCommand runs the command on a small shared directory and checks what it writes,
// that it replaces stale generated files but keeps README.md, and its error without a source.
func TestReferenceCommand(t *testing.T) {
	shared := t.TempDir()
	out := t.TempDir()
	write := func(dir, name, body string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{
		"github/server.openapi.json":                           smallDescription,
		"github/recordings/hub4j/C/wiremock/t/mappings/1.json": `{"m":1}`,
		"github/recordings/pygithub/Repository.test.txt":       "LGPL",
		"github/webhook-examples/deployment/payload.json":      `{"d":1}`,
		"github/webhook-examples/hub4j-deployment.json":        `{"h":1}`,
		"github/webhook-examples/hub4j-deployment_status.json": `{"h":2}`,
	} {
		write(shared, name, body)
	}
	write(out, "README.md", "hand-written")
	write(out, "recordings/stale.json", "{}")

	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"reference", "--shared", shared, "--out", out}, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "wrote "+out+": 9 files") {
		t.Errorf("stdout %q", stdout.String())
	}
	if b, _ := os.ReadFile(filepath.Join(out, "README.md")); string(b) != "hand-written" {
		t.Error("README.md was not kept")
	}
	for name, want := range map[string]string{
		"recordings/hub4j/C/wiremock/t/mappings/1.json":    `{"m":1}`,
		"webhook-examples/octokit/deployment/payload.json": `{"d":1}`,
		"webhook-examples/hub4j/deployment.json":           `{"h":1}`,
		"webhook-examples/hub4j/deployment_status.json":    `{"h":2}`,
		"recordings/hub4j/LICENSE":                         "Kohsuke Kawaguchi",
		"webhook-examples/hub4j/LICENSE":                   "Kohsuke Kawaguchi",
		"webhook-examples/octokit/LICENSE":                 "Gregor Martynus",
		"NOTICE":                                           "Octokit contributors",
		"openapi.json":                                     `"x-subset-of"`,
	} {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: want it to hold %q, got %q (%v)", name, want, b, err)
		}
	}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && (strings.Contains(p, "pygithub") || strings.HasSuffix(p, "stale.json")) {
			t.Errorf("%s written or kept", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	err = run(context.Background(), []string{"reference", "--shared", t.TempDir(), "--out", out}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "server.openapi.json") || !strings.Contains(err.Error(), "--shared") {
		t.Errorf("missing shared directory: got %v", err)
	}
	err = run(context.Background(), []string{"reference", "--shared", shared, "--out", filepath.Join(out, "nope")}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing output directory: got %v", err)
	}
}
