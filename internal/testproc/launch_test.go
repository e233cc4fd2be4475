package testproc

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

func TestLaunchTriesAgainOnlyWhenThePortWasTaken(t *testing.T) {
	tries := 0
	got, err := Launch("", func(try int) (int, error) {
		tries++
		if try < 2 {
			return 0, fmt.Errorf("%w: 127.0.0.1:1", ErrPortTaken)
		}
		return 7, nil
	})
	if got != 7 || err != nil || tries != 3 {
		t.Errorf("after two lost ports: %d, %v after %d tries; want 7 after 3", got, err, tries)
	}

	dir := t.TempDir() + "/server"
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	tries = 0
	broken := errors.New("no such binary")
	if _, err := Launch(dir, func(int) (int, error) { tries++; return 0, broken }); !errors.Is(err, broken) || tries != 1 {
		t.Errorf("a launch that fails otherwise: %v after %d tries; want its error after 1", err, tries)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the launcher's directory outlived every try: %v", err)
	}
}
