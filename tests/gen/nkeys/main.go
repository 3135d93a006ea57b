// Command nkeys writes the NKey test fixtures of modnats
// (tests/gen/nkey_fixtures.h) with the Go nkeys package, an implementation
// independent of modnats' own decoder and verifier.  Key pairs come from
// fixed raw seeds (SHA-256 of a label) and Ed25519 signatures are
// deterministic, so regenerating gives the same file.
//
//	tests/gen/gen_nkeys.sh        # rewrites tests/gen/nkey_fixtures.h
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nkeys"
)

var out strings.Builder

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func def(name, value string) {
	fmt.Fprintf(&out, "#define %s \"%s\"\n", name, value)
}

// pair makes a key pair of the given kind from a fixed seed.
func pair(prefix nkeys.PrefixByte, label string) nkeys.KeyPair {
	raw := sha256.Sum256([]byte("modnats nkey fixture " + label))
	kp, err := nkeys.FromRawSeed(prefix, raw[:])
	must(err)
	return kp
}

func pub(kp nkeys.KeyPair) string {
	s, err := kp.PublicKey()
	must(err)
	return s
}

func seed(kp nkeys.KeyPair) string {
	s, err := kp.Seed()
	must(err)
	return string(s)
}

func rawPub(kp nkeys.KeyPair) []byte {
	// Decode with the package itself: the fixture records what nkeys says
	// the 32 key bytes are.
	p := pub(kp)
	b, err := nkeys.Decode(nkeys.Prefix(p), []byte(p))
	must(err)
	return b
}

func sign(kp nkeys.KeyPair, msg string) []byte {
	s, err := kp.Sign([]byte(msg))
	must(err)
	must(kp.Verify([]byte(msg), s))
	return s
}

// crc16 XMODEM, only for the curve key the packaged nkeys (0.3) cannot
// encode; checked against the package on a user key below.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func encode(prefix byte, key []byte) string {
	raw := append([]byte{prefix}, key...)
	c := crc16(raw)
	raw = append(raw, byte(c), byte(c>>8))
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
}

func main() {
	path := "nkey_fixtures.h"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	out.WriteString(`/*
 * nkey_fixtures.h - NKey test material made by the Go nkeys package
 * (tests/gen/nkeys/main.go; regenerate with tests/gen/gen_nkeys.sh).
 * Generated: do not edit.  Keys come from fixed seeds; they protect
 * nothing and must never be used outside tests.
 */
#ifndef MN_NKEY_FIXTURES_H
#define MN_NKEY_FIXTURES_H

`)
	kinds := []struct {
		name   string
		prefix nkeys.PrefixByte
	}{
		{"USER", nkeys.PrefixByteUser},
		{"ACCOUNT", nkeys.PrefixByteAccount},
		{"OPERATOR", nkeys.PrefixByteOperator},
		{"SERVER", nkeys.PrefixByteServer},
		{"CLUSTER", nkeys.PrefixByteCluster},
	}
	for _, k := range kinds {
		kp := pair(k.prefix, strings.ToLower(k.name))
		out.WriteString(fmt.Sprintf("/* %s key (prefix byte %d) */\n", strings.ToLower(k.name), byte(k.prefix)))
		def("FX_"+k.name+"_PUB", pub(kp))
		def("FX_"+k.name+"_RAW_HEX", hex.EncodeToString(rawPub(kp)))
		def("FX_"+k.name+"_SEED", seed(kp))
	}

	// A curve (X) key: the packaged nkeys predates curve keys, so encode
	// the bytes of the user key by hand, after checking the hand encoder
	// against the package.
	u := pair(nkeys.PrefixByteUser, "user")
	if encode(byte(nkeys.PrefixByteUser), rawPub(u)) != pub(u) {
		must(fmt.Errorf("hand encoder disagrees with nkeys"))
	}
	out.WriteString("/* curve key (prefix byte 184): the user key's bytes */\n")
	def("FX_CURVE_PUB", encode(23<<3, rawPub(u)))

	// More users for the server tests.
	for _, name := range []string{"alice", "bob", "carol"} {
		kp := pair(nkeys.PrefixByteUser, name)
		up := strings.ToUpper(name)
		out.WriteString(fmt.Sprintf("/* user %s */\n", name))
		def("FX_"+up+"_PUB", pub(kp))
		def("FX_"+up+"_SEED", seed(kp))
	}

	// Signatures over a nonce as a server sends it, in the encodings
	// clients use: base64url without padding (nats.go, nats.c), and
	// standard base64 with padding (accepted by nats-server too).
	nonce := "lc5fNDzbvLuLg1E"
	sig := sign(u, nonce)
	if !ed25519.Verify(ed25519.PublicKey(rawPub(u)), []byte(nonce), sig) {
		must(fmt.Errorf("crypto/ed25519 disagrees with nkeys"))
	}
	out.WriteString("/* the user key's signatures over FX_NONCE */\n")
	def("FX_NONCE", nonce)
	def("FX_SIG_RAWURL", base64.RawURLEncoding.EncodeToString(sig))
	def("FX_SIG_URL_PADDED", base64.URLEncoding.EncodeToString(sig))
	def("FX_SIG_STD", base64.StdEncoding.EncodeToString(sig))
	def("FX_SIG_HEX", hex.EncodeToString(sig))
	other := pair(nkeys.PrefixByteUser, "alice")
	out.WriteString("/* alice's signature over FX_NONCE: valid, but not the user key's */\n")
	def("FX_SIG_OTHER_KEY", base64.RawURLEncoding.EncodeToString(sign(other, nonce)))
	out.WriteString("/* the user key's signature over another nonce */\n")
	def("FX_SIG_OTHER_NONCE", base64.RawURLEncoding.EncodeToString(sign(u, nonce+"x")))

	// Broken public keys, each checked to be refused by the package.
	p := pub(u)
	badCRC := p[:len(p)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", p[len(p)-1])+1)%32])
	bad := map[string]string{
		"FX_BAD_CRC":        badCRC,
		"FX_BAD_BASE32":     p[:10] + "1" + p[11:],
		"FX_BAD_LOWERCASE":  strings.ToLower(p),
		"FX_BAD_SHORT":      p[:len(p)-8],
		"FX_BAD_LONG":       p + "AAAAAAAA",
	}
	for _, name := range []string{"FX_BAD_CRC", "FX_BAD_BASE32", "FX_BAD_LOWERCASE", "FX_BAD_SHORT", "FX_BAD_LONG"} {
		if nkeys.IsValidPublicUserKey(bad[name]) {
			must(fmt.Errorf("%s is valid for nkeys", name))
		}
	}
	out.WriteString("/* user keys nkeys refuses: CRC, base32 alphabet, case, length */\n")
	for _, name := range []string{"FX_BAD_CRC", "FX_BAD_BASE32", "FX_BAD_LOWERCASE", "FX_BAD_SHORT", "FX_BAD_LONG"} {
		def(name, bad[name])
	}
	out.WriteString("\n#endif\n")
	must(os.WriteFile(path, []byte(out.String()), 0o644))
}
