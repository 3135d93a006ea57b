"""harness.py - the pieces the hostile-client suite is built from.

A server process under test (started on a free loopback port with a temp
config, stopped with SIGTERM and judged by its exit status and log), a
raw-socket NATS client that hands back protocol operations one at a time,
the health probe run after every case, and the request/reply latency client
used by --measure.  Everything has a deadline: nothing here can hang.
"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HOST = '127.0.0.1'
CRLF = b'\r\n'
SANITIZER_MARKS = ('AddressSanitizer', 'LeakSanitizer', 'ThreadSanitizer',
                   'runtime error:')


class Fail(Exception):
    """A case's assertion did not hold; the message says why."""


class Closed(Exception):
    """The server closed the connection (EOF or reset)."""


def flavour_of(path):
    """'nats' for the reference nats-server, 'modnats' for anything else."""
    try:
        out = subprocess.run([path, '--version'], capture_output=True,
                             timeout=10)
        text = (out.stdout + out.stderr).decode('utf-8', 'replace')
    except (OSError, subprocess.TimeoutExpired):
        return 'modnats'
    return 'nats' if text.strip().startswith('nats-server: v') else 'modnats'


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One server process with one config.  creds: (user, password) or None."""

    def __init__(self, path, flavour, name, config, creds=None):
        self.path, self.flavour, self.name = path, flavour, name
        self.config, self.creds = config, creds
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix='mn-hostile-%s-' % name)
        self.log_path = None
        self.starts = 0
        self.keep = False

    def start(self):
        self.starts += 1
        conf = os.path.join(self.dir, 'server.conf')
        with open(conf, 'w') as f:
            f.write(self.config)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, 'server-%d.log' % self.starts)
        log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(
            [self.path, '-a', HOST, '-p', str(self.port), '-c', conf],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Fail('server exited at start with %s: %s'
                           % (self.proc.returncode, self.log_tail()))
            try:
                c = Conn(self, timeout=1, connect=False)
                c.close()
                return
            except (OSError, Fail, Closed):
                time.sleep(0.05)
        raise Fail('server did not accept connections within 10 s')

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self):
        try:
            with open('/proc/%d/status' % self.proc.pid) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def log_text(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except (OSError, TypeError):
            return ''

    def log_tail(self, n=5):
        lines = self.log_text().strip().splitlines()[-n:]
        return ' | '.join(l.strip()[:200] for l in lines)

    def stop(self):
        """SIGTERM, then judge the exit.  Returns a list of problems."""
        problems = []
        if self.proc is None:
            return ['never started']
        if self.proc.poll() is not None:
            problems.append('server had already exited with %s'
                            % self.proc.returncode)
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problems.append('no exit within 15 s of SIGTERM')
        rc = self.proc.returncode
        # The reference exits 1 on SIGTERM (0 on SIGINT); modnats must exit 0.
        clean = (0, 1) if self.flavour == 'nats' else (0,)
        if rc not in clean:
            problems.append('exit status %s' % rc)
        log = self.log_text()
        for mark in SANITIZER_MARKS:
            if mark in log:
                at = log.index(mark)
                problems.append('log has %r: %s' % (
                    mark, log[max(0, at - 80):at + 160].replace('\n', ' | ')))
        if problems:
            self.keep = True
            problems.append('log tail: ' + self.log_tail())
            problems.append('logs kept in ' + self.dir)
        self.proc = None
        return problems

    def cleanup(self):
        """Kill a server left running (the suite itself failed) and drop
        the temp dir unless it holds the log of a failure."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class Conn:
    """A raw client connection.  Reads INFO; sends CONNECT unless told not to.

    Reading hands back one operation at a time: ('MSG', subject, sid, reply,
    payload), ('HMSG', subject, sid, reply, headers+payload) or ('LINE', text).
    Server PINGs are answered when auto_pong is set, and not returned."""

    CONNECT_OPTS = {'verbose': False, 'pedantic': False, 'headers': True,
                    'protocol': 1, 'lang': 'python', 'version': 'hostile'}

    def __init__(self, server, timeout=5.0, connect=True, opts=None,
                 rcvbuf=None, auto_pong=True, nodelay=False):
        self.server = server
        self.buf = bytearray()
        self.pos = 0
        self.closed = False
        self.auto_pong = auto_pong
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect((HOST, server.port))
        except OSError:
            self.sock.close()
            raise
        self.sock.setblocking(False)
        op = self.read_op(timeout)
        if op[0] != 'LINE' or not op[1].startswith(b'INFO '):
            self.close()
            raise Fail('expected INFO first, got %r' % (op,))
        self.info = json.loads(op[1][5:])
        if connect:
            o = dict(self.CONNECT_OPTS)
            if server.creds:
                o['user'], o['pass'] = server.creds
            o.update(opts or {})
            self.send(b'CONNECT ' + json.dumps(o).encode() + CRLF)

    def send(self, data):
        """Send all of data; a peer that closed meanwhile is not an error
        here (the reads that follow will see the close)."""
        view = memoryview(data)
        deadline = time.time() + 30
        while view and time.time() < deadline:
            try:
                n = self.sock.send(view)
                view = view[n:]
            except BlockingIOError:
                select.select([], [self.sock], [], 0.5)
            except OSError:
                return False
        return not view

    def _fill(self, deadline):
        """Read more bytes.  False on timeout; raises Closed at EOF/reset."""
        if self.closed:
            raise Closed()
        while True:
            left = deadline - time.time()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                d = self.sock.recv(1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                d = b''
            if not d:
                self.closed = True
                raise Closed()
            self.buf += d
            return True

    def read_op(self, timeout=5.0):
        """The next operation, or raises Closed / Fail('timeout ...')."""
        deadline = time.time() + timeout
        if self.pos > (1 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        while True:
            end = self.buf.find(b'\n', self.pos)
            if end >= 0:
                line = bytes(self.buf[self.pos:end]).rstrip(b'\r')
                verb = line.split(b' ', 1)[0].upper()
                if verb in (b'MSG', b'HMSG'):
                    f = line.split()
                    size = int(f[-1])
                    need = end + 1 + size + 2
                    while len(self.buf) < need:
                        if not self._fill(deadline):
                            raise Fail('timeout reading a %s payload' % verb)
                    payload = bytes(self.buf[end + 1:end + 1 + size])
                    self.pos = need
                    reply = f[3] if len(f) == (5 if verb == b'MSG' else 6) \
                        else None
                    return (verb.decode(), f[1], f[2], reply, payload)
                self.pos = end + 1
                if verb == b'PING' and self.auto_pong:
                    self.send(b'PONG\r\n')
                    continue
                return ('LINE', line)
            if not self._fill(deadline):
                raise Fail('timeout after %.1f s waiting for the server'
                           % timeout)

    def outcome(self, want_pong, timeout=5.0):
        """Read until close, or (want_pong) until a PONG.  Returns
        (lines, closed, ponged: a PONG came); lines excludes PONG, +OK and async INFO."""
        lines, ponged = [], False
        deadline = time.time() + timeout
        while True:
            try:
                op = self.read_op(max(0.01, deadline - time.time()))
            except Closed:
                return lines, True, ponged
            except Fail:
                return lines, False, ponged
            if op[0] == 'LINE' and op[1] == b'PONG':
                ponged = True
                if want_pong:
                    return lines, False, True
                continue
            if op[0] == 'LINE' and (op[1] == b'+OK' or
                                    op[1].startswith(b'INFO ')):
                continue
            lines.append(op[1] if op[0] == 'LINE' else op[0].encode())

    def wait_pong(self, timeout=5.0):
        """Read until PONG; returns the other operations seen before it."""
        ops = []
        deadline = time.time() + timeout
        while True:
            try:
                op = self.read_op(max(0.01, deadline - time.time()))
            except Closed:
                raise Fail('connection closed while waiting for PONG '
                           '(after %r)' % ops[-3:])
            if op[0] == 'LINE' and op[1] == b'PONG':
                return ops
            if op[0] == 'LINE' and (op[1] == b'+OK' or
                                    op[1].startswith(b'INFO ')):
                continue
            ops.append(op)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connect_retry(server, timeout=10.0, **kw):
    """Connect, retrying while the server refuses for max connections
    (it frees slots asynchronously after a storm)."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            c = Conn(server, **kw)
        except (Fail, OSError) as e:
            last = e
            time.sleep(0.1)
            continue
        c.send(b'PING\r\n')
        try:
            c.wait_pong(max(0.5, deadline - time.time()))
            return c
        except Fail as e:
            c.close()
            last = e
            time.sleep(0.1)
    raise Fail('could not get a working connection: %s' % last)


_health_seq = [0]


def health(server):
    """A well-behaved client must still work: SUB, PUB, PING -> MSG, PONG."""
    if not server.alive():
        raise Fail('server process is gone (exit %s): %s'
                   % (server.proc.returncode, server.log_tail()))
    _health_seq[0] += 1
    subj = b'health.%d' % _health_seq[0]
    body = b'alive-%d' % _health_seq[0]
    c = connect_retry(server)
    try:
        c.send(b'SUB ' + subj + b' 1\r\nPUB ' + subj + b' %d\r\n' % len(body)
               + body + b'\r\nPING\r\n')
        ops = c.wait_pong()
        if not any(op[0] == 'MSG' and op[4] == body for op in ops):
            raise Fail('health client got %r instead of its message' % ops)
    finally:
        c.close()


def percentile(sorted_vals, p):
    if not sorted_vals:
        return float('nan')
    k = min(len(sorted_vals) - 1, int(round(p / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[k]


def rr_client_main(argv):
    """--rr-client PORT [USER PASS]: request/reply on one connection, paced
    at about 2 ms, until SIGUSR1; then print {"n", "lost", "p50", "p99",
    "max", "error"} as one JSON line.  Prints "ready" once subscribed."""
    class _S:
        pass
    s = _S()
    s.port = int(argv[0])
    s.creds = (argv[1], argv[2]) if len(argv) >= 3 else None
    stop = []
    signal.signal(signal.SIGUSR1, lambda *_: stop.append(1))
    lat, lost, error = [], 0, None
    try:
        c = Conn(s, timeout=5)
        c.send(b'SUB rr.req 1\r\nSUB rr.inbox 2\r\nPING\r\n')
        c.wait_pong()
    except (Closed, Fail, OSError) as e:
        error = 'setup: %s %s' % (type(e).__name__, e)
    print('ready', flush=True)
    try:
        if error:
            raise Closed()
        seq = 0
        while not stop:
            time.sleep(0.002)
            seq += 1
            tag = b'%d' % seq
            t0 = time.perf_counter()
            c.send(b'PUB rr.req rr.inbox %d\r\n%s\r\n' % (len(tag), tag))
            deadline = time.time() + 2.0
            while True:
                try:
                    op = c.read_op(max(0.01, deadline - time.time()))
                except Fail:
                    lost += 1
                    break
                if op[0] != 'MSG':
                    continue
                if op[1] == b'rr.req':
                    c.send(b'PUB %s %d\r\n%s\r\n' % (op[3], len(op[4]), op[4]))
                elif op[4] == tag:
                    lat.append((time.perf_counter() - t0) * 1000.0)
                    break
    except (Closed, Fail, OSError) as e:
        error = error or '%s %s' % (type(e).__name__, e)
    while not stop:
        time.sleep(0.05)
    lat.sort()
    print(json.dumps({'n': len(lat), 'lost': lost, 'error': error,
                      'p50': percentile(lat, 50), 'p99': percentile(lat, 99),
                      'max': lat[-1] if lat else float('nan')}), flush=True)
    return 0


class Measure:
    """--measure: a request/reply client in its own process and an RSS
    sampler, around one family of attacks."""

    def __init__(self, server):
        self.server = server
        self.rss_before = server.rss_kb()
        self.rss_peak = self.rss_before
        args = [sys.executable, os.path.abspath(sys.argv[0]), '--rr-client',
                str(server.port)]
        if server.creds:
            args += list(server.creds)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE)
        self.done = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        r, _, _ = select.select([self.proc.stdout], [], [], 10)
        if r:
            self.proc.stdout.readline()

    def _sample(self):
        while not self.done.wait(0.02):
            self.rss_peak = max(self.rss_peak, self.server.rss_kb())

    def finish(self):
        self.done.set()
        self.sampler.join()
        try:
            self.proc.send_signal(signal.SIGUSR1)
            out, _ = self.proc.communicate(timeout=10)
            stats = json.loads(out.decode() or '{}')
        except (subprocess.TimeoutExpired, ValueError):
            self.proc.kill()
            self.proc.wait()
            stats = {'error': 'rr client hung'}
        time.sleep(0.5)
        stats['rss_before'] = self.rss_before
        stats['rss_peak'] = max(self.rss_peak, self.server.rss_kb())
        stats['rss_after'] = self.server.rss_kb()
        return stats
