package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// envelope is lpac's output shape: {"type":"lpa","payload":{"code":0,"message":"success","data":...}}.
type envelope struct {
	Type    string  `json:"type"`
	Payload payload `json:"payload"`
}

type payload struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// printer writes results either as JSON envelopes or as human text.
type printer struct {
	w    io.Writer
	json bool
}

// result prints a successful result. human renders it for people.
func (p *printer) result(data any, human func(w io.Writer)) error {
	if p.json {
		return p.envelope("lpa", 0, "success", data)
	}
	if human != nil {
		human(p.w)
	}
	return nil
}

// progress prints a progress event (JSON mode: type "progress"; human mode:
// one plain line).
func (p *printer) progress(step, detail string) {
	if p.json {
		_ = p.envelope("progress", 0, step, detail)
		return
	}
	if detail != "" {
		fmt.Fprintf(p.w, "%s: %s\n", step, detail)
	} else {
		fmt.Fprintln(p.w, step)
	}
}

// failure prints an error in the JSON shape (code -1); in human mode the
// error is printed by main on stderr.
func (p *printer) failure(err error, data any) {
	if p.json {
		_ = p.envelope("lpa", -1, err.Error(), data)
	}
}

func (p *printer) envelope(typ string, code int, msg string, data any) error {
	if data == nil {
		data = ""
	}
	enc := json.NewEncoder(p.w)
	enc.SetEscapeHTML(false)
	return enc.Encode(envelope{Type: typ, Payload: payload{Code: code, Message: msg, Data: data}})
}

func table(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, h := range header {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, h)
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		for i, c := range r {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
}
