package version

import (
	"archive/zip"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

const module = "github.com/deployment-action/deployment-action"

func TestResolve(t *testing.T) {
	t.Parallel()
	vcs := func(rev string, modified bool) []debug.BuildSetting {
		m := "false"
		if modified {
			m = "true"
		}
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: m}}
	}
	const rev = "05aa0aeb46181cf78782bed12fbc729c8afcda76"
	for _, tc := range []struct {
		name  string
		stamp string
		bi    *debug.BuildInfo
		want  string
	}{
		{"stamp wins", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}, Settings: vcs(rev, true)}, "v1.2.3"},
		{"go install @v1.2.3", "", &debug.BuildInfo{Main: debug.Module{Path: module, Version: "v1.2.3"}}, "v1.2.3"},
		{"go install @latest of an untagged commit", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201203649-05aa0aeb4618"}}, "v0.0.0-20261201203649-05aa0aeb4618"},
		{"checkout of a tag", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: vcs(rev, false)}, "v1.2.3"},
		{"checkout of a tag, modified", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3+dirty"}, Settings: vcs(rev, true)}, "v1.2.3+dirty"},
		{"checkout between tags", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201203649-05aa0aeb4618"}, Settings: vcs(rev, false)}, "05aa0aeb4618"},
		{"checkout after a tag, modified", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20261201203649-05aa0aeb4618+dirty"}, Settings: vcs(rev, true)}, "05aa0aeb4618+dirty"},
		{"checkout after a pre-release", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0-rc.1.0.20261201203649-05aa0aeb4618"}, Settings: vcs(rev, false)}, "05aa0aeb4618"},
		{"checkout, Go before 1.24", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, true)}, "05aa0aeb4618+dirty"},
		{"no VCS information", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"no build information", "", nil, "dev"},
	} {
		if got := resolve(tc.stamp, tc.bi); got != tc.want {
			t.Errorf("%s: resolve = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	// A test binary has no stamp and no VCS information.
	if got := UserAgent(); got != "deployment-action/dev" {
		t.Errorf("UserAgent() = %q, want deployment-action/dev", got)
	}
}

// TestRealBuilds builds the binary the ways it is built in practice and runs `version`.
func TestRealBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary six times")
	}
	t.Parallel()
	root := testkit.Root(t)
	// The go env file may set GOFLAGS (-buildvcs=false on the project's machine): every build
	// here says what it wants. -trimpath lets the builds share compiled packages.
	env := append(os.Environ(), "GOFLAGS=-trimpath", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	run := func(t *testing.T, dir string, extraEnv []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = dir, append(env, extraEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	versionOf := func(t *testing.T, bin string) string {
		t.Helper()
		out := run(t, "", nil, bin, "version")
		v, ok := strings.CutPrefix(strings.TrimSpace(out), "deployment-action ")
		if !ok {
			t.Fatalf("%s version printed %q", bin, out)
		}
		return v
	}
	build := func(t *testing.T, dir string, args ...string) string {
		t.Helper()
		bin := filepath.Join(t.TempDir(), "deployment-action")
		run(t, dir, nil, "go", append(append([]string{"build"}, args...), "-o", bin, ".")...)
		return versionOf(t, bin)
	}

	t.Run("ldflags stamp", func(t *testing.T) {
		if got := build(t, root, "-buildvcs=false", "-ldflags=-X "+module+"/internal/version.version=v1.2.3"); got != "v1.2.3" {
			t.Errorf("version %q, want the stamp v1.2.3", got)
		}
	})
	t.Run("no stamp, no VCS", func(t *testing.T) {
		if got := build(t, root, "-buildvcs=false"); got != "dev" {
			t.Errorf("version %q, want dev", got)
		}
	})

	t.Run("checkout", func(t *testing.T) {
		if _, err := exec.LookPath("git"); err != nil {
			t.Skip("git is not installed")
		}
		dir := copyModule(t, root)
		git := func(args ...string) string {
			return strings.TrimSpace(run(t, dir, []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
				"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}, "git", args...))
		}
		git("init", "-q")
		git("add", "-A")
		git("commit", "-q", "-m", "snapshot")
		rev := git("rev-parse", "HEAD")[:12]
		if got := build(t, dir, "-buildvcs=true"); got != rev {
			t.Errorf("clean checkout: version %q, want the commit %s", got, rev)
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), append(mustRead(t, filepath.Join(dir, "go.mod")), "\n// local change\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := build(t, dir, "-buildvcs=true"); got != rev+"+dirty" {
			t.Errorf("modified checkout: version %q, want %s+dirty", got, rev)
		}
		git("checkout", "-q", "--", "go.mod")
		git("tag", "v1.2.3")
		if got := build(t, dir, "-buildvcs=true"); got != "v1.2.3" {
			t.Errorf("checkout of tag v1.2.3: version %q, want v1.2.3", got)
		}
	})

	t.Run("go install @v1.2.3", func(t *testing.T) {
		// A module proxy on disk serves this tree as v1.2.3 and the dependencies from the module
		// cache; a separate module cache keeps the made-up version out of the real one.
		modcache := strings.TrimSpace(run(t, root, nil, "go", "env", "GOMODCACHE"))
		proxy := t.TempDir()
		writeModuleVersion(t, root, filepath.Join(proxy, module, "@v"), "v1.2.3")
		gobin := t.TempDir()
		run(t, root, []string{
			"GOPROXY=file://" + filepath.ToSlash(proxy) + ",file://" + filepath.ToSlash(filepath.Join(modcache, "cache", "download")),
			"GOSUMDB=off", "GOPRIVATE=", "GONOPROXY=", "GOMODCACHE=" + t.TempDir(), "GOBIN=" + gobin,
			"GOFLAGS=-trimpath -modcacherw",
		}, "go", "install", module+"@v1.2.3")
		if got := versionOf(t, filepath.Join(gobin, "deployment-action")); got != "v1.2.3" {
			t.Errorf("go install …@v1.2.3: version %q, want v1.2.3", got)
		}
	})
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// moduleFiles lists the module's files (relative, slash-separated) the way a module zip holds
// them: everything but VCS metadata.
func moduleFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func copyModule(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range moduleFiles(t, root) {
		dst := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, mustRead(t, filepath.Join(root, filepath.FromSlash(f))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var semverRE = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)

// writeModuleVersion writes the proxy files (list, .info, .mod, .zip) of root's module at version
// into dir, the module's @v directory of a GOPROXY=file:// tree.
func writeModuleVersion(t *testing.T, root, dir, version string) {
	t.Helper()
	if !semverRE.MatchString(version) {
		t.Fatalf("version %q", version)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("list", []byte(version+"\n"))
	write(version+".info", []byte(`{"Version":"`+version+`","Time":"2026-01-01T00:00:00Z"}`))
	write(version+".mod", mustRead(t, filepath.Join(root, "go.mod")))
	fh, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(fh)
	for _, f := range moduleFiles(t, root) {
		w, err := zw.Create(module + "@" + version + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(mustRead(t, filepath.Join(root, filepath.FromSlash(f)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
}
