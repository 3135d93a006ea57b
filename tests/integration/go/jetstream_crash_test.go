// jetstream_crash_test.go - crash acceptance: rounds of asynchronous
// publishers with acks on three streams (one deduplicating by Nats-Msg-Id,
// one with a max_msgs limit) and two durable consumers with explicit
// AckSync acks (pull and push) working at the same time, the server
// SIGKILLed at a random moment each round and restarted on the same store.
// After every restart: every acknowledged message is there with its data,
// sequences are contiguous from first to last, re-published msg-ids are
// duplicates of their first sequence, the consumers' ack floors are at
// least the prefix whose acks were confirmed, and no message whose AckSync
// was confirmed is delivered again.  Finally the consumers drain: every
// message was acknowledged once the un-acked ones came back.
//
// MN_CRASH_SEED repeats the kill moments of a run (the seed is logged), MN_CRASH_ROUNDS sets
// the number of rounds (10).
package integration

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// crashStream is what the test knows about one stream.
type crashStream struct {
	name, subj string
	msgID      bool
	acked      map[uint64]string // seq -> data whose PubAck came back
	published  map[string]bool   // every payload ever sent
	unacked    []string          // sent, no PubAck seen (msg-id stream)
	ids        map[string]uint64 // msg-id -> acked seq
}

// crashConsumer is the record of one durable consumer on stream CRB.
type crashConsumer struct {
	name       string
	mu         sync.Mutex
	confirmed  map[uint64]int  // stream seq -> round whose AckSync reply came back
	seen       map[uint64]bool // stream seqs delivered at least once
	redelivers int             // confirmed in an earlier server life, delivered again
	firstBad   string
	observed   uint64        // the server's ack floor as a ConsumerInfo reply showed it
	sem        chan struct{} // AckSyncs in flight: many, so they share commits
	inflight   int           // AckSync goroutines running (mu)
	idle       *sync.Cond    // signalled when inflight drops to 0
}

func (c *crashConsumer) delivered(round int, m *nats.Msg) {
	md, err := m.Metadata()
	if err != nil {
		return
	}
	seq := md.Sequence.Stream
	c.mu.Lock()
	c.seen[seq] = true
	if r, ok := c.confirmed[seq]; ok && r < round {
		c.redelivers++
		if c.firstBad == "" {
			c.firstBad = fmt.Sprintf("seq %d acked (confirmed) in round %d, delivered again in round %d",
				seq, r, round)
		}
	}
	c.mu.Unlock()
	c.mu.Lock()
	c.inflight++ // a counter, not a WaitGroup: a push handler may still run after the close
	c.mu.Unlock()
	c.sem <- struct{}{}
	go func() {
		defer func() {
			<-c.sem
			c.mu.Lock()
			if c.inflight--; c.inflight == 0 {
				c.idle.Broadcast()
			}
			c.mu.Unlock()
		}()
		if m.AckSync(nats.AckWait(5*time.Second)) == nil {
			c.mu.Lock()
			if _, ok := c.confirmed[seq]; !ok {
				c.confirmed[seq] = round
			}
			c.mu.Unlock()
		}
	}()
}

// wait returns when no AckSync of c is in flight.
func (c *crashConsumer) wait() {
	c.mu.Lock()
	for c.inflight > 0 {
		c.idle.Wait()
	}
	c.mu.Unlock()
}

// floor: the largest n such that each of 1..n had its AckSync confirmed or
// was under an ack floor the server reported (an ack whose reply a kill cut
// off may have been stored, and then it is never redelivered).
func (c *crashConsumer) floor() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.observed
	for {
		if _, ok := c.confirmed[n+1]; !ok {
			return n
		}
		n++
	}
}

func envInt(name string, def int64) int64 {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return def
}

func TestJSCrashRounds(t *testing.T) {
	crashRounds(t, startJS(t), int(envInt("MN_CRASH_ROUNDS", 10)))
}

// The same with sync = "interval" (modnats only: nats-server 2.9.10 has no
// such setting): acks before fsync, which a SIGKILL must not undo either,
// since the data is in the page cache.
func TestJSCrashRoundsInterval(t *testing.T) {
	if isNatsServer(serverBin(t)) {
		t.Skip("sync = \"interval\" is a modnats setting")
	}
	s := startServerConf(t, fmt.Sprintf("jetstream = { store_dir = %q; sync = \"interval\"; "+
		"sync_interval = \"1h\"; };\n", t.TempDir()))
	crashRounds(t, s, int(envInt("MN_CRASH_ROUNDS", 10))/2)
}

func crashRounds(t *testing.T, s *server, rounds int) {
	seed := envInt("MN_CRASH_SEED", time.Now().UnixNano())
	t.Logf("seed %d (MN_CRASH_SEED=%d repeats its kill moments), %d rounds", seed, seed, rounds)
	rng := rand.New(rand.NewSource(seed))
	ref := isNatsServer(serverBin(t))

	streams := []*crashStream{
		{name: "CRA", subj: "cra.x", msgID: true},
		{name: "CRB", subj: "crb.x"},
		{name: "CRL", subj: "crl.x"},
	}
	for _, st := range streams {
		st.acked = map[uint64]string{}
		st.published = map[string]bool{}
		st.ids = map[string]uint64{}
	}
	cons := []*crashConsumer{{name: "PULL"}, {name: "PUSH"}}
	for _, c := range cons {
		c.confirmed = map[uint64]int{}
		c.sem = make(chan struct{}, 64)
		c.seen = map[uint64]bool{}
		c.idle = sync.NewCond(&c.mu)
	}
	{
		nc := connect(t, s)
		js := jsCtx(t, nc)
		_, err := js.AddStream(&nats.StreamConfig{Name: "CRA", Subjects: []string{"cra.>"},
			Duplicates: 10 * time.Minute})
		must(t, err)
		_, err = js.AddStream(&nats.StreamConfig{Name: "CRB", Subjects: []string{"crb.>"}})
		must(t, err)
		_, err = js.AddStream(&nats.StreamConfig{Name: "CRL", Subjects: []string{"crl.>"},
			MaxMsgs: 300})
		must(t, err)
		_, err = js.AddConsumer("CRB", &nats.ConsumerConfig{Durable: "PULL",
			AckPolicy: nats.AckExplicitPolicy, AckWait: time.Second, MaxAckPending: 100000})
		must(t, err)
		_, err = js.AddConsumer("CRB", &nats.ConsumerConfig{Durable: "PUSH",
			DeliverSubject: "crash.push", AckPolicy: nats.AckExplicitPolicy,
			AckWait: time.Second, MaxAckPending: 100000})
		must(t, err)
		nc.Close()
	}

	totalAcked := 0
	for round := 1; round <= rounds+1; round++ {
		last := round == rounds+1
		nc, err := nats.Connect(s.url(), nats.NoReconnect())
		must(t, err)
		js, err := nc.JetStream(nats.PublishAsyncMaxPending(128), nats.MaxWait(5*time.Second))
		must(t, err)
		if round > 1 {
			crashVerify(t, js, streams, cons, round, ref)
		}
		if last {
			crashDrain(t, js, cons, round, ref)
			nc.Close()
			break
		}

		before := len(streams[1].acked)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex // guards the crashStream maps while publishers run
		for _, st := range streams {
			wg.Add(1)
			go func(st *crashStream) {
				defer wg.Done()
				crashPublish(js, st, round, stop, &mu)
			}(st)
		}
		pull, err := js.PullSubscribe("", "", nats.Bind("CRB", "PULL"))
		must(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				msgs, err := pull.Fetch(64, nats.MaxWait(500*time.Millisecond))
				if err == nats.ErrConnectionClosed {
					return
				}
				for _, m := range msgs {
					cons[0].delivered(round, m)
				}
				cons[0].wait()
			}
		}()
		_, err = js.Subscribe("", func(m *nats.Msg) { cons[1].delivered(round, m) },
			nats.Bind("CRB", "PUSH"), nats.ManualAck())
		must(t, err)

		// Kill at a random moment once the first acks of the round are in.
		waitFor(t, 20*time.Second, "first PubAck of the round", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(streams[1].acked) > before
		})
		delay := time.Duration(50+rng.Intn(1450)) * time.Millisecond
		time.Sleep(delay) // the random moment itself: no assertion depends on it
		s.kill()
		close(stop)
		nc.Close()
		wg.Wait()
		for _, c := range cons {
			c.wait()
		}
		n := 0
		for _, st := range streams {
			n += len(st.acked)
		}
		t.Logf("round %d: killed after %v, %d acknowledged messages so far (PULL floor %d, PUSH floor %d)",
			round, delay, n, cons[0].floor(), cons[1].floor())
		totalAcked = n
		s.start()
	}
	if totalAcked == 0 {
		t.Fatal("no message was acknowledged")
	}
}

// waitFor polls cond every 5 ms until it holds, failing after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// crashPublish sends until stop, recording acknowledged sequences.
func crashPublish(js nats.JetStreamContext, st *crashStream, round int, stop chan struct{},
	mu *sync.Mutex) {
	type sent struct {
		f    nats.PubAckFuture
		data string
	}
	futures := make(chan sent, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var rest []sent
		for p := range futures {
			if rest != nil {
				rest = append(rest, p)
				continue
			}
			select {
			case a := <-p.f.Ok():
				crashAcked(st, a, p.data, mu)
			case <-p.f.Err():
				crashUnacked(st, p.data, mu)
			case <-stop:
				rest = append(rest, p)
			}
		}
		// Killed: whatever ack arrived before the close still counts.
		for _, p := range rest {
			select {
			case a := <-p.f.Ok():
				crashAcked(st, a, p.data, mu)
			default:
				crashUnacked(st, p.data, mu)
			}
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
			close(futures)
			<-done
			return
		default:
		}
		data := fmt.Sprintf("%s-%d-%d", st.name, round, i)
		var opts []nats.PubOpt
		if st.msgID {
			opts = append(opts, nats.MsgId(data))
		}
		mu.Lock()
		st.published[data] = true
		mu.Unlock()
		f, err := js.PublishAsync(st.subj, []byte(data), opts...)
		if err != nil {
			crashUnacked(st, data, mu)
			select {
			case <-stop:
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		futures <- sent{f, data}
	}
}

func crashAcked(st *crashStream, a *nats.PubAck, data string, mu *sync.Mutex) {
	mu.Lock()
	defer mu.Unlock()
	st.acked[a.Sequence] = data
	if st.msgID {
		st.ids[data] = a.Sequence
	}
}

func crashUnacked(st *crashStream, data string, mu *sync.Mutex) {
	if !st.msgID {
		return
	}
	mu.Lock()
	st.unacked = append(st.unacked, data)
	mu.Unlock()
}

// crashVerify checks the streams and consumers right after a restart.
func crashVerify(t *testing.T, js nats.JetStreamContext, streams []*crashStream,
	cons []*crashConsumer, round int, ref bool) {
	t.Helper()
	for _, st := range streams {
		si := info(t, js, st.name)
		var maxAcked uint64
		for seq := range st.acked {
			if seq > maxAcked {
				maxAcked = seq
			}
		}
		if si.State.LastSeq < maxAcked {
			t.Fatalf("round %d: %s ends at %d, but %d was acknowledged", round, st.name,
				si.State.LastSeq, maxAcked)
		}
		if si.State.Msgs > 0 && si.State.Msgs != si.State.LastSeq-si.State.FirstSeq+1 {
			t.Fatalf("round %d: %s holds %d messages in %d..%d (%d deleted): a hole", round,
				st.name, si.State.Msgs, si.State.FirstSeq, si.State.LastSeq, si.State.NumDeleted)
		}
		if st.name != "CRL" && si.State.Msgs > 0 && si.State.FirstSeq != 1 {
			t.Fatalf("round %d: %s starts at %d", round, st.name, si.State.FirstSeq)
		}
		// Read first..last in order: contiguous, the acknowledged data,
		// nothing we never sent, no msg-id twice.
		stored := map[string]uint64{}
		if si.State.Msgs > 0 {
			sub, err := js.SubscribeSync(st.subj, nats.OrderedConsumer(),
				nats.StartSequence(si.State.FirstSeq))
			must(t, err)
			want := si.State.FirstSeq
			for want <= si.State.LastSeq {
				m, err := sub.NextMsg(10 * time.Second)
				if err != nil {
					t.Fatalf("round %d: %s reading seq %d of %d..%d: %v", round, st.name, want,
						si.State.FirstSeq, si.State.LastSeq, err)
				}
				md, err := m.Metadata()
				must(t, err)
				if md.Sequence.Stream != want {
					t.Fatalf("round %d: %s: seq %d where %d was expected", round, st.name,
						md.Sequence.Stream, want)
				}
				if d, ok := st.acked[want]; ok && d != string(m.Data) {
					t.Fatalf("round %d: %s seq %d holds %q, acknowledged %q", round, st.name,
						want, m.Data, d)
				}
				if !st.published[string(m.Data)] {
					t.Fatalf("round %d: %s seq %d holds %q, never published", round, st.name,
						want, m.Data)
				}
				if prev, ok := stored[string(m.Data)]; ok && st.msgID {
					t.Fatalf("round %d: %s holds msg-id %s twice (seq %d and %d)", round,
						st.name, m.Data, prev, want)
				}
				stored[string(m.Data)] = want
				want++
			}
			must(t, sub.Unsubscribe())
		}
		for seq := range st.acked {
			if seq < si.State.FirstSeq {
				delete(st.acked, seq) // gone by the max_msgs limit
			}
		}
		if st.msgID {
			crashDedup(t, js, st, round, stored)
		}
	}
	for _, c := range cons {
		ci, err := js.ConsumerInfo("CRB", c.name)
		must(t, err)
		f := c.floor()
		if ci.AckFloor.Stream < f {
			if ref {
				t.Logf("round %d: nats-server: %s ack floor %d after SIGKILL, below the confirmed %d",
					round, c.name, ci.AckFloor.Stream, f)
				continue
			}
			t.Fatalf("round %d: %s ack floor %d after the restart, but 1..%d were acknowledged (AckSync confirmed)",
				round, c.name, ci.AckFloor.Stream, f)
		}
		c.mu.Lock()
		if ci.AckFloor.Stream > c.observed {
			c.observed = ci.AckFloor.Stream
		}
		c.mu.Unlock()
	}
}

// crashDedup re-publishes acknowledged msg-ids (each must be a duplicate
// of its first sequence) and the un-acknowledged ones (a duplicate when
// the first copy was stored, with that copy's data, else a new message).
func crashDedup(t *testing.T, js nats.JetStreamContext, st *crashStream, round int,
	stored map[string]uint64) {
	t.Helper()
	var recent []string
	for id, seq := range st.ids {
		if _, ok := st.acked[seq]; ok {
			recent = append(recent, id)
		}
		if len(recent) >= 40 {
			break
		}
	}
	for _, id := range recent {
		a, err := js.Publish(st.subj, []byte(id), nats.MsgId(id))
		must(t, err)
		if !a.Duplicate || a.Sequence != st.ids[id] {
			t.Fatalf("round %d: msg-id %s again: seq %d duplicate=%v, first stored as %d",
				round, id, a.Sequence, a.Duplicate, st.ids[id])
		}
	}
	unacked := st.unacked
	st.unacked = nil
	if len(unacked) > 40 {
		unacked = unacked[len(unacked)-40:]
	}
	for _, id := range unacked {
		a, err := js.Publish(st.subj, []byte(id), nats.MsgId(id))
		must(t, err)
		if seq, ok := stored[id]; ok && (!a.Duplicate || a.Sequence != seq) {
			t.Fatalf("round %d: msg-id %s, stored as seq %d before the kill (its PubAck lost), again: seq %d duplicate=%v",
				round, id, seq, a.Sequence, a.Duplicate)
		}
		if a.Duplicate {
			m, err := js.GetMsg(st.name, a.Sequence)
			must(t, err)
			if string(m.Data) != id {
				t.Fatalf("round %d: msg-id %s is a duplicate of seq %d holding %q", round, id,
					a.Sequence, m.Data)
			}
		}
		st.acked[a.Sequence] = id
		st.ids[id] = a.Sequence
	}
}

// crashDrain: no more publishers; both consumers get every message of CRB
// acknowledged, the un-acked ones of earlier lives coming back.
func crashDrain(t *testing.T, js nats.JetStreamContext, cons []*crashConsumer, round int,
	ref bool) {
	t.Helper()
	si := info(t, js, "CRB")
	lastSeq := si.State.LastSeq
	pull, err := js.PullSubscribe("", "", nats.Bind("CRB", "PULL"))
	must(t, err)
	_, err = js.Subscribe("", func(m *nats.Msg) { cons[1].delivered(round, m) },
		nats.Bind("CRB", "PUSH"), nats.ManualAck())
	must(t, err)
	// Done when the server has every message acknowledged; an ack whose
	// reply a kill cut off may have been stored, so the client's own record
	// only has to show that each message was delivered at least once.
	deadline := time.Now().Add(90 * time.Second)
	for {
		done := true
		for _, c := range cons {
			ci, err := js.ConsumerInfo("CRB", c.name)
			must(t, err)
			if ci.AckFloor.Stream < lastSeq || ci.NumAckPending != 0 || ci.NumPending != 0 {
				done = false
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s 90 s after the last restart: delivered %+v ack floor %+v pending %d ack pending %d redelivered %d, stream at %d",
					c.name, ci.Delivered, ci.AckFloor, ci.NumPending, ci.NumAckPending,
					ci.NumRedelivered, lastSeq)
			}
		}
		if done {
			break
		}
		msgs, _ := pull.Fetch(256, nats.MaxWait(200*time.Millisecond))
		for _, m := range msgs {
			cons[0].delivered(round, m)
		}
		cons[0].wait()
	}
	for _, c := range cons {
		c.wait()
		c.mu.Lock()
		for seq := uint64(1); seq <= lastSeq; seq++ {
			if !c.seen[seq] {
				c.mu.Unlock()
				t.Fatalf("%s: the server counts seq %d acknowledged, it was never delivered",
					c.name, seq)
			}
		}
		bad, first := c.redelivers, c.firstBad
		c.mu.Unlock()
		if bad > 0 {
			if ref {
				t.Logf("nats-server: %s delivered %d confirmed-acked messages again after a SIGKILL (%s)",
					c.name, bad, first)
				continue
			}
			t.Fatalf("%s delivered %d confirmed-acked messages again after a SIGKILL: %s",
				c.name, bad, first)
		}
	}
	t.Logf("CRB: %d messages, every one acknowledged by PULL and PUSH across %d restarts",
		lastSeq, round-1)
}

// Term, InProgress and Nak with a wait are requests (nats.go): the server
// answers every ack kind that has a reply subject, once it is applied (and,
// with modnats, stored).  After a SIGKILL the confirmed Term and AckSync
// hold (those messages never come back); the Nak'd and in-progress ones
// are redelivered.
func TestJSSyncAckKindsSurviveKill(t *testing.T) {
	ref := isNatsServer(serverBin(t))
	s := startJS(t)
	nc := connect(t, s, nats.NoReconnect())
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "SK", Subjects: []string{"sk.>"}})
	must(t, err)
	_, err = js.AddConsumer("SK", &nats.ConsumerConfig{Durable: "SKC",
		AckPolicy: nats.AckExplicitPolicy, AckWait: time.Second})
	must(t, err)
	for i := 1; i <= 4; i++ {
		_, err := js.Publish(fmt.Sprint("sk.", i), []byte(fmt.Sprint(i)))
		must(t, err)
	}
	sub, err := js.PullSubscribe("", "", nats.Bind("SK", "SKC"))
	must(t, err)
	var msgs []*nats.Msg
	waitFor(t, 10*time.Second, "4 deliveries", func() bool {
		got, _ := sub.Fetch(4-len(msgs), nats.MaxWait(500*time.Millisecond))
		msgs = append(msgs, got...)
		return len(msgs) >= 4
	})
	wait := nats.AckWait(5 * time.Second)
	must(t, msgs[0].Term(wait))
	must(t, msgs[1].InProgress(wait))
	must(t, msgs[2].Nak(wait))
	must(t, msgs[3].AckSync(wait))
	s.kill()
	nc.Close()
	s.start()

	nc = connect(t, s)
	js = jsCtx(t, nc)
	sub, err = js.PullSubscribe("", "", nats.Bind("SK", "SKC"))
	must(t, err)
	got := map[uint64]int{}
	waitFor(t, 20*time.Second, "seq 2 and 3 redelivered, nothing pending", func() bool {
		batch, _ := sub.Fetch(4, nats.MaxWait(300*time.Millisecond))
		for _, m := range batch {
			md, err := m.Metadata()
			must(t, err)
			got[md.Sequence.Stream]++
			must(t, m.AckSync())
		}
		ci, err := js.ConsumerInfo("SK", "SKC")
		return err == nil && got[2] > 0 && got[3] > 0 && ci.NumAckPending == 0 &&
			ci.NumPending == 0
	})
	if got[1] > 0 || got[4] > 0 {
		if ref {
			t.Logf("nats-server: after a SIGKILL the confirmed Term / AckSync were lost (redelivered: %v)", got)
			return
		}
		t.Fatalf("confirmed Term (seq 1) or AckSync (seq 4) lost at the SIGKILL: redelivered %v", got)
	}
	ci, err := js.ConsumerInfo("SK", "SKC")
	must(t, err)
	if ci.AckFloor.Stream != 4 {
		t.Fatalf("ack floor %d at the end, want 4", ci.AckFloor.Stream)
	}
}

// API requests answered before a SIGKILL hold after it: streams and durable
// consumers created, deleted and purged one after the other while the
// server is killed at a random moment; after the restart every answered
// request shows, and only the one in flight may have gone either way.
func TestJSCrashAPI(t *testing.T) {
	seed := envInt("MN_CRASH_SEED", time.Now().UnixNano())
	t.Logf("seed %d (MN_CRASH_SEED=%d repeats its kill moments)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	s := startJS(t)
	streams := map[string]bool{}   // answered: name -> exists
	consumers := map[string]bool{} // on stream API0
	inflight := ""                 // the stream or consumer of the unanswered request
	next := 0
	for round := 1; round <= 5; round++ {
		nc, err := nats.Connect(s.url(), nats.NoReconnect())
		must(t, err)
		js, err := nc.JetStream(nats.MaxWait(5 * time.Second))
		must(t, err)
		if round > 1 {
			names := map[string]bool{}
			for n := range js.StreamNames() {
				names[n] = true
			}
			for name, want := range streams {
				if name != inflight && names[name] != want {
					t.Fatalf("round %d: stream %s exists=%v, answered as %v before the kill",
						round, name, names[name], want)
				}
				streams[name] = names[name]
			}
			cnames := map[string]bool{}
			if names["API0"] {
				for n := range js.ConsumerNames("API0") {
					cnames[n] = true
				}
			}
			for name, want := range consumers {
				if name != inflight && cnames[name] != want {
					t.Fatalf("round %d: consumer %s exists=%v, answered as %v before the kill",
						round, name, cnames[name], want)
				}
				consumers[name] = cnames[name]
			}
			if streams["API0"] {
				si := info(t, js, "API0")
				if si.State.Msgs != 0 && inflight != "API0" {
					t.Fatalf("round %d: API0 purged before the kill holds %d messages", round,
						si.State.Msgs)
				}
			}
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				var err error
				switch i % 4 {
				case 0: // a new stream, and the one before last goes
					name := fmt.Sprint("API", next)
					inflight = name
					_, err = js.AddStream(&nats.StreamConfig{Name: name,
						Subjects: []string{fmt.Sprint("api.", next, ".>")}})
					if err == nil {
						streams[name] = true
						next++
					}
				case 1:
					if next >= 3 {
						name := fmt.Sprint("API", next-2)
						inflight = name
						if err = js.DeleteStream(name); err == nil {
							streams[name] = false
						}
					}
				case 2: // a durable on API0, the one before it deleted
					if !streams["API0"] {
						continue
					}
					name := fmt.Sprint("C", i)
					inflight = name
					_, err = js.AddConsumer("API0", &nats.ConsumerConfig{Durable: name,
						AckPolicy: nats.AckExplicitPolicy})
					if err == nil {
						consumers[name] = true
						if old := fmt.Sprint("C", i-4); consumers[old] {
							inflight = old
							if err = js.DeleteConsumer("API0", old); err == nil {
								consumers[old] = false
							}
						}
					}
				case 3: // a message into API0, then a purge
					if !streams["API0"] {
						continue
					}
					inflight = "API0"
					if _, err = js.Publish("api.0.x", []byte("x")); err == nil {
						err = js.PurgeStream("API0")
					}
				}
				if err != nil {
					return // killed
				}
				inflight = ""
			}
		}()
		time.Sleep(time.Duration(20+rng.Intn(300)) * time.Millisecond) // the random moment
		s.kill()
		nc.Close()
		<-done
		s.start()
	}
	t.Logf("%d streams created over 5 SIGKILLs", next)
	if next < 5 {
		t.Fatalf("only %d streams created", next)
	}
}
