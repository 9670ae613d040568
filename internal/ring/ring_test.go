package ring

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestLines(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		writes []string
		want   []string
		total  uint64
	}{
		{"empty", 3, nil, []string{}, 0},
		{"one", 3, []string{"a\n"}, []string{"a"}, 1},
		{"partial kept back", 3, []string{"a\nb"}, []string{"a"}, 1},
		{"partial joined", 3, []string{"a\nb", "c\n"}, []string{"a", "bc"}, 2},
		{"wraps", 3, []string{"1\n2\n3\n4\n5\n"}, []string{"3", "4", "5"}, 5},
		{"exactly full", 2, []string{"1\n", "2\n"}, []string{"1", "2"}, 2},
		{"size floor", 0, []string{"1\n2\n"}, []string{"2"}, 2},
		{"empty lines", 3, []string{"\n\n"}, []string{"", ""}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(tt.size)
			for _, w := range tt.writes {
				if n, err := l.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := l.Lines(); !slices.Equal(got, tt.want) {
				t.Errorf("Lines = %q, want %q", got, tt.want)
			}
			if l.Total() != tt.total {
				t.Errorf("Total = %d, want %d", l.Total(), tt.total)
			}
		})
	}
}

func TestLongLineCut(t *testing.T) {
	l := New(2)
	long := strings.Repeat("x", MaxLine+100)
	l.Write([]byte(long))
	l.Write([]byte(long + "\n"))
	got := l.Lines()
	if len(got) != 1 || !strings.HasSuffix(got[0], "(cut)") || len(got[0]) > MaxLine+20 {
		t.Fatalf("long line kept as %d bytes", len(got[0]))
	}
}

func TestWriteToResetOnChange(t *testing.T) {
	l := New(4)
	calls := 0
	l.OnChange(func() { calls++ })
	l.Write([]byte("a\nb\n"))
	l.Write([]byte("c"))
	if calls != 1 {
		t.Errorf("OnChange called %d times, want 1 (a partial line is no change)", calls)
	}
	var b bytes.Buffer
	if _, err := l.WriteTo(&b); err != nil || b.String() != "a\nb\n" {
		t.Errorf("WriteTo = %q, %v", b.String(), err)
	}
	l.Reset()
	if len(l.Lines()) != 0 || l.Total() != 0 {
		t.Error("Reset kept lines")
	}
}

func TestConcurrent(t *testing.T) {
	l := New(100)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				l.Write([]byte("line\n"))
				_ = l.Lines()
			}
		}()
	}
	wg.Wait()
	if l.Total() != 1600 || len(l.Lines()) != 100 {
		t.Fatalf("total %d, kept %d", l.Total(), len(l.Lines()))
	}
}

func TestEnabled(t *testing.T) {
	l := New(4)
	l.SetEnabled(false)
	if n, err := l.Write([]byte("secret\n")); n != 7 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if l.Enabled() || len(l.Lines()) != 0 {
		t.Fatalf("a disabled ring kept %q", l.Lines())
	}
	l.SetEnabled(true)
	l.Write([]byte("kept\n"))
	if got := l.Lines(); !slices.Equal(got, []string{"kept"}) {
		t.Fatalf("Lines = %q", got)
	}
}
