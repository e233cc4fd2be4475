package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// A shared block fetch outlives a caller that gives up while another
// waits, and is cancelled (freeing its fetch slot) when the last one
// gives up: abandoned reads during an outage cannot pile up.
func TestSharedFetchIsCancelledWhenItsLastWaiterLeaves(t *testing.T) {
	c, err := New(Options{CacheBytes: 8 << 20, BlockSize: 1 << 20, MaxConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var started, cancelled atomic.Int32
	obj := &Object{ID: "o", Size: 1 << 20, Fetch: func(ctx context.Context, off int64, p []byte, _ func(int)) (int, error) {
		started.Add(1)
		<-ctx.Done() // a server that never answers
		cancelled.Add(1)
		return 0, ctx.Err()
	}}
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { _, err := c.fetchBlock(ctx1, obj, 0); errs <- err }()
	go func() { _, err := c.fetchBlock(ctx2, obj, 0); errs <- err }()
	waitUntil(t, func() bool { return started.Load() == 1 && c.flight.waiting(blockKey("o", 0)) == 2 })
	cancel1()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if cancelled.Load() != 0 {
		t.Fatal("the fetch was cancelled while another caller still waited")
	}
	cancel2()
	<-errs
	waitUntil(t, func() bool { return cancelled.Load() == 1 && c.flight.inFlight() == 0 })
	// The single fetch slot is free again: a new read can fetch.
	obj.Fetch = func(ctx context.Context, off int64, p []byte, _ func(int)) (int, error) { return len(p), nil }
	ctx3, cancel3 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel3()
	obj.ID = "o2"
	if _, err := c.fetchBlock(ctx3, obj, 0); err != nil {
		t.Fatalf("a read after the abandoned ones: %v", err)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("condition not met within 5 s")
		}
	}
}
