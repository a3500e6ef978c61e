package policy

import (
	"context"
	"errors"
	"testing"
)

// fakeFetcher serves one file with an ETag per content and records the ETags it was sent.
type fakeFetcher struct {
	content []byte // nil: no file
	err     error
	sent    []string
}

func (f *fakeFetcher) FetchFile(_ context.Context, owner, repo, path, etag string) (Answer, error) {
	f.sent = append(f.sent, etag)
	if f.err != nil {
		return Answer{}, f.err
	}
	if path != Path {
		return Answer{NotFound: true}, nil
	}
	if f.content == nil {
		return Answer{NotFound: true}, nil
	}
	tag := `"` + string(rune('a'+len(f.content)%26)) + `"`
	if etag == tag {
		return Answer{NotModified: true, ETag: tag}, nil
	}
	return Answer{Content: f.content, ETag: tag}, nil
}

func TestLoaderCachesByETag(t *testing.T) {
	f := &fakeFetcher{content: []byte("environments:\n  prod:\n    checks: required\n")}
	var l Loader
	ctx := context.Background()
	p1, err := l.Load(ctx, f, "Octo", "App")
	if err != nil || !p1.Found {
		t.Fatal(p1, err)
	}
	p2, err := l.Load(ctx, f, "octo", "app")
	if err != nil || p2 != p1 {
		t.Fatalf("second load: %p %p %v", p2, p1, err)
	}
	if len(f.sent) != 2 || f.sent[0] != "" || f.sent[1] == "" {
		t.Fatalf("ETags sent: %q", f.sent)
	}
	// Changed on the default branch: applies at the next load.
	f.content = []byte("environments:\n  prod: {}\n")
	p3, err := l.Load(ctx, f, "octo", "app")
	if e, _ := p3.Environment("prod"); err != nil || e.ChecksRequired {
		t.Fatalf("after a change: %+v %v", e, err)
	}
}

// A bad file denies on every load, the cached one too.
func TestLoaderBadFileStaysAnError(t *testing.T) {
	f := &fakeFetcher{content: []byte("environments:\n  prod:\n    checks: sometimes\n")}
	var l Loader
	for i := range 2 {
		p, err := l.Load(context.Background(), f, "o", "r")
		var fe *FileError
		if p != nil || !errors.As(err, &fe) || fe.File != "o/r:.github/deployments.yml" {
			t.Fatalf("load %d: %v %v", i, p, err)
		}
	}
}

func TestLoaderNoFileAndFailures(t *testing.T) {
	var l Loader
	p, err := l.Load(context.Background(), &fakeFetcher{}, "o", "r")
	if err != nil || p.Found {
		t.Fatalf("no file: %+v %v", p, err)
	}
	if e, named := p.Environment("production"); named || e.HasRules() || !e.Allows("write") {
		t.Fatalf("defaults: %+v", e)
	}
	boom := errors.New("connection reset")
	p, err = l.Load(context.Background(), &fakeFetcher{err: boom}, "o", "r")
	if p != nil || !errors.Is(err, boom) {
		t.Fatalf("failed read: %v %v", p, err)
	}
}
