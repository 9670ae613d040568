package operator

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of portal forms.
const (
	maxFormBody   = 64 << 10
	maxNameLen    = 100
	maxEmailLen   = 254
	maxPassword   = 256
	minPassword   = 8
	orderTimeout  = 30 * time.Second
	maxContextLen = 64
)

// PortalHandler returns the purchase portal. The launch URL is the path of
// Config.PortalBaseURL (with or without a trailing slash); the pages live
// below it (see the package documentation).
func (o *Operator) PortalHandler() http.Handler {
	mux := http.NewServeMux()
	p := o.prefix
	mux.HandleFunc("GET "+p+"/{$}", o.launch)
	if p != "" {
		mux.HandleFunc("GET "+p, o.launch)
	}
	static := http.StripPrefix(p+"/static/", http.FileServerFS(o.ui.static))
	mux.Handle("GET "+p+"/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		static.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET "+p+"/signin", o.withSession(o.signinPage))
	mux.HandleFunc("POST "+p+"/signin", o.withForm(o.signin))
	mux.HandleFunc("GET "+p+"/signup", o.withSession(o.signupPage))
	mux.HandleFunc("POST "+p+"/signup", o.withForm(o.signup))
	mux.HandleFunc("GET "+p+"/plans", o.withAccount(o.plansPage))
	mux.HandleFunc("POST "+p+"/plans", o.withForm(o.choosePlan))
	mux.HandleFunc("GET "+p+"/review", o.withAccount(o.reviewPage))
	mux.HandleFunc("POST "+p+"/review", o.withForm(o.buy))
	mux.HandleFunc("GET "+p+"/confirmation", o.withAccount(o.confirmationPage))
	mux.HandleFunc("POST "+p+"/order/cancel", o.withForm(o.cancelScheduled))
	mux.HandleFunc("GET "+p+"/order/cancelled", o.withAccount(o.scheduledCancelledPage))
	mux.HandleFunc("POST "+p+"/retry", o.withForm(o.retry))
	mux.HandleFunc("GET "+p+"/topup", o.withAccount(o.topUpPage))
	mux.HandleFunc("POST "+p+"/topup", o.withForm(o.topUp))
	mux.HandleFunc("GET "+p+"/terms", o.termsPage)
	mux.HandleFunc("POST "+p+"/cancel", o.cancel)
	mux.HandleFunc("GET "+p+"/cancelled", o.cancelledPage)
	mux.HandleFunc("POST "+p+"/done", o.withForm(o.done))
	mux.HandleFunc("GET "+p+"/done", o.donePage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, ok := o.getSession(r)
		o.errorPage(w, r, http.StatusNotFound, "err.notfound", s, ok)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		mux.ServeHTTP(w, r)
	})
}

// page returns the common page data.
func (o *Operator) page(r *http.Request, name string, s session, hasSession bool) *pageData {
	l := o.ui.locale(r)
	d := &pageData{
		L: l, Brand: o.cfg.Brand, Base: o.prefix, Page: name,
		SupportEmail: o.cfg.SupportEmail, SupportPhone: o.cfg.SupportPhone,
	}
	switch name {
	case "cancelled", "done", "confirmation":
	default:
		d.ShowCancel = true
	}
	if hasSession {
		d.CSRF = s.CSRF
	}
	return d
}

// withLPAError adds the notice about the last failed download.
func (o *Operator) withLPAError(d *pageData, s session) {
	e := s.Launch.Error
	if e == nil {
		return
	}
	d.LPAError = &lpaErrorView{GroupKey: "lpa." + lpaErrorGroup(e.Codes[0]), CodesJoined: strings.Join(e.Codes, ", "),
		TimesJoined: strings.Join(e.TimeStamps, ", ")}
}

func (o *Operator) errorPage(w http.ResponseWriter, r *http.Request, status int, msgKey string, s session, hasSession bool) {
	d := o.page(r, "error", s, hasSession)
	d.Message = msgKey
	o.render(w, status, d)
}

// withSession requires a live session.
func (o *Operator) withSession(h func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := o.getSession(r)
		if !ok {
			o.errorPage(w, r, http.StatusForbidden, "err.session", s, false)
			return
		}
		h(w, r, s)
	}
}

// withAccount requires a signed-in session; others go to sign-in.
func (o *Operator) withAccount(h func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return o.withSession(func(w http.ResponseWriter, r *http.Request, s session) {
		if s.AccountID == 0 {
			http.Redirect(w, r, o.prefix+"/signin", http.StatusSeeOther)
			return
		}
		h(w, r, s)
	})
}

// withForm requires a live session and a form with its CSRF token.
func (o *Operator) withForm(h func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return o.withSession(func(w http.ResponseWriter, r *http.Request, s session) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil || !csrfOK(r, s) {
			o.log.Warn("portal: form refused (CSRF token missing or wrong)", "path", r.URL.Path,
				"transactionId", s.Launch.TransactionID)
			o.errorPage(w, r, http.StatusForbidden, "err.csrf", s, true)
			return
		}
		h(w, r, s)
	})
}

func (o *Operator) redirect(w http.ResponseWriter, r *http.Request, page string) {
	http.Redirect(w, r, o.prefix+"/"+page, http.StatusSeeOther)
}

// launch starts a visit: the launch parameters are logged and kept, any
// earlier visit of this browser is signed out. Returning to the launch URL
// with the same transactionId (back navigation) keeps the visit.
func (o *Operator) launch(w http.ResponseWriter, r *http.Request) {
	l := ParseLaunch(r.URL.RawQuery, r.Header)
	log := o.log.With("transactionId", l.TransactionID)
	attrs := []any{"eid", maskEID(l.EID), "iccids", len(l.ICCIDs), "psim", maskICCID(l.ICCID),
		"market", l.Market, "location", l.Location, "legacy", l.Legacy, "callback", l.Callback != ""}
	if len(l.Dropped) > 0 {
		attrs = append(attrs, "dropped", l.Dropped)
	}
	if e := l.Error; e != nil {
		attrs = append(attrs, "lpaErrors", e.Codes, "lpaErrorTimes", e.TimeStamps, "lpaErrorICCID", maskICCID(e.ICCID))
	}
	log.Info("portal launch", attrs...)
	if s, ok := o.getSession(r); ok {
		if l.TransactionID != "" && s.Launch.TransactionID == l.TransactionID {
			if l.Callback != "" && l.Callback != s.Launch.Callback {
				// The app listens anew (it was restarted).
				s.Launch.Callback = l.Callback
				o.saveSession(s)
			}
			if s.AccountID != 0 {
				o.plansPage(w, r, s)
			} else {
				o.signinPage(w, r, s)
			}
			return
		}
		o.endSession(w, s.ID)
	}
	s := o.newSession(w, l)
	o.signinPage(w, r, s)
}

func (o *Operator) signinPage(w http.ResponseWriter, r *http.Request, s session) {
	o.renderSignin(w, r, s, "", "")
}

func (o *Operator) renderSignin(w http.ResponseWriter, r *http.Request, s session, email, errKey string) {
	d := o.page(r, "signin", s, true)
	o.withLPAError(d, s)
	d.FormEmail, d.FormError = email, errKey
	o.render(w, http.StatusOK, d)
}

func (o *Operator) signupPage(w http.ResponseWriter, r *http.Request, s session) {
	d := o.page(r, "signup", s, true)
	o.withLPAError(d, s)
	d.Back = o.prefix + "/signin"
	o.render(w, http.StatusOK, d)
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validEmail(s string) bool {
	if len(s) > maxEmailLen || strings.ContainsAny(s, " \t\r\n<>\"'(),;:[]\\") {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && !strings.Contains(domain, "@") && strings.Contains(domain, ".") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func (o *Operator) signin(w http.ResponseWriter, r *http.Request, s session) {
	email, pw := normEmail(r.PostFormValue("email")), r.PostFormValue("password")
	acc, err := o.db.accountByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, errNotFound) {
		o.log.Error("portal: sign-in", "err", err)
		o.errorPage(w, r, http.StatusInternalServerError, "err.internal", s, true)
		return
	}
	salt := acc.Salt
	if salt == nil {
		salt = make([]byte, pwSaltLen) // same work for unknown accounts
	}
	h, herr := hashPassword(pw, salt)
	if err != nil || herr != nil || len(pw) > maxPassword || !equalBytes(h, acc.Hash) {
		o.log.Info("portal: sign-in refused", "transactionId", s.Launch.TransactionID)
		o.renderSignin(w, r, s, email, "err.signin")
		return
	}
	s.AccountID, s.NewAccount = acc.ID, false
	s = o.rotateSession(w, s)
	o.log.Info("portal: signed in", "account", acc.ID, "transactionId", s.Launch.TransactionID)
	o.redirect(w, r, "plans")
}

func (o *Operator) signup(w http.ResponseWriter, r *http.Request, s session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	email, pw := normEmail(r.PostFormValue("email")), r.PostFormValue("password")
	fail := func(key string) {
		d := o.page(r, "signup", s, true)
		o.withLPAError(d, s)
		d.Back = o.prefix + "/signin"
		d.FormName, d.FormEmail, d.FormError = name, email, key
		o.render(w, http.StatusOK, d)
	}
	switch {
	case name == "" || len(name) > maxNameLen:
		fail("err.name")
		return
	case !validEmail(email):
		fail("err.email")
		return
	case len(pw) < minPassword || len(pw) > maxPassword:
		fail("err.password")
		return
	}
	salt := newSalt()
	h, err := hashPassword(pw, salt)
	if err != nil {
		o.log.Error("portal: hash password", "err", err)
		o.errorPage(w, r, http.StatusInternalServerError, "err.internal", s, true)
		return
	}
	id, err := o.db.createAccount(r.Context(), email, name, salt, h, o.now())
	if errors.Is(err, ErrEmailTaken) {
		fail("err.email_taken")
		return
	}
	if err != nil {
		o.log.Error("portal: sign-up", "err", err)
		o.errorPage(w, r, http.StatusInternalServerError, "err.internal", s, true)
		return
	}
	s.AccountID, s.NewAccount = id, true
	s = o.rotateSession(w, s)
	o.log.Info("portal: account created", "account", id, "transactionId", s.Launch.TransactionID)
	o.redirect(w, r, "plans")
}

func equalBytes(a, b []byte) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// planView renders a plan for locale l.
func (o *Operator) planView(l *locale, p Plan) planView {
	v := planView{L: l, ID: p.ID, NameKey: "plan." + p.ID, DescKey: "plan." + p.ID + ".d", Postpaid: p.Kind == Postpaid,
		Days: strconv.Itoa(int(p.Validity / day)), Async: p.Fulfilment == FulfilAsync,
		Countries: strconv.Itoa(len(p.Locations)), Minutes: strconv.Itoa(o.cfg.RegistrationInterval)}
	if p.Kind == Postpaid {
		v.Price = l.T("plans.per_month", "price", l.Price(p.PriceCents))
	} else {
		v.Price = l.T("plans.once", "price", l.Price(p.PriceCents))
	}
	if p.DataMB > 0 {
		v.Data = l.Data(p.DataMB)
	}
	return v
}

// launchICCIDs are the SIMs the app named: eSIM profiles first.
func launchICCIDs(l Launch) []string {
	out := slices.Clone(l.ICCIDs)
	if l.ICCID != "" && !slices.Contains(out, l.ICCID) {
		out = append(out, l.ICCID)
	}
	return out
}

// lineViews lists the launch's SIMs that are Contoso lines.
func (o *Operator) lineViews(ctx context.Context, l *locale, s session) ([]lineView, error) {
	var out []lineView
	now := o.now()
	for _, iccid := range launchICCIDs(s.Launch) {
		bals, err := o.db.lineBalances(ctx, iccid)
		if errors.Is(err, ErrUnknownICCID) {
			continue
		}
		if err != nil {
			return nil, err
		}
		v := lineView{ICCID: iccid}
		ln, err := o.db.line(ctx, iccid)
		if err != nil {
			return nil, err
		}
		if p, ok := planByID(ln.PlanID); ok && p.Kind == Postpaid {
			v.Postpaid = true
		} else {
			v.CanTopUp = true
			data, left := sumPrepaid(bals, now)
			v.Data, v.Time = l.Data(data), l.Duration(left)
		}
		out = append(out, v)
	}
	return out, nil
}

// sumPrepaid adds up the prepaid balances at now; the time left is the
// longest.
func sumPrepaid(bals []balance, now time.Time) (float64, time.Duration) {
	var data float64
	var left time.Duration
	for _, b := range bals {
		if b.Type != balanceMODirectPAYG {
			continue
		}
		d, t := b.at(now, 0)
		data += d
		left = max(left, t)
	}
	return data, left
}

func (o *Operator) plansPage(w http.ResponseWriter, r *http.Request, s session) {
	o.renderPlans(w, r, s, "")
}

func (o *Operator) renderPlans(w http.ResponseWriter, r *http.Request, s session, errKey string) {
	d := o.page(r, "plans", s, true)
	o.withLPAError(d, s)
	acc, err := o.db.accountByID(r.Context(), s.AccountID)
	if err == nil {
		d.Lines, err = o.lineViews(r.Context(), d.L, s)
	}
	if err != nil {
		o.log.Error("portal: plans page", "err", err)
		o.errorPage(w, r, http.StatusInternalServerError, "err.internal", s, true)
		return
	}
	d.Name, d.FormError = acc.Name, errKey
	for _, p := range Plans() {
		v := o.planView(d.L, p)
		v.Checked = p.ID == s.PlanID
		if p.Kind == Postpaid {
			d.Postpaid = append(d.Postpaid, v)
		} else {
			d.Prepaid = append(d.Prepaid, v)
		}
	}
	if e := s.Launch.Error; e != nil && e.ICCID != "" {
		if od, err := o.db.openDownload(r.Context(), e.ICCID); err == nil && od.AccountID == s.AccountID {
			d.RetryOrder = true
		}
	}
	o.render(w, http.StatusOK, d)
}

func (o *Operator) choosePlan(w http.ResponseWriter, r *http.Request, s session) {
	if s.AccountID == 0 {
		o.redirect(w, r, "signin")
		return
	}
	id := r.PostFormValue("plan")
	if _, ok := planByID(id); !ok {
		o.renderPlans(w, r, s, "err.choose_plan")
		return
	}
	s.PlanID = id
	o.saveSession(s)
	o.redirect(w, r, "review")
}

// esimTarget tells whether a purchase orders an eSIM profile (an EID was
// given, or no SIM at all) or activates the plan on the physical SIM.
func esimTarget(l Launch) bool { return l.EID != "" || l.ICCID == "" }

func (o *Operator) legacy(s session) bool { return o.cfg.Legacy || s.Launch.Legacy }

func (o *Operator) reviewPage(w http.ResponseWriter, r *http.Request, s session) {
	o.renderReview(w, r, s, "", false, false)
}

func (o *Operator) renderReview(w http.ResponseWriter, r *http.Request, s session, errKey string, later, accepted bool) {
	p, ok := planByID(s.PlanID)
	if !ok {
		o.redirect(w, r, "plans")
		return
	}
	d := o.page(r, "review", s, true)
	d.FormError, d.Back = errKey, o.prefix+"/plans"
	rv := &reviewView{Plan: o.planView(d.L, p), ESIM: esimTarget(s.Launch), ICCID: s.Launch.ICCID,
		DeferMins: strconv.Itoa(o.cfg.DeferMinutes), Later: later, AcceptDone: accepted}
	rv.Delivery = rv.ESIM && p.Fulfilment == FulfilInline && !o.legacy(s)
	d.Review = rv
	o.render(w, http.StatusOK, d)
}

// buy places the order: an eSIM profile from the SM-DP+ over ES2+, or the
// plan on the physical SIM.
func (o *Operator) buy(w http.ResponseWriter, r *http.Request, s session) {
	if s.AccountID == 0 {
		o.redirect(w, r, "signin")
		return
	}
	p, ok := planByID(s.PlanID)
	if !ok {
		o.redirect(w, r, "plans")
		return
	}
	later := r.PostFormValue("delivery") == "later"
	accepted := r.PostFormValue("accept") != ""
	if !accepted {
		o.renderReview(w, r, s, "err.accept", later, false)
		return
	}
	log := o.log.With("transactionId", s.Launch.TransactionID, "account", s.AccountID, "plan", p.ID)
	pu := purchase{AccountID: s.AccountID, Plan: p, TransactionID: s.Launch.TransactionID, UsagePerMin: o.cfg.UsageMBPerMinute}
	if esimTarget(s.Launch) {
		ctx, cancel := context.WithTimeout(r.Context(), orderTimeout)
		defer cancel()
		ord, err := o.cfg.Orders.Order(ctx, OrderRequest{EID: s.Launch.EID, PlanID: p.ID})
		if err == nil && !validActivationCode(ord.ActivationCode) {
			err = errors.New("the SM-DP+ order has no valid activation code")
			o.undoOrder(ord.ICCID)
		}
		if err != nil {
			log.Error("portal: ordering the profile failed", "err", err)
			key := "err.order"
			if errors.Is(err, ErrNoProfileAvailable) {
				key = "err.no_profile"
			}
			o.renderReview(w, r, s, key, later, true)
			return
		}
		pu.ICCID, pu.SIM, pu.Kind, pu.EID, pu.AC = ord.ICCID, "esim", "download", s.Launch.EID, ord.ActivationCode
		switch {
		case p.Fulfilment == FulfilAsync:
			pu.Delivery = "async"
		case later && !o.legacy(s):
			pu.Delivery, pu.DelayMinutes = "later", o.cfg.DeferMinutes
		default:
			pu.Delivery = "now"
		}
	} else {
		pu.ICCID, pu.SIM, pu.Kind = s.Launch.ICCID, "psim", "activation"
	}
	id, err := o.db.recordPurchase(r.Context(), pu, o.now())
	if err != nil {
		log.Error("portal: recording the order failed", "err", err)
		if pu.Kind == "download" {
			o.undoOrder(pu.ICCID)
		}
		o.renderReview(w, r, s, "err.order", later, true)
		return
	}
	log.Info("portal: order placed", "order", id, "kind", pu.Kind, "iccid", maskICCID(pu.ICCID), "delivery", pu.Delivery,
		"activationCode", maskSecret(pu.AC))
	s.OrderID, s.PlanID, s.Retry = id, "", false
	o.saveSession(s)
	o.redirect(w, r, "confirmation")
}

// undoOrder hands an order the portal could not complete back to the
// SM-DP+.
func (o *Operator) undoOrder(iccid string) {
	if iccid == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), es2CleanupTimeout)
	defer cancel()
	if err := o.cfg.Orders.Cancel(ctx, iccid); err != nil {
		o.log.Warn("portal: cancelling an unfinished order failed", "iccid", maskICCID(iccid), "err", err)
	}
}

// validActivationCode checks the shape of mobile-plans.md 3.4:
// 1$<address>$<matching ID>, no "LPA:" prefix, no confirmation code flag.
func validActivationCode(ac string) bool {
	f := strings.Split(ac, "$")
	if len(f) < 3 || f[0] != "1" || f[1] == "" || strings.ContainsAny(f[1], " /\\") {
		return false
	}
	if len(f) > 4 && f[4] == "1" {
		return false
	}
	for _, c := range f[2] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// accountMeta returns the userAccount and purchaseInstrument metadata.
func (o *Operator) accountMeta(ctx context.Context, s session) (string, string) {
	user, instr := "existing", "existing"
	if s.NewAccount {
		user = "new"
	}
	if acc, err := o.db.accountByID(ctx, s.AccountID); err == nil && acc.Purchases <= 1 {
		instr = "new"
	}
	return user, instr
}

func (o *Operator) confirmationPage(w http.ResponseWriter, r *http.Request, s session) {
	o.renderConfirmation(w, r, s, "")
}

func (o *Operator) renderConfirmation(w http.ResponseWriter, r *http.Request, s session, errKey string) {
	od, err := o.db.order(r.Context(), s.OrderID)
	if errors.Is(err, errNotFound) || err == nil && od.AccountID != s.AccountID {
		o.redirect(w, r, "plans")
		return
	}
	if err != nil {
		o.log.Error("portal: confirmation", "err", err)
		o.errorPage(w, r, http.StatusInternalServerError, "err.internal", s, true)
		return
	}
	d := o.page(r, "confirmation", s, true)
	d.Script = true
	user, instr := o.accountMeta(r.Context(), s)
	hb := &handback{Legacy: o.legacy(s), UserAccount: user, PurchaseInstrument: instr, Line: "new", Status: "complete",
		TransactionID: s.Launch.TransactionID, Key: strconv.FormatInt(od.ID, 10)}
	cv := &confirmView{OrderID: strconv.FormatInt(od.ID, 10), Error: errKey, Handback: hb}
	switch od.Kind {
	case "topup":
		t, _ := topUpByID(od.ProductID)
		cv.Kind, cv.Amount, cv.ICCID = "topup", d.L.Data(t.DataMB), od.ICCID
		hb.Action, hb.PlanName, hb.Line, hb.ICCID = "balance", t.Name, "existing", od.ICCID
		if !slices.Contains(s.Launch.ICCIDs, od.ICCID) {
			hb.ICCID = "" // the physical SIM: the active one
		}
		if hb.Legacy {
			hb.ICCID = od.ICCID
		}
	case "activation":
		p, _ := planByID(od.ProductID)
		cv.Kind, cv.PlanKey, cv.ICCID = "activation", "plan."+p.ID, od.ICCID
		hb.Action, hb.PlanName = "balance", p.Name
		if hb.Legacy {
			hb.ICCID = od.ICCID
		}
	default:
		p, _ := planByID(od.ProductID)
		cv.PlanKey = "plan." + p.ID
		hb.PlanName, hb.AC, hb.QR, hb.ICCID = p.Name, od.AC, "LPA:"+od.AC, od.ICCID
		switch {
		case od.State == "cancelled":
			cv.Kind, cv.Handback = "cancelled-op", nil
		case s.Retry:
			cv.Kind, hb.Action = "download", "download"
			hb.Key += "-retry"
		case od.Delivery == "later":
			cv.Kind, cv.Minutes, hb.Action, hb.Delay = "deferred", strconv.Itoa(od.DelayMinutes), "deferred",
				strconv.Itoa(od.DelayMinutes)
			cv.CanCancel = od.State == "released"
		case od.Delivery == "async":
			cv.Kind, cv.Minutes, hb.Action = "async", strconv.Itoa(o.cfg.RegistrationInterval), "async"
			hb.Interval = cv.Minutes
		default:
			cv.Kind, hb.Action = "download", "download"
		}
	}
	if cv.Handback != nil {
		hb.Key = hb.Action + "-" + hb.Key
		withCallback(d, hb, s.Launch.Callback)
	}
	d.Confirm = cv
	d.Strings = jsStrings(d.L, o.cfg.Brand)
	o.render(w, http.StatusOK, d)
}

// cancelScheduled withdraws a deferred download before it started: the
// SM-DP+ order is cancelled (ES2+ cancelOrder) and the next page tells the
// app with notifyOperationCancel.
func (o *Operator) cancelScheduled(w http.ResponseWriter, r *http.Request, s session) {
	if s.AccountID == 0 {
		o.redirect(w, r, "signin")
		return
	}
	od, err := o.db.order(r.Context(), s.OrderID)
	if err != nil || od.AccountID != s.AccountID || od.Kind != "download" || od.Delivery != "later" {
		o.redirect(w, r, "plans")
		return
	}
	log := o.log.With("transactionId", s.Launch.TransactionID, "order", od.ID, "iccid", maskICCID(od.ICCID))
	if od.State != "released" {
		log.Info("portal: scheduled download not cancellable", "state", od.State)
		o.renderConfirmation(w, r, s, "err.sched")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), orderTimeout)
	defer cancel()
	if err := o.cfg.Orders.Cancel(ctx, od.ICCID); err != nil {
		log.Error("portal: cancelling the SM-DP+ order failed", "err", err)
		o.renderConfirmation(w, r, s, "err.sched")
		return
	}
	if err := o.db.setDownloadState(r.Context(), od.ICCID, "cancelled", o.now()); err != nil {
		log.Error("portal: recording the cancellation failed", "err", err)
		o.renderConfirmation(w, r, s, "err.sched")
		return
	}
	s.CancelContext = ""
	if c := r.PostFormValue("context"); c != "" && len(c) <= maxContextLen && strings.IndexFunc(c, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_')
	}) < 0 {
		s.CancelContext = c
	}
	o.saveSession(s)
	log.Info("portal: scheduled download cancelled", "context", s.CancelContext != "")
	o.redirect(w, r, "order/cancelled")
}

func (o *Operator) scheduledCancelledPage(w http.ResponseWriter, r *http.Request, s session) {
	d := o.page(r, "confirmation", s, true)
	d.Script = true
	cv := &confirmView{Kind: "cancelled-op", OrderID: strconv.FormatInt(s.OrderID, 10)}
	if s.CancelContext != "" && !o.legacy(s) {
		cv.Handback = &handback{Action: "cancel-op", Context: s.CancelContext, Key: "cancel-op-" + cv.OrderID,
			TransactionID: s.Launch.TransactionID}
		withCallback(d, cv.Handback, s.Launch.Callback)
	}
	d.Confirm = cv
	d.Strings = jsStrings(d.L, o.cfg.Brand)
	o.render(w, http.StatusOK, d)
}

// retry hands the activation code of the download that failed (the ICCID
// of X-MP-LPAError-ICCIDs) to the app again: it stays valid until the
// download succeeds (mobile-plans.md 3.4).
func (o *Operator) retry(w http.ResponseWriter, r *http.Request, s session) {
	if s.AccountID == 0 || s.Launch.Error == nil || s.Launch.Error.ICCID == "" {
		o.redirect(w, r, "plans")
		return
	}
	od, err := o.db.openDownload(r.Context(), s.Launch.Error.ICCID)
	if err != nil || od.AccountID != s.AccountID {
		o.redirect(w, r, "plans")
		return
	}
	o.log.Info("portal: download retried", "order", od.ID, "iccid", maskICCID(od.ICCID),
		"transactionId", s.Launch.TransactionID)
	s.OrderID, s.Retry = od.ID, true
	o.saveSession(s)
	o.redirect(w, r, "confirmation")
}

// topUpLine returns the line iccid when the launch named it and it is a
// prepaid Contoso line.
func (o *Operator) topUpLine(ctx context.Context, s session, iccid string) ([]balance, bool, error) {
	if iccid == "" || !slices.Contains(launchICCIDs(s.Launch), iccid) {
		return nil, false, nil
	}
	ln, err := o.db.line(ctx, iccid)
	if errors.Is(err, ErrUnknownICCID) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if p, ok := planByID(ln.PlanID); ok && p.Kind == Postpaid {
		return nil, false, nil
	}
	bals, err := o.db.lineBalances(ctx, iccid)
	return bals, err == nil, err
}

func (o *Operator) topUpPage(w http.ResponseWriter, r *http.Request, s session) {
	o.renderTopUp(w, r, s, r.URL.Query().Get("iccid"), "")
}

func (o *Operator) renderTopUp(w http.ResponseWriter, r *http.Request, s session, iccid, errKey string) {
	bals, ok, err := o.topUpLine(r.Context(), s, iccid)
	if err != nil {
		o.log.Error("portal: top-up page", "err", err)
		o.errorPage(w, r, http.StatusInternalServerError, "err.internal", s, true)
		return
	}
	if !ok {
		o.errorPage(w, r, http.StatusNotFound, "err.notfound", s, true)
		return
	}
	d := o.page(r, "topup", s, true)
	d.FormError, d.Back = errKey, o.prefix+"/plans"
	data, left := sumPrepaid(bals, o.now())
	tv := &topUpView{ICCID: iccid, Data: d.L.Data(data), Time: d.L.Duration(left)}
	for _, t := range TopUps() {
		tv.Options = append(tv.Options, topUpOption{ID: t.ID, Price: d.L.T("plans.once", "price", d.L.Price(t.PriceCents))})
	}
	d.TopUp = tv
	o.render(w, http.StatusOK, d)
}

func (o *Operator) topUp(w http.ResponseWriter, r *http.Request, s session) {
	if s.AccountID == 0 {
		o.redirect(w, r, "signin")
		return
	}
	iccid := r.PostFormValue("iccid")
	t, ok := topUpByID(r.PostFormValue("topup"))
	if !ok {
		o.renderTopUp(w, r, s, iccid, "err.choose_topup")
		return
	}
	if _, lineOK, err := o.topUpLine(r.Context(), s, iccid); err != nil || !lineOK {
		o.renderTopUp(w, r, s, iccid, "")
		return
	}
	id, err := o.db.topUp(r.Context(), s.AccountID, iccid, t, s.Launch.TransactionID, o.now())
	if err != nil {
		o.log.Error("portal: top-up failed", "iccid", maskICCID(iccid), "err", err)
		o.renderTopUp(w, r, s, iccid, "err.topup")
		return
	}
	o.log.Info("portal: top-up", "order", id, "iccid", maskICCID(iccid), "topup", t.ID,
		"transactionId", s.Launch.TransactionID)
	s.OrderID, s.Retry = id, false
	o.saveSession(s)
	o.redirect(w, r, "confirmation")
}

// termsPages are the pages the terms page may lead back to.
func termsPages() []string {
	return []string{"signin", "signup", "plans", "review", "topup", "confirmation"}
}

// termsPage shows the terms; after a purchase (from the confirmation) it
// offers Back but no Cancel.
func (o *Operator) termsPage(w http.ResponseWriter, r *http.Request) {
	s, ok := o.getSession(r)
	d := o.page(r, "terms", s, ok)
	from := r.URL.Query().Get("from")
	if slices.Contains(termsPages(), from) {
		d.Back = o.prefix + "/" + from
	}
	d.ShowCancel = from != "confirmation"
	o.render(w, http.StatusOK, d)
}

// cancel ends the visit from any page; the next page tells the app
// (notifyCancelledPurchase). Without a session it still does, so that a
// user whose session expired can leave.
func (o *Operator) cancel(w http.ResponseWriter, r *http.Request) {
	q := url.Values{}
	if s, ok := o.getSession(r); ok {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil || !csrfOK(r, s) {
			o.log.Warn("portal: cancel refused (CSRF token missing or wrong)", "transactionId", s.Launch.TransactionID)
			o.errorPage(w, r, http.StatusForbidden, "err.csrf", s, true)
			return
		}
		o.log.Info("portal: purchase cancelled", "transactionId", s.Launch.TransactionID, "account", s.AccountID)
		if s.Launch.TransactionID != "" {
			q.Set("transactionId", s.Launch.TransactionID)
		}
		if o.legacy(s) {
			q.Set("legacy", "1")
		}
		if s.Launch.Callback != "" {
			q.Set("mpcallback", s.Launch.Callback)
		}
		o.endSession(w, s.ID)
	}
	u := o.prefix + "/cancelled"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

func (o *Operator) cancelledPage(w http.ResponseWriter, r *http.Request) {
	l := ParseLaunch(r.URL.RawQuery, nil)
	d := o.page(r, "cancelled", session{}, false)
	d.Script = true
	hb := &handback{Action: "cancel", Legacy: o.cfg.Legacy || l.Legacy, UserAccount: "bailed",
		PurchaseInstrument: "bailed", Line: "bailed", Status: "cancelled", TransactionID: l.TransactionID,
		Key: "cancel-" + l.TransactionID}
	if hb.Legacy {
		hb.PurchaseInstrument, hb.Line, hb.Status = "none", "none", "none"
	}
	withCallback(d, hb, l.Callback)
	d.Confirm = &confirmView{Kind: "cancelled", Handback: hb}
	d.Strings = jsStrings(d.L, o.cfg.Brand)
	o.render(w, http.StatusOK, d)
}

// done signs out at the end of a visit.
func (o *Operator) done(w http.ResponseWriter, r *http.Request, s session) {
	o.log.Info("portal: signed out", "transactionId", s.Launch.TransactionID, "account", s.AccountID)
	o.endSession(w, s.ID)
	o.redirect(w, r, "done")
}

func (o *Operator) donePage(w http.ResponseWriter, r *http.Request) {
	o.render(w, http.StatusOK, o.page(r, "done", session{}, false))
}

// withCallback gives a hand-back page the launch's mpcallback: portal.js
// POSTs the bridge message there when the page has no bridge, and the
// page's CSP lets it connect there (and nowhere else).
func withCallback(d *pageData, hb *handback, callback string) {
	if callback == "" || !validCallback(callback) {
		return
	}
	hb.Callback, d.ConnectSrc = callback, connectSource(callback)
}
