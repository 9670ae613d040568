package operator

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"
)

// sessionCookie is the portal's session cookie.
const sessionCookie = "contoso_session"

// Password hashing: PBKDF2-HMAC-SHA256.
const (
	pwIterations = 100_000
	pwKeyLen     = 32
	pwSaltLen    = 16
)

// session is the state of one portal visit. Handlers work on copies
// (getSession) and store them back (saveSession).
type session struct {
	ID      string
	CSRF    string
	Created time.Time
	Seen    time.Time
	Launch  Launch

	AccountID  int64
	NewAccount bool   // signed up during this visit
	PlanID     string // chosen, not yet bought
	OrderID    int64  // shown by the confirmation page
	Retry      bool   // the confirmation re-hands a failed download
	// CancelContext is the bridge operation context of a cancelled
	// scheduled download.
	CancelContext string
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newSession starts a session for a launch and sets its cookie.
func (o *Operator) newSession(w http.ResponseWriter, l Launch) session {
	now := o.now()
	s := session{ID: randomToken(), CSRF: randomToken(), Created: now, Seen: now, Launch: l}
	o.mu.Lock()
	o.pruneSessionsLocked(now)
	o.sessions[s.ID] = &s
	o.mu.Unlock()
	o.setCookie(w, s.ID)
	return s
}

// maxSessions bounds the live sessions; beyond it the least recently seen
// one is dropped.
const maxSessions = 10000

func (o *Operator) pruneSessionsLocked(now time.Time) {
	var oldest string
	for id, s := range o.sessions {
		if now.Sub(s.Seen) > o.cfg.SessionTTL {
			delete(o.sessions, id)
			continue
		}
		if oldest == "" || s.Seen.Before(o.sessions[oldest].Seen) {
			oldest = id
		}
	}
	if len(o.sessions) >= maxSessions && oldest != "" {
		delete(o.sessions, oldest)
	}
}

func (o *Operator) setCookie(w http.ResponseWriter, id string) {
	c := &http.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     o.prefix + "/",
		HttpOnly: true,
		Secure:   o.secure,
		SameSite: http.SameSiteLaxMode,
	}
	if id == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// getSession returns a copy of the request's live session.
func (o *Operator) getSession(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return session{}, false
	}
	now := o.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.sessions[c.Value]
	if !ok {
		return session{}, false
	}
	if now.Sub(s.Seen) > o.cfg.SessionTTL {
		delete(o.sessions, c.Value)
		return session{}, false
	}
	s.Seen = now
	return *s, true
}

// saveSession stores s unless the session ended meanwhile.
func (o *Operator) saveSession(s session) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.sessions[s.ID]; ok {
		o.sessions[s.ID] = &s
	}
}

// rotateSession gives s a new id (after sign-in) and sets the cookie.
func (o *Operator) rotateSession(w http.ResponseWriter, s session) session {
	o.mu.Lock()
	delete(o.sessions, s.ID)
	s.ID = randomToken()
	o.sessions[s.ID] = &s
	o.mu.Unlock()
	o.setCookie(w, s.ID)
	return s
}

// endSession deletes the session (sign-out) and its cookie.
func (o *Operator) endSession(w http.ResponseWriter, id string) {
	o.mu.Lock()
	delete(o.sessions, id)
	o.mu.Unlock()
	o.setCookie(w, "")
}

// csrfOK compares the form's token with the session's.
func csrfOK(r *http.Request, s session) bool {
	t := r.PostFormValue("csrf")
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.CSRF)) == 1
}

func hashPassword(password string, salt []byte) ([]byte, error) {
	return pbkdf2.Key(sha256.New, password, salt, pwIterations, pwKeyLen)
}

func newSalt() []byte {
	b := make([]byte, pwSaltLen)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return b
}
