package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/testkit"
	"github.com/deployment-action/deployment-action/internal/workbench/actionsim"
	"github.com/deployment-action/deployment-action/internal/workbench/emulator"
)

// buildBinary builds the real binary as the image does (static, trimmed, stripped) into a
// temporary directory, with the links pre, main and post the container's entrypoints are.
func buildBinary(tb testing.TB) (dir string, size int64) {
	tb.Helper()
	dir = tb.TempDir()
	bin := filepath.Join(dir, "deployment-action")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", bin, ".")
	cmd.Dir = testkit.Root(tb)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	for _, stage := range []string{"pre", "main", "post"} {
		if err := os.Symlink("deployment-action", filepath.Join(dir, stage)); err != nil {
			tb.Fatal(err)
		}
	}
	fi, err := os.Stat(bin)
	if err != nil {
		tb.Fatal(err)
	}
	return dir, fi.Size()
}

// floorProgram is the least a stage process must do: start a Go program and send its requests
// over one kept-alive connection (same TLS roots as the stage). Its figures are the floor the
// stage's are compared with.
const floorProgram = `package main

import (
	"io"
	"net/http"
	"os"
	"strconv"
)

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest("GET", os.Getenv("GITHUB_API_URL")+"/rate_limit", nil)
		req.Header.Set("Authorization", "Bearer "+os.Getenv("INPUT_TOKEN"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
`

// rssWrapProgram runs a command and writes its peak RSS (KiB) to the file named by its first
// argument. The stage's own rusage cannot be used: Linux charges a child the high-water RSS of
// the memory it was exec'd from, and os/exec's vfork shares the (large) benchmark process's
// memory until exec. Through this small wrapper the inherited part is only the wrapper's few
// MB, reported as the measurement's floor.
const rssWrapProgram = `package main

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

func main() {
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		os.Exit(127)
	}
	kb := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	os.WriteFile(os.Args[1], []byte(strconv.FormatInt(kb, 10)), 0o644)
	if err != nil {
		os.Exit(cmd.ProcessState.ExitCode())
	}
}
`

// buildTools builds floorProgram and rssWrapProgram the way buildBinary builds the action and
// returns their paths.
func buildTools(tb testing.TB) (floor, rssWrap string) {
	tb.Helper()
	dir := tb.TempDir()
	files := map[string]string{"go.mod": "module tools\n\ngo 1.26\n", "floor/main.go": floorProgram, "rsswrap/main.go": rssWrapProgram}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	for _, prog := range []string{"floor", "rsswrap"} {
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", filepath.Join(dir, "bin", prog), "./"+prog)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("go build ./%s: %v\n%s", prog, err, out)
		}
	}
	return filepath.Join(dir, "bin", "floor"), filepath.Join(dir, "bin", "rsswrap")
}

// wrappedRSS runs bin args... through the RSS wrapper and returns the peak RSS in KiB.
func wrappedRSS(tb testing.TB, wrap string, cmd *exec.Cmd) int64 {
	tb.Helper()
	f := filepath.Join(tb.TempDir(), "rss")
	cmd.Args = append([]string{wrap, f, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = wrap
	if err := cmd.Run(); err != nil {
		tb.Errorf("%s: %v", cmd.Args[2], err)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		tb.Fatalf("rss wrapper: %v", err)
	}
	kb, _ := strconv.ParseInt(string(b), 10, 64)
	return kb
}

// stageRun is one stage process's measurements.
type stageRun struct {
	stage      string
	wall       time.Duration
	first      time.Duration // process start to the first request at the server; -1 if none
	connect    time.Duration // process start to the first connection accepted; -1 if none
	requests   int
	conns      int
	handshakes int
	rssKB      int64 // only for runs through the RSS wrapper (timing runs are not wrapped)
	wrapped    bool
}

// measure runs cmd (directly, or through the RSS wrapper when wrap is set) and returns what the
// server saw meanwhile.
func measure(tb testing.TB, stage string, cmd *exec.Cmd, srv *server, wrap string) (stageRun, error) {
	srv.mark()
	t0 := time.Now()
	var err error
	var rss int64
	if wrap != "" {
		rss = wrappedRSS(tb, wrap, cmd)
	} else {
		err = cmd.Run()
	}
	wall := time.Since(t0)
	c := srv.mark()
	r := stageRun{stage: stage, wall: wall, first: -1, connect: -1, requests: c.requests, conns: c.conns,
		handshakes: c.handshakes, rssKB: rss, wrapped: wrap != ""}
	if !c.first.IsZero() {
		r.first = c.first.Sub(t0)
	}
	if !c.firstConn.IsZero() {
		r.connect = c.firstConn.Sub(t0)
	}
	return r, err
}

// runFloor runs the floor program with n requests.
func runFloor(tb testing.TB, bin string, n int, srv *server, tlsEnv map[string]string, wrap string) stageRun {
	tb.Helper()
	cmd := exec.Command(bin, strconv.Itoa(n))
	cmd.Env = []string{"GITHUB_API_URL=" + srv.URL(), "INPUT_TOKEN=" + token}
	for k, v := range tlsEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	r, err := measure(tb, "floor", cmd, srv, wrap)
	if err != nil {
		tb.Fatalf("floor program: %v", err)
	}
	return r
}

// procExec runs each stage as the real binary in a child process, through the runner
// simulation's Exec hook: argv[0] is the stage's link (pre, main, post, as the image's
// entrypoints are), the environment is exactly what the runner gives the stage. It records what
// the server saw meanwhile.
func procExec(tb testing.TB, dir string, srv *server, wrap string, runs *[]stageRun) func(context.Context, actionsim.StageRun) error {
	return func(ctx context.Context, s actionsim.StageRun) error {
		cmd := exec.CommandContext(ctx, filepath.Join(dir, path.Base(s.Entrypoint)), s.Args...)
		for k, v := range s.Env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
		r, err := measure(tb, s.Stage, cmd, srv, wrap)
		*runs = append(*runs, r) // stages of a job run one after the other
		return err
	}
}

// rssRuns is how many jobs run through the RSS wrapper (peak RSS varies little).
const rssRuns = 3

// BenchmarkStageProcess runs whole auto jobs whose stages are the real binary, against the
// emulator with 50 ms latency, over plain HTTP and over TLS; "floor" is a 20-line Go program
// sending the same number of requests as pre, for comparison.
func BenchmarkStageProcess(b *testing.B) {
	sc := getScale()
	dir, _ := buildBinary(b)
	floor, wrap := buildTools(b)
	act := loadAction(b)
	for _, transport := range []string{"http", "tls", "tls-image", "tls-bundle-once"} {
		b.Run(transport, func(b *testing.B) {
			srv := startServer(b, emulator.Config{Latency: latency}, transport != "http")
			tlsEnv := trustEnv(b, transport, srv)
			var runs []stageRun
			for range b.N {
				for i := range sc.stageRuns + rssRuns {
					w := ""
					if i >= sc.stageRuns {
						w = wrap
					}
					j := newJob(act, srv.URL(), map[string]string{"environment": "staging", "environment-url": "https://staging.example.com"})
					j.Exec = procExec(b, dir, srv, w, &runs)
					for k, v := range tlsEnv {
						j.Env[k] = v
					}
					runJob(b, j)
					runs = append(runs, runFloor(b, floor, 2, srv, tlsEnv, w))
				}
			}
			base := exec.Command("/bin/true")
			baseKB := wrappedRSS(b, wrap, base)
			reportStages(b, transport, runs, baseKB)
		})
	}
}

// trustEnv is how a TLS variant's processes trust the emulator:
//   - tls: SSL_CERT_FILE is the emulator's certificate alone (Go still reads the host's
//     /etc/ssl/certs directory as well);
//   - tls-image: as in the image today, the CA bundle (here the host's plus the emulator's
//     certificate) at /etc/ssl/certs/ca-certificates.crt, which Go parses twice: as the bundle
//     file and again as a file of the /etc/ssl/certs directory;
//   - tls-bundle-once: the same bundle parsed once (the bundle outside a certificate directory,
//     e.g. at /etc/ssl/cert.pem, or SSL_CERT_DIR pointing nowhere).
func trustEnv(tb testing.TB, transport string, srv *server) map[string]string {
	tb.Helper()
	switch transport {
	case "http":
		return nil
	case "tls":
		return map[string]string{"SSL_CERT_FILE": srv.certFile}
	}
	system, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		tb.Logf("no system CA bundle (%v): the %s variant uses the emulator's certificate alone", err, transport)
	}
	own, err := os.ReadFile(srv.certFile)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	bundle := filepath.Join(dir, "ca-certificates.crt")
	if err := os.WriteFile(bundle, append(append(system, '\n'), own...), 0o644); err != nil {
		tb.Fatal(err)
	}
	if transport == "tls-image" {
		return map[string]string{"SSL_CERT_FILE": bundle, "SSL_CERT_DIR": dir}
	}
	return map[string]string{"SSL_CERT_FILE": bundle, "SSL_CERT_DIR": filepath.Join(dir, "none")}
}

func reportStages(b *testing.B, transport string, runs []stageRun, baseKB int64) {
	for _, stage := range []string{"pre", "main", "post", "floor"} {
		var first, conn, over []time.Duration
		var rss []int64
		maxConns, maxHS, reqs := 0, 0, -1
		for _, r := range runs {
			if r.stage != stage {
				continue
			}
			if r.wrapped {
				rss = append(rss, r.rssKB)
				continue
			}
			if r.first >= 0 {
				first = append(first, r.first)
			}
			if r.connect >= 0 {
				conn = append(conn, r.connect)
			}
			over = append(over, r.wall-time.Duration(r.requests)*latency)
			maxConns, maxHS = max(maxConns, r.conns), max(maxHS, r.handshakes)
			if reqs >= 0 && reqs != r.requests {
				b.Errorf("%s: request count varies between runs (%d, %d)", stage, reqs, r.requests)
			}
			reqs = r.requests
		}
		if len(over) == 0 || len(rss) == 0 {
			b.Errorf("%s: no runs", stage)
			continue
		}
		f50, f90 := quantiles(first)
		o50, o90 := quantiles(over)
		slices.Sort(rss)
		rssMax := rss[len(rss)-1]
		b.ReportMetric(ms(o50), stage+"-overhead-ms")
		b.ReportMetric(ms(o90), stage+"-overhead-p90-ms")
		b.ReportMetric(float64(rssMax)/1024, stage+"-peak-rss-MB")
		b.ReportMetric(float64(maxConns), stage+"-conns")
		firstTxt := "no requests"
		if len(first) > 0 {
			b.ReportMetric(ms(f50), stage+"-first-req-ms")
			b.ReportMetric(ms(f90), stage+"-first-req-p90-ms")
			c50, c90 := quantiles(conn)
			b.ReportMetric(ms(c50), stage+"-connect-ms")
			firstTxt = fmt.Sprintf("first request %s (p90 %s, target < 5 ms: %s), first connection %s (p90 %s)",
				fmtMS(f50), fmtMS(f90), met(f50 < 5*time.Millisecond), fmtMS(c50), fmtMS(c90))
		}
		connTxt := fmt.Sprintf("%d connection(s)", maxConns)
		if transport != "http" {
			b.ReportMetric(float64(maxHS), stage+"-tls-handshakes")
			connTxt += fmt.Sprintf(", %d TLS handshake(s)", maxHS)
		}
		wantConns := min(reqs, 1)
		connOK := maxConns == wantConns && (transport == "http" || maxHS == wantConns)
		figure(b, "stage %s/%s (n=%d, %d requests): %s; overhead (wall - requests x 50 ms) %s (p90 %s, target < 10 ms: %s); peak RSS %.1f MB (max of %d; wrapper floor %.1f MB; target < 20 MB: %s); %s (target %d: %s)",
			transport, stage, len(over), reqs, firstTxt, fmtMS(o50), fmtMS(o90), met(o50 < 10*time.Millisecond),
			float64(rssMax)/1024, len(rss), float64(baseKB)/1024, met(rssMax < 20*1024), connTxt, wantConns, met(connOK))
		if !connOK {
			b.Errorf("%s/%s: %d connections, %d handshakes for %d requests; want %d", transport, stage, maxConns, maxHS, reqs, wantConns)
		}
	}
}

// BenchmarkBinarySize reports the size of the binary built as the image builds it.
func BenchmarkBinarySize(b *testing.B) {
	var size int64
	for range b.N {
		_, size = buildBinary(b)
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB")
	figure(b, "binary size (go build -trimpath -ldflags=\"-s -w\", CGO_ENABLED=0): %d bytes (%.1f MiB); the image size is measured by internal/suites/container", size, float64(size)/(1<<20))
}
