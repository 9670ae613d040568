package mmtest

import (
	"fmt"
	"os"
	"path/filepath"
)

// Fake USB identity of the simulated modem. 1234:5678 with the option
// driver selects ModemManager's generic plugin (a real vendor id would pull
// in that vendor's plugin and its vendor AT commands).
const (
	fakeVendor  = "1234"
	fakeProduct = "5678"
)

// makeFakeSysfs builds, under root, the part of a sysfs tree that
// ModemManager's udev-less kernel device backend reads for a tty: a USB
// device whose interface is bound to the "option" driver (so the port
// passes the strict filter) and the tty under it. It returns the tty's
// directory, which /sys/class/tty/<name> must resolve to.
func makeFakeSysfs(root, manufacturer, product string) (string, error) {
	dev := filepath.Join(root, "devices", "usb1", "1-1")
	intf := filepath.Join(dev, "1-1:1.0")
	tty := filepath.Join(intf, "ttyUSB0")
	dirs := []string{
		filepath.Join(root, "class", "tty"),
		filepath.Join(root, "bus", "usb", "drivers", "option"),
		tty,
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("mmtest: fake sysfs: %w", err)
		}
	}
	links := []struct{ target, name string }{
		{"../../../bus/usb", filepath.Join(dev, "subsystem")},
		{"../../../../bus/usb", filepath.Join(intf, "subsystem")},
		{"../../../../bus/usb/drivers/option", filepath.Join(intf, "driver")},
		{"../../../../../class/tty", filepath.Join(tty, "subsystem")},
	}
	for _, l := range links {
		if err := os.Symlink(l.target, l.name); err != nil {
			return "", fmt.Errorf("mmtest: fake sysfs: %w", err)
		}
	}
	files := []struct{ name, value string }{
		{filepath.Join(dev, "idVendor"), fakeVendor},
		{filepath.Join(dev, "idProduct"), fakeProduct},
		{filepath.Join(dev, "bcdDevice"), "0100"},
		{filepath.Join(dev, "manufacturer"), manufacturer},
		{filepath.Join(dev, "product"), product},
		{filepath.Join(intf, "bInterfaceClass"), "ff"},
		{filepath.Join(intf, "bInterfaceSubClass"), "ff"},
		{filepath.Join(intf, "bInterfaceProtocol"), "ff"},
		{filepath.Join(intf, "bInterfaceNumber"), "00"},
	}
	for _, f := range files {
		if err := os.WriteFile(f.name, []byte(f.value+"\n"), 0o644); err != nil {
			return "", fmt.Errorf("mmtest: fake sysfs: %w", err)
		}
	}
	return tty, nil
}
