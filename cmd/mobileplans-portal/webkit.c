//go:build linux && cgo && webkit

#include "webkit.h"
#include "_cgo_export.h"
#include <signal.h>

struct mp_view {
	uintptr_t handle;
	GtkWidget *window, *header, *back;
	WebKitWebView *view;
	WebKitWebContext *context;
	GList *cas;         // the GTlsCertificate CAs of --ca
	GTlsDatabase *cadb; // the same file as a trust database
};

typedef struct {
	uintptr_t handle;
	int64_t id;
} eval_call;

gboolean mp_init(void) { return gtk_init_check(NULL, NULL); }

// fix_signals adds SA_ONSTACK to the fault handlers JavaScriptCore installs
// in this process (at web view creation and, lazily, when the first
// JSCValue is made): the Go runtime runs on small stacks with an alternate
// signal stack and aborts the process when a signal it chains to arrives
// on another stack (a nil dereference in Go, or a fault JSC passes on).
// SIGUSR1, JSC's thread suspension signal, is left alone: its handler must
// run on the interrupted stack (WebKit bug 315453).
static void fix_signals(void) {
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT};
	for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
		struct sigaction sa;
		if (sigaction(sigs[i], NULL, &sa) != 0 || (sa.sa_flags & SA_ONSTACK) != 0) {
			continue;
		}
		if (!(sa.sa_flags & SA_SIGINFO) && (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)) {
			continue;
		}
		sa.sa_flags |= SA_ONSTACK;
		sigaction(sigs[i], &sa, NULL);
	}
}

static void on_message(WebKitUserContentManager *m, WebKitJavascriptResult *r, gpointer data) {
	mp_view *v = data;
	JSCValue *val = webkit_javascript_result_get_js_value(r);
	fix_signals();
	if (!jsc_value_is_string(val)) {
		goBridgeMessage(v->handle, NULL);
		return;
	}
	char *s = jsc_value_to_string(val);
	goBridgeMessage(v->handle, s);
	g_free(s);
}

static void on_load_changed(WebKitWebView *w, WebKitLoadEvent ev, gpointer data) {
	mp_view *v = data;
	fix_signals();
	gtk_widget_set_sensitive(v->back, webkit_web_view_can_go_back(w));
	goLoadChanged(v->handle, (int)ev, (char *)webkit_web_view_get_uri(w));
}

// Returning TRUE: no WebKit error page; the app shows its own.
static gboolean on_load_failed(WebKitWebView *w, WebKitLoadEvent ev, char *uri, GError *err, gpointer data) {
	mp_view *v = data;
	int kind = g_error_matches(err, WEBKIT_NETWORK_ERROR, WEBKIT_NETWORK_ERROR_CANCELLED) ? 1
		: g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? 2 : 0;
	goLoadFailed(v->handle, uri, err->message, (char *)g_quark_to_string(err->domain), err->code, kind);
	return TRUE;
}

// Returning TRUE: no load-failed, and nothing of the page is shown.
static gboolean on_tls_error(WebKitWebView *w, char *uri, GTlsCertificate *cert, GTlsCertificateFlags errors, gpointer data) {
	mp_view *v = data;
	goTLSError(v->handle, uri, cert, errors);
	return TRUE;
}

static const char *action_uri(WebKitNavigationAction *a) {
	WebKitURIRequest *r = a ? webkit_navigation_action_get_request(a) : NULL;
	return r ? webkit_uri_request_get_uri(r) : "";
}

// No popups or new windows: "create" returns NULL, new-window policy
// decisions are ignored.
static GtkWidget *on_create(WebKitWebView *w, WebKitNavigationAction *a, gpointer data) {
	mp_view *v = data;
	goBlocked(v->handle, (char *)"popup", (char *)action_uri(a));
	return NULL;
}

static gboolean on_decide_policy(WebKitWebView *w, WebKitPolicyDecision *d, WebKitPolicyDecisionType type, gpointer data) {
	mp_view *v = data;
	if (type != WEBKIT_POLICY_DECISION_TYPE_NEW_WINDOW_ACTION) {
		return FALSE;
	}
	WebKitNavigationPolicyDecision *nd = WEBKIT_NAVIGATION_POLICY_DECISION(d);
	goBlocked(v->handle, (char *)"popup", (char *)action_uri(webkit_navigation_policy_decision_get_navigation_action(nd)));
	webkit_policy_decision_ignore(d);
	return TRUE;
}

static void on_download(WebKitWebContext *c, WebKitDownload *d, gpointer data) {
	mp_view *v = data;
	WebKitURIRequest *r = webkit_download_get_request(d);
	goBlocked(v->handle, (char *)"download", (char *)(r ? webkit_uri_request_get_uri(r) : ""));
	webkit_download_cancel(d);
}

static void on_terminated(WebKitWebView *w, WebKitWebProcessTerminationReason reason, gpointer data) {
	mp_view *v = data;
	goTerminated(v->handle, (int)reason);
}

static gboolean on_delete(GtkWidget *win, GdkEvent *e, gpointer data) {
	mp_view *v = data;
	return goCloseRequested(v->handle);
}

static void on_destroy(GtkWidget *win, gpointer data) {
	mp_view *v = data;
	goDestroyed(v->handle);
}

mp_view *mp_view_new(uintptr_t handle, const char *title, int width, int height, const char *user_script) {
	mp_view *v = g_new0(mp_view, 1);
	v->handle = handle;

	WebKitUserContentManager *ucm = webkit_user_content_manager_new();
	WebKitUserScript *script = webkit_user_script_new(user_script, WEBKIT_USER_CONTENT_INJECT_TOP_FRAME,
		WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_START, NULL, NULL);
	webkit_user_content_manager_add_script(ucm, script);
	webkit_user_script_unref(script);
	g_signal_connect(ucm, "script-message-received::mobileplans", G_CALLBACK(on_message), v);
	webkit_user_content_manager_register_script_message_handler(ucm, "mobileplans");

	v->context = webkit_web_context_new_ephemeral();
	g_signal_connect(v->context, "download-started", G_CALLBACK(on_download), v);
	v->view = WEBKIT_WEB_VIEW(g_object_new(WEBKIT_TYPE_WEB_VIEW, "web-context", v->context,
		"user-content-manager", ucm, NULL));
	g_object_unref(ucm);
	WebKitSettings *s = webkit_web_view_get_settings(v->view);
	webkit_settings_set_javascript_can_open_windows_automatically(s, FALSE);
	webkit_settings_set_enable_developer_extras(s, FALSE);
	g_signal_connect(v->view, "load-changed", G_CALLBACK(on_load_changed), v);
	g_signal_connect(v->view, "load-failed", G_CALLBACK(on_load_failed), v);
	g_signal_connect(v->view, "load-failed-with-tls-errors", G_CALLBACK(on_tls_error), v);
	g_signal_connect(v->view, "create", G_CALLBACK(on_create), v);
	g_signal_connect(v->view, "decide-policy", G_CALLBACK(on_decide_policy), v);
	g_signal_connect(v->view, "web-process-terminated", G_CALLBACK(on_terminated), v);

	v->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(v->window), title);
	v->header = gtk_header_bar_new();
	gtk_header_bar_set_title(GTK_HEADER_BAR(v->header), title);
	gtk_header_bar_set_show_close_button(GTK_HEADER_BAR(v->header), TRUE);
	v->back = gtk_button_new_with_mnemonic("_Back");
	gtk_widget_set_sensitive(v->back, FALSE);
	g_signal_connect_swapped(v->back, "clicked", G_CALLBACK(webkit_web_view_go_back), v->view);
	gtk_header_bar_pack_start(GTK_HEADER_BAR(v->header), v->back);
	gtk_window_set_titlebar(GTK_WINDOW(v->window), v->header);
	gtk_container_add(GTK_CONTAINER(v->window), GTK_WIDGET(v->view));

	// width x height is the web view (the portal frame), below the header.
	int header_height = 0;
	gtk_widget_get_preferred_height(v->header, NULL, &header_height);
	gtk_window_set_default_size(GTK_WINDOW(v->window), width, height + header_height);
	g_signal_connect(v->window, "delete-event", G_CALLBACK(on_delete), v);
	g_signal_connect(v->window, "destroy", G_CALLBACK(on_destroy), v);
	gtk_widget_show_all(v->window);
	fix_signals();
	return v;
}

char *mp_view_set_cas(mp_view *v, const char *path) {
	GError *err = NULL;
	GList *cas = g_tls_certificate_list_new_from_file(path, &err);
	if (err == NULL && cas == NULL) {
		return g_strdup("no certificate in the file");
	}
	GTlsDatabase *db = err ? NULL : g_tls_file_database_new(path, &err);
	if (err != NULL) {
		char *msg = g_strdup(err->message);
		g_error_free(err);
		g_list_free_full(cas, g_object_unref);
		return msg;
	}
	v->cas = cas;
	v->cadb = db;
	return NULL;
}

WebKitURIRequest *mp_request_new(const char *uri, char **names, char **values, int n) {
	WebKitURIRequest *req = webkit_uri_request_new(uri);
	SoupMessageHeaders *h = webkit_uri_request_get_http_headers(req);
	for (int i = 0; h != NULL && i < n; i++) {
		soup_message_headers_append(h, names[i], values[i]);
	}
	return req;
}

void mp_view_load(mp_view *v, WebKitURIRequest *req) {
	webkit_web_view_load_request(v->view, req);
	g_object_unref(req);
}

static void on_eval_done(GObject *src, GAsyncResult *res, gpointer data) {
	eval_call *c = data;
	GError *err = NULL;
	JSCValue *val = webkit_web_view_evaluate_javascript_finish(WEBKIT_WEB_VIEW(src), res, &err);
	fix_signals();
	if (val == NULL) {
		goEvalDone(c->handle, c->id, NULL, err->message);
		g_error_free(err);
		g_free(c);
		return;
	}
	// undefined, functions and symbols have no JSON: null.
	char *json = jsc_value_is_undefined(val) ? NULL : jsc_value_to_json(val, 0);
	JSCContext *ctx = jsc_value_get_context(val);
	JSCException *ex = json == NULL ? jsc_context_get_exception(ctx) : NULL;
	if (ex != NULL) {
		goEvalDone(c->handle, c->id, NULL, (char *)jsc_exception_get_message(ex));
		jsc_context_clear_exception(ctx);
	} else {
		goEvalDone(c->handle, c->id, json ? json : (char *)"null", NULL);
	}
	g_free(json);
	g_object_unref(val);
	g_free(c);
}

void mp_view_eval(mp_view *v, const char *js, int64_t id) {
	eval_call *c = g_new0(eval_call, 1);
	c->handle = v->handle;
	c->id = id;
	webkit_web_view_evaluate_javascript(v->view, js, -1, NULL, NULL, NULL, on_eval_done, c);
}

gboolean mp_view_back(mp_view *v) {
	if (!webkit_web_view_can_go_back(v->view)) {
		return FALSE;
	}
	webkit_web_view_go_back(v->view);
	return TRUE;
}

void mp_view_set_host(mp_view *v, const char *host) {
	gtk_header_bar_set_subtitle(GTK_HEADER_BAR(v->header), host);
}

const char *mp_view_uri(mp_view *v) { return webkit_web_view_get_uri(v->view); }

GTlsCertificateFlags mp_view_verify(mp_view *v, GTlsCertificate *cert, const char *host, int port) {
	if (v->cadb == NULL) {
		return G_TLS_CERTIFICATE_UNKNOWN_CA;
	}
	GSocketConnectable *id = g_network_address_new(host, (guint16)port);
	// The chain must verify against one of the CAs (g_tls_certificate_verify:
	// signature chain, validity period, host name) and against the file as
	// a trust database for a TLS server (adds the purpose, key usage).
	GTlsCertificateFlags flags = G_TLS_CERTIFICATE_UNKNOWN_CA;
	for (GList *l = v->cas; l != NULL && flags != 0; l = l->next) {
		flags = g_tls_certificate_verify(cert, id, G_TLS_CERTIFICATE(l->data));
	}
	if (flags == 0) {
		GError *err = NULL;
		flags = g_tls_database_verify_chain(v->cadb, cert, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, id, NULL,
			G_TLS_DATABASE_VERIFY_NONE, NULL, &err);
		if (err != NULL) {
			flags |= G_TLS_CERTIFICATE_GENERIC_ERROR;
			g_error_free(err);
		}
	}
	g_object_unref(id);
	return flags;
}

void mp_view_allow(mp_view *v, GTlsCertificate *cert, const char *host) {
	webkit_web_context_allow_tls_certificate_for_host(v->context, cert, host);
}

void mp_view_destroy(mp_view *v) { gtk_widget_destroy(v->window); }

static gboolean dispatch(gpointer data) {
	goDispatch((uintptr_t)data);
	return G_SOURCE_REMOVE;
}

void mp_schedule(uintptr_t handle) { g_idle_add(dispatch, (gpointer)handle); }

void mp_run(void) { gtk_main(); }

void mp_quit(void) { gtk_main_quit(); }
