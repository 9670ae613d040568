package tty

import (
	"errors"
	"os"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

func TestMakeRaw(t *testing.T) {
	_, slave := openPTY(t)
	if err := MakeRaw(slave); err != nil {
		t.Fatal(err)
	}
	var tio *unix.Termios
	if err := Control(slave, func(fd int) (err error) { tio, err = unix.IoctlGetTermios(fd, ioctlGetTermios); return err }); err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&(unix.ECHO|unix.ICANON|unix.ISIG) != 0 || tio.Oflag&unix.OPOST != 0 || tio.Iflag&unix.ICRNL != 0 ||
		tio.Cflag&unix.CSIZE != unix.CS8 || tio.Cc[unix.VMIN] != 1 || tio.Cc[unix.VTIME] != 0 {
		t.Fatalf("termios after MakeRaw: %+v", tio)
	}
}

func TestPacketMode(t *testing.T) {
	master, slave := openPTY(t)
	if err := MakeRaw(slave); err != nil {
		t.Fatal(err)
	}
	if err := SetPacketMode(master); err != nil {
		t.Fatal(err)
	}
	if _, err := slave.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := master.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 || buf[0] != unix.TIOCPKT_DATA || string(buf[1:n]) != "AT\r" {
		t.Fatalf("read %q, want a data packet", buf[:n])
	}
}

func TestClearExclusive(t *testing.T) {
	if os.Geteuid() == 0 {
		// CAP_SYS_ADMIN opens an exclusive tty anyway; the check below
		// needs an unprivileged open, which root cannot make here.
		t.Log("running as root: checking only that the ioctls succeed")
	}
	_, slave := openPTY(t)
	if err := Control(slave, func(fd int) error { return unix.IoctlSetInt(fd, unix.TIOCEXCL, 0) }); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if f, err := os.OpenFile(slave.Name(), os.O_RDWR, 0); err == nil {
			f.Close()
			t.Fatal("an exclusive tty opened")
		} else if !errors.Is(err, unix.EBUSY) {
			t.Fatalf("open of an exclusive tty: %v, want EBUSY", err)
		}
	}
	if err := ClearExclusive(slave); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(slave.Name(), os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("open after ClearExclusive: %v", err)
	}
	f.Close()
}
