package s3io

import (
	"context"
	"sync/atomic"
)

// Limited is a Store that lets at most n requests run at once, of every
// kind together: reads, writes, listings, HEADs, copies, deletes and
// bucket administration. It is the ceiling for a whole mount; the limits
// of one purpose (read-ahead, upload parts, a listing's HEADs, a rename's
// copies) stay where they are, beneath it.
//
// A slot is held for one call, from when it is given until the call
// returns (a ReadRange's until its bytes are in), and never across calls:
// a multipart upload holds none while its parts wait for theirs, and no
// call that holds a slot waits for another, so the limit cannot deadlock.
// A call waiting for a slot gives up when its context ends, with an
// *OpError wrapping the context's error; it has sent nothing.
// PresignGetObject sends no request and takes no slot.
type Limited struct {
	Store
	slots   chan struct{}
	waiting atomic.Int64
}

var _ Store = (*Limited)(nil)

// Limit returns s behind a limit of n requests at once (n < 1 means 1).
func Limit(s Store, n int) *Limited {
	l := &Limited{slots: make(chan struct{}, max(n, 1))}
	l.Store = Wrap(s, l.around)
	return l
}

func (l *Limited) around(ctx context.Context, c Call, next func(context.Context) error) error {
	if c.Local {
		return next(ctx)
	}
	select {
	case l.slots <- struct{}{}:
	default:
		l.waiting.Add(1)
		select {
		case l.slots <- struct{}{}:
			l.waiting.Add(-1)
		case <-ctx.Done():
			l.waiting.Add(-1)
			return c.OpError(ctx.Err())
		}
	}
	defer func() { <-l.slots }()
	return next(ctx)
}

// InFlight is the number of requests running now.
func (l *Limited) InFlight() int { return len(l.slots) }

// Waiting is the number of requests waiting for a slot now.
func (l *Limited) Waiting() int { return int(l.waiting.Load()) }

// Max is the limit.
func (l *Limited) Max() int { return cap(l.slots) }
