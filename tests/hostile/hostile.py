#!/usr/bin/env python3
"""hostile.py - the hostile-client suite: real sockets against a real server.

Starts the server under test (argv / --server PATH / env MN_TEST_SERVER) on a
free loopback port, once per config group, and runs named cases against it:
malformed verbs, over-long control lines, lying payload sizes, invalid and
huge subjects, silent and trickling clients, SUB floods, connection storms
and slow consumers.  After every case the server must still be alive and a
well-behaved client must still work; at the end SIGTERM must give a clean
exit with no sanitizer report.  Prints one line per case and a final
"N passed, M failed"; exits non-zero if any failed.

Expectations follow the reference nats-server 2.9.10 (flavour 'nats'); where
it closes silently on an argument error, modnats (any other flavour) must
send an -ERR first.  --measure also runs a request/reply client during each
family of attacks and prints its latency and the server's RSS.

    MN_TEST_SERVER=/usr/sbin/nats-server python3 tests/hostile/hostile.py
    python3 tests/hostile/hostile.py --measure --server build/bin/modnats
    python3 tests/hostile/hostile.py --only storm build/bin/modnats
"""

import os
import random
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Closed, Conn, Fail, Measure, Server, connect_retry,  # noqa: E402
                     flavour_of, health, rr_client_main)

UPO = 'Unknown Protocol Operation'
MCL = 'maximum control line exceeded'
MPV = 'Maximum Payload Violation'

GROUPS = {
    # name: (config text in the libconfig subset both servers read, creds)
    'limits': ('max_connections = 50;\nmax_subscriptions = 100;\n', None),
    'bigline': ('max_control_line = 20000;\n', None),
    'auth': ('authorization = { user = "hostile"; password = "s3cret"; '
             'timeout = 1; };\n', ('hostile', 's3cret')),
    'slow': ('write_deadline = "2s";\n', None),
}


# --- expectations -----------------------------------------------------------

class Expect:
    """What a malformed input must lead to.

    silent_close: the reference closes without -ERR; modnats sends one first.
    err_close:    -ERR 'text' then close (modnats: same text, or any -ERR
                  when mn_any).
    err_open:     -ERR 'text' and the connection keeps working.
    open:         valid input: no -ERR, the connection keeps working.
    tolerated:    the reference accepts it silently; modnats may too, or may
                  refuse it with an -ERR (then close or not), never silently.
    """

    def __init__(self, kind, text=None, mn_any=False):
        self.kind, self.text, self.mn_any = kind, text, mn_any

    def want_pong(self):
        return self.kind in ('err_open', 'open', 'tolerated')

    def check(self, flavour, lines, closed, ponged):
        errs = [l for l in lines if l.startswith(b'-ERR')]
        got = 'got %r%s, %s' % (lines[:4], ' and PONG' if ponged else '',
                                'closed' if closed else 'still open')
        want_err = b"-ERR '%s'" % self.text.encode() if self.text else None
        mn = flavour != 'nats'
        k = self.kind
        if k == 'silent_close' or (k == 'err_close' and mn and self.mn_any):
            if not closed:
                raise Fail('connection not closed; ' + got)
            if mn and not any(e.startswith(b"-ERR '") for e in errs):
                raise Fail('closed without an -ERR; ' + got)
            if not mn and errs:
                raise Fail('reference expected to close silently; ' + got)
        elif k == 'err_close':
            if want_err not in errs:
                raise Fail('expected %r; %s' % (want_err, got))
            if not closed:
                raise Fail('connection not closed; ' + got)
        elif k == 'err_open':
            if want_err not in errs:
                raise Fail('expected %r; %s' % (want_err, got))
            if not ponged:
                raise Fail('connection should stay open; ' + got)
        elif k == 'open' or (k == 'tolerated' and not mn):
            if errs or not ponged:
                raise Fail('expected accepted and open; ' + got)
        elif k == 'tolerated':
            if closed and not errs:
                raise Fail('closed without an -ERR; ' + got)
            if not closed and not ponged:
                raise Fail('neither answered nor closed; ' + got)


C = Expect('silent_close')
O = Expect('open')
T = Expect('tolerated')


def E(text, mn_any=False):
    return Expect('err_close', text, mn_any)


def EO(text):
    return Expect('err_open', text)


# --- the case registry ------------------------------------------------------

CASES = []   # (family, group, name, fn(server, flavour))


def case(family, group, name):
    def reg(fn):
        CASES.append((family, group, name, fn))
        return fn
    return reg


def probe(family, group, name, data, expect, connect=True, opts=None,
          sentinel=True):
    """A case that sends data (and then PING) on a fresh connection and
    checks what the server answered and whether it closed."""
    def run(server, flavour):
        c = Conn(server, connect=connect, opts=opts)
        try:
            c.send(data + (b'PING\r\n' if sentinel else b''))
            lines, closed, ponged = c.outcome(expect.want_pong(), timeout=3)
            expect.check(flavour, lines, closed, ponged)
        finally:
            c.close()
    CASES.append((family, group, name, run))


def add_probes(family, group, table, **kw):
    for row in table:
        name, data, expect = row[:3]
        extra = dict(kw)
        extra.update(row[3] if len(row) > 3 else {})
        probe(family, group, name, data, expect, **extra)


NOCONN = {'connect': False}

# --- malformed verbs --------------------------------------------------------

add_probes('malformed', 'limits', [
    ('connect-invalid-json', b'CONNECT {bad json\r\n', C, NOCONN),
    ('connect-trailing-comma', b'CONNECT {"a":1,}\r\n', C, NOCONN),
    ('connect-number', b'CONNECT 5\r\n', C, NOCONN),
    ('connect-string', b'CONNECT "x"\r\n', C, NOCONN),
    ('connect-array', b'CONNECT [1,2]\r\n', C, NOCONN),
    ('connect-no-json', b'CONNECT\r\n', C, NOCONN),
    ('connect-trailing-garbage', b'CONNECT {"verbose":false}garbage\r\n', C,
     NOCONN),
    ('connect-verbose-string', b'CONNECT {"verbose":"yes"}\r\n', C, NOCONN),
    ('connect-pedantic-number', b'CONNECT {"pedantic":1}\r\n', C, NOCONN),
    ('connect-name-number', b'CONNECT {"name":5}\r\n', C, NOCONN),
    ('connect-user-number', b'CONNECT {"user":5}\r\n', C, NOCONN),
    ('connect-headers-string', b'CONNECT {"headers":"yes"}\r\n', C, NOCONN),
    ('connect-lang-array', b'CONNECT {"lang":[1]}\r\n', C, NOCONN),
    ('connect-protocol-string', b'CONNECT {"protocol":"1"}\r\n', C, NOCONN),
    ('connect-protocol-float', b'CONNECT {"protocol":1.5}\r\n', C, NOCONN),
    ('connect-protocol-1e999', b'CONNECT {"protocol":1e999}\r\n', C, NOCONN),
    ('connect-protocol-5', b'CONNECT {"protocol":5}\r\n',
     E('invalid client protocol'), NOCONN),
    ('connect-protocol-negative', b'CONNECT {"protocol":-1}\r\n',
     E('invalid client protocol'), NOCONN),
    ('connect-raw-nul', b'CONNECT {"name":"a\x00b"}\r\n', C, NOCONN),
    ('connect-bad-escape', b'CONNECT {"name":"\\uZZZZ"}\r\n', C, NOCONN),
    ('connect-deep-nesting',
     b'CONNECT {"x":' + b'[' * 2000 + b']' * 2000 + b'}\r\n', T, NOCONN),
    ('connect-invalid-utf8', b'CONNECT {"name":"\xff\xfe"}\r\n', T, NOCONN),
    ('connect-null', b'CONNECT null\r\n', T, NOCONN),
    ('connect-empty-object', b'CONNECT {"verbose":false}\r\n', O, NOCONN),
    ('connect-unknown-field', b'CONNECT {"verbose":false,"zz":[1]}\r\n', O,
     NOCONN),
    ('connect-twice', b'CONNECT {"verbose":false}\r\n' * 2, O, NOCONN),

    ('pub-no-args', b'PUB\r\n', E(UPO, mn_any=True)),
    ('pub-subject-only', b'PUB foo\r\n', C),
    ('pub-size-not-number', b'PUB foo abc\r\n', C),
    ('pub-size-negative', b'PUB foo -1\r\n', C),
    ('pub-size-plus-sign', b'PUB foo +3\r\nabc\r\n', C),
    ('pub-size-huge', b'PUB foo 99999999999999999999\r\n', C),
    ('pub-extra-args', b'PUB foo bar baz 3\r\nabc\r\n', C),
    ('pub-lone-cr-in-line', b'PUB foo 3\rabc\r\n', C),
    ('pub-size-leading-zero', b'PUB foo 03\r\nabc\r\n', O),
    ('pub-tabs', b'PUB\tfoo\t3\r\nabc\r\n', O),
    ('pub-lowercase', b'pub foo 3\r\nabc\r\n', O),
    ('pub-empty-payload', b'PUB foo 0\r\n\r\n', O),
    ('pub-double-space', b'PUB foo  3\r\nabc\r\n', T),
    ('pub-trailing-space', b'PUB foo 3 \r\nabc\r\n', T),
    ('pub-lf-only', b'PUB foo 3\nabc\r\n', T),
    ('pub-invalid-subject', b'PUB foo..bar 3\r\nabc\r\n', T),
    ('pub-wildcard-subject', b'PUB foo.* 3\r\nabc\r\n', T),
    ('pub-invalid-subject-pedantic', b'PUB foo..bar 1\r\nx\r\n',
     EO('Invalid Publish Subject'), {'opts': {'pedantic': True}}),

    ('hpub-no-args', b'HPUB\r\n', E(UPO, mn_any=True)),
    ('hpub-subject-only', b'HPUB foo\r\n', C),
    ('hpub-one-size', b'HPUB foo 10\r\n', C),
    ('hpub-hdr-over-total', b'HPUB foo 20 10\r\n', C),
    ('hpub-size-not-number', b'HPUB foo x 10\r\n', C),
    ('hpub-hdr-negative', b'HPUB foo -1 12\r\n', C),
    ('hpub-total-negative', b'HPUB foo 12 -1\r\n', C),
    ('hpub-sizes-huge',
     b'HPUB foo 99999999999999999999 99999999999999999999\r\n', C),
    ('hpub-extra-args', b'HPUB foo a b 12 12\r\n', C),
    ('hpub-without-headers-option', b'HPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n',
     C, {'opts': {'headers': False}}),
    ('hpub-valid', b'HPUB foo 12 15\r\nNATS/1.0\r\n\r\nabc\r\n', O),
    ('hpub-not-nats-1.0', b'HPUB foo 12 12\r\nXXXX/1.0\r\n\r\n\r\n', T),
    ('hpub-header-garbage', b'HPUB foo 4 4\r\nabcd\r\n', T),
    ('hpub-zero-sizes', b'HPUB foo 0 0\r\n\r\n', T),
    ('hpub-no-blank-line', b'HPUB foo 10 12\r\nNATS/1.0\r\nab\r\n', T),

    ('sub-no-args', b'SUB\r\n', E(UPO, mn_any=True)),
    ('sub-subject-only', b'SUB foo\r\n', C),
    ('sub-subject-and-spaces', b'SUB foo  \r\n', C),
    ('sub-extra-args', b'SUB foo q r 1\r\n', C),
    ('sub-queue', b'SUB foo q 1\r\n', O),
    ('sub-sid-word', b'SUB foo bar\r\n', O),
    ('sub-sid-huge-number', b'SUB foo 99999999999999999999999999999\r\n', O),
    ('sub-sid-negative', b'SUB foo -1\r\n', T),
    ('sub-duplicate-sid', b'SUB foo 1\r\nSUB foo 1\r\n', T),
    ('sub-nul-in-subject', b'SUB f\x00o 1\r\n', T),
    ('sub-nul-in-queue', b'SUB foo q\x00 1\r\n', T),
    ('sub-lone-cr', b'SUB foo\r1\r\n', T),

    ('unsub-no-args', b'UNSUB\r\n', E(UPO, mn_any=True)),
    ('unsub-empty-sid', b'UNSUB \r\n', C),
    ('unsub-extra-args', b'UNSUB 1 2 3\r\n', C),
    ('unsub-unknown-sid', b'UNSUB 99999999999999999999\r\n', O),
    ('unsub-max-zero', b'SUB foo 1\r\nUNSUB 1 0\r\n', O),
    ('unsub-max-not-number', b'UNSUB 1 abc\r\n', T),
    ('unsub-max-negative', b'UNSUB 1 -5\r\n', T),
    ('unsub-max-huge', b'UNSUB 1 ' + b'1' * 50 + b'\r\n', T),

    ('unknown-verb', b'FOO bar\r\n', E(UPO)),
    ('client-sends-msg', b'MSG foo 1 3\r\nabc\r\n', E(UPO)),
    ('client-sends-err', b'-ERR foo\r\n', C),
    ('client-sends-ok', b'+OK\r\n', O),
    ('client-sends-info', b'INFO {}\r\n', O),
    ('client-sends-pong', b'PONG\r\n', O),
    ('binary-garbage', bytes(random.Random(7).randrange(128, 256)
                             for _ in range(4096)), E(UPO, mn_any=True)),
    ('nul-bytes', b'\x00' * 64, E(UPO)),
    ('nul-in-verb', b'PI\x00NG\r\n', E(UPO)),
    ('empty-line', b'\r\n', E(UPO)),
    ('lf-only-line', b'\n', E(UPO)),
    ('lone-cr', b'PING\r', T),
    ('ping-lowercase', b'ping\r\n', O),
    ('ping-lf-only', b'PING\n', T),
    ('ping-long-tail', b'PING' + b'G' * 5000 + b'\r\n', T),
    # A line-at-a-time parser may see these as over-long lines first.
    ('long-line-unknown', b'A' * 5000 + b'\r\n', E(UPO, mn_any=True)),
    ('long-garbage-no-crlf', b'A' * 100000, E(UPO, mn_any=True),
     {'sentinel': False}),
])

# --- control line over max_control_line (4096) ------------------------------

add_probes('control-line', 'limits', [
    ('ctl-pub-args-5000', b'PUB foo 3 ' + b'x' * 5000 + b'\r\nabc\r\n',
     E(MCL)),
    ('ctl-pub-size-5000-digits', b'PUB foo ' + b'9' * 5000 + b'\r\n', E(MCL)),
    ('ctl-sub-subject-5000', b'SUB ' + b'a' * 5000 + b' 1\r\n', E(MCL)),
    ('ctl-unsub-5000', b'UNSUB ' + b'1' * 5000 + b'\r\n', E(MCL)),
    ('ctl-connect-5000', b'CONNECT {"name":"' + b'x' * 5000 + b'"}\r\n',
     E(MCL), NOCONN),
    ('ctl-sub-100k-no-crlf', b'SUB ' + b'a' * 100000, E(MCL),
     {'sentinel': False}),
    ('ctl-under-limit', b'SUB ' + b'a' * 4000 + b' 1\r\n', O),
])

# --- payload sizes that lie -------------------------------------------------

add_probes('payload-lies', 'limits', [
    ('payload-shorter-then-op', b'PUB foo 5\r\nabc\r\nPING\r\n', E(UPO)),
    ('payload-longer', b'PUB foo 3\r\nabcdef\r\n', E(UPO)),
    ('payload-longer-after-good', b'PUB foo 3\r\nabc\r\nPUB foo 3\r\nabcd\r\n',
     E(UPO)),
    ('payload-cr-inside-longer', b'PUB foo 3\r\nab\rc\r\n', E(UPO)),
    ('payload-end-lf-only', b'PUB foo 3\r\nabc\n', E(UPO)),
    ('payload-end-cr-cr', b'PUB foo 3\r\nabc\r\r\n', E(UPO)),
    ('hpub-payload-longer', b'HPUB foo 12 15\r\nNATS/1.0\r\n\r\nabcdef\r\n',
     E(UPO)),
    ('payload-max-exact', b'PUB foo 1048576\r\n' + b'x' * 1048576 + b'\r\n',
     O),
    ('payload-over-max', b'PUB foo 1048577\r\n', E(MPV)),
    ('payload-over-max-hpub', b'HPUB foo 12 2000000\r\n', E(MPV)),
])


def _subscriber(server, subj):
    c = Conn(server)
    c.send(b'SUB ' + subj + b' 1\r\nPING\r\n')
    c.wait_pong()
    return c


@case('payload-lies', 'limits', 'payload-lie-not-delivered')
def _lie_not_delivered(server, flavour):
    """A PUB whose payload does not match its size must not be delivered."""
    sub = _subscriber(server, b'lie.x')
    try:
        for bad in (b'PUB lie.x 3\r\nabcdef\r\n',
                    b'PUB lie.x 5\r\nabc\r\nPING\r\n'):
            liar = Conn(server)
            liar.send(bad)
            _, closed, _ = liar.outcome(False)
            liar.close()
            if not closed:
                raise Fail('liar %r not closed' % bad)
        sub.send(b'PUB lie.x 6\r\nhonest\r\nPING\r\n')
        ops = [op for op in sub.wait_pong() if op[0] == 'MSG']
        if [op[4] for op in ops] != [b'honest']:
            raise Fail('subscriber got %r, wanted only the honest message'
                       % [op[4] for op in ops])
    finally:
        sub.close()


@case('payload-lies', 'limits', 'payload-split-and-stalled')
def _split_payload(server, flavour):
    """A payload that stops half way stalls only its own connection; the
    rest, arriving later, completes the message intact."""
    sub = _subscriber(server, b'split.x')
    pub = Conn(server)
    try:
        body = bytes(range(256)) * 4
        pub.send(b'PUB split.x %d\r\n' % len(body) + body[:10])
        health(server)
        pub.send(body[10:] + b'\r\nPING\r\n')
        pub.wait_pong()
        sub.send(b'PING\r\n')
        got = [op[4] for op in sub.wait_pong() if op[0] == 'MSG']
        if got != [body]:
            raise Fail('subscriber got %d messages, not the one intact body'
                       % len(got))
    finally:
        pub.close()
        sub.close()


@case('payload-lies', 'limits', 'payload-binary-intact')
def _binary_payload(server, flavour):
    """NUL, CR, LF and protocol text inside a payload are just bytes."""
    sub = _subscriber(server, b'bin.x')
    try:
        body = bytes(range(256)) + b'\r\nPING\r\nPUB x 1\r\n\x00\r\n-ERR\r\n'
        sub.send(b'PUB bin.x %d\r\n' % len(body) + body + b'\r\nPING\r\n')
        got = [op[4] for op in sub.wait_pong() if op[0] == 'MSG']
        if got != [body]:
            raise Fail('payload altered: got %r' % got)
    finally:
        sub.close()


@case('payload-lies', 'limits', 'payload-40-stalled-max-size')
def _stalled_max(server, flavour):
    """40 connections each promise 1 MiB and send 1 byte, then hang."""
    conns = []
    try:
        for _ in range(40):
            c = Conn(server)
            c.send(b'PUB stall.x 1048576\r\nx')
            conns.append(c)
        health(server)
    finally:
        for c in conns:
            c.close()


@case('payload-lies', 'limits', 'payload-reset-mid-payload')
def _rst_mid_payload(server, flavour):
    """The client vanishes with a RST half way through a large payload."""
    for _ in range(10):
        c = Conn(server)
        c.send(b'PUB rst.x 1048576\r\n' + b'y' * 400000)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack('ii', 1, 0))
        c.close()


@case('payload-lies', 'limits', 'payload-half-close-mid-payload')
def _half_close(server, flavour):
    """Half-close (FIN) in the middle of a payload: the server must close."""
    c = Conn(server)
    try:
        c.send(b'PUB hc.x 100\r\nabc')
        c.sock.shutdown(socket.SHUT_WR)
        _, closed, _ = c.outcome(False, timeout=5)
        if not closed:
            raise Fail('server kept a half-closed connection open')
    finally:
        c.close()


# --- subjects ---------------------------------------------------------------

add_probes('subjects', 'limits', [
    ('subject-empty-token', b'SUB foo..bar 1\r\n', EO('Invalid Subject')),
    ('subject-fwc-not-last', b'SUB >.foo 1\r\n', EO('Invalid Subject')),
    ('subject-fwc-middle', b'SUB foo.>.bar 1\r\n', EO('Invalid Subject')),
    ('subject-leading-dot', b'SUB .foo 1\r\n', EO('Invalid Subject')),
    ('subject-trailing-dot', b'SUB foo.bar. 1\r\n', EO('Invalid Subject')),
    ('subject-invalid-with-queue', b'SUB foo..bar q 1\r\n',
     EO('Invalid Subject')),
    ('subject-wildcards-valid', b'SUB foo.* 1\r\nSUB foo.> 2\r\nSUB > 3\r\n',
     O),
])


def _roundtrip(server, sub_subj, pub_subj):
    c = Conn(server)
    try:
        c.send(b'SUB ' + sub_subj + b' 1\r\nPUB ' + pub_subj + b' 2\r\nhi\r\n'
               b'PING\r\n')
        ops = c.wait_pong(timeout=10)
        msgs = [op for op in ops if op[0] == 'MSG']
        if len(msgs) != 1 or msgs[0][1] != pub_subj or msgs[0][4] != b'hi':
            raise Fail('expected one MSG on the %d-byte subject, got %r'
                       % (len(pub_subj), [op[:2] for op in ops][:3]))
        if [op for op in ops if op[0] == 'LINE']:
            raise Fail('unexpected %r' % ops)
    finally:
        c.close()


@case('subjects', 'bigline', 'subject-10000-bytes')
def _huge_subject(server, flavour):
    _roundtrip(server, b'h' * 10000, b'h' * 10000)


@case('subjects', 'bigline', 'subject-5000-tokens')
def _deep_subject(server, flavour):
    s = b'.'.join([b't'] * 5000)
    _roundtrip(server, s, s)


@case('subjects', 'bigline', 'subject-5000-wildcard-tokens')
def _deep_wildcards(server, flavour):
    _roundtrip(server, b'.'.join([b'*'] * 4999) + b'.>',
               b'.'.join([b'w'] * 5000))


probe('subjects', 'bigline', 'subject-over-raised-limit',
      b'SUB ' + b'a' * 25000 + b' 1\r\n', E(MCL))


@case('subjects', 'bigline', 'subject-50000-distinct-subs')
def _many_subs(server, flavour):
    """50,000 distinct subscriptions on one connection, then it vanishes."""
    c = Conn(server)
    try:
        c.send(b''.join(b'SUB many.%d.%d.x %d\r\n' % (i % 97, i, i)
                        for i in range(50000)) + b'PING\r\n')
        ops = c.wait_pong(timeout=30)
        if ops:
            raise Fail('unexpected %r' % ops[:3])
        c.send(b'PUB many.%d.12345.x 1\r\nz\r\nPING\r\n' % (12345 % 97))
        got = [op[2] for op in c.wait_pong(timeout=10) if op[0] == 'MSG']
        if got != [b'12345']:
            raise Fail('expected delivery to sid 12345, got %r' % got)
    finally:
        c.close()


# --- clients that say nothing, or too little -------------------------------

@case('idle', 'limits', 'idle-no-auth')
def _idle_no_auth(server, flavour):
    """Never CONNECTs.  The reference keeps such a connection open (until
    its ping timer); modnats closes it after the auth timeout (2 s)."""
    c = Conn(server, connect=False)
    try:
        if flavour == 'nats':
            lines, closed, _ = c.outcome(False, timeout=3)
            if closed:
                raise Fail('reference closed an idle connection: %r' % lines)
            c.send(b'PING\r\n')
            c.wait_pong()
        else:
            lines, closed, _ = c.outcome(False, timeout=10)
            if not closed:
                raise Fail('never-CONNECTed connection still open after 10 s')
    finally:
        c.close()


add_probes('idle', 'auth', [
    ('idle-auth-timeout', b'', E('Authentication Timeout'),
     {'connect': False, 'sentinel': False}),
    ('partial-connect-auth-timeout', b'CONNECT {"user":"hostile",',
     E('Authentication Timeout'), {'connect': False, 'sentinel': False}),
    ('wrong-password', b'CONNECT {"user":"hostile","pass":"nope"}\r\n',
     E('Authorization Violation'), NOCONN),
    ('no-credentials', b'CONNECT {"verbose":false}\r\n',
     E('Authorization Violation'), NOCONN),
    ('pub-before-connect', b'PUB foo 1\r\nx\r\n', E('Authorization Violation'),
     NOCONN),
    ('garbage-before-connect', b'garbage\r\n',
     E('Authorization Violation', mn_any=True), NOCONN),
])


@case('idle', 'auth', 'slowloris-50')
def _slowloris(server, flavour):
    """50 connections each dribble half a CONNECT and stop: all are closed
    by the auth timeout and the server stays usable meanwhile."""
    conns = []
    try:
        for i in range(50):
            c = Conn(server, connect=False)
            c.send(b'CONNECT {"user":"hos')
            conns.append(c)
        health(server)
        for c in conns:
            lines, closed, _ = c.outcome(False, timeout=10)
            if not closed:
                raise Fail('a half-CONNECTed connection was never closed')
    finally:
        for c in conns:
            c.close()


@case('trickle', 'limits', 'trickle-byte-at-a-time')
def _trickle(server, flavour):
    """A whole valid session sent one byte per segment: it must work."""
    session = (b'CONNECT {"verbose":false,"headers":true}\r\n'
               b'SUB tr.x 1\r\nSUB tr.* 2\r\n'
               b'PUB tr.x rep 5\r\nhello\r\n'
               b'HPUB tr.x 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nworld\r\n'
               b'UNSUB 2\r\nPUB tr.x 3\r\nbye\r\nPING\r\n')
    c = Conn(server, connect=False, nodelay=True)
    try:
        for i in range(len(session)):
            c.send(session[i:i + 1])
            time.sleep(0.002)
        ops = c.wait_pong()
        got = sorted((op[0], op[2], op[4]) for op in ops)
        want = sorted([('MSG', b'1', b'hello'), ('MSG', b'2', b'hello'),
                       ('HMSG', b'1', b'NATS/1.0\r\nA: b\r\n\r\nworld'),
                       ('HMSG', b'2', b'NATS/1.0\r\nA: b\r\n\r\nworld'),
                       ('MSG', b'1', b'bye')])
        if got != want:
            raise Fail('trickled session got %r' % got)
        if [op[3] for op in ops if op[4] == b'hello'] != [b'rep', b'rep']:
            raise Fail('reply subject lost: %r' % ops)
    finally:
        c.close()


# --- floods -----------------------------------------------------------------

@case('sub-flood', 'limits', 'sub-flood-over-max-subscriptions')
def _sub_flood(server, flavour):
    want = b"-ERR 'maximum subscriptions exceeded'"
    c = Conn(server)
    try:
        c.send(b''.join(b'SUB fl.%d %d\r\n' % (i, i) for i in range(1, 101))
               + b'PING\r\n')
        ops = c.wait_pong()
        if ops:
            raise Fail('100 SUBs (the limit) got %r' % ops[:3])
        c.send(b'SUB fl.101 101\r\nPING\r\n')
        ops = c.wait_pong()
        if [op[1] for op in ops] != [want]:
            raise Fail('101st SUB: expected %r, got %r' % (want, ops))
        c.send(b''.join(b'SUB fl.%d %d\r\n' % (i, i) for i in range(102, 5102))
               + b'PING\r\n')
        ops = c.wait_pong(timeout=15)
        if not ops or any(op[1] != want for op in ops):
            raise Fail('5000 more SUBs: got %r' % ops[:3])
        c.send(b'PUB fl.7 1\r\nq\r\nUNSUB 7\r\nSUB fl.new new\r\n'
               b'PUB fl.new 1\r\nr\r\nPING\r\n')
        ops = c.wait_pong()
        got = [(op[0], op[2]) for op in ops]
        if got != [('MSG', b'7'), ('MSG', b'new')]:
            raise Fail('after the flood (and an UNSUB freeing a slot) got %r'
                       % ops[:3])
    finally:
        c.close()


@case('storm', 'limits', 'connection-storm-200')
def _storm(server, flavour):
    """200 connections at once against max_connections = 50."""
    want = b"-ERR 'maximum connections exceeded'"
    socks = []
    try:
        for _ in range(200):
            s = socket.socket()
            s.settimeout(5)
            s.connect(('127.0.0.1', server.port))
            s.setblocking(False)
            socks.append(s)
        # Every socket must end up either working (PONG) or closed.
        for s in socks:
            try:
                s.send(b'CONNECT {"verbose":false}\r\nPING\r\n')
            except OSError:
                pass
        state = {s: bytearray() for s in socks}
        result = {}
        deadline = time.time() + 20
        poller = select.poll()
        for s in socks:
            poller.register(s, select.POLLIN)
        while len(result) < len(socks) and time.time() < deadline:
            for fd, _ in poller.poll(200):
                s = next(x for x in socks if x.fileno() == fd)
                try:
                    d = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    d = b''
                if not d:
                    result[s] = 'closed'
                    poller.unregister(s)
                    continue
                state[s] += d
                if b'PONG\r\n' in state[s]:
                    result[s] = 'open'
                    poller.unregister(s)
        if len(result) < len(socks):
            raise Fail('%d connections neither answered nor closed in 20 s'
                       % (len(socks) - len(result)))
        opened = [s for s in socks if result[s] == 'open']
        closed = [s for s in socks if result[s] == 'closed']
        if len(opened) > 50 or len(closed) < 150:
            raise Fail('%d accepted, %d refused (max_connections 50)'
                       % (len(opened), len(closed)))
        bad = [bytes(state[s]) for s in closed
               if want not in bytes(state[s]).split(b'\r\n')]
        if bad:
            raise Fail('%d refused connections lacked %r, e.g. %r'
                       % (len(bad), want, bad[0][-80:]))
        if any(b'-ERR' in state[s] for s in opened):
            raise Fail('an accepted connection got an -ERR')
    finally:
        for s in socks:
            s.close()


@case('storm', 'limits', 'connection-churn-500')
def _churn(server, flavour):
    """500 connect/close cycles, half of them ending in a RST."""
    for i in range(500):
        s = socket.socket()
        s.settimeout(5)
        s.connect(('127.0.0.1', server.port))
        if i % 3 == 0:
            s.sendall(b'CONNECT {}\r\nSUB c.%d 1\r\n' % i)
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack('ii', 1, 0))
        s.close()


@case('storm', 'limits', 'garbage-blast-40')
def _garbage_blast(server, flavour):
    """40 connections each throw 256 KiB of garbage; all get closed."""
    rnd = random.Random(11)
    blob = bytes(rnd.randrange(256) for _ in range(4096)) * 64
    conns = [Conn(server) for _ in range(40)]
    try:
        for c in conns:
            c.send(blob)
        for c in conns:
            _, closed, _ = c.outcome(False, timeout=5)
            if not closed:
                raise Fail('a garbage-sending connection was left open')
    finally:
        for c in conns:
            c.close()


# --- slow consumers ---------------------------------------------------------

@case('slow-consumer', 'slow', 'slow-consumer-cut-reader-served')
def _slow_consumer(server, flavour):
    """One subscriber never reads, one reads; a publisher sends 64 MB as
    fast as it can.  The reader must get every message in order; the
    non-reader must be cut off (write_deadline 2 s; max_pending is left at
    its 64 MiB default so that a reader slower than the publisher is not
    cut for its lag); the publisher must stay connected."""
    n, size = 8000, 8192
    stuck = Conn(server, rcvbuf=4096)
    stuck.send(b'SUB slow.x 1\r\nPING\r\n')
    stuck.wait_pong()
    reader = Conn(server)
    reader.send(b'SUB slow.x 1\r\nPING\r\n')
    reader.wait_pong()
    pub = Conn(server)
    result = {}

    def read_all():
        seen, errs = 0, []
        try:
            while True:
                op = reader.read_op(timeout=30)
                if op[0] == 'MSG':
                    seq = int(op[4][:8])
                    if seq != seen:
                        errs.append('message %d arrived as #%d' % (seq, seen))
                        break
                    seen += 1
                elif op[1] == b'PONG':
                    break
                else:
                    errs.append(repr(op[:2]))
        except Exception as e:
            errs.append('reader: %s %s' % (type(e).__name__, e))
        result['seen'], result['errs'] = seen, errs

    t = threading.Thread(target=read_all, daemon=True)
    t.start()
    try:
        chunk = []
        for i in range(n):
            chunk.append(b'PUB slow.x %d\r\n%08d' % (size, i)
                         + b'p' * (size - 8) + b'\r\n')
            if len(chunk) == 8 or i == n - 1:
                if not pub.send(b''.join(chunk)):
                    raise Fail('publisher was disconnected at message %d' % i)
                chunk = []
        t_pub = time.time()
        pub.send(b'PING\r\n')
        try:
            pub.wait_pong(timeout=60)
        except Fail as e:
            raise Fail('publisher: %s' % e)
        reader.send(b'PING\r\n')
        t.join(60)
        if t.is_alive():
            raise Fail('reader still reading after 60 s')
        if result.get('errs') or result.get('seen') != n:
            raise Fail('reader got %d of %d: %s'
                       % (result.get('seen'), n, result.get('errs', [])[:2]))
        # The stuck subscriber: a server may notice the missed write deadline
        # only on a timer, so give it 3 s from the last publish; draining
        # the socket after that must end at the close.
        time.sleep(max(0.0, t_pub + 3.0 - time.time()))
        drained = 0
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                op = stuck.read_op(timeout=max(0.01, deadline - time.time()))
            except Closed:
                return
            except Fail:
                break
            drained += 1
        raise Fail('never-reading subscriber was not cut off (%d messages '
                   'still flowing to it)' % drained)
    finally:
        for c in (stuck, reader, pub):
            c.close()


# --- the runner -------------------------------------------------------------

def parse_args(argv):
    measure, only, server, fallback = False, None, None, None
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == '--measure':
            measure = True
        elif a == '--server' and args:
            server = args.pop(0)
        elif a == '--fallback-server' and args:
            fallback = args.pop(0)
        elif a == '--only' and args:
            only = args.pop(0)
        elif a.startswith('-'):
            sys.exit('usage: hostile.py [--measure] [--only SUBSTR] '
                     '[--server PATH | PATH] [--fallback-server PATH]')
        else:
            server = a
    server = server or os.environ.get('MN_TEST_SERVER') or fallback
    if not server:
        sys.exit('hostile.py: no server (argv, --server or MN_TEST_SERVER)')
    return server, measure, only


def run_case(server, flavour, fn):
    """Run one case, then require the server alive and healthy.  Returns
    (error or None, restart error or None); a dead server is restarted so
    the cases after it still run."""
    err = None
    try:
        fn(server, flavour)
    except Fail as e:
        err = str(e)
    except Exception as e:
        err = '%s: %s' % (type(e).__name__, e)
    if not server.alive():
        err = (err + '; ' if err else '') + 'SERVER DIED: ' + \
            '; '.join(server.stop())
        try:
            server.start()
        except Fail as e:
            return err, str(e)
        return err, None
    try:
        health(server)
    except Exception as e:
        err = (err + '; ' if err else '') + 'health check: %s' % e
    return err, None


def main(argv):
    if argv[:1] == ['--rr-client']:
        return rr_client_main(argv[1:])
    path, measure, only = parse_args(argv)
    flavour = flavour_of(path)
    print('# server %s (flavour %s)' % (path, flavour), flush=True)
    counts = [0, 0]
    table = []
    t_start = time.time()

    def report(name, err):
        counts[err is not None] += 1
        if err is None:
            print('ok    %s' % name, flush=True)
        else:
            print('FAIL  %s: %s' % (name, err), flush=True)

    servers = []
    try:
        for group, (config, creds) in GROUPS.items():
            cases = [c for c in CASES if c[1] == group
                     and (not only or only in c[2] or only in c[0])]
            if not cases:
                continue
            server = Server(path, flavour, group, config, creds)
            servers.append(server)
            try:
                server.start()
                if measure:
                    m = Measure(server)
                    time.sleep(2)
                    table.append(('baseline (no attack)', group, m.finish()))
            except Fail as e:
                for _, _, name, _ in cases:
                    report(name, 'server (%s) did not start: %s' % (group, e))
                continue
            families = []
            for c in cases:
                if not families or families[-1][0] != c[0]:
                    families.append((c[0], []))
                families[-1][1].append(c)
            down = None
            for family, fcases in families:
                m = Measure(server) if measure and not down else None
                t0, rep = time.time(), 0
                # --measure repeats a family for at least 3 s so that its
                # latency figures rest on enough samples; repeats report
                # only failures.
                while rep == 0 or (m and not down and rep < 100
                                   and time.time() - t0 < 3):
                    for _, _, name, fn in fcases:
                        if down:
                            if rep == 0:
                                report(name, 'not run: the server could not '
                                       'be restarted: %s' % down)
                            continue
                        err, down = run_case(server, flavour, fn)
                        if rep == 0 or err:
                            report(name + (' (repeat %d)' % rep if rep else ''),
                                   err)
                    rep += 1
                if m:
                    s = m.finish()
                    s['reps'] = rep
                    table.append((family, group, s))
            problems = server.stop()
            report('shutdown-%s-clean' % group,
                   '; '.join(problems) if problems else None)
    finally:
        for server in servers:
            server.cleanup()

    if measure:
        print_table(path, table)
    print('# %.1f s' % (time.time() - t_start))
    print('%d passed, %d failed' % (counts[0], counts[1]))
    return 1 if counts[1] else 0


def print_table(path, table):
    print('# --measure: request/reply latency (ms) during each attack family '
          'and server RSS (MiB), %s' % path)
    hdr = ('%-22s %-8s %4s %6s %5s %7s %7s %7s %8s %8s %8s'
           % ('attack', 'config', 'reps', 'rr', 'lost', 'p50', 'p99', 'max',
              'rss0', 'rssPeak', 'rss1'))
    print(hdr)
    print('-' * len(hdr))
    for fam, group, s in table:
        print('%-22s %-8s %4s %6s %5s %7.2f %7.2f %7.2f %8.1f %8.1f %8.1f%s'
              % (fam, group, s.get('reps', '-'), s.get('n', 0),
                 s.get('lost', 0),
                 s.get('p50', float('nan')), s.get('p99', float('nan')),
                 s.get('max', float('nan')), s['rss_before'] / 1024.0,
                 s['rss_peak'] / 1024.0, s['rss_after'] / 1024.0,
                 '  (rr: %s)' % s['error'] if s.get('error') else ''))


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
