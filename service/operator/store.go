package operator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Store errors callers branch on.
var (
	// ErrUnknownICCID: no Contoso line or order has this ICCID.
	ErrUnknownICCID = errors.New("operator: unknown ICCID")
	// ErrEmailTaken: sign-up with an e-mail address that has an account.
	ErrEmailTaken = errors.New("operator: an account with this e-mail address exists")
	// ErrOrderState: the order is not in a state that allows the change.
	ErrOrderState = errors.New("operator: the order does not allow this change")
	errNotFound   = errors.New("operator: not found")
)

const busyTimeout = 10 * time.Second

// migrations are applied in order; PRAGMA user_version counts the applied
// ones. Never edit a shipped entry: append a new one. Times are Unix
// milliseconds.
func migrations() []string {
	return []string{
		`CREATE TABLE accounts (
			id         INTEGER PRIMARY KEY,
			email      TEXT NOT NULL UNIQUE,
			name       TEXT NOT NULL,
			pw_salt    BLOB NOT NULL,
			pw_hash    BLOB NOT NULL,
			purchases  INTEGER NOT NULL DEFAULT 0,
			created_at INTEGER NOT NULL
		);
		CREATE TABLE lines (
			iccid      TEXT PRIMARY KEY,
			account_id INTEGER REFERENCES accounts(id),
			plan_id    TEXT NOT NULL,
			sim        TEXT NOT NULL CHECK (sim IN ('esim', 'psim')),
			created_at INTEGER NOT NULL
		);
		CREATE TABLE orders (
			id              INTEGER PRIMARY KEY,
			account_id      INTEGER NOT NULL REFERENCES accounts(id),
			iccid           TEXT NOT NULL REFERENCES lines(iccid),
			kind            TEXT NOT NULL CHECK (kind IN ('download', 'activation', 'topup')),
			product_id      TEXT NOT NULL,
			eid             TEXT NOT NULL DEFAULT '',
			activation_code TEXT NOT NULL DEFAULT '',
			delivery        TEXT NOT NULL DEFAULT '',
			delay_minutes   INTEGER NOT NULL DEFAULT 0,
			state           TEXT NOT NULL CHECK (state IN ('released', 'downloaded', 'cancelled', 'done')),
			transaction_id  TEXT NOT NULL DEFAULT '',
			created_at      INTEGER NOT NULL,
			updated_at      INTEGER NOT NULL
		);
		CREATE INDEX orders_iccid ON orders(iccid);
		CREATE TABLE balances (
			id               INTEGER PRIMARY KEY,
			iccid            TEXT NOT NULL REFERENCES lines(iccid),
			type             TEXT NOT NULL CHECK (type IN ('MODIRECT', 'MODIRECTPAYG')),
			plan_id          TEXT NOT NULL,
			locations        TEXT NOT NULL,
			data_mb          REAL,
			usage_mb_per_min REAL NOT NULL,
			as_of            INTEGER NOT NULL,
			expires_at       INTEGER NOT NULL
		);
		CREATE INDEX balances_iccid ON balances(iccid);
		CREATE TABLE mo_transactions (
			id      TEXT PRIMARY KEY,
			seen_at INTEGER NOT NULL
		);
		CREATE INDEX mo_transactions_seen ON mo_transactions(seen_at);`,
	}
}

type store struct {
	db *sql.DB
}

func openStore(ctx context.Context, path string) (*store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("operator: database path: %w", err)
	}
	if strings.ContainsRune(abs, '?') {
		return nil, fmt.Errorf("operator: database path %q must not contain '?'", abs)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", abs+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("operator: open database: %w", err)
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
			return fmt.Errorf("operator: read schema version: %w", err)
		}
		ms := migrations()
		if v > len(ms) {
			return fmt.Errorf("operator: database schema version %d is newer than this program (%d)", v, len(ms))
		}
		for i := v; i < len(ms); i++ {
			if _, err := tx.ExecContext(ctx, ms[i]); err != nil {
				return fmt.Errorf("operator: migration %d: %w", i+1, err)
			}
		}
		// PRAGMA takes no bound parameters; len(ms) is a program constant.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(ms))); err != nil {
			return fmt.Errorf("operator: write schema version: %w", err)
		}
		return nil
	})
}

func (s *store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("operator: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("operator: commit: %w", err)
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// account is a portal customer.
type account struct {
	ID        int64
	Email     string
	Name      string
	Salt      []byte
	Hash      []byte
	Purchases int
}

func (s *store) createAccount(ctx context.Context, email, name string, salt, hash []byte, now time.Time) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE email = ?`, email).Scan(&n); err != nil {
			return fmt.Errorf("operator: look up account: %w", err)
		}
		if n > 0 {
			return ErrEmailTaken
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO accounts (email, name, pw_salt, pw_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			email, name, salt, hash, ms(now))
		if err != nil {
			return fmt.Errorf("operator: create account: %w", err)
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

func (s *store) accountBy(ctx context.Context, where string, arg any) (account, error) {
	var a account
	err := s.db.QueryRowContext(ctx, `SELECT id, email, name, pw_salt, pw_hash, purchases FROM accounts WHERE `+where, arg).
		Scan(&a.ID, &a.Email, &a.Name, &a.Salt, &a.Hash, &a.Purchases)
	if errors.Is(err, sql.ErrNoRows) {
		return a, errNotFound
	}
	if err != nil {
		return a, fmt.Errorf("operator: read account: %w", err)
	}
	return a, nil
}

func (s *store) accountByEmail(ctx context.Context, email string) (account, error) {
	return s.accountBy(ctx, `email = ?`, email)
}

func (s *store) accountByID(ctx context.Context, id int64) (account, error) {
	return s.accountBy(ctx, `id = ?`, id)
}

// balance is one balance of a line. DataMB nil means unlimited (postpaid).
type balance struct {
	ID          int64
	ICCID       string
	Type        string
	PlanID      string
	Locations   []string
	DataMB      *float64
	UsagePerMin float64
	AsOf        time.Time
	ExpiresAt   time.Time
}

// Balance types of GetBalance (mobile-plans.md 4.2).
const (
	balanceMODirect     = "MODIRECT"
	balanceMODirectPAYG = "MODIRECTPAYG"
)

// at returns the data left (MB, NaN for unlimited) and the time left at
// now: data is used at UsagePerMin from AsOf; after ExpiresAt both are 0.
// A postpaid balance renews every period, so its time left runs to the end
// of the current period.
func (b balance) at(now time.Time, period time.Duration) (float64, time.Duration) {
	if b.DataMB == nil {
		left := b.ExpiresAt.Sub(now)
		if left <= 0 && period > 0 {
			left = period - (now.Sub(b.ExpiresAt) % period)
		}
		return math.NaN(), max(left, 0)
	}
	if !now.Before(b.ExpiresAt) {
		return 0, 0
	}
	data := *b.DataMB
	if used := now.Sub(b.AsOf).Minutes() * b.UsagePerMin; used > 0 {
		data -= used
	}
	return max(data, 0), b.ExpiresAt.Sub(now)
}

// purchase is what the portal records for a bought plan.
type purchase struct {
	AccountID     int64
	ICCID         string
	SIM           string // "esim" or "psim"
	Kind          string // "download" or "activation"
	Plan          Plan
	EID           string
	AC            string
	Delivery      string
	DelayMinutes  int
	TransactionID string
	UsagePerMin   float64
}

// newBalance returns the balance a plan starts with at now.
func newBalance(p Plan, usagePerMin float64, now time.Time) balance {
	b := balance{PlanID: p.ID, Locations: p.Locations, AsOf: now, ExpiresAt: now.Add(p.Validity), UsagePerMin: usagePerMin}
	if p.Kind == Postpaid {
		b.Type = balanceMODirect
		b.UsagePerMin = 0
	} else {
		b.Type = balanceMODirectPAYG
		d := p.DataMB
		b.DataMB = &d
	}
	return b
}

func insertBalance(ctx context.Context, tx *sql.Tx, iccid string, b balance) error {
	var data any
	if b.DataMB != nil {
		data = *b.DataMB
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO balances (iccid, type, plan_id, locations, data_mb, usage_mb_per_min, as_of, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, iccid, b.Type, b.PlanID, strings.Join(b.Locations, ","), data, b.UsagePerMin,
		ms(b.AsOf), ms(b.ExpiresAt))
	if err != nil {
		return fmt.Errorf("operator: insert balance: %w", err)
	}
	return nil
}

func upsertLine(ctx context.Context, tx *sql.Tx, iccid string, accountID int64, planID, sim string, now time.Time) error {
	var acc any
	if accountID != 0 {
		acc = accountID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO lines (iccid, account_id, plan_id, sim, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (iccid) DO UPDATE SET account_id = coalesce(excluded.account_id, account_id), plan_id = excluded.plan_id`,
		iccid, acc, planID, sim, ms(now))
	if err != nil {
		return fmt.Errorf("operator: record line: %w", err)
	}
	return nil
}

// recordPurchase stores the line, its order and its balance and counts the
// purchase on the account. It returns the order id.
func (s *store) recordPurchase(ctx context.Context, p purchase, now time.Time) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := upsertLine(ctx, tx, p.ICCID, p.AccountID, p.Plan.ID, p.SIM, now); err != nil {
			return err
		}
		state := "released"
		if p.Kind == "activation" {
			state = "done"
		} else if _, err := tx.ExecContext(ctx, `DELETE FROM balances WHERE iccid = ?`, p.ICCID); err != nil {
			// A profile handed out again starts without the balances of
			// its previous owner.
			return fmt.Errorf("operator: clear balances: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO orders (account_id, iccid, kind, product_id, eid, activation_code, delivery,
			delay_minutes, state, transaction_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.AccountID, p.ICCID, p.Kind, p.Plan.ID, p.EID, p.AC, p.Delivery, p.DelayMinutes, state, p.TransactionID,
			ms(now), ms(now))
		if err != nil {
			return fmt.Errorf("operator: insert order: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := insertBalance(ctx, tx, p.ICCID, newBalance(p.Plan, p.UsagePerMin, now)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET purchases = purchases + 1 WHERE id = ?`, p.AccountID); err != nil {
			return fmt.Errorf("operator: count purchase: %w", err)
		}
		return nil
	})
	return id, err
}

// seedLine adds a line with a fresh balance of plan unless iccid is known.
func (s *store) seedLine(ctx context.Context, iccid string, p Plan, usagePerMin float64, now time.Time) (bool, error) {
	added := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM lines WHERE iccid = ?`, iccid).Scan(&n); err != nil {
			return fmt.Errorf("operator: look up line: %w", err)
		}
		if n > 0 {
			return nil
		}
		if err := upsertLine(ctx, tx, iccid, 0, p.ID, "esim", now); err != nil {
			return err
		}
		added = true
		return insertBalance(ctx, tx, iccid, newBalance(p, usagePerMin, now))
	})
	return added, err
}

// topUp adds t to the prepaid balance of iccid (creating one when the line
// has none) and records the top-up order; it returns the order id.
func (s *store) topUp(ctx context.Context, accountID int64, iccid string, t TopUp, txID string, now time.Time) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var planID string
		err := tx.QueryRowContext(ctx, `SELECT plan_id FROM lines WHERE iccid = ?`, iccid).Scan(&planID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrUnknownICCID
		}
		if err != nil {
			return fmt.Errorf("operator: look up line: %w", err)
		}
		bals, err := queryBalances(ctx, tx, iccid)
		if err != nil {
			return err
		}
		var target *balance
		for i := range bals {
			if bals[i].Type == balanceMODirectPAYG {
				target = &bals[i]
				break
			}
		}
		if target == nil {
			p, ok := planByID(planID)
			if !ok || p.Kind != Prepaid {
				return fmt.Errorf("%w: line is not prepaid", ErrOrderState)
			}
			b := newBalance(p, 0, now)
			zero := 0.0
			b.DataMB, b.ExpiresAt = &zero, now
			if err := insertBalance(ctx, tx, iccid, b); err != nil {
				return err
			}
			if bals, err = queryBalances(ctx, tx, iccid); err != nil {
				return err
			}
			target = &bals[len(bals)-1]
		}
		left, _ := target.at(now, 0)
		data := left + t.DataMB
		exp := target.ExpiresAt
		if e := now.Add(t.Validity); e.After(exp) {
			exp = e
		}
		if _, err := tx.ExecContext(ctx, `UPDATE balances SET data_mb = ?, as_of = ?, expires_at = ? WHERE id = ?`,
			data, ms(now), ms(exp), target.ID); err != nil {
			return fmt.Errorf("operator: update balance: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO orders (account_id, iccid, kind, product_id, state, transaction_id,
			created_at, updated_at) VALUES (?, ?, 'topup', ?, 'done', ?, ?, ?)`, accountID, iccid, t.ID, txID, ms(now), ms(now))
		if err != nil {
			return fmt.Errorf("operator: insert order: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET purchases = purchases + 1 WHERE id = ?`, accountID); err != nil {
			return fmt.Errorf("operator: count purchase: %w", err)
		}
		return nil
	})
	return id, err
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryBalances(ctx context.Context, q querier, iccid string) ([]balance, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, type, plan_id, locations, data_mb, usage_mb_per_min, as_of, expires_at
		FROM balances WHERE iccid = ? ORDER BY id`, iccid)
	if err != nil {
		return nil, fmt.Errorf("operator: read balances: %w", err)
	}
	defer rows.Close()
	var out []balance
	for rows.Next() {
		b := balance{ICCID: iccid}
		var locs string
		var data sql.NullFloat64
		var asOf, exp int64
		if err := rows.Scan(&b.ID, &b.Type, &b.PlanID, &locs, &data, &b.UsagePerMin, &asOf, &exp); err != nil {
			return nil, fmt.Errorf("operator: read balances: %w", err)
		}
		if locs != "" {
			b.Locations = strings.Split(locs, ",")
		}
		if data.Valid {
			v := data.Float64
			b.DataMB = &v
		}
		b.AsOf, b.ExpiresAt = fromMS(asOf), fromMS(exp)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("operator: read balances: %w", err)
	}
	return out, nil
}

// line is a Contoso SIM (eSIM profile or physical SIM).
type line struct {
	ICCID     string
	AccountID int64
	PlanID    string
	SIM       string
}

func (s *store) line(ctx context.Context, iccid string) (line, error) {
	l := line{ICCID: iccid}
	var acc sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT account_id, plan_id, sim FROM lines WHERE iccid = ?`, iccid).
		Scan(&acc, &l.PlanID, &l.SIM)
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrUnknownICCID
	}
	if err != nil {
		return l, fmt.Errorf("operator: read line: %w", err)
	}
	l.AccountID = acc.Int64
	return l, nil
}

// lineBalances returns the balances of iccid, ErrUnknownICCID when there
// is no such line.
func (s *store) lineBalances(ctx context.Context, iccid string) ([]balance, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT b.id, b.type, b.plan_id, b.locations, b.data_mb, b.usage_mb_per_min,
		b.as_of, b.expires_at FROM lines l LEFT JOIN balances b ON b.iccid = l.iccid WHERE l.iccid = ? ORDER BY b.id`, iccid)
	if err != nil {
		return nil, fmt.Errorf("operator: read balances: %w", err)
	}
	defer rows.Close()
	found := false
	var out []balance
	for rows.Next() {
		found = true
		var id, asOf, exp sql.NullInt64
		var typ, plan, locs sql.NullString
		var data, usage sql.NullFloat64
		if err := rows.Scan(&id, &typ, &plan, &locs, &data, &usage, &asOf, &exp); err != nil {
			return nil, fmt.Errorf("operator: read balances: %w", err)
		}
		if !id.Valid {
			continue // a line without balances
		}
		b := balance{ID: id.Int64, ICCID: iccid, Type: typ.String, PlanID: plan.String, UsagePerMin: usage.Float64,
			AsOf: fromMS(asOf.Int64), ExpiresAt: fromMS(exp.Int64)}
		if locs.String != "" {
			b.Locations = strings.Split(locs.String, ",")
		}
		if data.Valid {
			v := data.Float64
			b.DataMB = &v
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("operator: read balances: %w", err)
	}
	if !found {
		return nil, ErrUnknownICCID
	}
	return out, nil
}

// orderRow is a stored order.
type orderRow struct {
	ID            int64
	AccountID     int64
	ICCID         string
	Kind          string
	ProductID     string
	EID           string
	AC            string
	Delivery      string
	DelayMinutes  int
	State         string
	TransactionID string
}

const orderColumns = `id, account_id, iccid, kind, product_id, eid, activation_code, delivery, delay_minutes, state, transaction_id`

func scanOrder(row interface{ Scan(...any) error }) (orderRow, error) {
	var o orderRow
	err := row.Scan(&o.ID, &o.AccountID, &o.ICCID, &o.Kind, &o.ProductID, &o.EID, &o.AC, &o.Delivery, &o.DelayMinutes,
		&o.State, &o.TransactionID)
	if errors.Is(err, sql.ErrNoRows) {
		return o, errNotFound
	}
	if err != nil {
		return o, fmt.Errorf("operator: read order: %w", err)
	}
	return o, nil
}

func (s *store) order(ctx context.Context, id int64) (orderRow, error) {
	return scanOrder(s.db.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = ?`, id))
}

// openDownload returns the newest released (not yet downloaded) download
// order of iccid.
func (s *store) openDownload(ctx context.Context, iccid string) (orderRow, error) {
	return scanOrder(s.db.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders
		WHERE iccid = ? AND kind = 'download' AND state = 'released' ORDER BY id DESC LIMIT 1`, iccid))
}

// setDownloadState moves the newest download order of iccid from state
// 'released' to to. It returns ErrUnknownICCID when iccid has no download
// order and ErrOrderState when it is not released.
func (s *store) setDownloadState(ctx context.Context, iccid, to string, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		var state string
		err := tx.QueryRowContext(ctx, `SELECT id, state FROM orders WHERE iccid = ? AND kind = 'download'
			ORDER BY id DESC LIMIT 1`, iccid).Scan(&id, &state)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrUnknownICCID
		}
		if err != nil {
			return fmt.Errorf("operator: read order: %w", err)
		}
		if state == to {
			return nil
		}
		if state != "released" {
			return fmt.Errorf("%w: order is %s", ErrOrderState, state)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET state = ?, updated_at = ? WHERE id = ?`, to, ms(now), id); err != nil {
			return fmt.Errorf("operator: update order: %w", err)
		}
		if to == "cancelled" {
			// A cancelled download leaves no plan behind; the line stays
			// known (GetBalance answers an empty list).
			if _, err := tx.ExecContext(ctx, `DELETE FROM balances WHERE iccid = ?`, iccid); err != nil {
				return fmt.Errorf("operator: end balance: %w", err)
			}
		}
		return nil
	})
}

// seeTransaction records an MO API transaction id; it reports false when
// the id was seen before.
func (s *store) seeTransaction(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO mo_transactions (id, seen_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
		id, ms(now))
	if err != nil {
		return false, fmt.Errorf("operator: record transaction: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("operator: record transaction: %w", err)
	}
	return n == 1, nil
}

// pruneTransactions forgets transaction ids seen before t.
func (s *store) pruneTransactions(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM mo_transactions WHERE seen_at < ?`, ms(t))
	if err != nil {
		return 0, fmt.Errorf("operator: prune transactions: %w", err)
	}
	return res.RowsAffected()
}
