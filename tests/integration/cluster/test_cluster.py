#!/usr/bin/env python3
"""test_cluster.py - the cluster module with real servers and raw clients.

Clusters of modnats processes (and mixed with /usr/sbin/nats-server 2.9)
are started on loopback ports; small raw-socket NATS clients subscribe
and publish on every node.  Route sinks forward only local messages
(nats-server does the same), so a message reaching node B from node C
proves a direct C-B route: the full mesh is checked that way.

Exactness: a subscriber adds a unique "sync" subscription after its real
ones; once the publisher's node routes a probe on it, every earlier
interest of that subscriber has arrived there too (one route, in order).
Counts are then exact: N published, N received, no duplicates.

    test_cluster.py --server build/bin/modnats [--module-dir build/modules]
                    [--ref /usr/sbin/nats-server] [-k name]
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

ARGS = None
TMP = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------ client

class Client:
    """A minimal NATS client: enough protocol for the checks."""

    def __init__(self, port, name="t", user=None, password=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(None)
        self.lock = threading.Condition()
        self.msgs = {}          # sid -> [(subject, reply, data, hdr)]
        self.pongs = 0
        self.infos = []
        self.errs = []
        self.closed = False
        self.next_sid = 1
        self.buf = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        with self.lock:
            self.lock.wait_for(lambda: self.infos or self.closed, 15)
        if not self.infos:
            raise RuntimeError("no INFO from port %d" % port)
        cred = ""
        if user is not None:
            cred = ',"user":%s,"pass":%s' % (json.dumps(user), json.dumps(password or ""))
        self.send(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1,'
                  b'"name":"%s"%s}\r\n' % (name.encode(), cred.encode()))
        self.flush()

    def send(self, b):
        self.sock.sendall(b)

    def _read(self):
        try:
            while True:
                d = self.sock.recv(1 << 16)
                if not d:
                    break
                self.buf += d
                self._parse()
        except OSError:
            pass
        with self.lock:
            self.closed = True
            self.lock.notify_all()

    def _parse(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i < 0:
                return
            line = self.buf[:i].decode()
            parts = line.split()
            op = parts[0].upper() if parts else ""
            if op in ("MSG", "HMSG"):
                total = int(parts[-1])
                if len(self.buf) < i + 2 + total + 2:
                    return
                payload = self.buf[i + 2:i + 2 + total]
                self.buf = self.buf[i + 2 + total + 2:]
                subj, sid = parts[1], int(parts[2])
                if op == "MSG":
                    reply = parts[3] if len(parts) == 5 else None
                    hdr, data = b"", payload
                else:
                    reply = parts[3] if len(parts) == 6 else None
                    hl = int(parts[-2])
                    hdr, data = payload[:hl], payload[hl:]
                with self.lock:
                    self.msgs.setdefault(sid, []).append((subj, reply, data, hdr))
                    self.lock.notify_all()
                continue
            self.buf = self.buf[i + 2:]
            with self.lock:
                if op == "PING":
                    self.sock.sendall(b"PONG\r\n")
                elif op == "PONG":
                    self.pongs += 1
                elif op == "INFO":
                    self.infos.append(json.loads(line[5:]))
                elif op == "-ERR":
                    self.errs.append(line)
                self.lock.notify_all()

    def flush(self, timeout=10):
        with self.lock:
            want = self.pongs + 1
        self.send(b"PING\r\n")
        with self.lock:
            if not self.lock.wait_for(lambda: self.pongs >= want or self.closed, timeout):
                raise AssertionError("no PONG")

    def sub(self, subject, queue=None):
        sid = self.next_sid
        self.next_sid += 1
        with self.lock:
            self.msgs[sid] = []
        q = (" " + queue) if queue else ""
        self.send(("SUB %s%s %d\r\n" % (subject, q, sid)).encode())
        return sid

    def unsub(self, sid):
        self.send(b"UNSUB %d\r\n" % sid)

    def pub(self, subject, data=b"", reply=None, hdr=None):
        if isinstance(data, str):
            data = data.encode()
        r = (" " + reply) if reply else ""
        if hdr:
            h = b"NATS/1.0\r\n" + hdr + b"\r\n\r\n"
            self.send(b"HPUB %s%s %d %d\r\n%s%s\r\n" % (subject.encode(), r.encode(), len(h),
                                                       len(h) + len(data), h, data))
        else:
            self.send(b"PUB %s%s %d\r\n%s\r\n" % (subject.encode(), r.encode(), len(data), data))

    def count(self, sid):
        with self.lock:
            return len(self.msgs.get(sid, []))

    def wait(self, sid, n, timeout=10):
        with self.lock:
            self.lock.wait_for(lambda: len(self.msgs.get(sid, [])) >= n, timeout)
            return list(self.msgs.get(sid, []))

    def take(self, sid):
        with self.lock:
            v = self.msgs.get(sid, [])
            self.msgs[sid] = []
            return v

    def close(self):
        # shutdown first: close() alone leaves the socket open while the
        # reader thread sits in recv(), and the server keeps the client.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


_sync_n = [0]


def sync(sub_client, pub_client, timeout=10, prefix="sync"):
    """Wait until pub_client's server knows all interest sub_client has."""
    _sync_n[0] += 1
    subj = "%s.%d.%d" % (prefix, os.getpid(), _sync_n[0])
    sid = sub_client.sub(subj)
    sub_client.flush()
    end = time.time() + timeout
    while time.time() < end:
        pub_client.pub(subj, b"probe")
        pub_client.flush()
        if sub_client.wait(sid, 1, 0.1):
            sub_client.unsub(sid)
            sub_client.flush()
            return
    raise AssertionError("interest never reached the publisher's server")


# ------------------------------------------------------------ servers

class Node:
    """A cluster node.  modnats gets a libconfig file; nats-server gets
    flags, or with nats_conf (text put inside its cluster { } block) a
    config file of its own syntax.  write_conf() rewrites the file (for
    a reload: change routes/extra_cluster, write_conf(), reload())."""

    def __init__(self, name, kind, routes, cluster="C1", extra_cluster="", monitor=False,
                 nats_conf=None, extra_top=""):
        self.name, self.kind, self.routes = name, kind, routes
        self.cluster, self.extra_cluster = cluster, extra_cluster
        self.nats_conf, self.extra_top = nats_conf, extra_top
        self.port, self.cport = free_port(), free_port()
        self.mport = free_port() if monitor else 0   # -m: HTTP monitoring
        self.proc = None
        self.logpath = os.path.join(TMP, "%s.log" % name)

    @property
    def route_url(self):
        return "nats-route://127.0.0.1:%d" % self.cport

    @property
    def conf_path(self):
        return os.path.join(TMP, "%s.conf" % self.name)

    def write_conf(self):
        with open(self.conf_path, "w") as f:
            if self.kind == "modnats":
                f.write('modules = ["cluster"];\n' + self.extra_top)
                f.write('cluster = { name = "%s"; listen = "127.0.0.1:%d"; routes = [%s]; %s };\n'
                        % (self.cluster, self.cport,
                           ", ".join('"%s"' % r for r in self.routes), self.extra_cluster))
            else:
                f.write("server_name: %s\n" % self.name + self.extra_top)
                f.write("cluster {\n  name: %s\n  listen: 127.0.0.1:%d\n  routes: [%s]\n%s\n}\n"
                        % (self.cluster, self.cport, ", ".join(self.routes), self.nats_conf))

    RELOAD_DONE = ("Reloaded server configuration", "Reload failed", "Failed to reload")

    def reloads_logged(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return sum(1 for line in f if any(k in line for k in self.RELOAD_DONE))
        except OSError:
            return 0

    def reload(self):
        """Rewrite the config, SIGHUP, and wait until the server logged the
        outcome (both servers log one line per reload), so that what the
        test does next meets the new settings."""
        self.write_conf()
        before = self.reloads_logged()
        self.proc.send_signal(signal.SIGHUP)
        end = time.time() + 10
        while time.time() < end and self.reloads_logged() <= before:
            time.sleep(0.02)

    def argv(self):
        """The command line that starts this node (writes its config file
        first where it has one)."""
        if self.kind == "modnats":
            self.write_conf()
            argv = [ARGS.server, "-c", self.conf_path, "-a", "127.0.0.1", "-p", str(self.port),
                    "-n", self.name]
            if ARGS.module_dir:
                argv += ["--module_path", ARGS.module_dir]
        elif self.nats_conf is not None:
            self.write_conf()
            argv = [ARGS.ref, "-c", self.conf_path, "-a", "127.0.0.1", "-p", str(self.port),
                    "-n", self.name]
        else:
            argv = [ARGS.ref, "-a", "127.0.0.1", "-p", str(self.port), "-n", self.name,
                    "--cluster", "nats://127.0.0.1:%d" % self.cport, "--cluster_name", self.cluster]
            if self.routes:
                argv += ["--routes", ",".join(self.routes)]
        return argv

    def start(self):
        log = open(self.logpath, "ab")
        argv = self.argv()
        if ARGS.debug:
            argv += ["-D"]
        if self.mport:
            argv += ["-m", str(self.mport)]
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        end = time.time() + 10
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (self.name, self.proc.returncode,
                                                                self.log_tail()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("%s did not open its port" % self.name)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else 0
        # modnats must exit cleanly; nats-server answers SIGTERM with 1.
        if self.kind == "modnats" and rc not in (0, -signal.SIGTERM, -signal.SIGKILL):
            raise AssertionError("%s exited with %s:\n%s" % (self.name, rc, self.log_tail()))

    def log_tail(self, n=40):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def client(self, name="t", user=None, password=None):
        return Client(self.port, name, user, password)

    def http(self, path):
        """(status, body) of GET path on the monitoring port."""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.mport, path),
                                        timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def json(self, path):
        st, body = self.http(path)
        assert st == 200, "%s %s: %d %s" % (self.name, path, st, body)
        return json.loads(body)


def wait_mesh(nodes, timeout=15):
    """Every ordered pair delivers directly (sinks forward local messages only)."""
    clients = {n.name: n.client("mesh") for n in nodes}
    try:
        for a in nodes:
            for b in nodes:
                if a is b:
                    continue
                sync(clients[b.name], clients[a.name], timeout)
    finally:
        for c in clients.values():
            c.close()


# ------------------------------------------------------------ checks

def check_pubsub(pubn, subn, n=200):
    sc, pc = subn.client("sub"), pubn.client("pub")
    sid = sc.sub("orders.new")
    wid = sc.sub("orders.*")
    gid = sc.sub("orders.>")
    other = sc.sub("other")
    sync(sc, pc)
    for i in range(n):
        pc.pub("orders.new", "m%d" % i)
    pc.pub("orders.x.y", "deep")
    pc.pub("nomatch", "x")
    pc.flush()
    got = sc.wait(sid, n)
    assert [m[2] for m in got] == [b"m%d" % i for i in range(n)], \
        "%s->%s: plain got %d of %d (or out of order)" % (pubn.name, subn.name, len(got), n)
    assert len(sc.wait(wid, n)) == n
    assert len(sc.wait(gid, n + 1)) == n + 1
    # nothing more arrives
    time.sleep(0.2)
    sc.flush()
    assert sc.count(sid) == n and sc.count(wid) == n and sc.count(gid) == n + 1, \
        "duplicates: %d %d %d" % (sc.count(sid), sc.count(wid), sc.count(gid))
    assert sc.count(other) == 0
    # headers cross routes (HMSG)
    hid = sc.sub("hdr")
    sync(sc, pc)
    pc.pub("hdr", b"body", hdr=b"X-Test: 1")
    pc.flush()
    m = sc.wait(hid, 1)
    assert m and m[0][2] == b"body" and b"X-Test: 1" in m[0][3], "header message %r" % (m,)
    # after UNSUB the interest goes away on the other side too
    sc.unsub(sid)
    sc.flush()
    sync(sc, pc)
    pc.pub("orders.new", "late")
    pc.flush()
    sc.wait(wid, n + 1)
    time.sleep(0.1)
    assert sc.count(sid) == n
    sc.close()
    pc.close()


def check_request(reqn, repn, n=50):
    rc, qc = repn.client("responder"), reqn.client("requester")
    rsid = rc.sub("svc.echo")
    inbox = "_INBOX.%d" % os.getpid()
    isid = qc.sub(inbox + ".*")
    sync(rc, qc)
    sync(qc, rc)
    for i in range(n):
        qc.pub("svc.echo", "q%d" % i, reply="%s.%d" % (inbox, i))
        qc.flush()
        reqs = rc.wait(rsid, i + 1)
        subj, reply, data, _ = reqs[i]
        assert reply == "%s.%d" % (inbox, i), "reply subject %r" % reply
        rc.pub(reply, b"re:" + data)
        rc.flush()
        got = qc.wait(isid, i + 1)
        assert len(got) == i + 1 and got[i][2] == b"re:q%d" % i, \
            "%s->%s: reply %d missing" % (reqn.name, repn.name, i)
    rc.close()
    qc.close()


def check_queue(nodes, pubn, n=600, members_on=None, subject="work"):
    """Queue members spread over nodes; each message to exactly one member."""
    members_on = members_on or nodes
    subs = []
    for node in members_on:
        for k in range(2):
            c = node.client("q%s%d" % (node.name, k))
            sid = c.sub(subject, "workers")
            subs.append((node, c, sid))
    pc = pubn.client("qpub")
    for node, c, sid in subs:
        sync(c, pc)
    for i in range(n):
        pc.pub(subject, "w%d" % i)
    pc.flush()
    seen = []
    end = time.time() + 10
    while time.time() < end:
        total = sum(c.count(sid) for _, c, sid in subs)
        if total >= n:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    per = {}
    for node, c, sid in subs:
        c.flush()
        msgs = c.take(sid)
        per[node.name] = per.get(node.name, 0) + len(msgs)
        seen += [m[2] for m in msgs]
    assert len(seen) == n and len(set(seen)) == n, \
        "queue: %d delivered, %d distinct, %d published (per node %s)" % (
            len(seen), len(set(seen)), n, per)
    for _, c, _ in subs:
        c.close()
    pc.close()
    return per


def check_bulk(pubn, subn, n=20000):
    sc, pc = subn.client("bulk-sub"), pubn.client("bulk-pub")
    sid = sc.sub("bulk")
    sync(sc, pc)
    payload = b"x" * 100
    for i in range(n):
        pc.pub("bulk", b"%d:" % i + payload)
        if i % 2000 == 1999:
            pc.flush()
    pc.flush()
    got = sc.wait(sid, n, 30)
    time.sleep(0.2)
    got = sc.take(sid)
    ids = [int(m[2].split(b":")[0]) for m in got]
    assert ids == list(range(n)), "bulk %s->%s: %d received, %d distinct, in order: %s" % (
        pubn.name, subn.name, len(ids), len(set(ids)), ids == sorted(ids))
    sc.close()
    pc.close()


# ------------------------------------------------------------ tests

def t_mesh_modnats():
    n1 = Node("n1", "modnats", []).start()
    n2 = Node("n2", "modnats", [n1.route_url]).start()
    n3 = Node("n3", "modnats", [n1.route_url]).start()
    nodes = [n1, n2, n3]
    try:
        wait_mesh(nodes)
        # clients learn every client URL of the cluster
        c = n1.client()
        urls = set(c.infos[-1].get("connect_urls", []))
        for n in nodes:
            assert "127.0.0.1:%d" % n.port in urls, "connect_urls %s lack %s" % (urls, n.name)
        c.close()
        for a in nodes:
            for b in nodes:
                if a is not b:
                    check_pubsub(a, b, 100)
        check_request(n1, n3)
        check_request(n3, n2)
        check_queue(nodes, n3)                       # local members first
        per = check_queue(nodes, n3, members_on=[n1, n2])
        assert per.get("n1", 0) > 0 and per.get("n2", 0) > 0, "queue spread %s" % per
        check_bulk(n2, n3)
        check_bulk(n3, n1)
    finally:
        for n in nodes:
            n.stop()


ACCOUNTS_LIBCONFIG = ('accounts = { A = { users = ( { user = "a"; password = "a"; } ); };\n'
                     '            B = { users = ( { user = "b"; password = "b"; } ); }; };\n')
ACCOUNTS_NATS = ('accounts {\n  A { users: [ { user: a, password: a } ] }\n'
                 '  B { users: [ { user: b, password: b } ] }\n}\n')


class RawNode(Node):
    """A modnats node from a config text written as is (its client port
    from the command line)."""

    def __init__(self, name, text):
        Node.__init__(self, name, "modnats", [])
        self.text = text

    def start(self):
        conf = os.path.join(TMP, "%s.conf" % self.name)
        with open(conf, "w") as f:
            f.write(self.text)
        argv = [ARGS.server, "-c", conf, "-a", "127.0.0.1", "-p", str(self.port), "-n", self.name]
        if ARGS.module_dir:
            argv += ["--module_path", ARGS.module_dir]
        if ARGS.debug:
            argv += ["-D"]
        self.proc = subprocess.Popen(argv, stdout=open(self.logpath, "ab"), stderr=subprocess.STDOUT)
        end = time.time() + 10
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (self.name, self.proc.returncode,
                                                                self.log_tail()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("%s did not open its port" % self.name)


def t_random_port_accounts():
    # b has a fixed route port; a and c listen on random ports (libconfig
    # "-1" and nats-server syntax "host:-1") and dial b.  The a-c route can
    # only come from gossip of the ports they advertise.  Two accounts share
    # one sink per route: traffic stays in its account.
    b = RawNode("pb", 'cluster = { name = "C1"; listen = "127.0.0.1:%d"; };\n' % free_port()
                + ACCOUNTS_LIBCONFIG)
    b.cport = int(b.text.split("127.0.0.1:")[1].split('"')[0])
    b.start()
    a = RawNode("pa", 'cluster = { name = "C1"; port = -1; host = "127.0.0.1"; routes = ["%s"]; };\n'
                % b.route_url + ACCOUNTS_LIBCONFIG).start()
    c = RawNode("pc", "cluster {\n  name: C1\n  listen: 127.0.0.1:-1\n  routes: [%s]\n}\n"
                % b.route_url + ACCOUNTS_NATS).start()
    nodes = [a, b, c]
    clients = {}
    try:
        for n in nodes:
            clients[n.name] = (n.client("ua", "a", "a"), n.client("ub", "b", "b"))
        for x in nodes:
            for y in nodes:
                if x is not y:
                    for k in (0, 1):
                        sync(clients[y.name][k], clients[x.name][k], 15)
        for n in (a, c):
            m = re.search(r"listening for route connections on 127\.0\.0\.1:(\d+)",
                          open(n.logpath, errors="replace").read())
            assert m and int(m.group(1)) > 0, "%s: no bound route port in its log" % n.name
        # accounts stay apart over the shared sink (a -> c is a direct route)
        sa, sb = clients["pc"]
        ida, idb = sa.sub("acc.test"), sb.sub("acc.test")
        sa.flush()
        sb.flush()
        pa, pb = clients["pa"]
        for x in (clients["pc"][0], clients["pc"][1]):
            sync(x, pa if x is sa else pb, 10)
        for i in range(50):
            pa.pub("acc.test", b"A%d" % i)
            pb.pub("acc.test", b"B%d" % i)
        pa.flush()
        pb.flush()
        ga = sa.wait(ida, 50, 10)
        gb = sb.wait(idb, 50, 10)
        time.sleep(0.2)
        ga, gb = ga + sa.take(ida)[len(ga):], gb + sb.take(idb)[len(gb):]
        assert [m[2] for m in ga] == [b"A%d" % i for i in range(50)], "account A got %s" % ga[:5]
        assert [m[2] for m in gb] == [b"B%d" % i for i in range(50)], "account B got %s" % gb[:5]
    finally:
        for v in clients.values():
            for x in v:
                x.close()
        for n in nodes:
            n.stop()


def t_restart():
    n1 = Node("r1", "modnats", []).start()
    n2 = Node("r2", "modnats", [n1.route_url]).start()
    n3 = Node("r3", "modnats", [n1.route_url]).start()
    nodes = [n1, n2, n3]
    try:
        wait_mesh(nodes)
        n3.kill()
        time.sleep(0.5)
        n3.start()
        wait_mesh(nodes, 20)
        check_pubsub(n2, n3, 50)
        check_pubsub(n1, n3, 50)
        check_pubsub(n3, n2, 50)
        # the seed itself restarts: the others redial it
        n1.kill()
        time.sleep(0.5)
        n1.start()
        wait_mesh(nodes, 20)
        check_pubsub(n2, n1, 50)
        check_queue(nodes, n1, 300, members_on=[n2, n3])
    finally:
        for n in nodes:
            n.stop()


def t_mixed():
    # m1 (modnats seed) <- g2 (nats-server dials modnats) <- m3 (modnats dials
    # nats-server); m1-m3 comes from gossip.  g4 (nats-server) seeds off m3.
    m1 = Node("m1", "modnats", []).start()
    g2 = Node("g2", "nats", [m1.route_url]).start()
    m3 = Node("m3", "modnats", [g2.route_url]).start()
    g4 = Node("g4", "nats", [m3.route_url]).start()
    nodes = [m1, g2, m3, g4]
    try:
        wait_mesh(nodes, 20)
        for a in nodes:
            for b in nodes:
                if a is not b:
                    check_pubsub(a, b, 50)
        check_request(m1, g2)
        check_request(g2, m3)
        check_request(g4, m1)
        check_queue(nodes, m1, 400, members_on=[g2, m3, g4])
        check_queue(nodes, g2, 400, members_on=[m1, m3])
        check_queue(nodes, g4, 400)
        check_bulk(m1, g2)
        check_bulk(g2, m3)
        check_bulk(m3, g4)
        check_bulk(g4, m1)
    finally:
        for n in nodes:
            n.stop()


def t_auth_and_name():
    """Route credentials from the authorization block and URLs; a wrong
    cluster name or password never forms a route."""
    auth = 'authorization = { user = "ruser"; password = "s3cret"; timeout = 2; };'
    a = Node("a1", "modnats", [], extra_cluster=auth).start()
    good = "nats-route://ruser:s3cret@127.0.0.1:%d" % a.cport
    bad = "nats-route://ruser:wrong@127.0.0.1:%d" % a.cport
    b = Node("a2", "modnats", [good]).start()
    g = Node("a3", "nats", [good]).start()
    x = Node("a4", "modnats", [bad]).start()
    y = Node("a5", "modnats", [a.route_url], cluster="OTHER").start()
    try:
        wait_mesh([a, b, g], 20)
        check_pubsub(b, a, 20)
        check_pubsub(g, b, 20)
        for lonely in (x, y):
            sc, pc = a.client(), lonely.client()
            sid = sc.sub("lonely")
            sc.flush()
            time.sleep(1.0)
            pc.pub("lonely", "x")
            pc.flush()
            time.sleep(0.3)
            assert sc.count(sid) == 0, "%s joined the cluster" % lonely.name
            sc.close()
            pc.close()
    finally:
        for n in (a, b, g, x, y):
            n.stop()

# ------------------------------------------------------------ permissions

PERMS_LIBCONFIG = ('permissions = { import = ["imp.>", "both.>"]; '
                   'export = { allow = ["exp.>", "both.>"]; deny = ["exp.secret"]; }; };')
PERMS_NATS = ('  permissions {\n    import: ["imp.>", "both.>"]\n'
              '    export: { allow: ["exp.>", "both.>"], deny: ["exp.secret"] }\n  }')


def check_flow(subn, pubn, allowed, blocked, timeout=10):
    """subn subscribes to every subject of allowed + blocked; pubn
    publishes the blocked ones first, then the allowed ones, then a marker
    on both.*.  Once the marker arrived, an allowed subscription has its
    message(s) and a blocked one has none (one route, in order).
    allowed: {subscription: expected count}; blocked: [subscription]."""
    sc, pc = subn.client("perm-sub"), pubn.client("perm-pub")
    try:
        sids = {s: sc.sub(s) for s in list(allowed) + list(blocked)}
        mid = sc.sub("both.marker")
        sync(sc, pc, timeout, prefix="both.sync")
        for s in blocked:
            if "*" not in s and ">" not in s:
                pc.pub(s, b"blocked")
        pubs = [s.replace("*", "x").replace(">", "x.y") for s in allowed]
        for s in pubs:
            pc.pub(s, b"allowed")
        pc.pub("both.marker", b"m")
        pc.flush()
        assert sc.wait(mid, 1, timeout), "%s->%s: marker lost" % (pubn.name, subn.name)
        sc.flush()
        for s, want in allowed.items():
            got = sc.count(sids[s])
            assert got == want, "%s->%s: %s got %d, want %d" % (pubn.name, subn.name, s, got, want)
        for s in blocked:
            assert sc.count(sids[s]) == 0, "%s->%s: %s crossed the route (%s)" % (
                pubn.name, subn.name, s, sc.take(sids[s])[:2])
    finally:
        sc.close()
        pc.close()


def check_permissions(p, o):
    """p has PERMS; o none.  import: p announces only imp.> and both.>;
    export: p takes only exp.> and both.> interest, never exp.secret."""
    # import: what p's clients get from o
    check_flow(p, o, {"imp.a": 1}, ["noimp.a", "exp.a"])
    # export: what o's clients get from p (exp.secret is denied, also
    # behind o's wildcard interest exp.*)
    check_flow(o, p, {"exp.a": 1, "exp.*": 2}, ["noexp.a", "exp.secret", "imp.b"])
    # the other direction is unrestricted by o: p's clients still reach o
    # for exported subjects only, o's clients reach p for imported ones
    check_flow(p, o, {"both.x": 1, "imp.>": 1}, [])


def t_permissions():
    """Route permissions, the same checks with the permissions on a
    modnats node (a nats-server peer) and on a nats-server node (a modnats
    peer): the latter shows the checks hold for the reference."""
    pm = Node("pm", "modnats", [], cluster="PA", extra_cluster=PERMS_LIBCONFIG).start()
    og = Node("og", "nats", [pm.route_url], cluster="PA").start()
    pg = Node("pg", "nats", [], cluster="PB", nats_conf=PERMS_NATS).start()
    om = Node("om", "modnats", [pg.route_url], cluster="PB").start()
    pm2 = Node("pm2", "modnats", [pm.route_url], cluster="PA").start()
    nodes = [pm, og, pg, om, pm2]
    try:
        for p, o in ((pg, om), (pm, og), (pm, pm2)):
            check_permissions(p, o)
    finally:
        for n in nodes:
            n.stop()


# ------------------------------------------------------------ reload

class Probe:
    """A long-lived subscription on subn for subject, and a publisher on
    pubn.  flows() publishes once, then a marker on both.*, and says
    whether the message arrived before the marker (one route, in order)."""

    def __init__(self, subn, pubn, subject):
        self.subject = subject
        self.sc, self.pc = subn.client("probe-sub"), pubn.client("probe-pub")
        self.sid = self.sc.sub(subject)
        self.mid = self.sc.sub("both.marker.%s" % subject.replace("*", "s").replace(">", "g"))
        self.sc.flush()

    def flows(self):
        self.sc.take(self.sid)
        self.sc.take(self.mid)
        self.pc.pub(self.subject.replace("*", "x").replace(">", "x"), b"p")
        marker = "both.marker.%s" % self.subject.replace("*", "s").replace(">", "g")
        end = time.time() + 2
        while time.time() < end:
            self.pc.pub(marker, b"m")
            self.pc.flush()
            if self.sc.wait(self.mid, 1, 0.2):
                break
        else:
            return False
        self.sc.flush()
        return self.sc.count(self.sid) > 0

    def wait(self, want, what, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            if self.flows() == want:
                if self.flows() == want:      # and it stays so
                    return
            time.sleep(0.1)
        raise AssertionError("%s: %s still %s after %ds" % (what, self.subject,
                                                             "blocked" if want else "flowing",
                                                             timeout))

    def close(self):
        self.sc.close()
        self.pc.close()


def wait_flow(subn, pubn, subject, want, what, timeout=15):
    p = Probe(subn, pubn, subject)
    try:
        p.wait(want, what, timeout)
    finally:
        p.close()


def reload_scenario(peer_kind):
    r = Node("rl-%s" % peer_kind, "modnats", [], cluster="RL").start()
    g = Node("rg-%s" % peer_kind, peer_kind, [], cluster="RL",
             nats_conf="" if peer_kind == "nats" else None).start()
    # h dials r with credentials r does not ask for yet
    h = Node("rh-%s" % peer_kind, peer_kind, ["nats-route://ruser:pw1@127.0.0.1:%d" % r.cport],
             cluster="RL", nats_conf="" if peer_kind == "nats" else None).start()
    probes = []
    try:
        wait_mesh([r, h], 20)
        # credentials: h's route is refused once r asks for another password
        # (r does not redial an accepted route it closed for that)
        r.extra_cluster = 'authorization = { user = "ruser"; password = "pw2"; };'
        r.reload()
        wait_flow(r, h, "h.cred", False, "auth changed")
        time.sleep(1.5)
        wait_flow(r, h, "h.cred", False, "auth changed, later")
        r.extra_cluster = 'authorization = { user = "ruser"; password = "pw1"; };'
        r.reload()
        wait_flow(r, h, "h.cred", True, "auth matches again", 30)
        r.extra_cluster = ""
        r.reload()
        # routes added: r learns g from its settings
        r.routes = [g.route_url]
        r.reload()
        wait_mesh([r, g, h], 20)
        imp = Probe(r, g, "x.imp")          # r's interest, g's messages
        blocked = Probe(r, g, "y.imp")
        exp = Probe(g, r, "x.exp")          # g's interest, r's messages
        probes += [imp, blocked, exp]
        imp.wait(True, "before")
        exp.wait(True, "before")
        # import narrowed: r withdraws x.imp from its routes
        r.extra_cluster = 'permissions = { import = ["y.>", "both.>"]; };'
        r.reload()
        imp.wait(False, "import narrowed")
        blocked.wait(True, "import narrowed")
        # import widened again: x.imp is announced again
        r.extra_cluster = ""
        r.reload()
        imp.wait(True, "import widened")
        # export narrowed: r drops what it held for g
        r.extra_cluster = 'permissions = { export = ["y.>", "both.>"]; };'
        r.reload()
        exp.wait(False, "export narrowed")
        # export widened: the peer re-announces (our INFO says what we export)
        r.extra_cluster = ""
        r.reload()
        exp.wait(True, "export widened")
        # the peer exports less, then more: its new INFO says so, and r
        # announces the interest the peer now takes
        if peer_kind == "nats":
            g.nats_conf = '  permissions { export: ["y.>", "both.>"] }'
        else:
            g.extra_cluster = 'permissions = { export = ["y.>", "both.>"]; };'
        g.reload()
        wait_flow(r, g, "both.reloaded.%s" % peer_kind, True, "peer reloaded")
        time.sleep(0.5)
        pexp = Probe(r, g, "x.pexp")
        probes.append(pexp)
        pexp.wait(False, "peer export narrowed")
        g.nats_conf, g.extra_cluster = "", ""
        g.reload()
        pexp.wait(True, "peer export widened")
        if peer_kind == "nats":
            # routes removed: r closes its route to g, g (which accepted it)
            # does not come back
            r.routes = []
            r.reload()
            wait_flow(r, g, "g.gone", False, "route removed")
            time.sleep(1.5)
            wait_flow(r, g, "g.gone", False, "route removed, later")
        log = open(r.logpath, errors="replace").read()
        assert "[cluster] reloaded:" in log, "no reload line in %s" % r.name
    finally:
        for p in probes:
            p.close()
        for n in (r, g, h):
            n.stop()


def t_reload():
    """SIGHUP: routes added and removed, import/export permissions
    narrowed and widened, route credentials changed, with a nats-server
    peer and with a modnats peer."""
    reload_scenario("nats")
    reload_scenario("modnats")


# ------------------------------------------------------------ leaf-origin forms

class FakeRoute:
    """A raw route peer: says CONNECT and INFO as nats-server 2.9 does,
    answers PING, records every line (and message payload) it gets."""

    def __init__(self, port, cluster, sid="NFAKEROUTE0000000000000000000000000000000000000000000"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(None)
        self.lock = threading.Condition()
        self.lines, self.buf, self.closed = [], b"", False
        threading.Thread(target=self._read, daemon=True).start()
        self.send('CONNECT {"echo":true,"verbose":false,"pedantic":false,"tls_required":false,'
                  '"headers":true,"name":"%s","cluster":"%s","lnoc":true}\r\n' % (sid, cluster))
        self.send('INFO {"server_id":"%s","server_name":"fake","version":"2.9.10","proto":2,'
                  '"host":"127.0.0.1","port":1,"headers":true,"max_payload":1048576,'
                  '"cluster":"%s","lnoc":true}\r\n' % (sid, cluster))

    def send(self, s):
        self.sock.sendall(s.encode() if isinstance(s, str) else s)

    def _read(self):
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    break
                self.buf += d
                while True:
                    i = self.buf.find(b"\r\n")
                    if i < 0:
                        break
                    line = self.buf[:i].decode()
                    parts = line.split()
                    if parts and parts[0] in ("RMSG", "HMSG"):
                        total = int(parts[-1])
                        if len(self.buf) < i + 2 + total + 2:
                            break
                        line += " <" + self.buf[i + 2:i + 2 + total].decode() + ">"
                        self.buf = self.buf[i + 2 + total + 2:]
                    else:
                        self.buf = self.buf[i + 2:]
                    if line == "PING":
                        self.sock.sendall(b"PONG\r\n")
                    with self.lock:
                        self.lines.append(line)
                        self.lock.notify_all()
        except OSError:
            pass
        with self.lock:
            self.closed = True
            self.lock.notify_all()

    def wait_line(self, pred, what, timeout=10):
        with self.lock:
            if not self.lock.wait_for(lambda: any(pred(l) for l in self.lines) or self.closed,
                                      timeout) or self.closed:
                raise AssertionError("fake route: no %s (closed=%s) in %s" % (
                    what, self.closed, self.lines[-10:]))

    def has(self, pred):
        with self.lock:
            return any(pred(l) for l in self.lines)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def t_leaf_forms():
    """LS+/LS-/LMSG from a route peer (nats-server sends them when its
    leaf nodes' interest and messages cross routes to a peer announcing
    lnoc): interest is held and served, LMSG reaches local subscribers,
    and the route stays up.  The same exchange with nats-server shows the
    frames are what it accepts."""
    leaf_forms("modnats")
    if os.access(ARGS.ref, os.X_OK):
        leaf_forms("nats")


def leaf_forms(kind):
    n = Node("lf-%s" % kind, kind, [], cluster="LF").start()
    fr = c = None
    try:
        c = n.client("leafc")
        px = c.sub("leaf.x")
        pq = c.sub("leaf.q", "g1")
        c.flush()
        fr = FakeRoute(n.cport, "LF")
        fr.wait_line(lambda l: l == "RS+ $G leaf.x", "RS+ leaf.x")
        fr.wait_line(lambda l: l == "RS+ $G leaf.q g1 1", "RS+ leaf.q g1 1")
        # LMSG: origin cluster, account, subject, [reply | + reply queues | | queues]
        fr.send("LMSG LEAFCL $G leaf.x 0 5\r\nhello\r\n")
        hdr = "NATS/1.0\r\nX-Leaf: 1\r\n\r\n"
        fr.send("LMSG LEAFCL $G leaf.x reply.1 %d %d\r\n%sbody\r\n" % (len(hdr), len(hdr) + 4, hdr))
        fr.send("LMSG LEAFCL $G leaf.q + reply.2 g1 0 3\r\nqqq\r\n")
        fr.send("LMSG LEAFCL $G leaf.q | g1 0 3\r\nrrr\r\n")
        got = c.wait(px, 2)
        assert [(m[2], m[1]) for m in got] == [(b"hello", None), (b"body", "reply.1")], got
        assert b"X-Leaf: 1" in got[1][3], got[1]
        q = c.wait(pq, 2)
        assert [(m[2], m[1]) for m in q] == [(b"qqq", "reply.2"), (b"rrr", None)], q
        # LS+: interest of the peer's leaf nodes, plain and queue
        fr.send("LS+ LEAFCL $G lint.>\r\nLS+ LEAFCL $G lq g2 3\r\nPING\r\n")
        fr.wait_line(lambda l: l == "PONG", "PONG")
        c.pub("lint.a", b"one")
        c.pub("lq", b"two")
        c.flush()
        fr.wait_line(lambda l: l == "RMSG $G lint.a 3 <one>", "RMSG lint.a")
        fr.wait_line(lambda l: l == "RMSG $G lq | g2 3 <two>", "RMSG lq | g2")
        # LS-: gone; a later RS+ shows the order
        with fr.lock:
            fr.lines = []
        fr.send("LS- $G lint.>\r\nRS+ $G marker\r\nPING\r\n")
        fr.wait_line(lambda l: l == "PONG", "PONG")
        c.pub("lint.b", b"three")
        c.pub("marker", b"m")
        c.flush()
        fr.wait_line(lambda l: l.startswith("RMSG $G marker"), "RMSG marker")
        assert not fr.has(lambda l: "lint.b" in l), fr.lines
        assert not fr.closed
    finally:
        if fr:
            fr.close()
        if c:
            c.close()
        n.stop()


class RefNode(Node):
    """A nats-server from a config text written as is."""

    def __init__(self, name, text):
        Node.__init__(self, name, "nats", [])
        self.text = text

    def start(self):
        with open(self.conf_path, "w") as f:
            f.write(self.text)
        argv = [ARGS.ref, "-c", self.conf_path, "-a", "127.0.0.1", "-p", str(self.port),
                "-n", self.name]
        self.proc = subprocess.Popen(argv, stdout=open(self.logpath, "ab"), stderr=subprocess.STDOUT)
        end = time.time() + 10
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited:\n%s" % (self.name, self.log_tail()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("%s did not open its port" % self.name)


def t_leaf():
    """A mixed cluster where nats-server has a leaf node: messages cross
    leaf -> nats-server -> route -> modnats and back, queue groups too."""
    lport = free_port()
    hub = Node("hub", "nats", [], cluster="LH", nats_conf="",
               extra_top="leafnodes {\n  listen: 127.0.0.1:%d\n}\n" % lport).start()
    m = Node("mhub", "modnats", [hub.route_url], cluster="LH").start()
    leaf = RefNode("leaf", 'leafnodes {\n  remotes: [ { url: "nats-leaf://127.0.0.1:%d" } ]\n}\n'
                   % lport).start()
    try:
        wait_mesh([hub, m], 20)
        lc, mc = leaf.client("leaf"), m.client("mod")
        try:
            for a, b in ((lc, mc), (mc, lc)):
                sid = a.sub("lf.test")
                sync(a, b, 20)
                for i in range(20):
                    b.pub("lf.test", b"%d" % i)
                b.flush()
                got = a.wait(sid, 20)
                assert [x[2] for x in got] == [b"%d" % i for i in range(20)], got
                a.unsub(sid)
            # request/reply leaf <-> modnats
            rs = mc.sub("lf.svc")
            ib = lc.sub("lf.inbox")
            sync(mc, lc, 20)
            sync(lc, mc, 20)
            lc.pub("lf.svc", b"ping", reply="lf.inbox")
            lc.flush()
            req = mc.wait(rs, 1)
            assert req and req[0][1] == "lf.inbox", req
            mc.pub(req[0][1], b"pong")
            mc.flush()
            rep = lc.wait(ib, 1)
            assert rep and rep[0][2] == b"pong", rep
        finally:
            lc.close()
            mc.close()
    finally:
        for x in (leaf, m, hub):
            x.stop()


class ConfNode(Node):
    """A node of either kind from a nats-server-format config text (both
    servers read it), its client port from the command line."""

    def __init__(self, name, kind, text):
        Node.__init__(self, name, kind, [])
        self.text = text

    def argv(self):
        with open(self.conf_path, "w") as f:
            f.write(self.text)
        binary = ARGS.server if self.kind == "modnats" else ARGS.ref
        argv = [binary, "-c", self.conf_path, "-a", "127.0.0.1", "-p", str(self.port), "-n", self.name]
        if self.kind == "modnats" and ARGS.module_dir:
            argv += ["--module_path", ARGS.module_dir]
        return argv


def gen_certs():
    d = os.path.join(TMP, "certs")
    if not os.path.isdir(d):
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.check_call(["sh", os.path.join(here, "..", "..", "gen", "gen_certs.sh"), d])
    return d


def tls_cluster_conf(node, certs, routes, cert="server", ca="ca"):
    return ("cluster {\n  name: C1\n  listen: 127.0.0.1:%d\n"
            "  tls {\n    cert_file: \"%s/%s-cert.pem\"\n    key_file: \"%s/%s-key.pem\"\n"
            "    ca_file: \"%s/%s.pem\"\n    timeout: 2\n  }\n  routes: [%s]\n}\n"
            % (node.cport, certs, cert, certs, cert, certs, ca,
               ", ".join('"%s"' % r for r in routes)))


def t_tls_mixed():
    """Routes over TLS between modnats and nats-server 2.9 in both
    directions: m1 seeds, g2 (nats-server) dials m1, m3 dials g2, and the
    m1-m3 route comes from gossip.  A node whose certificate another CA
    signed (r4) never joins."""
    certs = gen_certs()
    m1 = ConfNode("tm1", "modnats", "")
    g2 = ConfNode("tg2", "nats", "")
    m3 = ConfNode("tm3", "modnats", "")
    r4 = ConfNode("tr4", "modnats", "")
    m1.text = tls_cluster_conf(m1, certs, [])
    g2.text = tls_cluster_conf(g2, certs, [m1.route_url])
    m3.text = tls_cluster_conf(m3, certs, [g2.route_url])
    r4.text = tls_cluster_conf(r4, certs, [m1.route_url], cert="rogue", ca="rogue-ca")
    nodes = [m1, g2, m3]
    started = []
    try:
        for n in nodes + [r4]:
            started.append(n.start())
        wait_mesh(nodes, 20)
        for a in nodes:
            for b in nodes:
                if a is not b:
                    check_pubsub(a, b, 50)
        check_request(g2, m3)
        check_bulk(m1, g2)
        check_bulk(g2, m3)
        sc, pc = m1.client(), r4.client()
        sid = sc.sub("lonely")
        sc.flush()
        time.sleep(1.0)
        pc.pub("lonely", "x")
        pc.flush()
        time.sleep(0.3)
        assert sc.count(sid) == 0, "a route with a certificate of another CA joined"
        sc.close()
        pc.close()
        with open(m1.logpath, errors="replace") as f:
            assert "TLS handshake" in f.read(), "m1 did not log the refused handshake"
    finally:
        for n in started:
            n.stop()


def route_cert_cn(node, certs):
    """The CN of the certificate node's route port presents (a client
    certificate is needed: routes verify both ways)."""
    import ssl
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    ctx.load_cert_chain(os.path.join(certs, "alice-cert.pem"), os.path.join(certs, "alice-key.pem"))
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", node.cport), timeout=5) as raw:
        with ctx.wrap_socket(raw) as t:
            subject = dict(x[0] for x in t.getpeercert()["subject"])
            return subject.get("commonName")


def t_tls_reload():
    """SIGHUP loads new route certificates for new routes; open routes go
    on; a bad new certificate is logged and the current one stays."""
    certs = gen_certs()
    m1 = ConfNode("rl1", "modnats", "")
    g2 = ConfNode("rl2", "nats", "")
    g3 = ConfNode("rl3", "nats", "")
    m1.text = tls_cluster_conf(m1, certs, [])
    g2.text = tls_cluster_conf(g2, certs, [m1.route_url])
    g3.text = tls_cluster_conf(g3, certs, [m1.route_url])
    started = []
    try:
        started += [m1.start(), g2.start()]
        wait_mesh([m1, g2], 20)
        assert route_cert_cn(m1, certs) == "modnats-test"
        with open(os.path.join(TMP, "rl1.conf"), "w") as f:
            f.write(tls_cluster_conf(m1, certs, [], cert="server2"))
        m1.proc.send_signal(signal.SIGHUP)
        end = time.time() + 10
        while route_cert_cn(m1, certs) != "modnats-test-2":
            assert time.time() < end, "the route port still presents the old certificate"
            time.sleep(0.1)
        check_pubsub(m1, g2, 50)      # the open route goes on
        started.append(g3.start())   # a new route gets the new certificate
        wait_mesh([m1, g2, g3], 20)
        bad = tls_cluster_conf(m1, certs, []).replace("server-cert.pem", "garbage.pem")
        with open(os.path.join(TMP, "rl1.conf"), "w") as f:
            f.write(bad)
        m1.proc.send_signal(signal.SIGHUP)
        end = time.time() + 10
        while "keeping the current route certificates" not in m1.log_tail(200):
            assert time.time() < end, "no log line for the bad certificate"
            time.sleep(0.1)
        assert route_cert_cn(m1, certs) == "modnats-test-2"
        check_pubsub(g3, m1, 20)
    finally:
        for n in started:
            n.stop()


def route_keys(rz):
    return [list(rz.keys())] + [list(r.keys()) for r in rz.get("routes", [])]


def t_routez():
    """/routez of two clustered modnats (monitor + cluster's routez service)
    against two clustered nats-servers: same fields in the same order, and
    the values describe the peer."""
    n1 = Node("z1", "modnats", [], monitor=True).start()
    n2 = Node("z2", "modnats", [n1.route_url], monitor=True).start()
    g1 = Node("zg1", "nats", [], monitor=True).start()
    g2 = Node("zg2", "nats", [g1.route_url], monitor=True).start()
    try:
        wait_mesh([n1, n2])
        wait_mesh([g1, g2])
        # traffic z2 -> z1 so the counters move; z1's interest is held by z2
        sc, pc = n1.client("rzsub"), n2.client("rzpub")
        sid = sc.sub("rz.x")
        sync(sc, pc)
        for i in range(20):
            pc.pub("rz.x", b"0123456789")
        pc.flush()
        assert len(sc.wait(sid, 20)) == 20
        v1, v2 = n1.json("/varz"), n2.json("/varz")
        id1, id2 = v1["server_id"], v2["server_id"]
        assert v1["routes"] == v2["routes"] == 1 == g1.json("/varz")["routes"], (v1, v2)
        z1, z2 = n1.json("/routez"), n2.json("/routez")
        r1, r2 = g1.json("/routez"), g2.json("/routez")
        for mine, ref, who in ((z1, r1, "z1"), (z2, r2, "z2")):
            assert mine["num_routes"] == 1 == len(mine["routes"]), "%s: %s" % (who, mine)
            assert ref["num_routes"] == 1, "nats-server: %s" % ref
            assert route_keys(mine) == route_keys(ref), \
                "%s fields %s\n  nats-server %s" % (who, route_keys(mine), route_keys(ref))
        a, b = z1["routes"][0], z2["routes"][0]
        assert z1["server_id"] == id1 and z2["server_id"] == id2
        assert a["remote_id"] == id2 and b["remote_id"] == id1, (a, b)
        # z2 dialed z1 from its settings; z1 accepted it
        assert b["did_solicit"] is True and b["is_configured"] is True, b
        assert a["did_solicit"] is False and a["is_configured"] is False, a
        assert b["ip"] == "127.0.0.1" and b["port"] == n1.cport, b
        assert a["ip"] == "127.0.0.1" and a["port"] > 0, a
        assert b["out_msgs"] >= 20 and b["out_bytes"] >= 200, b
        assert a["in_msgs"] >= 20 and a["in_bytes"] >= 200, a
        assert b["subscriptions"] >= 1, b     # z1's rz.x
        for r in (a, b):
            assert isinstance(r["rid"], int) and r["rtt"] and r["uptime"] and r["start"], r
        # rtt is measured (a PING when the route registers, then every
        # ping interval)
        for r in (a, b):
            assert r["rtt"] != "0s" and re.match(r"^[0-9.]+(ns|µs|ms|s)$", r["rtt"]), r
        # ?subs: accepted as nats-server does, bad values refused alike
        for q in ("?subs=1", "?subs=detail", "?subs=0"):
            st, body = n2.http("/routez" + q)
            assert st == 200 and json.loads(body)["num_routes"] == 1, (q, st, body)
        # the peer's interest a route holds, as nats-server lists it: z2
        # holds z1's rz.x and rz.q (queue qq); zg2 holds the same of zg1
        gsc = g1.client("rzg")
        gsc.sub("rz.x")
        gsc.sub("rz.q", "qq")
        sc.sub("rz.q", "qq")
        gpc = g2.client("rzgp")
        sync(gsc, gpc)
        sync(sc, pc)
        mine = n2.json("/routez?subs=1")["routes"][0]
        ref = [r for r in g2.json("/routez?subs=1")["routes"] if "subscriptions_list" in r][0]
        assert "rz.x" in mine["subscriptions_list"] and "rz.q" in mine["subscriptions_list"], mine
        assert "rz.x" in ref["subscriptions_list"], ref
        assert list(mine.keys()) == list(ref.keys()), (list(mine.keys()), list(ref.keys()))
        mine = n2.json("/routez?subs=detail")["routes"][0]
        ref = [r for r in g2.json("/routez?subs=detail")["routes"]
               if "subscriptions_list_detail" in r][0]
        assert list(mine.keys()) == list(ref.keys()), (list(mine.keys()), list(ref.keys()))
        dm = {d["sid"]: d for d in mine["subscriptions_list_detail"]}
        dr = {d["sid"]: d for d in ref["subscriptions_list_detail"]}
        for sid in ("$G rz.x", "$G rz.q qq"):
            assert sid in dm and sid in dr, (sid, sorted(dm), sorted(dr))
            assert list(dm[sid].keys()) == list(dr[sid].keys()), (dm[sid], dr[sid])
            assert dm[sid]["subject"] == dr[sid]["subject"], (dm[sid], dr[sid])
        gsc.close()
        gpc.close()
        st, body = n2.http("/routez?subs=x")
        rst, rbody = g2.http("/routez?subs=x")
        assert st == rst == 400 and body == rbody, (st, body, rst, rbody)
        sc.close()
        pc.close()
        # the peer leaves: its route leaves /routez
        n1.stop()
        end = time.time() + 10
        while time.time() < end and n2.json("/routez")["num_routes"] != 0:
            time.sleep(0.1)
        z2 = n2.json("/routez")
        assert z2["num_routes"] == 0 and z2["routes"] == [], z2
    finally:
        for n in (n1, n2, g1, g2):
            n.stop()


# ------------------------------------------------------------ libnats

class LibNats:
    """The libnats (C client) calls the failover test needs, via ctypes."""

    CONNECTED = 2          # natsConnStatus

    def __init__(self):
        path = ctypes.util.find_library("nats")
        if not path:
            raise RuntimeError("libnats not found (apt install libnats-dev)")
        lib = ctypes.CDLL(path)
        P, PP, S = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p
        I, I64, B = ctypes.c_int, ctypes.c_int64, ctypes.c_bool
        for name, args, res in [
            ("natsOptions_Create", [PP], I), ("natsOptions_SetURL", [P, S], I),
            ("natsOptions_SetName", [P, S], I), ("natsOptions_SetAllowReconnect", [P, B], I),
            ("natsOptions_SetMaxReconnect", [P, I], I),
            ("natsOptions_SetReconnectWait", [P, I64], I),
            ("natsConnection_Connect", [PP, P], I),
            ("natsConnection_SubscribeSync", [PP, P, S], I),
            ("natsConnection_Flush", [P], I), ("natsConnection_Status", [P], I),
            ("natsConnection_GetConnectedUrl", [P, ctypes.c_char_p, ctypes.c_size_t], I),
            ("natsSubscription_NextMsg", [PP, P, I64], I),
            ("natsMsg_GetData", [P], S), ("natsMsg_GetDataLength", [P], I),
        ]:
            f = getattr(lib, name)
            f.argtypes, f.restype = args, res
        for name in ("natsConnection_Destroy", "natsSubscription_Destroy",
                     "natsOptions_Destroy", "natsMsg_Destroy"):
            f = getattr(lib, name)
            f.argtypes, f.restype = [P], None
        self.lib = lib

    @staticmethod
    def _ok(rc, what):
        if rc != 0:
            raise RuntimeError("%s failed: natsStatus %d" % (what, rc))

    def connect(self, url, name):
        L = self.lib
        o = ctypes.c_void_p()
        self._ok(L.natsOptions_Create(ctypes.byref(o)), "natsOptions_Create")
        try:
            self._ok(L.natsOptions_SetURL(o, url.encode()), "SetURL")
            self._ok(L.natsOptions_SetName(o, name.encode()), "SetName")
            self._ok(L.natsOptions_SetAllowReconnect(o, True), "SetAllowReconnect")
            self._ok(L.natsOptions_SetMaxReconnect(o, 100), "SetMaxReconnect")
            self._ok(L.natsOptions_SetReconnectWait(o, 100), "SetReconnectWait")
            nc = ctypes.c_void_p()
            self._ok(L.natsConnection_Connect(ctypes.byref(nc), o), "Connect")
        finally:
            L.natsOptions_Destroy(o)
        return nc

    def url(self, nc):
        buf = ctypes.create_string_buffer(256)
        if self.lib.natsConnection_GetConnectedUrl(nc, buf, len(buf)) != 0:
            return ""
        return buf.value.decode()

    def sub(self, nc, subject):
        s = ctypes.c_void_p()
        self._ok(self.lib.natsConnection_SubscribeSync(ctypes.byref(s), nc, subject.encode()),
                 "Subscribe")
        self._ok(self.lib.natsConnection_Flush(nc), "Flush")
        return s

    def next(self, sub, timeout_ms):
        """The next message's data, or None on timeout."""
        m = ctypes.c_void_p()
        if self.lib.natsSubscription_NextMsg(ctypes.byref(m), sub, timeout_ms) != 0:
            return None
        n = self.lib.natsMsg_GetDataLength(m)
        d = ctypes.string_at(self.lib.natsMsg_GetData(m), n)
        self.lib.natsMsg_Destroy(m)
        return d


def t_failover():
    """Issue acceptance: a client connected to one node fails over to
    another and keeps its subscriptions.  libnats is given only A's URL, so
    it must learn B and C from INFO connect_urls; A is SIGKILLed."""
    nats = LibNats()
    a = Node("fa", "modnats", []).start()
    b = Node("fb", "modnats", [a.route_url]).start()
    c = Node("fc", "modnats", [a.route_url]).start()
    nodes = [a, b, c]
    nc = sub = None
    pubs = []
    try:
        wait_mesh(nodes)
        nc = nats.connect("nats://127.0.0.1:%d" % a.port, "failover")
        sub = nats.sub(nc, "fo.x")
        pubs = [b.client("pub-b"), c.client("pub-c")]

        def deliver(tag, n=10):
            """Probe from B and C until the interest is there, then n each, exact."""
            for p in pubs:
                end, k, got = time.time() + 15, 0, False
                while time.time() < end and not got:
                    k += 1
                    p.pub("fo.x", b"probe-%s-%d" % (tag.encode(), k))
                    p.flush()
                    while True:
                        d = nats.next(sub, 100)
                        if d is None:
                            break
                        got = got or d.startswith(b"probe-%s" % tag.encode())
                assert got, "%s: no message from %s reached the client" % (tag, p)
            while nats.next(sub, 200) is not None:     # drain late probes
                pass
            want = set()
            for i, p in enumerate(pubs):
                for j in range(n):
                    d = b"%s-%d-%d" % (tag.encode(), i, j)
                    want.add(d)
                    p.pub("fo.x", d)
                p.flush()
            got = set()
            while want - got:
                d = nats.next(sub, 5000)
                if d is None:
                    break
                assert d not in got, "duplicate %r" % d
                got.add(d)
            assert got == want, "%s: missing %s" % (tag, sorted(want - got)[:5])

        deliver("before")
        assert nats.url(nc).endswith(":%d" % a.port), nats.url(nc)
        a.kill()                                       # SIGKILL
        end = time.time() + 20
        while time.time() < end:
            if (nats.lib.natsConnection_Status(nc) == LibNats.CONNECTED
                    and not nats.url(nc).endswith(":%d" % a.port)):
                break
            time.sleep(0.05)
        url = nats.url(nc)
        assert nats.lib.natsConnection_Status(nc) == LibNats.CONNECTED, "never reconnected"
        assert url.endswith(":%d" % b.port) or url.endswith(":%d" % c.port), url
        print("     failover: reconnected to %s (%s)"
              % (url, "fb" if url.endswith(":%d" % b.port) else "fc"), flush=True)
        # the subscription came along: messages published on B and on C arrive
        deliver("after")
    finally:
        for p in pubs:
            p.close()
        if sub:
            nats.lib.natsSubscription_Destroy(sub)
        if nc:
            nats.lib.natsConnection_Destroy(nc)
        for n in nodes:
            n.stop()


def discovered(nats, nc):
    """libnats' natsConnection_GetDiscoveredServers: the URLs it learned."""
    L = nats.lib
    f = L.natsConnection_GetDiscoveredServers
    f.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_char_p)),
                  ctypes.POINTER(ctypes.c_int)]
    f.restype = ctypes.c_int
    v, n = ctypes.POINTER(ctypes.c_char_p)(), ctypes.c_int(0)
    if f(nc, ctypes.byref(v), ctypes.byref(n)) != 0:
        return []
    out = [v[i].decode() for i in range(n.value)]
    libc = ctypes.CDLL(None)
    libc.free.argtypes = [ctypes.c_void_p]
    for i in range(n.value):
        libc.free(ctypes.cast(v, ctypes.POINTER(ctypes.c_void_p))[i])
    if n.value:
        libc.free(v)
    return out


def client_urls(kind):
    nats = LibNats()
    a = Node("ua-%s" % kind, kind, [], cluster="UC").start()
    b = c = None
    nc = None
    raw = None
    try:
        nc = nats.connect("nats://127.0.0.1:%d" % a.port, "urls")
        # a server joins: the connected client is told (asynchronous INFO)
        b = Node("ub-%s" % kind, "modnats", [a.route_url], cluster="UC").start()
        end = time.time() + 15
        while time.time() < end and not any(u.endswith(":%d" % b.port)
                                            for u in discovered(nats, nc)):
            time.sleep(0.05)
        assert any(u.endswith(":%d" % b.port) for u in discovered(nats, nc)), \
            "libnats never learned %s: %s" % (b.name, discovered(nats, nc))
        # the race: a client that has its INFO but logs in after the next
        # change still gets the new list (at its login, before its PONG)
        raw = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        buf = b""
        while b"\r\n" not in buf:
            buf += raw.recv(4096)
        first = json.loads(buf.split(b"\r\n")[0][5:])
        c = Node("uc-%s" % kind, "nats" if kind == "modnats" else "modnats", [a.route_url],
                 cluster="UC").start()
        end = time.time() + 15
        while time.time() < end and not any(u.endswith(":%d" % c.port)
                                            for u in discovered(nats, nc)):
            time.sleep(0.05)
        assert any(u.endswith(":%d" % c.port) for u in discovered(nats, nc)), \
            "libnats never learned %s" % c.name
        assert not any(u.endswith(":%d" % c.port) for u in first.get("connect_urls", [])), first
        raw.sendall(b'CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n')
        buf = buf.split(b"\r\n", 1)[1]
        end = time.time() + 10
        while b"PONG\r\n" not in buf and time.time() < end:
            buf += raw.recv(4096)
        infos = [json.loads(l[5:]) for l in buf.split(b"\r\n") if l.startswith(b"INFO ")]
        assert infos and any(u.endswith(":%d" % c.port) for u in infos[-1].get("connect_urls", [])), \
            "%s: the late login got no INFO with %s: %r" % (a.name, c.name, buf)
        if kind == "modnats":
            # no_advertise by reload: new clients hear of no other server
            a.extra_cluster = "no_advertise = true;"
            a.reload()
            end = time.time() + 10
            while time.time() < end:
                cl = a.client("noadv")
                urls = cl.infos[-1].get("connect_urls", [])
                cl.close()
                if not any(u.endswith(":%d" % x.port) for x in (b, c) for u in urls):
                    break
                time.sleep(0.1)
            assert not any(u.endswith(":%d" % x.port) for x in (b, c) for u in urls), urls
    finally:
        if raw:
            raw.close()
        if nc:
            nats.lib.natsConnection_Destroy(nc)
        for x in (c, b, a):
            if x:
                x.stop()


def t_client_urls():
    """Clients learn the cluster's URLs: libnats connected to one server
    learns a server that joins later, and a client whose INFO predates a
    change but logs in after it gets the new list (the race the async
    INFO had).  The same against nats-server."""
    client_urls("modnats")
    if os.access(ARGS.ref, os.X_OK):
        client_urls("nats")


TESTS = [("mesh_modnats", t_mesh_modnats), ("restart", t_restart), ("mixed", t_mixed),
         ("auth_and_name", t_auth_and_name),
         ("random_port_accounts", t_random_port_accounts), ("routez", t_routez),
         ("failover", t_failover), ("tls_mixed", t_tls_mixed), ("permissions", t_permissions),
         ("reload", t_reload), ("leaf_forms", t_leaf_forms), ("leaf", t_leaf),
         ("client_urls", t_client_urls), ("tls_reload", t_tls_reload)]


def main():
    global ARGS, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--module-dir", default="")
    ap.add_argument("--ref", default="/usr/sbin/nats-server")
    ap.add_argument("-k", default="")
    ap.add_argument("-D", dest="debug", action="store_true")
    ARGS = ap.parse_args()
    TMP = tempfile.mkdtemp(prefix="mn-cluster-")
    passed = failed = 0
    for name, fn in TESTS:
        if ARGS.k and ARGS.k not in name:
            continue
        if name in ("mixed", "routez", "permissions", "reload", "leaf", "tls_mixed", "tls_reload") or "auth" in name:
            if not os.access(ARGS.ref, os.X_OK):
                print("FAIL %s: %s not found" % (name, ARGS.ref))
                failed += 1
                continue
        t0 = time.time()
        try:
            fn()
            passed += 1
            print("ok   %s (%.1fs)" % (name, time.time() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % name, flush=True)
            traceback.print_exc()
            for f in sorted(os.listdir(TMP)):
                if f.endswith(".log"):
                    print("---- %s" % f)
                    with open(os.path.join(TMP, f), errors="replace") as fh:
                        print("".join(fh.readlines()[-25:]))
    print("%d passed, %d failed" % (passed, failed))
    if failed == 0:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
