// client_test.go - nats.go against the server under test: pub/sub with
// wildcards, queue groups delivering exactly once, request/reply, headers,
// no_responders, and reconnecting after a server restart.
//
// Counts are exact without sleeps: after a publisher's Flush the server has
// routed its messages, and after a subscriber's Flush they are queued in its
// subscriptions.
package integration

import (
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func connect(t *testing.T, s *server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{nats.Timeout(5 * time.Second), nats.NoReconnect()}, opts...)
	nc, err := nats.Connect(s.url(), opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", s.url(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func pending(t *testing.T, sub *nats.Subscription) int {
	t.Helper()
	n, _, err := sub.Pending()
	must(t, err)
	return n
}

func TestPubSub(t *testing.T) {
	s := startServer(t)
	sc, pc := connect(t, s), connect(t, s)
	exact, err := sc.SubscribeSync("orders.new")
	must(t, err)
	star, err := sc.SubscribeSync("orders.*")
	must(t, err)
	full, err := sc.SubscribeSync("orders.>")
	must(t, err)
	must(t, sc.Flush())

	for i := 0; i < 100; i++ {
		must(t, pc.Publish("orders.new", []byte(strconv.Itoa(i))))
	}
	must(t, pc.Publish("orders.old", []byte("x")))
	must(t, pc.Publish("orders.new.eu", []byte("y")))
	must(t, pc.Flush())
	must(t, sc.Flush())

	for _, c := range []struct {
		sub  *nats.Subscription
		want int
	}{{exact, 100}, {star, 101}, {full, 102}} {
		if got := pending(t, c.sub); got != c.want {
			t.Errorf("%s: %d messages, want %d", c.sub.Subject, got, c.want)
		}
	}
	for i := 0; i < 100; i++ {
		m, err := exact.NextMsg(5 * time.Second)
		must(t, err)
		if string(m.Data) != strconv.Itoa(i) {
			t.Fatalf("message %d: got %q (out of order?)", i, m.Data)
		}
	}
}

func TestQueueExactlyOnce(t *testing.T) {
	const members, n = 4, 2000
	s := startServer(t)
	pc := connect(t, s)
	var conns []*nats.Conn
	var subs []*nats.Subscription
	for i := 0; i < members; i++ {
		nc := connect(t, s)
		sub, err := nc.QueueSubscribeSync("work", "pool")
		must(t, err)
		must(t, sub.SetPendingLimits(-1, -1))
		must(t, nc.Flush())
		conns, subs = append(conns, nc), append(subs, sub)
	}
	for i := 0; i < n; i++ {
		must(t, pc.Publish("work", []byte(strconv.Itoa(i))))
	}
	must(t, pc.Flush())

	seen := make([]int, n)
	total := 0
	for i, sub := range subs {
		must(t, conns[i].Flush())
		got := pending(t, sub)
		if got == 0 {
			t.Errorf("member %d received nothing", i)
		}
		for k := 0; k < got; k++ {
			m, err := sub.NextMsg(5 * time.Second)
			must(t, err)
			seq, err := strconv.Atoi(string(m.Data))
			must(t, err)
			seen[seq]++
		}
		total += got
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("message %d delivered %d times", i, c)
		}
	}
	if total != n {
		t.Fatalf("queue group received %d messages, want %d", total, n)
	}
}

func TestRequestReply(t *testing.T) {
	s := startServer(t)
	rc, nc := connect(t, s), connect(t, s)
	_, err := rc.Subscribe("svc.add", func(m *nats.Msg) {
		v, _ := strconv.Atoi(string(m.Data))
		m.Respond([]byte(strconv.Itoa(v + 1)))
	})
	must(t, err)
	// a queue-group responder pair: still one reply per request
	for i := 0; i < 2; i++ {
		_, err := rc.QueueSubscribe("svc.q", "g", func(m *nats.Msg) { m.Respond([]byte("q")) })
		must(t, err)
	}
	must(t, rc.Flush())
	for i := 0; i < 50; i++ {
		m, err := nc.Request("svc.add", []byte(strconv.Itoa(i)), 5*time.Second)
		must(t, err)
		if string(m.Data) != strconv.Itoa(i+1) {
			t.Fatalf("request %d: reply %q", i, m.Data)
		}
	}
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	must(t, err)
	for i := 0; i < 20; i++ {
		must(t, nc.PublishRequest("svc.q", inbox, nil))
	}
	must(t, nc.Flush())
	for i := 0; i < 20; i++ {
		_, err := sub.NextMsg(5 * time.Second)
		must(t, err)
	}
	must(t, rc.Flush())
	must(t, nc.Flush())
	if got := pending(t, sub); got != 0 {
		t.Fatalf("%d extra replies from a queue group", got)
	}
}

func TestHeaders(t *testing.T) {
	s := startServer(t)
	sc, pc := connect(t, s), connect(t, s)
	if !pc.HeadersSupported() {
		t.Fatal("server does not announce header support")
	}
	sub, err := sc.SubscribeSync("hdr")
	must(t, err)
	must(t, sc.Flush())
	out := nats.NewMsg("hdr")
	out.Header.Set("X-Id", "42")
	out.Header.Add("X-Multi", "a")
	out.Header.Add("X-Multi", "b")
	out.Data = []byte("payload")
	must(t, pc.PublishMsg(out))
	in, err := sub.NextMsg(5 * time.Second)
	must(t, err)
	if in.Header.Get("X-Id") != "42" || fmt.Sprint(in.Header.Values("X-Multi")) != "[a b]" || string(in.Data) != "payload" {
		t.Fatalf("received header %v data %q", in.Header, in.Data)
	}
}

func TestNoResponders(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	_, err := nc.Request("nobody.listens", []byte("hi"), 10*time.Second)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request without responders: %v, want %v", err, nats.ErrNoResponders)
	}
	must(t, nc.Flush())
}

func TestReconnect(t *testing.T) {
	s := startServer(t)
	var disconnects, reconnects int32
	nc := connect(t, s,
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectJitter(0, 0),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { atomic.AddInt32(&disconnects, 1) }),
		nats.ReconnectHandler(func(*nats.Conn) { atomic.AddInt32(&reconnects, 1) }),
		// undo the NoReconnect that connect() puts first
		func(o *nats.Options) error { o.AllowReconnect = true; return nil })
	sub, err := nc.SubscribeSync("survive")
	must(t, err)
	must(t, nc.Publish("survive", []byte("before")))
	_, err = sub.NextMsg(5 * time.Second)
	must(t, err)

	s.restart()
	deadline := time.Now().Add(15 * time.Second)
	for atomic.LoadInt32(&reconnects) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if atomic.LoadInt32(&disconnects) == 0 || atomic.LoadInt32(&reconnects) != 1 {
		t.Fatalf("disconnects %d reconnects %d, want >0 and 1", disconnects, reconnects)
	}
	must(t, nc.Flush())
	pc := connect(t, s)
	for i := 0; i < 10; i++ {
		must(t, pc.Publish("survive", []byte("after")))
	}
	must(t, pc.Flush())
	must(t, nc.Flush())
	if got := pending(t, sub); got != 10 {
		t.Fatalf("after reconnect the subscription holds %d messages, want 10", got)
	}
}
