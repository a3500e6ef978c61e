package docs

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

var (
	fenceRE      = regexp.MustCompile("(?m)^```")
	inlineCodeRE = regexp.MustCompile("`[^`\n]*`")
	linkRE       = regexp.MustCompile(`\[[^\]\n]*\]\(([^)\s]+)\)`)
	headingRE    = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
)

// prose is a page without its fenced code blocks: a link or heading inside one is an example.
func prose(s string) string {
	var b strings.Builder
	for i, part := range fenceRE.Split(s, -1) {
		if i%2 == 0 {
			b.WriteString(part)
		}
	}
	return b.String()
}

// slug is GitHub's anchor for a heading: lower case, punctuation dropped (letters, digits, spaces,
// '-' and '_' are kept), each space a '-'.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors lists a page's heading anchors; a repeated heading gets -1, -2, ... as on GitHub.
func anchors(page string) map[string]bool {
	out := map[string]bool{}
	for _, m := range headingRE.FindAllStringSubmatch(prose(page), -1) {
		a := slug(m[1])
		for n, base := 1, a; out[a]; n++ {
			a = fmt.Sprintf("%s-%d", base, n)
		}
		out[a] = true
	}
	return out
}

// brokenLinks checks every relative link of the given pages (paths relative to root, with
// slashes): the file or directory it names exists, and an anchor into a Markdown page names one
// of its headings. Absolute URLs are not followed: no test touches the internet.
func brokenLinks(root string, pages []string) []string {
	var broken []string
	for _, page := range pages {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(page)))
		if err != nil {
			broken = append(broken, fmt.Sprintf("%s: %v", page, err))
			continue
		}
		text := inlineCodeRE.ReplaceAllString(prose(string(b)), "")
		for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			rel := page
			if file != "" {
				rel = path.Join(path.Dir(page), file)
			}
			content, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil {
				if _, serr := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); serr != nil {
					broken = append(broken, fmt.Sprintf("%s: link %q: %s does not exist", page, target, rel))
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(rel, ".md") && !anchors(string(content))[anchor] {
				broken = append(broken, fmt.Sprintf("%s: link %q: %s has no heading with anchor #%s", page, target, rel, anchor))
			}
		}
	}
	return broken
}

// TestDocsLinksResolve: every relative link in README.md and docs/*.md reaches a file that exists,
// and every anchor a heading of its page, so moving text between pages cannot leave a dead link.
func TestDocsLinksResolve(t *testing.T) {
	t.Parallel()
	ps := pages(t)
	if len(ps) < 2 {
		t.Fatalf("found only %v: the docs/ pages are missing", ps)
	}
	for _, b := range brokenLinks(testkit.Root(t), ps) {
		t.Error(b)
	}
}

func TestSlugIsGitHubs(t *testing.T) {
	t.Parallel()
	for heading, want := range map[string]string{
		"4. Promotion chains: staging → production on `deployment_status`": "4-promotion-chains-staging--production-on-deployment_status",
		"10. Promote staging's live commit to production":                  "10-promote-stagings-live-commit-to-production",
		"HTTPS, `gh` and the CLI":                                          "https-gh-and-the-cli",
		"8. GitHub Enterprise Server and ghe.com":                          "8-github-enterprise-server-and-ghecom",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

// TestBrokenLinksAreFound: the checker reports a missing file, a missing anchor and a missing
// anchor in the same page, and passes good links, links in code and absolute URLs.
func TestBrokenLinksAreFound(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# Top\n\n## Try it\n\n[ok](docs/a.md#a-b) [ok](#try-it) [ok](https://example.com/x#y)\n"+
		"[gone](docs/nope.md) [bad anchor](docs/a.md#nope) [self](#nowhere)\n`[code](nope.md)`\n```\n[fenced](nope.md)\n```\n")
	write("docs/a.md", "# A: b\n\n[up](../README.md#top) [dup](#a-b-1)\n\n# A: b\n")
	got := brokenLinks(root, []string{"README.md", "docs/a.md"})
	want := []string{
		`README.md: link "docs/nope.md": docs/nope.md does not exist`,
		`README.md: link "docs/a.md#nope": docs/a.md has no heading with anchor #nope`,
		`README.md: link "#nowhere": README.md has no heading with anchor #nowhere`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
