#!/usr/bin/env python3
"""A misbehaving L2TPv2 LAC with a native-PPP client, on plain UDP sockets, for measuring what
one noisy peer costs an l2tpd LNS and its other peers (docs/robustness.md, "Floods").

It sets up a tunnel and a session, runs PPP (LCP, CHAP-MD5, IPCP) up, then makes noise of one
kind for a bounded time or count and prints a JSON summary:

  reneg     an LCP Configure-Request each time the link is up again (renegotiation loop)
  echo      LCP Echo-Requests as fast as the socket takes them
  ipcp      IPCP Configure-Requests in Opened as fast as the socket takes them
  badchap   a wrong CHAP Response to every Challenge; on each CDN, a new session (retry)
  churn     sessions opened (ICRQ, ICCN) and closed (CDN) one after the other
  hello     HELLOs, each a new control message
  zlb       ZLBs acknowledging what was received
  dup       the ICCN sent again and again with its own Ns (duplicates)

Usage: noisy-peer.py LNS_ADDR MODE SECONDS MAX_PACKETS USER PASSWORD
"""

import hashlib
import json
import select
import socket
import struct
import sys
import time

SCCRQ, SCCRP, SCCCN, STOPCCN, HELLO, ICRQ, ICRP, ICCN, CDN = 1, 2, 3, 4, 6, 10, 11, 12, 14
LCP, PAP, CHAP, IPCP, IPV6CP = 0xC021, 0xC023, 0xC223, 0x8021, 0x8057


def avp(attr, value, m=True):
    return struct.pack("!HHH", (0x8000 if m else 0) | (6 + len(value)), 0, attr) + value


def mt(t):
    return avp(0, struct.pack("!H", t))


def ppp(proto, code, ident, data=b""):
    return b"\xff\x03" + struct.pack("!HBBH", proto, code, ident, 4 + len(data)) + data


class Peer:
    def __init__(self, lns, user, password):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", 0))
        self.dst = (lns, 1701)
        self.user, self.password = user.encode(), password.encode()
        self.ns = self.nr = 0
        self.tid = 0  # the LNS's tunnel id
        self.sid = 0  # the LNS's session id
        self.our_sid = 0
        self.sent = 0
        self.ppp_id = 1
        self.reset_ppp()
        self.cdns = 0
        self.stopped = False
        self.rx_frames = 0
        self.echo_replies = 0
        self.terminate = None

    def reset_ppp(self):
        self.lcp_acked = self.lcp_ack_sent = self.lcp_sent = False
        self.auth_ok = False
        self.ipcp_acked = self.ipcp_ack_sent = False
        self.addr = b"\0\0\0\0"
        self.ups = getattr(self, "ups", 0)

    # -- L2TP control
    def control(self, tid, sid, body, bump=True):
        msg = struct.pack("!HHHHHH", 0xC802, 12 + len(body), tid, sid, self.ns, self.nr) + body
        if bump and body:
            self.ns = (self.ns + 1) & 0xFFFF
        self.sock.sendto(msg, self.dst)
        self.sent += 1
        return msg

    def zlb(self):
        self.control(self.tid, 0, b"", bump=False)

    def data(self, frame):
        self.sock.sendto(struct.pack("!HHH", 0x0002, self.tid, self.sid) + frame, self.dst)
        self.sent += 1

    def recv(self, timeout):
        """One datagram's (kind, tid, sid, msgtype or frame, avps) or None."""
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return None
        pkt, src = self.sock.recvfrom(65536)
        flags = struct.unpack("!H", pkt[:2])[0]
        if flags & 0x8000:
            _, length, tid, sid, ns, nr = struct.unpack("!HHHHHH", pkt[:12])
            if src != self.dst and self.tid == 0:
                self.dst = src
            body = pkt[12:length]
            if not body:
                return ("zlb", tid, sid, None, {})
            if ns == self.nr:
                self.nr = (self.nr + 1) & 0xFFFF
            avps, i = {}, 0
            while i + 6 <= len(body):
                fl, vendor, attr = struct.unpack("!HHH", body[i : i + 6])
                n = fl & 0x3FF
                if n < 6:
                    break
                if vendor == 0:
                    avps[attr] = body[i + 6 : i + n]
                i += n
            t = struct.unpack("!H", avps.get(0, b"\0\0"))[0]
            self.zlb()
            return ("ctl", tid, sid, t, avps)
        off = 2
        if flags & 0x4000:
            off += 2
        tid, sid = struct.unpack("!HH", pkt[off : off + 4])
        off += 4
        if flags & 0x0800:
            off += 4
        if flags & 0x0200:
            off += 2 + struct.unpack("!H", pkt[off : off + 2])[0]
        return ("data", tid, sid, pkt[off:], {})

    def wait_ctl(self, want, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = self.recv(end - time.monotonic())
            if r and r[0] == "ctl":
                if r[3] == want:
                    return r
                self.on_ctl(r)
            elif r and r[0] == "data":
                self.on_frame(r[3])
        raise SystemExit(f"no message type {want}")

    def on_ctl(self, r):
        if r[3] == CDN:
            self.cdns += 1
            self.sid = 0
        elif r[3] == STOPCCN:
            self.stopped = True

    def establish(self):
        self.control(0, 0, mt(SCCRQ) + avp(2, b"\x01\x00") + avp(7, b"noisy-peer")
                     + avp(3, struct.pack("!I", 3)) + avp(9, struct.pack("!H", 4242)))
        r = self.wait_ctl(SCCRP)
        self.tid = struct.unpack("!H", r[4][9])[0]
        self.control(self.tid, 0, mt(SCCCN))

    def open_session(self):
        self.our_sid = self.our_sid % 60000 + 1
        self.control(self.tid, 0, mt(ICRQ) + avp(14, struct.pack("!H", self.our_sid))
                     + avp(15, struct.pack("!I", 7)))
        r = self.wait_ctl(ICRP)
        self.sid = struct.unpack("!H", r[4][14])[0]
        self.iccn = self.control(self.tid, self.sid, mt(ICCN) + avp(24, struct.pack("!I", 10_000_000))
                                 + avp(19, struct.pack("!I", 1)))
        self.reset_ppp()

    def close_session(self):
        self.control(self.tid, self.sid, mt(CDN) + avp(1, struct.pack("!H", 3))
                     + avp(14, struct.pack("!H", self.our_sid)))
        self.sid = 0

    # -- PPP client
    def next_id(self):
        self.ppp_id = self.ppp_id % 255 + 1
        return self.ppp_id

    def lcp_request(self):
        self.lcp_sent = True
        self.data(ppp(LCP, 1, self.next_id(), b"\x05\x06" + struct.pack("!I", 0x4E015E00 + self.ppp_id)))

    def up(self):
        return self.lcp_acked and self.lcp_ack_sent and self.auth_ok and self.ipcp_acked and self.ipcp_ack_sent

    def on_frame(self, f):
        self.rx_frames += 1
        if f[:2] == b"\xff\x03":
            f = f[2:]
        if len(f) < 6:
            return
        proto, code, ident, length = struct.unpack("!HBBH", f[:6])
        data = f[6 : 2 + length]
        if proto == LCP:
            if code == 1:  # Configure-Request: take whatever the LNS asks for
                was_up = self.lcp_acked and self.lcp_ack_sent
                self.data(ppp(LCP, 2, ident, data))
                self.lcp_ack_sent = True
                if was_up:
                    # The LNS starts over: so do we.
                    self.lcp_acked = False
                    self.auth_ok = self.ipcp_acked = self.ipcp_ack_sent = False
                    self.lcp_request()
                elif not self.lcp_sent:
                    self.lcp_request()
            elif code == 2:
                self.lcp_acked = True
            elif code == 5:
                self.terminate = data.decode(errors="replace")
                self.data(ppp(LCP, 6, ident))
            elif code == 9:
                self.data(ppp(LCP, 10, ident, b"\0\0\0\0" + data[4:]))
            elif code == 10:
                self.echo_replies += 1
        elif proto == CHAP and code == 1:
            vlen = data[0]
            challenge = data[1 : 1 + vlen]
            secret = self.password if self.mode != "badchap" else b"wrong-" + self.password
            resp = hashlib.md5(bytes([ident]) + secret + challenge).digest()
            self.data(ppp(CHAP, 2, ident, bytes([16]) + resp + self.user))
        elif proto == CHAP and code == 3:
            self.auth_ok = True
            self.ipcp_request()
        elif proto == IPCP:
            if code == 1:
                self.data(ppp(IPCP, 2, ident, data))
                self.ipcp_ack_sent = True
            elif code == 2:
                self.ipcp_acked = True
            elif code == 3:  # Nak: take the address offered
                if len(data) >= 6 and data[0] == 3:
                    self.addr = data[2:6]
                self.ipcp_request()
        elif proto == IPV6CP and code == 1:
            self.data(ppp(LCP, 8, self.next_id(), f[:2] + data))  # Protocol-Reject

    def ipcp_request(self):
        self.data(ppp(IPCP, 1, self.next_id(), b"\x03\x06" + self.addr))

    def pump(self, until):
        while True:
            left = until - time.monotonic()
            r = self.recv(left if left > 0 else 0)
            if r is None:
                return
            if r[0] == "ctl":
                self.on_ctl(r)
            elif r[0] == "data":
                self.on_frame(r[3])

    def bring_up(self, timeout=10.0):
        end = time.monotonic() + timeout
        while not self.up() and time.monotonic() < end and self.sid:
            self.pump(min(end, time.monotonic() + 0.05))
        return self.up()


def main():
    lns, mode, seconds, max_packets, user, password = sys.argv[1:7]
    seconds, max_packets = float(seconds), int(max_packets)
    p = Peer(lns, user, password)
    p.mode = mode
    p.establish()
    p.open_session()
    t0 = time.monotonic()
    first_up = p.bring_up()
    out = {"mode": mode, "first_up": first_up, "setup_s": round(time.monotonic() - t0, 3)}
    start_sent = p.sent
    end = time.monotonic() + seconds
    rounds = 0
    if mode == "reneg":
        while time.monotonic() < end and p.sid and p.sent - start_sent < max_packets:
            if p.up():
                rounds += 1
                p.lcp_acked = p.lcp_ack_sent = p.auth_ok = p.ipcp_acked = p.ipcp_ack_sent = False
                p.lcp_request()
            p.pump(time.monotonic() + 0.002)
        out["rounds_started"] = rounds
    elif mode in ("echo", "ipcp"):
        i = 0
        while time.monotonic() < end and p.sid and p.sent - start_sent < max_packets:
            i += 1
            if mode == "echo":
                p.data(ppp(LCP, 9, i & 0xFF, b"\x12\x34\x56\x78"))
            else:
                p.data(ppp(IPCP, 1, i & 0xFF, b"\x03\x06" + p.addr))
            if i % 64 == 0:
                p.pump(time.monotonic())
        p.pump(time.monotonic() + 1.0)
    elif mode == "badchap":
        attempts = 0
        while time.monotonic() < end and p.sent - start_sent < max_packets and not p.stopped:
            if not p.sid:
                attempts += 1
                p.open_session()
            p.pump(time.monotonic() + 0.01)
        out["attempts"] = attempts
    elif mode == "churn":
        while time.monotonic() < end and p.sent - start_sent < max_packets and not p.stopped:
            if p.sid:
                p.close_session()
            p.open_session()
            rounds += 1
            p.pump(time.monotonic())
        out["sessions_opened"] = rounds
    elif mode in ("hello", "zlb", "dup"):
        i = 0
        while time.monotonic() < end and p.sent - start_sent < max_packets and not p.stopped:
            i += 1
            if mode == "hello":
                p.control(p.tid, 0, mt(HELLO))
            elif mode == "zlb":
                p.zlb()
            else:
                p.sock.sendto(p.iccn, p.dst)
                p.sent += 1
            if i % 64 == 0:
                p.pump(time.monotonic())
        p.pump(time.monotonic() + 1.0)
    out.update(
        sent=p.sent - start_sent,
        seconds=round(seconds - max(0.0, end - time.monotonic()), 2),
        cdns=p.cdns,
        stopccn=p.stopped,
        still_up=p.up() and bool(p.sid),
        echo_replies=p.echo_replies,
        frames_received=p.rx_frames,
        terminate=p.terminate,
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
