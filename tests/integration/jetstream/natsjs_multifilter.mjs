// natsjs_multifilter.mjs - nats.js KV watch of several keys, which uses a 2.10
// consumer with filter_subjects (modnats reports 2.10; nats-server 2.9 cannot).
// Run as natsjs_smoke.mjs.
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
const nc = await connect({ servers: process.argv[2] });
const kv = await new Kvm(nc).create("m", { history: 2 });
await kv.put("a", "1"); await kv.put("b", "2"); await kv.put("c", "3");
const w = await kv.watch({ key: ["a", "c"] });
const seen = [];
for await (const e of w) { seen.push(e.key); if (seen.length === 2) break; }
console.log("multi-key watch", seen.sort().join(","));
await nc.close();
