package httpboot

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// newKey generates a throwaway key pair and writes the armored private key
// to a file, encrypted with passphrase when it is not empty. It returns
// the file and the public key ring.
func newKey(t *testing.T, passphrase string) (string, openpgp.EntityList) {
	t.Helper()
	e, err := openpgp.NewEntity("rackboot test", "", "test@rackboot.invalid", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	if err := e.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	ring, err := openpgp.ReadKeyRing(bytes.NewReader(pub.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if passphrase != "" {
		if err := e.EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
			t.Fatal(err)
		}
	}
	var priv bytes.Buffer
	w, err := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	file := filepath.Join(t.TempDir(), "key.asc")
	if err := os.WriteFile(file, priv.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// Public key, armored, beside it for gpg.
	var apub bytes.Buffer
	aw, _ := armor.Encode(&apub, openpgp.PublicKeyType, nil)
	aw.Write(pub.Bytes())
	aw.Close()
	os.WriteFile(filepath.Join(filepath.Dir(file), "pub.asc"), apub.Bytes(), 0o644)
	return file, ring
}

// signedPaths are the documents whose signatures the tests check.
var signedPaths = []string{
	"/boot.ipxe",
	"/ipxe?mac=" + richMAC + "&platform=efi",
	"/ipxe?mac=52:54:00:99:99:99",
	"/ignition?mac=" + richMAC,
	"/cloud-config?mac=" + richMAC,
	"/generic?mac=" + richMAC,
	"/metadata?mac=" + richMAC,
	"/v1/boot/" + richMAC,
}

// withSuffix inserts suffix before the query of target.
func withSuffix(target, suffix string) string {
	p, q, ok := strings.Cut(target, "?")
	if !ok {
		return p + suffix
	}
	return p + suffix + "?" + q
}

func TestSignaturesVerify(t *testing.T) {
	file, ring := newKey(t, "")
	signer, err := LoadSigningKey(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newRichFixture(t, signer)
	for _, target := range signedPaths {
		t.Run(target, func(t *testing.T) {
			doc := f.do("GET", target, nil)
			if doc.Code != 200 {
				t.Fatalf("document status %d: %s", doc.Code, doc.Body)
			}
			sig := f.do("GET", withSuffix(target, ".sig"), nil)
			if sig.Code != 200 {
				t.Fatalf(".sig status %d: %s", sig.Code, sig.Body)
			}
			if _, err := openpgp.CheckDetachedSignature(ring, bytes.NewReader(doc.Body.Bytes()), bytes.NewReader(sig.Body.Bytes()), nil); err != nil {
				t.Errorf(".sig does not verify: %v", err)
			}
			asc := f.do("GET", withSuffix(target, ".asc"), nil)
			if asc.Code != 200 || !strings.HasPrefix(asc.Body.String(), "-----BEGIN PGP SIGNATURE-----") {
				t.Fatalf(".asc status %d: %s", asc.Code, asc.Body)
			}
			if _, err := openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(doc.Body.Bytes()), bytes.NewReader(asc.Body.Bytes()), nil); err != nil {
				t.Errorf(".asc does not verify: %v", err)
			}
			tampered := append(bytes.Clone(doc.Body.Bytes()), '\n')
			if _, err := openpgp.CheckDetachedSignature(ring, bytes.NewReader(tampered), bytes.NewReader(sig.Body.Bytes()), nil); err == nil {
				t.Errorf("signature verifies a changed document")
			}
		})
	}
}

func TestSignatureNotForAssets(t *testing.T) {
	file, _ := newKey(t, "")
	signer, err := LoadSigningKey(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newRichFixture(t, signer)
	if w := f.do("GET", "/assets/vmlinuz.sig", nil); w.Code != 404 {
		t.Errorf("/assets/vmlinuz.sig status (-want +got):\n-404\n+%d", w.Code)
	}
}

func TestLoadSigningKeyErrors(t *testing.T) {
	enc, _ := newKey(t, "s3cret")
	garbage := filepath.Join(t.TempDir(), "garbage.asc")
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	pubOnly := filepath.Join(filepath.Dir(enc), "pub.asc")
	tests := []struct {
		name, file, pass, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "none.asc"), "", "no such file"},
		{"garbage", garbage, "", garbage + ": not an armored OpenPGP key"},
		{"public only", pubOnly, "", pubOnly + ": holds no private key"},
		{"encrypted without passphrase", enc, "", "set RACKBOOT_SIGNING_PASSPHRASE"},
		{"wrong passphrase", enc, "nope", "wrong passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadSigningKey(tt.file, []byte(tt.pass))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error (-want +got):\n-...%s...\n+%v", tt.want, err)
			}
		})
	}
	if _, err := LoadSigningKey(enc, []byte("s3cret")); err != nil {
		t.Errorf("right passphrase: %v", err)
	}
}

// TestGPGVerify checks the signatures with gpg itself, the way a user
// would: gpg --verify doc.asc doc. It skips when gpg is not installed.
func TestGPGVerify(t *testing.T) {
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		t.Skip("gpg is not installed (apt-get install gnupg)")
	}
	file, _ := newKey(t, "")
	signer, err := LoadSigningKey(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	run := func(args ...string) (string, error) {
		cmd := exec.Command(gpg, append([]string{"--homedir", home, "--batch", "--no-tty"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("--import", filepath.Join(filepath.Dir(file), "pub.asc")); err != nil {
		t.Fatalf("gpg --import: %v\n%s", err, out)
	}
	f := newRichFixture(t, signer)
	dir := t.TempDir()
	for i, target := range []string{"/ipxe?mac=" + richMAC, "/ignition?mac=" + richMAC} {
		doc := filepath.Join(dir, "doc"+string(rune('0'+i)))
		os.WriteFile(doc, f.do("GET", target, nil).Body.Bytes(), 0o644)
		for _, suffix := range []string{".asc", ".sig"} {
			os.WriteFile(doc+suffix, f.do("GET", withSuffix(target, suffix), nil).Body.Bytes(), 0o644)
			if out, err := run("--verify", doc+suffix, doc); err != nil || !strings.Contains(out, "Good signature") {
				t.Errorf("gpg --verify %s%s: %v\n%s", target, suffix, err, out)
			}
		}
		os.WriteFile(doc, []byte("#!ipxe\nshell\n"), 0o644)
		if out, err := run("--verify", doc+".asc", doc); err == nil {
			t.Errorf("gpg --verify accepted a changed document:\n%s", out)
		}
	}
}
