package main

import (
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"runtime/debug"
)

// newLogger builds the one logger of the process: to --log-file when given,
// else to stderr in the foreground and to syslog in the background.
func newLogger(opts *Options, stderr io.Writer) (*slog.Logger, func(), error) {
	level := slog.LevelInfo
	if opts.Debug {
		level = slog.LevelDebug
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch {
	case opts.LogFile != "":
		f, err := os.OpenFile(opts.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		// A crash's trace goes to the log too: in the background stderr is
		// /dev/null, and a mount that vanished must say why.
		if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		return slog.New(slog.NewTextHandler(f, hopts)), func() { f.Close() }, nil
	case opts.Foreground:
		return slog.New(slog.NewTextHandler(stderr, hopts)), func() {}, nil
	default:
		w, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, "s3mount")
		if err != nil {
			// No syslog daemon (containers): there is nowhere to write.
			return slog.New(slog.DiscardHandler), func() {}, nil
		}
		return slog.New(slog.NewTextHandler(w, hopts)), func() { w.Close() }, nil
	}
}
