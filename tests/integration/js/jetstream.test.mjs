// jetstream.test.mjs - nats.js JetStream (@nats-io/jetstream, @nats-io/kv,
// @nats-io/obj) against the server under test, started with -js -sd <tmp>.
// The same tests run against modnats and /usr/sbin/nats-server; API errors
// are checked by nats-server's err_code values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import {
  jetstream, jetstreamManager, AckPolicy, DiscardPolicy, JetStreamApiError,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { jetStreamServer } from "./server.mjs";

const enc = new TextEncoder();
const dec = new TextDecoder();

// nats-server's JetStream API error codes used below.
const E = {
  ConsumerNotFound: 10014,
  StreamNotFound: 10059,
  StreamNameInUse: 10058,
  SubjectsOverlap: 10065,
  WrongLastMsgId: 10070,
  WrongLastSequence: 10071,
  StreamMismatch: 10060,
  StoreFailed: 10077,
  MsgSizeExceeded: 10054,
  UpdateStorage: 10052,
  ConsumerUpdate: 10012,
  MsgDeleteFailed: 10057,
  SequenceNotFound: 10043,
  Sealed: 10109,
};

// Start a JetStream server, connect, run fn({ s, nc, jsm, js }), always
// close and stop (an unclean stop fails the test).
async function withJs(fn) {
  const s = await jetStreamServer().start();
  let err = null;
  let nc = null;
  try {
    nc = await connect({ servers: s.url });
    const jsm = await jetstreamManager(nc);
    await fn({ s, nc, jsm, js: jetstream(nc) });
  } catch (e) {
    err = e;
  }
  try {
    if (nc) await nc.close();
    await s.stop();
  } catch (e) {
    if (!err) err = e;
  }
  if (err) {
    if (!String(err.message).includes("server.log")) console.error(`server log:\n${s.tail()}`);
    throw err;
  }
}

// Await p, which must fail with a JetStream API error carrying err_code.
async function rejectsCode(p, code, what) {
  let got = null;
  try {
    await p;
  } catch (e) {
    got = e;
  }
  assert.ok(got, `${what}: expected err_code ${code}, the call succeeded`);
  assert.ok(got instanceof JetStreamApiError, `${what}: expected a JetStreamApiError, got ${got}`);
  assert.equal(got.code, code, `${what}: err_code ${got.code} (${got.message}), expected ${code}`);
  return got;
}

async function all(iter) {
  const out = [];
  for await (const x of iter) out.push(x);
  return out;
}

test("streams: add, info, update, list, names, delete", () => withJs(async ({ jsm }) => {
  const si = await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
  assert.equal(si.config.name, "ORDERS");
  assert.deepEqual(si.config.subjects, ["orders.>"]);
  assert.equal(si.state.messages, 0);
  assert.equal(si.config.storage, "file");
  // Adding the same config again is fine; a different one is not.
  await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
  await rejectsCode(jsm.streams.add({ name: "ORDERS", subjects: ["other.>"] }),
    E.StreamNameInUse, "add existing name, other config");
  await rejectsCode(jsm.streams.add({ name: "DUP", subjects: ["orders.new"] }),
    E.SubjectsOverlap, "add overlapping subjects");

  const info = await jsm.streams.info("ORDERS");
  assert.equal(info.config.name, "ORDERS");
  await rejectsCode(jsm.streams.info("NOPE"), E.StreamNotFound, "info of a missing stream");

  const up = await jsm.streams.update("ORDERS", { subjects: ["orders.>", "returns.>"], max_msgs: 100 });
  assert.deepEqual(up.config.subjects, ["orders.>", "returns.>"]);
  assert.equal(up.config.max_msgs, 100);
  assert.equal((await jsm.streams.info("ORDERS")).config.max_msgs, 100);
  await rejectsCode(jsm.streams.update("NOPE", { subjects: ["nope"] }), E.StreamNotFound,
    "update of a missing stream");
  await rejectsCode(jsm.streams.update("ORDERS", { storage: "memory" }), E.UpdateStorage,
    "update changing the storage type");

  await jsm.streams.add({ name: "AUDIT", subjects: ["audit"] });
  const listed = (await all(jsm.streams.list())).map((s) => s.config.name).sort();
  assert.deepEqual(listed, ["AUDIT", "ORDERS"]);
  const names = (await all(jsm.streams.names())).sort();
  assert.deepEqual(names, ["AUDIT", "ORDERS"]);

  assert.equal(await jsm.streams.delete("AUDIT"), true);
  assert.deepEqual(await all(jsm.streams.names()), ["ORDERS"]);
  await rejectsCode(jsm.streams.delete("AUDIT"), E.StreamNotFound, "delete twice");
}));

test("publish: PubAck, expectations, msg id dedup, limits", () => withJs(async ({ jsm, js }) => {
  await jsm.streams.add({ name: "P", subjects: ["p.>"] });
  for (let i = 1; i <= 5; i++) {
    const pa = await js.publish(`p.${i % 2}`, enc.encode(`m${i}`));
    assert.equal(pa.stream, "P");
    assert.equal(pa.seq, i);
    assert.equal(pa.duplicate, false);
  }
  // Expected last sequence: right one passes, wrong one fails with 10071.
  assert.equal((await js.publish("p.0", "x", { expect: { lastSequence: 5 } })).seq, 6);
  await rejectsCode(js.publish("p.0", "x", { expect: { lastSequence: 3 } }),
    E.WrongLastSequence, "expect lastSequence 3 at 6");
  // Expected last sequence per subject: p.1 was last at 5.
  assert.equal((await js.publish("p.1", "y", { expect: { lastSubjectSequence: 5 } })).seq, 7);
  await rejectsCode(js.publish("p.1", "y", { expect: { lastSubjectSequence: 5 } }),
    E.WrongLastSequence, "expect lastSubjectSequence 5 at 7");
  // Expected stream name.
  await rejectsCode(js.publish("p.0", "z", { expect: { streamName: "OTHER" } }),
    E.StreamMismatch, "expect stream OTHER");

  // Msg id dedup: same id again is a duplicate with the first sequence.
  const a = await js.publish("p.0", "once", { msgID: "id-1" });
  assert.equal(a.seq, 8);
  assert.equal(a.duplicate, false);
  const b = await js.publish("p.0", "once", { msgID: "id-1" });
  assert.equal(b.seq, 8);
  assert.equal(b.duplicate, true);
  assert.equal((await jsm.streams.info("P")).state.messages, 8);
  // Expected last msg id.
  assert.equal((await js.publish("p.0", "next", { msgID: "id-2", expect: { lastMsgID: "id-1" } })).seq, 9);
  await rejectsCode(js.publish("p.0", "bad", { msgID: "id-3", expect: { lastMsgID: "id-1" } }),
    E.WrongLastMsgId, "expect lastMsgID id-1 after id-2");

  // Limits: max_msgs 3 with discard new refuses the fourth message.
  await jsm.streams.add({ name: "L", subjects: ["l"], max_msgs: 3, discard: DiscardPolicy.New });
  for (let i = 0; i < 3; i++) await js.publish("l", "v");
  await rejectsCode(js.publish("l", "v"), E.StoreFailed, "max_msgs 3, discard new, 4th publish");
  assert.equal((await jsm.streams.info("L")).state.messages, 3);
  // Discard old keeps the newest three.
  await jsm.streams.add({ name: "O", subjects: ["o"], max_msgs: 3 });
  for (let i = 1; i <= 5; i++) await js.publish("o", `v${i}`);
  const so = (await jsm.streams.info("O")).state;
  assert.equal(so.messages, 3);
  assert.equal(so.first_seq, 3);
  assert.equal(so.last_seq, 5);
  // max_msg_size, max_bytes with discard new, and discard new per subject.
  await jsm.streams.add({ name: "Z", subjects: ["z"], max_msg_size: 10 });
  assert.equal((await js.publish("z", "0123456789")).seq, 1);
  await rejectsCode(js.publish("z", "0123456789x"), E.MsgSizeExceeded, "max_msg_size 10, 11 bytes");
  await jsm.streams.add({ name: "BY", subjects: ["by"], max_bytes: 100, discard: DiscardPolicy.New });
  assert.equal((await js.publish("by", new Uint8Array(40))).seq, 1);
  await rejectsCode(js.publish("by", new Uint8Array(40)), E.StoreFailed, "max_bytes 100, discard new");
  await jsm.streams.add({
    name: "PS", subjects: ["ps.>"], max_msgs_per_subject: 2, discard: DiscardPolicy.New,
    discard_new_per_subject: true,
  });
  for (let i = 0; i < 2; i++) await js.publish("ps.a", "x");
  await rejectsCode(js.publish("ps.a", "x"), E.StoreFailed, "max_msgs_per_subject 2, discard new per subject");
  assert.equal((await js.publish("ps.b", "x")).seq, 3);
}));

test("messages: get, delete, direct get, purge with filter and keep", () => withJs(async ({ jsm, js }) => {
  await jsm.streams.add({ name: "M", subjects: ["m.>"], allow_direct: true });
  for (let i = 1; i <= 10; i++) await js.publish(`m.${i % 3}`, enc.encode(`v${i}`));
  // seq i went to m.(i%3): m.1 = 1,4,7,10  m.2 = 2,5,8  m.0 = 3,6,9

  const g = await jsm.streams.getMessage("M", { seq: 4 });
  assert.equal(g.seq, 4);
  assert.equal(g.subject, "m.1");
  assert.equal(dec.decode(g.data), "v4");
  const last = await jsm.streams.getMessage("M", { last_by_subj: "m.2" });
  assert.equal(last.seq, 8);
  assert.equal(await jsm.streams.getMessage("M", { seq: 99 }), null);

  assert.equal(await jsm.streams.deleteMessage("M", 4), true);
  assert.equal(await jsm.streams.getMessage("M", { seq: 4 }), null);
  const st = (await jsm.streams.info("M")).state;
  assert.equal(st.messages, 9);
  assert.equal(st.num_deleted, 1);
  const sd = (await jsm.streams.info("M", { deleted_details: true, subjects_filter: "m.*" })).state;
  assert.deepEqual(sd.deleted, [4]);
  assert.deepEqual(sd.subjects, { "m.0": 3, "m.1": 3, "m.2": 3 });
  assert.equal(sd.num_subjects, 3);
  // Deleting a missing message: a hole between first and last is 10043,
  // past the last the file store fails with 10057; a memory stream says
  // 10043 for any missing sequence.
  await rejectsCode(jsm.streams.deleteMessage("M", 4), E.SequenceNotFound, "delete of a deleted message");
  await rejectsCode(jsm.streams.deleteMessage("M", 99), E.MsgDeleteFailed, "delete past the last message");
  await jsm.streams.add({ name: "MEM", subjects: ["mem"], storage: "memory" });
  await js.publish("mem", "a");
  assert.equal(await jsm.streams.deleteMessage("MEM", 1, true), true);
  await rejectsCode(jsm.streams.deleteMessage("MEM", 1), E.SequenceNotFound, "memory: delete twice");
  await rejectsCode(jsm.streams.deleteMessage("MEM", 99), E.SequenceNotFound, "memory: delete past the last");
  await rejectsCode(jsm.streams.getMessage("NOPE", { seq: 1 }), E.StreamNotFound, "get from a missing stream");

  // Direct get (allow_direct).
  const d = await jsm.direct.getMessage("M", { seq: 5 });
  assert.equal(d.seq, 5);
  assert.equal(d.subject, "m.2");
  assert.equal(dec.decode(d.data), "v5");
  const dl = await jsm.direct.getMessage("M", { last_by_subj: "m.0" });
  assert.equal(dl.seq, 9);
  const dn = await jsm.direct.getMessage("M", { seq: 2, next_by_subj: "m.0" });
  assert.equal(dn.seq, 3);
  assert.equal(await jsm.direct.getMessage("M", { seq: 99 }), null);

  // Purge m.1 keeping its newest one: 1 and 7 go (4 is already deleted).
  const p1 = await jsm.streams.purge("M", { filter: "m.1", keep: 1 });
  assert.equal(p1.success, true);
  assert.equal(p1.purged, 2);
  assert.equal((await jsm.streams.getMessage("M", { last_by_subj: "m.1" })).seq, 10);
  assert.equal(await jsm.streams.getMessage("M", { seq: 7 }), null);
  // Purge m.0 entirely.
  assert.equal((await jsm.streams.purge("M", { filter: "m.0" })).purged, 3);
  // Purge everything below seq 8: only 2 and 5 remain there.
  assert.equal((await jsm.streams.purge("M", { seq: 8 })).purged, 2);
  const left = (await jsm.streams.info("M")).state;
  assert.equal(left.messages, 2);
  assert.equal(left.first_seq, 8);
  assert.equal(left.last_seq, 10);
  // Purge all.
  assert.equal((await jsm.streams.purge("M")).purged, 2);
  assert.equal((await jsm.streams.info("M")).state.messages, 0);
  await rejectsCode(jsm.streams.purge("NOPE"), E.StreamNotFound, "purge of a missing stream");
}));

test("consumers: durable pull fetch, ack, nak, term, pending counts", () => withJs(async ({ jsm, js }) => {
  await jsm.streams.add({ name: "C", subjects: ["c.>"] });
  for (let i = 1; i <= 10; i++) await js.publish("c.x", enc.encode(`m${i}`));
  const ci = await jsm.consumers.add("C", {
    durable_name: "work", ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000,
  });
  assert.equal(ci.name, "work");
  assert.equal(ci.num_pending, 10);

  await rejectsCode(jsm.consumers.info("C", "nope"), E.ConsumerNotFound, "info of a missing consumer");
  await rejectsCode(jsm.consumers.info("NOPE", "work"), E.StreamNotFound, "consumer info, missing stream");
  await rejectsCode(jsm.consumers.delete("C", "nope"), E.ConsumerNotFound, "delete of a missing consumer");
  await rejectsCode(js.consumers.get("C", "nope"), E.ConsumerNotFound, "consumers.get of a missing consumer");
  await rejectsCode(jsm.consumers.add("NOPE", { durable_name: "x", ack_policy: AckPolicy.Explicit }),
    E.StreamNotFound, "consumer on a missing stream");
  await rejectsCode(jsm.consumers.add("C", { durable_name: "work", ack_policy: AckPolicy.None }),
    E.ConsumerUpdate, "durable again with another ack policy");

  const c = await js.consumers.get("C", "work");
  const got = await all(await c.fetch({ max_messages: 5, expires: 2000 }));
  assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual(got.map((m) => m.string()), ["m1", "m2", "m3", "m4", "m5"]);
  assert.equal(got[0].info.deliveryCount, 1);
  assert.equal(got[4].info.pending, 5);

  let info = await jsm.consumers.info("C", "work");
  assert.equal(info.num_pending, 5);
  assert.equal(info.num_ack_pending, 5);
  assert.equal(info.delivered.stream_seq, 5);

  // ack 1-3 (confirmed by the server), nak 4, term 5.
  for (const m of got.slice(0, 3)) assert.equal(await m.ackAck(), true);
  got[3].nak();
  got[4].term();
  await js.nc.flush();
  info = await jsm.consumers.info("C", "work");
  assert.equal(info.ack_floor.stream_seq, 3);
  assert.equal(info.num_pending, 5);
  assert.equal(info.num_ack_pending, 1);

  // The nak'd one comes back first, then the rest in order.
  const again = await all(await c.fetch({ max_messages: 3, expires: 2000 }));
  assert.deepEqual(again.map((m) => m.seq), [4, 6, 7]);
  assert.equal(again[0].info.deliveryCount, 2);
  for (const m of again) assert.equal(await m.ackAck(), true);
  info = await jsm.consumers.info("C", "work");
  assert.equal(info.num_pending, 3);
  assert.equal(info.num_ack_pending, 0);
  assert.equal(info.ack_floor.stream_seq, 7);

  // Fetch more than there is: the three left, then the request expires.
  const t0 = Date.now();
  const rest = await all(await c.fetch({ max_messages: 10, expires: 1000 }));
  assert.deepEqual(rest.map((m) => m.seq), [8, 9, 10]);
  assert.ok(Date.now() - t0 < 5000);
  for (const m of rest) m.ack();
  await js.nc.flush();
  // Nothing left: an empty fetch ends at its expiry.
  assert.equal((await all(await c.fetch({ max_messages: 2, expires: 1000 }))).length, 0);
  info = await jsm.consumers.info("C", "work");
  assert.equal(info.num_pending, 0);
  assert.equal(info.num_ack_pending, 0);

  // A filtered durable counts and delivers only its subject; next() gets one.
  await jsm.consumers.add("C", { durable_name: "odd", ack_policy: AckPolicy.Explicit, filter_subject: "c.odd" });
  for (let i = 11; i <= 14; i++) await js.publish(i % 2 ? "c.odd" : "c.x", enc.encode(`m${i}`));
  assert.equal((await jsm.consumers.info("C", "odd")).num_pending, 2);
  const odd = await js.consumers.get("C", "odd");
  const n1 = await odd.next({ expires: 1000 });
  assert.equal(n1.seq, 11);
  assert.equal(n1.info.pending, 1);
  n1.ack();
  const up = await jsm.consumers.update("C", "odd", { description: "odd ones", max_deliver: 5 });
  assert.equal(up.config.description, "odd ones");
  assert.equal(up.config.max_deliver, 5);
  assert.equal(up.config.filter_subject, "c.odd");
  await jsm.consumers.delete("C", "odd");

  const list = (await all(jsm.consumers.list("C"))).map((x) => x.name);
  assert.deepEqual(list, ["work"]);
  assert.equal(await jsm.consumers.delete("C", "work"), true);
  await rejectsCode(jsm.consumers.info("C", "work"), E.ConsumerNotFound, "info after delete");
}));

test("consumers: ordered consumer consume", () => withJs(async ({ jsm, js }) => {
  await jsm.streams.add({ name: "OC", subjects: ["oc.>"] });
  for (let i = 1; i <= 25; i++) await js.publish(`oc.${i % 4}`, enc.encode(`o${i}`));
  const oc = await js.consumers.get("OC");
  const msgs = await oc.consume({ max_messages: 10 });
  const seqs = [];
  for await (const m of msgs) {
    assert.equal(m.string(), `o${m.seq}`);
    seqs.push(m.seq);
    if (seqs.length === 25) break;
  }
  assert.deepEqual(seqs, Array.from({ length: 25 }, (_, i) => i + 1));

  // A filtered ordered consumer sees only its subject.
  const f = await js.consumers.get("OC", { filter_subjects: "oc.1" });
  const first = await f.next({ expires: 2000 });
  assert.equal(first.seq, 1);
  assert.equal(first.subject, "oc.1");
  const second = await f.next({ expires: 2000 });
  assert.equal(second.seq, 5);
}));

test("kv: bucket, put/get/update, revisions, delete, purge, keys, history, watch", () => withJs(async ({ nc, jsm }) => {
  const kvm = new Kvm(nc);
  const kv = await kvm.create("cfg", { history: 5 });
  const si = await jsm.streams.info("KV_cfg");
  assert.equal(si.config.max_msgs_per_subject, 5);

  const r1 = await kv.put("a", "1");
  const r2 = await kv.put("a", "2");
  const r3 = await kv.put("b", "x");
  assert.deepEqual([r1, r2, r3], [1, 2, 3]);
  const e = await kv.get("a");
  assert.equal(e.string(), "2");
  assert.equal(e.revision, 2);
  assert.equal(e.operation, "PUT");
  assert.equal(e.key, "a");
  assert.equal(e.bucket, "cfg");
  assert.equal(await kv.get("missing"), null);
  assert.equal((await kv.get("a", { revision: 1 })).string(), "1");

  // update with the right revision works; a stale one fails (10071).
  assert.equal(await kv.update("a", "3", 2), 4);
  await rejectsCode(kv.update("a", "4", 2), E.WrongLastSequence, "kv update at stale revision");
  // create of an existing key fails the same way.
  await rejectsCode(kv.create("b", "y"), E.WrongLastSequence, "kv create of an existing key");
  assert.equal(await kv.create("c", "new"), 5);

  assert.deepEqual((await all(await kv.keys())).sort(), ["a", "b", "c"]);
  await kv.put("n.x", "1");
  await kv.put("n.y", "1");
  assert.deepEqual((await all(await kv.keys("n.*"))).sort(), ["n.x", "n.y"]);
  await kv.purge("n.x");
  await kv.purge("n.y");

  await kv.delete("b");
  const del = await kv.get("b");
  assert.ok(del === null || del.operation === "DEL", `deleted b: ${del && del.operation}`);
  // create over a deleted key is allowed.
  assert.equal(await kv.create("b", "again"), 11);
  // delete guarded by the key's last revision.
  await rejectsCode(kv.delete("c", { previousSeq: 1 }), E.WrongLastSequence, "kv delete at a wrong revision");

  const hist = await all(await kv.history({ key: "a" }));
  assert.deepEqual(hist.map((h) => h.string()), ["1", "2", "3"]);
  assert.deepEqual(hist.map((h) => h.revision), [1, 2, 4]);

  await kv.purge("c");
  assert.deepEqual((await all(await kv.keys())).sort(), ["a", "b"]);
  const ch = await all(await kv.history({ key: "c" }));
  assert.equal(ch.length, 1);
  assert.equal(ch[0].operation, "PURGE");

  // watch: current values first, then live updates.
  const w = await kv.watch();
  const seen = [];
  const done = (async () => {
    for await (const x of w) {
      seen.push(`${x.key}=${x.operation === "PUT" ? x.string() : x.operation}`);
      if (seen.length === 7) break;
    }
  })();
  await kv.put("a", "live");
  await kv.delete("b");
  await done;
  // Initial: latest of each key (c, n.x, n.y purged); then a=live, b=DEL.
  assert.deepEqual(seen.slice(0, 5).sort(), ["a=3", "b=again", "c=PURGE", "n.x=PURGE", "n.y=PURGE"]);
  assert.deepEqual(seen.slice(5), ["a=live", "b=DEL"]);

  const status = await kv.status();
  assert.equal(status.bucket, "cfg");
  assert.equal(status.history, 5);
  assert.equal(status.backingStore, "file");
  assert.deepEqual((await all(kvm.list())).map((x) => x.bucket), ["cfg"]);
  await rejectsCode(kvm.open("nosuch").then((k) => k.status()), E.StreamNotFound, "status of a missing bucket");
  assert.equal(await kv.destroy(), true);
  await rejectsCode(jsm.streams.info("KV_cfg"), E.StreamNotFound, "info of destroyed bucket stream");
}));

test("obj: multi-chunk put/get, info, list, delete", () => withJs(async ({ nc }) => {
  const objm = new Objm(nc);
  const os = await objm.create("files");
  const big = new Uint8Array(300 * 1024).map((_, i) => (i * 31 + (i >> 8)) & 0xff);
  const info = await os.putBlob({ name: "big.bin", description: "300 KB" }, big);
  assert.equal(info.name, "big.bin");
  assert.equal(info.size, big.length);
  assert.ok(info.chunks >= 3, `chunks ${info.chunks}`);
  assert.equal(info.deleted, false);
  await os.putBlob({ name: "small.txt" }, enc.encode("hello"));

  const back = await os.getBlob("big.bin");
  assert.equal(back.length, big.length);
  assert.ok(Buffer.from(back).equals(Buffer.from(big)), "300 KB object content differs");
  const r = await os.get("small.txt");
  assert.equal(dec.decode(await new Response(r.data).arrayBuffer()), "hello");
  assert.equal(await os.get("missing"), null);

  const i2 = await os.info("big.bin");
  assert.equal(i2.size, big.length);
  assert.equal(i2.description, "300 KB");
  assert.equal(i2.chunks, info.chunks);
  assert.equal(i2.digest, info.digest);

  assert.deepEqual((await os.list()).map((x) => x.name).sort(), ["big.bin", "small.txt"]);

  const pr = await os.delete("big.bin");
  assert.equal(pr.success, true);
  assert.equal(await os.get("big.bin"), null);
  const gone = await os.info("big.bin");
  assert.ok(gone === null || gone.deleted === true);
  assert.deepEqual((await os.list()).map((x) => x.name), ["small.txt"]);
  // Rename and describe, link, then seal: no more puts (10109).
  await os.update("small.txt", { name: "hello.txt", description: "greeting" });
  assert.equal(await os.info("small.txt"), null);
  assert.equal((await os.info("hello.txt")).description, "greeting");
  const ln = await os.link("alias", await os.info("hello.txt"));
  assert.deepEqual(ln.options.link, { bucket: "files", name: "hello.txt" });
  assert.equal(dec.decode(await os.getBlob("alias")), "hello");
  assert.equal((await os.seal()).sealed, true);
  await rejectsCode(os.putBlob({ name: "late" }, enc.encode("x")), E.Sealed, "put into a sealed bucket");
  const st = await os.status();
  assert.equal(st.bucket, "files");
  assert.equal(await os.destroy(), true);
}));

// Poll a stream's info until ok(info) (copies are asynchronous).
async function waitInfo(jsm, name, ok, what) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const si = await jsm.streams.info(name).catch(() => null);
    if (si && ok(si)) return si;
    assert.ok(Date.now() < deadline, `${what}: never reached, last ${JSON.stringify(si)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("mirrors and sources: catch-up, live, Nats-Stream-Source, info, errors", () => withJs(async ({ jsm, js }) => {
  await jsm.streams.add({ name: "ORIG", subjects: ["orig.*"] });
  for (let i = 1; i <= 4; i++) await js.publish(`orig.${i % 2}`, enc.encode(`m${i}`));
  assert.equal(await jsm.streams.deleteMessage("ORIG", 2), true);
  await jsm.streams.add({ name: "MIR", mirror: { name: "ORIG" } });
  await jsm.streams.add({ name: "SRC", subjects: ["src"], sources: [{ name: "ORIG", filter_subject: "orig.1" }] });
  let mi = await waitInfo(jsm, "MIR", (si) => si.state.last_seq === 4 && si.state.messages === 3, "mirror catch-up");
  assert.equal(mi.mirror.name, "ORIG");
  assert.equal((await jsm.streams.getMessage("MIR", { seq: 3 })).string(), "m3");
  await js.publish("orig.1", enc.encode("m5"));
  mi = await waitInfo(jsm, "MIR", (si) => si.state.last_seq === 5 && si.mirror.lag === 0, "mirror live");
  assert.ok(mi.mirror.active >= 0);
  // The source took orig.1 (origin seqs 1, 3, 5) under new seqs 1..3.
  const si = await waitInfo(jsm, "SRC", (s) => s.state.messages === 3, "sources");
  assert.deepEqual(si.sources.map((x) => x.name), ["ORIG"]);
  const m = await jsm.streams.getMessage("SRC", { seq: 3 });
  assert.equal(m.string(), "m5");
  assert.equal(m.header.get("Nats-Stream-Source"), "ORIG 5");
  await rejectsCode(jsm.streams.add({ name: "BAD", subjects: ["bad"], mirror: { name: "ORIG" } }),
    10034, "mirror with subjects");
  await rejectsCode(jsm.streams.update("MIR", { mirror: { name: "SRC" } }), 10055, "mirror update");
}));
