// jwt_test.go - operator mode with nats.go: credentials made here with the
// Go nats-io/jwt/v2 and nkeys packages (fresh keys per test), logins with
// nats.UserCredentials, account isolation, an account's connection limit
// with nats-server's text, and a revocation pushed through the full
// resolver ($SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE) closing a connected user.
// The configs are nats-server's format; both binaries run every test.
package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

type jwtWorld struct {
	t        *testing.T
	dir      string
	op, sys  nkeys.KeyPair
	accounts map[string]nkeys.KeyPair
	claims   map[string]*jwt.AccountClaims
}

func kp(t *testing.T, f func() (nkeys.KeyPair, error)) nkeys.KeyPair {
	k, err := f()
	must(t, err)
	return k
}

func pk(t *testing.T, k nkeys.KeyPair) string {
	p, err := k.PublicKey()
	must(t, err)
	return p
}

func newJWTWorld(t *testing.T, names ...string) *jwtWorld {
	w := &jwtWorld{t: t, dir: t.TempDir(), op: kp(t, nkeys.CreateOperator), sys: kp(t, nkeys.CreateAccount),
		accounts: map[string]nkeys.KeyPair{}, claims: map[string]*jwt.AccountClaims{}}
	oc := jwt.NewOperatorClaims(pk(t, w.op))
	oc.SystemAccount = pk(t, w.sys)
	tok, err := oc.Encode(w.op)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(w.dir, "op.jwt"), []byte(tok), 0600))
	w.accounts["SYS"] = w.sys
	w.claims["SYS"] = jwt.NewAccountClaims(pk(t, w.sys))
	for _, n := range names {
		k := kp(t, nkeys.CreateAccount)
		w.accounts[n] = k
		w.claims[n] = jwt.NewAccountClaims(pk(t, k))
	}
	return w
}

func (w *jwtWorld) accountJWT(name string) string {
	tok, err := w.claims[name].Encode(w.op)
	must(w.t, err)
	return tok
}

// creds writes a .creds file for a new user of account name.
func (w *jwtWorld) creds(name, user string) (string, string) {
	u := kp(w.t, nkeys.CreateUser)
	uc := jwt.NewUserClaims(pk(w.t, u))
	tok, err := uc.Encode(w.accounts[name])
	must(w.t, err)
	seed, err := u.Seed()
	must(w.t, err)
	b, err := jwt.FormatUserConfig(tok, seed)
	must(w.t, err)
	p := filepath.Join(w.dir, user+".creds")
	must(w.t, os.WriteFile(p, b, 0600))
	return p, pk(w.t, u)
}

func (w *jwtWorld) memoryConf() string {
	var b strings.Builder
	fmt.Fprintf(&b, "operator: %q\nresolver: MEMORY\nresolver_preload: {\n", filepath.Join(w.dir, "op.jwt"))
	for n := range w.claims {
		fmt.Fprintf(&b, "  %s: %q\n", pk(w.t, w.accounts[n]), w.accountJWT(n))
	}
	b.WriteString("}\n")
	return b.String()
}

func (w *jwtWorld) fullConf() string {
	dir := filepath.Join(w.dir, "jwt")
	must(w.t, os.MkdirAll(dir, 0700))
	for n := range w.claims {
		must(w.t, os.WriteFile(filepath.Join(dir, pk(w.t, w.accounts[n])+".jwt"), []byte(w.accountJWT(n)), 0600))
	}
	return fmt.Sprintf("operator: %q\nresolver: { type: full, dir: %q }\n", filepath.Join(w.dir, "op.jwt"), dir)
}

func TestJWTLoginAndIsolation(t *testing.T) {
	w := newJWTWorld(t, "A", "B")
	a, _ := w.creds("A", "a")
	b, _ := w.creds("B", "b")
	s := startServerConf(t, w.memoryConf())
	nca := connect(t, s, nats.UserCredentials(a))
	ncb := connect(t, s, nats.UserCredentials(b))
	suba, err := nca.SubscribeSync("x.>")
	must(t, err)
	subb, err := ncb.SubscribeSync("x.>")
	must(t, err)
	flushAll(t, nca, ncb)
	must(t, nca.Publish("x.1", []byte("from a")))
	flushAll(t, nca)
	if _, err := suba.NextMsg(2 * time.Second); err != nil {
		t.Fatalf("own account: %v", err)
	}
	if m, err := subb.NextMsg(300 * time.Millisecond); err == nil {
		t.Fatalf("account B received A's message %q", m.Data)
	}
	// a user of an account the resolver does not know
	w.accounts["Z"] = kp(t, nkeys.CreateAccount)
	z, _ := w.creds("Z", "z")
	if nc, err := nats.Connect(s.url(), nats.UserCredentials(z), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("a user of an unknown account logged in")
	} else if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Fatalf("unknown account: %v", err)
	}
}

func TestJWTAccountConnLimit(t *testing.T) {
	w := newJWTWorld(t, "C")
	w.claims["C"].Limits.Conn = 1
	c1, _ := w.creds("C", "c1")
	c2, _ := w.creds("C", "c2")
	s := startServerConf(t, w.memoryConf())
	connect(t, s, nats.UserCredentials(c1))
	nc, err := nats.Connect(s.url(), nats.UserCredentials(c2), nats.NoReconnect())
	if err == nil {
		nc.Close()
		t.Fatal("a second connection over the account's limit of 1")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "maximum account active connections exceeded") {
		t.Fatalf("over the account limit: %v", err)
	}
}

func TestJWTRevocationPush(t *testing.T) {
	w := newJWTWorld(t, "A")
	keep, _ := w.creds("A", "keep")
	gone, gonePub := w.creds("A", "gone")
	sys, _ := w.creds("SYS", "sys")
	s := startServerConf(t, w.fullConf())
	nck := connect(t, s, nats.UserCredentials(keep))
	errs := make(chan error, 4)
	ncg := connect(t, s, nats.UserCredentials(gone), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		errs <- err
	}))
	time.Sleep(1100 * time.Millisecond) // revocations cover JWTs issued up to that second
	w.claims["A"].Revoke(gonePub)
	ncs := connect(t, s, nats.UserCredentials(sys))
	subj := fmt.Sprintf("$SYS.REQ.ACCOUNT.%s.CLAIMS.UPDATE", pk(t, w.accounts["A"]))
	reply, err := ncs.Request(subj, []byte(w.accountJWT("A")), 5*time.Second)
	must(t, err)
	if !strings.Contains(string(reply.Data), `"code":200`) {
		t.Fatalf("CLAIMS.UPDATE: %s", reply.Data)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !ncg.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !ncg.IsClosed() {
		t.Fatal("the revoked user is still connected")
	}
	select {
	case e := <-errs:
		if !strings.Contains(strings.ToLower(e.Error()), "revoked") {
			t.Fatalf("revoked user got %v", e)
		}
	case <-time.After(time.Second):
		t.Fatal("no error for the revoked user")
	}
	if nck.IsClosed() {
		t.Fatal("a user that is not revoked was closed")
	}
	must(t, nck.Flush())
}
