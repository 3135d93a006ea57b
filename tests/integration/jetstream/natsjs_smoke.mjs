// natsjs_smoke.mjs - nats.js 3.x (@nats-io/jetstream, @nats-io/kv) against a
// server: streams, publish expectations, fetch, consume, ordered consumer,
// KV put/get/keys/watch.  A development check, not in ctest (it needs npm):
//
//   mkdir /tmp/njs && cd /tmp/njs && npm install @nats-io/transport-node \
//       @nats-io/jetstream @nats-io/kv && cp <repo>/tests/integration/jetstream/natsjs_smoke.mjs .
//   <server> -js -sd /tmp/njs/store -p 4333 &  node natsjs_smoke.mjs nats://127.0.0.1:4333
//
// Prints OK on nats-server 2.9.10 and on modnats.
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
const nc = await connect({ servers: process.argv[2] });
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: "S", subjects: ["s.>"] });
const js = jetstream(nc);
for (let i = 0; i < 20; i++) await js.publish(`s.${i % 3}`, `m${i}`);
let pa;
try { await js.publish("s.0", "x", { expect: { lastSequence: 3 } }); } catch (e) { pa = e; }
console.log("expected-seq error:", pa?.api_error?.err_code ?? pa?.message);
const si = await jsm.streams.info("S");
console.log("state", si.state.messages, si.state.last_seq);
await jsm.consumers.add("S", { durable_name: "d", ack_policy: AckPolicy.Explicit });
const c = await js.consumers.get("S", "d");
const iter = await c.fetch({ max_messages: 5, expires: 2000 });
let n = 0;
for await (const m of iter) { m.ack(); n++; }
console.log("fetched", n);
const msgs = await c.consume({ max_messages: 10 });
let got = 0;
for await (const m of msgs) { m.ack(); if (++got === 15) break; }
console.log("consumed", got);
const oc = await js.consumers.get("S");  // ordered
const om = await oc.next();
console.log("ordered first", om?.seq, om?.subject);
const kvm = new Kvm(nc);
const kv = await kvm.create("cfg", { history: 3 });
await kv.put("a", "1"); await kv.put("a", "2"); await kv.put("b", "x");
const e = await kv.get("a");
console.log("kv a", e?.string(), e?.revision);
const keys = []; for await (const k of await kv.keys()) keys.push(k);
console.log("kv keys", keys.sort().join(","));
const w = await kv.watch();
let seen = 0;
for await (const ent of w) { seen++; if (seen === 2) break; }
console.log("watch saw", seen);
await nc.close();
console.log("OK");
