// accounts_test.go - nats.go across accounts: isolation, stream imports
// (prefix and `to` mapping), service imports (singleton and stream
// responses, the reply mapping going away), a private export refused to
// an account it does not list, account limits with nats-server's error
// texts, and the system account's advisories and PING.  The configs are
// nats-server's format, which both servers read; every test runs against
// both binaries.
package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

const accountsConf = `
accounts: {
  E: {
    users: [ {user: e, password: e} ]
    exports: [
      {stream: "a.>"}
      {service: "svc.>"}
      {service: "st.>", response_type: stream, response_threshold: "2s"}
      {service: "priv.>", accounts: [I]}
      {service: "ch.>", response_type: chunked}
      {service: "th.>", response_type: stream, response_threshold: "300ms"}
    ]
  }
  I: {
    users: [ {user: i, password: i} ]
    imports: [
      {stream: {account: E, subject: "a.>"}, prefix: "from_e"}
      {service: {account: E, subject: "svc.x"}, to: "x"}
      {service: {account: E, subject: "st.q"}, to: "q"}
      {service: {account: E, subject: "priv.p"}}
      {service: {account: E, subject: "ch.q"}}
      {service: {account: E, subject: "th.q"}}
    ]
  }
  J: {
    users: [ {user: j, password: j} ]
    imports: [
      {stream: {account: E, subject: "a.*"}, to: "b.*"}
    ]
  }
  X: {
    users: [ {user: x, password: x} ]
  }
}
`

func userConn(t *testing.T, s *server, u string) *nats.Conn {
	t.Helper()
	return connect(t, s, nats.UserInfo(u, u))
}

func flushAll(t *testing.T, ncs ...*nats.Conn) {
	t.Helper()
	for _, nc := range ncs {
		must(t, nc.Flush())
	}
}

func TestAccountsIsolated(t *testing.T) {
	s := startServerConf(t, accountsConf)
	e, x := userConn(t, s, "e"), userConn(t, s, "x")
	se, err := e.SubscribeSync("foo")
	must(t, err)
	sx, err := x.SubscribeSync("foo")
	must(t, err)
	flushAll(t, e, x)
	must(t, x.Publish("foo", []byte("from x")))
	flushAll(t, x, e, x)
	if n := pending(t, se); n != 0 {
		t.Fatalf("account E saw %d messages of account X", n)
	}
	if n := pending(t, sx); n != 1 {
		t.Fatalf("account X got %d of its own messages, want 1", n)
	}
}

func TestStreamImportPrefix(t *testing.T) {
	s := startServerConf(t, accountsConf)
	e, i, x := userConn(t, s, "e"), userConn(t, s, "i"), userConn(t, s, "x")
	si, err := i.SubscribeSync("from_e.a.>")
	must(t, err)
	plain, err := i.SubscribeSync("a.>")
	must(t, err)
	sx, err := x.SubscribeSync(">")
	must(t, err)
	flushAll(t, i, x)
	must(t, e.Publish("a.b.c", []byte("hello")))
	must(t, e.Publish("z.b", []byte("not exported")))
	flushAll(t, e)
	m, err := si.NextMsg(5 * time.Second)
	must(t, err)
	if m.Subject != "from_e.a.b.c" || string(m.Data) != "hello" {
		t.Fatalf("got %q %q", m.Subject, m.Data)
	}
	flushAll(t, i, x)
	if n := pending(t, si) + pending(t, plain) + pending(t, sx); n != 0 {
		t.Fatalf("%d unexpected messages", n)
	}
}

func TestStreamImportTo(t *testing.T) {
	s := startServerConf(t, accountsConf)
	e, j := userConn(t, s, "e"), userConn(t, s, "j")
	sj, err := j.SubscribeSync("b.*")
	must(t, err)
	flushAll(t, j)
	must(t, e.Publish("a.one", []byte("1")))
	must(t, e.Publish("a.one.two", []byte("not a.*")))
	flushAll(t, e)
	m, err := sj.NextMsg(5 * time.Second)
	must(t, err)
	if m.Subject != "b.one" {
		t.Fatalf("got %q, want b.one", m.Subject)
	}
	flushAll(t, j)
	if n := pending(t, sj); n != 0 {
		t.Fatalf("%d unexpected messages", n)
	}
}

func TestServiceImportSingleton(t *testing.T) {
	s := startServerConf(t, accountsConf)
	e, i := userConn(t, s, "e"), userConn(t, s, "i")
	replies := make(chan string, 4)
	_, err := e.Subscribe("svc.x", func(m *nats.Msg) {
		replies <- m.Reply
		m.Respond([]byte("answer:" + string(m.Data)))
		// A second answer finds the mapping gone (singleton).
		m.Respond([]byte("again"))
	})
	must(t, err)
	flushAll(t, e)
	r, err := i.Request("x", []byte("q1"), 5*time.Second)
	must(t, err)
	if string(r.Data) != "answer:q1" {
		t.Fatalf("got %q", r.Data)
	}
	if rep := <-replies; !strings.HasPrefix(rep, "_R_.") {
		t.Fatalf("the responder saw reply %q, want a _R_. subject", rep)
	}
	// A requester with its own inbox gets exactly one answer.
	inbox, err := i.SubscribeSync("my.inbox")
	must(t, err)
	flushAll(t, i)
	must(t, i.PublishRequest("x", "my.inbox", []byte("q2")))
	flushAll(t, i, e)
	m, err := inbox.NextMsg(5 * time.Second)
	must(t, err)
	if string(m.Data) != "answer:q2" {
		t.Fatalf("got %q", m.Data)
	}
	flushAll(t, e, i)
	time.Sleep(100 * time.Millisecond)
	flushAll(t, e, i)
	if n := pending(t, inbox); n != 0 {
		t.Fatalf("%d answers after the singleton's first", n)
	}
	// The exporter's subject is not reachable from I directly.
	if _, err := i.Request("svc.x", nil, 300*time.Millisecond); err == nil {
		t.Fatal("a request on the exporter's own subject got an answer in I")
	}
}

func TestServiceImportStream(t *testing.T) {
	s := startServerConf(t, accountsConf)
	e, i := userConn(t, s, "e"), userConn(t, s, "i")
	_, err := e.Subscribe("st.q", func(m *nats.Msg) {
		for k := 0; k < 3; k++ {
			m.Respond([]byte{byte('0' + k)})
		}
	})
	must(t, err)
	flushAll(t, e)
	inbox, err := i.SubscribeSync("st.inbox")
	must(t, err)
	flushAll(t, i)
	must(t, i.PublishRequest("q", "st.inbox", []byte("go")))
	flushAll(t, i)
	for k := 0; k < 3; k++ {
		m, err := inbox.NextMsg(5 * time.Second)
		must(t, err)
		if string(m.Data) != string([]byte{byte('0' + k)}) {
			t.Fatalf("answer %d: %q", k, m.Data)
		}
	}
}

func TestPrivateExport(t *testing.T) {
	// I is listed: its import of priv.p works.
	s := startServerConf(t, accountsConf)
	e, i := userConn(t, s, "e"), userConn(t, s, "i")
	_, err := e.Subscribe("priv.p", func(m *nats.Msg) { m.Respond([]byte("ok")) })
	must(t, err)
	flushAll(t, e)
	r, err := i.Request("priv.p", nil, 5*time.Second)
	must(t, err)
	if string(r.Data) != "ok" {
		t.Fatalf("got %q", r.Data)
	}
	// X is not listed: the server refuses the configuration.
	bad := strings.Replace(accountsConf, "users: [ {user: x, password: x} ]",
		"users: [ {user: x, password: x} ]\n    imports: [ {service: {account: E, subject: \"priv.p\"}} ]", 1)
	out := refusedConf(t, bad)
	if !strings.Contains(out, "service import not authorized") {
		t.Fatalf("the server refused the file, but said: %s", out)
	}
}

// refusedConf runs the server on text with -t-like brevity: it must exit
// non-zero; returns its output.
func refusedConf(t *testing.T, text string) string {
	t.Helper()
	s := &server{t: t, bin: startServerBin(t)}
	dir := t.TempDir()
	conf := dir + "/bad.conf"
	must(t, writeFile(conf, text))
	cmd := exec.Command(s.bin, "-c", conf, "-a", "127.0.0.1", "-p", "-1")
	done := make(chan []byte, 1)
	go func() {
		out, _ := cmd.CombinedOutput()
		done <- out
	}()
	select {
	case out := <-done:
		if cmd.ProcessState == nil || cmd.ProcessState.Success() {
			t.Fatalf("the server accepted a bad file: %s", out)
		}
		return string(out)
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the server started on a file with an unauthorized import")
	}
	return ""
}

const limitsConf = `
accounts: {
  L: {
    users: [ {user: l, password: l} ]
    limits: { max_connections: 2, max_subscriptions: 2, max_payload: 100 }
  }
}
`

func TestAccountLimits(t *testing.T) {
	s := startServerConf(t, limitsConf)
	aClosed := make(chan struct{})
	a := connect(t, s, nats.UserInfo("l", "l"), nats.ClosedHandler(func(*nats.Conn) { close(aClosed) }))
	userConn(t, s, "l")
	nc, err := nats.Connect(s.url(), nats.UserInfo("l", "l"), nats.NoReconnect())
	if err == nil {
		nc.Close()
		t.Fatal("a third connection of an account limited to 2 was accepted")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "maximum account active connections exceeded") {
		t.Fatalf("third connection: %v", err)
	}
	// The server sends -ERR 'maximum subscriptions exceeded' for the third
	// subscription; this nats.go closes the connection on it.
	for k := 0; k < 3; k++ {
		a.SubscribeSync("s." + string(rune('a'+k)))
	}
	a.Flush()
	select {
	case <-aClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("no error for a subscription over the account's limit")
	}
	if le := a.LastError(); le == nil || !strings.Contains(strings.ToLower(le.Error()), "maximum subscriptions exceeded") {
		t.Fatalf("last error %v, want maximum subscriptions exceeded", le)
	}
	// A payload over the account's max_payload closes the connection
	// (a's slot is free again once the server saw it go).
	var p *nats.Conn
	closed := make(chan struct{})
	for k := 0; k < 100 && p == nil; k++ {
		p, err = nats.Connect(s.url(), nats.UserInfo("l", "l"), nats.NoReconnect(),
			nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
		if err != nil {
			p = nil
			time.Sleep(20 * time.Millisecond)
		}
	}
	if p == nil {
		t.Fatalf("no connection after one of two closed: %v", err)
	}
	t.Cleanup(p.Close)
	must(t, p.Publish("big", make([]byte, 200)))
	p.Flush()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("a payload over the account's max_payload did not close the connection")
	}
	if le := p.LastError(); le == nil || !strings.Contains(strings.ToLower(le.Error()), "maximum payload violation") {
		t.Fatalf("last error %v, want maximum payload violation", le)
	}
}

func startServerBin(t *testing.T) string {
	return serverBin(t)
}

func writeFile(path, text string) error {
	return os.WriteFile(path, []byte(text), 0644)
}

const sysConf = `
accounts: {
  A: { users: [ {user: a, password: a} ] }
  SYS: { users: [ {user: sys, password: sys} ] }
}
system_account: SYS
`

type advisory struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Server    struct {
		Name string `json:"name"`
		ID   string `json:"id"`
		Ver  string `json:"ver"`
		Seq  uint64 `json:"seq"`
	} `json:"server"`
	Client struct {
		ID   uint64 `json:"id"`
		Acc  string `json:"acc"`
		User string `json:"user"`
		Name string `json:"name"`
		Lang string `json:"lang"`
		Host string `json:"host"`
		Kind string `json:"kind"`
	} `json:"client"`
	Sent struct {
		Msgs  int64 `json:"msgs"`
		Bytes int64 `json:"bytes"`
	} `json:"sent"`
	Received struct {
		Msgs  int64 `json:"msgs"`
		Bytes int64 `json:"bytes"`
	} `json:"received"`
	Reason string `json:"reason"`
}

func TestSystemAccountEvents(t *testing.T) {
	s := startServerConf(t, sysConf)
	sys := connect(t, s, nats.UserInfo("sys", "sys"))
	sub, err := sys.SubscribeSync("$SYS.ACCOUNT.A.*")
	must(t, err)
	conns, err := sys.SubscribeSync("$SYS.ACCOUNT.A.SERVER.CONNS")
	must(t, err)
	must(t, sys.Flush())

	a := connect(t, s, nats.UserInfo("a", "a"), nats.Name("client-a"))
	must(t, a.Publish("x", []byte("hello")))
	must(t, a.Flush())
	a.Close()

	var got []advisory
	for len(got) < 2 {
		m, err := sub.NextMsg(5 * time.Second)
		must(t, err)
		var adv advisory
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			t.Fatalf("%s: %v: %s", m.Subject, err, m.Data)
		}
		want := "$SYS.ACCOUNT.A.CONNECT"
		if len(got) == 1 {
			want = "$SYS.ACCOUNT.A.DISCONNECT"
		}
		if m.Subject != want {
			t.Fatalf("advisory %d on %q, want %q", len(got), m.Subject, want)
		}
		got = append(got, adv)
	}
	c, d := got[0], got[1]
	if c.Type != "io.nats.server.advisory.v1.client_connect" ||
		d.Type != "io.nats.server.advisory.v1.client_disconnect" {
		t.Fatalf("types %q %q", c.Type, d.Type)
	}
	for _, adv := range got {
		if adv.ID == "" || adv.Timestamp == "" || adv.Server.ID == "" || adv.Server.Name == "" {
			t.Fatalf("missing id/timestamp/server: %+v", adv)
		}
		if adv.Client.Acc != "A" || adv.Client.User != "a" || adv.Client.Name != "client-a" ||
			adv.Client.Lang != "go" || adv.Client.Host != "127.0.0.1" || adv.Client.ID == 0 {
			t.Fatalf("client info: %+v", adv.Client)
		}
	}
	if c.Client.ID != d.Client.ID {
		t.Fatalf("client ids differ: %d %d", c.Client.ID, d.Client.ID)
	}
	// The account's connection count follows.
	m, err := conns.NextMsg(5 * time.Second)
	must(t, err)
	var ac struct {
		Type  string `json:"type"`
		Acc   string `json:"acc"`
		Conns int    `json:"conns"`
	}
	if err := json.Unmarshal(m.Data, &ac); err != nil {
		t.Fatalf("%v: %s", err, m.Data)
	}
	if ac.Type != "io.nats.server.advisory.v1.account_connections" || ac.Acc != "A" || ac.Conns != 1 {
		t.Fatalf("account connections: %s", m.Data)
	}
	// From the client's side: it sent one 5-byte message, received none.
	if d.Reason != "Client Closed" || d.Sent.Msgs != 1 || d.Sent.Bytes != 5 || d.Received.Msgs != 0 {
		t.Fatalf("disconnect: reason %q sent %+v received %+v", d.Reason, d.Sent, d.Received)
	}
}

func TestSystemServerPing(t *testing.T) {
	s := startServerConf(t, sysConf)
	sys := connect(t, s, nats.UserInfo("sys", "sys"))
	connect(t, s, nats.UserInfo("a", "a"))
	r, err := sys.Request("$SYS.REQ.SERVER.PING", nil, 5*time.Second)
	must(t, err)
	var st struct {
		Server struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"server"`
		Statsz struct {
			Start       string `json:"start"`
			Connections int    `json:"connections"`
			Total       int    `json:"total_connections"`
			Mem         int64  `json:"mem"`
			Cores       int    `json:"cores"`
		} `json:"statsz"`
	}
	if err := json.Unmarshal(r.Data, &st); err != nil {
		t.Fatalf("%v: %s", err, r.Data)
	}
	if st.Server.ID == "" || st.Statsz.Start == "" || st.Statsz.Connections != 2 ||
		st.Statsz.Total < 2 || st.Statsz.Mem <= 0 || st.Statsz.Cores <= 0 {
		t.Fatalf("statsz: %s", r.Data)
	}
	// The same server by its id.
	r, err = sys.Request("$SYS.REQ.SERVER."+st.Server.ID+".STATSZ", nil, 5*time.Second)
	must(t, err)
	if !strings.Contains(string(r.Data), `"statsz"`) {
		t.Fatalf("STATSZ by id: %s", r.Data)
	}
	// The account's connection count.
	r, err = sys.Request("$SYS.REQ.ACCOUNT.A.CONNS", nil, 5*time.Second)
	must(t, err)
	var ac struct {
		Acc   string `json:"acc"`
		Conns int    `json:"conns"`
	}
	if err := json.Unmarshal(r.Data, &ac); err != nil || ac.Acc != "A" || ac.Conns != 1 {
		t.Fatalf("account CONNS: %v %s", err, r.Data)
	}
	// Not a system account user: nothing answers.
	a := connect(t, s, nats.UserInfo("a", "a"))
	if _, err := a.Request("$SYS.REQ.SERVER.PING", nil, 300*time.Millisecond); err == nil {
		t.Fatal("an account A user got a $SYS answer")
	}
}

// nats-server 2.9.10 sends no "503 no responders" for a request that a
// service import carried to an exporter without responders: the requester
// times out.  modnats does the same.
func TestServiceImportNoResponders(t *testing.T) {
	s := startServerConf(t, accountsConf)
	i := userConn(t, s, "i")
	_, err := i.Request("x", []byte("anyone?"), 500*time.Millisecond)
	if err != nats.ErrTimeout {
		t.Fatalf("request to an imported service nobody serves: %v, want a timeout", err)
	}
}

// Chunked: answers flow until an empty one; stream with a threshold:
// answers after the threshold are dropped.
func TestServiceImportChunkedAndThreshold(t *testing.T) {
	s := startServerConf(t, accountsConf)
	e, i := userConn(t, s, "e"), userConn(t, s, "i")
	_, err := e.Subscribe("ch.q", func(m *nats.Msg) {
		m.Respond([]byte("a"))
		m.Respond([]byte("b"))
		m.Respond(nil)
		m.Respond([]byte("after the end"))
	})
	must(t, err)
	late := make(chan string, 1)
	_, err = e.Subscribe("th.q", func(m *nats.Msg) {
		m.Respond([]byte("early"))
		late <- m.Reply
	})
	must(t, err)
	flushAll(t, e)

	inbox, err := i.SubscribeSync("ch.inbox")
	must(t, err)
	flushAll(t, i)
	must(t, i.PublishRequest("ch.q", "ch.inbox", nil))
	flushAll(t, i)
	for _, want := range []string{"a", "b", ""} {
		m, err := inbox.NextMsg(5 * time.Second)
		must(t, err)
		if string(m.Data) != want {
			t.Fatalf("chunk %q, want %q", m.Data, want)
		}
	}
	flushAll(t, e, i)
	time.Sleep(100 * time.Millisecond)
	flushAll(t, i)
	if n := pending(t, inbox); n != 0 {
		t.Fatalf("%d chunks after the empty one", n)
	}

	tin, err := i.SubscribeSync("th.inbox")
	must(t, err)
	flushAll(t, i)
	must(t, i.PublishRequest("th.q", "th.inbox", nil))
	m, err := tin.NextMsg(5 * time.Second)
	must(t, err)
	if string(m.Data) != "early" {
		t.Fatalf("got %q", m.Data)
	}
	reply := <-late
	time.Sleep(1500 * time.Millisecond)
	must(t, e.Publish(reply, []byte("too late")))
	flushAll(t, e, i)
	time.Sleep(100 * time.Millisecond)
	flushAll(t, i)
	if n := pending(t, tin); n != 0 {
		t.Fatalf("%d answers after the response threshold", n)
	}
}

// Two servers clustered: a stream import and a service import whose
// exporter's clients are on the other server.  Both of the server under
// test, and (when it is modnats) modnats beside nats-server.
func TestImportsAcrossRoutes(t *testing.T) {
	importsAcrossRoutes(t, serverBin(t), serverBin(t))
}

func TestImportsMixedCluster(t *testing.T) {
	ref := "/usr/sbin/nats-server"
	if isNatsServer(serverBin(t)) {
		t.Skip("the server under test is nats-server itself")
	}
	if _, err := os.Stat(ref); err != nil {
		t.Skip("no nats-server to cluster with")
	}
	importsAcrossRoutes(t, serverBin(t), ref)
	importsAcrossRoutes(t, ref, serverBin(t))
}

func importsAcrossRoutes(t *testing.T, bin1, bin2 string) {
	p1, p2 := freePort(t), freePort(t)
	cl := func(me, other int) string {
		return accountsConf + fmt.Sprintf(`
cluster: { name: ACC, listen: "127.0.0.1:%d", routes: ["nats-route://127.0.0.1:%d"] }
`, me, other)
	}
	s1 := startServerConfBin(t, bin1, cl(p1, p2))
	s2 := startServerConfBin(t, bin2, cl(p2, p1))
	e1, i2 := userConn(t, s1, "e"), userConn(t, s2, "i")

	// stream: E publishes on server 1, I subscribes on server 2
	si, err := i2.SubscribeSync("from_e.a.>")
	must(t, err)
	flushAll(t, i2)
	deadline := time.Now().Add(10 * time.Second)
	var got *nats.Msg
	for got == nil && time.Now().Before(deadline) {
		must(t, e1.Publish("a.probe", []byte("p")))
		flushAll(t, e1)
		got, _ = si.NextMsg(100 * time.Millisecond)
	}
	if got == nil || got.Subject != "from_e.a.probe" {
		t.Fatalf("the stream import did not cross the route: %v", got)
	}

	// service: the responder in E is on server 1, the requester in I on 2
	_, err = e1.Subscribe("svc.x", func(m *nats.Msg) { m.Respond([]byte("ok:" + string(m.Data))) })
	must(t, err)
	flushAll(t, e1)
	var r *nats.Msg
	for r == nil && time.Now().Before(deadline) {
		r, _ = i2.Request("x", []byte("q"), 200*time.Millisecond)
	}
	if r == nil || string(r.Data) != "ok:q" {
		t.Fatalf("the service import did not cross the route: %v", r)
	}
}

// A reload that lowers an account's max_connections closes the newest
// connections over it, with nats-server's text.
func TestAccountLimitsLoweredOnReload(t *testing.T) {
	conf := func(n int) string {
		return fmt.Sprintf(`
accounts: {
  L: {
    users: [ {user: l, password: l} ]
    limits: { max_connections: %d }
  }
}
`, n)
	}
	s := startServerConf(t, conf(3))
	var conns []*nats.Conn
	closed := make([]chan struct{}, 3)
	for k := 0; k < 3; k++ {
		ch := make(chan struct{})
		closed[k] = ch
		conns = append(conns, connect(t, s, nats.UserInfo("l", "l"),
			nats.ClosedHandler(func(*nats.Conn) { close(ch) })))
		must(t, conns[k].Flush())
	}
	must(t, writeFile(s.conf, conf(1)))
	must(t, s.cmd.Process.Signal(syscall.SIGHUP))
	for k := 1; k < 3; k++ {
		select {
		case <-closed[k]:
		case <-time.After(10 * time.Second):
			t.Fatalf("connection %d (newer) still open after the reload", k)
		}
		if le := conns[k].LastError(); le == nil ||
			!strings.Contains(strings.ToLower(le.Error()), "maximum account active connections exceeded") {
			t.Fatalf("connection %d closed with %v", k, le)
		}
	}
	// nats-server 2.9.10 re-registers every client into the reloaded
	// account and so closes all three, the oldest too; modnats (and
	// nats-server for JWT account updates) keeps the oldest within the limit.
	if isNatsServer(serverBin(t)) {
		return
	}
	if err := conns[0].Flush(); err != nil {
		t.Fatalf("the oldest connection: %v (last error %v)", err, conns[0].LastError())
	}
}

// $SYS.REQ.SERVER.PING.VARZ / .CONNZ and $SYS.REQ.ACCOUNT.<acc>.CONNZ,
// with the HTTP monitor on (modnats answers from the monitor module).
func TestSystemMonitorRequests(t *testing.T) {
	s := startServerConf(t, sysConf+fmt.Sprintf("\nhttp_port: %d\n", freePort(t)))
	sys := connect(t, s, nats.UserInfo("sys", "sys"))
	connect(t, s, nats.UserInfo("a", "a"), nats.Name("in-a"))
	var v struct {
		Server struct {
			ID string `json:"id"`
		} `json:"server"`
		Data struct {
			ServerID    string `json:"server_id"`
			Connections int    `json:"connections"`
			NumConns    int    `json:"num_connections"`
			Conns       []struct {
				Name    string `json:"name"`
				Account string `json:"account"`
			} `json:"connections_list"`
		} `json:"data"`
	}
	r, err := sys.Request("$SYS.REQ.SERVER.PING.VARZ", nil, 5*time.Second)
	must(t, err)
	must(t, json.Unmarshal(r.Data, &v))
	if v.Server.ID == "" || v.Data.ServerID != v.Server.ID || v.Data.Connections != 2 {
		t.Fatalf("VARZ: %s", r.Data)
	}
	r, err = sys.Request("$SYS.REQ.SERVER."+v.Server.ID+".CONNZ", nil, 5*time.Second)
	must(t, err)
	var c struct {
		Data struct {
			NumConns int `json:"num_connections"`
		} `json:"data"`
	}
	must(t, json.Unmarshal(r.Data, &c))
	if c.Data.NumConns != 2 {
		t.Fatalf("CONNZ: %s", r.Data)
	}
	r, err = sys.Request("$SYS.REQ.ACCOUNT.A.CONNZ", nil, 5*time.Second)
	must(t, err)
	if !strings.Contains(string(r.Data), `"in-a"`) || strings.Contains(string(r.Data), `"sys"`) {
		t.Fatalf("account CONNZ: %s", r.Data)
	}
}

// no_system_account: no $SYS events or answers.
func TestNoSystemAccount(t *testing.T) {
	s := startServerConf(t, `
no_system_account: true
accounts: { A: { users: [ {user: a, password: a} ] } }
`)
	a := connect(t, s, nats.UserInfo("a", "a"))
	if _, err := a.Request("$SYS.REQ.SERVER.PING", nil, 300*time.Millisecond); err == nil {
		t.Fatal("a PING was answered without a system account")
	}
}
