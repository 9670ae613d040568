//go:build linux && cgo && webkit

package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/cgo"

	"golang.org/x/sys/unix"

	"github.com/mobileplans/mobileplans/ui/portal/webkit/wire"
)

// GTK must run on the process's main thread: keep the main goroutine on
// it.
func init() { runtime.LockOSThread() }

func main() { os.Exit(run()) }

// Exit codes: 0 closed, 1 failed, 2 GTK or WebKit unavailable (the app
// falls back to another browser), 64 bad command line.
func run() int {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mobileplans-portal:", err)
		return 64
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	in, out, err := protocolFiles()
	if err != nil {
		log.Error("protocol descriptors", "err", err)
		return 1
	}
	w := &lineWriter{w: out}
	fail := func(code int, msg string) int {
		_ = w.write(wire.Line{Event: wire.EvError, Error: msg})
		log.Error(msg)
		return code
	}
	if !gtkInit() {
		return fail(2, "GTK cannot open a display (is DISPLAY or WAYLAND_DISPLAY set?)")
	}
	h := newHelper(w, log, newToken())
	handle := cgo.NewHandle(h)
	defer handle.Delete()
	h.schedule = func() { schedule(handle) }
	v := newGTKView(handle, cfg.title, cfg.width, cfg.height, userScript(h.token, cfg.allowedHost))
	h.v = v
	if cfg.caFile != "" {
		// GLib wants the anchor file of a GTlsFileDatabase as an absolute path.
		ca, err := filepath.Abs(cfg.caFile)
		if err == nil {
			err = v.setCAs(ca)
		}
		if err != nil {
			return fail(1, err.Error())
		}
	}
	h.emit(wire.Line{Event: wire.EvReady, Version: webkitVersion()})
	log.Debug("ready", "webkit", webkitVersion(), "allowedHost", cfg.allowedHost)
	go h.readRequests(in)
	gtkRun()
	return 0
}

// protocolFiles moves the protocol off descriptors 0 and 1 onto
// close-on-exec duplicates, then points 0 at /dev/null and 1 at stderr: the
// WebKit processes the helper spawns do not hold the app's pipes open (its
// stdout reaches EOF when the helper exits), and nothing a library prints
// on stdout can corrupt the protocol.
func protocolFiles() (in, out *os.File, err error) {
	inFD, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, nil, fmt.Errorf("dup stdin: %w", err)
	}
	outFD, err := unix.FcntlInt(1, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, nil, fmt.Errorf("dup stdout: %w", err)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, err
	}
	defer null.Close()
	if err := unix.Dup3(int(null.Fd()), 0, 0); err != nil {
		return nil, nil, fmt.Errorf("stdin to %s: %w", os.DevNull, err)
	}
	if err := unix.Dup3(2, 1, 0); err != nil {
		return nil, nil, fmt.Errorf("stdout to stderr: %w", err)
	}
	return os.NewFile(uintptr(inFD), "protocol-in"), os.NewFile(uintptr(outFD), "protocol-out"), nil
}
