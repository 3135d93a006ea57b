#!/usr/bin/env python3
"""test_monitor.py - the monitor module against nats-server's monitoring.

Starts modnats with the monitor module and /usr/sbin/nats-server -m side
by side, connects the same libnats clients to each (through ctypes: the
real C client, no Python NATS library needed), publishes one message,
then checks every endpoint: the field names modnats prints are the ones
nats-server prints (minus a listed few it lacks data for), types match,
and the values both must agree on do (connections, subscriptions, message
and byte counters, connz names/lang/subscriptions_list, sort, limit,
offset, subs, state, cid, error texts, JSONP).  Also /metrics' format and
values, and a taken port refusing start-up.

    test_monitor.py --server build/bin/modnats [--module-dir build/modules]
                    [--ref /usr/sbin/nats-server]

Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

# Fields nats-server prints that modnats cannot (no data in the core yet);
# docs/modules/monitor.md explains each.
VARZ_ONLY_IN_NATS = set()
SUBDETAIL_ONLY_IN_NATS = {"sid", "msgs"}
ACCOUNTZ_ONLY_IN_NATS = set()

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
UPTIME = re.compile(r"^(\d+y)?(\d+d)?(\d+h)?(\d+m)?\d+s$")
GODUR = re.compile(r"^(0s|[\d.]+(ns|µs|ms|s)|(\d+h)?(\d+m)?[\d.]+s)$")


# ------------------------------------------------------------ libnats

class Nats:
    """The few libnats calls the test needs."""

    def __init__(self):
        path = ctypes.util.find_library("nats")
        if not path:
            raise RuntimeError("libnats not found (apt install libnats-dev)")
        lib = ctypes.CDLL(path)
        P = ctypes.c_void_p
        PP = ctypes.POINTER(ctypes.c_void_p)
        S = ctypes.c_char_p
        for name, args in [
            ("natsOptions_Create", [PP]), ("natsOptions_SetURL", [P, S]),
            ("natsOptions_SetName", [P, S]), ("natsConnection_Connect", [PP, P]),
            ("natsConnection_SubscribeSync", [PP, P, S]),
            ("natsConnection_QueueSubscribeSync", [PP, P, S, S]),
            ("natsConnection_PublishString", [P, S, S]), ("natsConnection_Flush", [P]),
        ]:
            f = getattr(lib, name)
            f.argtypes = args
            f.restype = ctypes.c_int
        for name in ("natsConnection_Destroy", "natsSubscription_Destroy", "natsOptions_Destroy"):
            f = getattr(lib, name)
            f.argtypes = [P]
            f.restype = None
        self.lib = lib

    def _ok(self, rc, what):
        if rc != 0:
            raise RuntimeError("%s failed: natsStatus %d" % (what, rc))

    def connect(self, port, name):
        o = ctypes.c_void_p()
        self._ok(self.lib.natsOptions_Create(ctypes.byref(o)), "natsOptions_Create")
        self._ok(self.lib.natsOptions_SetURL(o, b"nats://127.0.0.1:%d" % port), "SetURL")
        self._ok(self.lib.natsOptions_SetName(o, name.encode()), "SetName")
        nc = ctypes.c_void_p()
        self._ok(self.lib.natsConnection_Connect(ctypes.byref(nc), o), "Connect")
        self.lib.natsOptions_Destroy(o)
        return nc

    def sub(self, nc, subject, queue=None):
        s = ctypes.c_void_p()
        if queue:
            rc = self.lib.natsConnection_QueueSubscribeSync(ctypes.byref(s), nc, subject.encode(),
                                                            queue.encode())
        else:
            rc = self.lib.natsConnection_SubscribeSync(ctypes.byref(s), nc, subject.encode())
        self._ok(rc, "Subscribe")
        self._ok(self.lib.natsConnection_Flush(nc), "Flush")
        return s

    def pub(self, nc, subject, data):
        self._ok(self.lib.natsConnection_PublishString(nc, subject.encode(), data.encode()), "Publish")
        self._ok(self.lib.natsConnection_Flush(nc), "Flush")

    def close(self, nc, subs):
        for s in subs:
            self.lib.natsSubscription_Destroy(s)
        self.lib.natsConnection_Destroy(nc)


# ------------------------------------------------------------ servers

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d not open after %.0fs" % (port, timeout))


class Server:
    def __init__(self, argv, port, mport, env=None):
        self.port, self.mport = port, mport
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_port(port, self.proc)
        wait_port(mport, self.proc)

    def get(self, path):
        """(status, content-type, body text)."""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.mport, path), timeout=10) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read().decode()

    def json(self, path):
        st, ct, body = self.get(path)
        if st != 200:
            raise AssertionError("%s: HTTP %d: %s" % (path, st, body))
        return json.loads(body)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def modnats_env(module_dir):
    return dict(os.environ)


def modnats_argv(args, port, conf):
    argv = [args.server, "-c", conf, "-p", str(port)]
    if args.module_dir:
        argv += ["--module_path", args.module_dir]
    return argv


def start_modnats(args, port, mport, tmp):
    conf = os.path.join(tmp, "modnats.conf")
    with open(conf, "w") as f:
        f.write('modules = ["monitor"]\nmonitor = { port = %d; host = "127.0.0.1"; }\n' % mport)
    return Server(modnats_argv(args, port, conf), port, mport, modnats_env(args.module_dir))


def start_ref(args, port, mport):
    return Server([args.ref, "-a", "127.0.0.1", "-p", str(port), "-m", str(mport)], port, mport)


# ------------------------------------------------------------ checks

def same_type(a, b):
    num = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, num) and isinstance(b, num):
        return True   # Go prints 2.0 as 2: int vs float is the same JSON number
    return type(a) is type(b)


def check_keys(where, mine, ref, only_ref=frozenset()):
    mk, rk = set(mine), set(ref)
    extra = mk - rk
    missing = rk - mk - set(only_ref)
    assert not extra, "%s: fields nats-server does not print: %s" % (where, sorted(extra))
    assert not missing, "%s: fields missing: %s" % (where, sorted(missing))
    for k in mk & rk:
        assert same_type(mine[k], ref[k]), "%s.%s: type %s, nats-server %s" % (
            where, k, type(mine[k]).__name__, type(ref[k]).__name__)


def check_order(where, mine, ref):
    """Fields in nats-server's order (dicts keep JSON order)."""
    rk = [k for k in ref if k in mine]
    mk = [k for k in mine if k in ref]
    assert mk == rk, "%s: field order %s, nats-server %s" % (where, mk, rk)


class Ctx:
    pass


def setup(args, tmp):
    c = Ctx()
    c.nats = Nats()
    p1, m1, p2, m2 = free_port(), free_port(), free_port(), free_port()
    c.mine = start_modnats(args, p1, m1, tmp)
    try:
        c.ref = start_ref(args, p2, m2)
    except Exception:
        c.mine.stop()
        raise
    try:
        return setup_clients(c)
    except Exception:
        print("--- modnats output ---\n" + c.mine.output())
        c.mine.stop()
        c.ref.stop()
        raise


def setup_clients(c):
    c.base_subs = {}
    for name, srv in (("mine", c.mine), ("ref", c.ref)):
        c.base_subs[name] = srv.json("/varz")["subscriptions"]   # nats-server's $SYS subs
    c.clients = []
    for srv in (c.mine, c.ref):
        a = c.nats.connect(srv.port, "alpha")
        sa = [c.nats.sub(a, "foo"), c.nats.sub(a, "bar.>")]
        b = c.nats.connect(srv.port, "beta")
        sb = [c.nats.sub(b, "foo", "q1")]
        g = c.nats.connect(srv.port, "gamma")
        c.nats.pub(g, "foo", "hello")
        c.clients += [(a, sa), (b, sb), (g, [])]
    time.sleep(0.3)   # let the deliveries be counted on both
    return c


def teardown(c):
    for nc, subs in c.clients:
        c.nats.close(nc, subs)
    c.mine.stop()
    c.ref.stop()


def t_varz(c):
    m, r = c.mine.json("/varz"), c.ref.json("/varz")
    check_keys("varz", m, r, VARZ_ONLY_IN_NATS)
    check_order("varz", m, r)
    for k in ("connections", "total_connections", "in_msgs", "out_msgs", "in_bytes", "out_bytes",
              "slow_consumers", "routes", "remotes", "leafnodes", "max_payload",
              "max_control_line", "ping_max", "ping_interval", "proto", "https_port",
              "http_base_path", "auth_timeout", "write_deadline", "max_connections", "max_pending"):
        assert m[k] == r[k], "varz.%s: %r, nats-server %r" % (k, m[k], r[k])
    assert m["connections"] == 3 and m["in_msgs"] == 1 and m["out_msgs"] == 2, m
    assert m["subscriptions"] - c.base_subs["mine"] == r["subscriptions"] - c.base_subs["ref"] == 3
    assert m["http_port"] == c.mine.mport and m["port"] == c.mine.port
    for k in ("start", "now", "config_load_time"):
        assert RFC3339.match(m[k]), "varz.%s: %r" % (k, m[k])
    assert UPTIME.match(m["uptime"]), m["uptime"]
    assert m["mem"] > 0 and m["cores"] > 0 and m["cpu"] >= 0
    assert m["http_req_stats"].get("/varz", 0) >= 2, m["http_req_stats"]


def conns_by_name(cz):
    return {x["name"]: x for x in cz["connections"]}


def t_connz(c):
    m, r = c.mine.json("/connz?subs=1"), c.ref.json("/connz?subs=1")
    check_keys("connz", m, r)
    check_order("connz", m, r)
    for k in ("num_connections", "total", "offset", "limit"):
        assert m[k] == r[k], "connz.%s: %r vs %r" % (k, m[k], r[k])
    mc, rc = conns_by_name(m), conns_by_name(r)
    assert set(mc) == set(rc) == {"alpha", "beta", "gamma"}, (set(mc), set(rc))
    for n in mc:
        check_keys("connz[%s]" % n, mc[n], rc[n])
        check_order("connz[%s]" % n, mc[n], rc[n])
        for k in ("kind", "type", "ip", "name", "lang", "version", "subscriptions", "in_msgs",
                  "out_msgs", "in_bytes", "out_bytes", "pending_bytes"):
            assert mc[n][k] == rc[n][k], "connz[%s].%s: %r vs %r" % (n, k, mc[n][k], rc[n][k])
        assert sorted(mc[n].get("subscriptions_list", [])) == sorted(rc[n].get("subscriptions_list", []))
        for k in ("start", "last_activity"):
            assert RFC3339.match(mc[n][k]), mc[n][k]
        for k in ("uptime", "idle"):
            assert UPTIME.match(mc[n][k]), mc[n][k]
        assert GODUR.match(mc[n]["rtt"]), mc[n]["rtt"]
    assert sorted(mc["alpha"]["subscriptions_list"]) == ["bar.>", "foo"]
    # connections in cid order by default
    cids = [x["cid"] for x in m["connections"]]
    assert cids == sorted(cids), cids
    assert [x["name"] for x in m["connections"]] == [x["name"] for x in r["connections"]]


SORT_FIELD = {"subs": "subscriptions", "msgs_to": "out_msgs", "msgs_from": "in_msgs",
              "bytes_to": "out_bytes", "bytes_from": "in_bytes", "cid": None, "start": None}


def names(cz):
    return [x.get("name") for x in cz["connections"]]


def t_connz_options(c):
    for q in ("sort=subs", "sort=msgs_to", "sort=msgs_from", "sort=bytes_to", "sort=bytes_from",
              "sort=cid", "sort=start", "limit=1&offset=1", "limit=2", "offset=2", "offset=9",
              "sort=subs&limit=1&offset=1", "state=open", "state=any", "state=all"):
        m, r = c.mine.json("/connz?" + q), c.ref.json("/connz?" + q)
        if "state=a" in q:
            # nats-server keeps closed connections (wait_port's probes);
            # modnats has no closed-connection ring yet: compare open ones
            r["connections"] = [x for x in r["connections"] if "stop" not in x]
            r["total"] = r["num_connections"] = len(r["connections"])
        # Go's sort is not stable: compare the sorted-by values, and the
        # names only where the key is unique
        field = SORT_FIELD.get(re.sub(r".*sort=([a-z_]+).*", r"\1", q) if "sort=" in q else "cid")
        if field:
            mv, rv = [x[field] for x in m["connections"]], [x[field] for x in r["connections"]]
            assert mv == rv, "connz?%s %s: %s, nats-server %s" % (q, field, mv, rv)
        else:
            assert names(m) == names(r), "connz?%s: %s, nats-server %s" % (q, names(m), names(r))
        for k in ("num_connections", "total", "offset", "limit"):
            assert m[k] == r[k], "connz?%s %s: %r vs %r" % (q, k, m[k], r[k])
    m, r = c.mine.json("/connz?state=closed"), c.ref.json("/connz?state=closed")
    assert m["connections"] == [] and m["total"] == 0, m
    check_keys("connz?state=closed", m, r)
    for x in r["connections"]:
        assert "stop" in x and "reason" in x   # what a closed ring would have to print
    # subs=detail: subject and queue as nats-server, without sid/msgs
    m, r = c.mine.json("/connz?subs=detail"), c.ref.json("/connz?subs=detail")
    mc, rc = conns_by_name(m), conns_by_name(r)
    for n in mc:
        md = mc[n].get("subscriptions_list_detail", [])
        rd = rc[n].get("subscriptions_list_detail", [])
        for d, e in zip(sorted(md, key=lambda x: x["subject"]), sorted(rd, key=lambda x: x["subject"])):
            check_keys("connz detail[%s]" % n, d, e, SUBDETAIL_ONLY_IN_NATS)
        key = lambda x: (x["subject"], x.get("qgroup", ""))
        assert sorted(map(key, md)) == sorted(map(key, rd)), (md, rd)
        assert "subscriptions_list" not in mc[n]
    # cid filter: the second connection of each
    mcid = c.mine.json("/connz")["connections"][1]["cid"]
    rcid = c.ref.json("/connz")["connections"][1]["cid"]
    m, r = c.mine.json("/connz?cid=%d" % mcid), c.ref.json("/connz?cid=%d" % rcid)
    assert names(m) == names(r) == ["beta"], (names(m), names(r))
    assert (m["total"], m["limit"], m["num_connections"]) == (r["total"], r["limit"], r["num_connections"])
    # auth=1 adds nothing for unauthenticated clients of $G on either
    m, r = c.mine.json("/connz?auth=1"), c.ref.json("/connz?auth=1")
    for x, y in zip(m["connections"], r["connections"]):
        check_keys("connz?auth=1", x, y)
    # errors: same status and text
    for q in ("sort=bogus", "limit=x", "offset=1.5", "subs=maybe", "state=gone", "sort=stop",
              "sort=reason", "cid=-1", "auth=yes"):
        ms, _, mb = c.mine.get("/connz?" + q)
        rs, _, rb = c.ref.get("/connz?" + q)
        assert (ms, mb.strip()) == (rs, rb.strip()), "connz?%s: %d %r, nats-server %d %r" % (q, ms, mb, rs, rb)


def t_subsz(c):
    m, r = c.mine.json("/subsz"), c.ref.json("/subsz")
    check_keys("subsz", m, r)
    check_order("subsz", m, r)
    assert m["num_subscriptions"] == 3
    assert m["num_inserts"] >= 3 and m["num_matches"] >= 1, "sublist counters not filled: %r" % m
    assert 0 <= m["cache_hit_rate"] <= 1
    for q in ("subs=1&test=foo", "subs=1&test=bar.baz", "subs=true&test=foo&limit=1",
              "subs=1&test=foo&offset=1"):
        m, r = c.mine.json("/subsz?" + q), c.ref.json("/subsz?" + q)
        check_keys("subsz?" + q, m, r)
        check_order("subsz?" + q, m, r)
        for k in ("total", "offset", "limit"):
            assert m[k] == r[k], "subsz?%s %s: %r vs %r" % (q, k, m[k], r[k])
        key = lambda x: (x["account"], x["subject"], x.get("qgroup", ""))
        if "limit" in q or "offset" in q:
            assert len(m["subscriptions_list"]) == len(r["subscriptions_list"])
        else:
            assert sorted(map(key, m["subscriptions_list"])) == sorted(map(key, r["subscriptions_list"]))
        for d, e in zip(m["subscriptions_list"], r["subscriptions_list"]):
            check_keys("subsz?%s entry" % q, d, e, SUBDETAIL_ONLY_IN_NATS)
    # all of modnats's subscriptions (nats-server adds $SYS's)
    m = c.mine.json("/subsz?subs=1")
    got = sorted((x["subject"], x.get("qgroup", "")) for x in m["subscriptions_list"])
    assert got == [("bar.>", ""), ("foo", ""), ("foo", "q1")], got
    for q in ("test=foo.*", "limit=z"):
        ms, _, mb = c.mine.get("/subsz?subs=1&" + q)
        rs, _, rb = c.ref.get("/subsz?subs=1&" + q)
        assert (ms, mb.strip()) == (rs, rb.strip()), "subsz?%s: %r vs %r" % (q, mb, rb)


def t_routez_accountz_healthz(c):
    m, r = c.mine.json("/routez"), c.ref.json("/routez")
    check_keys("routez", m, r)
    check_order("routez", m, r)
    assert m["routes"] == r["routes"] == [] and m["num_routes"] == 0
    m, r = c.mine.json("/accountz"), c.ref.json("/accountz")
    check_keys("accountz", m, r, ACCOUNTZ_ONLY_IN_NATS)
    assert "$G" in m["accounts"] and "$G" in r["accounts"]
    m, r = c.mine.json("/accountz?acc=$G"), c.ref.json("/accountz?acc=$G")
    check_keys("accountz?acc=$G", m, r, ACCOUNTZ_ONLY_IN_NATS)
    md, rd = m["account_detail"], r["account_detail"]
    check_keys("account_detail", md, rd, {"imports"})   # $SYS service imports: no $SYS here
    check_keys("sublist_stats", md["sublist_stats"], rd["sublist_stats"])
    assert md["account_name"] == "$G" and md["client_connections"] == rd["client_connections"] == 3
    for path in ("/healthz",):
        assert c.mine.get(path)[2] == c.ref.get(path)[2] == '{"status":"ok"}'
    m, r = c.mine.json("/leafz"), c.ref.json("/leafz")
    check_keys("leafz", m, r)
    m, r = c.mine.json("/gatewayz"), c.ref.json("/gatewayz")
    check_keys("gatewayz", m, r)


def t_misc_http(c):
    st, ct, body = c.mine.get("/")
    assert st == 200 and "text/html" in ct
    for p in ("varz", "connz", "subsz", "routez", "accountz", "healthz", "metrics"):
        assert "./" + p in body, p
    for path in ("/nosuch", "/varz/", "/connzz"):
        assert c.mine.get(path)[0] == c.ref.get(path)[0] == 404, path
    st, ct, body = c.mine.get("/varz?callback=cb")
    rst, rct, rbody = c.ref.get("/varz?callback=cb")
    assert (st, ct) == (rst, rct) == (200, "application/javascript"), (st, ct, rct)
    assert body.startswith("cb({") and body.endswith("})")
    json.loads(body[3:-1])
    st, ct, _ = c.mine.get("/connz")
    assert ct == c.ref.get("/connz")[1] == "application/json"


def t_metrics(c):
    st, ct, body = c.mine.get("/metrics")
    assert st == 200 and ct.startswith("text/plain; version=0.0.4"), (st, ct)
    line_re = re.compile(r'^(?P<name>modnats_[a-z_]+)'
                         r'(?P<labels>\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})? '
                         r'(?P<value>-?[0-9.e+-]+)$')
    typed, values = {}, {}
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("gauge", "counter"), line
            assert name not in typed, "TYPE twice: " + name
            typed[name] = kind
            continue
        if line.startswith("# HELP ") or not line:
            continue
        mt = line_re.match(line)
        assert mt, "not Prometheus text: %r" % line
        assert mt.group("name") in typed, "no TYPE before " + line
        values[mt.group("name") + (mt.group("labels") or "")] = float(mt.group("value"))
    for name, kind in typed.items():
        assert name.startswith("modnats_")
        assert (kind == "counter") == name.endswith("_total"), name
    assert values["modnats_connections"] == 3
    # the wait_port probes count as connections too, on both servers
    assert values["modnats_connections_total"] == c.mine.json("/varz")["total_connections"]
    for k, want in (("in_msgs_total", 1), ("out_msgs_total", 2), ("in_bytes_total", 5),
                    ("out_bytes_total", 10)):
        assert values["modnats_" + k] == want, "modnats_%s: %r, want %r" % (k, values["modnats_" + k], want)
    assert values["modnats_subscriptions"] == 3
    assert values["modnats_resident_memory_bytes"] > 0
    assert values['modnats_http_requests_total{path="/metrics"}'] >= 1


def t_port_in_use(args, tmp):
    """A taken monitoring port: modnats refuses to start and says why."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    mport = holder.getsockname()[1]
    conf = os.path.join(tmp, "taken.conf")
    with open(conf, "w") as f:
        f.write('modules = ["monitor"]\nmonitor = { port = %d; host = "127.0.0.1"; }\n' % mport)
    try:
        p = subprocess.run(modnats_argv(args, free_port(), conf), capture_output=True, text=True,
                           timeout=20, env=modnats_env(args.module_dir))
    finally:
        holder.close()
    out = p.stdout + p.stderr
    assert p.returncode != 0, "started anyway: " + out
    assert "in use" in out and str(mport) in out, out


def t_dash_m(args, tmp):
    """-m PORT loads the module implicitly, as nats-server's flag."""
    port, mport = free_port(), free_port()
    argv = [args.server, "-a", "127.0.0.1", "-p", str(port), "-m", str(mport)]
    if args.module_dir:
        argv += ["--module_path", args.module_dir]
    s = Server(argv, port, mport, modnats_env(args.module_dir))
    try:
        v = s.json("/varz")
        # connections: wait_port's probe may not be reaped yet
        assert v["http_port"] == mport and v["connections"] in (0, 1), v
    finally:
        s.stop()


def t_jsz_disabled(c):
    """Without JetStream /jsz answers anyway: "disabled" and zeros."""
    m, r = c.mine.json("/jsz"), c.ref.json("/jsz")
    check_keys("jsz (disabled)", m, r)
    check_order("jsz (disabled)", m, r)
    check_keys("jsz.config (disabled)", m["config"], r["config"])
    assert m["disabled"] is r["disabled"] is True, (m, r)
    assert m["streams"] == r["streams"] == 0 and m["api"] == r["api"]
    assert c.mine.json("/varz")["jetstream"] == c.ref.json("/varz")["jetstream"] == {}


def t_jsz(args, tmp):
    """/jsz and varz's "jetstream" with JetStream on: nats-server's members,
    in its order, and the same values where both must agree."""
    p1, m1, p2, m2 = free_port(), free_port(), free_port(), free_port()
    sd1, sd2 = os.path.join(tmp, "jsz-mine"), os.path.join(tmp, "jsz-ref")
    conf = os.path.join(tmp, "jsz.conf")
    with open(conf, "w") as f:
        f.write('modules = ["monitor", "jetstream"]\nmonitor = { port = %d; host = "127.0.0.1"; }\n'
                'jetstream = { store_dir = "%s"; }\n' % (m1, sd1))
    mine = Server(modnats_argv(args, p1, conf), p1, m1, modnats_env(args.module_dir))
    try:
        ref = Server([args.ref, "-a", "127.0.0.1", "-p", str(p2), "-m", str(m2), "-js", "-sd", sd2],
                     p2, m2)
    except Exception:
        mine.stop()
        raise
    try:
        for q in ("", "?accounts=true", "?accounts=true&streams=true&consumers=true&config=true"):
            m, r = mine.json("/jsz" + q), ref.json("/jsz" + q)
            check_keys("jsz" + q, m, r)
            check_order("jsz" + q, m, r)
            check_keys("jsz.config", m["config"], r["config"])
            check_order("jsz.config", m["config"], r["config"])
            check_keys("jsz.api", m["api"], r["api"])
            assert m["config"]["store_dir"] == sd1 + "/jetstream", m["config"]
            for k in ("memory", "storage", "reserved_memory", "reserved_storage", "accounts",
                      "ha_assets", "streams", "consumers", "messages", "bytes", "api"):
                assert m[k] == r[k], "jsz%s.%s: %r, nats-server %r" % (q, k, m[k], r[k])
            if q:
                assert len(m["account_details"]) == len(r["account_details"]) == 1, (m, r)
                md, rd = m["account_details"][0], r["account_details"][0]
                check_keys("jsz%s.account_details" % q, md, rd)
                check_order("jsz%s.account_details" % q, md, rd)
                assert md["name"] == rd["name"] == "$G" and md["reserved_memory"] == rd["reserved_memory"]
        m, r = mine.json("/varz")["jetstream"], ref.json("/varz")["jetstream"]
        check_keys("varz.jetstream", m, r)
        check_order("varz.jetstream", m, r)
        check_keys("varz.jetstream.config", m["config"], r["config"])
        check_keys("varz.jetstream.stats", m["stats"], r["stats"])
        check_order("varz.jetstream.stats", m["stats"], r["stats"])
        for path in ("/jsz?accounts=x", "/jsz?offset=-", "/jsz?config=2"):
            assert mine.get(path)[::2] == ref.get(path)[::2], path
    finally:
        mine.stop()
        ref.stop()


def t_tls(args, tmp):
    """TLS on the client port: /varz tls_required, tls_verify, tls_timeout
    and /connz tls_version, tls_cipher_suite, as nats-server shows them
    (same config, in nats-server's format, for both)."""
    import ssl
    here = os.path.dirname(os.path.abspath(__file__))
    certs = os.path.join(tmp, "certs")
    subprocess.check_call(["sh", os.path.join(here, "..", "..", "gen", "gen_certs.sh"), certs])
    views = {}
    for kind in ("mine", "ref"):
        port, mport = free_port(), free_port()
        conf = os.path.join(tmp, "tls-%s.conf" % kind)
        with open(conf, "w") as f:
            f.write('tls {\n  cert_file: "%s/server-cert.pem"\n  key_file: "%s/server-key.pem"\n'
                    '  ca_file: "%s/ca.pem"\n  verify: true\n  timeout: 1.5\n}\n'
                    'http: "127.0.0.1:%d"\n' % (certs, certs, certs, mport))
        if kind == "mine":
            srv = Server(modnats_argv(args, port, conf) + ["-a", "127.0.0.1"], port, mport,
                         modnats_env(args.module_dir))
        else:
            srv = Server([args.ref, "-c", conf, "-a", "127.0.0.1", "-p", str(port)], port, mport)
        try:
            ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
            ctx.load_cert_chain(os.path.join(certs, "alice-cert.pem"),
                                os.path.join(certs, "alice-key.pem"))
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            info = raw.recv(4096)
            assert b'"tls_required":true' in info, info
            t = ctx.wrap_socket(raw, server_hostname="localhost")
            t.sendall(b'CONNECT {"name":"tls-client","verbose":false}\r\nPING\r\n')
            got = b""
            while b"PONG" not in got:
                got += t.recv(4096)
            views[kind] = (srv.json("/varz"), srv.json("/connz"))
            t.close()
        finally:
            srv.stop()
    (mv, mc), (rv, rc) = views["mine"], views["ref"]
    for k in ("tls_required", "tls_verify", "tls_timeout"):
        assert mv.get(k) == rv.get(k), "/varz %s: %r, nats-server %r" % (k, mv.get(k), rv.get(k))
    mconn = [x for x in mc["connections"] if x.get("name") == "tls-client"][0]
    rconn = [x for x in rc["connections"] if x.get("name") == "tls-client"][0]
    assert mconn["tls_version"] == rconn["tls_version"] == "1.3", (mconn, rconn)
    assert mconn["tls_cipher_suite"].startswith("TLS_"), mconn
    check_keys("/connz TLS connection", mconn, rconn)
    check_order("/connz TLS connection", mconn, rconn)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--module-dir", default="")
    ap.add_argument("--ref", default="/usr/sbin/nats-server")
    args = ap.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        def run(name, fn, *a):
            nonlocal passed, failed
            try:
                fn(*a)
                passed += 1
                print("ok   " + name)
            except Exception:
                failed += 1
                print("FAIL " + name)
                traceback.print_exc(file=sys.stdout)
        c = None
        try:
            c = setup(args, tmp)
        except Exception:
            traceback.print_exc(file=sys.stdout)
            failed += 1
            print("FAIL setup")
        if c is not None:
            try:
                for name, fn in (("varz", t_varz), ("connz", t_connz), ("connz_options", t_connz_options),
                                 ("subsz", t_subsz), ("routez_accountz_healthz", t_routez_accountz_healthz),
                                 ("misc_http", t_misc_http), ("metrics", t_metrics),
                                 ("jsz_disabled", t_jsz_disabled)):
                    run(name, fn, c)
                if failed:
                    print("--- modnats output ---\n" + c.mine.output())
            finally:
                teardown(c)
        run("port_in_use", t_port_in_use, args, tmp)
        run("dash_m", t_dash_m, args, tmp)
        run("jsz", t_jsz, args, tmp)
        run("tls", t_tls, args, tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
