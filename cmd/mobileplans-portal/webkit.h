//go:build linux && cgo && webkit

// The GTK/WebKitGTK side of the portal helper: one window, one web view.
// Every function runs on the GTK main thread except mp_schedule. The Go side
// (cgo.go) owns the logic; this file only creates widgets and forwards
// signals to the go* callbacks, identified by the handle given to
// mp_view_new.

#ifndef MOBILEPLANS_PORTAL_WEBKIT_H
#define MOBILEPLANS_PORTAL_WEBKIT_H

#include <stdint.h>
#include <gtk/gtk.h>
#include <webkit2/webkit2.h>

typedef struct mp_view mp_view;

// mp_init initialises GTK; it returns FALSE when no display can be opened.
gboolean mp_init(void);

// mp_view_new creates the window (title, header bar with Back and the host
// name, default content size width x height) and the web view with its own
// ephemeral web context, the user script (document start, top frame only)
// and the "mobileplans" script message handler.
mp_view *mp_view_new(uintptr_t handle, const char *title, int width, int height, const char *user_script);

// mp_view_set_cas loads the PEM CA file used by mp_view_verify; on error it
// returns a newly allocated message.
char *mp_view_set_cas(mp_view *v, const char *path);

// mp_request_new makes a main-frame request for uri with extra headers.
WebKitURIRequest *mp_request_new(const char *uri, char **names, char **values, int n);
void mp_view_load(mp_view *v, WebKitURIRequest *req);
void mp_view_eval(mp_view *v, const char *js, int64_t id);
gboolean mp_view_back(mp_view *v);
void mp_view_set_host(mp_view *v, const char *host);
const char *mp_view_uri(mp_view *v);

// mp_view_verify checks the peer chain cert for host:port against the CA
// file; 0 means valid. mp_view_allow then lets WebKit accept that
// certificate for host.
GTlsCertificateFlags mp_view_verify(mp_view *v, GTlsCertificate *cert, const char *host, int port);
void mp_view_allow(mp_view *v, GTlsCertificate *cert, const char *host);

void mp_view_destroy(mp_view *v);

// mp_schedule runs goDispatch(handle) on the main thread (any thread).
void mp_schedule(uintptr_t handle);
void mp_run(void);
void mp_quit(void);

#endif
