package ghapi

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// conditional makes repeated GETs conditional requests: it remembers each answer's ETag and sends
// it back as If-None-Match; GitHub answers 304 Not Modified when nothing changed, which does not
// count against the primary rate limit. The 304 is turned back into the remembered answer (with
// the 304's fresh rate-limit headers), so callers see an ordinary 200. ETags are per token, and
// one client has one token, so the cache belongs to the client.
type conditional struct {
	base http.RoundTripper

	mu      sync.Mutex
	entries map[string]*cached // by URL

	sent, notModified atomic.Int64
}

type cached struct {
	etag   string
	header http.Header
	body   []byte
}

// maxCached bounds what one answer may add to the cache (a listing page is a few tens of KB).
const maxCached = 4 << 20

func (c *conditional) RoundTrip(req *http.Request) (*http.Response, error) {
	c.sent.Add(1)
	if req.Method != http.MethodGet {
		return c.base.RoundTrip(req)
	}
	key := req.URL.String()
	c.mu.Lock()
	e := c.entries[key]
	c.mu.Unlock()
	if e != nil {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", e.etag)
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && e != nil:
		c.notModified.Add(1)
		resp.Body.Close()
		h := e.header.Clone()
		for k, v := range resp.Header { // rate-limit headers, request id: the 304's are current
			h[k] = v
		}
		h.Set("Content-Length", strconv.Itoa(len(e.body)))
		return &http.Response{Status: "200 OK", StatusCode: http.StatusOK, Proto: resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor,
			Header: h, Body: io.NopCloser(bytes.NewReader(e.body)), ContentLength: int64(len(e.body)), Request: resp.Request}, nil
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxCached+1))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) <= maxCached {
			c.mu.Lock()
			c.entries[key] = &cached{etag: resp.Header.Get("ETag"), header: resp.Header.Clone(), body: body}
			c.mu.Unlock()
		}
	}
	return resp, nil
}

// Stats counts the client's HTTP requests.
type Stats struct {
	Requests    int64 // sent, retries included
	NotModified int64 // answered 304 from a conditional request (free against the primary limit)
}

// Stats reports how many requests the client sent, and how many were answered 304. It is zero
// for a client made without Options.Conditional.
func (c *Client) Stats() Stats {
	if c.cond == nil {
		return Stats{}
	}
	return Stats{Requests: c.cond.sent.Load(), NotModified: c.cond.notModified.Load()}
}
