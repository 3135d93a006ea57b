// jetstream_powercut_test.go - the client side of the real power-cut test,
// driven by tests/integration/powercut/powercut.sh (skipped otherwise),
// which owns the ext4 image, the loop device and the mounts.
//
// Phase "publish": start the server with its store in MN_POWERCUT_STORE,
// create stream PC, make the file system durable (syncfs) so that only
// what follows is at stake, publish asynchronously with acks, SIGKILL the
// server mid-stream and at once run MN_POWERCUT_SNAPSHOT (the script's
// copy of the image: only what reached the block device survives), then
// write the acknowledged sequences and payloads to MN_POWERCUT_ACKED.
//
// Phase "verify": start the server on the copy and count acknowledged
// messages that are missing or different.  MN_POWERCUT_EXPECT says what
// must hold: "none" (no loss, sequences contiguous), "some" (loss > 0:
// the cut bites), "report" (a figure only).
package integration

import (
	"encoding/json"
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

func powercutConf(t *testing.T) string {
	store := os.Getenv("MN_POWERCUT_STORE")
	conf := fmt.Sprintf("jetstream = {\n  store_dir = %q;\n", store)
	switch mode := os.Getenv("MN_POWERCUT_SYNC"); mode {
	case "":
	case "interval":
		iv := os.Getenv("MN_POWERCUT_INTERVAL")
		if iv == "" {
			iv = "1h"
		}
		conf += fmt.Sprintf("  sync = \"interval\";\n  sync_interval = %q;\n", iv)
	default:
		conf += fmt.Sprintf("  sync = %q;\n", mode)
	}
	return conf + "};\n"
}

func TestJSPowerCutPhase(t *testing.T) {
	phase := os.Getenv("MN_POWERCUT_PHASE")
	if phase == "" {
		t.Skip("run by tests/integration/powercut/powercut.sh")
	}
	ackedFile := os.Getenv("MN_POWERCUT_ACKED")
	s := startServerConf(t, powercutConf(t))
	nc := connect(t, s)
	defer nc.Close()
	switch phase {
	case "publish":
		powercutPublish(t, s, nc, ackedFile)
	case "verify":
		powercutVerify(t, nc, ackedFile)
	default:
		t.Fatalf("MN_POWERCUT_PHASE=%q", phase)
	}
}

func powercutPublish(t *testing.T, s *server, nc *nats.Conn, ackedFile string) {
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(256), nats.MaxWait(10*time.Second))
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "PC", Subjects: []string{"pc.>"},
		Duplicates: time.Hour})
	must(t, err)
	_, err = js.AddConsumer("PC", &nats.ConsumerConfig{Durable: "PCC",
		AckPolicy: nats.AckExplicitPolicy, AckWait: time.Second, MaxAckPending: 100000})
	must(t, err)
	// Answered deletes and purges are at stake too: PCDEL deleted, PCPURGE
	// purged, both after a few messages.
	for _, name := range []string{"PCDEL", "PCPURGE"} {
		_, err = js.AddStream(&nats.StreamConfig{Name: name, Subjects: []string{strings.ToLower(name)}})
		must(t, err)
		for i := 0; i < 10; i++ {
			_, err = js.Publish(strings.ToLower(name), []byte("gone"))
			must(t, err)
		}
	}
	must(t, js.DeleteStream("PCDEL"))
	must(t, js.PurgeStream("PCPURGE"))
	// With MN_POWERCUT_SYNCFS the stream and consumer are made durable
	// first, so only the messages and acks are at stake (nats-server and
	// sync = interval: else the stream itself may be gone).
	if os.Getenv("MN_POWERCUT_SYNCFS") != "" {
		if out, err := exec.Command("sync", "-f", os.Getenv("MN_POWERCUT_STORE")).CombinedOutput(); err != nil {
			t.Fatalf("sync -f: %v %s", err, out)
		}
	}
	target := int(envInt("MN_POWERCUT_MSGS", 4000))
	size := int(envInt("MN_POWERCUT_SIZE", 0))
	var mu sync.Mutex
	acked := map[uint64]string{}
	confirmed := map[uint64]bool{} // the consumer's AckSync replies that came back
	stop := make(chan struct{})
	done := make(chan struct{})
	cdone := make(chan struct{})
	pull, err := js.PullSubscribe("", "", nats.Bind("PC", "PCC"))
	must(t, err)
	go func() {
		defer close(cdone)
		var wg sync.WaitGroup
		defer wg.Wait()
		sem := make(chan struct{}, 64)
		for {
			select {
			case <-stop:
				return
			default:
			}
			msgs, err := pull.Fetch(64, nats.MaxWait(200*time.Millisecond))
			if err == nats.ErrConnectionClosed {
				return
			}
			for _, m := range msgs {
				md, err := m.Metadata()
				if err != nil {
					continue
				}
				sem <- struct{}{}
				wg.Add(1)
				go func(m *nats.Msg, seq uint64) {
					defer func() { <-sem; wg.Done() }()
					if m.AckSync(nats.AckWait(10*time.Second)) == nil {
						mu.Lock()
						confirmed[seq] = true
						mu.Unlock()
					}
				}(m, md.Sequence.Stream)
			}
		}
	}()
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		defer wg.Wait()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("pc-%d", i)
			data := id + "-" + strings.Repeat("x", i%200+size)
			f, err := js.PublishAsync("pc.x", []byte(data), nats.MsgId(id))
			if err != nil {
				continue
			}
			wg.Add(1)
			go func(f nats.PubAckFuture, data string) {
				defer wg.Done()
				select {
				case a := <-f.Ok():
					mu.Lock()
					acked[a.Sequence] = data
					mu.Unlock()
				case <-f.Err():
				case <-stop:
					select { // an ack read before the close still counts
					case a := <-f.Ok():
						mu.Lock()
						acked[a.Sequence] = data
						mu.Unlock()
					default:
					}
				}
			}(f, data)
		}
	}()
	// MN_POWERCUT_SECONDS: publish at least that long too (for a figure of
	// what sync = interval keeps of a run longer than its interval).
	minEnd := time.Now().Add(time.Duration(envInt("MN_POWERCUT_SECONDS", 0)) * time.Second)
	waitFor(t, 120*time.Second, fmt.Sprintf("%d PubAcks", target), func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= target && !time.Now().Before(minEnd)
	})
	s.kill() // mid-stream: the publisher is still sending
	if out, err := exec.Command("sh", "-c", os.Getenv("MN_POWERCUT_SNAPSHOT")).CombinedOutput(); err != nil {
		t.Fatalf("snapshot %q: %v %s", os.Getenv("MN_POWERCUT_SNAPSHOT"), err, out)
	}
	// modnats: RocksDB table files at the kill (a memtable flush happened
	// when there are any).
	ssts, _ := filepath.Glob(filepath.Join(os.Getenv("MN_POWERCUT_STORE"), "jetstream", "rocks", "*.sst"))
	fmt.Printf("POWERCUT-KILL sst_files=%d\n", len(ssts))
	close(stop)
	nc.Close()
	<-done
	<-cdone
	mu.Lock()
	defer mu.Unlock()
	buf, err := json.Marshal(powercutRecord{Acked: acked, Confirmed: confirmed})
	must(t, err)
	must(t, os.WriteFile(ackedFile, buf, 0644))
	t.Logf("%d acknowledged messages, %d consumer acks confirmed before the SIGKILL",
		len(acked), len(confirmed))
}

// powercutRecord is what the publish phase leaves for the verify phase.
type powercutRecord struct {
	Acked     map[uint64]string // PubAck'd sequence -> payload
	Confirmed map[uint64]bool   // sequences whose consumer AckSync was answered
}

func powercutVerify(t *testing.T, nc *nats.Conn, ackedFile string) {
	buf, err := os.ReadFile(ackedFile)
	must(t, err)
	var rec powercutRecord
	must(t, json.Unmarshal(buf, &rec))
	acked := rec.Acked
	js := jsCtx(t, nc)
	lost, wrong, dupFail, ackLost := 0, 0, 0, 0
	var maxAcked uint64
	si, err := js.StreamInfo("PC")
	if err != nil {
		t.Logf("stream PC after the power cut: %v", err)
		lost = len(acked)
	} else {
		for seq, data := range acked {
			if seq > maxAcked {
				maxAcked = seq
			}
			m, err := js.GetMsg("PC", seq)
			if err != nil {
				lost++
			} else if string(m.Data) != data {
				wrong++
			}
		}
		// The duplicate window survives: acknowledged msg-ids (up to 200)
		// published again are duplicates of their first sequence.
		n := 0
		for seq, data := range acked {
			if n++; n > 200 {
				break
			}
			id := data[:strings.LastIndex(data, "-")]
			a, err := js.Publish("pc.x", []byte(data), nats.MsgId(id))
			if err != nil || !a.Duplicate || a.Sequence != seq {
				dupFail++
			}
		}
	}
	// The consumer: its ack floor covers the confirmed prefix, and no
	// message whose AckSync was answered comes again; the rest does.
	var floor uint64
	for rec.Confirmed[floor+1] {
		floor++
	}
	ackFloor := uint64(0)
	if ci, err := js.ConsumerInfo("PC", "PCC"); err == nil {
		ackFloor = ci.AckFloor.Stream
		pull, err := js.PullSubscribe("", "", nats.Bind("PC", "PCC"))
		must(t, err)
		deadline := time.Now().Add(30 * time.Second)
		for ci.NumPending > 0 || ci.NumAckPending > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("consumer PCC not drained in 30 s: %d pending, %d ack pending",
					ci.NumPending, ci.NumAckPending)
			}
			msgs, _ := pull.Fetch(256, nats.MaxWait(200*time.Millisecond))
			for _, m := range msgs {
				if md, err := m.Metadata(); err == nil && rec.Confirmed[md.Sequence.Stream] {
					ackLost++
				}
				must(t, m.Ack())
			}
			ci, err = js.ConsumerInfo("PC", "PCC")
			must(t, err)
		}
	} else {
		t.Logf("consumer PCC after the power cut: %v", err)
		ackLost = len(rec.Confirmed)
	}
	// The delete and the purge answered before the cut.
	undone := 0
	if _, err := js.StreamInfo("PCDEL"); err == nil {
		undone++
	}
	if pi, err := js.StreamInfo("PCPURGE"); err != nil || pi.State.Msgs != 0 {
		undone++
	}
	stream := "missing"
	if si != nil {
		stream = fmt.Sprintf("%d..%d", si.State.FirstSeq, si.State.LastSeq)
	}
	fmt.Printf("POWERCUT sync=%s acked=%d lost=%d wrong=%d stream=%s dedup_fail=%d consumer_acks=%d ack_floor=%d/%d acks_lost=%d api_undone=%d\n",
		os.Getenv("MN_POWERCUT_SYNC"), len(acked), lost, wrong, stream, dupFail,
		len(rec.Confirmed), ackFloor, floor, ackLost, undone)
	switch os.Getenv("MN_POWERCUT_EXPECT") {
	case "none":
		if lost+wrong > 0 {
			t.Fatalf("power cut: %d of %d acknowledged messages lost, %d changed", lost,
				len(acked), wrong)
		}
		if si == nil {
			t.Fatal("power cut: stream PC is gone")
		}
		if si.State.LastSeq < maxAcked || si.State.Msgs != si.State.LastSeq-si.State.FirstSeq+1 ||
			si.State.FirstSeq != 1 {
			t.Fatalf("power cut: stream holds %d messages in %d..%d, %d acknowledged up to %d",
				si.State.Msgs, si.State.FirstSeq, si.State.LastSeq, len(acked), maxAcked)
		}
		if dupFail > 0 {
			t.Fatalf("power cut: %d acknowledged msg-ids were not duplicates any more", dupFail)
		}
		if undone > 0 {
			t.Fatalf("power cut: the answered delete of PCDEL or purge of PCPURGE was undone")
		}
		if ackFloor < floor || ackLost > 0 {
			t.Fatalf("power cut: consumer ack floor %d, confirmed up to %d; %d confirmed acks delivered again",
				ackFloor, floor, ackLost)
		}
	case "some":
		if lost == 0 {
			t.Fatalf("the power cut lost none of %d acknowledged messages: it does not bite",
				len(acked))
		}
	}
}
