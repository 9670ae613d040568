package smdp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Errors of the store that callers branch on.
var (
	// ErrNotFound: no profile or session with that key.
	ErrNotFound = errors.New("smdp: not found")
	// ErrConflict: the row changed under a concurrent request.
	ErrConflict = errors.New("smdp: concurrent modification")
)

// busyTimeout is how long a connection waits for the SQLite write lock.
const busyTimeout = 10 * time.Second

// migrations are applied in order; schema_version counts the applied ones.
// Never edit an entry that has shipped: append a new one.
func migrations() []string {
	return []string{
		`CREATE TABLE profiles (
			iccid        TEXT PRIMARY KEY,
			imsi         TEXT NOT NULL,
			mccmnc       TEXT NOT NULL,
			spn          TEXT NOT NULL,
			name         TEXT NOT NULL,
			profile_type TEXT NOT NULL,
			upp          BLOB NOT NULL,
			state        TEXT NOT NULL,
			eid          TEXT NOT NULL DEFAULT '',
			device_eid   TEXT NOT NULL DEFAULT '',
			matching_id  TEXT UNIQUE,
			cc_hash      BLOB,
			cc_attempts  INTEGER NOT NULL DEFAULT 0,
			smds_address TEXT NOT NULL DEFAULT '',
			session_txid TEXT NOT NULL DEFAULT '',
			error_reason TEXT NOT NULL DEFAULT '',
			created_at   INTEGER NOT NULL,
			updated_at   INTEGER NOT NULL
		);
		CREATE INDEX profiles_state ON profiles(state, profile_type);
		CREATE INDEX profiles_eid ON profiles(eid, state);
		CREATE TABLE sessions (
			txid             TEXT PRIMARY KEY,
			state            TEXT NOT NULL,
			euicc_challenge  BLOB NOT NULL,
			server_challenge BLOB NOT NULL,
			ci_pkid          BLOB NOT NULL,
			iccid            TEXT NOT NULL DEFAULT '',
			eid              TEXT NOT NULL DEFAULT '',
			euicc_cert       BLOB,
			smdp_signature2  BLOB,
			metadata         BLOB,
			cc_required      INTEGER NOT NULL DEFAULT 0,
			ot_pk_euicc      BLOB,
			created_at       INTEGER NOT NULL,
			expires_at       INTEGER NOT NULL,
			ended_at         INTEGER NOT NULL DEFAULT 0,
			end_reason       TEXT NOT NULL DEFAULT ''
		);
		CREATE INDEX sessions_open ON sessions(state, expires_at);
		CREATE TABLE notifications (
			id          INTEGER PRIMARY KEY AUTOINCREMENT,
			received_at INTEGER NOT NULL,
			kind        TEXT NOT NULL,
			event       TEXT NOT NULL DEFAULT '',
			seq         INTEGER NOT NULL DEFAULT 0,
			txid        TEXT NOT NULL DEFAULT '',
			iccid       TEXT NOT NULL DEFAULT '',
			eid         TEXT NOT NULL DEFAULT '',
			verified    INTEGER NOT NULL,
			result      TEXT NOT NULL DEFAULT '',
			raw         BLOB NOT NULL
		);`,
	}
}

// store is the SQLite persistence of the SM-DP+.
type store struct {
	db *sql.DB
}

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// openStore opens (creating if needed) the database at path in WAL mode with
// a busy timeout and immediate write transactions, and migrates the schema.
func openStore(ctx context.Context, path string) (*store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("smdp: database path: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	if strings.ContainsRune(abs, '?') {
		return nil, fmt.Errorf("smdp: database path %q must not contain '?'", abs)
	}
	// A plain path (not a file: URI): the driver cuts the query off and
	// applies it, SQLite gets the path as is on every OS.
	dsn := abs + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("smdp: open database: %w", err)
	}
	s := &store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *store) close() error { return s.db.Close() }

// migrate applies the migrations not yet recorded in schema_version.
func (s *store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("smdp: create schema_version: %w", err)
		}
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return fmt.Errorf("smdp: init schema_version: %w", err)
			}
		case err != nil:
			return fmt.Errorf("smdp: read schema_version: %w", err)
		}
		ms := migrations()
		if v > len(ms) {
			return fmt.Errorf("smdp: database schema version %d is newer than this program (%d)", v, len(ms))
		}
		for i := v; i < len(ms); i++ {
			if _, err := tx.ExecContext(ctx, ms[i]); err != nil {
				return fmt.Errorf("smdp: migration %d: %w", i+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(ms)); err != nil {
			return fmt.Errorf("smdp: update schema_version: %w", err)
		}
		return nil
	})
}

// tx runs fn in a write transaction (BEGIN IMMEDIATE), committing when fn
// returns nil.
func (s *store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("smdp: begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("smdp: commit: %w", err)
	}
	return nil
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// ---- profiles ----

// profileRow is a row of the profiles table.
type profileRow struct {
	ICCID       string
	IMSI        string
	MCCMNC      string
	SPN         string
	Name        string
	ProfileType string
	UPP         []byte
	State       State
	EID         string // bound by ES2+
	DeviceEID   string // the eUICC the BPP went to
	MatchingID  string
	CCHash      []byte // SHA-256 of the confirmation code, nil if none
	CCAttempts  int
	SMDSAddress string
	SessionTxID string // session holding the order while downloaded
	ErrorReason string
	Created     time.Time
	Updated     time.Time
}

const profileCols = `iccid, imsi, mccmnc, spn, name, profile_type, state, eid, device_eid, matching_id,
	cc_hash, cc_attempts, smds_address, session_txid, error_reason, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanProfile(sc scanner) (profileRow, error) {
	var p profileRow
	var mid sql.NullString
	var state string
	var created, updated int64
	err := sc.Scan(&p.ICCID, &p.IMSI, &p.MCCMNC, &p.SPN, &p.Name, &p.ProfileType, &state, &p.EID, &p.DeviceEID, &mid,
		&p.CCHash, &p.CCAttempts, &p.SMDSAddress, &p.SessionTxID, &p.ErrorReason, &created, &updated)
	if err != nil {
		return profileRow{}, err
	}
	p.State = State(state)
	p.MatchingID = mid.String
	p.Created, p.Updated = fromMillis(created), fromMillis(updated)
	return p, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// countProfiles returns the size of the inventory.
func (s *store) countProfiles(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM profiles`).Scan(&n); err != nil {
		return 0, fmt.Errorf("smdp: count profiles: %w", err)
	}
	return n, nil
}

// insertProfiles adds new available profiles in one transaction.
func (s *store) insertProfiles(ctx context.Context, ps []profileRow, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, p := range ps {
			_, err := tx.ExecContext(ctx, `INSERT INTO profiles (iccid, imsi, mccmnc, spn, name, profile_type, upp, state, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				p.ICCID, p.IMSI, p.MCCMNC, p.SPN, p.Name, p.ProfileType, p.UPP, string(StateAvailable), millis(now), millis(now))
			if err != nil {
				return fmt.Errorf("smdp: insert profile %s: %w", p.ICCID, err)
			}
		}
		return nil
	})
}

// profile reads a profile (without its UPP).
func (s *store) profile(ctx context.Context, q queryer, iccid string) (profileRow, error) {
	p, err := scanProfile(q.QueryRowContext(ctx, `SELECT `+profileCols+` FROM profiles WHERE iccid = ?`, iccid))
	if errors.Is(err, sql.ErrNoRows) {
		return profileRow{}, fmt.Errorf("%w: profile %s", ErrNotFound, iccid)
	}
	if err != nil {
		return profileRow{}, fmt.Errorf("smdp: read profile %s: %w", iccid, err)
	}
	return p, nil
}

// profileByMatchingID finds the order with that matching ID.
func (s *store) profileByMatchingID(ctx context.Context, q queryer, mid string) (profileRow, error) {
	p, err := scanProfile(q.QueryRowContext(ctx, `SELECT `+profileCols+` FROM profiles WHERE matching_id = ?`, mid))
	if errors.Is(err, sql.ErrNoRows) {
		return profileRow{}, fmt.Errorf("%w: matching ID %s", ErrNotFound, redact(mid))
	}
	if err != nil {
		return profileRow{}, fmt.Errorf("smdp: find matching ID: %w", err)
	}
	return p, nil
}

// releasedForEID finds the oldest released order bound to eid (the default
// SM-DP+ case: no matching ID from the device).
func (s *store) releasedForEID(ctx context.Context, q queryer, eid string) (profileRow, error) {
	p, err := scanProfile(q.QueryRowContext(ctx, `SELECT `+profileCols+` FROM profiles
		WHERE eid = ? AND state = ? ORDER BY updated_at, iccid LIMIT 1`, eid, string(StateReleased)))
	if errors.Is(err, sql.ErrNoRows) {
		return profileRow{}, fmt.Errorf("%w: released order for the EID", ErrNotFound)
	}
	if err != nil {
		return profileRow{}, fmt.Errorf("smdp: find order for EID: %w", err)
	}
	return p, nil
}

// firstAvailable returns an available profile of the type ("" = any).
func (s *store) firstAvailable(ctx context.Context, q queryer, profileType string) (profileRow, error) {
	var row *sql.Row
	if profileType == "" {
		row = q.QueryRowContext(ctx, `SELECT `+profileCols+` FROM profiles WHERE state = ? ORDER BY iccid LIMIT 1`,
			string(StateAvailable))
	} else {
		row = q.QueryRowContext(ctx, `SELECT `+profileCols+` FROM profiles WHERE state = ? AND profile_type = ? ORDER BY iccid LIMIT 1`,
			string(StateAvailable), profileType)
	}
	p, err := scanProfile(row)
	if errors.Is(err, sql.ErrNoRows) {
		return profileRow{}, fmt.Errorf("%w: no available profile", ErrNotFound)
	}
	if err != nil {
		return profileRow{}, fmt.Errorf("smdp: find available profile: %w", err)
	}
	return p, nil
}

// matchingIDTaken reports whether an order other than iccid uses mid.
func (s *store) matchingIDTaken(ctx context.Context, q queryer, mid, iccid string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM profiles WHERE matching_id = ? AND iccid <> ?`, mid, iccid).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("smdp: check matching ID: %w", err)
	}
	return n > 0, nil
}

// upp returns the unprotected profile package of a profile.
func (s *store) upp(ctx context.Context, iccid string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT upp FROM profiles WHERE iccid = ?`, iccid).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: profile %s", ErrNotFound, iccid)
	}
	if err != nil {
		return nil, fmt.Errorf("smdp: read profile package %s: %w", iccid, err)
	}
	return b, nil
}

// listProfiles returns all profiles ordered by ICCID.
func (s *store) listProfiles(ctx context.Context) ([]profileRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+profileCols+` FROM profiles ORDER BY iccid`)
	if err != nil {
		return nil, fmt.Errorf("smdp: list profiles: %w", err)
	}
	defer rows.Close()
	var out []profileRow
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, fmt.Errorf("smdp: list profiles: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("smdp: list profiles: %w", err)
	}
	return out, nil
}

// transition applies ev to the profile inside tx: it reads the row, checks
// the state machine (Transition), lets mutate adjust the other columns, and
// writes the row back only if its state is still the one read. This is the
// only function that changes a profile's state.
func (s *store) transition(ctx context.Context, tx *sql.Tx, iccid string, ev Event, now time.Time, mutate func(p *profileRow) error) (profileRow, error) {
	p, err := s.profile(ctx, tx, iccid)
	if err != nil {
		return profileRow{}, err
	}
	to, err := Transition(p.State, ev)
	if err != nil {
		var te *TransitionError
		if errors.As(err, &te) {
			te.ICCID = iccid
		}
		return p, err
	}
	from := p.State
	p.State = to
	if mutate != nil {
		if err := mutate(&p); err != nil {
			return profileRow{}, err
		}
	}
	p.Updated = now
	res, err := tx.ExecContext(ctx, `UPDATE profiles SET state = ?, eid = ?, device_eid = ?, matching_id = ?, cc_hash = ?,
		cc_attempts = ?, smds_address = ?, session_txid = ?, error_reason = ?, updated_at = ?
		WHERE iccid = ? AND state = ?`,
		string(p.State), p.EID, p.DeviceEID, nullString(p.MatchingID), p.CCHash, p.CCAttempts, p.SMDSAddress,
		p.SessionTxID, p.ErrorReason, millis(now), iccid, string(from))
	if err != nil {
		return profileRow{}, fmt.Errorf("smdp: update profile %s: %w", iccid, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return profileRow{}, fmt.Errorf("%w: profile %s left state %s", ErrConflict, iccid, from)
	}
	return p, nil
}

// setCCAttempts records wrong confirmation codes without a state change.
func (s *store) setCCAttempts(ctx context.Context, tx *sql.Tx, iccid string, n int, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE profiles SET cc_attempts = ?, updated_at = ? WHERE iccid = ?`, n, millis(now), iccid)
	if err != nil {
		return fmt.Errorf("smdp: update confirmation code attempts: %w", err)
	}
	return nil
}

// ---- sessions ----

// sessionState is the progress of one ES9+ download session.
type sessionState string

const (
	sessInitiated     sessionState = "initiated"     // after initiateAuthentication
	sessAuthenticated sessionState = "authenticated" // after authenticateClient
	sessDelivered     sessionState = "delivered"     // after getBoundProfilePackage
	sessCompleted     sessionState = "completed"     // install result received
	sessFailed        sessionState = "failed"        // refused, or install failed
	sessCancelled     sessionState = "cancelled"     // ES9+.CancelSession or ES2+.CancelOrder
	sessExpired       sessionState = "expired"
)

// open reports whether the session may still progress.
func (s sessionState) open() bool {
	return s == sessInitiated || s == sessAuthenticated || s == sessDelivered
}

// sessionRow is a row of the sessions table.
type sessionRow struct {
	TxID            string
	State           sessionState
	EUICCChallenge  []byte
	ServerChallenge []byte
	CIPKID          []byte
	ICCID           string
	EID             string
	EUICCCert       []byte
	SMDPSignature2  []byte // raw 64 bytes
	Metadata        []byte // StoreMetadataRequest TLV
	CCRequired      bool
	OtPKEUICC       []byte
	Created         time.Time
	Expires         time.Time
	Ended           time.Time
	EndReason       string
}

const sessionCols = `txid, state, euicc_challenge, server_challenge, ci_pkid, iccid, eid, euicc_cert, smdp_signature2,
	metadata, cc_required, ot_pk_euicc, created_at, expires_at, ended_at, end_reason`

func scanSession(sc scanner) (sessionRow, error) {
	var r sessionRow
	var state string
	var created, expires, ended int64
	err := sc.Scan(&r.TxID, &state, &r.EUICCChallenge, &r.ServerChallenge, &r.CIPKID, &r.ICCID, &r.EID, &r.EUICCCert,
		&r.SMDPSignature2, &r.Metadata, &r.CCRequired, &r.OtPKEUICC, &created, &expires, &ended, &r.EndReason)
	if err != nil {
		return sessionRow{}, err
	}
	r.State = sessionState(state)
	r.Created, r.Expires, r.Ended = fromMillis(created), fromMillis(expires), fromMillis(ended)
	return r, nil
}

func (s *store) insertSession(ctx context.Context, r sessionRow) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (txid, state, euicc_challenge, server_challenge, ci_pkid, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.TxID, string(r.State), r.EUICCChallenge, r.ServerChallenge, r.CIPKID, millis(r.Created), millis(r.Expires))
	if err != nil {
		return fmt.Errorf("smdp: insert session: %w", err)
	}
	return nil
}

func (s *store) session(ctx context.Context, q queryer, txid string) (sessionRow, error) {
	r, err := scanSession(q.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE txid = ?`, txid))
	if errors.Is(err, sql.ErrNoRows) {
		return sessionRow{}, fmt.Errorf("%w: session %s", ErrNotFound, txid)
	}
	if err != nil {
		return sessionRow{}, fmt.Errorf("smdp: read session: %w", err)
	}
	return r, nil
}

// updateSession writes the mutable columns of r if the session is still in
// state from.
func (s *store) updateSession(ctx context.Context, q queryer, r sessionRow, from sessionState) error {
	res, err := q.ExecContext(ctx, `UPDATE sessions SET state = ?, iccid = ?, eid = ?, euicc_cert = ?, smdp_signature2 = ?,
		metadata = ?, cc_required = ?, ot_pk_euicc = ?, ended_at = ?, end_reason = ?
		WHERE txid = ? AND state = ?`,
		string(r.State), r.ICCID, r.EID, r.EUICCCert, r.SMDPSignature2, r.Metadata, r.CCRequired, r.OtPKEUICC,
		millisOrZero(r.Ended), r.EndReason, r.TxID, string(from))
	if err != nil {
		return fmt.Errorf("smdp: update session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%w: session %s left state %s", ErrConflict, r.TxID, from)
	}
	return nil
}

func millisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return millis(t)
}

// endSession moves an open session to a final state (no-op error
// ErrConflict if it is no longer open in state from).
func (s *store) endSession(ctx context.Context, q queryer, r sessionRow, to sessionState, reason string, now time.Time) error {
	from := r.State
	r.State, r.Ended, r.EndReason = to, now, reason
	return s.updateSession(ctx, q, r, from)
}

// openSessionsForProfile lists the open sessions bound to a profile.
func (s *store) openSessionsForProfile(ctx context.Context, q queryer, iccid string) ([]sessionRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE iccid = ? AND state IN (?, ?, ?)`,
		iccid, string(sessInitiated), string(sessAuthenticated), string(sessDelivered))
	if err != nil {
		return nil, fmt.Errorf("smdp: list sessions: %w", err)
	}
	defer rows.Close()
	var out []sessionRow
	for rows.Next() {
		r, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("smdp: list sessions: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("smdp: list sessions: %w", err)
	}
	return out, nil
}

// expiredSessions lists open sessions whose deadline has passed.
func (s *store) expiredSessions(ctx context.Context, q queryer, now time.Time) ([]sessionRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE state IN (?, ?, ?) AND expires_at <= ?`,
		string(sessInitiated), string(sessAuthenticated), string(sessDelivered), millis(now))
	if err != nil {
		return nil, fmt.Errorf("smdp: list expired sessions: %w", err)
	}
	defer rows.Close()
	var out []sessionRow
	for rows.Next() {
		r, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("smdp: list expired sessions: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("smdp: list expired sessions: %w", err)
	}
	return out, nil
}

// deleteEndedSessions removes sessions that ended before t.
func (s *store) deleteEndedSessions(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE state NOT IN (?, ?, ?) AND ended_at > 0 AND ended_at < ?`,
		string(sessInitiated), string(sessAuthenticated), string(sessDelivered), millis(t))
	if err != nil {
		return 0, fmt.Errorf("smdp: delete old sessions: %w", err)
	}
	return res.RowsAffected()
}

// ---- notifications ----

// notificationRow is a received notification.
type notificationRow struct {
	Received time.Time
	Kind     string // "install" (BF37) or "other" (30)
	Event    string
	Seq      int
	TxID     string
	ICCID    string
	EID      string
	Verified bool
	Result   string
	Raw      []byte
}

func (s *store) insertNotification(ctx context.Context, q queryer, n notificationRow) error {
	_, err := q.ExecContext(ctx, `INSERT INTO notifications (received_at, kind, event, seq, txid, iccid, eid, verified, result, raw)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		millis(n.Received), n.Kind, n.Event, n.Seq, n.TxID, n.ICCID, n.EID, n.Verified, n.Result, n.Raw)
	if err != nil {
		return fmt.Errorf("smdp: record notification: %w", err)
	}
	return nil
}

func (s *store) listNotifications(ctx context.Context) ([]notificationRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT received_at, kind, event, seq, txid, iccid, eid, verified, result, raw
		FROM notifications ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("smdp: list notifications: %w", err)
	}
	defer rows.Close()
	var out []notificationRow
	for rows.Next() {
		var n notificationRow
		var received int64
		if err := rows.Scan(&received, &n.Kind, &n.Event, &n.Seq, &n.TxID, &n.ICCID, &n.EID, &n.Verified, &n.Result, &n.Raw); err != nil {
			return nil, fmt.Errorf("smdp: list notifications: %w", err)
		}
		n.Received = fromMillis(received)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("smdp: list notifications: %w", err)
	}
	return out, nil
}
