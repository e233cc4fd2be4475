package testproc

import (
	"errors"
	"os"
)

// ErrPortTaken marks a launch that lost the race for its free port to
// another process; Launch tries again with new ports.
var ErrPortTaken = errors.New("port taken by another process")

// Launch calls launch up to three times (try 0, 1, 2, each wanting a
// directory of its own) while it fails with ErrPortTaken. When every try
// fails, removeOn (the launcher's temporary directory, or "") is removed.
func Launch[S any](removeOn string, launch func(try int) (S, error)) (S, error) {
	var s S
	var err error
	for try := 0; try < 3; try++ {
		if s, err = launch(try); err == nil || !errors.Is(err, ErrPortTaken) {
			break
		}
	}
	if err != nil && removeOn != "" {
		os.RemoveAll(removeOn)
	}
	return s, err
}
