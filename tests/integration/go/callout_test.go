// callout_test.go - the auth_callout module (ADR-26) with a service written
// here with nats.go and the Go jwt/v2 package: the service's own user logs
// in by password (auth_users), every other login is a request on
// $SYS.REQ.USER.AUTH whose answer (a user JWT for the APP account, or an
// error) decides it.  nats-server 2.9.10 predates auth callout: skipped
// there.
package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

func TestAuthCallout(t *testing.T) {
	if isNatsServer(serverBin(t)) {
		t.Skip("nats-server 2.9.10 has no auth callout")
	}
	issuer := kp(t, nkeys.CreateAccount)
	// nats-server 2.10's layout: the callout block inside authorization
	s := startServerConf(t, fmt.Sprintf(`accounts { AUTH { users: [ {user: auth, password: pwd} ] }, APP {} }
authorization {
  auth_callout { issuer: %q, auth_users: [ auth ], account: AUTH, timeout: "1s" }
}
`, pk(t, issuer)))
	svc := connect(t, s, nats.UserInfo("auth", "pwd"))
	_, err := svc.Subscribe("$SYS.REQ.USER.AUTH", func(m *nats.Msg) {
		req, err := jwt.DecodeGeneric(string(m.Data)) // checks the server's signature
		if err != nil || req.Audience != "nats-authorization-request" {
			t.Errorf("request: %v (aud %q)", err, req.Audience)
			return
		}
		userNkey, _ := req.Data["user_nkey"].(string)
		co, _ := req.Data["connect_opts"].(map[string]interface{})
		srv, _ := req.Data["server_id"].(map[string]interface{})
		resp := jwt.NewGenericClaims(userNkey)
		resp.Audience, _ = srv["id"].(string)
		resp.Data["type"] = "authorization_response"
		switch {
		case co["user"] == "bob" && co["pass"] == "bob":
			uc := jwt.NewUserClaims(userNkey)
			uc.Name = "bob"
			uc.Audience = "APP"
			uc.Pub.Allow.Add("app.>", "_INBOX.>")
			uc.Sub.Allow.Add("app.>", "_INBOX.>")
			tok, err := uc.Encode(issuer)
			must(t, err)
			resp.Data["jwt"] = tok
		case co["user"] == "slow":
			return // no answer: the server gives up
		default:
			resp.Data["error"] = "bad credentials"
		}
		out, err := resp.Encode(issuer)
		must(t, err)
		must(t, m.Respond([]byte(out)))
	})
	must(t, err)
	must(t, svc.Flush())

	errs := make(chan error, 4)
	bob := connect(t, s, nats.UserInfo("bob", "bob"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		errs <- err
	}))
	sub, err := bob.SubscribeSync("app.>")
	must(t, err)
	spy, err := svc.SubscribeSync(">")
	must(t, err)
	flushAll(t, bob, svc)
	must(t, bob.Publish("app.x", []byte("hi")))
	must(t, bob.Flush())
	if _, err := sub.NextMsg(2 * time.Second); err != nil {
		t.Fatalf("bob in APP: %v", err)
	}
	if m, err := spy.NextMsg(300 * time.Millisecond); err == nil {
		t.Fatalf("the AUTH account saw APP's message on %s", m.Subject)
	}
	must(t, bob.Publish("other.x", []byte("no")))
	must(t, bob.Flush())
	select {
	case e := <-errs:
		if !strings.Contains(e.Error(), "Permissions Violation") {
			t.Fatalf("bob publishing outside his permissions: %v", e)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no permissions violation for bob")
	}
	for _, who := range []string{"mallory", "slow"} {
		nc, err := nats.Connect(s.url(), nats.UserInfo(who, "x"), nats.NoReconnect(), nats.Timeout(5*time.Second))
		if err == nil {
			nc.Close()
			t.Fatalf("%s logged in", who)
		}
		if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
			t.Fatalf("%s refused with %v", who, err)
		}
	}
}
