package simcard

import (
	"path/filepath"
	"testing"

	"github.com/mobileplans/mobileplans/esim/euicc"
)

func TestActiveFollowsTheCard(t *testing.T) {
	c, err := euicc.Open(filepath.Join(t.TempDir(), "s.json"), euicc.Options{Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := New(c).Active()
	want, wok := c.Active()
	if ok != wok || a.ICCID != string(want.ICCID) || a.IMSI != want.IMSI || a.MCCMNC != want.MCCMNC || a.SPN != want.SPN || a.ProfileName != want.ProfileName {
		t.Fatalf("adapter %+v %v, card %+v %v", a, ok, want, wok)
	}
	if !ok || a.IMSI == "" {
		t.Fatal("seeded card has no enabled profile")
	}
	empty, err := euicc.Open(filepath.Join(t.TempDir(), "e.json"), euicc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := New(empty).Active(); ok {
		t.Fatal("empty card reports an active profile")
	}
}
