package apispec_test

// Readers for the recorded real GitHub exchanges: hub4j's in the repository's
// testdata/github/recordings, PyGithub's (LGPL, kept out of the repository) in
// ../shared/github/recordings:
//   - pygithub/*.txt: per exchange, ten lines (protocol, method, host, port, path, request
//     headers as a Python dict, request body or None, status, response headers as a Python list of
//     pairs, response body), exchanges separated by a blank line;
//   - hub4j/<Class>/wiremock/<test>/mappings/*.json (WireMock request match + response status and
//     headers) with the bodies in the sibling __files/.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/apispec"
)

// recorded is one recorded exchange.
type recorded struct {
	Source     string // file (relative to recordings/) and index, for messages
	Suite      string // the recording's test ("Repository.testCreateDeployment", "AppTest/testGetDeploymentStatuses")
	Method     string
	Path       string // path with query, as sent
	ReqHeader  http.Header
	ReqBody    []byte // nil when none
	Status     int
	RespHeader http.Header
	RespBody   []byte
}

// reference returns the repository's testdata/github.
func reference(t testing.TB) string {
	t.Helper()
	dir, err := apispec.Reference()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// sharedDir finds ../shared, or skips (fails when $DEPLOYMENT_ACTION_REQUIRE_SHARED is set).
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, required := apispec.SharedDir()
	if dir == "" || !dirExists(filepath.Join(dir, "github", "recordings", "pygithub")) {
		msg := fmt.Sprintf("shared reference directory not found (set $%s, or put shared/ beside the module root); the PyGithub recordings (LGPL, not in the repository) are unavailable (dir=%q)", apispec.EnvShared, dir)
		if required {
			t.Fatal(msg + " — and $" + apispec.EnvRequireShared + " is set")
		}
		t.Skip(msg)
	}
	return dir
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// pyStrings returns the Python string literals of a repr'd dict or list of pairs, in order.
func pyStrings(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); i++ {
		q := s[i]
		if q != '\'' && q != '"' {
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(s) && s[j] != q; j++ {
			if s[j] == '\\' && j+1 < len(s) {
				j++
				switch s[j] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				default:
					b.WriteByte(s[j])
				}
				continue
			}
			b.WriteByte(s[j])
		}
		if j >= len(s) {
			return nil, fmt.Errorf("unterminated string in %.60q", s[i:])
		}
		out = append(out, b.String())
		i = j
	}
	return out, nil
}

func pyHeaders(s string) (http.Header, error) {
	h := http.Header{}
	if s == "None" || s == "" {
		return h, nil
	}
	strs, err := pyStrings(s)
	if err != nil {
		return nil, err
	}
	if len(strs)%2 != 0 {
		return nil, fmt.Errorf("odd number of strings in headers %.80q", s)
	}
	for i := 0; i < len(strs); i += 2 {
		h.Add(strs[i], strs[i+1])
	}
	return h, nil
}

// readPyGithub parses one PyGithub ReplayData file.
func readPyGithub(path, rel string) ([]recorded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var out []recorded
	suite := strings.TrimSuffix(filepath.Base(path), ".txt")
	for i := 0; i < len(lines); {
		if strings.TrimSpace(lines[i]) == "" {
			i++
			continue
		}
		if i+10 > len(lines) {
			// A final exchange whose empty response body line was cut off.
			if i+9 == len(lines) {
				lines = append(lines, "")
			} else {
				return nil, fmt.Errorf("%s:%d: truncated exchange", rel, i+1)
			}
		}
		b := lines[i : i+10]
		if b[0] != "https" && b[0] != "http" {
			return nil, fmt.Errorf("%s:%d: expected protocol line, got %.40q", rel, i+1, b[0])
		}
		r := recorded{Source: fmt.Sprintf("pygithub/%s#%d", filepath.Base(path), len(out)+1), Suite: suite, Method: b[1], Path: b[4]}
		if r.ReqHeader, err = pyHeaders(b[5]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", rel, i+6, err)
		}
		if b[6] != "None" {
			r.ReqBody = []byte(b[6])
		}
		if r.Status, err = strconv.Atoi(b[7]); err != nil {
			return nil, fmt.Errorf("%s:%d: status: %w", rel, i+8, err)
		}
		if r.RespHeader, err = pyHeaders(b[8]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", rel, i+9, err)
		}
		r.RespBody = []byte(b[9])
		out = append(out, r)
		i += 10
	}
	return out, nil
}

type wiremockMapping struct {
	Request struct {
		URL          string                     `json:"url"`
		URLPath      string                     `json:"urlPath"`
		Method       string                     `json:"method"`
		Headers      map[string]json.RawMessage `json:"headers"`
		BodyPatterns []struct {
			EqualToJSON json.RawMessage `json:"equalToJson"`
		} `json:"bodyPatterns"`
	} `json:"request"`
	Response struct {
		Status       int                        `json:"status"`
		Body         string                     `json:"body"`
		BodyFileName string                     `json:"bodyFileName"`
		Headers      map[string]json.RawMessage `json:"headers"`
	} `json:"response"`
	InsertionIndex int `json:"insertionIndex"`
}

// readHub4j reads one WireMock recording directory (holding mappings/ and __files/), exchanges in
// recording order (insertionIndex, then the file's numeric prefix).
func readHub4j(dir, rel string) ([]recorded, error) {
	files, err := filepath.Glob(filepath.Join(dir, "mappings", "*.json"))
	if err != nil {
		return nil, err
	}
	type item struct {
		order int
		r     recorded
	}
	var items []item
	suite := strings.ReplaceAll(strings.TrimPrefix(rel, "hub4j/"), "/wiremock", "")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m wiremockMapping
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		r := recorded{
			Source:     rel + "/mappings/" + filepath.Base(f),
			Suite:      suite,
			Method:     m.Request.Method,
			Path:       m.Request.URL,
			ReqHeader:  http.Header{},
			Status:     m.Response.Status,
			RespHeader: http.Header{},
		}
		if r.Path == "" {
			r.Path = m.Request.URLPath
		}
		for k, raw := range m.Request.Headers {
			var match struct {
				EqualTo string `json:"equalTo"`
			}
			if json.Unmarshal(raw, &match) == nil && match.EqualTo != "" {
				r.ReqHeader.Set(k, match.EqualTo)
			}
		}
		if len(m.Request.BodyPatterns) > 0 && len(m.Request.BodyPatterns[0].EqualToJSON) > 0 {
			// equalToJson is a JSON string holding the JSON body (or, rarely, the JSON itself).
			var s string
			if json.Unmarshal(m.Request.BodyPatterns[0].EqualToJSON, &s) == nil {
				r.ReqBody = []byte(s)
			} else {
				r.ReqBody = []byte(m.Request.BodyPatterns[0].EqualToJSON)
			}
			r.ReqHeader.Set("Content-Type", "application/json")
		}
		for k, raw := range m.Response.Headers {
			var s string
			var ss []string
			if json.Unmarshal(raw, &s) == nil {
				r.RespHeader.Add(k, s)
			} else if json.Unmarshal(raw, &ss) == nil {
				for _, v := range ss {
					r.RespHeader.Add(k, v)
				}
			}
		}
		switch {
		case m.Response.BodyFileName != "":
			if r.RespBody, err = os.ReadFile(filepath.Join(dir, "__files", m.Response.BodyFileName)); err != nil {
				return nil, err
			}
		case m.Response.Body != "":
			r.RespBody = []byte(m.Response.Body)
		}
		order := m.InsertionIndex
		if n, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "-", 2)[0]); err == nil {
			order = n
		}
		items = append(items, item{order, r})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].order < items[j].order })
	out := make([]recorded, len(items))
	for i, it := range items {
		out[i] = it.r
	}
	return out, nil
}

// recordingSuite is the exchanges of one recorded test, in order.
type recordingSuite struct {
	Name      string
	Exchanges []recorded
}

// hub4jSuites reads hub4j's recordings in the repository, one suite per test directory, sorted by
// name ("hub4j/<Class>/wiremock/<test>").
func hub4jSuites(t testing.TB) []recordingSuite {
	t.Helper()
	root := filepath.Join(reference(t), "recordings")
	var suites []recordingSuite
	hub, _ := filepath.Glob(filepath.Join(root, "hub4j", "*", "wiremock", "*", "mappings"))
	for _, m := range hub {
		dir := filepath.Dir(m)
		rel, _ := filepath.Rel(root, dir)
		ex, err := readHub4j(dir, filepath.ToSlash(rel))
		if err != nil {
			t.Fatalf("read %s: %v", rel, err)
		}
		suites = append(suites, recordingSuite{Name: filepath.ToSlash(rel), Exchanges: ex})
	}
	sort.Slice(suites, func(i, j int) bool { return suites[i].Name < suites[j].Name })
	if len(suites) == 0 {
		t.Fatalf("no hub4j recordings found under %s", root)
	}
	return suites
}

// pygithubSuites reads PyGithub's recordings from ../shared, one suite per file, sorted by name
// ("pygithub/<Class>.<test>"); it skips when ../shared is absent (see sharedDir).
func pygithubSuites(t testing.TB) []recordingSuite {
	t.Helper()
	root := filepath.Join(sharedDir(t), "github", "recordings")
	var suites []recordingSuite
	py, _ := filepath.Glob(filepath.Join(root, "pygithub", "*.txt"))
	for _, f := range py {
		rel, _ := filepath.Rel(root, f)
		ex, err := readPyGithub(f, rel)
		if err != nil {
			t.Fatalf("read %s: %v", rel, err)
		}
		suites = append(suites, recordingSuite{Name: "pygithub/" + strings.TrimSuffix(filepath.Base(f), ".txt"), Exchanges: ex})
	}
	sort.Slice(suites, func(i, j int) bool { return suites[i].Name < suites[j].Name })
	if len(suites) == 0 {
		t.Fatalf("no PyGithub recordings found under %s", root)
	}
	return suites
}
