//go:build linux && cgo && webkit

package main

// The Go<->C glue: gtkView calls into webkit.c, and the go* functions are
// the signal callbacks webkit.c calls. All of it runs on the GTK main
// thread. The C side identifies the helper by a cgo.Handle.

/*
#cgo pkg-config: gtk+-3.0 webkit2gtk-4.1
#include <stdlib.h>
#include "webkit.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"unsafe"
)

// gtkView is the view over webkit.c.
type gtkView struct{ v *C.mp_view }

// newGTKView creates the window and web view for h (handle is h's
// cgo.Handle).
func newGTKView(handle cgo.Handle, title string, width, height int, script string) gtkView {
	ctitle, cscript := C.CString(title), C.CString(script)
	defer C.free(unsafe.Pointer(ctitle))
	defer C.free(unsafe.Pointer(cscript))
	return gtkView{C.mp_view_new(C.uintptr_t(handle), ctitle, C.int(width), C.int(height), cscript)}
}

// gtkInit initialises GTK; false when there is no display.
func gtkInit() bool { return C.mp_init() != 0 }

func gtkRun() { C.mp_run() }

// schedule wakes the main loop to dispatch h's tasks (any goroutine).
func schedule(handle cgo.Handle) { C.mp_schedule(C.uintptr_t(handle)) }

func webkitVersion() string {
	return fmt.Sprintf("%d.%d.%d", C.webkit_get_major_version(), C.webkit_get_minor_version(), C.webkit_get_micro_version())
}

// setCAs loads the PEM file of CAs to verify refused certificates with.
func (g gtkView) setCAs(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if msg := C.mp_view_set_cas(g.v, cpath); msg != nil {
		defer C.g_free(C.gpointer(msg))
		return fmt.Errorf("loading the CAs of %s: %s", path, C.GoString(msg))
	}
	return nil
}

func (g gtkView) load(url string, headers map[string][]string) {
	var names, values []*C.char
	for name, vs := range headers {
		for _, v := range vs {
			names = append(names, C.CString(name))
			values = append(values, C.CString(v))
		}
	}
	defer func() {
		for i := range names {
			C.free(unsafe.Pointer(names[i]))
			C.free(unsafe.Pointer(values[i]))
		}
	}()
	curl := C.CString(url)
	defer C.free(unsafe.Pointer(curl))
	n := len(names)
	// The arrays go to C, so they live in C memory.
	cn := (**C.char)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof(uintptr(0)))))
	cv := (**C.char)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof(uintptr(0)))))
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cv))
	copy(unsafe.Slice(cn, n+1), names)
	copy(unsafe.Slice(cv, n+1), values)
	C.mp_view_load(g.v, C.mp_request_new(curl, cn, cv, C.int(n)))
}

func (g gtkView) eval(id int64, js string) {
	cjs := C.CString(js)
	defer C.free(unsafe.Pointer(cjs))
	C.mp_view_eval(g.v, cjs, C.int64_t(id))
}

func (g gtkView) uri() string { return goStringOrEmpty(C.mp_view_uri(g.v)) }

func (g gtkView) back() bool { return C.mp_view_back(g.v) != 0 }

func (g gtkView) setHost(host string) {
	chost := C.CString(host)
	defer C.free(unsafe.Pointer(chost))
	C.mp_view_set_host(g.v, chost)
}

func (g gtkView) verify(cert any, host string, port int) uint32 {
	chost := C.CString(host)
	defer C.free(unsafe.Pointer(chost))
	return uint32(C.mp_view_verify(g.v, cert.(*C.GTlsCertificate), chost, C.int(port)))
}

func (g gtkView) allow(cert any, host string) {
	chost := C.CString(host)
	defer C.free(unsafe.Pointer(chost))
	C.mp_view_allow(g.v, cert.(*C.GTlsCertificate), chost)
}

func (g gtkView) destroy() { C.mp_view_destroy(g.v) }

func (g gtkView) quit() { C.mp_quit() }

func helperOf(h C.uintptr_t) *helper { return cgo.Handle(h).Value().(*helper) }

func goStringOrEmpty(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

//export goDispatch
func goDispatch(h C.uintptr_t) { helperOf(h).dispatch() }

//export goBridgeMessage
func goBridgeMessage(h C.uintptr_t, msg *C.char) {
	if msg == nil {
		helperOf(h).onMessage(nil)
		return
	}
	s := C.GoString(msg)
	helperOf(h).onMessage(&s)
}

//export goLoadChanged
func goLoadChanged(h C.uintptr_t, ev C.int, uri *C.char) {
	helperOf(h).onLoadChanged(int(ev), goStringOrEmpty(uri))
}

//export goLoadFailed
func goLoadFailed(h C.uintptr_t, uri, msg, domain *C.char, code, kind C.int) {
	helperOf(h).onLoadFailed(goStringOrEmpty(uri), loadError{msg: goStringOrEmpty(msg), domain: goStringOrEmpty(domain),
		code: int(code), kind: failKind(kind)})
}

//export goTLSError
func goTLSError(h C.uintptr_t, uri *C.char, cert *C.GTlsCertificate, flags C.GTlsCertificateFlags) {
	helperOf(h).onTLSError(goStringOrEmpty(uri), cert, uint32(flags))
}

//export goBlocked
func goBlocked(h C.uintptr_t, kind, uri *C.char) {
	helperOf(h).onBlocked(goStringOrEmpty(kind), goStringOrEmpty(uri))
}

//export goTerminated
func goTerminated(h C.uintptr_t, reason C.int) { helperOf(h).onWebProcessTerminated(int(reason)) }

//export goCloseRequested
func goCloseRequested(h C.uintptr_t) C.gboolean {
	if helperOf(h).onCloseRequested() {
		return 1
	}
	return 0
}

//export goDestroyed
func goDestroyed(h C.uintptr_t) { helperOf(h).onDestroyed() }

//export goEvalDone
func goEvalDone(h C.uintptr_t, id C.int64_t, json, errMsg *C.char) {
	if json == nil {
		helperOf(h).onEvalDone(int64(id), nil, goStringOrEmpty(errMsg))
		return
	}
	s := C.GoString(json)
	helperOf(h).onEvalDone(int64(id), &s, "")
}
