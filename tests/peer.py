#!/usr/bin/env python3
"""Scripted peers for certwatch's integration tests (python3 stdlib only).

One process serves one mode on one loopback port, one thread per
connection, until it is killed.  It writes --ready-file (or prints "ready")
once it listens.  STARTTLS modes run the server side of the protocol's
dialogue and then a real TLS handshake with --cert/--key on the accepted
socket; hostile modes misbehave in one specific way so that the client's
bounds and deadlines are exercised.

Every mode is written to satisfy both certwatch and `openssl s_client
-starttls PROTO` (OpenSSL 3.0), which the tests use as the reference.
"""

import argparse
import os
import random
import socket
import ssl
import sys
import threading
import time

LOG_LOCK = threading.Lock()


def log(*args):
    with LOG_LOCK:
        print(*args, file=sys.stderr, flush=True)


class Conn:
    """A plaintext connection with a line reader that keeps leftovers."""

    def __init__(self, sock, args):
        self.sock = sock
        self.args = args
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def recv_some(self, n=4096):
        data = self.sock.recv(n)
        if not data:
            raise EOFError("client closed")
        return data

    def line(self, limit=8192):
        """One line without its CRLF; EOFError when the client closes."""
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("client line too long")
            self.buf += self.recv_some()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def exactly(self, n):
        """n bytes, never reading past them: a MySQL client sends its
        ClientHello right after the SSLRequest without waiting, and those
        bytes must stay in the socket for the TLS layer."""
        while len(self.buf) < n:
            self.buf += self.recv_some(n - len(self.buf))
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def until(self, marker, limit=65536):
        """Everything up to and including marker (bytes)."""
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("client sent too much")
            self.buf += self.recv_some()
        i = self.buf.index(marker) + len(marker)
        data, self.buf = self.buf[:i], self.buf[i:]
        return data

    def start_tls(self):
        """The real handshake; the client's first TLS byte must be unread."""
        if self.buf:
            log("client sent plaintext after the STARTTLS command:", self.buf[:64])
            raise ValueError("plaintext injected before the handshake")
        if self.args.stall_tls:
            log("dialogue done; stalling the handshake")
            return self.hold()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.args.cert, self.args.key)
        if self.args.tls12:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if self.args.require_client_cert:
            # A server for client certificates only: a client without one
            # gets a fatal alert after the server's own certificate.
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.args.cert)
        tls = ctx.wrap_socket(self.sock, server_side=True)
        log("handshake done:", tls.version())
        # The probe closes after the handshake; wait for that, bounded.
        tls.settimeout(5)
        try:
            while tls.recv(4096):
                pass
        except (OSError, ssl.SSLError):
            pass
        tls.close()

    def hold(self, seconds=60):
        """Keep the connection open, reading and discarding, until EOF."""
        self.sock.settimeout(seconds)
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass


# ---- STARTTLS dialogues ---------------------------------------------------


def mode_tls(c):
    """Implicit TLS (any TLS server: nginx, imaps, smtps)."""
    c.start_tls()


class Reloader:
    """The certificate a reloading server serves, and how it changes.

    With --reload-file, it stands in for a server reloaded from outside
    (nginx -s reload, postfix reload): the pair is read again when that
    file's mtime changes.  Without it, for a server that picks up a renewal
    by itself (Exim, ProFTPD, INN's nnrpd): the pair is read again
    --self-reload seconds after the certificate file changed.  With
    --linger, for that many seconds after each reload every second
    connection still gets the old certificate, as from nginx's old workers
    or Postfix's old smtpd processes that have not exited yet.  With
    --reload-file and --fresh-processes, fresh connections also get a
    renewal that many seconds after the certificate file changed, before
    any reload: Postfix starts new smtpd processes, which read the new pair,
    while the ones started before are busy with long sessions (not
    modelled: no probe can reach them) and keep the old pair until
    `postfix reload`."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.ctx = self.load()
        self.old = None
        self.linger_until = 0.0
        self.count = 0
        self.trigger = self.mtime(args.reload_file) if args.reload_file else None
        self.cert_mtime = self.mtime(args.cert)
        self.due = None

    @staticmethod
    def mtime(path):
        try:
            return os.stat(path).st_mtime_ns
        except OSError:
            return None

    def load(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.args.cert, self.args.key)
        return ctx

    def reload(self, now):
        try:
            new = self.load()
        except (OSError, ssl.SSLError) as e:
            log("reload failed, keeping the old pair:", e)
            return
        self.old, self.ctx = self.ctx, new
        self.linger_until = now + self.args.linger
        log("reloaded; old certificate lingers", self.args.linger, "s")

    def follow_disk(self, now, delay):
        """Reads the pair again delay seconds after the certificate changed."""
        m = self.mtime(self.args.cert)
        if m != self.cert_mtime:
            self.cert_mtime = m
            self.due = now + delay
        if self.due is not None and now >= self.due:
            self.due = None
            self.reload(now)

    def context(self):
        now = time.monotonic()
        with self.lock:
            if self.args.reload_file:
                m = self.mtime(self.args.reload_file)
                if m != self.trigger:
                    self.trigger = m
                    self.reload(now)
                if self.args.fresh_processes is not None:
                    self.follow_disk(now, self.args.fresh_processes)
            else:
                self.follow_disk(now, self.args.self_reload)
            self.count += 1
            if self.old and now < self.linger_until and self.count % 2 == 0:
                return self.old
            return self.ctx


RELOADER = None


def mode_reloading(c):
    """A TLS server whose reloads are not instant (see Reloader)."""
    tls = RELOADER.context().wrap_socket(c.sock, server_side=True)
    tls.settimeout(5)
    try:
        while tls.recv(4096):
            pass
    except (OSError, ssl.SSLError):
        pass
    tls.close()


def mode_ftp(c, offer=True):
    """vsftpd / ProFTPD: 220 greeting, FEAT lists AUTH TLS, AUTH TLS -> 234."""
    name = c.args.name
    c.send("220 %s FTP server (ProFTPD) ready.\r\n" % name)
    while True:
        cmd = c.line()
        verb = cmd.split(" ", 1)[0].upper()
        if verb == "FEAT":
            feats = " MDTM\r\n SIZE\r\n UTF8\r\n"
            if offer:
                feats = " AUTH TLS\r\n PBSZ\r\n PROT\r\n" + feats
            c.send("211-Features:\r\n" + feats + "211 End\r\n")
        elif verb == "AUTH" and offer and cmd[5:].strip().upper() in ("TLS", "SSL"):
            c.send("234 AUTH TLS successful\r\n")
            return c.start_tls()
        elif verb == "AUTH":
            c.send("500 AUTH not understood\r\n")
        elif verb == "QUIT":
            c.send("221 Goodbye.\r\n")
            return
        else:
            c.send("530 Please login with USER and PASS.\r\n")


def mode_ftp_no_starttls(c):
    """vsftpd with ssl_enable=NO: no AUTH TLS in FEAT, AUTH refused."""
    mode_ftp(c, offer=False)


XMPP_TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"


def _xmpp(c, ns):
    """Prosody / ejabberd: stream header, features with <starttls/>, proceed.

    The server's stream header and features go out in one write: OpenSSL's
    s_client looks for the <starttls element within a single read.
    """
    header = c.until(b">").decode("utf-8", "replace")
    if header.startswith("<?xml"):
        header = c.until(b">").decode("utf-8", "replace")
    if "<stream:stream" not in header:
        c.send("<stream:error><bad-format xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
               "</stream:error>")
        return
    c.send("<?xml version='1.0'?><stream:stream xmlns='%s' "
           "xmlns:stream='http://etherx.jabber.org/streams' id='c2s-peer' "
           "from='%s' version='1.0'><stream:features>"
           "<starttls xmlns='%s'><required/></starttls>"
           "</stream:features>" % (ns, c.args.name, XMPP_TLS_NS))
    req = c.until(b">").decode("utf-8", "replace")
    if "<starttls" not in req:
        c.send("<stream:error><not-authorized "
               "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")
        return
    if not req.rstrip().endswith("/>"):
        c.until(b"</starttls>")
    c.send("<proceed xmlns='%s'/>" % XMPP_TLS_NS)
    c.start_tls()


def mode_xmpp(c):
    """Prosody / ejabberd, client-to-server (jabber:client, port 5222)."""
    _xmpp(c, "jabber:client")


def mode_xmpp_server(c):
    """Prosody / ejabberd, server-to-server (jabber:server, port 5269)."""
    _xmpp(c, "jabber:server")


LDAP_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"


def _ber_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _ber_read(c):
    """One BER element (tag, definite length) as (tag, content)."""
    tag = c.exactly(1)[0]
    first = c.exactly(1)[0]
    if first < 0x80:
        length = first
    else:
        nbytes = first & 0x7F
        if nbytes == 0 or nbytes > 4:
            raise ValueError("unsupported BER length")
        length = int.from_bytes(c.exactly(nbytes), "big")
    if length > 65536:
        raise ValueError("BER element too long")
    return tag, c.exactly(length)


def mode_ldap(c):
    """OpenLDAP slapd: ExtendedRequest StartTLS -> ExtendedResponse success.

    The response carries resultCode 0, empty matchedDN and diagnostic
    message, and the StartTLS OID as responseName (RFC 4511, 4.14.2), as
    slapd sends it.
    """
    tag, body = _ber_read(c)
    if tag != 0x30:
        raise ValueError("not an LDAPMessage")
    # messageID: INTEGER, echoed back as it came.
    if body[0] != 0x02:
        raise ValueError("no messageID")
    idlen = body[1]
    msgid = body[2:2 + idlen]
    op = body[2 + idlen:]
    if op[:1] != b"\x77" or LDAP_STARTTLS_OID not in op:
        log("not a StartTLS request:", op[:32])
        result = b"\x0a\x01\x02"      # protocolError
    else:
        result = b"\x0a\x01\x00"      # success
    resp = (result + b"\x04\x00" + b"\x04\x00" +
            b"\x8a" + _ber_len(len(LDAP_STARTTLS_OID)) + LDAP_STARTTLS_OID)
    ext = b"\x78" + _ber_len(len(resp)) + resp
    msg = b"\x02" + _ber_len(len(msgid)) + msgid + ext
    c.send(b"\x30" + _ber_len(len(msg)) + msg)
    if result[2] == 0:
        c.start_tls()


def mode_postgres(c):
    """PostgreSQL: SSLRequest (80877103) answered with 'S', then TLS."""
    req = c.exactly(8)
    length = int.from_bytes(req[:4], "big")
    code = int.from_bytes(req[4:], "big")
    if length != 8 or code != 80877103:
        log("not an SSLRequest:", req)
        c.send(b"N")
        return
    c.send(b"S")
    c.start_tls()


def mode_mysql(c):
    """MariaDB: initial handshake v10 with CLIENT_SSL; TLS after SSLRequest.

    The handshake packet goes out in one write: OpenSSL's s_client parses
    it from a single read.  The client's SSLRequest is a 32-byte packet
    (sequence 1) with CLIENT_SSL set; the TLS handshake follows at once.
    """
    CLIENT_LONG_PASSWORD = 0x0001
    CLIENT_PROTOCOL_41 = 0x0200
    CLIENT_SSL = 0x0800
    CLIENT_TRANSACTIONS = 0x2000
    CLIENT_SECURE_CONNECTION = 0x8000
    CLIENT_PLUGIN_AUTH = 0x80000
    caps = (CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL |
            CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH)
    salt = bytes(random.randrange(33, 127) for _ in range(20))
    payload = (b"\x0a" + b"5.5.5-10.11.6-MariaDB-0+deb12u1\x00" +
               (42).to_bytes(4, "little") + salt[:8] + b"\x00" +
               (caps & 0xFFFF).to_bytes(2, "little") + b"\x21" +
               (0x0002).to_bytes(2, "little") +
               (caps >> 16).to_bytes(2, "little") + bytes([21]) +
               b"\x00" * 10 + salt[8:] + b"\x00" +
               b"mysql_native_password\x00")
    c.send(len(payload).to_bytes(3, "little") + b"\x00" + payload)
    hdr = c.exactly(4)
    length = int.from_bytes(hdr[:3], "little")
    body = c.exactly(length)
    client_caps = int.from_bytes(body[:4], "little") if length >= 4 else 0
    if hdr[3] != 1 or not client_caps & CLIENT_SSL:
        log("client did not ask for TLS: seq", hdr[3], "caps", hex(client_caps))
        return
    c.start_tls()


def mode_nntp(c):
    """INN (nnrpd): 200 greeting, CAPABILITIES lists STARTTLS, 382, TLS."""
    name = c.args.name
    c.send("200 %s InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n" % name)
    while True:
        cmd = c.line()
        verb = cmd.split(" ", 1)[0].upper()
        if verb == "CAPABILITIES":
            c.send("101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\n"
                   "AUTHINFO\r\nHDR\r\nLIST ACTIVE NEWSGROUPS\r\nOVER\r\nPOST\r\n"
                   "READER\r\nSTARTTLS\r\n.\r\n")
        elif verb == "STARTTLS":
            c.send("382 Begin TLS negotiation now\r\n")
            return c.start_tls()
        elif verb == "QUIT":
            c.send("205 Bye!\r\n")
            return
        else:
            c.send("500 What?\r\n")


def mode_irc(c):
    """InspIRCd / UnrealIRCd (IRCv3 tls): STARTTLS -> numeric 670, then TLS.

    Nothing is sent before the client speaks: OpenSSL's s_client stops
    reading at the first line without a numeric, so a NOTICE greeting
    would make the reference tool fail, not the probe.
    """
    name = c.args.name
    while True:
        cmd = c.line()
        parts = cmd.split(" ")
        verb = parts[0].upper()
        if verb == "CAP" and len(parts) > 1 and parts[1].upper() == "LS":
            c.send(":%s CAP * LS :tls multi-prefix sasl\r\n" % name)
        elif verb == "CAP":
            pass
        elif verb == "STARTTLS":
            c.send(":%s 670 * :STARTTLS successful, proceed with TLS handshake\r\n" % name)
            return c.start_tls()
        elif verb in ("NICK", "USER", "PASS"):
            pass
        elif verb == "QUIT":
            return
        else:
            c.send(":%s 421 * %s :Unknown command\r\n" % (name, parts[0]))


def mode_smtp_no_starttls(c):
    """Postfix with smtpd_tls_security_level = none: no STARTTLS in EHLO."""
    name = c.args.name
    c.send("220 %s ESMTP Postfix (Debian/GNU)\r\n" % name)
    while True:
        cmd = c.line()
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "LHLO"):
            c.send("250-%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n"
                   "250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
                   "250 DSN\r\n" % name)
        elif verb == "HELO":
            c.send("250 %s\r\n" % name)
        elif verb == "QUIT":
            c.send("221 2.0.0 Bye\r\n")
            return
        else:
            c.send("502 5.5.1 Error: command not implemented\r\n")


def mode_imap_no_starttls(c):
    """Dovecot with ssl = no: no STARTTLS capability, STARTTLS refused."""
    caps = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN"
    c.send("* OK [CAPABILITY %s] Dovecot (Debian) ready.\r\n" % caps)
    while True:
        cmd = c.line()
        parts = cmd.split(" ")
        tag = parts[0]
        verb = parts[1].upper() if len(parts) > 1 else ""
        if verb == "CAPABILITY":
            c.send("* CAPABILITY %s\r\n%s OK Pre-login capabilities listed, post-login "
                   "capabilities have more.\r\n" % (caps, tag))
        elif verb == "LOGOUT":
            c.send("* BYE Logging out\r\n%s OK Logout completed.\r\n" % tag)
            return
        else:
            c.send("%s BAD Error in IMAP command %s: Unknown command.\r\n" % (tag, verb))


# ---- hostile peers ----------------------------------------------------------


def mode_endless_banner(c):
    """A broken or malicious SMTP server: "220-" continuation lines forever.

    --interval 0 floods (the client's preamble bound must end it);
    a positive interval trickles (the client's deadline must end it).
    """
    n = 0
    try:
        while True:
            c.send("220-%s ESMTP continuation line %d of an endless banner\r\n"
                   % (c.args.name, n))
            n += 1
            if c.args.interval > 0:
                time.sleep(c.args.interval)
    except OSError:
        log("endless-banner: client left after %d lines" % n)


def mode_long_line(c):
    """An SMTP server whose banner is 100000 bytes with no newline, then silence."""
    try:
        c.send("220 " + "x" * 99996)
    except OSError:
        pass
    c.hold()


def mode_garbage_tls(c):
    """A plain-HTTP server (or random noise) where TLS was expected.

    Like nginx on a port without `ssl`: the ClientHello is answered with
    400 Bad Request and the connection is closed.  --random sends random
    bytes instead.
    """
    try:
        c.recv_some()
        if c.args.random:
            # Byte 0 is no TLS record type, so the client cannot take the
            # noise for an alert by chance: the outcome is deterministic.
            c.send(b"\x00" + os.urandom(4095))
        else:
            c.send("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n"
                   "Connection: close\r\n\r\n")
    except (OSError, EOFError):
        pass


def mode_stall_handshake(c):
    """Accepts, reads the ClientHello, never answers (a wedged TLS server)."""
    c.hold()


def mode_close_silently(c):
    """Accepts, reads the ClientHello and closes without a word."""
    c.recv_some()


def mode_stall_banner(c):
    """Accepts, says nothing (a wedged line-protocol server, before its banner)."""
    c.hold()


def mode_blackhole(c):
    """Never reached: see blackhole() below."""
    c.hold()


def blackhole(srv, args):
    """A listener whose accept queue is full and never drained: the kernel
    drops every further SYN, as a dead host or a firewall's DROP would
    (no RST, no answer).  The queue of a listen(0) socket holds one
    connection; a few more, still retrying their SYNs, keep it full."""
    fam = srv.family
    fillers = []
    for _ in range(3):
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect((args.host, args.port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.2)     # the first handshake completes and fills the queue
    return fillers


MODES = {
    "blackhole": mode_blackhole,
    "tls": mode_tls,
    "ftp": mode_ftp,
    "ftp-no-starttls": mode_ftp_no_starttls,
    "xmpp": mode_xmpp,
    "xmpp-server": mode_xmpp_server,
    "ldap": mode_ldap,
    "postgres": mode_postgres,
    "mysql": mode_mysql,
    "nntp": mode_nntp,
    "irc": mode_irc,
    "smtp-no-starttls": mode_smtp_no_starttls,
    "imap-no-starttls": mode_imap_no_starttls,
    "endless-banner": mode_endless_banner,
    "long-line": mode_long_line,
    "garbage-tls": mode_garbage_tls,
    "stall-handshake": mode_stall_handshake,
    "stall-banner": mode_stall_banner,
    "reloading": mode_reloading,
    "close-silently": mode_close_silently,
}


def serve_one(sock, addr, args):
    conn = Conn(sock, args)
    sock.settimeout(60)     # no thread outlives a forgotten client for long
    try:
        MODES[args.mode](conn)
    except EOFError:
        log(addr, "client closed")
    except (OSError, ValueError, ssl.SSLError) as e:
        log(addr, "ended:", e)
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", required=True, choices=sorted(MODES))
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cert", help="certificate chain (PEM) for the TLS handshake")
    ap.add_argument("--key", help="private key (PEM)")
    ap.add_argument("--name", default="peer.test", help="server name in banners")
    ap.add_argument("--interval", type=float, default=0.0,
                    help="endless-banner: seconds between lines")
    ap.add_argument("--random", action="store_true",
                    help="garbage-tls: random bytes instead of an HTTP 400")
    ap.add_argument("--stall-tls", action="store_true",
                    help="STARTTLS modes: after the dialogue, never answer the ClientHello")
    ap.add_argument("--tls12", action="store_true",
                    help="TLS modes: at most TLS 1.2")
    ap.add_argument("--require-client-cert", action="store_true",
                    help="TLS modes: refuse a client without a certificate")
    ap.add_argument("--ready-file", help="created once listening")
    ap.add_argument("--log-connections", action="store_true",
                    help='log "connection MS" (wall clock) for every connection accepted')
    ap.add_argument("--reload-file",
                    help="reloading: read the pair again when this file changes")
    ap.add_argument("--self-reload", type=float, default=2.0,
                    help="reloading without --reload-file: seconds after the certificate "
                         "file changed that the server reads it again by itself")
    ap.add_argument("--fresh-processes", type=float,
                    help="reloading with --reload-file: seconds after the certificate file "
                         "changed that fresh connections get it, before any reload")
    ap.add_argument("--linger", type=float, default=0.0,
                    help="reloading: seconds after a reload during which every second "
                         "connection still gets the old certificate")
    args = ap.parse_args()
    if args.mode == "reloading":
        global RELOADER
        RELOADER = Reloader(args)

    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, args.port))
    srv.listen(0 if args.mode == "blackhole" else 64)
    if args.mode == "blackhole":
        fillers = blackhole(srv, args)
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("%d\n" % os.getpid())
    else:
        print("ready", flush=True)
    log("listening on", args.host, args.port, "mode", args.mode)
    while args.mode == "blackhole":
        time.sleep(3600)
        log("still holding", len(fillers), "connections")
    while True:
        sock, addr = srv.accept()
        if args.log_connections:
            log("connection", time.time_ns() // 1000000)
        threading.Thread(target=serve_one, args=(sock, addr, args), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
