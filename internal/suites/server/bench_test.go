package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deployment-action/deployment-action/internal/workbench/slackstub"
)

// BenchmarkSlackAck is how long Slack waits for the answer to /deploy while GitHub takes 300 ms
// an answer: the answer is sent before any request to GitHub, so it does not depend on it.
// Each iteration sends 40 commands, one after another, as the deploy work of the earlier ones
// runs in the background (about ten GitHub calls each).
func BenchmarkSlackAck(b *testing.B) {
	w := newWorld(b, worldOptions{latency: 300 * time.Millisecond})
	w.greenChecks(w.head)
	const perIteration = 40
	var acks []time.Duration
	b.ResetTimer()
	for range b.N {
		for i := range perIteration {
			start := time.Now()
			status, _, err := w.sl.SlashCommand(context.Background(), "http://"+w.addr+"/slack/commands",
				slackstub.Command{ChannelID: channel, UserID: writer, Text: fmt.Sprintf("main to env-%d", i)})
			acks = append(acks, time.Since(start))
			if err != nil || status != http.StatusOK {
				b.Fatalf("command %d: %d %v", i, status, err)
			}
		}
	}
	b.StopTimer()
	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	p := func(q float64) float64 { return float64(acks[int(q*float64(len(acks)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
	// Let the deploys started finish before the world stops (SIGTERM waits up to 9 s).
	w.waitFor("the deploys", func() bool { return len(w.deployments()) >= perIteration })
}

// BenchmarkWebhookThroughput is deployment_status deliveries per second, signed and answered
// (202) and then worked through: each reads the deployment's newest status from GitHub and
// updates its Slack message. 8 senders at once, as GitHub's hookshot sends in parallel.
func BenchmarkWebhookThroughput(b *testing.B) {
	w := newWorld(b, worldOptions{})
	w.greenChecks(w.head)
	w.command(writer, channel, "production")
	w.waitFor("the deployment", func() bool { return len(w.deployments()) == 1 && len(w.sl.Messages(channel)) == 1 })
	d := w.deployments()[0]
	w.setStatus(d.ID, "in_progress", "", "https://ci.example/run/1")
	w.waitFor("the first update", func() bool { return w.sl.Calls("chat.update") >= 2 })
	updatesBefore := w.sl.Calls("chat.update")
	const total = 400
	var seq atomic.Int64
	payload, err := json.Marshal(d.Payload) // the server's own, with its MAC
	if err != nil {
		b.Fatal(err)
	}
	body := func(n int64) []byte {
		return fmt.Appendf(nil, `{"action":"created","deployment_status":{"id":%d,"state":"in_progress","log_url":"https://ci.example/run/1"},`+
			`"deployment":{"id":%d,"sha":%q,"ref":"main","environment":"production","payload":%s},`+
			`"repository":{"name":%q,"owner":{"login":%q}},"installation":{"id":1}}`, 1<<40+n, d.ID, d.SHA, payload, repo, owner)
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n := seq.Add(1)
					if n > total {
						return
					}
					payload := body(n)
					m := hmac.New(sha256.New, []byte(webhookSecret))
					m.Write(payload)
					req, _ := http.NewRequest(http.MethodPost, "http://"+w.addr+"/github/webhook", bytes.NewReader(payload))
					req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
					req.Header.Set("X-GitHub-Event", "deployment_status")
					req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d", n))
					resp, err := http.DefaultClient.Do(req)
					if err != nil || resp.StatusCode != http.StatusAccepted {
						b.Errorf("delivery %d: %v %v", n, resp, err)
						return
					}
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
		accepted := time.Since(start)
		w.waitFor("every update", func() bool { return w.sl.Calls("chat.update")-updatesBefore >= total })
		done := time.Since(start)
		b.ReportMetric(float64(total)/accepted.Seconds(), "accepted/s")
		b.ReportMetric(float64(total)/done.Seconds(), "processed/s")
		seq.Store(total) // one round per benchmark run: the figures are per 400 deliveries
	}
	b.ReportMetric(0, "ns/op")
}
