package writeback

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/s3mount/s3mount/s3io/memstore"
)

func budgetFixture(t *testing.T, max int64) *Manager {
	t.Helper()
	mem := memstore.New()
	mem.AddBucket(testBucket)
	m, err := New(mem, Options{StagingDir: t.TempDir(), PartSize: testPart, BlockSize: testBlock, MaxStagingBytes: max})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// Staged bytes past --max-staging-size fail the write with ENOSPC while
// no upload can free space, and fit again once a file's upload freed it;
// rewriting staged bytes takes no new space.
func TestStagingBudgetRefusesWritesPastItAndFreesOnClose(t *testing.T) {
	m := budgetFixture(t, 3<<20)
	ctx := context.Background()
	a, err := m.Create(testBucket, "a", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.WriteAt(ctx, randomBytes(1, 2<<20), 0); err != nil {
		t.Fatalf("write within the budget: %v", err)
	}
	b, err := m.Create(testBucket, "b", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteAt(ctx, randomBytes(2, 2<<20), 0); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write past the budget: %v, want ENOSPC", err)
	}
	if _, err := a.WriteAt(ctx, randomBytes(3, 2<<20), 0); err != nil {
		t.Fatalf("rewrite of staged bytes past the budget: %v", err)
	}
	if _, err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("commit of a file whose write was refused: %v, want ENOSPC (never upload a torn file)", err)
	}
	b.Close()
	c, err := m.Create(testBucket, "c", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteAt(ctx, randomBytes(2, 2<<20), 0); err != nil {
		t.Fatalf("write after another file's close freed space: %v", err)
	}
	if _, err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if m.budget.used != 0 {
		t.Fatalf("%d bytes still counted after every file closed", m.budget.used)
	}
}

// The free-space floor refuses a write that would leave the staging file
// system with less than the floor, even without a size limit.
func TestStagingFloorRefusesAWriteThatWouldFillTheDisk(t *testing.T) {
	m := budgetFixture(t, 0)
	m.budget.floor = 1.0 // nothing may be written: the file system must stay 100 % free
	f, err := m.Create(testBucket, "x", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(context.Background(), []byte("x"), 0); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write below the floor: %v, want ENOSPC", err)
	}
}
