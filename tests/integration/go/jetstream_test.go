// jetstream_test.go - nats.go's JetStream API against the server under test
// started with -js -sd <temp dir>: streams (create, update, info, names,
// list, delete), publishing with acks and the expected-* options and their
// error codes, the duplicate window, limits and discard policies, GetMsg
// (also direct), DeleteMsg, purges, and state surviving a restart.  The
// same tests run against nats-server -js (MN_TEST_SERVER), which is how the
// error codes and numbers below were checked.
package integration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func startJS(t *testing.T) *server {
	t.Helper()
	return startServer(t, "-js", "-sd", t.TempDir())
}

func jsCtx(t *testing.T, nc *nats.Conn) nats.JetStreamContext {
	t.Helper()
	js, err := nc.JetStream(nats.MaxWait(5 * time.Second))
	must(t, err)
	return js
}

// apiCode is the JetStream err_code of err, or 0.
func apiCode(err error) int {
	var ae *nats.APIError
	if errors.As(err, &ae) {
		return int(ae.ErrorCode)
	}
	return 0
}

func wantCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want err_code %d", what, code)
	}
	if got := apiCode(err); got != code {
		t.Fatalf("%s: %v (err_code %d), want err_code %d", what, err, got, code)
	}
}

func info(t *testing.T, js nats.JetStreamContext, name string) *nats.StreamInfo {
	t.Helper()
	si, err := js.StreamInfo(name)
	must(t, err)
	return si
}

func TestJSInfoFlag(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	ai, err := jsCtx(t, nc).AccountInfo()
	must(t, err)
	if ai.Streams != 0 {
		t.Fatalf("fresh server has %d streams", ai.Streams)
	}
}

func TestJSStreamLifecycle(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)

	cfg := &nats.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}
	si, err := js.AddStream(cfg)
	must(t, err)
	if si.Config.Retention != nats.LimitsPolicy || si.Config.MaxMsgs != -1 ||
		si.Config.Duplicates != 2*time.Minute || si.Config.Storage != nats.FileStorage ||
		si.Config.Replicas != 1 {
		t.Fatalf("defaults not filled in: %+v", si.Config)
	}
	// The same configuration again is fine; another one is not.
	_, err = js.AddStream(cfg)
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "ORDERS", Subjects: []string{"other"}})
	wantCode(t, "same name, other config", err, 10058)
	_, err = js.AddStream(&nats.StreamConfig{Name: "OVER", Subjects: []string{"orders.eu"}})
	wantCode(t, "overlapping subjects", err, 10065)
	_, err = js.AddStream(&nats.StreamConfig{Name: "R3", Replicas: 3})
	wantCode(t, "replicas", err, 10074)
	_, err = js.StreamInfo("NOPE")
	wantCode(t, "info of a missing stream", err, 10059)

	for i := 1; i <= 10; i++ {
		ack, err := js.Publish("orders.new", []byte(fmt.Sprint(i)))
		must(t, err)
		if ack.Stream != "ORDERS" || ack.Sequence != uint64(i) || ack.Duplicate {
			t.Fatalf("ack %d: %+v", i, ack)
		}
	}
	si = info(t, js, "ORDERS")
	// nats-server's file store counts 22+len(subject)+len(data)+8 per message.
	if si.State.Msgs != 10 || si.State.FirstSeq != 1 || si.State.LastSeq != 10 ||
		si.State.Bytes != 10*(22+10+8)+11 || si.State.NumSubjects != 1 {
		t.Fatalf("state after 10 publishes: %+v", si.State)
	}

	_, err = js.AddStream(&nats.StreamConfig{Name: "MEM", Subjects: []string{"mem.*"},
		Storage: nats.MemoryStorage})
	must(t, err)
	names := []string{}
	for n := range js.StreamNames() {
		names = append(names, n)
	}
	if fmt.Sprint(names) != "[MEM ORDERS]" {
		t.Fatalf("stream names %v", names)
	}
	n := 0
	for range js.Streams() {
		n++
	}
	if n != 2 {
		t.Fatalf("stream list has %d entries", n)
	}

	// Lowering max_msgs drops the oldest at once.
	cfg.MaxMsgs = 4
	si, err = js.UpdateStream(cfg)
	must(t, err)
	if si.State.Msgs != 4 || si.State.FirstSeq != 7 {
		t.Fatalf("after max_msgs 4: %+v", si.State)
	}
	_, err = js.UpdateStream(&nats.StreamConfig{Name: "MISSING"})
	wantCode(t, "update of a missing stream", err, 10059)
	_, err = js.UpdateStream(&nats.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"},
		Storage: nats.MemoryStorage})
	if err == nil {
		t.Fatal("storage type changed by an update")
	}

	must(t, js.DeleteStream("ORDERS"))
	wantCode(t, "delete twice", js.DeleteStream("ORDERS"), 10059)
	// Nothing captures orders.* now: a JetStream publish gets no responders.
	if _, err := js.Publish("orders.new", []byte("x")); !errors.Is(err, nats.ErrNoStreamResponse) {
		t.Fatalf("publish to a deleted stream: %v", err)
	}
}

func TestJSPublishExpectations(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "E", Subjects: []string{"e.*"}, MaxMsgSize: 100})
	must(t, err)

	_, err = js.Publish("e.a", []byte("1"), nats.ExpectStream("E"))
	must(t, err)
	_, err = js.Publish("e.a", []byte("x"), nats.ExpectStream("OTHER"))
	wantCode(t, "expected stream", err, 10060)

	_, err = js.Publish("e.b", []byte("2"), nats.ExpectLastSequence(1))
	must(t, err)
	_, err = js.Publish("e.b", []byte("x"), nats.ExpectLastSequence(1))
	wantCode(t, "expected last sequence", err, 10071)
	if err.Error() != "nats: wrong last sequence: 2" {
		t.Fatalf("description: %q", err.Error())
	}

	_, err = js.Publish("e.a", []byte("3"), nats.ExpectLastSequencePerSubject(1))
	must(t, err)
	_, err = js.Publish("e.a", []byte("x"), nats.ExpectLastSequencePerSubject(1))
	wantCode(t, "expected last subject sequence", err, 10071)
	_, err = js.Publish("e.new", []byte("4"), nats.ExpectLastSequencePerSubject(0))
	must(t, err)

	// The duplicate window.
	a1, err := js.Publish("e.a", []byte("5"), nats.MsgId("m-5"))
	must(t, err)
	a2, err := js.Publish("e.a", []byte("5 again"), nats.MsgId("m-5"))
	must(t, err)
	if !a2.Duplicate || a2.Sequence != a1.Sequence || a1.Duplicate {
		t.Fatalf("duplicate: first %+v, second %+v", a1, a2)
	}
	_, err = js.Publish("e.a", []byte("6"), nats.ExpectLastMsgId("m-5"), nats.MsgId("m-6"))
	must(t, err)
	_, err = js.Publish("e.a", []byte("x"), nats.ExpectLastMsgId("m-5"))
	wantCode(t, "expected last msg id", err, 10070)

	big := make([]byte, 101)
	_, err = js.Publish("e.a", big)
	wantCode(t, "max_msg_size", err, 10054)

	si := info(t, js, "E")
	if si.State.Msgs != 6 || si.State.LastSeq != 6 {
		t.Fatalf("state: %+v", si.State)
	}
}

func TestJSLimits(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)

	// Per subject: the oldest of that subject goes.
	_, err := js.AddStream(&nats.StreamConfig{Name: "PS", Subjects: []string{"ps.*"},
		MaxMsgsPerSubject: 2})
	must(t, err)
	for i := 0; i < 5; i++ {
		_, err = js.Publish("ps.x", []byte(fmt.Sprint(i)))
		must(t, err)
	}
	_, err = js.Publish("ps.y", []byte("y"))
	must(t, err)
	si := info(t, js, "PS")
	if si.State.Msgs != 3 || si.State.FirstSeq != 4 || si.State.LastSeq != 6 {
		t.Fatalf("per-subject limit: %+v", si.State)
	}
	m, err := js.GetLastMsg("PS", "ps.x")
	must(t, err)
	if m.Sequence != 5 || string(m.Data) != "4" {
		t.Fatalf("last of ps.x: seq %d %q", m.Sequence, m.Data)
	}

	// Discard new.
	_, err = js.AddStream(&nats.StreamConfig{Name: "DN", Subjects: []string{"dn"}, MaxMsgs: 2,
		Discard: nats.DiscardNew})
	must(t, err)
	for i := 0; i < 2; i++ {
		_, err = js.Publish("dn", []byte("x"))
		must(t, err)
	}
	_, err = js.Publish("dn", []byte("x"))
	wantCode(t, "discard new, max_msgs", err, 10077)
	if err.Error() != "nats: maximum messages exceeded" {
		t.Fatalf("description: %q", err.Error())
	}

	// max_bytes, discard old: the oldest go.
	_, err = js.AddStream(&nats.StreamConfig{Name: "MB", Subjects: []string{"mb"}, MaxBytes: 100})
	must(t, err)
	for i := 0; i < 5; i++ {
		_, err = js.Publish("mb", []byte("0123456789"))
		must(t, err)
	}
	si = info(t, js, "MB")
	if si.State.Msgs != 2 || si.State.Bytes != 2*(22+2+10+8) || si.State.LastSeq != 5 {
		t.Fatalf("max_bytes: %+v", si.State)
	}

	// max_age: expired messages disappear by themselves.
	_, err = js.AddStream(&nats.StreamConfig{Name: "AGE", Subjects: []string{"age"},
		MaxAge: time.Second, Storage: nats.MemoryStorage})
	must(t, err)
	for i := 0; i < 3; i++ {
		_, err = js.Publish("age", []byte("x"))
		must(t, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for info(t, js, "AGE").State.Msgs != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("max_age 1s: still %d messages after 10 s", info(t, js, "AGE").State.Msgs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if si = info(t, js, "AGE"); si.State.FirstSeq != 4 || si.State.LastSeq != 3 {
		t.Fatalf("after expiry: %+v", si.State)
	}
}

func TestJSGetDeletePurge(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "G", Subjects: []string{"g.>"},
		AllowDirect: true})
	must(t, err)
	for i := 1; i <= 10; i++ {
		m := nats.NewMsg(fmt.Sprintf("g.%d", i%3))
		m.Header.Set("X-Index", fmt.Sprint(i))
		m.Data = []byte(fmt.Sprint("body ", i))
		_, err = js.PublishMsg(m)
		must(t, err)
	}
	m, err := js.GetMsg("G", 3)
	must(t, err)
	if m.Subject != "g.0" || string(m.Data) != "body 3" || m.Header.Get("X-Index") != "3" {
		t.Fatalf("GetMsg 3: %s %q %v", m.Subject, m.Data, m.Header)
	}
	m, err = js.GetMsg("G", 4, nats.DirectGet())
	must(t, err)
	if m.Subject != "g.1" || string(m.Data) != "body 4" || m.Header.Get("X-Index") != "4" {
		t.Fatalf("direct GetMsg 4: %s %q %v", m.Subject, m.Data, m.Header)
	}
	m, err = js.GetLastMsg("G", "g.2", nats.DirectGet())
	must(t, err)
	if m.Sequence != 8 {
		t.Fatalf("direct last of g.2: %d", m.Sequence)
	}
	_, err = js.GetMsg("G", 99)
	wantCode(t, "GetMsg past the end", err, 10037)
	if _, err = js.GetMsg("G", 99, nats.DirectGet()); !errors.Is(err, nats.ErrMsgNotFound) {
		t.Fatalf("direct GetMsg past the end: %v", err)
	}

	must(t, js.DeleteMsg("G", 3))
	_, err = js.GetMsg("G", 3)
	wantCode(t, "GetMsg of a deleted message", err, 10037)
	if err := js.DeleteMsg("G", 3); err == nil {
		t.Fatal("deleting a message twice")
	}
	must(t, js.DeleteMsg("G", 1)) // the first: first_seq moves on
	si := info(t, js, "G")
	if si.State.Msgs != 8 || si.State.FirstSeq != 2 || si.State.NumDeleted != 1 {
		t.Fatalf("after deletes: %+v", si.State)
	}

	// g.1 holds 4, 7, 10: keep the newest one.
	must(t, js.PurgeStream("G", &nats.StreamPurgeRequest{Subject: "g.1", Keep: 1}))
	if si = info(t, js, "G"); si.State.Msgs != 6 {
		t.Fatalf("after purge g.1 keep 1: %+v", si.State)
	}
	// Up to (not including) seq 6: 2 and 5 go.
	must(t, js.PurgeStream("G", &nats.StreamPurgeRequest{Sequence: 6}))
	if si = info(t, js, "G"); si.State.Msgs != 4 || si.State.FirstSeq != 6 {
		t.Fatalf("after purge to 6: %+v", si.State)
	}
	must(t, js.PurgeStream("G"))
	if si = info(t, js, "G"); si.State.Msgs != 0 || si.State.FirstSeq != 11 ||
		si.State.LastSeq != 10 {
		t.Fatalf("after full purge: %+v", si.State)
	}
	ack, err := js.Publish("g.1", []byte("after"))
	must(t, err)
	if ack.Sequence != 11 {
		t.Fatalf("first publish after purge: seq %d", ack.Sequence)
	}
}

func TestJSRestart(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "R", Subjects: []string{"r.*"},
		MaxMsgsPerSubject: 10})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "RM", Subjects: []string{"rm"},
		Storage: nats.MemoryStorage})
	must(t, err)
	for i := 1; i <= 100; i++ {
		_, err = js.Publish(fmt.Sprintf("r.%d", i%4), []byte(fmt.Sprint(i)),
			nats.MsgId(fmt.Sprint("id-", i)))
		must(t, err)
	}
	_, err = js.Publish("rm", []byte("gone"))
	must(t, err)
	must(t, js.DeleteMsg("R", 99))
	before := info(t, js, "R")
	nc.Close()

	s.restart()
	nc = connect(t, s)
	js = jsCtx(t, nc)
	after := info(t, js, "R")
	if after.State.Msgs != before.State.Msgs || after.State.FirstSeq != before.State.FirstSeq ||
		after.State.LastSeq != 100 || after.State.Bytes != before.State.Bytes ||
		after.State.NumSubjects != 4 || before.State.NumSubjects != 4 ||
		after.Config.MaxMsgsPerSubject != 10 {
		t.Fatalf("state changed by a restart: before %+v, after %+v", before.State, after.State)
	}
	m, err := js.GetLastMsg("R", "r.1")
	must(t, err)
	if m.Sequence != 97 || string(m.Data) != "97" {
		t.Fatalf("last of r.1 after restart: %d %q", m.Sequence, m.Data)
	}
	// The duplicate window survives too.
	ack, err := js.Publish("r.0", []byte("dup"), nats.MsgId("id-100"))
	must(t, err)
	if !ack.Duplicate || ack.Sequence != 100 {
		t.Fatalf("duplicate after restart: %+v", ack)
	}
	ack, err = js.Publish("r.0", []byte("next"))
	must(t, err)
	if ack.Sequence != 101 {
		t.Fatalf("publish after restart: seq %d", ack.Sequence)
	}
	// A memory stream does not outlive the process.
	_, err = js.StreamInfo("RM")
	wantCode(t, "memory stream after restart", err, 10059)
}

// KV on top of streams: put, get, update with revision, create of an
// existing key, delete (what needs no consumer).
func TestJSKeyValueBasics(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	kv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "cfg", History: 3})
	must(t, err)
	r1, err := kv.Put("a", []byte("1"))
	must(t, err)
	r2, err := kv.Update("a", []byte("2"), r1)
	must(t, err)
	if _, err := kv.Update("a", []byte("x"), r1); err == nil {
		t.Fatal("update with a stale revision succeeded")
	}
	if _, err := kv.Create("a", []byte("x")); !errors.Is(err, nats.ErrKeyExists) {
		t.Fatalf("create of an existing key: %v", err)
	}
	e, err := kv.Get("a")
	must(t, err)
	if string(e.Value()) != "2" || e.Revision() != r2 {
		t.Fatalf("get a: %q rev %d, want \"2\" rev %d", e.Value(), e.Revision(), r2)
	}
	must(t, kv.Delete("a"))
	if _, err := kv.Get("a"); !errors.Is(err, nats.ErrKeyNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	_, err = kv.Create("a", []byte("3")) // allowed again after a delete
	must(t, err)
}

func TestJSPullConsumer(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "P", Subjects: []string{"p.*"}})
	must(t, err)
	for i := 1; i <= 10; i++ {
		_, err = js.Publish(fmt.Sprintf("p.%d", i%2), []byte(fmt.Sprint(i)))
		must(t, err)
	}
	sub, err := js.PullSubscribe("p.*", "worker", nats.AckExplicit())
	must(t, err)
	msgs, err := sub.Fetch(4, nats.MaxWait(3*time.Second))
	must(t, err)
	if len(msgs) != 4 {
		t.Fatalf("fetch 4: got %d", len(msgs))
	}
	for i, m := range msgs {
		md, err := m.Metadata()
		must(t, err)
		if string(m.Data) != fmt.Sprint(i+1) || m.Subject != fmt.Sprintf("p.%d", (i+1)%2) ||
			md.Sequence.Stream != uint64(i+1) ||
			md.Sequence.Consumer != uint64(i+1) || md.NumDelivered != 1 ||
			md.NumPending != uint64(10-i-1) {
			t.Fatalf("message %d: %q %+v", i, m.Data, md)
		}
		if i != 1 {
			must(t, m.AckSync())
		}
	}
	must(t, msgs[1].Nak()) // seq 2 comes back, with 5..10
	redelivered, got := false, 0
	for got < 7 {
		more, err := sub.Fetch(10, nats.MaxWait(3*time.Second))
		must(t, err)
		for _, m := range more {
			md, err := m.Metadata()
			must(t, err)
			if md.Sequence.Stream == 2 {
				redelivered = md.NumDelivered == 2
			}
			must(t, m.AckSync())
		}
		got += len(more)
	}
	if !redelivered {
		t.Fatal("the NAK'd message did not come back as delivery 2")
	}
	ci, err := js.ConsumerInfo("P", "worker")
	must(t, err)
	if ci.AckFloor.Stream != 10 || ci.NumAckPending != 0 || ci.NumPending != 0 ||
		ci.Delivered.Stream != 10 {
		t.Fatalf("consumer after acking everything: %+v", ci)
	}
	// Nothing left: a fetch times out.
	if _, err := sub.Fetch(1, nats.MaxWait(500*time.Millisecond)); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("fetch of an empty consumer: %v", err)
	}
	nc.Close()

	// The durable and its ack floor survive a restart.
	s.restart()
	nc = connect(t, s)
	js = jsCtx(t, nc)
	ci, err = js.ConsumerInfo("P", "worker")
	must(t, err)
	if ci.AckFloor.Stream != 10 || ci.Delivered.Stream != 10 || ci.NumPending != 0 {
		t.Fatalf("consumer after restart: %+v", ci)
	}
	_, err = js.Publish("p.1", []byte("11"))
	must(t, err)
	sub, err = js.PullSubscribe("p.*", "worker", nats.AckExplicit())
	must(t, err)
	msgs, err = sub.Fetch(1, nats.MaxWait(3*time.Second))
	must(t, err)
	if len(msgs) != 1 || string(msgs[0].Data) != "11" {
		t.Fatalf("after restart: %d messages", len(msgs))
	}
	must(t, msgs[0].AckSync())
}

func TestJSConsumerAPI(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "C", Subjects: []string{"c.>"}})
	must(t, err)
	ci, err := js.AddConsumer("C", &nats.ConsumerConfig{Durable: "d1", AckPolicy: nats.AckExplicitPolicy,
		FilterSubject: "c.x"})
	must(t, err)
	if ci.Name != "d1" || ci.Config.AckWait != 30*time.Second || ci.Config.MaxAckPending != 1000 ||
		ci.Config.MaxDeliver != -1 {
		t.Fatalf("defaults: %+v", ci.Config)
	}
	// Same again: fine.
	_, err = js.AddConsumer("C", &nats.ConsumerConfig{Durable: "d1", AckPolicy: nats.AckExplicitPolicy,
		FilterSubject: "c.x"})
	must(t, err)
	_, err = js.AddConsumer("C", &nats.ConsumerConfig{Durable: "d2", AckPolicy: nats.AckExplicitPolicy})
	must(t, err)
	names := []string{}
	for n := range js.ConsumerNames("C") {
		names = append(names, n)
	}
	if fmt.Sprint(names) != "[d1 d2]" {
		t.Fatalf("consumer names: %v", names)
	}
	si := info(t, js, "C")
	if si.State.Consumers != 2 {
		t.Fatalf("stream info consumer_count %d", si.State.Consumers)
	}
	// What may change, and what may not.
	ci, err = js.UpdateConsumer("C", &nats.ConsumerConfig{Durable: "d1",
		AckPolicy: nats.AckExplicitPolicy, FilterSubject: "c.x", MaxAckPending: 7})
	must(t, err)
	if ci.Config.MaxAckPending != 7 {
		t.Fatalf("max_ack_pending not updated: %+v", ci.Config)
	}
	_, err = js.UpdateConsumer("C", &nats.ConsumerConfig{Durable: "d1",
		AckPolicy: nats.AckAllPolicy, FilterSubject: "c.x"})
	wantCode(t, "ack policy change", err, 10012)
	must(t, js.DeleteConsumer("C", "d1"))
	_, err = js.ConsumerInfo("C", "d1")
	wantCode(t, "info of a deleted consumer", err, 10014)
	wantCode(t, "delete twice", js.DeleteConsumer("C", "d1"), 10014)
	_, err = js.AddConsumer("NOPE", &nats.ConsumerConfig{Durable: "x", AckPolicy: nats.AckExplicitPolicy})
	wantCode(t, "consumer on a missing stream", err, 10059)
	_, err = js.AddStream(&nats.StreamConfig{Name: "ONE", Subjects: []string{"one"}, MaxConsumers: 1})
	must(t, err)
	_, err = js.AddConsumer("ONE", &nats.ConsumerConfig{Durable: "a", AckPolicy: nats.AckExplicitPolicy})
	must(t, err)
	_, err = js.AddConsumer("ONE", &nats.ConsumerConfig{Durable: "b", AckPolicy: nats.AckExplicitPolicy})
	wantCode(t, "max_consumers", err, 10026)
}

// KV through the ordered push consumers nats.go builds for Keys, History
// and Watch.
func TestJSKeyValueWatch(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	kv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "w", History: 5})
	must(t, err)
	for i := 0; i < 3; i++ {
		_, err = kv.Put("k1", []byte(fmt.Sprint("v", i)))
		must(t, err)
	}
	_, err = kv.Put("k2", []byte("x"))
	must(t, err)
	keys, err := kv.Keys()
	must(t, err)
	if fmt.Sprint(keys) != "[k1 k2]" {
		t.Fatalf("keys %v", keys)
	}
	hist, err := kv.History("k1")
	must(t, err)
	if len(hist) != 3 || string(hist[2].Value()) != "v2" {
		t.Fatalf("history of k1: %d entries", len(hist))
	}
	w, err := kv.WatchAll()
	must(t, err)
	defer w.Stop()
	seen := map[string]string{}
	initialDone := false
	deadline := time.After(5 * time.Second)
	for !initialDone {
		select {
		case e := <-w.Updates():
			if e == nil {
				initialDone = true
			} else {
				seen[e.Key()] = string(e.Value())
			}
		case <-deadline:
			t.Fatalf("watch: initial values not done, got %v", seen)
		}
	}
	if seen["k1"] != "v2" || seen["k2"] != "x" || len(seen) != 2 {
		t.Fatalf("watch initial values %v", seen)
	}
	_, err = kv.Put("k3", []byte("new"))
	must(t, err)
	select {
	case e := <-w.Updates():
		if e == nil || e.Key() != "k3" || string(e.Value()) != "new" {
			t.Fatalf("watch update: %v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch: no update for k3")
	}
}

func TestJSPushSubscribe(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "PU", Subjects: []string{"pu.>"}})
	must(t, err)
	for i := 1; i <= 50; i++ {
		_, err = js.Publish("pu.a", []byte(fmt.Sprint(i)))
		must(t, err)
	}
	// A durable push consumer with explicit acks.
	sub, err := js.SubscribeSync("pu.>", nats.Durable("pd"), nats.AckExplicit())
	must(t, err)
	for i := 1; i <= 50; i++ {
		m, err := sub.NextMsg(5 * time.Second)
		must(t, err)
		if string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("push message %d: %q", i, m.Data)
		}
		must(t, m.Ack())
	}
	// An ordered consumer sees everything in order, live ones too.
	ord, err := js.SubscribeSync("pu.>", nats.OrderedConsumer())
	must(t, err)
	_, err = js.Publish("pu.b", []byte("51"))
	must(t, err)
	for i := 1; i <= 51; i++ {
		m, err := ord.NextMsg(5 * time.Second)
		must(t, err)
		if string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("ordered message %d: %q", i, m.Data)
		}
	}
	must(t, ord.Unsubscribe())
}

// Every acknowledged message survives a SIGKILL in the middle of a stream
// of asynchronous publishes (acks come after the fsync).
func TestJSCrashKeepsAcked(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(256))
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "K", Subjects: []string{"k"}})
	must(t, err)
	acked := map[uint64]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20000; i++ {
			data := fmt.Sprint("m", i)
			f, err := js.PublishAsync("k", []byte(data))
			if err != nil {
				return
			}
			go func(f nats.PubAckFuture, data string) {
				select {
				case a := <-f.Ok():
					func() {
						crashMu.Lock()
						defer crashMu.Unlock()
						acked[a.Sequence] = data
					}()
				case <-f.Err():
				}
			}(f, data)
		}
	}()
	// Kill once a good number of acks came back.
	deadline := time.Now().Add(20 * time.Second)
	for {
		crashMu.Lock()
		n := len(acked)
		crashMu.Unlock()
		if n >= 2000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.kill()
	nc.Close()
	<-done
	crashMu.Lock()
	snapshot := map[uint64]string{}
	for k, v := range acked {
		snapshot[k] = v
	}
	crashMu.Unlock()
	if len(snapshot) < 2000 {
		t.Fatalf("only %d acks before the kill", len(snapshot))
	}

	s.start()
	nc = connect(t, s)
	js2 := jsCtx(t, nc)
	si := info(t, js2, "K")
	var maxAcked uint64
	for seq := range snapshot {
		if seq > maxAcked {
			maxAcked = seq
		}
	}
	if si.State.LastSeq < maxAcked {
		t.Fatalf("after the crash the stream ends at %d, but %d was acknowledged",
			si.State.LastSeq, maxAcked)
	}
	for seq, data := range snapshot {
		m, err := js2.GetMsg("K", seq)
		if err != nil {
			t.Fatalf("acknowledged seq %d lost: %v", seq, err)
		}
		if string(m.Data) != data {
			t.Fatalf("seq %d: %q, acknowledged %q", seq, m.Data, data)
		}
	}
	t.Logf("%d acknowledged messages checked after SIGKILL (stream at %d)", len(snapshot),
		si.State.LastSeq)
}

var crashMu sync.Mutex

func TestJSRetention(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	// Work queue: an ack removes the message; one unfiltered consumer only.
	_, err := js.AddStream(&nats.StreamConfig{Name: "WQ", Subjects: []string{"wq.*"},
		Retention: nats.WorkQueuePolicy})
	must(t, err)
	for i := 0; i < 5; i++ {
		_, err = js.Publish("wq.a", []byte("job"))
		must(t, err)
	}
	sub, err := js.PullSubscribe("wq.*", "workers")
	must(t, err)
	_, err = js.AddConsumer("WQ", &nats.ConsumerConfig{Durable: "other",
		AckPolicy: nats.AckExplicitPolicy})
	wantCode(t, "second unfiltered work queue consumer", err, 10099)
	msgs, err := sub.Fetch(5, nats.MaxWait(3*time.Second))
	must(t, err)
	for _, m := range msgs[:3] {
		must(t, m.AckSync())
	}
	if si := info(t, js, "WQ"); si.State.Msgs != 2 || si.State.FirstSeq != 4 {
		t.Fatalf("work queue after 3 acks: %+v", si.State)
	}

	// Interest: gone once every consumer acked it.
	_, err = js.AddStream(&nats.StreamConfig{Name: "IN", Subjects: []string{"in"},
		Retention: nats.InterestPolicy})
	must(t, err)
	s1, err := js.PullSubscribe("in", "c1")
	must(t, err)
	s2, err := js.PullSubscribe("in", "c2")
	must(t, err)
	_, err = js.Publish("in", []byte("x"))
	must(t, err)
	m1, err := s1.Fetch(1, nats.MaxWait(3*time.Second))
	must(t, err)
	must(t, m1[0].AckSync())
	if si := info(t, js, "IN"); si.State.Msgs != 1 {
		t.Fatalf("interest after one of two acks: %+v", si.State)
	}
	m2, err := s2.Fetch(1, nats.MaxWait(3*time.Second))
	must(t, err)
	must(t, m2[0].AckSync())
	if si := info(t, js, "IN"); si.State.Msgs != 0 {
		t.Fatalf("interest after both acks: %+v", si.State)
	}
}

func TestJSObjectStore(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	obs, err := js.CreateObjectStore(&nats.ObjectStoreConfig{Bucket: "files"})
	must(t, err)
	blob := make([]byte, 300*1024) // several chunks
	for i := range blob {
		blob[i] = byte(i * 7)
	}
	_, err = obs.PutBytes("a.bin", blob)
	must(t, err)
	got, err := obs.GetBytes("a.bin")
	must(t, err)
	if len(got) != len(blob) || string(got) != string(blob) {
		t.Fatalf("object: %d bytes back, %d put", len(got), len(blob))
	}
	oi, err := obs.GetInfo("a.bin")
	must(t, err)
	if oi.Size != uint64(len(blob)) || oi.Chunks < 2 {
		t.Fatalf("object info: %+v", oi)
	}
	must(t, obs.Delete("a.bin"))
	if _, err := obs.GetBytes("a.bin"); !errors.Is(err, nats.ErrObjectNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
}

// A JetStream domain: the API under $JS.<domain>.API and PubAcks naming it;
// the configuration in nats-server's own format.
func TestJSDomain(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "js.conf")
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"jetstream {\n  store_dir: %q\n  domain: hub\n  max_mem: 64MB\n}\n", dir)), 0600))
	s := startServer(t, "-c", conf)
	nc := connect(t, s)
	js, err := nc.JetStream(nats.Domain("hub"), nats.MaxWait(5*time.Second))
	must(t, err)
	ai, err := js.AccountInfo()
	must(t, err)
	if ai.Domain != "hub" || ai.Limits.MaxMemory != -1 { // account limits: none
		t.Fatalf("account info: domain %q, max memory %d", ai.Domain, ai.Limits.MaxMemory)
	}
	_, err = js.AddStream(&nats.StreamConfig{Name: "D", Subjects: []string{"d"}})
	must(t, err)
	ack, err := js.Publish("d", []byte("x"))
	must(t, err)
	if ack.Domain != "hub" || ack.Sequence != 1 {
		t.Fatalf("pub ack %+v", ack)
	}
}

// The server's max_memory_store: publishing past it is refused.
func TestJSServerMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "js.conf")
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"jetstream {\n  store_dir: %q\n  max_memory_store: 1MB\n}\n", dir)), 0600))
	s := startServer(t, "-c", conf)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "M", Subjects: []string{"m"},
		Storage: nats.MemoryStorage})
	must(t, err)
	payload := make([]byte, 1000)
	for i := 0; i < 3000; i++ {
		if _, err = js.Publish("m", payload); err != nil {
			break
		}
	}
	wantCode(t, "past max_memory_store", err, 10023)
	si := info(t, js, "M")
	if si.State.Bytes < 900*1000 || si.State.Bytes > 1100*1024 {
		t.Fatalf("stopped at %d bytes", si.State.Bytes)
	}
}

// Accounts are separate JetStream worlds.  modnats only: nats-server wants
// `jetstream: enabled` in each account, a key modnats's account config
// does not take yet (every account has JetStream).
// Accounts apart; once accounts are configured only those with
// `jetstream` have it (C: 10039), and an account's limits (L) are enforced
// and reported by AccountInfo, as nats-server 2.9 does.
func TestJSAccounts(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "js.conf")
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf(`jetstream { store_dir: %q }
accounts {
  A: { jetstream: enabled, users: [ { user: a, password: a } ] }
  B: { jetstream: enabled, users: [ { user: b, password: b } ] }
  C: { users: [ { user: c, password: c } ] }
  L: { jetstream: { max_streams: 1, max_consumers: 2, max_file: 4096, max_mem: 0 },
       users: [ { user: l, password: l } ] }
}
`, dir)), 0600))
	s := startServer(t, "-c", conf)
	nc := connect(t, s, nats.UserInfo("c", "c"))
	_, err := jsCtx(t, nc).AccountInfo()
	if err != nats.ErrJetStreamNotEnabledForAccount {
		t.Fatalf("C's AccountInfo: %v, want %v", err, nats.ErrJetStreamNotEnabledForAccount)
	}
	_, err = jsCtx(t, nc).AddStream(&nats.StreamConfig{Name: "S", Subjects: []string{"x"}})
	wantCode(t, "C adds a stream", err, 10039)
	nl := connect(t, s, nats.UserInfo("l", "l"))
	jl := jsCtx(t, nl)
	_, err = jl.AddStream(&nats.StreamConfig{Name: "M", Subjects: []string{"m"}, Storage: nats.MemoryStorage})
	wantCode(t, "L adds a memory stream with max_mem 0", err, 10028)
	_, err = jl.AddStream(&nats.StreamConfig{Name: "S", Subjects: []string{"x"}})
	must(t, err)
	_, err = jl.AddStream(&nats.StreamConfig{Name: "S2", Subjects: []string{"y"}})
	wantCode(t, "L's second stream", err, 10027)
	for i := 0; i < 2; i++ {
		_, err = jl.AddConsumer("S", &nats.ConsumerConfig{Durable: fmt.Sprintf("d%d", i), AckPolicy: nats.AckExplicitPolicy})
		must(t, err)
	}
	_, err = jl.AddConsumer("S", &nats.ConsumerConfig{Durable: "d2", AckPolicy: nats.AckExplicitPolicy})
	wantCode(t, "L's third consumer", err, 10026)
	_, err = jl.Publish("x", []byte("l"))
	must(t, err)
	ai, err := jl.AccountInfo()
	must(t, err)
	if ai.Streams != 1 || ai.Consumers != 2 || ai.Store == 0 || ai.Memory != 0 ||
		ai.Limits.MaxStreams != 1 || ai.Limits.MaxConsumers != 2 || ai.Limits.MaxStore != 4096 ||
		ai.Limits.MaxMemory != 0 {
		t.Fatalf("L's account info %+v", ai)
	}
	na := connect(t, s, nats.UserInfo("a", "a"))
	nb := connect(t, s, nats.UserInfo("b", "b"))
	ja, jb := jsCtx(t, na), jsCtx(t, nb)
	_, err = ja.AddStream(&nats.StreamConfig{Name: "S", Subjects: []string{"x"}})
	must(t, err)
	_, err = jb.StreamInfo("S")
	wantCode(t, "B sees A's stream", err, 10059)
	_, err = jb.AddStream(&nats.StreamConfig{Name: "S", Subjects: []string{"x"}})
	must(t, err) // same name and subject, other account
	ack, err := ja.Publish("x", []byte("a"))
	must(t, err)
	ack2, err := jb.Publish("x", []byte("b"))
	must(t, err)
	if ack.Sequence != 1 || ack2.Sequence != 1 {
		t.Fatalf("acks %+v %+v", ack, ack2)
	}
	m, err := jb.GetMsg("S", 1)
	must(t, err)
	if string(m.Data) != "b" {
		t.Fatalf("B's stream holds %q", m.Data)
	}
	s.restart()
	na = connect(t, s, nats.UserInfo("a", "a"))
	m, err = jsCtx(t, na).GetMsg("S", 1)
	must(t, err)
	if string(m.Data) != "a" {
		t.Fatalf("A's stream after restart holds %q", m.Data)
	}
}

// Consumers starting at a time, and redelivery following a backoff list.
func TestJSConsumerStartTimeBackoff(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "T", Subjects: []string{"t"}})
	must(t, err)
	for i := 0; i < 3; i++ {
		_, err = js.Publish("t", []byte("old"))
		must(t, err)
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	time.Sleep(50 * time.Millisecond)
	for i := 0; i < 2; i++ {
		_, err = js.Publish("t", []byte("new"))
		must(t, err)
	}
	ci, err := js.AddConsumer("T", &nats.ConsumerConfig{Durable: "since",
		AckPolicy: nats.AckExplicitPolicy, DeliverPolicy: nats.DeliverByStartTimePolicy,
		OptStartTime: &start})
	must(t, err)
	if ci.NumPending != 2 {
		t.Fatalf("by start time: %d pending, want 2", ci.NumPending)
	}
	sub, err := js.PullSubscribe("t", "since")
	must(t, err)
	msgs, err := sub.Fetch(2, nats.MaxWait(3*time.Second))
	must(t, err)
	if len(msgs) != 2 || string(msgs[0].Data) != "new" {
		t.Fatalf("by start time: %d messages", len(msgs))
	}

	// Backoff: not acked, the message comes back after 100ms then 200ms.
	_, err = js.AddConsumer("T", &nats.ConsumerConfig{Durable: "bo",
		AckPolicy: nats.AckExplicitPolicy, DeliverPolicy: nats.DeliverLastPolicy,
		BackOff: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, MaxDeliver: 4})
	must(t, err)
	bsub, err := js.PullSubscribe("t", "bo")
	must(t, err)
	t0 := time.Now()
	var times []time.Duration
	for len(times) < 3 {
		ms, err := bsub.Fetch(1, nats.MaxWait(3*time.Second))
		must(t, err)
		md, _ := ms[0].Metadata()
		if md.NumDelivered != uint64(len(times)+1) {
			t.Fatalf("delivery %d: NumDelivered %d", len(times)+1, md.NumDelivered)
		}
		times = append(times, time.Since(t0))
	}
	// (10 ms of slack: the server times from its send, the client from its receipt)
	if times[1] < 90*time.Millisecond || times[2]-times[1] < 190*time.Millisecond {
		t.Fatalf("redeliveries at %v, want >= 100ms then >= 200ms apart", times)
	}
}

// A push consumer with flow control delivers more than its flow control
// window (1 MiB in modnats) once the client answers the requests.
func TestJSFlowControl(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(512))
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "FC", Subjects: []string{"fc"}})
	must(t, err)
	payload := make([]byte, 1024)
	const n = 4000
	for i := 0; i < n; i++ {
		_, err = js.PublishAsync("fc", payload)
		must(t, err)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("publish acks")
	}
	sub, err := js.SubscribeSync("fc", nats.OrderedConsumer())
	must(t, err)
	for i := 1; i <= n; i++ {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("message %d of %d: %v", i, n, err)
		}
		md, _ := m.Metadata()
		if md.Sequence.Stream != uint64(i) {
			t.Fatalf("message %d has stream seq %d", i, md.Sequence.Stream)
		}
	}
}

// A push consumer created before anybody subscribes to its deliver
// subject waits for the subscriber (nats.js subscribes after creating).
func TestJSPushWaitsForInterest(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "PW", Subjects: []string{"pw"}})
	must(t, err)
	for i := 1; i <= 3; i++ {
		_, err = js.Publish("pw", []byte(fmt.Sprint(i)))
		must(t, err)
	}
	_, err = js.AddConsumer("PW", &nats.ConsumerConfig{Durable: "late", DeliverSubject: "dlv.late",
		AckPolicy: nats.AckNonePolicy})
	must(t, err)
	time.Sleep(200 * time.Millisecond) // nothing may be delivered into the void meanwhile
	sub, err := nc.SubscribeSync("dlv.late")
	must(t, err)
	for i := 1; i <= 3; i++ {
		m, err := sub.NextMsg(5 * time.Second)
		must(t, err)
		if string(m.Data) != fmt.Sprint(i) || m.Subject != "pw" {
			t.Fatalf("delivery %d: %s %q", i, m.Subject, m.Data)
		}
	}
}

// Republish: every stored message goes out again, mapped, with the
// Nats-* headers; a destination the stream would capture is refused.
func TestJSRepublish(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	sub, err := nc.SubscribeSync("out.>")
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "RP", Subjects: []string{"in.*.*"},
		RePublish: &nats.RePublish{Source: "in.*.>", Destination: "out.$1.>"}})
	must(t, err)
	_, err = js.Publish("in.a.b", []byte("x"))
	must(t, err)
	_, err = js.Publish("in.a.b", []byte("y"))
	must(t, err)
	for i, want := range []string{"x", "y"} {
		m, err := sub.NextMsg(5 * time.Second)
		must(t, err)
		if m.Subject != "out.a.b" || string(m.Data) != want ||
			m.Header.Get("Nats-Stream") != "RP" || m.Header.Get("Nats-Subject") != "in.a.b" ||
			m.Header.Get("Nats-Sequence") != fmt.Sprint(i+1) ||
			m.Header.Get("Nats-Last-Sequence") != fmt.Sprint(i) {
			t.Fatalf("republished %d: %s %q %v", i, m.Subject, m.Data, m.Header)
		}
	}
	_, err = js.AddStream(&nats.StreamConfig{Name: "CY", Subjects: []string{"cy.>"},
		RePublish: &nats.RePublish{Destination: "cy.x"}})
	wantCode(t, "republish cycle", err, 10052)
}
