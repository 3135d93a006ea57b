// jetstream_mon_test.go - JetStream monitoring as nats-server 2.9 offers it:
// the $JS.EVENT advisories and the ack metric (subjects, types, the members
// clients read), /jsz with its options, the "jetstream" section of /varz,
// and $SYS.REQ.SERVER.PING.JSZ.  Every test runs against nats-server 2.9.10
// too (MN_TEST_SERVER=/usr/sbin/nats-server), which is where the shapes and
// numbers below were taken from.
package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// An event on $JS.EVENT.>, with the members of every kind we check.
type jsEvent struct {
	Subject     string
	Raw         string
	Type        string `json:"type"`
	ID          string `json:"id"`
	Timestamp   string `json:"timestamp"`
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	Action      string `json:"action"`
	ConsumerSeq uint64 `json:"consumer_seq"`
	StreamSeq   uint64 `json:"stream_seq"`
	Deliveries  uint64 `json:"deliveries"`
	AckTime     int64  `json:"ack_time"`
	Server      string `json:"server"`
	Client      struct {
		Acc    string `json:"acc"`
		Server string `json:"server"`
	} `json:"client"`
	ReqSubject string `json:"subject"`
	Request    string `json:"request"`
	Response   string `json:"response"`
}

// eventLog collects $JS.EVENT.> in arrival order.
type eventLog struct {
	t   *testing.T
	mu  sync.Mutex
	evs []jsEvent
}

func watchEvents(t *testing.T, nc *nats.Conn) *eventLog {
	t.Helper()
	l := &eventLog{t: t}
	_, err := nc.Subscribe("$JS.EVENT.>", func(m *nats.Msg) {
		var e jsEvent
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Errorf("event on %s is not JSON: %v: %s", m.Subject, err, m.Data)
			return
		}
		e.Subject, e.Raw = m.Subject, string(m.Data)
		l.mu.Lock()
		l.evs = append(l.evs, e)
		l.mu.Unlock()
	})
	must(t, err)
	must(t, nc.Flush())
	return l
}

// find returns the index of the first event on subject (and, when
// reqSubject is set, auditing that request), or -1.
func (l *eventLog) find(subject, reqSubject string) (int, jsEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.evs {
		if e.Subject == subject && (reqSubject == "" || e.ReqSubject == reqSubject) {
			return i, e
		}
	}
	return -1, jsEvent{}
}

// wait polls for the event (generous bound: 10 s).
func (l *eventLog) wait(subject, reqSubject string) (int, jsEvent) {
	l.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if i, e := l.find(subject, reqSubject); i >= 0 {
			return i, e
		}
		if time.Now().After(deadline) {
			l.mu.Lock()
			var subs []string
			for _, e := range l.evs {
				subs = append(subs, e.Subject+" "+e.ReqSubject)
			}
			l.mu.Unlock()
			l.t.Fatalf("no event on %s %s; got:\n%s", subject, reqSubject, strings.Join(subs, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkHead: the type, a NUID-like id and an RFC 3339 timestamp.
func checkHead(t *testing.T, e jsEvent, typ string) {
	t.Helper()
	if e.Type != typ {
		t.Fatalf("%s: type %q, want %q: %s", e.Subject, e.Type, typ, e.Raw)
	}
	if len(e.ID) != 22 {
		t.Fatalf("%s: id %q is not 22 characters", e.Subject, e.ID)
	}
	ts, err := time.Parse(time.RFC3339Nano, e.Timestamp)
	if err != nil || time.Since(ts) > time.Hour || time.Since(ts) < -time.Hour {
		t.Fatalf("%s: timestamp %q: %v", e.Subject, e.Timestamp, err)
	}
}

func startJSMon(t *testing.T) (*server, int) {
	t.Helper()
	mport := freePort(t)
	return startServer(t, "-js", "-sd", t.TempDir(), "-m", fmt.Sprint(mport)), mport
}

// httpJSON GETs path on the monitor port and decodes the 200 answer.
func httpJSON(t *testing.T, port int, path string, v interface{}) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return string(body)
}

func TestJSMonAdvisories(t *testing.T) {
	s, _ := startJSMon(t)
	nc := connect(t, s)
	ev := watchEvents(t, nc)
	js := jsCtx(t, nc)
	sid := nc.ConnectedServerId()

	_, err := js.AddStream(&nats.StreamConfig{Name: "ADV", Subjects: []string{"adv.>"}})
	must(t, err)
	for i := 1; i <= 3; i++ {
		_, err := js.Publish(fmt.Sprintf("adv.%d", i), []byte("x"))
		must(t, err)
	}
	_, err = js.AddConsumer("ADV", &nats.ConsumerConfig{Durable: "C", AckPolicy: nats.AckExplicitPolicy,
		MaxDeliver: 2, AckWait: 300 * time.Millisecond, SampleFrequency: "100%"})
	must(t, err)

	_, created := ev.wait("$JS.EVENT.ADVISORY.STREAM.CREATED.ADV", "")
	checkHead(t, created, "io.nats.jetstream.advisory.v1.stream_action")
	if created.Stream != "ADV" || created.Action != "create" {
		t.Fatalf("stream created: %s", created.Raw)
	}
	// (modnats sends the stream's advisory first; nats-server either way)
	_, audit := ev.wait("$JS.EVENT.ADVISORY.API", "$JS.API.STREAM.CREATE.ADV")
	checkHead(t, audit, "io.nats.jetstream.advisory.v1.api_audit")
	if audit.Server != sid || audit.Client.Acc != "$G" || audit.Client.Server != sid ||
		!strings.Contains(audit.Request, `"adv.`) ||
		!strings.Contains(audit.Response, `"type":"io.nats.jetstream.api.v1.stream_create_response"`) ||
		!strings.Contains(audit.Response, `"did_create":true`) {
		t.Fatalf("audit of STREAM.CREATE: %s", audit.Raw)
	}
	_, cc := ev.wait("$JS.EVENT.ADVISORY.CONSUMER.CREATED.ADV.C", "")
	checkHead(t, cc, "io.nats.jetstream.advisory.v1.consumer_action")
	if cc.Stream != "ADV" || cc.Consumer != "C" || cc.Action != "create" {
		t.Fatalf("consumer created: %s", cc.Raw)
	}

	// ack the first (sampled at 100%), terminate the second, let the
	// third run out of deliveries
	sub, err := js.PullSubscribe("", "C", nats.Bind("ADV", "C"))
	must(t, err)
	msgs, err := sub.Fetch(3, nats.MaxWait(5*time.Second))
	must(t, err)
	if len(msgs) != 3 {
		t.Fatalf("fetched %d, want 3", len(msgs))
	}
	must(t, msgs[0].AckSync())
	must(t, msgs[1].Term())
	_, ack := ev.wait("$JS.EVENT.METRIC.CONSUMER.ACK.ADV.C", "")
	checkHead(t, ack, "io.nats.jetstream.metric.v1.consumer_ack")
	if ack.Stream != "ADV" || ack.Consumer != "C" || ack.StreamSeq != 1 || ack.ConsumerSeq != 1 ||
		ack.Deliveries != 1 || ack.AckTime <= 0 || !strings.Contains(ack.Raw, `"ack_time":`) {
		t.Fatalf("ack metric: %s", ack.Raw)
	}
	_, term := ev.wait("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.ADV.C", "")
	checkHead(t, term, "io.nats.jetstream.advisory.v1.terminated")
	if term.Stream != "ADV" || term.Consumer != "C" || term.StreamSeq != 2 || term.ConsumerSeq != 2 ||
		term.Deliveries != 1 {
		t.Fatalf("terminated: %s", term.Raw)
	}
	// keep a pull request waiting: nats-server notices the exhausted
	// message when it looks for the next one to deliver
	deadline := time.Now().Add(15 * time.Second)
	for {
		if i, _ := ev.find("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ADV.C", ""); i >= 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no max deliveries advisory")
		}
		sub.Fetch(1, nats.MaxWait(500*time.Millisecond))
	}
	_, md := ev.wait("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ADV.C", "")
	checkHead(t, md, "io.nats.jetstream.advisory.v1.max_deliver")
	if md.Stream != "ADV" || md.Consumer != "C" || md.StreamSeq != 3 || md.Deliveries != 2 {
		t.Fatalf("max deliveries: %s", md.Raw)
	}

	_, err = js.UpdateStream(&nats.StreamConfig{Name: "ADV", Subjects: []string{"adv.>"}, MaxMsgs: 100})
	must(t, err)
	_, up := ev.wait("$JS.EVENT.ADVISORY.STREAM.UPDATED.ADV", "")
	checkHead(t, up, "io.nats.jetstream.advisory.v1.stream_action")
	if up.Stream != "ADV" || up.Action != "modify" {
		t.Fatalf("stream updated: %s", up.Raw)
	}
	// a message got is not audited (nats-server), a failed get is
	_, err = js.GetMsg("ADV", 1)
	must(t, err)
	_, err = js.GetMsg("ADV", 99)
	wantCode(t, "get of a missing message", err, 10037)
	_, err = js.StreamInfo("NOPE")
	wantCode(t, "info of a missing stream", err, 10059)
	_, bad := ev.wait("$JS.EVENT.ADVISORY.API", "$JS.API.STREAM.INFO.NOPE")
	if !strings.Contains(bad.Response, `"err_code":10059`) || strings.Contains(bad.Raw, `"request"`) {
		t.Fatalf("audit of a failed request (no body): %s", bad.Raw)
	}
	ev.mu.Lock()
	gets := 0
	for _, e := range ev.evs {
		if e.ReqSubject == "$JS.API.STREAM.MSG.GET.ADV" {
			gets++
			if !strings.Contains(e.Response, `"err_code":10037`) || !strings.Contains(e.Request, `"seq":99`) {
				t.Errorf("audit of MSG.GET: %s", e.Raw)
			}
		}
	}
	ev.mu.Unlock()
	if gets != 1 {
		t.Fatalf("%d audits of MSG.GET, want 1 (the failed one)", gets)
	}

	must(t, js.DeleteConsumer("ADV", "C"))
	_, cd := ev.wait("$JS.EVENT.ADVISORY.CONSUMER.DELETED.ADV.C", "")
	checkHead(t, cd, "io.nats.jetstream.advisory.v1.consumer_action")
	if cd.Action != "delete" || cd.Consumer != "C" {
		t.Fatalf("consumer deleted: %s", cd.Raw)
	}
	must(t, js.DeleteStream("ADV"))
	_, sd := ev.wait("$JS.EVENT.ADVISORY.STREAM.DELETED.ADV", "")
	checkHead(t, sd, "io.nats.jetstream.advisory.v1.stream_action")
	if sd.Action != "delete" || sd.Stream != "ADV" {
		t.Fatalf("stream deleted: %s", sd.Raw)
	}
	ev.wait("$JS.EVENT.ADVISORY.API", "$JS.API.STREAM.DELETE.ADV")
}

// Advisories stay in their account: another account hears nothing.
func TestJSMonAdvisoriesPerAccount(t *testing.T) {
	conf := `
accounts: {
  A: { %s users: [ {user: a, password: a} ] }
  B: { %s users: [ {user: b, password: b} ] }
}
jetstream { store_dir: "%s" }
`
	en := "jetstream: enabled,"
	s := startServerConf(t, fmt.Sprintf(conf, en, en, t.TempDir()))
	a := connect(t, s, nats.UserInfo("a", "a"))
	b := connect(t, s, nats.UserInfo("b", "b"))
	evA, evB := watchEvents(t, a), watchEvents(t, b)
	_, err := jsCtx(t, a).AddStream(&nats.StreamConfig{Name: "INA", Subjects: []string{"ina"}})
	must(t, err)
	_, e := evA.wait("$JS.EVENT.ADVISORY.API", "$JS.API.STREAM.CREATE.INA")
	if e.Client.Acc != "A" {
		t.Fatalf("audit in A names account %q: %s", e.Client.Acc, e.Raw)
	}
	// B's own request is a marker: once its audit is in, A's would be too
	_, err = jsCtx(t, b).AddStream(&nats.StreamConfig{Name: "INB", Subjects: []string{"inb"}})
	must(t, err)
	evB.wait("$JS.EVENT.ADVISORY.API", "$JS.API.STREAM.CREATE.INB")
	if i, e := evB.find("$JS.EVENT.ADVISORY.STREAM.CREATED.INA", ""); i >= 0 {
		t.Fatalf("account B heard of A's stream: %s", e.Raw)
	}
	// each account's $JS.API.INFO counts its own requests (one audit
	// each), not including the INFO itself
	_, err = jsCtx(t, a).StreamInfo("NOPE")
	wantCode(t, "missing stream in A", err, 10059)
	evA.wait("$JS.EVENT.ADVISORY.API", "$JS.API.STREAM.INFO.NOPE")
	for _, c := range []struct {
		nc     *nats.Conn
		ev     *eventLog
		errors uint64
	}{{a, evA, 1}, {b, evB, 0}} {
		audits := 0
		c.ev.mu.Lock()
		for _, e := range c.ev.evs {
			if e.Subject == "$JS.EVENT.ADVISORY.API" {
				audits++
			}
		}
		c.ev.mu.Unlock()
		ai, err := jsCtx(t, c.nc).AccountInfo()
		must(t, err)
		if ai.API.Total != uint64(audits) || ai.API.Errors != c.errors {
			t.Fatalf("account info api %+v, want total %d errors %d", ai.API, audits, c.errors)
		}
	}
}

// What /jsz says (both servers print the same members).
type jszInfo struct {
	ServerID string `json:"server_id"`
	Now      string `json:"now"`
	Disabled bool   `json:"disabled"`
	Config   struct {
		MaxMemory  int64  `json:"max_memory"`
		MaxStorage int64  `json:"max_storage"`
		StoreDir   string `json:"store_dir"`
	} `json:"config"`
	Memory          uint64 `json:"memory"`
	Storage         uint64 `json:"storage"`
	ReservedMemory  uint64 `json:"reserved_memory"`
	ReservedStorage uint64 `json:"reserved_storage"`
	Accounts        int    `json:"accounts"`
	HAAssets        int    `json:"ha_assets"`
	API             struct {
		Total  uint64 `json:"total"`
		Errors uint64 `json:"errors"`
	} `json:"api"`
	Streams   int    `json:"streams"`
	Consumers int    `json:"consumers"`
	Messages  uint64 `json:"messages"`
	Bytes     uint64 `json:"bytes"`
	Details   []struct {
		Name            string `json:"name"`
		ID              string `json:"id"`
		Memory          uint64 `json:"memory"`
		Storage         uint64 `json:"storage"`
		ReservedMemory  uint64 `json:"reserved_memory"`
		ReservedStorage uint64 `json:"reserved_storage"`
		API             struct {
			Total uint64 `json:"total"`
		} `json:"api"`
		Streams []struct {
			Name    string                  `json:"name"`
			Created string                  `json:"created"`
			Cluster struct{ Leader string } `json:"cluster"`
			Config  *nats.StreamConfig      `json:"config"`
			State   nats.StreamState        `json:"state"`
			Cons    []struct {
				Name          string               `json:"name"`
				Stream        string               `json:"stream_name"`
				Config        *nats.ConsumerConfig `json:"config"`
				NumAckPending int                  `json:"num_ack_pending"`
			} `json:"consumer_detail"`
		} `json:"stream_detail"`
	} `json:"account_details"`
}

func TestJSMonJsz(t *testing.T) {
	s, mport := startJSMon(t)
	nc := connect(t, s)
	js := jsCtx(t, nc)

	var z jszInfo
	httpJSON(t, mport, "/jsz", &z)
	if z.Disabled || z.ServerID != nc.ConnectedServerId() || !strings.HasSuffix(z.Config.StoreDir, "/jetstream") ||
		z.Streams != 0 || z.Accounts != 1 || z.Details != nil {
		t.Fatalf("/jsz at start: %+v", z)
	}
	if _, err := time.Parse(time.RFC3339Nano, z.Now); err != nil {
		t.Fatalf("now %q: %v", z.Now, err)
	}

	_, err := js.AddStream(&nats.StreamConfig{Name: "F", Subjects: []string{"f.>"}})
	must(t, err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "M", Subjects: []string{"m.>"}, Storage: nats.MemoryStorage})
	must(t, err)
	for i := 0; i < 5; i++ {
		_, err = js.Publish("f.x", []byte("file data"))
		must(t, err)
	}
	for i := 0; i < 3; i++ {
		_, err = js.Publish("m.x", []byte("memory"))
		must(t, err)
	}
	_, err = js.AddConsumer("F", &nats.ConsumerConfig{Durable: "D", AckPolicy: nats.AckExplicitPolicy})
	must(t, err)
	_, err = js.StreamInfo("NOPE")
	wantCode(t, "missing stream", err, 10059)
	fi, mi := info(t, js, "F"), info(t, js, "M")
	ai, err := js.AccountInfo()
	must(t, err)

	z = jszInfo{}
	body := httpJSON(t, mport, "/jsz", &z)
	if z.Streams != 2 || z.Consumers != 1 || z.Messages != 8 ||
		z.Bytes != fi.State.Bytes+mi.State.Bytes || z.Storage != fi.State.Bytes || z.Memory != mi.State.Bytes {
		t.Fatalf("/jsz counts: %s", body)
	}
	// the API counters of $JS.API.INFO, which does not count itself
	// (nothing asked in between)
	if z.API.Total != ai.API.Total+1 || z.API.Errors != ai.API.Errors || z.API.Errors < 1 || z.API.Total < 8 {
		t.Fatalf("/jsz api %+v, account info api %+v", z.API, ai.API)
	}
	for _, k := range []string{`"reserved_memory": 0`, `"ha_assets": 0`, `"config": {`} {
		if !strings.Contains(body, k) {
			t.Fatalf("/jsz lacks %s: %s", k, body)
		}
	}

	z = jszInfo{}
	body = httpJSON(t, mport, "/jsz?accounts=true", &z)
	if len(z.Details) != 1 || z.Details[0].Name != "$G" || z.Details[0].ID != "$G" ||
		z.Details[0].Storage != fi.State.Bytes || z.Details[0].Memory != mi.State.Bytes ||
		z.Details[0].ReservedMemory != ^uint64(0) || z.Details[0].Streams != nil ||
		z.Details[0].API.Total == 0 {
		t.Fatalf("/jsz?accounts=true: %s", body)
	}

	z = jszInfo{}
	body = httpJSON(t, mport, "/jsz?streams=true&consumers=true&config=true", &z)
	if len(z.Details) != 1 || len(z.Details[0].Streams) != 2 {
		t.Fatalf("/jsz with streams: %s", body)
	}
	for _, sd := range z.Details[0].Streams {
		want := map[string]uint64{"F": 5, "M": 3}[sd.Name]
		if sd.Config == nil || sd.Config.Name != sd.Name || sd.State.Msgs != want ||
			sd.Cluster.Leader != z.ServerID || sd.Created == "" {
			t.Fatalf("stream detail %s: %s", sd.Name, body)
		}
		if sd.Name == "F" && (len(sd.Cons) != 1 || sd.Cons[0].Name != "D" || sd.Cons[0].Stream != "F" ||
			sd.Cons[0].Config == nil || sd.Cons[0].Config.Durable != "D") {
			t.Fatalf("consumer detail: %s", body)
		}
		if sd.Name == "M" && sd.Cons != nil {
			t.Fatalf("M has no consumers: %s", body)
		}
	}

	// without config=true: no configurations
	body = httpJSON(t, mport, "/jsz?consumers=true", nil)
	if !strings.Contains(body, `"consumer_detail"`) || strings.Contains(body, `"config": {
            "name"`) || strings.Contains(body, `"durable_name"`) {
		t.Fatalf("/jsz?consumers=true without config: %s", body)
	}
	// paging past the end: no details
	z = jszInfo{}
	body = httpJSON(t, mport, "/jsz?accounts=true&offset=5", &z)
	if z.Details != nil || z.Streams != 2 {
		t.Fatalf("offset past the end: %s", body)
	}
	// nats-server 2.9 filters nothing out for an unknown account
	z = jszInfo{}
	body = httpJSON(t, mport, "/jsz?acc=NOPE&accounts=true", &z)
	if len(z.Details) != 1 || z.Details[0].Name != "$G" {
		t.Fatalf("/jsz?acc=NOPE&accounts=true: %s", body)
	}
	z = jszInfo{}
	httpJSON(t, mport, "/jsz?acc=$G&streams=1", &z)
	if len(z.Details) != 1 || len(z.Details[0].Streams) != 2 {
		t.Fatalf("/jsz?acc=$G&streams=1: %+v", z)
	}

	// bad options: 400 with nats-server's words
	for q, want := range map[string]string{
		"/jsz?accounts=maybe": `Error decoding boolean for 'accounts': strconv.ParseBool: parsing "maybe": invalid syntax`,
		"/jsz?limit=x":        `Error decoding int for 'limit': strconv.Atoi: parsing "x": invalid syntax`,
	} {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", mport, q))
		must(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || strings.TrimSpace(string(b)) != want {
			t.Fatalf("%s: %d %q, want 400 %q", q, resp.StatusCode, b, want)
		}
	}

	// /varz: the configuration and the same stats
	var v struct {
		JetStream struct {
			Config struct {
				StoreDir string `json:"store_dir"`
			} `json:"config"`
			Stats struct {
				Memory   uint64 `json:"memory"`
				Storage  uint64 `json:"storage"`
				Accounts int    `json:"accounts"`
				API      struct {
					Total uint64 `json:"total"`
				} `json:"api"`
			} `json:"stats"`
		} `json:"jetstream"`
	}
	httpJSON(t, mport, "/varz", &v)
	if v.JetStream.Config.StoreDir != z.Config.StoreDir || v.JetStream.Stats.Storage != fi.State.Bytes ||
		v.JetStream.Stats.Memory != mi.State.Bytes || v.JetStream.Stats.Accounts != 1 ||
		v.JetStream.Stats.API.Total < ai.API.Total {
		t.Fatalf("/varz jetstream: %+v", v.JetStream)
	}
}

// Without JetStream /jsz still answers, "disabled", and /varz has "jetstream": {}.
func TestJSMonJszDisabled(t *testing.T) {
	mport := freePort(t)
	startServer(t, "-m", fmt.Sprint(mport))
	var z jszInfo
	body := httpJSON(t, mport, "/jsz?accounts=true&streams=true", &z)
	if !z.Disabled || z.Streams != 0 || z.Details != nil || z.Config.StoreDir != "" ||
		!strings.Contains(body, `"api": {`) {
		t.Fatalf("/jsz without JetStream: %s", body)
	}
	var v map[string]json.RawMessage
	httpJSON(t, mport, "/varz", &v)
	if string(v["jetstream"]) != "{}" {
		t.Fatalf("/varz jetstream without JetStream: %s", v["jetstream"])
	}
}

// $SYS.REQ.SERVER.PING.JSZ through the system account.
func TestJSMonSysPingJsz(t *testing.T) {
	en := "jetstream: enabled,"
	s := startServerConf(t, fmt.Sprintf(`
accounts: {
  A: { %s users: [ {user: a, password: a} ] }
  SYS: { users: [ {user: sys, password: sys} ] }
}
system_account: SYS
jetstream { store_dir: "%s" }
http_port: %d
`, en, t.TempDir(), freePort(t)))
	a := connect(t, s, nats.UserInfo("a", "a"))
	_, err := jsCtx(t, a).AddStream(&nats.StreamConfig{Name: "P", Subjects: []string{"p"}})
	must(t, err)
	_, err = jsCtx(t, a).Publish("p", []byte("hello"))
	must(t, err)
	sys := connect(t, s, nats.UserInfo("sys", "sys"))
	var r struct {
		Server struct {
			ID        string `json:"id"`
			JetStream bool   `json:"jetstream"`
		} `json:"server"`
		Data jszInfo `json:"data"`
	}
	m, err := sys.Request("$SYS.REQ.SERVER.PING.JSZ", nil, 5*time.Second)
	must(t, err)
	must(t, json.Unmarshal(m.Data, &r))
	if !r.Server.JetStream || r.Data.ServerID != r.Server.ID || r.Data.Streams != 1 ||
		r.Data.Messages != 1 || r.Data.Accounts != 1 {
		t.Fatalf("PING.JSZ: %s", m.Data)
	}
	m, err = sys.Request("$SYS.REQ.SERVER."+r.Server.ID+".JSZ", nil, 5*time.Second)
	must(t, err)
	r.Data = jszInfo{}
	must(t, json.Unmarshal(m.Data, &r))
	if r.Data.Streams != 1 || r.Data.Details != nil {
		t.Fatalf("SERVER.<id>.JSZ: %s", m.Data)
	}
	// nats-server's options in the request body
	m, err = sys.Request("$SYS.REQ.SERVER.PING.JSZ",
		[]byte(`{"accounts":true,"streams":true,"config":true,"account":"A"}`), 5*time.Second)
	must(t, err)
	r.Data = jszInfo{}
	must(t, json.Unmarshal(m.Data, &r))
	if len(r.Data.Details) != 1 || r.Data.Details[0].Name != "A" || len(r.Data.Details[0].Streams) != 1 ||
		r.Data.Details[0].Streams[0].Config == nil || r.Data.Details[0].Streams[0].Config.Name != "P" {
		t.Fatalf("PING.JSZ with options: %s", m.Data)
	}
}

// Consumers that go without a request say so too: an ephemeral one past its
// inactive_threshold, and every consumer of a deleted stream (before the
// stream's own advisory).
func TestJSMonImplicitDeletes(t *testing.T) {
	s, _ := startJSMon(t)
	nc := connect(t, s)
	ev := watchEvents(t, nc)
	js := jsCtx(t, nc)
	_, err := js.AddStream(&nats.StreamConfig{Name: "IMP", Subjects: []string{"imp"}})
	must(t, err)
	_, err = js.AddConsumer("IMP", &nats.ConsumerConfig{Name: "EPH", AckPolicy: nats.AckExplicitPolicy,
		InactiveThreshold: 200 * time.Millisecond})
	must(t, err)
	_, err = js.AddConsumer("IMP", &nats.ConsumerConfig{Durable: "DUR", AckPolicy: nats.AckExplicitPolicy})
	must(t, err)
	_, eph := ev.wait("$JS.EVENT.ADVISORY.CONSUMER.DELETED.IMP.EPH", "")
	checkHead(t, eph, "io.nats.jetstream.advisory.v1.consumer_action")
	if eph.Action != "delete" || eph.Consumer != "EPH" || eph.Stream != "IMP" {
		t.Fatalf("inactive ephemeral deleted: %s", eph.Raw)
	}
	must(t, js.DeleteStream("IMP"))
	ci, dur := ev.wait("$JS.EVENT.ADVISORY.CONSUMER.DELETED.IMP.DUR", "")
	if dur.Action != "delete" || dur.Consumer != "DUR" {
		t.Fatalf("consumer of a deleted stream: %s", dur.Raw)
	}
	si, _ := ev.wait("$JS.EVENT.ADVISORY.STREAM.DELETED.IMP", "")
	if si < ci {
		t.Fatalf("the stream's delete advisory came before its consumer's")
	}
}
