package euicc

import (
	"fmt"
	"os"
	"path/filepath"
)

// stateFileMode is the permission of the state file: it holds the card's
// private key.
const stateFileMode = 0o600

// writeAtomic replaces path with data so that a crash leaves either the old
// or the new content: write a temporary file in the same directory, fsync
// it, rename it over path, then fsync the directory.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("euicc: writing state: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(stateFileMode); err != nil {
		return fmt.Errorf("euicc: writing state: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("euicc: writing state: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("euicc: writing state: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("euicc: writing state: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("euicc: writing state: %w", err)
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("euicc: writing state: %w", err)
	}
	return nil
}
