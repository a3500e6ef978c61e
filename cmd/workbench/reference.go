package main

// `workbench reference` regenerates testdata/github, the conformance reference the emulator's
// tests check against, from the shared reference directory (../shared beside the checkout):
//
//   - openapi.json: the schema-only subset of shared/github/server.openapi.json (every path and
//     x-webhooks entry it has, the components they reference, prose removed);
//   - recordings/hub4j: hub4j/github-api's WireMock recordings of real api.github.com traffic
//     (MIT), copied byte for byte;
//   - webhook-examples/{octokit,hub4j}: real-shaped webhook payloads (both MIT), copied.
//
// Each copied tree gets a LICENSE naming its project; NOTICE covers openapi.json. The PyGithub
// recordings (LGPL-3.0) stay in ../shared. README.md there is written by hand and left alone.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// referenceOut is where the generated files go, relative to the repository root.
const referenceOut = "testdata/github"

// generatedTrees are the entries of referenceOut the generator owns: they are removed before
// writing so that a file dropped upstream does not linger.
var generatedTrees = []string{"openapi.json", "NOTICE", "recordings", "webhook-examples"}

func runReference(_ context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reference", flag.ContinueOnError)
	fs.SetOutput(stderr)
	shared := fs.String("shared", "../shared", "the shared reference directory (the one holding github/server.openapi.json)")
	out := fs.String("out", referenceOut, "directory to write (the repository's "+referenceOut+" when run from the root)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./cmd/workbench reference [flags]\n\nRegenerates the conformance reference (%s) from the shared reference directory:\nthe schema-only OpenAPI subset, hub4j's recordings and the webhook examples.\n\n", referenceOut)
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	files, err := referenceFiles(*shared)
	if err != nil {
		return err
	}
	if err := writeReference(*out, files); err != nil {
		return err
	}
	var total int
	for _, b := range files {
		total += len(b)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s: %d files, %d bytes (openapi.json %d bytes)\n", *out, len(files), total, len(files["openapi.json"]))
	return err
}

// writeReference replaces the generated entries of dir with files (slash-separated paths).
func writeReference(dir string, files map[string][]byte) error {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("reference: output directory %s does not exist (run from the repository root or pass --out): %w", dir, errors.Join(err, fs.ErrNotExist))
	}
	for _, name := range generatedTrees {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("reference: %w", err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("reference: %w", err)
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return fmt.Errorf("reference: %w", err)
		}
	}
	return nil
}

// referenceFiles builds every generated file from the shared directory, keyed by its
// slash-separated path under testdata/github.
func referenceFiles(shared string) (map[string][]byte, error) {
	gh := filepath.Join(shared, "github")
	src, err := os.ReadFile(filepath.Join(gh, "server.openapi.json"))
	if err != nil {
		return nil, fmt.Errorf("reference: %w (pass --shared DIR, the directory holding github/server.openapi.json)", err)
	}
	files := map[string][]byte{}
	if files["openapi.json"], err = openAPISubset(src); err != nil {
		return nil, fmt.Errorf("reference: github/server.openapi.json: %w", err)
	}
	files["NOTICE"] = []byte(openAPINotice)

	// hub4j's recordings keep their layout (<Class>/wiremock/<test>/{mappings,__files}).
	if err := copyTree(files, filepath.Join(gh, "recordings", "hub4j"), "recordings/hub4j", func(string) bool { return true }); err != nil {
		return nil, err
	}
	files["recordings/hub4j/LICENSE"] = []byte(hub4jLicense)

	// octokit/webhooks payload examples: <event>/<name>.payload.json.
	ex := filepath.Join(gh, "webhook-examples")
	isDir := func(rel string) bool { return strings.Contains(rel, "/") }
	if err := copyTree(files, ex, "webhook-examples/octokit", isDir); err != nil {
		return nil, err
	}
	files["webhook-examples/octokit/LICENSE"] = []byte(octokitWebhooksLicense)
	// hub4j's recorded payloads, named as in hub4j (GHEventPayloadTest/<event>.json).
	for _, event := range []string{"deployment", "deployment_status"} {
		b, err := os.ReadFile(filepath.Join(ex, "hub4j-"+event+".json"))
		if err != nil {
			return nil, fmt.Errorf("reference: %w", err)
		}
		files["webhook-examples/hub4j/"+event+".json"] = b
	}
	files["webhook-examples/hub4j/LICENSE"] = []byte(hub4jLicense)
	return files, nil
}

// copyTree adds every regular file under dir whose slash path relative to dir passes keep, at
// prefix/rel.
func copyTree(files map[string][]byte, dir, prefix string, keep func(rel string) bool) error {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !keep(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[path.Join(prefix, rel)] = b
		n++
		return nil
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("no files under %s", dir)
	}
	if err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	return nil
}

// Keywords removed from the subset: documentation, not validation. They are removed only where
// they are keywords, never where they are names (a schema property called "description", a
// header called "x-github-request-id").
var proseKeys = []string{
	"description", "summary", "title", "externalDocs", "example", "examples", "tags",
	"x-github", "x-octokit", "x-github-breaking-changes",
}

// literalKeys hold JSON values, not OpenAPI objects: copied as they are.
var literalKeys = map[string]bool{"enum": true, "default": true}

// nameMapKeys hold maps from names (paths, properties, media types, status codes, component
// names) to OpenAPI objects.
var nameMapKeys = map[string]bool{
	"paths": true, "x-webhooks": true, "properties": true, "patternProperties": true,
	"content": true, "headers": true, "encoding": true, "links": true, "callbacks": true,
	"schemas": true, "parameters": true, "requestBodies": true, "securitySchemes": true,
	"mapping": true, "variables": true,
}

type stripCtx int

const (
	inObject    stripCtx = iota // keys are keywords
	inNames                     // keys are names; values are objects
	inResponses                 // keys are status codes (or names); values are response objects
)

// strip returns v without prose keywords. A response keeps an empty description, which OpenAPI
// requires.
func strip(v any, c stripCtx) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = strip(e, inObject)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			switch {
			case c == inNames:
				out[k] = strip(e, inObject)
			case c == inResponses:
				r := strip(e, inObject)
				if m, ok := r.(map[string]any); ok && m["$ref"] == nil {
					m["description"] = ""
				}
				out[k] = r
			case slices.Contains(proseKeys, k):
			case literalKeys[k]:
				out[k] = e
			case k == "responses":
				out[k] = strip(e, inResponses)
			case nameMapKeys[k]:
				out[k] = strip(e, inNames)
			default:
				out[k] = strip(e, inObject)
			}
		}
		return out
	}
	return v
}

// refs adds every "#/components/..." reference in v ($ref values and discriminator mappings).
func refs(v any, add func(string)) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			refs(e, add)
		}
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && (k == "$ref" || strings.HasPrefix(s, "#/components/")) {
				add(s)
				continue
			}
			refs(e, add)
		}
	}
}

// openAPISubset turns the shared server description into the committed subset: every path and
// x-webhooks entry, stripped of prose, with exactly the components they reach. The output is
// deterministic (encoding/json sorts map keys; numbers are kept as written).
func openAPISubset(src []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	info, _ := doc["info"].(map[string]any)
	paths, _ := doc["paths"].(map[string]any)
	hooks, _ := doc["x-webhooks"].(map[string]any)
	comps, _ := doc["components"].(map[string]any)
	if info == nil || len(paths) == 0 || len(hooks) == 0 || comps == nil {
		return nil, errors.New("want an OpenAPI 3.0 document with info, paths, x-webhooks and components")
	}
	out := map[string]any{
		"openapi":    doc["openapi"],
		"info":       map[string]any{"title": info["title"], "version": info["version"], "license": info["license"]},
		"paths":      strip(paths, inNames),
		"x-webhooks": strip(hooks, inNames),
	}
	if s, ok := doc["servers"]; ok {
		out["servers"] = s
	}

	// The transitive closure of the references, over the stripped components (examples are gone,
	// so are the components only they referenced).
	kept := map[string]any{}
	var missing []string
	var queue []string
	add := func(ref string) { queue = append(queue, ref) }
	refs(out["paths"], add)
	refs(out["x-webhooks"], add)
	seen := map[string]bool{}
	for len(queue) > 0 {
		ref := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[ref] {
			continue
		}
		seen[ref] = true
		rest, ok := strings.CutPrefix(ref, "#/components/")
		kind, name, ok2 := strings.Cut(rest, "/")
		if !ok || !ok2 || strings.Contains(name, "/") {
			missing = append(missing, ref+" (not a #/components/<kind>/<name> reference)")
			continue
		}
		name = strings.NewReplacer("~1", "/", "~0", "~").Replace(name)
		byName, _ := comps[kind].(map[string]any)
		c, ok := byName[name]
		if !ok {
			missing = append(missing, ref)
			continue
		}
		sc := strip(map[string]any{name: c}, nameMapCtx(kind))
		m, _ := kept[kind].(map[string]any)
		if m == nil {
			m = map[string]any{}
			kept[kind] = m
		}
		m[name] = sc.(map[string]any)[name]
		refs(m[name], add)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("unresolved references: %s", strings.Join(missing, ", "))
	}
	out["components"] = kept

	stripped := slices.Clone(proseKeys)
	sort.Strings(stripped)
	subsetOf := map[string]any{
		"source":                  "shared/github/server.openapi.json",
		"source_x-subset-of":      doc["x-subset-of"],
		"octokit_openapi_version": info["version"],
		"generator":               "go run ./cmd/workbench reference",
		"selection":               "every path and x-webhooks entry of the source, and the components they reference",
		"removed_keywords":        stripped,
		"removed_also":            "info.description, termsOfService and contact; top-level tags and externalDocs; components referenced only from removed examples; response descriptions are emptied (OpenAPI requires the field)",
		"license":                 "MIT: GitHub's rest-api-description, as packaged by octokit/openapi; see NOTICE",
	}
	out["x-subset-of"] = subsetOf

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// nameMapCtx is how a component of kind is stripped: responses keep an empty description.
func nameMapCtx(kind string) stripCtx {
	if kind == "responses" {
		return inResponses
	}
	return inNames
}

const mitPermission = `Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.
`

const hub4jLicense = `The files in this directory are copied from hub4j/github-api
(https://github.com/hub4j/github-api, src/test/resources/org/kohsuke/github/),
licensed under the MIT License (LICENSE.txt of that repository):

Copyright (c) 2011- Kohsuke Kawaguchi and other contributors

` + mitPermission

const octokitWebhooksLicense = `The files in this directory are copied from octokit/webhooks
(https://github.com/octokit/webhooks, payload-examples/api.github.com/),
licensed under the MIT License (LICENSE of that repository):

Copyright (c) 2018 Gregor Martynus

` + mitPermission

const openAPINotice = `openapi.json is a schema-only subset (see its x-subset-of) of GitHub's REST API
OpenAPI description, github/rest-api-description (https://github.com/github/rest-api-description),
MIT License, as packaged by octokit/openapi (https://github.com/octokit/openapi, npm
@octokit/openapi), licensed under the MIT License (LICENSE of that repository):

MIT License Copyright (c) 2020 Octokit contributors

` + mitPermission + `
The recordings and webhook examples in the subdirectories carry their own LICENSE files.
`
