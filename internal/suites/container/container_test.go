// Package container tests the real Dockerfile: it builds the image with podman (from a builder
// image assembled from the host's Go toolchain, because no registry is reachable in tests), then
// runs jobs through the runner simulation (internal/workbench/actionsim: inputs, environment,
// state, file commands) with each stage in a container started as the runner starts it (same
// docker-run flags and mounts), against the API emulator running in this process.
//
// The test needs podman and runc. Without them it skips, unless DEPLOYMENT_ACTION_REQUIRE_TOOLS=1
// (CI), where a missing tool is a failure. -short skips it.
package container

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
)

const (
	// requireToolsEnv makes missing tools a failure instead of a skip.
	requireToolsEnv = "DEPLOYMENT_ACTION_REQUIRE_TOOLS"
	// runtimeEnv overrides the OCI runtime (default runc, as on this project's CI machine).
	runtimeEnv = "DEPLOYMENT_ACTION_PODMAN_RUNTIME"
	// maxImageBytes is the size budget of the final image: 14 MiB since the same binary serves
	// (deployment-action serve: prometheus/client_golang and golang-jwt took it from 7.9 to
	// 11.1 MB; Slack's client slack-go, the policy's YAML and the protection rule to 12.6 MB);
	// the action's pull is still a few hundred milliseconds.
	maxImageBytes = 14 << 20
	// imageRepo is where the test's images are tagged (local only, never pushed).
	imageRepo = "localhost/deployment-action-test"
	// stampedVersion is the VERSION the image is built with; `version` must report it.
	stampedVersion = "v0.0.0-test"
)

// fixture is the result of the one image build shared by every test in this binary.
type fixture struct {
	root      string        // repository root (build context)
	image     string        // tag of the built image
	binary    string        // the image's binary, extracted, for direct runs
	files     []tarEntry    // the final image's file system
	buildTime time.Duration // podman build wall time
	err       error
	skip      string
}

type tarEntry struct {
	name     string
	typeflag byte
	linkname string
	size     int64
}

var (
	fixtureOnce sync.Once
	fixt        fixture
	cleanups    []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

func requireTools() bool { return os.Getenv(requireToolsEnv) == "1" }

func podmanRuntime() string {
	if r := os.Getenv(runtimeEnv); r != "" {
		return r
	}
	return "runc"
}

// built returns the shared fixture, building the image on first use; it skips or fails t when
// the tools are missing or the build failed.
func built(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the container test builds the image with podman (minutes); the full tier runs it")
	}
	fixtureOnce.Do(func() { fixt = buildFixture() })
	if fixt.skip != "" {
		if requireTools() {
			t.Fatalf("%s (%s=1: required)", fixt.skip, requireToolsEnv)
		}
		t.Skip(fixt.skip)
	}
	if fixt.err != nil {
		t.Fatalf("building the image: %v", fixt.err)
	}
	return &fixt
}

func buildFixture() (f fixture) {
	for _, tool := range []string{"podman", podmanRuntime(), "go", "ldd"} {
		if _, err := exec.LookPath(tool); err != nil {
			f.skip = fmt.Sprintf("%s is not installed (apt-get install -y podman runc)", tool)
			return f
		}
	}
	root, err := repoRoot()
	if err != nil {
		f.err = err
		return f
	}
	f.root = root
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	builder, err := builderImage(ctx)
	if err != nil {
		f.err = fmt.Errorf("assembling the builder image: %w", err)
		return f
	}

	// The build is offline (--network none): modules come from the host's module cache, served
	// as a file:// GOPROXY. The cache must hold every module go.mod needs (`go mod download`).
	modcache, err := goEnv(ctx, root, "GOMODCACHE")
	if err != nil {
		f.err = err
		return f
	}
	// A compile cache kept between runs (Go's cache is content-addressed and safe to share),
	// so repeated runs do not recompile every dependency.
	gocache := filepath.Join(os.TempDir(), "deployment-action-test-gocache")
	if dir, err := os.UserCacheDir(); err == nil {
		gocache = filepath.Join(dir, "deployment-action-test", "go-build")
	}
	if err := os.MkdirAll(gocache, 0o755); err != nil {
		f.err = err
		return f
	}

	run := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	f.image = imageRepo + "/action:" + run
	// Every image this build commits (the final one and the builder stage's) carries the run's
	// label, so the clean-up removes them all and repeated runs leave nothing behind.
	label := "deployment-action-test.run=" + run
	cleanups = append(cleanups, func() {
		ctx := context.Background()
		_, _ = podman(ctx, "rmi", "--force", f.image)
		_, _ = podman(ctx, "image", "prune", "--all", "--force", "--filter", "label="+label)
	})
	start := time.Now()
	out, err := podman(ctx, "build", "--runtime", podmanRuntime(), "--network", "none",
		"--label", label,
		"--volume", filepath.Join(modcache, "cache", "download")+":/goproxy:ro",
		"--volume", gocache+":/root/.cache/go-build",
		"--build-arg", "GO_IMAGE="+builder,
		"--build-arg", "GOPROXY=file:///goproxy",
		"--build-arg", "VERSION="+stampedVersion,
		"--tag", f.image, "--file", filepath.Join(root, "Dockerfile"), root)
	f.buildTime = time.Since(start)
	if err != nil {
		f.err = fmt.Errorf("podman build: %v\n%s\n(the build is offline: if a module is missing, run `go mod download` on the host first)", err, out)
		return f
	}

	// Export the image's file system to list it and take the binary out for direct runs.
	out, err = podman(ctx, "create", f.image)
	if err != nil {
		f.err = fmt.Errorf("podman create: %v\n%s", err, out)
		return f
	}
	cid := strings.TrimSpace(lastLine(out))
	defer func() { _, _ = podman(context.Background(), "rm", "--force", cid) }()
	dir, err := os.MkdirTemp("", "deployment-action-container-")
	if err != nil {
		f.err = err
		return f
	}
	cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
	exportPath := filepath.Join(dir, "rootfs.tar")
	if out, err := podman(ctx, "export", "--output", exportPath, cid); err != nil {
		f.err = fmt.Errorf("podman export: %v\n%s", err, out)
		return f
	}
	f.binary = filepath.Join(dir, "deployment-action")
	f.files, f.err = readExport(exportPath, "action/deployment-action", f.binary)
	return f
}

// readExport lists an exported file system and copies one regular file out of it.
func readExport(path, want, dst string) ([]tarEntry, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = fh.Close() }()
	var entries []tarEntry
	found := false
	tr := tar.NewReader(fh)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")
		entries = append(entries, tarEntry{name: strings.TrimSuffix(name, "/"), typeflag: h.Typeflag, linkname: h.Linkname, size: h.Size})
		if name == want && h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(dst, data, 0o755); err != nil {
				return nil, err
			}
			found = true
		}
	}
	if !found {
		return entries, fmt.Errorf("%s is not a regular file in the image", want)
	}
	return entries, nil
}

// ---- builder image from the host ----

// builderImage imports a minimal Go builder image made from the host: the Go toolchain (at
// /usr/local/go, as in the golang image), /bin/sh and ln with their shared libraries (for the
// Dockerfile's RUN lines), the CA bundle the Dockerfile copies, and the golang image's
// environment. The tag is derived from its content, so later runs reuse it.
func builderImage(ctx context.Context) (string, error) {
	goroot, err := goEnv(ctx, "", "GOROOT")
	if err != nil {
		return "", err
	}
	goversion, err := goEnv(ctx, "", "GOVERSION")
	if err != nil {
		return "", err
	}
	var bins []string
	for _, name := range []string{"sh", "ln"} {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", err
		}
		bins = append(bins, p)
	}
	libs, err := sharedLibs(ctx, bins...)
	if err != nil {
		return "", err
	}
	const caBundle = "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(caBundle); err != nil {
		return "", fmt.Errorf("the host has no CA bundle to give the builder (apt-get install ca-certificates): %w", err)
	}

	// Content key: toolchain version and location, the copied binaries and libraries.
	h := sha256.New()
	_, _ = fmt.Fprintln(h, "v1", goversion, goroot, runtime.GOARCH)
	for _, p := range append(append([]string{}, bins...), libs...) {
		st, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		_, _ = fmt.Fprintln(h, p, st.Size(), st.ModTime().UnixNano())
	}
	tag := fmt.Sprintf("%s/go-builder:%s-%s", imageRepo, goversion, hex.EncodeToString(h.Sum(nil))[:12])
	if _, err := podman(ctx, "image", "exists", tag); err == nil {
		return tag, nil
	}

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeRootfs(pw, goroot, bins, libs, caBundle)) }()
	cmd := exec.CommandContext(ctx, "podman", "import",
		"--change", "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--change", "ENV GOPATH=/go",
		"--change", "ENV GOLANG_VERSION="+strings.TrimPrefix(goversion, "go"),
		"--change", "ENV GOTOOLCHAIN=local",
		"--change", "ENV HOME=/root",
		"-", tag)
	cmd.Stdin = pr
	out, err := cmd.CombinedOutput()
	_ = pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return "", fmt.Errorf("podman import: %v\n%s", err, out)
	}
	return tag, nil
}

// sharedLibs lists the shared libraries (and the dynamic loader) the binaries need, per ldd.
func sharedLibs(ctx context.Context, bins ...string) ([]string, error) {
	seen := map[string]bool{}
	var libs []string
	for _, b := range bins {
		out, err := exec.CommandContext(ctx, "ldd", b).CombinedOutput()
		if err != nil {
			if bytes.Contains(out, []byte("not a dynamic executable")) {
				continue
			}
			return nil, fmt.Errorf("ldd %s: %v\n%s", b, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			var p string
			switch {
			case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
				p = f[2]
			case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
				p = f[0]
			}
			if p != "" && !seen[p] {
				seen[p] = true
				libs = append(libs, p)
			}
		}
	}
	sort.Strings(libs)
	return libs, nil
}

func writeRootfs(w io.Writer, goroot string, bins, libs []string, caBundle string) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	mkdir := func(name string, mode int64) error {
		if name == "." || name == "" || dirs[name] {
			return nil
		}
		dirs[name] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: time.Unix(0, 0)})
	}
	parents := func(name string) error {
		var chain []string
		for d := filepath.Dir(name); d != "." && d != "/"; d = filepath.Dir(d) {
			chain = append(chain, d)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			if err := mkdir(chain[i], 0o755); err != nil {
				return err
			}
		}
		return nil
	}
	// addFile copies src (following symlinks) to name in the image.
	addFile := func(name, src string, mode int64) error {
		if err := parents(name); err != nil {
			return err
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	}
	addText := func(name, text string) error {
		if err := parents(name); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(text)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := io.WriteString(tw, text)
		return err
	}

	for _, d := range []string{"tmp"} {
		if err := mkdir(d, 0o1777); err != nil {
			return err
		}
	}
	for _, d := range []string{"root", "go", "go/bin", "go/pkg", "etc", "usr", "usr/local"} {
		if err := mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if err := addText("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"); err != nil {
		return err
	}
	if err := addText("etc/group", "root:x:0:\n"); err != nil {
		return err
	}
	if err := addFile(strings.TrimPrefix(caBundle, "/"), caBundle, 0o644); err != nil {
		return err
	}
	for _, b := range bins {
		if err := addFile("bin/"+filepath.Base(b), b, 0o755); err != nil {
			return err
		}
	}
	for _, l := range libs {
		if err := addFile(strings.TrimPrefix(l, "/"), l, 0o755); err != nil {
			return err
		}
	}

	// The toolchain, without its own tests and docs.
	skip := map[string]bool{"test": true, "api": true, "doc": true}
	return filepath.WalkDir(goroot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(goroot, p)
		if err != nil {
			return err
		}
		if rel != "." && d.IsDir() && skip[filepath.ToSlash(rel)] {
			return filepath.SkipDir
		}
		name := "usr/local/go"
		if rel != "." {
			name += "/" + filepath.ToSlash(rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return mkdir(name, 0o755)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: time.Unix(0, 0)})
		case info.Mode().IsRegular():
			fh, err := os.Open(p)
			if err != nil {
				return err
			}
			defer func() { _ = fh.Close() }()
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(info.Mode().Perm()), Size: info.Size(), ModTime: info.ModTime()}); err != nil {
				return err
			}
			_, err = io.Copy(tw, fh)
			return err
		}
		return nil
	})
}

// ---- helpers ----

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
				return "", fmt.Errorf("no Dockerfile beside %s", filepath.Join(dir, "go.mod"))
			}
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func goEnv(ctx context.Context, dir, name string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", name)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "", fmt.Errorf("go env %s is empty", name)
	}
	return v, nil
}

func podman(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "podman", args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// runnerRunFlags are the flags the runner's `docker run` uses that matter here, plus the
// resource limits of this project's CI machine.
func runnerRunFlags() []string {
	return []string{"--runtime", podmanRuntime(), "run", "--rm",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
		"--network", "host", "--workdir", "/github/workspace"}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// ---- tests ----

func TestImage(t *testing.T) {
	f := built(t)
	t.Logf("build: %s (podman build, offline, builder from the host toolchain)", f.buildTime.Round(100*time.Millisecond))

	out, err := podman(context.Background(), "image", "inspect", "--format",
		"{{.Size}}|{{json .Config.Entrypoint}}|{{.Config.User}}|{{.Config.WorkingDir}}|{{json .Config.Cmd}}", f.image)
	if err != nil {
		t.Fatalf("podman image inspect: %v\n%s", err, out)
	}
	parts := strings.Split(strings.TrimSpace(out), "|")
	if len(parts) != 5 {
		t.Fatalf("unexpected inspect output %q", out)
	}
	size, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		t.Fatalf("image size %q: %v", parts[0], err)
	}
	t.Logf("image: size=%.1f MB", float64(size)/1e6)
	if size >= maxImageBytes {
		t.Errorf("image is %d bytes, want < %d", size, maxImageBytes)
	}
	if parts[1] != `["/action/main"]` {
		t.Errorf("ENTRYPOINT = %s, want [\"/action/main\"] (exec form)", parts[1])
	}
	if parts[2] != "" && parts[2] != "root" && parts[2] != "0" {
		t.Errorf("USER = %q: the action must run as root (the runner's file-command files belong to the runner user)", parts[2])
	}
	if parts[3] != "" && parts[3] != "/" {
		t.Errorf("WORKDIR = %q: the runner forces /github/workspace; do not rely on WORKDIR", parts[3])
	}

	// The file system: exactly the binary, its three stage links and the CA bundle.
	got := map[string]tarEntry{}
	for _, e := range f.files {
		if e.typeflag != tar.TypeDir {
			got[e.name] = e
		}
	}
	for _, stage := range []string{"pre", "main", "post"} {
		e, ok := got["action/"+stage]
		switch {
		case !ok:
			t.Errorf("/action/%s is missing", stage)
		case e.typeflag != tar.TypeSymlink || (e.linkname != "deployment-action" && e.linkname != "/action/deployment-action"):
			t.Errorf("/action/%s: type %q link %q, want a symlink to deployment-action", stage, e.typeflag, e.linkname)
		}
		delete(got, "action/"+stage)
	}
	if e, ok := got["etc/ssl/cert.pem"]; !ok || e.size == 0 {
		t.Errorf("the CA bundle /etc/ssl/cert.pem is missing or empty")
	}
	delete(got, "etc/ssl/cert.pem")
	delete(got, "action/deployment-action")
	for name := range got {
		// podman export adds mount points and resolv/hosts files of the (never started) container.
		switch name {
		case "etc/hosts", "etc/resolv.conf", "etc/hostname", "run/.containerenv", ".containerenv":
			continue
		}
		t.Errorf("unexpected file in the image: /%s", name)
	}

	// No shell: a shell entrypoint must fail to start.
	args := append(runnerRunFlags(), "-v", t.TempDir()+":/github/workspace", "--entrypoint", "/bin/sh", f.image, "-c", "true")
	if out, err := podman(context.Background(), args...); err == nil {
		t.Errorf("/bin/sh ran in the final image:\n%s", out)
	} else if !strings.Contains(out, "/bin/sh") {
		t.Errorf("starting /bin/sh failed for another reason than its absence: %v\n%s", err, out)
	}
	// The binary is static: it runs on the host outside any container too.
	if out, err := exec.Command("file", f.binary).CombinedOutput(); err == nil && !bytes.Contains(out, []byte("statically linked")) {
		t.Errorf("the binary is not statically linked: %s", out)
	}
}

func TestStartTime(t *testing.T) {
	f := built(t)
	const runs = 5
	ctx := context.Background()
	var inContainer, direct []time.Duration
	var containerOut, directOut string
	workspace := t.TempDir() // the runner always mounts the workspace it sets as the workdir
	// One untimed run each first, so that neither side pays for a cold cache.
	for i := 0; i <= runs; i++ {
		args := append(runnerRunFlags(), "-v", workspace+":/github/workspace", "--entrypoint", "/action/deployment-action", f.image, "version")
		start := time.Now()
		out, err := podman(ctx, args...)
		d := time.Since(start)
		if err != nil {
			t.Fatalf("podman run … version: %v\n%s", err, out)
		}
		containerOut = out
		if i > 0 {
			inContainer = append(inContainer, d)
		}
	}
	for i := 0; i <= runs; i++ {
		start := time.Now()
		out, err := exec.CommandContext(ctx, f.binary, "version").CombinedOutput()
		d := time.Since(start)
		if err != nil {
			t.Fatalf("%s version: %v\n%s", f.binary, err, out)
		}
		directOut = string(out)
		if i > 0 {
			direct = append(direct, d)
		}
	}
	mc, md := median(inContainer), median(direct)
	t.Logf("container start: median %dms vs direct %dms (ratio %.1f)", mc.Milliseconds(), md.Milliseconds(), float64(mc)/float64(max(md, time.Microsecond)))
	if strings.TrimSpace(containerOut) != strings.TrimSpace(directOut) {
		t.Errorf("version differs: container %q, direct %q", containerOut, directOut)
	}
	if want := "deployment-action " + stampedVersion; strings.TrimSpace(containerOut) != want {
		t.Errorf("the image reports %q, want %q (built with --build-arg VERSION=%s)", strings.TrimSpace(containerOut), want, stampedVersion)
	}
}

// ---- the runner simulation, with each stage in a container ----

// job is one workflow job using the action, run by the runner simulation (actionsim): inputs,
// environment, state and file commands are its; each stage runs in a fresh container of the
// image, started as the runner starts it.
type job struct {
	*actionsim.Job
	t     *testing.T
	f     *fixture
	token string
	runID string
	// check, when set, runs after each stage's container exited, with what the stage wrote.
	check func(stage string, res stageResult)
	// leaks are the files already reported for holding the token.
	leaks map[string]bool
}

// stageResult is one stage as the runner saw it: the container's output and exit, and the file
// commands it wrote.
type stageResult struct {
	stdout, stderr string
	err            error
	outputs, state map[string]string
	env            map[string]string
	summary        string
}

func newJob(t *testing.T, f *fixture, apiURL string) *job {
	t.Helper()
	a, err := actionsim.LoadAction(filepath.Join(f.root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Runs.Using != "docker" || a.Runs.Image != "Dockerfile" {
		t.Fatalf("action.yml runs: using %q image %q, want docker + Dockerfile", a.Runs.Using, a.Runs.Image)
	}
	token := "ghs_" + randomHex(18)
	// The step names its environment: an empty one at job start is taken for a value a later
	// step gives, and pre then leaves the create to main.
	aj := testkit.NewJob(nil, a, apiURL, token, map[string]string{"environment": "production"})
	aj.Env["GITHUB_ACTION_REPOSITORY"] = "deployment-action/deployment-action"
	aj.Env["GITHUB_ACTION_REF"] = "v1"
	aj.Event = map[string]any{
		"ref": "refs/heads/main", "before": "0000000000000000000000000000000000000000", "after": aj.Env["GITHUB_SHA"],
		"repository": map[string]any{"id": 1296269, "name": testkit.Repo, "full_name": testkit.Owner + "/" + testkit.Repo,
			"default_branch": "main", "owner": map[string]any{"login": testkit.Owner}},
		"sender": map[string]any{"login": "octocat"},
	}
	j := &job{Job: aj, t: t, f: f, token: token, runID: aj.Env["GITHUB_RUN_ID"], leaks: map[string]bool{}}
	aj.Exec = j.exec
	return j
}

// logURL is the job's page, which every status must link to.
func (j *job) logURL() string {
	return "https://github.com/" + j.Env["GITHUB_REPOSITORY"] + "/actions/runs/" + j.runID + "/job/" + j.Contexts.CheckRunID
}

// run runs the job: pre, steps (for example one that fails or cancels the run), main, post.
func (j *job) run() *actionsim.Result {
	j.t.Helper()
	return testkit.Run(j.t, j.Job)
}

// exec runs one stage in a fresh container as the runner does: its `docker run` flags, the
// mounts, the environment with paths as the container sees them, the stage's entrypoint.
func (j *job) exec(ctx context.Context, s actionsim.StageRun) error {
	t := j.t // no t.Helper: the log lines point here, not into actionsim
	// As the runner does: `-e NAME` on the command line, values through podman's environment,
	// so the token never appears in a command line.
	args := runnerRunFlags()
	env := s.ContainerEnv()
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	cmdEnv := []string{"PATH=" + os.Getenv("PATH")}
	for _, v := range []string{"HOME", "XDG_RUNTIME_DIR", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "TMPDIR"} {
		if val, ok := os.LookupEnv(v); ok {
			cmdEnv = append(cmdEnv, v+"="+val)
		}
	}
	for _, k := range names {
		args = append(args, "-e", k)
		cmdEnv = append(cmdEnv, k+"="+env[k])
	}
	mounts := make([]string, 0, len(s.Mounts))
	for c := range s.Mounts {
		mounts = append(mounts, c)
	}
	sort.Strings(mounts)
	for _, c := range mounts {
		args = append(args, "-v", s.Mounts[c]+":"+c)
	}
	args = append(args, "--entrypoint", s.Entrypoint, j.f.image)
	args = append(args, s.Args...)

	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = cmdEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(s.Stdout, &stdout), io.MultiWriter(s.Stderr, &stderr)
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s: %s in %s (exit: %v)\nstdout:\n%s\nstderr:\n%s", s.Stage, s.Entrypoint, time.Since(start).Round(time.Millisecond), err, indent(stdout.String()), indent(stderr.String()))

	res := stageResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
	read := func(name string) string {
		data, err := os.ReadFile(s.Env[name])
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	var perr error
	if res.outputs, perr = actionsim.ParseFileCommandMap(read("GITHUB_OUTPUT")); perr != nil {
		t.Errorf("%s: GITHUB_OUTPUT: %v (the runner would fail the step)", s.Stage, perr)
	}
	if res.state, perr = actionsim.ParseFileCommandMap(read("GITHUB_STATE")); perr != nil {
		t.Errorf("%s: GITHUB_STATE: %v (the runner would fail the step)", s.Stage, perr)
	}
	if res.env, perr = actionsim.ParseFileCommandMap(read("GITHUB_ENV")); perr != nil {
		t.Errorf("%s: GITHUB_ENV: %v (the runner would fail the step)", s.Stage, perr)
	}
	res.summary = read("GITHUB_STEP_SUMMARY")
	// The mounted directories exist only while the job runs: look for the token now.
	j.checkNoTokenInFiles(s.Mounts)
	if j.check != nil {
		j.check(s.Stage, res)
	}
	return err
}

// checkNoToken fails when the token appears in anything the action printed.
func (j *job) checkNoToken(res *actionsim.Result) {
	t := j.t
	t.Helper()
	for _, stage := range res.Ran {
		for name, s := range map[string]string{"stdout": res.Stdout[stage], "stderr": res.Stderr[stage]} {
			// The one allowed form: `::add-mask::<token>` on a line of its own. The runner
			// consumes that command (it is never logged) and masks the value from then on.
			s = strings.ReplaceAll(s, "::add-mask::"+j.token+"\n", "")
			if strings.Contains(s, j.token) {
				t.Errorf("the token appears in the %s of %s", name, stage)
			}
		}
	}
}

// checkNoTokenInFiles fails when the token appears in a file the action left on a mount.
func (j *job) checkNoTokenInFiles(mounts map[string]string) {
	t := j.t
	t.Helper()
	for c, h := range mounts {
		_ = filepath.WalkDir(h, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if bytes.Contains(data, []byte(j.token)) && !j.leaks[p] {
				j.leaks[p] = true
				rel, _ := filepath.Rel(h, p)
				t.Errorf("the token appears in %s/%s", c, rel)
			}
			return nil
		})
	}
}

func indent(s string) string {
	if strings.TrimSpace(s) == "" {
		return "    (empty)"
	}
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString("    ")
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String()
}
