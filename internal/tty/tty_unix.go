//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package tty

import (
	"os"

	"golang.org/x/sys/unix"
)

// Control runs fn on the file's descriptor without switching it to
// blocking mode (which (*os.File).Fd would do, disabling deadlines).
func Control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// MakeRaw puts a terminal in raw mode (as cfmakeraw does): no echo, no
// line editing, no CR/LF translation, 8 bits, reads return after a byte.
func MakeRaw(f *os.File) error {
	return Control(f, func(fd int) error {
		t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
		if err != nil {
			return err
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN] = 1
		t.Cc[unix.VTIME] = 0
		return unix.IoctlSetTermios(fd, ioctlSetTermios, t)
	})
}

// SetPacketMode puts a pty master in packet mode (TIOCPKT): every read
// starts with a control byte, unix.TIOCPKT_DATA for data, else a status
// (a flush, stop or start by the slave's user).
func SetPacketMode(master *os.File) error {
	return Control(master, func(fd int) error { return unix.IoctlSetPointerInt(fd, unix.TIOCPKT, 1) })
}

// ClearExclusive clears a terminal's exclusive-use flag (TIOCNXCL), which
// a client set with TIOCEXCL: on a pty the flag outlives the client's
// close, and would lock out its next open without CAP_SYS_ADMIN.
func ClearExclusive(f *os.File) error {
	return Control(f, func(fd int) error { return unix.IoctlSetInt(fd, unix.TIOCNXCL, 0) })
}
