#!/usr/bin/env python3
"""The client side of one renewal of bench/reaction (python3 stdlib only).

One process measures one renewal of one service:

1. it opens --sessions idle TLS client sessions to the service and brings
   each to its idle state (HTTPS: one request answered, the connection
   kept; IMAPS: logged in and in IDLE, or after the greeting when the
   login is refused; SMTP: EHLO, STARTTLS, EHLO), then creates --ready;
2. it waits for SIGUSR1: the bench has renewed the files on disk;
3. it takes the time of the renewal's last file operation from the
   modification time of --link (certbot re-makes live/fullchain.pem's link
   last), then either
   --watch LOG SERVICE: follows the daemon's stamped log, from where it
   ended when this process started, to "SERVICE: reload verified"; or to
   "certificate on disk changed" with no "reloading" after it within
   QUIET_S: the daemon found the new certificate served and did not
   reload ("noreload"); "reload failed" is a failure;
   --floor SETTLE_MS --reload ARGV...: does by hand what the daemon does:
   waits until SETTLE_MS after the renewal, runs the reload command, then
   probes on fresh connections, one every 20 ms (or right after the last
   when it took longer), until the new certificate is served;
4. right after that, --checks fresh connections one after another: how
   many got another certificate than --new, how many failed;
5. whether each held session still answers (HTTPS: a second request;
   IMAP: DONE then NOOP; SMTP: NOOP); then it closes them and makes
   --checks fresh connections again: what the server processes that held
   the sessions serve once they are free.

It prints one line:
   OUTCOME RENEWED DONE OLD FAILED DROPPED HELD OLD_LATER FIRST_NEW LINGER STATES
OUTCOME is verified, noreload or floor; RENEWED, DONE and FIRST_NEW are
milliseconds of the wall clock (as the daemon's log stamps carry); DONE is
the "reload verified" line, the "certificate on disk changed" line
(noreload), or the floor's first new certificate; OLD and FAILED count the
fresh connections of step 4 (FAILED also step 5's) that got an old
certificate or none; DROPPED of the HELD sessions did not answer;
OLD_LATER counts step 5's old certificates; FIRST_NEW is "-" unless
--trace (then, while following the log, the service is probed every 20 ms
too, and it is the first probe that saw the new certificate); LINGER is
how long after DONE the last old certificate of step 4 came, in ms, or
"-"; STATES the sessions' idle states.  On a failure it prints
"FAIL reason" and exits 1.

A probe is a TLS handshake with Python's ssl module (OpenSSL underneath):
SNI --name, no session resumption, the SHA-256 of the leaf's DER, which is
what `openssl x509 -fingerprint -sha256` prints; the bench checks that both
agree before measuring.  --probe s_client makes the floor's probes
`openssl s_client` runs instead.

--fingerprint KIND PORT NAME prints the leaf's fingerprint and exits;
--stamp copies stdin to stdout, each line prefixed with the wall clock in
milliseconds (the daemon's log, as tests/lib.sh's daemon_start stamps it).
"""

import argparse
import base64
import hashlib
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

IO_TIMEOUT = 10.0
POLL_S = 0.020


def now_ms():
    return time.time_ns() // 1000000


class Line:
    """A socket with a line reader that keeps what follows the line."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, text):
        self.sock.sendall(text.encode())

    def line(self):
        while b"\n" not in self.buf:
            if len(self.buf) > 65536:
                raise ValueError("line too long")
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("the server closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def exactly(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("the server closed the connection")
            self.buf += data
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE   # the fingerprint is what is compared
    return ctx


def smtp_reply(conn):
    """The last line of a (multi-line) SMTP reply."""
    while True:
        line = conn.line()
        if len(line) < 4 or line[3] != "-":
            return line


def connect(args):
    """A fresh TLS connection, after STARTTLS for smtp: a Line."""
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=IO_TIMEOUT)
    try:
        if args.kind == "smtp":
            plain = Line(sock)
            for step in (None, "EHLO bench.test\r\n", "STARTTLS\r\n"):
                if step:
                    plain.send(step)
                reply = smtp_reply(plain)
                if not reply.startswith("2"):
                    raise ValueError("SMTP said: " + reply)
        tls = tls_context().wrap_socket(sock, server_hostname=args.name)
    except BaseException:
        sock.close()
        raise
    return Line(tls)


def fingerprint(conn):
    return hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()


def probe_py(args):
    """The leaf's fingerprint on a fresh connection, None when it failed."""
    try:
        conn = connect(args)
    except (OSError, ValueError, EOFError):
        return None
    try:
        return fingerprint(conn)
    finally:
        conn.sock.close()


def probe_s_client(args):
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % args.port,
           "-servername", args.name]
    if args.kind == "smtp":
        cmd += ["-starttls", "smtp"]
    try:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=IO_TIMEOUT).stdout
    except subprocess.TimeoutExpired:
        return None
    m = re.search(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", out, re.S)
    if not m:
        return None
    return hashlib.sha256(base64.b64decode(b"".join(m.group(1).split()))).hexdigest()


# ---- held sessions: open to idle, later ask whether they still answer -----

def http_request(conn, name):
    conn.send("GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % name)
    status = conn.line()
    length = 0
    while True:
        header = conn.line()
        if not header:
            break
        key, _, value = header.partition(":")
        if key.strip().lower() == "content-length":
            length = int(value)
    conn.exactly(length)
    return status.startswith("HTTP/1.1 200")


def imap_until(conn, tag):
    while True:
        line = conn.line()
        if line.startswith(tag + " "):
            return line[len(tag) + 1:].startswith("OK")


def open_session(args):
    """A session brought to its idle state: (Line, state)."""
    conn = connect(args)
    if args.kind == "https":
        if not http_request(conn, args.name):
            raise ValueError("HTTP: no 200 to the first request")
        return conn, "keep-alive"
    if args.kind == "smtp":
        conn.send("EHLO bench.test\r\n")
        if not smtp_reply(conn).startswith("250"):
            raise ValueError("SMTP: EHLO after STARTTLS refused")
        return conn, "ehlo"
    if not conn.line().startswith("* OK"):
        raise ValueError("IMAP: no greeting")
    conn.send("a1 LOGIN %s %s\r\n" % (args.imap_user, args.imap_password))
    if not imap_until(conn, "a1"):
        return conn, "greeted"
    conn.send("a2 IDLE\r\n")
    if not conn.line().startswith("+"):
        raise ValueError("IMAP: IDLE refused")
    return conn, "idle"


def session_answers(args, conn, state):
    """Whether a held session still gives a valid answer."""
    try:
        if args.kind == "https":
            return http_request(conn, args.name)
        if args.kind == "smtp":
            conn.send("NOOP\r\n")
            return smtp_reply(conn).startswith("250")
        if state == "idle":
            conn.send("DONE\r\n")
            if not imap_until(conn, "a2"):
                return False
        conn.send("a3 NOOP\r\n")
        return imap_until(conn, "a3")
    except (OSError, ValueError, EOFError):
        return False


# ---- the steps after the renewal ---------------------------------------------

QUIET_S = 1.0   # after "certificate on disk changed", no reload within: none


def log_lines(path, offset, timeout):
    """The daemon's stamped lines from offset on, None while none is new."""
    deadline = time.monotonic() + timeout
    with open(path, "rb") as log:
        log.seek(offset)
        pending = b""
        while time.monotonic() < deadline:
            chunk = log.readline()
            pending += chunk
            if chunk and pending.endswith(b"\n"):
                yield pending.decode("utf-8", "replace")
                pending = b""
            elif not chunk:
                yield None
    raise RuntimeError("the daemon did not come to rest within %d s" % timeout)


def follow_log(args, offset):
    """("verified" or "noreload", ms, first new ms or None) from the log.

    "noreload": the daemon's look after the renewal found the new
    certificate served (the line "certificate on disk changed" with no
    "reloading" after it within QUIET_S), so it did not reload.
    """
    service = re.escape(args.watch[1])
    line_re = re.compile(r"^(\d+) certwatch: %s(/[^:]*)?: (reload verified|reload failed|"
                         r"the pair on disk is valid|certificate on disk changed)" % service)
    changed_ms, changed_at, reloading = None, 0.0, False
    first_new, next_probe = None, 0.0
    for line in log_lines(args.watch[0], offset, args.timeout):
        m = line_re.match(line) if line else None
        if m and m.group(3) == "reload failed":
            raise RuntimeError("the daemon logged: reload failed")
        if m and m.group(3) == "reload verified":
            return "verified", int(m.group(1)), first_new
        if m and m.group(3) == "the pair on disk is valid":
            reloading = True
        if m and m.group(3) == "certificate on disk changed":
            changed_ms, changed_at = int(m.group(1)), time.monotonic()
        if line:
            continue
        if changed_ms and not reloading and time.monotonic() - changed_at > QUIET_S:
            return "noreload", changed_ms, first_new
        if args.trace and first_new is None and time.monotonic() >= next_probe:
            next_probe = time.monotonic() + POLL_S
            if probe_py(args) == args.new:
                first_new = now_ms()
            continue
        time.sleep(0.002)
    raise RuntimeError("unreachable: log_lines raises at its deadline")


def floor(args, renewed_ms):
    """The time the new certificate was first served, reloading by hand."""
    wait = (renewed_ms + args.floor - now_ms()) / 1000.0
    if wait > 0:
        time.sleep(wait)
    r = subprocess.run(args.reload, stdin=subprocess.DEVNULL, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError("the reload command failed: %s" % r.stderr[-300:])
    probe = probe_s_client if args.probe == "s_client" else probe_py
    end = time.monotonic() + args.timeout
    while time.monotonic() < end:
        start = time.monotonic()
        if probe(args) == args.new:
            return now_ms()
        rest = start + POLL_S - time.monotonic()
        if rest > 0:
            time.sleep(rest)
    raise RuntimeError("the new certificate was not served within %d s" % args.timeout)


def fresh_checks(args):
    """(old, failed, ms of the last old one or None) of --checks probes."""
    old = failed = 0
    last_old = None
    for _ in range(args.checks):
        fp = probe_py(args)
        if fp is None:
            failed += 1
        elif fp != args.new:
            old += 1
            last_old = now_ms()
    return old, failed, last_old


def measure(args):
    offset = os.path.getsize(args.watch[0]) if args.watch else 0
    sessions = [open_session(args) for _ in range(args.sessions)]
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    with open(args.ready, "w"):
        pass
    signal.sigwait({signal.SIGUSR1})
    renewed_ms = os.lstat(args.link).st_mtime_ns // 1000000
    first_new = None
    if args.watch:
        outcome, done_ms, first_new = follow_log(args, offset)
    else:
        outcome, done_ms = "floor", floor(args, renewed_ms)
    old, failed, last_old = fresh_checks(args)
    dropped = sum(not session_answers(args, c, st) for c, st in sessions)
    for conn, _ in sessions:
        conn.sock.close()
    # What the processes that held the sessions serve once they are free.
    old_later, failed_later, _ = fresh_checks(args)
    states = sorted({st for _, st in sessions}) or ["none"]
    print(outcome, renewed_ms, done_ms, old, failed + failed_later, dropped, len(sessions),
          old_later, "-" if first_new is None else first_new,
          "-" if last_old is None else last_old - done_ms, ",".join(states))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("kind", choices=("https", "imaps", "smtp"))
    p.add_argument("port", type=int)
    p.add_argument("name")
    p.add_argument("--new", help="the renewed leaf's SHA-256, lower-case hex")
    p.add_argument("--link", help="the file whose mtime is the renewal's end")
    p.add_argument("--ready", help="created once the sessions are idle")
    p.add_argument("--sessions", type=int, default=4)
    p.add_argument("--checks", type=int, default=20)
    p.add_argument("--watch", nargs=2, metavar=("LOG", "SERVICE"))
    p.add_argument("--floor", type=int, metavar="SETTLE_MS")
    p.add_argument("--probe", choices=("python", "s_client"), default="python")
    p.add_argument("--trace", action="store_true")
    p.add_argument("--timeout", type=int, default=90)
    p.add_argument("--imap-user", default="bench")
    p.add_argument("--imap-password", default="test")
    p.add_argument("--fingerprint", action="store_true",
                   help="only print the served leaf's fingerprint and exit")
    p.add_argument("--reload", nargs=argparse.REMAINDER, metavar="ARGV",
                   help="the reload command of --floor: the rest of the line")
    args = p.parse_args()
    if not args.fingerprint and (bool(args.watch) == (args.floor is not None) or
                                 not (args.new and args.link and args.ready)):
        p.error("give --new, --link, --ready and one of --watch and --floor")
    if args.floor is not None and not args.reload:
        p.error("--floor needs the reload command: --reload ARGV...")
    return args


def stamp():
    """Each line of stdin, prefixed with the wall clock in ms as it is read."""
    for line in iter(sys.stdin.buffer.readline, b""):
        sys.stdout.buffer.write(b"%d " % now_ms() + line)
        sys.stdout.buffer.flush()


def main():
    if sys.argv[1:] == ["--stamp"]:
        stamp()
        return 0
    args = parse_args()
    if args.fingerprint:
        print(probe_py(args) or "")
        return 0
    try:
        measure(args)
    except (OSError, ValueError, EOFError, RuntimeError) as e:
        print("FAIL %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
