#!/usr/bin/env python3
"""soak.py - a bounded soak of the real server: mixed load with clients
connecting and disconnecting, then a check that file descriptors return to
their baseline exactly and memory (RSS) returns near it.

Load, all over loopback raw sockets for a fixed time (--seconds, default 20;
run it for minutes by hand):
  * publishers sending bursts on many subjects (some with headers);
  * subscribers on wildcards and in a queue group, reading everything;
  * churners: connect, subscribe, publish, unsubscribe, then close (or
    reset the connection without a word, or leave mid-frame);
  * a request/reply pair.
Baseline is taken after a warm-up round so the allocator's first growth is
not counted.  Prints one summary line and 'N passed, M failed'.
"""
import argparse
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'hostile'))
import harness  # noqa: E402

HOST = '127.0.0.1'


def fd_count(pid):
    try:
        return len(os.listdir('/proc/%d/fd' % pid))
    except OSError:
        return -1


def connect(port, extra=b''):
    s = socket.create_connection((HOST, port), timeout=5)
    s.sendall(b'CONNECT {"verbose":false,"headers":true,"protocol":1}\r\n' + extra)
    return s


def drain(s, stop, counter):
    s.settimeout(0.2)
    while not stop.is_set():
        try:
            d = s.recv(65536)
            if not d:
                return
            counter[0] += d.count(b'MSG ')
            if b'PING\r\n' in d:
                s.sendall(b'PONG\r\n')
        except socket.timeout:
            continue
        except OSError:
            return


def publisher(port, stop, seed):
    rnd = random.Random(seed)
    s = connect(port)
    payload = b'x' * 200
    try:
        while not stop.is_set():
            buf = []
            for _ in range(200):
                subj = b'soak.%d.%d' % (rnd.randrange(50), rnd.randrange(10))
                if rnd.random() < 0.2:
                    hdr = b'NATS/1.0\r\nK: v\r\n\r\n'
                    buf.append(b'HPUB %s %d %d\r\n%s%s\r\n' % (subj, len(hdr), len(hdr) + len(payload), hdr, payload))
                else:
                    buf.append(b'PUB %s %d\r\n%s\r\n' % (subj, len(payload), payload))
            s.sendall(b''.join(buf) + b'PING\r\n')
            # wait for the PONG so the publisher never runs away
            s.settimeout(5)
            got = b''
            while b'PONG' not in got:
                d = s.recv(4096)
                if not d:
                    return
                got += d
    except OSError:
        pass
    finally:
        s.close()


def subscriber(port, stop, subj, queue, counter):
    s = connect(port, b'SUB %s %s1\r\n' % (subj, (queue + b' ') if queue else b''))
    try:
        drain(s, stop, counter)
    finally:
        s.close()


def churner(port, stop, seed, counts):
    rnd = random.Random(seed)
    while not stop.is_set():
        try:
            s = socket.create_connection((HOST, port), timeout=5)
            s.sendall(b'CONNECT {"verbose":false}\r\n')
            n = rnd.randrange(1, 20)
            ops = [b'SUB churn.%d.> %d\r\n' % (rnd.randrange(100), i) for i in range(n)]
            ops += [b'PUB churn.%d.x 5\r\nhello\r\n' % rnd.randrange(100) for _ in range(5)]
            if rnd.random() < 0.5:
                ops += [b'UNSUB %d\r\n' % i for i in range(n)]
            s.sendall(b''.join(ops))
            end = rnd.random()
            if end < 0.2:
                # reset without a word
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            elif end < 0.35:
                s.sendall(b'PUB churn.mid 100\r\nonly part')   # leave mid-frame
            else:
                s.sendall(b'PING\r\n')
                s.settimeout(2)
                try:
                    s.recv(4096)
                except OSError:
                    pass
            s.close()
            counts[0] += 1
        except OSError:
            time.sleep(0.01)


def wait_pong(s):
    """Read until the server's PONG: everything sent before it is processed."""
    got = b''
    while b'PONG\r\n' not in got:
        d = s.recv(4096)
        if not d:
            raise OSError('closed')
        got += d


def requester(port, stop, counts):
    # Both subscriptions must be in place before the first request (the
    # two connections may live on different workers).
    srv = connect(port, b'SUB svc.echo q 1\r\nPING\r\n')
    cli = connect(port, b'SUB _INBOX.soak.* 1\r\nPING\r\n')
    srv.settimeout(10)
    cli.settimeout(10)
    try:
        wait_pong(srv)
        wait_pong(cli)
        i = 0
        while not stop.is_set():
            i += 1
            cli.sendall(b'PUB svc.echo _INBOX.soak.%d 2\r\nhi\r\n' % i)
            d = b''
            while b'\r\nhi\r\n' not in d:
                d += srv.recv(4096)
            srv.sendall(b'PUB _INBOX.soak.%d 2\r\nok\r\n' % i)
            d = b''
            while b'\r\nok\r\n' not in d:
                d += cli.recv(4096)
            counts[0] += 1
    except OSError:
        pass
    finally:
        srv.close()
        cli.close()


def run_load(port, seconds):
    stop = threading.Event()
    msgs, churns, reqs = [0], [0], [0]
    threads = []
    for subj, q in ((b'soak.>', None), (b'soak.*.3', None), (b'soak.>', b'grp'), (b'soak.>', b'grp')):
        threads.append(threading.Thread(target=subscriber, args=(port, stop, subj, q, msgs)))
    for i in range(2):
        threads.append(threading.Thread(target=publisher, args=(port, stop, i)))
    for i in range(3):
        threads.append(threading.Thread(target=churner, args=(port, stop, 100 + i, churns)))
    threads.append(threading.Thread(target=requester, args=(port, stop, reqs)))
    for t in threads:
        t.daemon = True
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    return msgs[0], churns[0], reqs[0]


def settle(server, seconds=3.0):
    """Wait until the fd count stops changing (closes are asynchronous)."""
    last, deadline = -2, time.time() + seconds
    while time.time() < deadline:
        n = fd_count(server.proc.pid)
        if n == last:
            return n
        last = n
        time.sleep(0.3)
    return fd_count(server.proc.pid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--server', default=os.environ.get('MN_TEST_SERVER'))
    ap.add_argument('--fallback-server')
    ap.add_argument('--seconds', type=float, default=20)
    a = ap.parse_args()
    path = a.server or a.fallback_server
    if not path:
        print('soak.py: no server given')
        return 2
    flavour = harness.flavour_of(path)
    srv = harness.Server(path, flavour, 'soak', 'max_connections = 10000;\n')
    passed = failed = 0
    try:
        srv.start()
        run_load(srv.port, min(3.0, a.seconds))          # warm-up
        fd0, rss0 = settle(srv), srv.rss_kb()
        t0 = time.time()
        msgs, churns, reqs = run_load(srv.port, a.seconds)
        peak = srv.rss_kb()
        fd1 = settle(srv)
        time.sleep(1.0)
        rss1 = srv.rss_kb()
        print('soak: %.0fs, %d messages received, %d connect/close cycles, %d requests; '
              'fds %d -> %d; RSS %d KiB -> peak %d KiB -> %d KiB'
              % (time.time() - t0, msgs, churns, reqs, fd0, fd1, rss0, peak, rss1))
        checks = [
            ('server alive', srv.alive()),
            ('traffic flowed', msgs > 0 and churns > 0 and reqs > 0),
            ('fds back to baseline', fd1 == fd0),
        ]
        # Allocators keep some freed memory; a leak grows with the run.  A
        # sanitizer build keeps freed memory in quarantine on purpose: there
        # LeakSanitizer at exit is the leak check instead.
        if os.environ.get('MN_SANITIZED'):
            print('skip  RSS back near baseline (sanitizer build)')
        else:
            checks.append(('RSS back near baseline', rss1 <= rss0 * 1.5 + 16 * 1024))
        for name, ok in checks:
            print(('ok    ' if ok else 'FAIL  ') + name)
            passed += ok
            failed += not ok
        problems = srv.stop()
        print(('ok    ' if not problems else 'FAIL  ') + 'clean shutdown' +
              ('' if not problems else ': ' + '; '.join(problems)))
        passed += not problems
        failed += bool(problems)
    except harness.Fail as e:
        print('FAIL  soak: %s' % e)
        failed += 1
    finally:
        srv.cleanup()
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
