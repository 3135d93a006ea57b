// jetstream_bench_test.go - JetStream publish throughput and latency of the
// server under test, run only when MN_JS_BENCH is set (not part of the
// suite):
//
//	MN_JS_BENCH=1 MN_JS_BENCH_ARGS="-c js-interval.conf" run_go.sh <server> <work> -run TestJSBench
//
// Async: 50,000 PublishAsync of 128 bytes with at most 1,000 acks pending,
// until every ack is in.  Sync: 2,000 Publish calls one after another
// (one round trip and, for modnats's default, one fsync each).
package integration

import (
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestJSBench(t *testing.T) {
	if os.Getenv("MN_JS_BENCH") == "" {
		t.Skip("MN_JS_BENCH not set")
	}
	args := []string{"-js", "-sd", t.TempDir()}
	if extra := os.Getenv("MN_JS_BENCH_ARGS"); extra != "" {
		args = append(args, strings.Fields(extra)...)
	}
	s := startServer(t, args...)
	nc := connect(t, s)
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(1000))
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "B", Subjects: []string{"b"}})
	must(t, err)
	payload := make([]byte, 128)

	const n = 50000
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := js.PublishAsync("b", payload); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(120 * time.Second):
		t.Fatal("acks did not all come back")
	}
	el := time.Since(start)
	t.Logf("async: %d msgs in %v = %.0f msgs/s", n, el, float64(n)/el.Seconds())

	const m = 2000
	lat := make([]time.Duration, 0, m)
	start = time.Now()
	for i := 0; i < m; i++ {
		t0 := time.Now()
		if _, err := js.Publish("b", payload); err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	el = time.Since(start)
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	t.Logf("sync: %d msgs in %v = %.0f msgs/s, p50 %v p99 %v", m, el, float64(m)/el.Seconds(),
		lat[m/2], lat[m*99/100])
}
