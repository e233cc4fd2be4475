package fs

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestManyWritersAndReadersAtOnce runs, through a real mount and under
// -race in make test, writers of different files and many readers of one
// file at once, and checks every byte.
func TestManyWritersAndReadersAtOnce(t *testing.T) {
	st, mnt := newWritable(t)
	shared := make([]byte, 12<<20)
	rand.New(rand.NewSource(1)).Read(shared)
	st.PutBytes("b", "shared", shared, nil)
	contents := make([][]byte, 6)
	for i := range contents {
		contents[i] = make([]byte, 1<<20+i*1500000)
		rand.New(rand.NewSource(int64(i + 2))).Read(contents[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i, data := range contents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := filepath.Join(mnt, fmt.Sprintf("w%d", i))
			f, err := os.Create(name)
			if err != nil {
				errs <- err
				return
			}
			for off := 0; off < len(data); off += 100000 {
				if _, err := f.Write(data[off:min(off+100000, len(data))]); err != nil {
					errs <- err
				}
			}
			if err := f.Close(); err != nil {
				errs <- fmt.Errorf("close w%d: %w", i, err)
			}
		}()
	}
	for r := 0; r < 8; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := os.ReadFile(filepath.Join(mnt, "shared"))
			if err != nil || !bytes.Equal(got, shared) {
				errs <- fmt.Errorf("reader %d: %d bytes, %v", r, len(got), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, data := range contents {
		if got := objectBytes(t, st, fmt.Sprintf("w%d", i)); !bytes.Equal(got, data) {
			t.Errorf("w%d: S3 has %d bytes, want the %d written", i, len(got), len(data))
		}
	}
}
