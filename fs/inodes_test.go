package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io/memstore"
)

func TestInodeNumbersAreHashesAndCollisionsTakeTheNextFree(t *testing.T) {
	tab := newInodeTable()
	a := tab.get("b/x")
	if a != hashIno("b/x") || tab.get("b/x") != a {
		t.Fatalf("b/x got %d, want its hash %d, twice", a, hashIno("b/x"))
	}
	// Play a collision: another path whose hash is taken.
	tab.live[hashIno("b/y")] = "b/other"
	if y := tab.get("b/y"); y == hashIno("b/y") || y == a {
		t.Fatalf("colliding path got %d: a number already live", y)
	}
	tab.forget("b/x")
	if again := tab.get("b/x"); again == a {
		t.Fatal("a removed file's number went to a new file while the old one is still held")
	}
	tab.release(a)
	if _, ok := tab.live[a]; ok {
		t.Fatal("release kept the number")
	}
	tab.rename("b/y", "b/z")
	if tab.peek("b/z") == hashIno("b/z") && hashIno("b/z") != tab.moved["b/z"] {
		t.Fatal("peek disagrees with the live number")
	}
}

// A rename keeps the moved file's number; the file it replaced, if the
// kernel still holds it, keeps its own without the name, and a file made
// later at either name gets a number no live node has.
func TestARenamedPathKeepsItsNumberAndTheReplacedOneLosesItsName(t *testing.T) {
	tab := newInodeTable()
	src, dst := tab.get("b/src"), tab.get("b/dst")
	tab.rename("b/src", "b/dst")
	if got, peek := tab.get("b/dst"), tab.peek("b/dst"); got != src || peek != src {
		t.Fatalf("b/dst after the rename: get %d, peek %d, want the moved file's %d", got, peek, src)
	}
	if got := tab.get("b/src"); got == src || got == dst {
		t.Fatalf("a new file at the old name got %d, a number still live", got)
	}
	tab.release(src) // the kernel forgets the moved file; the replaced one is still open
	if got := tab.get("b/dst"); got == dst || got == src {
		t.Fatalf("a new node for b/dst got %d: the replaced file's %d is still live", got, dst)
	}

	old, file, target := tab.get("b/old/"), tab.get("b/old/f"), tab.get("b/new/")
	tab.renamePrefix("b/old/", "b/new/")
	if d, f := tab.get("b/new/"), tab.get("b/new/f"); d != old || f != file {
		t.Fatalf("after the directory rename: b/new/ %d, b/new/f %d, want %d and %d", d, f, old, file)
	}
	tab.release(old)
	if got := tab.get("b/new/"); got == target {
		t.Fatalf("b/new/ got %d, the replaced directory's number, still live", got)
	}
}

// Only paths whose number is not their hash have an entry beside the
// number's: a held inode costs one map entry, not two.
func TestPathsWithTheirHashAreKeptOnce(t *testing.T) {
	tab := newInodeTable()
	for i := range 10000 {
		tab.get(fmt.Sprintf("b/d/f%05d", i))
	}
	tab.rename("b/d/f00000", "b/d/renamed")
	if len(tab.live) != 10000 || len(tab.moved) != 1 {
		t.Fatalf("%d numbers and %d moved paths, want 10000 and 1 (the renamed)", len(tab.live), len(tab.moved))
	}
}

// The inode table holds what the kernel holds: after stat of many files
// and a drop of the kernel's dentries and inodes, it is back near empty,
// and the numbers are the same as before.
func TestInodeTableFollowsTheKernel(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	const files = 3000
	for i := 0; i < files; i++ {
		st.PutBytes("b", fmt.Sprintf("d/f%04d", i), []byte("x"), nil)
	}
	fsys, mnt := mountStoreFS(t, Config{}, st)
	inos := make(map[string]uint64)
	for i := 0; i < files; i += 10 {
		name := fmt.Sprintf("d/f%04d", i)
		var s syscall.Stat_t
		if err := syscall.Stat(filepath.Join(mnt, name), &s); err != nil {
			t.Fatal(err)
		}
		inos[name] = s.Ino
	}
	if _, err := os.ReadDir(filepath.Join(mnt, "d")); err != nil {
		t.Fatal(err)
	}
	held := fsys.inodes.size()
	if held < files/10 {
		t.Fatalf("%d numbers held after %d stats", held, files/10)
	}
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("2"), 0); err != nil {
		t.Fatalf("drop the kernel's dentries (the tests run as root): %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fsys.inodes.size() > 10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := fsys.inodes.size(); n > 10 {
		t.Fatalf("%d numbers still held after the kernel forgot the nodes (was %d)", n, held)
	}
	for name, ino := range inos {
		var s syscall.Stat_t
		if err := syscall.Stat(filepath.Join(mnt, name), &s); err != nil {
			t.Fatal(err)
		}
		if s.Ino != ino {
			t.Fatalf("%s: inode %d after the kernel forgot it, was %d", name, s.Ino, ino)
		}
	}
}

// Go maps keep the room of deleted entries: once the kernel has forgotten
// most of many inodes, the table's maps are made again, and the memory
// they held is given back (bench-scale: 114 MiB stayed after drop_caches
// with a million paths seen).
func TestInodeTableGivesBackTheRoomOfForgottenInodes(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	tab := newInodeTable()
	const n = 200000
	nums := make([]uint64, n)
	for i := range nums {
		nums[i] = tab.get(fmt.Sprintf("bucket/some/longer/prefix/file-%07d", i))
	}
	full := heap()
	for _, num := range nums[:n-10] {
		tab.release(num)
	}
	after := heap()
	if tab.size() != 10 {
		t.Fatalf("%d numbers held, want 10", tab.size())
	}
	held := int64(full) - int64(base)
	left := int64(after) - int64(base)
	t.Logf("table of %d: %d MiB; after releasing all but 10: %d KiB", n, held>>20, left>>10)
	if left > held/10 {
		t.Errorf("after the kernel forgot all but 10 of %d inodes the table still holds %d KiB (%d KiB full)", n, left>>10, held>>10)
	}
	for _, num := range nums[n-10:] {
		if tab.live[num] == "" {
			t.Fatalf("number %d lost by the shrink", num)
		}
	}
}
