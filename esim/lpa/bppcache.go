package lpa

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// BPPCache keeps the bound profile package of a download until it is
// installed, in memory or in a directory (shared by every BPPCache on it),
// keyed by SM-DP+ address and matching ID.
//
// What this can and cannot do: a BPP is bound to the one-time keys of the
// download session that produced it (PrepareDownload's otPK.EUICC.ECKA and
// the eUICC's EID). Once the eUICC has discarded that session (it cancelled
// it, a card reset cleared it, a load failed and it reported its result)
// no eUICC can load that BPP again, and keeping it is useless. It helps only
// when the LPA lost contact before it could cancel (the process died, the
// modem vanished while the card kept its session): the next Download with
// the same activation code then first offers the kept BPP to the eUICC.
// The eUICC is the judge: it takes the first segment only if it still has
// that session, otherwise it refuses (its refusal, when it is a signed
// installation result, is delivered to the SM-DP+ so that the old session
// closes there too), the entry is dropped and Download starts a new
// session with the same activation code, which is the real retry path (an
// SM-DP+ such as ours lets an order whose load failed be downloaded again).
//
// Entries are dropped as soon as the eUICC answered for them (installed,
// failed, cancelled). A BPP holds the profile encrypted, its metadata in
// clear; files are written with mode 0600. A BPPCache is safe for
// concurrent use.
type BPPCache struct {
	dir string

	mu  sync.Mutex
	mem map[string]CachedBPP
}

// CachedBPP is a kept bound profile package with what is needed to load
// it.
type CachedBPP struct {
	SMDPAddress     string    `json:"smdpAddress"`
	TransactionID   []byte    `json:"transactionId"`
	ProfileMetadata []byte    `json:"profileMetadata"` // BF25 from authenticateClient
	BPP             []byte    `json:"bpp"`             // BF36
	Stored          time.Time `json:"stored"`
}

// maxCachedBPP bounds a cache file read back from disk.
const maxCachedBPP = 2 * MaxES9Response

// NewBPPCache returns a cache in memory only (dir "") or also in dir,
// which is created (mode 0700) if needed.
func NewBPPCache(dir string) (*BPPCache, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("lpa: BPP cache: %w", err)
		}
	}
	return &BPPCache{dir: dir, mem: make(map[string]CachedBPP)}, nil
}

// cacheKey identifies a download; the file name is its hash so that
// matching IDs do not appear in directory listings.
func cacheKey(address, matchingID string) (key, file string) {
	key = strings.ToLower(address) + "$" + matchingID
	sum := sha256.Sum256([]byte(key))
	return key, hex.EncodeToString(sum[:16]) + ".bpp.json"
}

// Put keeps e for the download of matchingID from address.
func (c *BPPCache) Put(address, matchingID string, e CachedBPP) error {
	e.TransactionID = bytes.Clone(e.TransactionID)
	e.ProfileMetadata = bytes.Clone(e.ProfileMetadata)
	e.BPP = bytes.Clone(e.BPP)
	if e.SMDPAddress == "" {
		e.SMDPAddress = address
	}
	if e.Stored.IsZero() {
		e.Stored = time.Now().UTC()
	}
	key, file := cacheKey(address, matchingID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir == "" {
		c.mem[key] = e
		return nil
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("lpa: BPP cache: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(c.dir, file), data); err != nil {
		return fmt.Errorf("lpa: BPP cache: %w", err)
	}
	return nil
}

// Get returns the entry for the download of matchingID from address.
func (c *BPPCache) Get(address, matchingID string) (CachedBPP, bool, error) {
	key, file := cacheKey(address, matchingID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir == "" {
		e, ok := c.mem[key]
		return e, ok, nil
	}
	f, err := os.Open(filepath.Join(c.dir, file))
	if errors.Is(err, fs.ErrNotExist) {
		return CachedBPP{}, false, nil
	}
	if err != nil {
		return CachedBPP{}, false, fmt.Errorf("lpa: BPP cache: %w", err)
	}
	defer f.Close()
	var e CachedBPP
	dec := json.NewDecoder(&limitedReader{r: f, n: maxCachedBPP})
	if err := dec.Decode(&e); err != nil {
		return CachedBPP{}, false, fmt.Errorf("lpa: BPP cache: %s: %w", file, err)
	}
	if !strings.EqualFold(e.SMDPAddress, address) {
		return CachedBPP{}, false, nil
	}
	return e, true, nil
}

// Delete forgets the entry; a missing entry is not an error.
func (c *BPPCache) Delete(address, matchingID string) error {
	key, file := cacheKey(address, matchingID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir == "" {
		delete(c.mem, key)
		return nil
	}
	if err := os.Remove(filepath.Join(c.dir, file)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lpa: BPP cache: %w", err)
	}
	return nil
}

// limitedReader fails (instead of ending silently) after n bytes.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("file too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// writeFileAtomic writes data to a temporary file in the same directory,
// syncs it and renames it over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}
