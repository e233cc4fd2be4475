package integration

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The files of a directory read one after another by real tools come
// ahead of their opens (directory read-ahead), each with one GET and the
// right bytes: `cat dir/*` (listing order), `tar c` (readdir order) and
// `cp -r` (inode order) and `rsync -a` (sorted names), each on a fresh
// mount.
func TestToolsReadingADirectoryInOrderGetItsFilesAhead(t *testing.T) {
	s := newBucketSession(t)
	const n = 150
	files := make(map[string][]byte, n)
	var all bytes.Buffer
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%04d", i)
		data := randomBytes(int64(1000+i), 16<<10+i)
		files[name] = data
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.tryPut("d/"+name, data); err != nil {
				mu.Lock()
				defer mu.Unlock()
				t.Errorf("put %s: %v", name, err)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		all.Write(files[fmt.Sprintf("f%04d", i)])
	}
	want := sha256.Sum256(all.Bytes())

	tools := []struct {
		name string
		run  func(mnt string) error
	}{
		{"cat dir/*", func(mnt string) error {
			out, err := exec.Command("sh", "-c", "cat "+filepath.Join(mnt, "d")+"/*").Output()
			if err == nil && sha256.Sum256(out) != want {
				err = fmt.Errorf("cat printed %d bytes that are not the files'", len(out))
			}
			return err
		}},
		{"tar c", func(mnt string) error {
			dst := t.TempDir()
			tarc := exec.Command("tar", "cf", "-", "-C", mnt, "d")
			tarx := exec.Command("tar", "xf", "-", "-C", dst)
			pipe, err := tarc.StdoutPipe()
			if err != nil {
				return err
			}
			tarx.Stdin = pipe
			if err := tarx.Start(); err != nil {
				return err
			}
			if err := tarc.Run(); err != nil {
				return fmt.Errorf("tar c: %w", err)
			}
			if err := tarx.Wait(); err != nil {
				return fmt.Errorf("tar x: %w", err)
			}
			return sameFiles(filepath.Join(dst, "d"), files)
		}},
		{"cp -r", func(mnt string) error {
			dst := filepath.Join(t.TempDir(), "d")
			if out, err := exec.Command("cp", "-r", filepath.Join(mnt, "d"), dst).CombinedOutput(); err != nil {
				return fmt.Errorf("cp -r: %v: %s", err, out)
			}
			return sameFiles(dst, files)
		}},
		{"rsync -a", func(mnt string) error {
			dst := filepath.Join(t.TempDir(), "d")
			if out, err := exec.Command("rsync", "-a", filepath.Join(mnt, "d")+"/", dst+"/").CombinedOutput(); err != nil {
				return fmt.Errorf("rsync -a: %v: %s", err, out)
			}
			return sameFiles(dst, files)
		}},
	}
	for _, tool := range tools {
		addr := metricsAddr(t)
		s.mnt = s.mount(s.bucket, "--metrics-addr", addr)
		if err := tool.run(s.mnt); err != nil {
			t.Fatalf("%s: %v", tool.name, err)
		}
		m := scrape(t, addr)
		gets := metric(m, "s3mount_s3_requests_total", `operation="GetObject"`)
		ahead := metric(m, "s3mount_cache_dir_readahead_hits_total")
		t.Logf("%s: %v GETs for %d files, %v fetched before their open", tool.name, gets, n, ahead)
		if gets != n {
			t.Errorf("%s: %v GETs for %d files, want one each:\n%s", tool.name, gets, n, grepLines(m, "GetObject"))
		}
		if ahead < n*8/10 {
			t.Errorf("%s: only %v of %d files were fetched ahead of their open", tool.name, ahead, n)
		}
		unmount(t, s.mnt)
	}
}

// grepLines returns the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// sameFiles checks that dir holds exactly files.
func sameFiles(dir string, files map[string][]byte) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) != len(files) {
		return fmt.Errorf("%d files in the copy, want %d", len(entries), len(files))
	}
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, data) {
			return fmt.Errorf("%s in the copy: %d bytes, %v; want its %d bytes", name, len(got), err, len(data))
		}
	}
	return nil
}
