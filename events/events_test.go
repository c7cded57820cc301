package events

import (
	"net"
	"testing"
)

func TestMAC(t *testing.T) {
	m, err := ParseMAC("52-54-00-AB-cd-01")
	if err != nil || m.String() != "52:54:00:ab:cd:01" {
		t.Fatalf("ParseMAC = %v, %v", m, err)
	}
	if _, err := ParseMAC("00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01"); err == nil {
		t.Error("a 20-byte address was accepted")
	}
	if _, err := ParseMAC("zz"); err == nil {
		t.Error("garbage was accepted")
	}
	if got := MACOf(net.HardwareAddr{1, 2, 3}); !got.IsZero() || got.String() != "" {
		t.Errorf("MACOf(3 bytes) = %q, want the zero MAC", got)
	}
}

func TestNames(t *testing.T) {
	for k := KindDHCP; k <= KindReport; k++ {
		back, ok := ParseKind(k.String())
		if !ok || back != k {
			t.Errorf("kind %d: %q parses back to %d, %v", k, k, back, ok)
		}
	}
	if _, ok := ParseKind("nfs"); ok || Kind(99).String() != "unknown" {
		t.Error("unknown kinds")
	}
	if StepKernel.String() != "kernel" || StepProgram.String() != "boot program" {
		t.Error("step names")
	}
}

func TestTee(t *testing.T) {
	if Tee(nil, nil) != nil {
		t.Error("Tee of nothing is not nil")
	}
	var a, b Collector
	if Tee(nil, &a) != Sink(&a) {
		t.Error("Tee of one sink is not that sink")
	}
	Tee(&a, nil, &b).Emit(Event{Kind: KindTFTP})
	if len(a.Events()) != 1 || len(b.Events()) != 1 {
		t.Errorf("a got %d, b %d", len(a.Events()), len(b.Events()))
	}
}
