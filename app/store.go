package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/mobileplans/mobileplans/ui/portal"
)

// StateFile is the name of the persisted state in Config.StateDir.
const StateFile = "agent.json"

// stateVersion is the version of the persisted state's format.
const stateVersion = 1

// maxStateFile bounds the state file New reads.
const maxStateFile = 4 << 20

// maxDeferred bounds the number of pending deferred downloads.
const maxDeferred = 64

// ErrCorruptState matches (errors.Is) a *StateError for a state file that
// could not be decoded.
var ErrCorruptState = errors.New("app: corrupt agent state")

// StateError is a state file New refuses. The file is left as it is: move
// it away (or repair it) to start with an empty state.
type StateError struct {
	Path string
	Err  error
}

func (e *StateError) Error() string {
	return fmt.Sprintf("app: agent state %s is unusable and was left untouched (move it away to start afresh): %v", e.Path, e.Err)
}

// Unwrap returns the decoding error.
func (e *StateError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorruptState) true.
func (e *StateError) Is(target error) bool { return target == ErrCorruptState }

// Settings are the user's persisted choices.
type Settings struct {
	// Location and Market override the portal parameters (two-letter
	// country codes; "" means automatic, see Config).
	Location string `json:"location,omitempty"`
	Market   string `json:"market,omitempty"`
}

func (s Settings) validate() error {
	for _, v := range []string{s.Location, s.Market} {
		if v != "" && !isCountry(v) {
			return fmt.Errorf("%q is not a two-letter country code", v)
		}
	}
	return nil
}

// DeferredDownload is a profile download the portal asked to run later
// (notifyProfileDownload with a downloadDelay, or
// notifyPurchaseDelayedProfile).
type DeferredDownload struct {
	// ID is the operation context the portal got back (or one the agent
	// made for calls that return none).
	ID            string `json:"id"`
	OperatorID    string `json:"operatorId"`
	OperatorBrand string `json:"operatorBrand,omitempty"`
	// ActivationCode is the code to download with; "" means the eUICC's
	// default SM-DP+ address without a matching ID. The agent's accessors
	// return it redacted.
	ActivationCode string      `json:"activationCode"`
	Meta           portal.Meta `json:"meta"`
	// Source is the bridge call, e.g.
	// "MobilePlansInlineOperations.notifyProfileDownload".
	Source  string    `json:"source"`
	Created time.Time `json:"created"`
	Due     time.Time `json:"due"`
	// Notified: the user was invited to start it; the portal can no
	// longer cancel it.
	Notified bool `json:"notified"`
}

func (d DeferredDownload) validate() error {
	switch {
	case !validOperationID(d.ID):
		return fmt.Errorf("deferred download id %q is not 1 to 64 letters, digits, '-' or '_'", truncate(d.ID, 70))
	case d.OperatorID == "":
		return fmt.Errorf("deferred download %s has no operator", d.ID)
	case d.Due.IsZero() || d.Created.IsZero():
		return fmt.Errorf("deferred download %s has no creation or due time", d.ID)
	}
	if d.ActivationCode != "" {
		if err := portal.CheckActivationCode(d.ActivationCode); err != nil {
			return fmt.Errorf("deferred download %s: %w", d.ID, err)
		}
	}
	return nil
}

// redacted returns d with the activation code's matching ID shortened.
func (d DeferredDownload) redacted() DeferredDownload {
	if d.ActivationCode != "" {
		d.ActivationCode = portal.RedactActivationCode(d.ActivationCode)
	}
	return d
}

// LPAError is one failed download, reported to the operator's portal in the
// X-MP-LPAError-* headers of the next launch.
type LPAError struct {
	OperatorID string                  `json:"operatorId"`
	Status     OperationStatus         `json:"status"`
	Result     portal.ActivationResult `json:"result"`
	Time       time.Time               `json:"time"`
	// ICCID is the profile the download was for, when the SM-DP+ had
	// named it.
	ICCID string `json:"iccid,omitempty"`
	// Step is the SGP.22 step that failed, Message the error.
	Step    string `json:"step,omitempty"`
	Message string `json:"message,omitempty"`
}

func (e LPAError) validate() error {
	if e.OperatorID == "" || e.Time.IsZero() {
		return errors.New("download error without operator or time")
	}
	if !slices.Contains(OperationStatuses(), e.Status) {
		return fmt.Errorf("unknown operation status %q", truncate(string(e.Status), 40))
	}
	if !e.Result.Valid() {
		return fmt.Errorf("undefined activation result %d", int(e.Result))
	}
	return nil
}

// persisted is the content of the state file.
type persisted struct {
	Version  int                `json:"version"`
	Deferred []DeferredDownload `json:"deferred"`
	Errors   []LPAError         `json:"lpaErrors"`
	Settings Settings           `json:"settings"`
}

func (p persisted) clone() persisted {
	p.Deferred = slices.Clone(p.Deferred)
	p.Errors = slices.Clone(p.Errors)
	return p
}

// decodeState decodes and checks a state file.
func decodeState(b []byte) (persisted, error) {
	var p persisted
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return persisted{}, fmt.Errorf("not a valid state document: %w", err)
	}
	if dec.More() {
		return persisted{}, errors.New("trailing data after the state document")
	}
	if p.Version != stateVersion {
		return persisted{}, fmt.Errorf("state version %d, this agent reads version %d", p.Version, stateVersion)
	}
	if len(p.Deferred) > maxDeferred {
		return persisted{}, fmt.Errorf("%d deferred downloads, at most %d", len(p.Deferred), maxDeferred)
	}
	seen := map[string]bool{}
	for _, d := range p.Deferred {
		if err := d.validate(); err != nil {
			return persisted{}, err
		}
		if seen[d.ID] {
			return persisted{}, fmt.Errorf("deferred download %s listed twice", d.ID)
		}
		seen[d.ID] = true
	}
	for _, e := range p.Errors {
		if err := e.validate(); err != nil {
			return persisted{}, err
		}
	}
	if err := p.Settings.validate(); err != nil {
		return persisted{}, fmt.Errorf("settings: %w", err)
	}
	if p.Deferred == nil {
		p.Deferred = []DeferredDownload{}
	}
	if p.Errors == nil {
		p.Errors = []LPAError{}
	}
	return p, nil
}

func encodeState(p persisted) ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// store holds the persisted state, in memory and in its file.
type store struct {
	path string // "" keeps the state in memory only

	mu sync.Mutex
	st persisted
}

// openStore reads dir/agent.json (an absent file is an empty state).
func openStore(dir string) (*store, error) {
	s := &store{st: persisted{Version: stateVersion, Deferred: []DeferredDownload{}, Errors: []LPAError{}}}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	s.path = filepath.Join(dir, StateFile)
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxStateFile+1)); err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrSettings, s.path, err)
	}
	if buf.Len() > maxStateFile {
		return nil, &StateError{Path: s.path, Err: fmt.Errorf("larger than %d bytes", maxStateFile)}
	}
	p, err := decodeState(buf.Bytes())
	if err != nil {
		return nil, &StateError{Path: s.path, Err: err}
	}
	s.st = p
	return s, nil
}

// view returns a copy of the state.
func (s *store) view() persisted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.clone()
}

// update applies f to a copy of the state and saves it; the state changes
// only if f and the save succeed.
func (s *store) update(f func(*persisted) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.clone()
	if err := f(&p); err != nil {
		return err
	}
	if s.path != "" {
		b, err := encodeState(p)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSettings, err)
		}
		if err := writeAtomic(s.path, b); err != nil {
			return fmt.Errorf("%w: %w", ErrSettings, err)
		}
	}
	s.st = p
	return nil
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over path.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".agent-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable where the platform allows opening a
// directory (not on Windows, where the error is ignored).
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// validOperationID reports whether id is an operation context id as the
// bridge makes them: 1 to 64 letters, digits, '-' or '_'.
func validOperationID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
