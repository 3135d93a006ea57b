// jetstream_pace_test.go - the pace of consumer deliveries with nats.go:
// replay_policy original (messages come with the gaps they were stored
// with, then live ones at once) and rate_limit_bps on a push consumer
// (refused on a pull consumer with err_code 10086).  No timed upper
// bounds: the assertions are lower bounds on how long deliveries took,
// with generous slack, which a server that ignores the setting fails.
package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestJSReplayOriginal(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "RP", Subjects: []string{"rp"}})
	must(t, err)
	const n = 4
	const gap = 300 * time.Millisecond
	for i := 1; i <= n; i++ {
		if i > 1 {
			time.Sleep(gap) // the spacing under test, not a wait for the server
		}
		_, err = js.Publish("rp", []byte(fmt.Sprint(i)))
		must(t, err)
	}
	sub, err := js.SubscribeSync("rp", nats.ReplayOriginal(), nats.AckNone())
	must(t, err)
	var stored, got [n]time.Time
	for i := 0; i < n; i++ {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		got[i] = time.Now()
		md, err := m.Metadata()
		must(t, err)
		if md.Sequence.Stream != uint64(i+1) || string(m.Data) != fmt.Sprint(i+1) {
			t.Fatalf("delivery %d: stream seq %d %q", i+1, md.Sequence.Stream, m.Data)
		}
		stored[i] = md.Timestamp
	}
	// Each message comes at least its stored distance after the first
	// (less a slack for the first one's own delay on a busy machine);
	// an instant replay brings them all within microseconds.
	const slack = gap / 2
	for i := 1; i < n; i++ {
		if g := stored[i].Sub(stored[i-1]); g < gap {
			t.Fatalf("stored gap %d: %v, the publisher slept %v", i, g, gap)
		}
		want := stored[i].Sub(stored[0])
		if d := got[i].Sub(got[0]); d < want-slack {
			t.Fatalf("message %d came %v after the first; stored %v after it", i+1, d, want)
		}
	}
	// Caught up: a new message comes (live, no replay gap to wait for).
	_, err = js.Publish("rp", []byte("live"))
	must(t, err)
	m, err := sub.NextMsg(10 * time.Second)
	must(t, err)
	if string(m.Data) != "live" {
		t.Fatalf("after the replay: %q", m.Data)
	}
	ci, err := sub.ConsumerInfo()
	must(t, err)
	if ci.Config.ReplayPolicy != nats.ReplayOriginalPolicy || ci.Delivered.Stream != n+1 {
		t.Fatalf("consumer: replay %v delivered %d", ci.Config.ReplayPolicy, ci.Delivered.Stream)
	}
}

func TestJSRateLimit(t *testing.T) {
	s := startJS(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)
	// The bucket is as deep as the stream's max_msg_size (nats-server), so
	// only the first two messages can leave at once.
	const maxMsg = 2048
	_, err := js.AddStream(&nats.StreamConfig{Name: "RL", Subjects: []string{"rl"},
		MaxMsgSize: maxMsg})
	must(t, err)
	_, err = js.AddConsumer("RL", &nats.ConsumerConfig{Durable: "pull", RateLimit: 8000,
		AckPolicy: nats.AckExplicitPolicy})
	wantCode(t, "pull consumer with rate_limit_bps", err, 10086)

	const n, size, bps = 5, 1024, 8000
	payload := make([]byte, size)
	for i := 0; i < n; i++ {
		_, err = js.Publish("rl", payload)
		must(t, err)
	}
	start := time.Now()
	sub, err := js.SubscribeSync("rl", nats.RateLimit(bps), nats.AckNone())
	must(t, err)
	for i := 1; i <= n; i++ {
		m, err := sub.NextMsg(30 * time.Second)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		md, err := m.Metadata()
		must(t, err)
		if md.Sequence.Stream != uint64(i) || len(m.Data) != size {
			t.Fatalf("delivery %d: stream seq %d, %d bytes", i, md.Sequence.Stream, len(m.Data))
		}
	}
	took := time.Since(start)
	// At bps/8 bytes a second, what the full bucket did not cover takes
	// at least this long (each delivery also counts its subject and ack
	// reply, so the real figure is larger).
	least := time.Duration(float64(n*size-maxMsg) * 8 / bps * float64(time.Second))
	if took < least-250*time.Millisecond {
		t.Fatalf("%d messages of %d bytes at %d bps took %v, at least %v expected", n, size,
			bps, took, least)
	}
	ci, err := sub.ConsumerInfo()
	must(t, err)
	if ci.Config.RateLimit != bps {
		t.Fatalf("rate_limit_bps reported as %d", ci.Config.RateLimit)
	}
	t.Logf("%d messages of %d bytes at %d bps: %v (lower bound %v)", n, size, bps, took, least)
}
