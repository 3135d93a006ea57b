// client.test.mjs - nats.js (@nats-io/transport-node) against the server
// under test: the same tests run against modnats and /usr/sbin/nats-server.
// Counts are exact: after a publisher's flush() the server has routed its
// messages, and after the subscriber's own flush() they have reached it.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  connect, headers, AuthorizationError, InvalidArgumentError, RequestError,
} from "@nats-io/transport-node";
import { Server, isNatsServer } from "./server.mjs";

const enc = new TextEncoder();
const dec = new TextDecoder();

// Start a server, run fn(server), always stop it (an unclean stop fails).
async function withServer(conf, fn, args = []) {
  const s = await new Server(conf, args).start();
  let err = null;
  try {
    await fn(s);
  } catch (e) {
    err = e;
  }
  try {
    await s.stop();
  } catch (e) {
    if (!err) err = e;
  }
  if (err) {
    if (!String(err.message).includes("server.log")) console.error(`server log:\n${s.tail()}`);
    throw err;
  }
}

// Collect the messages of a subscription as they arrive.
function collect(nc, subject, opts = {}) {
  const got = [];
  const sub = nc.subscribe(subject, { ...opts, callback: (err, m) => { if (!err) got.push(m); } });
  return { sub, got };
}

async function waitFor(cond, ms = 10000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("connect: INFO as clients expect it", () => withServer("", async (s) => {
  const nc = await connect({ servers: s.url, name: "js-info" });
  const info = nc.info;
  assert.ok(info.server_id && info.server_id.length > 0);
  assert.equal(info.max_payload, 1024 * 1024);
  assert.equal(info.headers, true);
  assert.equal(info.proto, 1);
  const [maj, min] = info.version.split(".").map(Number);
  assert.ok(maj > 2 || (maj === 2 && min >= 9), `version ${info.version}`);
  assert.equal(info.port, s.port);
  const rtt = await nc.rtt();
  assert.ok(rtt >= 0);
  await nc.close();
}));

test("pub/sub: every message, in order, exact bytes", () => withServer("", async (s) => {
  const sc = await connect({ servers: s.url });
  const pc = await connect({ servers: s.url });
  const { got } = collect(sc, "js.ps");
  await sc.flush();
  const N = 500;
  for (let i = 0; i < N; i++) pc.publish("js.ps", enc.encode(`m${i}`));
  pc.publish("js.ps", new Uint8Array(0));
  await pc.flush();
  await sc.flush();
  await waitFor(() => got.length >= N + 1);
  assert.equal(got.length, N + 1);
  got.slice(0, N).forEach((m, i) => assert.equal(dec.decode(m.data), `m${i}`));
  assert.equal(got[N].data.length, 0);
  // 256 KiB of binary payload survives unchanged.
  const big = new Uint8Array(256 * 1024).map((_, i) => (i * 7) & 0xff);
  pc.publish("js.ps", big);
  await pc.flush();
  await waitFor(() => got.length === N + 2);
  assert.deepEqual(got[N + 1].data, big);
  await sc.close();
  await pc.close();
}));

test("wildcards: * matches one token, > the rest", () => withServer("", async (s) => {
  const nc = await connect({ servers: s.url });
  const star = collect(nc, "js.w.*");
  const gt = collect(nc, "js.w.>");
  const mid = collect(nc, "js.*.x");
  await nc.flush();
  for (const subj of ["js.w.a", "js.w.a.b", "js.w.x", "js.q.x", "js.w", "js.wx.a"]) nc.publish(subj);
  await nc.flush();
  await waitFor(() => star.got.length >= 2 && gt.got.length >= 3 && mid.got.length >= 2);
  await nc.flush();
  assert.deepEqual(star.got.map((m) => m.subject).sort(), ["js.w.a", "js.w.x"]);
  assert.deepEqual(gt.got.map((m) => m.subject).sort(), ["js.w.a", "js.w.a.b", "js.w.x"]);
  assert.deepEqual(mid.got.map((m) => m.subject).sort(), ["js.q.x", "js.w.x"]);
  await nc.close();
}));

test("queue groups: each message to exactly one member", () => withServer("", async (s) => {
  const conns = await Promise.all([0, 1, 2].map(() => connect({ servers: s.url })));
  const members = conns.map((c) => collect(c, "js.work", { queue: "workers" }));
  const plain = collect(conns[0], "js.work");
  await Promise.all(conns.map((c) => c.flush()));
  const pc = await connect({ servers: s.url });
  const N = 600;
  for (let i = 0; i < N; i++) pc.publish("js.work", enc.encode(String(i)));
  await pc.flush();
  await Promise.all(conns.map((c) => c.flush()));
  await waitFor(() => members.reduce((n, m) => n + m.got.length, 0) >= N && plain.got.length >= N);
  const seen = members.flatMap((m) => m.got.map((x) => dec.decode(x.data)));
  assert.equal(seen.length, N, "every message once in the group");
  assert.equal(new Set(seen).size, N, "no duplicates");
  assert.equal(plain.got.length, N, "plain subscriber gets all");
  for (const m of members) assert.ok(m.got.length > 0, "work is spread");
  await pc.close();
  await Promise.all(conns.map((c) => c.close()));
}));

test("request/reply", () => withServer("", async (s) => {
  const rc = await connect({ servers: s.url });
  rc.subscribe("js.svc", { callback: (err, m) => { if (!err) m.respond(enc.encode(`re:${dec.decode(m.data)}`)); } });
  await rc.flush();
  const nc = await connect({ servers: s.url });
  for (let i = 0; i < 50; i++) {
    const r = await nc.request("js.svc", enc.encode(`q${i}`), { timeout: 5000 });
    assert.equal(dec.decode(r.data), `re:q${i}`);
  }
  // the old style, a reply subject of our own per request
  const r = await nc.request("js.svc", enc.encode("nomux"), { timeout: 5000, noMux: true });
  assert.equal(dec.decode(r.data), "re:nomux");
  await nc.close();
  await rc.close();
}));

test("headers: sent and received intact", () => withServer("", async (s) => {
  const nc = await connect({ servers: s.url });
  const { got } = collect(nc, "js.hdr");
  await nc.flush();
  const h = headers();
  h.set("X-One", "1");
  h.append("X-Multi", "a");
  h.append("X-Multi", "b");
  nc.publish("js.hdr", enc.encode("body"), { headers: h });
  nc.publish("js.hdr", enc.encode("plain"));
  await nc.flush();
  await waitFor(() => got.length === 2);
  assert.equal(dec.decode(got[0].data), "body");
  assert.equal(got[0].headers.get("X-One"), "1");
  assert.deepEqual(got[0].headers.values("X-Multi"), ["a", "b"]);
  assert.equal(got[1].headers, undefined);
  // a reply with headers
  nc.subscribe("js.hsvc", { callback: (err, m) => {
    const rh = headers();
    rh.set("X-Echo", m.headers ? m.headers.get("X-Q") : "none");
    m.respond(enc.encode("ok"), { headers: rh });
  } });
  await nc.flush();
  const qh = headers();
  qh.set("X-Q", "question");
  const r = await nc.request("js.hsvc", enc.encode(""), { headers: qh, timeout: 5000 });
  assert.equal(r.headers.get("X-Echo"), "question");
  await nc.close();
}));

test("no responders: the request fails at once", () => withServer("", async (s) => {
  const nc = await connect({ servers: s.url });
  const t0 = Date.now();
  await assert.rejects(nc.request("js.nobody", enc.encode("x"), { timeout: 20000 }), (err) => {
    assert.ok(err instanceof RequestError, `got ${err}`);
    assert.ok(err.isNoResponders(), `not a no-responders error: ${err.message}`);
    return true;
  });
  assert.ok(Date.now() - t0 < 10000, "answered by the server, not the timeout");
  await nc.close();
}));

test("drain: pending messages are delivered, then the connection closes", () => withServer("", async (s) => {
  const sc = await connect({ servers: s.url });
  const pc = await connect({ servers: s.url });
  let n = 0;
  sc.subscribe("js.drain", { callback: () => { n++; } });
  await sc.flush();
  const N = 300;
  for (let i = 0; i < N; i++) pc.publish("js.drain", enc.encode(String(i)));
  await pc.flush();
  const closed = sc.closed();
  await sc.drain();
  assert.equal(await closed, undefined);
  assert.ok(sc.isClosed());
  assert.equal(n, N);
  // a subscription's own drain
  let m = 0;
  const sub = pc.subscribe("js.drain2", { callback: () => { m++; } });
  await pc.flush();
  pc.publish("js.drain2");
  pc.publish("js.drain2");
  await pc.flush();
  await sub.drain();
  assert.equal(m, 2);
  assert.ok(sub.isClosed());
  await pc.close();
}));

test("auth: user and password", () => withServer(
  'authorization = { user = "alice"; password = "s3cret"; };\n', async (s) => {
    const nc = await connect({ servers: s.url, user: "alice", pass: "s3cret" });
    assert.equal(nc.info.auth_required, true);
    const { got } = collect(nc, "js.auth");
    await nc.flush();
    nc.publish("js.auth");
    await nc.flush();
    await waitFor(() => got.length === 1);
    await nc.close();
    for (const bad of [{ user: "alice", pass: "nope" }, { user: "bob", pass: "s3cret" }, {}]) {
      await assert.rejects(connect({ servers: s.url, reconnect: false, ...bad }), (err) => {
        assert.ok(err instanceof AuthorizationError || /authorization/i.test(err.message), `got ${err}`);
        return true;
      });
    }
  }));

test("auth: token", () => withServer('authorization = { token = "t0ken"; };\n', async (s) => {
  const nc = await connect({ servers: s.url, token: "t0ken" });
  await nc.flush();
  await nc.close();
  await assert.rejects(connect({ servers: s.url, token: "wrong", reconnect: false }), (err) => {
    assert.ok(err instanceof AuthorizationError || /authorization/i.test(err.message), `got ${err}`);
    return true;
  });
}));

test("max_payload: INFO says it and the client refuses more", () => withServer("max_payload = 512;\n", async (s) => {
  const nc = await connect({ servers: s.url });
  assert.equal(nc.info.max_payload, 512);
  const { got } = collect(nc, "js.mp");
  await nc.flush();
  nc.publish("js.mp", new Uint8Array(512));
  assert.throws(() => nc.publish("js.mp", new Uint8Array(513)), InvalidArgumentError);
  await nc.flush();
  await waitFor(() => got.length === 1);
  assert.equal(got[0].data.length, 512);
  assert.ok(!nc.isClosed());
  await nc.close();
}));

test("flavour detection", () => {
  // Printed so the log says which server the suite ran against.
  console.log(`server under test: ${process.env.MN_TEST_SERVER} (${isNatsServer() ? "nats-server" : "modnats"})`);
});
