package fs

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

func TestSameProcessTellsThreadsFromChildren(t *testing.T) {
	// Another thread of this process.
	other := make(chan int)
	go func() {
		runtime.LockOSThread() // never given back: a thread of its own
		other <- syscall.Gettid()
		select {}
	}()
	tid := <-other
	if !sameProcess(os.Getpid(), tid) {
		t.Errorf("threads %d and %d of one process were taken for two", os.Getpid(), tid)
	}
	child := exec.Command("sleep", "5")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	if sameProcess(os.Getpid(), child.Process.Pid) {
		t.Errorf("a child %d was taken for this process", child.Process.Pid)
	}
	if !sameProcess(os.Getpid(), 0) || !sameProcess(os.Getpid(), 1<<30) {
		t.Error("a caller that cannot be told must count as the opener")
	}
}
