package operator

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the page templates; each defines "title" and "content" for
// the layout.
func pages() []string {
	return []string{"signin", "signup", "plans", "review", "confirmation", "topup", "terms", "cancelled", "done", "error"}
}

// ui holds the parsed templates, the locales and the static files.
type ui struct {
	tmpl    map[string]*template.Template
	locales map[string]*locale
	static  fs.FS
}

func newUI() (*ui, error) {
	u := &ui{tmpl: map[string]*template.Template{}, locales: map[string]*locale{}}
	for lang, msgs := range catalogs() {
		u.locales[lang] = &locale{Lang: lang, msgs: msgs}
	}
	for _, p := range pages() {
		t, err := template.New(p).Option("missingkey=error").
			ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("operator: template %s: %w", p, err)
		}
		u.tmpl[p] = t
	}
	st, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("operator: static files: %w", err)
	}
	u.static = st
	return u, nil
}

func (u *ui) locale(r *http.Request) *locale {
	return u.locales[acceptLanguage(r.Header.Get("Accept-Language"), languages())]
}

// pageData is what every template gets.
type pageData struct {
	L            *locale
	Brand        string
	Base         string // path prefix of the portal, no trailing slash
	Page         string
	CSRF         string
	ShowCancel   bool
	Script       bool // load portal.js
	SupportEmail string
	SupportPhone string
	LPAError     *lpaErrorView
	RetryOrder   bool

	// Forms.
	FormError string // message key
	FormName  string
	FormEmail string

	Name     string // signed-in customer
	Postpaid []planView
	Prepaid  []planView
	Lines    []lineView

	Review  *reviewView
	Confirm *confirmView
	TopUp   *topUpView
	Back    string // URL of the Back link, "" for none
	Message string // error page message key

	Strings map[string]string // localised strings for portal.js
	// ConnectSrc, when set, is the CSP connect-src of the page: the
	// origin of the launch's mpcallback, which portal.js may POST to.
	ConnectSrc string
}

type lpaErrorView struct {
	GroupKey    string
	CodesJoined string
	TimesJoined string
}

type planView struct {
	L         *locale
	ID        string
	NameKey   string
	DescKey   string
	Postpaid  bool
	Price     string
	Data      string // "" for unlimited
	Days      string
	Async     bool
	Countries string
	Minutes   string // registration interval of async plans
	Checked   bool
}

type lineView struct {
	ICCID    string
	Postpaid bool
	Data     string
	Time     string
	CanTopUp bool
}

type reviewView struct {
	Plan       planView
	ESIM       bool
	ICCID      string
	Delivery   bool // offer now / later
	Later      bool // later chosen
	DeferMins  string
	AcceptDone bool
}

type topUpView struct {
	ICCID   string
	Data    string
	Time    string
	Options []topUpOption
}

type topUpOption struct {
	ID    string
	Price string
}

// confirmView drives the confirmation-like pages and portal.js.
type confirmView struct {
	Kind      string // "download", "deferred", "async", "activation", "topup", "cancelled-op"
	OrderID   string
	PlanKey   string
	Minutes   string
	Amount    string
	ICCID     string
	Error     string // message key
	Handback  *handback
	CanCancel bool // deferred download still cancellable
}

// handback is the bridge call portal.js makes, as data-* attributes of
// #handback.
type handback struct {
	Action             string // download, deferred, async, balance, cancel, cancel-op
	Legacy             bool
	AC                 string
	QR                 string
	PlanName           string
	Delay              string
	Interval           string
	ICCID              string
	UserAccount        string
	PurchaseInstrument string
	Line               string
	Status             string
	TransactionID      string
	Context            string
	Key                string // sessionStorage guard against a second call on reload
	// Callback is the launch's mpcallback URL: portal.js POSTs the bridge
	// message there when the page has no bridge.
	Callback string
}

// jsStrings are the messages portal.js needs.
func jsStrings(l *locale, brand string) map[string]string {
	m := map[string]string{}
	for k := range l.msgs {
		if strings.HasPrefix(k, "reg.") || strings.HasPrefix(k, "act.") || strings.HasPrefix(k, "bridge.") {
			m[k] = l.T(k, "brand", brand)
		}
	}
	return m
}

// render executes page into a buffer first, so that a template error
// becomes a clean 500.
func (o *Operator) render(w http.ResponseWriter, status int, d *pageData) {
	var buf bytes.Buffer
	if err := o.ui.tmpl[d.Page].ExecuteTemplate(&buf, "layout", d); err != nil {
		o.log.Error("portal: render", "page", d.Page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	if d.ConnectSrc != "" {
		h.Set("Content-Security-Policy", contentSecurityPolicy(d.ConnectSrc))
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", d.L.Lang)
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Language")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// securityHeaders are set on every portal answer: no external resources,
// scripts and styles only from the portal itself, no framing.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy(""))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// contentSecurityPolicy is the portal's policy; connect, when set, is the
// page's only connect-src (the mpcallback origin), else connections fall
// under default-src 'none'.
func contentSecurityPolicy(connect string) string {
	p := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
	if connect != "" {
		p += "connect-src " + connect + "; "
	}
	return p + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

// connectSource is the CSP source of an mpcallback URL: its origin for
// 127.0.0.1. Chromium matches no IPv6 literal in a CSP host source, so
// [::1] gets a wildcard host limited to the callback's port (see package
// ui/portal/loopback).
func connectSource(callback string) string {
	origin, ok := callbackOrigin(callback)
	if !ok {
		return ""
	}
	if port, ok := strings.CutPrefix(origin, "http://[::1]:"); ok {
		return "http://*:" + port
	}
	return origin
}
