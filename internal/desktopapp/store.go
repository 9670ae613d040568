package desktopapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mobileplans/mobileplans/internal/launch"
)

// fileStore keeps the desktop settings in a JSON file, written atomically
// (temporary file, fsync, rename), mode 0600.
type fileStore struct {
	path string
	def  launch.Settings
}

type settingsFile struct {
	Version  int             `json:"version"`
	Settings launch.Settings `json:"settings"`
}

// Load reads the settings; a missing file gives the defaults.
func (s *fileStore) Load() (launch.Settings, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return s.def, nil
	}
	if err != nil {
		return s.def, fmt.Errorf("settings: %w", err)
	}
	var f settingsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return s.def, fmt.Errorf("settings %s: %w", s.path, err)
	}
	if f.Version != 1 {
		return s.def, fmt.Errorf("settings %s: version %d is not supported", s.path, f.Version)
	}
	return f.Settings, nil
}

// Save writes the settings.
func (s *fileStore) Save(v launch.Settings) error {
	b, err := json.MarshalIndent(settingsFile{Version: 1, Settings: v}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	f, err := os.CreateTemp(dir, ".desktop-*.json")
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err = f.Write(append(b, '\n')); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return nil
}
