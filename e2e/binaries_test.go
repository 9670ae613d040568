package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// binDir is the directory of the binaries the tests build, laid out as
// `make build` lays out bin/: the desktop app next to its portal helper,
// where the app looks for it first. TestMain removes it.
var binDir = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "mobileplans-e2e-bin-") })

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := binDir(); err == nil {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// goBinary is a binary of this module that the tests build once per test
// process, into binDir.
type goBinary struct {
	once sync.Once
	path string
	err  error
}

// build runs `go build FLAGS -o binDir/name pkg` the first time and
// returns the binary's path; a failed build fails every test that needs
// it.
func (g *goBinary) build(t testing.TB, name, pkg string, flags ...string) string {
	t.Helper()
	g.once.Do(func() {
		dir, err := binDir()
		if err != nil {
			g.err = err
			return
		}
		g.path = filepath.Join(dir, name)
		args := append(append([]string{"build"}, flags...), "-o", g.path, pkg)
		cmd := exec.Command("go", args...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			g.err = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if g.err != nil {
		t.Fatal(g.err)
	}
	return g.path
}
