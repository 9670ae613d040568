package portalhost

import (
	"strings"
	"testing"
)

func TestParseScript(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Step
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"comments and blanks", "# a\n\n   \n# b", nil, ""},
		{"steps", "click #a\nfill #name Ada Lovelace\nwait .done\nclick-if #opt",
			[]Step{{OpClick, "#a", "", 1}, {OpFill, "#name", "Ada Lovelace", 2}, {OpWait, ".done", "", 3}, {OpClickIf, "#opt", "", 4}}, ""},
		{"quoted selector", `click "label[for='x'] input"`, []Step{{OpClick, "label[for='x'] input", "", 1}}, ""},
		{"quoted selector and value", `fill "form #e" a@b.test`, []Step{{OpFill, "form #e", "a@b.test", 1}}, ""},
		{"fill with empty value", "fill #x", []Step{{OpFill, "#x", "", 1}}, ""},
		{"unknown op", "press #a", nil, `unknown step "press"`},
		{"missing selector", "click", nil, "missing selector"},
		{"click with value", "click #a b", nil, "takes only a selector"},
		{"bad quote", `click "#a`, nil, "selector"},
		{"empty quoted selector", `click ""`, nil, "empty selector"},
		{"line number", "click #a\n\nfrob", nil, "line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScript(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("step %d: %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseScriptTooLong(t *testing.T) {
	in := strings.Repeat("click #a\n", maxScript/9+10)
	if _, err := ParseScript(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("error %v", err)
	}
}

func FuzzParseScript(f *testing.F) {
	for _, s := range []string{"click #a", "fill #n Ada\nwait .x", `click "a b" `, "# c\nclick-if #z", "fill \"\\u0000\" x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		steps, err := ParseScript(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, s := range steps {
			switch s.Op {
			case OpClick, OpClickIf, OpWait:
				if s.Value != "" {
					t.Fatalf("%+v has a value", s)
				}
			case OpFill:
			default:
				t.Fatalf("unknown op in %+v", s)
			}
			if s.Selector == "" || s.Line < 1 {
				t.Fatalf("step %+v", s)
			}
		}
	})
}
