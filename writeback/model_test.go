package writeback

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// TestRandomOperationsMatchModel applies random writes, truncates, reads and
// commits to a staged file over a base object and to a byte slice at once,
// comparing every read and every committed object.
func TestRandomOperationsMatchModel(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			runModel(t, seed, 60)
		})
	}
}

func runModel(t *testing.T, seed uint64, steps int) {
	ctx := context.Background()
	fx := newFixture(t)
	r := rand.New(rand.NewPCG(seed, 99))
	model := randomBytes(seed, r.IntN(14<<20))
	fx.mem.PutBytes(testBucket, "obj", model, nil)
	base, _ := fx.mem.HeadObject(ctx, testBucket, "obj", s3io.ReadOptions{})
	f, err := fx.m.Open(testBucket, "obj", base)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	model = bytes.Clone(model)
	for step := 0; step < steps; step++ {
		switch op := r.IntN(10); {
		case op < 5: // write, sometimes sequential runs across blocks
			off := r.Int64N(int64(len(model)) + 2<<20)
			n := 1 + r.IntN(3<<20)
			if r.IntN(4) == 0 {
				n = 1 + r.IntN(10)
			}
			p := randomBytes(uint64(step)+seed<<32, n)
			if _, err := f.WriteAt(ctx, p, off); err != nil {
				t.Fatalf("seed %d step %d: write %d at %d: %v", seed, step, n, off, err)
			}
			if end := off + int64(n); end > int64(len(model)) {
				model = append(model, make([]byte, end-int64(len(model)))...)
			}
			copy(model[off:], p)
		case op < 7: // truncate, shrinking more often than growing
			size := r.Int64N(int64(len(model)) + 1<<20)
			if err := f.Truncate(ctx, size); err != nil {
				t.Fatalf("seed %d step %d: truncate %d: %v", seed, step, size, err)
			}
			if size < int64(len(model)) {
				model = model[:size]
			} else {
				model = append(model, make([]byte, size-int64(len(model)))...)
			}
		case op < 9: // read
			off := r.Int64N(int64(len(model)) + 1)
			p := make([]byte, r.IntN(2<<20))
			n, err := f.ReadAt(ctx, p, off)
			if err != nil {
				t.Fatalf("seed %d step %d: read at %d: %v", seed, step, off, err)
			}
			want := model[off:min(off+int64(len(p)), int64(len(model)))]
			if !bytes.Equal(p[:n], want) {
				t.Fatalf("seed %d step %d: read %d bytes at %d differ from the model", seed, step, len(p), off)
			}
		default:
			if _, err := f.Commit(ctx); err != nil {
				t.Fatalf("seed %d step %d: commit: %v", seed, step, err)
			}
			if got := fx.object(t, "obj"); !bytes.Equal(got, model) {
				t.Fatalf("seed %d step %d: committed object (%d bytes) differs from the model (%d)", seed, step, len(got), len(model))
			}
		}
		if f.Size() != int64(len(model)) {
			t.Fatalf("seed %d step %d: size %d, model %d", seed, step, f.Size(), len(model))
		}
	}
	if _, err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fx.object(t, "obj"); !bytes.Equal(got, model) {
		t.Fatalf("seed %d: final object differs from the model", seed)
	}
	fx.noUploadsLeft(t)
}
