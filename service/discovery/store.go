package discovery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// ErrOperatorNotFound is returned for an operator id the catalog lacks.
var ErrOperatorNotFound = errors.New("discovery: operator not found")

// busyTimeout is how long a connection waits for the SQLite write lock.
const busyTimeout = 10 * time.Second

// migrations are applied in order; PRAGMA user_version counts the applied
// ones. Never edit a shipped entry: append a new one.
func migrations() []string {
	return []string{
		`CREATE TABLE operators (
			id                TEXT PRIMARY KEY,
			brand             TEXT NOT NULL,
			logo              BLOB,
			logo_url          TEXT NOT NULL DEFAULT '',
			portal_url        TEXT NOT NULL,
			callback_host     TEXT NOT NULL,
			mo_base_url       TEXT NOT NULL DEFAULT '',
			offers_uri        TEXT NOT NULL DEFAULT '',
			notifications_uri TEXT NOT NULL DEFAULT '',
			created_at        INTEGER NOT NULL,
			updated_at        INTEGER NOT NULL
		);
		CREATE TABLE operator_countries (
			operator_id TEXT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
			country     TEXT NOT NULL CHECK (length(country) = 2),
			PRIMARY KEY (operator_id, country)
		);
		CREATE INDEX operator_countries_country ON operator_countries(country);
		CREATE TABLE operator_iccid_ranges (
			operator_id TEXT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
			seq         INTEGER NOT NULL,
			prefix      TEXT NOT NULL DEFAULT '',
			range_from  TEXT NOT NULL DEFAULT '',
			range_to    TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (operator_id, seq)
		);
		CREATE TABLE operator_filters (
			operator_id TEXT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
			seq         INTEGER NOT NULL,
			kind        TEXT NOT NULL CHECK (kind IN ('eid_allow', 'eid_deny', 'device_allow', 'device_deny')),
			value       TEXT NOT NULL,
			model       TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (operator_id, seq)
		);
		CREATE TABLE gateway_templates (
			operator_id TEXT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
			seq         INTEGER NOT NULL,
			template_id TEXT NOT NULL,
			body        TEXT NOT NULL,
			PRIMARY KEY (operator_id, seq),
			UNIQUE (operator_id, template_id)
		);
		CREATE TABLE apns (
			operator_id     TEXT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
			seq             INTEGER NOT NULL,
			name            TEXT NOT NULL,
			auth_type       TEXT NOT NULL CHECK (auth_type IN ('none', 'pap', 'chap')),
			username        TEXT NOT NULL DEFAULT '',
			password        TEXT NOT NULL DEFAULT '',
			ip_type         TEXT NOT NULL CHECK (ip_type IN ('ipv4', 'ipv6', 'ipv4v6')),
			roaming_allowed INTEGER NOT NULL,
			mccmncs         TEXT NOT NULL DEFAULT '',
			iccid_ranges    TEXT NOT NULL DEFAULT '[]',
			PRIMARY KEY (operator_id, seq)
		);
		CREATE TABLE mcc_countries (
			mcc     TEXT PRIMARY KEY CHECK (length(mcc) = 3),
			country TEXT NOT NULL CHECK (length(country) = 2)
		);`,
	}
}

type store struct {
	db *sql.DB
}

func openStore(ctx context.Context, path string) (*store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("discovery: database path: %w", err)
	}
	if strings.ContainsRune(abs, '?') {
		return nil, fmt.Errorf("discovery: database path %q must not contain '?'", abs)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", abs+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("discovery: open database: %w", err)
	}
	s := &store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *store) close() error { return s.db.Close() }

func (s *store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
			return fmt.Errorf("discovery: read schema version: %w", err)
		}
		ms := migrations()
		if v > len(ms) {
			return fmt.Errorf("discovery: database schema version %d is newer than this program (%d)", v, len(ms))
		}
		for i := v; i < len(ms); i++ {
			if _, err := tx.ExecContext(ctx, ms[i]); err != nil {
				return fmt.Errorf("discovery: migration %d: %w", i+1, err)
			}
		}
		// PRAGMA takes no bound parameters; len(ms) is a program constant.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(ms))); err != nil {
			return fmt.Errorf("discovery: write schema version: %w", err)
		}
		return nil
	})
}

func (s *store) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
	return v, err
}

func (s *store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("discovery: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("discovery: commit: %w", err)
	}
	return nil
}

// exists reports whether the operator id is stored.
func (s *store) exists(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM operators WHERE id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("discovery: %w", err)
	}
	return n > 0, nil
}

// upsert stores op (already normalised and valid), replacing any previous
// version and all its child rows.
func (s *store) upsert(ctx context.Context, op Operator, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		ms := now.UnixMilli()
		var logo any
		if len(op.Logo) > 0 {
			logo = op.Logo
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO operators
			(id, brand, logo, logo_url, portal_url, callback_host, mo_base_url, offers_uri, notifications_uri, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET brand = excluded.brand, logo = excluded.logo, logo_url = excluded.logo_url,
				portal_url = excluded.portal_url, callback_host = excluded.callback_host, mo_base_url = excluded.mo_base_url,
				offers_uri = excluded.offers_uri, notifications_uri = excluded.notifications_uri, updated_at = excluded.updated_at`,
			op.ID, op.Brand, logo, op.LogoURL, op.PortalURL, op.CallbackHost, op.MOBaseURL, op.OffersURI, op.NotificationsURI, ms, ms); err != nil {
			return fmt.Errorf("discovery: store operator %s: %w", op.ID, err)
		}
		for _, t := range []string{"operator_countries", "operator_iccid_ranges", "operator_filters", "gateway_templates", "apns"} {
			// Table names come from the list above, never from input.
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE operator_id = ?`, op.ID); err != nil {
				return fmt.Errorf("discovery: clear %s of %s: %w", t, op.ID, err)
			}
		}
		exec := func(what, q string, args ...any) error {
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("discovery: store %s of %s: %w", what, op.ID, err)
			}
			return nil
		}
		for _, c := range op.Countries {
			if err := exec("country", `INSERT INTO operator_countries (operator_id, country) VALUES (?, ?)`, op.ID, c); err != nil {
				return err
			}
		}
		for i, r := range op.ICCIDRanges {
			if err := exec("ICCID range", `INSERT INTO operator_iccid_ranges (operator_id, seq, prefix, range_from, range_to) VALUES (?, ?, ?, ?, ?)`,
				op.ID, i, r.Prefix, r.From, r.To); err != nil {
				return err
			}
		}
		seq := 0
		filter := func(kind, value, model string) error {
			seq++
			return exec("filter", `INSERT INTO operator_filters (operator_id, seq, kind, value, model) VALUES (?, ?, ?, ?, ?)`,
				op.ID, seq, kind, value, model)
		}
		for _, p := range op.EIDAllow {
			if err := filter("eid_allow", p, ""); err != nil {
				return err
			}
		}
		for _, p := range op.EIDDeny {
			if err := filter("eid_deny", p, ""); err != nil {
				return err
			}
		}
		for _, f := range op.DeviceAllow {
			if err := filter("device_allow", f.Make, f.Model); err != nil {
				return err
			}
		}
		for _, f := range op.DeviceDeny {
			if err := filter("device_deny", f.Make, f.Model); err != nil {
				return err
			}
		}
		if op.Gateway != nil {
			for i, t := range op.Gateway.PromotionTemplates {
				body, err := json.Marshal(t)
				if err != nil {
					return fmt.Errorf("discovery: encode template %q of %s: %w", t.ID, op.ID, err)
				}
				if err := exec("gateway template", `INSERT INTO gateway_templates (operator_id, seq, template_id, body) VALUES (?, ?, ?, ?)`,
					op.ID, i, t.ID, string(body)); err != nil {
					return err
				}
			}
		}
		for i, a := range op.APNs {
			ranges, err := json.Marshal(a.ICCIDRanges)
			if err != nil {
				return fmt.Errorf("discovery: encode APN ranges of %s: %w", op.ID, err)
			}
			if err := exec("APN", `INSERT INTO apns (operator_id, seq, name, auth_type, username, password, ip_type, roaming_allowed, mccmncs, iccid_ranges)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				op.ID, i, a.Name, string(a.AuthType), a.Username, a.Password, string(a.IPType), a.RoamingAllowed,
				strings.Join(a.MCCMNCs, ","), string(ranges)); err != nil {
				return err
			}
		}
		return nil
	})
}

// remove deletes an operator and (by cascade) its child rows.
func (s *store) remove(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM operators WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("discovery: delete operator %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("discovery: delete operator %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("%w: %s", ErrOperatorNotFound, id)
	}
	return nil
}

// load reads every operator, ordered by id.
func (s *store) load(ctx context.Context) ([]Operator, error) {
	var ops []Operator
	idx := map[string]int{}
	err := s.each(ctx, `SELECT id, brand, logo, logo_url, portal_url, callback_host, mo_base_url, offers_uri, notifications_uri
		FROM operators ORDER BY id`, func(rows *sql.Rows) error {
		var op Operator
		if err := rows.Scan(&op.ID, &op.Brand, &op.Logo, &op.LogoURL, &op.PortalURL, &op.CallbackHost,
			&op.MOBaseURL, &op.OffersURI, &op.NotificationsURI); err != nil {
			return err
		}
		idx[op.ID] = len(ops)
		ops = append(ops, op)
		return nil
	})
	if err != nil {
		return nil, err
	}
	get := func(id string) (*Operator, error) {
		i, ok := idx[id]
		if !ok {
			return nil, fmt.Errorf("discovery: row for unknown operator %q", id)
		}
		return &ops[i], nil
	}
	if err := s.each(ctx, `SELECT operator_id, country FROM operator_countries ORDER BY operator_id, rowid`, func(rows *sql.Rows) error {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			return err
		}
		op, err := get(id)
		if err != nil {
			return err
		}
		op.Countries = append(op.Countries, c)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.each(ctx, `SELECT operator_id, prefix, range_from, range_to FROM operator_iccid_ranges ORDER BY operator_id, seq`, func(rows *sql.Rows) error {
		var id string
		var r ICCIDRange
		if err := rows.Scan(&id, &r.Prefix, &r.From, &r.To); err != nil {
			return err
		}
		op, err := get(id)
		if err != nil {
			return err
		}
		op.ICCIDRanges = append(op.ICCIDRanges, r)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.each(ctx, `SELECT operator_id, kind, value, model FROM operator_filters ORDER BY operator_id, seq`, func(rows *sql.Rows) error {
		var id, kind, value, model string
		if err := rows.Scan(&id, &kind, &value, &model); err != nil {
			return err
		}
		op, err := get(id)
		if err != nil {
			return err
		}
		switch kind {
		case "eid_allow":
			op.EIDAllow = append(op.EIDAllow, value)
		case "eid_deny":
			op.EIDDeny = append(op.EIDDeny, value)
		case "device_allow":
			op.DeviceAllow = append(op.DeviceAllow, DeviceFilter{Make: value, Model: model})
		case "device_deny":
			op.DeviceDeny = append(op.DeviceDeny, DeviceFilter{Make: value, Model: model})
		default:
			return fmt.Errorf("discovery: unknown filter kind %q", kind)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.each(ctx, `SELECT operator_id, body FROM gateway_templates ORDER BY operator_id, seq`, func(rows *sql.Rows) error {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return err
		}
		op, err := get(id)
		if err != nil {
			return err
		}
		var t GatewayTemplate
		if err := json.Unmarshal([]byte(body), &t); err != nil {
			return fmt.Errorf("discovery: stored gateway template of %s: %w", id, err)
		}
		if op.Gateway == nil {
			op.Gateway = &Gateway{}
		}
		op.Gateway.PromotionTemplates = append(op.Gateway.PromotionTemplates, t)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.each(ctx, `SELECT operator_id, name, auth_type, username, password, ip_type, roaming_allowed, mccmncs, iccid_ranges
		FROM apns ORDER BY operator_id, seq`, func(rows *sql.Rows) error {
		var id, auth, ipType, mccmncs, ranges string
		var a APN
		if err := rows.Scan(&id, &a.Name, &auth, &a.Username, &a.Password, &ipType, &a.RoamingAllowed, &mccmncs, &ranges); err != nil {
			return err
		}
		op, err := get(id)
		if err != nil {
			return err
		}
		a.AuthType, a.IPType = AuthType(auth), IPType(ipType)
		if mccmncs != "" {
			a.MCCMNCs = strings.Split(mccmncs, ",")
		}
		if err := json.Unmarshal([]byte(ranges), &a.ICCIDRanges); err != nil {
			return fmt.Errorf("discovery: stored APN ranges of %s: %w", id, err)
		}
		op.APNs = append(op.APNs, a)
		return nil
	}); err != nil {
		return nil, err
	}
	return ops, nil
}

func (s *store) each(ctx context.Context, q string, fn func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("discovery: query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("discovery: read: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("discovery: read: %w", err)
	}
	return nil
}

// replaceMCCs makes the MCC table hold exactly m.
func (s *store) replaceMCCs(ctx context.Context, m map[string]string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM mcc_countries`); err != nil {
			return fmt.Errorf("discovery: clear MCC table: %w", err)
		}
		for mcc, c := range m {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mcc_countries (mcc, country) VALUES (?, ?)`, mcc, c); err != nil {
				return fmt.Errorf("discovery: store MCC %s: %w", mcc, err)
			}
		}
		return nil
	})
}

func (s *store) mccs(ctx context.Context) (map[string]string, error) {
	m := map[string]string{}
	err := s.each(ctx, `SELECT mcc, country FROM mcc_countries`, func(rows *sql.Rows) error {
		var mcc, c string
		if err := rows.Scan(&mcc, &c); err != nil {
			return err
		}
		m[mcc] = c
		return nil
	})
	return m, err
}
