// jetstream_mirror_test.go - mirrors and sources within one server, with
// nats.go: a mirror's catch-up and live copy (same sequences, gaps where
// the origin has none, its own limits), sources from two streams with a
// filter and a start sequence (new sequences, Nats-Stream-Source), the
// mirror/sources part of STREAM.INFO, the configuration errors and their
// err_codes, a restart (no loss, no duplicate) and a KV bucket mirror.
// Run against nats-server 2.9.10 too (MN_TEST_SERVER).
package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// waitState polls the stream's info until ok says so (generous bound: a
// copy is asynchronous in nats-server as in modnats).
func waitState(t *testing.T, js nats.JetStreamContext, name string,
	ok func(si *nats.StreamInfo) bool) *nats.StreamInfo {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var si *nats.StreamInfo
	for {
		var err error
		si, err = js.StreamInfo(name)
		if err == nil && ok(si) {
			return si
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s never reached the state wanted: %+v (err %v)", name, si, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lastSeq(n uint64, msgs uint64) func(si *nats.StreamInfo) bool {
	return func(si *nats.StreamInfo) bool {
		return si.State.LastSeq == n && si.State.Msgs == msgs
	}
}

func TestJSMirrorCatchUpAndLive(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "ORIGIN", Subjects: []string{"o.>"}})
	must(t, err)
	for i := 1; i <= 10; i++ {
		m := nats.NewMsg(fmt.Sprintf("o.%d", i%2))
		m.Data = []byte(fmt.Sprint("m", i))
		m.Header.Set("X-N", fmt.Sprint(i))
		_, err = js.PublishMsg(m)
		must(t, err)
	}
	must(t, js.DeleteMsg("ORIGIN", 4))

	// Catch-up: the origin's sequences, a gap where it has none.
	si, err := js.AddStream(&nats.StreamConfig{Name: "M", Mirror: &nats.StreamSource{Name: "ORIGIN"}})
	must(t, err)
	if len(si.Config.Subjects) != 0 || si.Config.Mirror == nil || si.Config.Mirror.Name != "ORIGIN" {
		t.Fatalf("mirror config: %+v", si.Config)
	}
	si = waitState(t, js, "M", lastSeq(10, 9))
	if si.State.FirstSeq != 1 || si.Mirror == nil || si.Mirror.Name != "ORIGIN" {
		t.Fatalf("mirror state/info: %+v %+v", si.State, si.Mirror)
	}
	si = waitState(t, js, "M", func(si *nats.StreamInfo) bool { return si.Mirror.Lag == 0 })
	if si.Mirror.Active < 0 {
		t.Fatalf("mirror active %v after copying", si.Mirror.Active)
	}
	for _, seq := range []uint64{1, 5, 10} {
		o, err := js.GetMsg("ORIGIN", seq)
		must(t, err)
		m, err := js.GetMsg("M", seq)
		must(t, err)
		if m.Subject != o.Subject || string(m.Data) != string(o.Data) ||
			m.Header.Get("X-N") != fmt.Sprint(seq) || m.Header.Get("Nats-Stream-Source") != "" {
			t.Fatalf("mirror seq %d: %+v, origin %+v", seq, m, o)
		}
	}
	_, err = js.GetMsg("M", 4)
	wantCode(t, "mirror of a deleted message", err, 10037)

	// Live: new messages follow; a consumer on the mirror sees them all.
	for i := 11; i <= 15; i++ {
		_, err = js.Publish("o.live", []byte(fmt.Sprint("m", i)))
		must(t, err)
	}
	waitState(t, js, "M", lastSeq(15, 14))
	sub, err := js.PullSubscribe("", "d", nats.BindStream("M"))
	must(t, err)
	got := []uint64{}
	for len(got) < 14 {
		msgs, err := sub.Fetch(14-len(got), nats.MaxWait(5*time.Second))
		must(t, err)
		for _, m := range msgs {
			md, err := m.Metadata()
			must(t, err)
			got = append(got, md.Sequence.Stream)
			must(t, m.Ack())
		}
	}
	if fmt.Sprint(got) != "[1 2 3 5 6 7 8 9 10 11 12 13 14 15]" {
		t.Fatalf("consumer on the mirror got seqs %v", got)
	}

	// The mirror's own limits, not the origin's: the origin keeps 15.
	_, err = js.AddStream(&nats.StreamConfig{Name: "SMALL", MaxMsgs: 3,
		Mirror: &nats.StreamSource{Name: "ORIGIN"}})
	must(t, err)
	si = waitState(t, js, "SMALL", func(si *nats.StreamInfo) bool {
		return si.State.LastSeq == 15 && si.Mirror != nil && si.Mirror.Lag == 0
	})
	if si.State.Msgs != 3 || si.State.FirstSeq != 13 || info(t, js, "ORIGIN").State.Msgs != 14 {
		t.Fatalf("mirror with max_msgs 3: %+v", si.State)
	}

	// A start sequence: nothing before it.
	_, err = js.AddStream(&nats.StreamConfig{Name: "FROM12",
		Mirror: &nats.StreamSource{Name: "ORIGIN", OptStartSeq: 12}})
	must(t, err)
	si = waitState(t, js, "FROM12", lastSeq(15, 4))
	if si.State.FirstSeq != 12 {
		t.Fatalf("mirror from seq 12: %+v", si.State)
	}
	// A start time: from the first message stored at or after it.
	m8, err := js.GetMsg("ORIGIN", 8)
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "FROMT",
		Mirror: &nats.StreamSource{Name: "ORIGIN", OptStartTime: &m8.Time}})
	must(t, err)
	si = waitState(t, js, "FROMT", lastSeq(15, 8))
	if si.State.FirstSeq != 8 {
		t.Fatalf("mirror from the time of seq 8: %+v", si.State)
	}
}

func TestJSSources(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	for _, n := range []string{"A", "B"} {
		_, err := js.AddStream(&nats.StreamConfig{Name: n,
			Subjects: []string{strings.ToLower(n) + ".*"}})
		must(t, err)
	}
	for i := 1; i <= 6; i++ {
		_, err := js.Publish([]string{"a.x", "a.y"}[i%2], []byte(fmt.Sprint("a", i)))
		must(t, err)
		_, err = js.Publish("b.z", []byte(fmt.Sprint("b", i)))
		must(t, err)
	}
	// a.x is published at A's seqs 2, 4, 6; B has 6.
	si, err := js.AddStream(&nats.StreamConfig{Name: "S", Subjects: []string{"s.>"},
		Sources: []*nats.StreamSource{{Name: "A", FilterSubject: "a.x"}, {Name: "B", OptStartSeq: 4}}})
	must(t, err)
	if len(si.Config.Sources) != 2 || si.Config.Sources[0].FilterSubject != "a.x" ||
		si.Config.Sources[1].OptStartSeq != 4 {
		t.Fatalf("sources config: %+v", si.Config.Sources)
	}
	si = waitState(t, js, "S", lastSeq(6, 6))
	if len(si.Sources) != 2 {
		t.Fatalf("sources info: %+v", si.Sources)
	}
	// New sequences, each with the origin's name and sequence.
	fromA, fromB := []string{}, []string{}
	for seq := uint64(1); seq <= 6; seq++ {
		m, err := js.GetMsg("S", seq)
		must(t, err)
		src := m.Header.Get("Nats-Stream-Source")
		switch {
		case strings.HasPrefix(src, "A "):
			if m.Subject != "a.x" {
				t.Fatalf("filter a.x let %q through", m.Subject)
			}
			fromA = append(fromA, strings.Fields(src)[1])
		case strings.HasPrefix(src, "B "):
			fromB = append(fromB, strings.Fields(src)[1])
		default:
			t.Fatalf("seq %d: Nats-Stream-Source %q", seq, src)
		}
	}
	if fmt.Sprint(fromA) != "[2 4 6]" || fmt.Sprint(fromB) != "[4 5 6]" {
		t.Fatalf("origin seqs from A %v, from B %v", fromA, fromB)
	}
	// Live, and the stream's own subjects still take publishes.
	_, err = js.Publish("a.x", []byte("live"))
	must(t, err)
	_, err = js.Publish("a.y", []byte("filtered out"))
	must(t, err)
	ack, err := js.Publish("s.own", []byte("own"))
	must(t, err)
	if ack.Stream != "S" {
		t.Fatalf("publish to the sourcing stream: %+v", ack)
	}
	si = waitState(t, js, "S", func(si *nats.StreamInfo) bool {
		return si.State.Msgs == 8 && si.Sources[0].Lag == 0 && si.Sources[1].Lag == 0
	})
	for _, src := range si.Sources {
		if src.Active < 0 || (src.Name != "A" && src.Name != "B") {
			t.Fatalf("source info: %+v", src)
		}
	}
	m, err := js.GetLastMsg("S", "a.x")
	must(t, err)
	if string(m.Data) != "live" || m.Header.Get("Nats-Stream-Source") == "" {
		t.Fatalf("live sourced message: %+v", m)
	}
	if n := info(t, js, "S").State.Msgs; n != 8 {
		t.Fatalf("sourcing stream has %d messages, want 8", n)
	}

	// An update widening A's filter goes on from after the last message
	// copied (as nats-server 2.9.10): the a.y published after the last a.x
	// comes now, the earlier a.y do not.
	_, err = js.UpdateStream(&nats.StreamConfig{Name: "S", Subjects: []string{"s.>"},
		Sources: []*nats.StreamSource{{Name: "A", FilterSubject: "a.*"}, {Name: "B", OptStartSeq: 4}}})
	must(t, err)
	_, err = js.Publish("a.y", []byte("after update"))
	must(t, err)
	si = waitState(t, js, "S", func(si *nats.StreamInfo) bool { return si.State.LastSeq >= 10 })
	m9, err := js.GetMsg("S", 9)
	must(t, err)
	m10, err := js.GetMsg("S", 10)
	must(t, err)
	if si.State.Msgs != 10 || string(m9.Data) != "filtered out" || string(m10.Data) != "after update" ||
		m9.Header.Get("Nats-Stream-Source") != "A 8" {
		t.Fatalf("after widening the filter: %d messages, 9 %q %v, 10 %q", si.State.Msgs,
			m9.Data, m9.Header, m10.Data)
	}
}

func TestJSMirrorErrors(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "O", Subjects: []string{"o.*"}})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "M", Subjects: []string{"m"},
		Mirror: &nats.StreamSource{Name: "O"}})
	wantCode(t, "mirror with subjects", err, 10034)
	_, err = js.AddStream(&nats.StreamConfig{Name: "M", Mirror: &nats.StreamSource{Name: "O"},
		Sources: []*nats.StreamSource{{Name: "O"}}})
	wantCode(t, "mirror with sources", err, 10031)
	_, err = js.AddStream(&nats.StreamConfig{Name: "M",
		Mirror: &nats.StreamSource{Name: "O", FilterSubject: "x.y"}})
	wantCode(t, "mirror filter outside the origin's subjects", err, 10052)
	_, err = js.AddStream(&nats.StreamConfig{Name: "SELF", Mirror: &nats.StreamSource{Name: "SELF"}})
	wantCode(t, "mirror of itself", err, 10052)
	_, err = js.AddStream(&nats.StreamConfig{Name: "SM", MaxMsgSize: 10,
		Mirror: &nats.StreamSource{Name: "O"}})
	must(t, err) // the origin has no max_msg_size: nothing to compare
	_, err = js.AddStream(&nats.StreamConfig{Name: "O2", Subjects: []string{"o2"}, MaxMsgSize: 100})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "SM2", MaxMsgSize: 10,
		Mirror: &nats.StreamSource{Name: "O2"}})
	wantCode(t, "mirror with a smaller max_msg_size", err, 10030)
	_, err = js.AddStream(&nats.StreamConfig{Name: "SS2", Subjects: []string{"ss2"}, MaxMsgSize: 10,
		Sources: []*nats.StreamSource{{Name: "O2"}}})
	wantCode(t, "source with a smaller max_msg_size", err, 10046)

	// A mirror of a stream that does not exist yet: created, and it
	// catches up once the origin appears.
	_, err = js.AddStream(&nats.StreamConfig{Name: "LATER", Mirror: &nats.StreamSource{Name: "NOTYET"}})
	must(t, err)
	// It has no subjects: nothing to publish into.
	_, err = js.Publish("LATER", []byte("x"))
	if err == nil {
		t.Fatalf("publish into a mirror's name was acknowledged")
	}
	// Its mirror cannot change.
	_, err = js.UpdateStream(&nats.StreamConfig{Name: "LATER", Mirror: &nats.StreamSource{Name: "O"}})
	wantCode(t, "update of the mirror", err, 10055)
	_, err = js.UpdateStream(&nats.StreamConfig{Name: "LATER"})
	wantCode(t, "update removing the mirror", err, 10055)
	// Other settings can.
	si, err := js.UpdateStream(&nats.StreamConfig{Name: "LATER", MaxMsgs: 100,
		Mirror: &nats.StreamSource{Name: "NOTYET"}})
	must(t, err)
	if si.Config.MaxMsgs != 100 {
		t.Fatalf("update of a mirror's limits: %+v", si.Config)
	}
	// A cycle through a mirror.
	_, err = js.AddStream(&nats.StreamConfig{Name: "NOTYET", Mirror: &nats.StreamSource{Name: "LATER"}})
	wantCode(t, "mirror cycle", err, 10052)

	_, err = js.AddStream(&nats.StreamConfig{Name: "NOTYET", Subjects: []string{"ny.*"}})
	must(t, err)
	for i := 0; i < 3; i++ {
		_, err = js.Publish("ny.1", []byte("x"))
		must(t, err)
	}
	waitState(t, js, "LATER", lastSeq(3, 3))
}

func TestJSMirrorRestart(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "O", Subjects: []string{"o.*"}})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "M", Mirror: &nats.StreamSource{Name: "O"}})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "S", Sources: []*nats.StreamSource{{Name: "O"}}})
	must(t, err)
	for i := 1; i <= 50; i++ {
		_, err = js.Publish("o.a", []byte(fmt.Sprint(i)))
		must(t, err)
	}
	waitState(t, js, "M", lastSeq(50, 50))
	waitState(t, js, "S", lastSeq(50, 50))
	nc.Close()

	s.restart()
	nc = connect(t, s)
	js = jsCtx(t, nc)
	// After the restart one more message: each copy gets exactly it (a
	// copy that restarted from the beginning would have 100 and more).
	_, err = js.Publish("o.a", []byte("51"))
	must(t, err)
	waitState(t, js, "M", lastSeq(51, 51))
	si := waitState(t, js, "S", lastSeq(51, 51))
	if si.Sources[0].Lag != 0 && si.Sources[0].Name != "O" {
		t.Fatalf("sources after restart: %+v", si.Sources[0])
	}
	m, err := js.GetMsg("S", 51)
	must(t, err)
	if string(m.Data) != "51" || m.Header.Get("Nats-Stream-Source") == "" {
		t.Fatalf("first copy after the restart: %+v", m)
	}
	// Once caught up, nothing more comes (polled a while: a duplicate
	// copy would show up as a 52nd message).
	for i := 0; i < 20; i++ {
		if n := info(t, js, "S").State.Msgs; n != 51 {
			t.Fatalf("source has %d messages after the restart, want 51", n)
		}
		if n := info(t, js, "M").State.Msgs; n != 51 {
			t.Fatalf("mirror has %d messages after the restart, want 51", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestJSKeyValueMirror(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	kv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "ORIG"})
	must(t, err)
	for i := 0; i < 5; i++ {
		_, err = kv.Put(fmt.Sprint("k", i%3), []byte(fmt.Sprint(i)))
		must(t, err)
	}
	mkv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "MIR",
		Mirror: &nats.StreamSource{Name: "ORIG"}})
	must(t, err)
	// The bucket keeps one revision per key (max_msgs_per_subject 1, the
	// mirror's own limit): k0, k1, k2 at the origin's seqs 4, 5, 3.
	si := waitState(t, js, "KV_MIR", lastSeq(5, 3))
	if si.Config.Mirror == nil || si.Config.Mirror.Name != "KV_ORIG" || !si.Config.MirrorDirect {
		t.Fatalf("KV mirror config: %+v", si.Config)
	}
	// A put through the mirror's handle goes to the origin, and comes back.
	_, err = mkv.Put("k9", []byte("via mirror"))
	must(t, err)
	if e, err := kv.Get("k9"); err != nil || string(e.Value()) != "via mirror" {
		t.Fatalf("origin after a put through the mirror: %v %v", e, err)
	}
	waitState(t, js, "KV_MIR", lastSeq(6, 4))
	// Debian's nats.go looks a mirror bucket's keys up under the mirror's
	// own prefix ($KV.MIR.), which the copies do not have: not found, on
	// nats-server 2.9.10 as here.
	if _, err := mkv.Get("k1"); err != nats.ErrKeyNotFound {
		t.Fatalf("get through the mirror bucket: %v, want nats-server's key not found", err)
	}
	m, err := js.GetLastMsg("KV_MIR", "$KV.ORIG.k1")
	must(t, err)
	if string(m.Data) != "4" || m.Sequence != 5 {
		t.Fatalf("last k1 in the mirror: seq %d %q", m.Sequence, m.Data)
	}
}

// The origin's retention and limits are not the copy's: a mirror of an
// interest stream without consumers gets every message (the origin keeps
// none), and a burst into an origin that keeps 2 reaches a mirror that
// was caught up whole (modnats copies at store time; nats-server's mirror
// consumer can fall behind the origin's discards, so that part is skipped
// there).
func TestJSMirrorOriginRetention(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "INT", Subjects: []string{"int.*"},
		Retention: nats.InterestPolicy})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "MI", Mirror: &nats.StreamSource{Name: "INT"}})
	must(t, err)
	waitState(t, js, "MI", func(si *nats.StreamInfo) bool { return si.Mirror != nil && si.Mirror.Active >= 0 })
	for i := 1; i <= 20; i++ {
		_, err = js.Publish("int.a", []byte(fmt.Sprint(i)))
		must(t, err)
	}
	waitState(t, js, "MI", lastSeq(20, 20))
	waitState(t, js, "INT", func(si *nats.StreamInfo) bool { return si.State.Msgs == 0 })

	if isNatsServer(serverBin(t)) {
		return
	}
	_, err = js.AddStream(&nats.StreamConfig{Name: "TWO", Subjects: []string{"two"}, MaxMsgs: 2})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "MT", Mirror: &nats.StreamSource{Name: "TWO"}})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "ST", Sources: []*nats.StreamSource{{Name: "TWO"}}})
	must(t, err)
	waitState(t, js, "MT", func(si *nats.StreamInfo) bool { return si.Mirror != nil && si.Mirror.Active >= 0 })
	waitState(t, js, "ST", func(si *nats.StreamInfo) bool { return si.Sources[0].Active >= 0 })
	for i := 1; i <= 500; i++ {
		_, err = js.PublishAsync("two", []byte(fmt.Sprint(i)))
		must(t, err)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatalf("async publishes not acknowledged")
	}
	waitState(t, js, "MT", lastSeq(500, 500))
	waitState(t, js, "ST", lastSeq(500, 500))
	if si := info(t, js, "TWO"); si.State.Msgs != 2 {
		t.Fatalf("origin with max_msgs 2 has %d", si.State.Msgs)
	}
}

// Sourced messages go through the copying stream's duplicate window: the
// same Nats-Msg-Id from two origins is stored once (as nats-server does).
func TestJSSourcesDedup(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	for _, n := range []string{"A", "B"} {
		_, err := js.AddStream(&nats.StreamConfig{Name: n,
			Subjects: []string{strings.ToLower(n) + ".*"}})
		must(t, err)
	}
	_, err := js.Publish("a.x", []byte("from a"), nats.MsgId("same"))
	must(t, err)
	_, err = js.Publish("a.x", []byte("a2"), nats.MsgId("a-only"))
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "S",
		Sources: []*nats.StreamSource{{Name: "A"}, {Name: "B"}}})
	must(t, err)
	waitState(t, js, "S", func(si *nats.StreamInfo) bool {
		return si.State.Msgs == 2 && len(si.Sources) == 2 && si.Sources[0].Lag == 0
	})
	_, err = js.Publish("b.y", []byte("from b"), nats.MsgId("same"))
	must(t, err)
	_, err = js.Publish("b.y", []byte("b2"), nats.MsgId("b-only"))
	must(t, err)
	si := waitState(t, js, "S", func(si *nats.StreamInfo) bool {
		return si.State.LastSeq >= 3 && si.Sources[1].Lag == 0
	})
	if si.State.Msgs != 3 || si.State.LastSeq != 3 {
		t.Fatalf("sources with a repeated Nats-Msg-Id: %+v", si.State)
	}
	m, err := js.GetMsg("S", 3)
	must(t, err)
	if string(m.Data) != "b2" {
		t.Fatalf("third sourced message %q, want b2", m.Data)
	}
}

// SIGKILL while a source and a mirror are catching up on 40000 messages:
// after the restart each origin message is in the copies exactly once
// (the progress is written with the copies).
func TestJSSourcesKill(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(512))
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "O", Subjects: []string{"o"}})
	must(t, err)
	const n = 40000
	for i := 1; i <= n; i++ {
		_, err = js.PublishAsync("o", []byte(fmt.Sprint(i)))
		must(t, err)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		t.Fatalf("async publishes not acknowledged")
	}
	_, err = js.AddStream(&nats.StreamConfig{Name: "M", Mirror: &nats.StreamSource{Name: "O"}})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "S", Sources: []*nats.StreamSource{{Name: "O"}}})
	must(t, err)
	s.kill() // modnats: both still copying (4096 a turn, shared)
	nc.Close()

	s.start()
	nc = connect(t, s)
	js = jsCtx(t, nc)
	waitState(t, js, "M", lastSeq(n, n))
	waitState(t, js, "S", func(si *nats.StreamInfo) bool {
		return si.State.Msgs >= n && len(si.Sources) == 1 && si.Sources[0].Lag == 0
	})
	sub, err := js.PullSubscribe("", "check", nats.BindStream("S"))
	must(t, err)
	seen := make(map[string]bool, n)
	for got := 0; got < n; {
		msgs, err := sub.Fetch(1000, nats.MaxWait(10*time.Second))
		must(t, err)
		for _, m := range msgs {
			src := m.Header.Get("Nats-Stream-Source")
			if seen[src] {
				t.Fatalf("origin message %q copied twice", src)
			}
			seen[src] = true
			must(t, m.Ack())
			got++
		}
	}
	if si := info(t, js, "S"); si.State.Msgs != n || len(seen) != n || !seen["O 1"] ||
		!seen[fmt.Sprint("O ", n)] {
		t.Fatalf("after the kill: %d messages, %d distinct origins", si.State.Msgs, len(seen))
	}
}

// A mirror with mirror_direct answers DIRECT.GET for its origin's name
// once the origin has allow_direct (nats-server 2.9.10: not before), in
// the same queue group as the origin (either answers), and goes on after
// the origin is deleted; turning mirror_direct off stops it.
func TestJSMirrorDirect(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "OD", Subjects: []string{"od.>"}})
	must(t, err)
	for i := 1; i <= 3; i++ {
		_, err = js.Publish(fmt.Sprintf("od.%d", i%2), []byte(fmt.Sprint("v", i)))
		must(t, err)
	}
	_, err = js.AddStream(&nats.StreamConfig{Name: "MD", Mirror: &nats.StreamSource{Name: "OD"},
		AllowDirect: true, MirrorDirect: true})
	must(t, err)
	waitState(t, js, "MD", lastSeq(3, 3))
	// The origin had no allow_direct when the mirror found it: no one
	// answers DIRECT.GET.OD (modnats says no responders, nats-server 2.9.10
	// lets the request time out); once the origin turns allow_direct on,
	// only the origin answers (the mirror's choice was made).
	if m, err := nc.Request("$JS.API.DIRECT.GET.OD", []byte(`{"seq":1}`),
		time.Second); err == nil {
		t.Fatalf("DIRECT.GET.OD answered while OD has no allow_direct: %v", m.Header)
	}
	_, err = js.UpdateStream(&nats.StreamConfig{Name: "OD", Subjects: []string{"od.>"},
		AllowDirect: true})
	must(t, err)
	for i := 0; i < 20; i++ {
		m, err := nc.Request("$JS.API.DIRECT.GET.OD", []byte(`{"seq":1}`), 2*time.Second)
		must(t, err)
		if m.Header.Get("Nats-Stream") != "OD" {
			t.Fatalf("DIRECT.GET.OD answered by %q, want OD only", m.Header.Get("Nats-Stream"))
		}
	}
	must(t, js.DeleteStream("MD"))
	must(t, js.DeleteStream("OD"))

	// The origin created after its mirror, with allow_direct (as a KV
	// bucket): both answer.
	_, err = js.AddStream(&nats.StreamConfig{Name: "MD", Mirror: &nats.StreamSource{Name: "OD"},
		AllowDirect: true, MirrorDirect: true})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "OD", Subjects: []string{"od.>"},
		AllowDirect: true})
	must(t, err)
	for i := 1; i <= 3; i++ {
		_, err = js.Publish(fmt.Sprintf("od.%d", i%2), []byte(fmt.Sprint("v", i)))
		must(t, err)
	}
	waitState(t, js, "MD", lastSeq(3, 3))

	get := func(subj string, body string) *nats.Msg {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			m, err := nc.Request(subj, []byte(body), 2*time.Second)
			if err == nil {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s: %v", subj, body, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	seen := map[string]int{}
	for i := 0; i < 40; i++ {
		m := get("$JS.API.DIRECT.GET.OD", `{"seq":2}`)
		if string(m.Data) != "v2" || m.Header.Get("Nats-Sequence") != "2" ||
			m.Header.Get("Nats-Subject") != "od.0" {
			t.Fatalf("DIRECT.GET.OD seq 2: %q %v", m.Data, m.Header)
		}
		seen[m.Header.Get("Nats-Stream")]++
	}
	t.Logf("DIRECT.GET.OD answered by %v", seen)
	if len(seen) > 2 || seen["OD"]+seen["MD"] != 40 {
		t.Fatalf("DIRECT.GET.OD answered by %v, want OD and/or MD", seen)
	}

	// The origin deleted: the mirror still answers, alone.
	must(t, js.DeleteStream("OD"))
	m := get("$JS.API.DIRECT.GET.OD", `{"seq":2}`)
	if string(m.Data) != "v2" || m.Header.Get("Nats-Stream") != "MD" {
		t.Fatalf("DIRECT.GET.OD after the origin's delete: %q %v", m.Data, m.Header)
	}
	m = get("$JS.API.DIRECT.GET.OD.od.1", "")
	if string(m.Data) != "v3" || m.Header.Get("Nats-Sequence") != "3" {
		t.Fatalf("DIRECT.GET.OD.od.1 (last by subject) through the mirror: %q %v", m.Data, m.Header)
	}
	m = get("$JS.API.DIRECT.GET.OD", `{"seq":9}`)
	if m.Header.Get("Status") != "404" {
		t.Fatalf("DIRECT.GET.OD of a missing seq: status %q, want 404", m.Header.Get("Status"))
	}

	// Turning mirror_direct off stops the answers.
	_, err = js.UpdateStream(&nats.StreamConfig{Name: "MD", Mirror: &nats.StreamSource{Name: "OD"},
		AllowDirect: true})
	must(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = nc.Request("$JS.API.DIRECT.GET.OD", []byte(`{"seq":1}`), time.Second)
		if err != nil {    // no responders (modnats) or a timeout (nats-server)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("DIRECT.GET.OD still answered after mirror_direct was turned off")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
