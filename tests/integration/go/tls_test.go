// tls_test.go - nats.go over TLS against the server under test: a TLS
// port without client certificates, verify (no certificate and another
// CA's certificate refused, a good one accepted), and verify_and_map
// (certificates that name users with their permissions, one that names
// nobody refused).  Certificates come from tests/gen/gen_certs.sh; the
// config is in nats-server's format, which both servers read.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

var (
	certsOnce sync.Once
	certsDir  string
	certsErr  error
)

func certs(t *testing.T) string {
	t.Helper()
	certsOnce.Do(func() {
		certsDir, certsErr = os.MkdirTemp("", "mn-go-certs-")
		if certsErr != nil {
			return
		}
		out, err := exec.Command("sh", filepath.Join("..", "..", "gen", "gen_certs.sh"),
			certsDir).CombinedOutput()
		if err != nil {
			certsErr = fmt.Errorf("gen_certs.sh: %v: %s", err, out)
		}
	})
	if certsErr != nil {
		t.Fatal(certsErr)
	}
	return certsDir
}

func TestMain(m *testing.M) {
	rc := m.Run()
	if certsDir != "" {
		os.RemoveAll(certsDir)
	}
	os.Exit(rc)
}

// tlsServer starts a server whose config has a tls block with extra
// (keys inside it) and rest after it.
func tlsServer(t *testing.T, extra, rest string) *server {
	t.Helper()
	d := certs(t)
	conf := fmt.Sprintf("tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  timeout: 2\n%s}\n%s",
		filepath.Join(d, "server-cert.pem"), filepath.Join(d, "server-key.pem"),
		filepath.Join(d, "ca.pem"), extra, rest)
	path := filepath.Join(t.TempDir(), "tls.conf")
	must(t, os.WriteFile(path, []byte(conf), 0644))
	return startServerArgs(t, "-c", path)
}

func tlsConnect(s *server, who string, opts ...nats.Option) (*nats.Conn, error) {
	d := certsDir
	opts = append([]nats.Option{nats.Timeout(5 * time.Second), nats.NoReconnect(),
		nats.RootCAs(filepath.Join(d, "ca.pem"))}, opts...)
	if who != "" {
		opts = append(opts, nats.ClientCert(filepath.Join(d, who+"-cert.pem"),
			filepath.Join(d, who+"-key.pem")))
	}
	return nats.Connect(fmt.Sprintf("tls://127.0.0.1:%d", s.port), opts...)
}

func tlsMust(t *testing.T, s *server, who string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := tlsConnect(s, who, opts...)
	if err != nil {
		t.Fatalf("TLS connect as %q: %v", who, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func tlsRefused(t *testing.T, s *server, who string) {
	t.Helper()
	nc, err := tlsConnect(s, who)
	if err == nil {
		nc.Close()
		t.Fatalf("TLS connect as %q was accepted", who)
	}
}

// delivers: does a message published by pub on subj reach sub?
func delivers(t *testing.T, pub, sub *nats.Conn, subj string) bool {
	t.Helper()
	ss, err := sub.SubscribeSync(subj)
	must(t, err)
	defer ss.Unsubscribe()
	must(t, sub.Flush())
	pub.Publish(subj, []byte("over tls"))
	pub.FlushTimeout(2 * time.Second)
	m, err := ss.NextMsg(time.Second)
	if err != nil {
		return false
	}
	return string(m.Data) == "over tls"
}

func TestTLSNoClientCert(t *testing.T) {
	s := tlsServer(t, "", "")
	a := tlsMust(t, s, "")
	b := tlsMust(t, s, "")
	if !a.TLSRequired() {
		t.Fatal("INFO did not say tls_required")
	}
	if !delivers(t, a, b, "go.tls") || !delivers(t, b, a, "go.back") {
		t.Fatal("no message over TLS")
	}
	// A plain-text nats.go client refuses a TLS-only server.
	if nc, err := nats.Connect(s.url(), nats.Timeout(2*time.Second), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("plain-text client connected to a TLS port")
	}
}

func TestTLSVerify(t *testing.T) {
	s := tlsServer(t, "  verify: true\n", "")
	tlsRefused(t, s, "")
	tlsRefused(t, s, "rogue")
	a := tlsMust(t, s, "alice")
	b := tlsMust(t, s, "carol")
	if !delivers(t, a, b, "verified") {
		t.Fatal("no message between verified clients")
	}
}

func TestTLSVerifyAndMap(t *testing.T) {
	users := "authorization {\n  users = [\n" +
		"    { user: \"alice@example.com\", permissions: { publish: \"alice.>\", subscribe: [\"alice.>\", \"_INBOX.>\"] } }\n" +
		"    { user: \"CN=bob,OU=Ops,O=Acme,C=US\" }\n  ]\n}\n"
	s := tlsServer(t, "  verify_and_map: true\n", users)
	tlsRefused(t, s, "")
	tlsRefused(t, s, "carol")
	tlsRefused(t, s, "rogue")
	errs := make(chan error, 8)
	alice := tlsMust(t, s, "alice", nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		errs <- err
	}))
	bob := tlsMust(t, s, "bob")
	if !delivers(t, alice, bob, "alice.news") {
		t.Fatal("alice (mapped by e-mail) could not publish on alice.>")
	}
	if delivers(t, alice, bob, "bob.news") {
		t.Fatal("alice published outside her permissions")
	}
	select {
	case err := <-errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Fatalf("unexpected async error: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no permissions violation reported to alice")
	}
	if !delivers(t, bob, alice, "alice.inbox") {
		t.Fatal("bob (mapped by subject) could not reach alice")
	}
}
