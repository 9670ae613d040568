// Package wire is the JSON-lines protocol between the desktop app's
// WebKitGTK client (ui/portal/webkit) and its portal helper process
// (cmd/mobileplans-portal): the requests the app writes to the helper's
// stdin, the replies and events the helper writes to its stdout, their
// names, error codes and size limits, and the parsers each side runs on
// what the other sent. Both sides compile against this one definition, so
// a field or an event name cannot drift between them.
//
// One line is one JSON object. A request is {"id":N,"op":"open"|"eval"|
// "back"|"guard"|"close",...} with N > 0. A reply carries the request's
// id and either "ok":true (with an optional "result") or an "error" with
// its "code". An event has no id and names itself in "event".
package wire
