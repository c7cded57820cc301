package httpboot

import (
	"bytes"
	"fmt"
	"os"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// Signer makes OpenPGP detached signatures (RFC 9580 section 5.2, binary
// document signatures) of rendered scripts and configs, as matchbox does,
// so that a client holding the public key can check them with
// `gpg --verify`.
type Signer struct {
	entity *openpgp.Entity
	file   string
}

// LoadSigningKey reads an armored OpenPGP private key from file. An
// encrypted key is unlocked with passphrase; an encrypted key without one
// is an error. The key must be able to sign: LoadSigningKey signs a test
// message, so an expired or public-only key fails here, at start-up, and
// every error names the file.
func LoadSigningKey(file string, passphrase []byte) (*Signer, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	defer f.Close()
	keys, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: not an armored OpenPGP key: %w", file, err)
	}
	var e *openpgp.Entity
	for _, k := range keys {
		if k.PrivateKey != nil {
			e = k
			break
		}
	}
	if e == nil {
		return nil, fmt.Errorf("signing key %s: holds no private key (export it with gpg --armor --export-secret-keys)", file)
	}
	if err := unlock(e, passphrase); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", file, err)
	}
	s := &Signer{entity: e, file: file}
	if _, err := s.Sign([]byte("rackboot")); err != nil {
		return nil, fmt.Errorf("signing key %s: cannot sign: %w", file, err)
	}
	return s, nil
}

// unlock decrypts the entity's secret keys when they are encrypted.
func unlock(e *openpgp.Entity, passphrase []byte) error {
	encrypted := e.PrivateKey.Encrypted
	for _, sub := range e.Subkeys {
		encrypted = encrypted || (sub.PrivateKey != nil && sub.PrivateKey.Encrypted)
	}
	if !encrypted {
		return nil
	}
	if len(passphrase) == 0 {
		return fmt.Errorf("the key is protected by a passphrase; set RACKBOOT_SIGNING_PASSPHRASE")
	}
	if err := e.DecryptPrivateKeys(passphrase); err != nil {
		return fmt.Errorf("wrong passphrase in RACKBOOT_SIGNING_PASSPHRASE: %w", err)
	}
	return nil
}

// Sign returns a binary detached signature of data (served as PATH.sig).
func (s *Signer) Sign(data []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.DetachSign(&b, s.entity, bytes.NewReader(data), nil); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// SignArmored returns an ASCII-armored detached signature of data (served
// as PATH.asc).
func (s *Signer) SignArmored(data []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, s.entity, bytes.NewReader(data), nil); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// KeyID returns the signing key's ID in hex, for logs.
func (s *Signer) KeyID() string {
	return s.entity.PrimaryKey.KeyIdString()
}
