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
		conf += "  sync = \"interval\";\n  sync_interval = \"1h\";\n"
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
	_, err = js.AddStream(&nats.StreamConfig{Name: "PC", Subjects: []string{"pc.>"}})
	must(t, err)
	// The stream itself is not what is tested: make it durable.
	if out, err := exec.Command("sync", "-f", os.Getenv("MN_POWERCUT_STORE")).CombinedOutput(); err != nil {
		t.Fatalf("sync -f: %v %s", err, out)
	}
	target := int(envInt("MN_POWERCUT_MSGS", 4000))
	var mu sync.Mutex
	acked := map[uint64]string{}
	stop := make(chan struct{})
	done := make(chan struct{})
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
			data := fmt.Sprintf("pc-%d-%s", i, strings.Repeat("x", i%200))
			f, err := js.PublishAsync("pc.x", []byte(data))
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
	waitFor(t, 60*time.Second, fmt.Sprintf("%d PubAcks", target), func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= target
	})
	s.kill() // mid-stream: the publisher is still sending
	if out, err := exec.Command("sh", "-c", os.Getenv("MN_POWERCUT_SNAPSHOT")).CombinedOutput(); err != nil {
		t.Fatalf("snapshot %q: %v %s", os.Getenv("MN_POWERCUT_SNAPSHOT"), err, out)
	}
	close(stop)
	nc.Close()
	<-done
	mu.Lock()
	defer mu.Unlock()
	buf, err := json.Marshal(acked)
	must(t, err)
	must(t, os.WriteFile(ackedFile, buf, 0644))
	t.Logf("%d acknowledged messages before the SIGKILL", len(acked))
}

func powercutVerify(t *testing.T, nc *nats.Conn, ackedFile string) {
	buf, err := os.ReadFile(ackedFile)
	must(t, err)
	acked := map[uint64]string{}
	must(t, json.Unmarshal(buf, &acked))
	js := jsCtx(t, nc)
	lost, wrong := 0, 0
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
	}
	stream := "missing"
	if si != nil {
		stream = fmt.Sprintf("%d..%d", si.State.FirstSeq, si.State.LastSeq)
	}
	fmt.Printf("POWERCUT sync=%s acked=%d lost=%d wrong=%d stream=%s\n",
		os.Getenv("MN_POWERCUT_SYNC"), len(acked), lost, wrong, stream)
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
	case "some":
		if lost == 0 {
			t.Fatalf("the power cut lost none of %d acknowledged messages: it does not bite",
				len(acked))
		}
	}
}
