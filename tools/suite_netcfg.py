"""Network configuration you can see and use (issue 9): BusyBox ifconfig, route and netstat
show inet's state and root can change it; ping over the loopback; /etc/hosts; name resolution
through a tiny DNS responder of this test's own; UDP with the host.

Where traffic goes: QEMU's user networking with restrict=on drops every UDP datagram the guest
sends (DHCP and TFTP aside), and guestfwd is TCP only, so UDP with the host needs slirp
unrestricted. To keep every packet on this machine anyway, QEMU runs in a network namespace of
its own (`unshare --net`: only a loopback interface, so the host's real interfaces and
resolver are out of reach), and so do this test's servers: a DNS responder on 127.0.0.1:53, a
UDP echo server on 127.0.0.1:7 and an HTTP server on 127.0.0.1:80, which the guest reaches as
10.0.2.2 (slirp sends the host alias to 127.0.0.1). The namespace needs root (CAP_SYS_ADMIN);
without it the suite fails with a clear message instead of sending anything. slirp's own DNS
10.0.2.3 would forward to the host's resolver: /etc/resolv.conf never names it, and in the
namespace it reaches nothing anyway.

Called by tools/test.py as run(record, module); `python3 tools/suite_netcfg.py --servers` is
the namespace's server process."""
import http.server
import os
import socket
import struct
import subprocess
import sys
import threading
import time

from qemu import Boot, qemu_command, run_boot

PROMPT = "# "
HELLO = "hello-from-the-host"
# Names only the responder knows, and their addresses.
NAMES = {"web.samsara.test": "10.0.2.2", "only.samsara.test": "10.9.8.7"}


def say(text):
    print(text, flush=True)


def dns_answer(query):
    """The response to one DNS query (RFC 1035): an A record for a name of NAMES, an empty
    answer for its other types, NXDOMAIN for other names; None for garbage."""
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack(">HHH", query[:6])
    at, labels = 12, []
    while at < len(query) and query[at]:
        n = query[at]
        labels.append(query[at + 1:at + 1 + n].decode("ascii", "replace").lower())
        at += 1 + n
    if qdcount != 1 or at + 5 > len(query):
        return None
    question = query[12:at + 5]
    qtype, = struct.unpack(">H", query[at + 1:at + 3])
    name = ".".join(labels)
    say(f"dns-query {name} {qtype}")
    answers = b""
    rcode = 0 if name in NAMES else 3
    if name in NAMES and qtype == 1:
        answers = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(NAMES[name])
    head = struct.pack(">HHHHHH", qid, 0x8000 | (flags & 0x7900) | 0x0080 | rcode, 1,
                       1 if answers else 0, 0, 0)
    return head + question + answers


def udp_server(port, answer):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))

    def loop():
        while True:
            data, peer = s.recvfrom(65535)
            reply = answer(data)
            if reply is not None:
                s.sendto(reply, peer)
    threading.Thread(target=loop, daemon=True).start()


def echo(data):
    say(f"udp-echo {len(data)} {data[:32].decode('ascii', 'replace').strip()}")
    return data


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (HELLO + "\n").encode()
        self.send_response(200 if self.path == "/hello" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def servers():
    """In the namespace: loopback up, the three servers, then wait for stdin to close."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    udp_server(53, dns_answer)
    udp_server(7, echo)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 80), Hello)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    say("ready")
    sys.stdin.read()


class Namespace:
    """The server process in a new network namespace; its output lines in self.lines."""

    def __init__(self):
        here = os.path.abspath(__file__)
        self.proc = subprocess.Popen(["unshare", "--net", "--", sys.executable, here, "--servers"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # gone
            self.cond.notify_all()

    def ready(self, timeout=10):
        with self.cond:
            self.cond.wait_for(lambda: "ready" in self.lines or None in self.lines, timeout)
            return "ready" in self.lines

    def saw(self, prefix, timeout=3):
        """The lines starting with prefix, waiting up to timeout s for one: the guest can get
        the answer before this thread has read the server's line out of the pipe."""
        def found():
            return [l for l in self.lines if l and l.startswith(prefix)]
        with self.cond:
            self.cond.wait_for(lambda: found() or None in self.lines, timeout)
            return found()

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(5)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            self.proc.kill()


def check(record, boot, name, command, expect, timeout=30):
    out = boot.run(command, PROMPT, timeout)
    if out is None:
        record(name, False, f"no prompt after {command!r}", boot.tail())
        return None
    out = [line for line in out if not line.startswith(("root: ", "kernel: "))]
    ok = expect(out)
    record(name, ok, "" if ok else f"{command!r} printed {out!r}", None if ok else boot.tail())
    return out


def has(*needles):
    return lambda out: all(any(n in line for line in out) for n in needles)


def run(record, module):
    ns = Namespace()
    boot = None
    try:
        if not ns.ready():
            record("netcfg.network_namespace", False, "no network namespace for QEMU (unshare "
                   "--net needs root): nothing was sent", "\n".join(l or "" for l in ns.lines))
            return
        mods, flags = run_boot("virtio")  # flags: -netdev user (unrestricted: see the top)
        command = ["nsenter", f"--net=/proc/{ns.proc.pid}/ns/net", "--"] + \
            qemu_command(mods, extra=flags)
        boot = Boot(mods, console=True, command=command)
        if not boot.wait_prompt(PROMPT, 60):
            record("netcfg.boot", False, "no prompt", boot.tail())
            return
        tests(record, boot, ns)
    finally:
        if boot:
            boot.kill()
        ns.close()


def tests(record, boot, ns):
    # What ifconfig, route and netstat show: inet's interfaces, routes and sockets.
    check(record, boot, "netcfg.ifconfig_shows_interfaces", "ifconfig",
          has("eth0      Link encap:Ethernet  HWaddr 52:54:00:12:34:56",
              "inet addr:10.0.2.15  Bcast:10.0.2.255  Mask:255.255.255.0",
              "UP BROADCAST RUNNING MULTICAST  MTU:1500", "lo        Link encap:Local Loopback",
              "inet addr:127.0.0.1  Mask:255.0.0.0", "UP LOOPBACK RUNNING  MTU:65536"))
    check(record, boot, "netcfg.route_shows_default_gateway", "route -n",
          lambda out: out[2:4] == [
              "0.0.0.0         10.0.2.2        0.0.0.0         UG    0      0        0 eth0",
              "10.0.2.0        0.0.0.0         255.255.255.0   U     0      0        0 eth0"])
    check(record, boot, "netcfg.netstat_lists_sockets_with_states",
          "httpd -p 5001 -h /tmp; nc -l -u -p 5002 >/dev/null 2>&1 & sleep 1; "
          "(sleep 3 | nc 127.0.0.1 5001 >/dev/null &) ; sleep 1; netstat -tuan; kill %1; sleep 2",
          # httpd and nc listen on :: (both families) as on Linux: netstat shows tcp6 and udp6 so
          has("tcp        0      0 :::5001                 :::*                    LISTEN",
              "udp        0      0 :::5002                 :::*",
              "127.0.0.1:5001          ESTABLISHED"))
    # Loopback ping with BusyBox's (a raw ICMP socket: root's)
    check(record, boot, "netcfg.ping_loopback", "ping -c 2 127.0.0.1; echo st=$?",
          has("64 bytes from 127.0.0.1: seq=1", "2 packets transmitted, 2 packets received",
              "st=0"))
    check(record, boot, "netcfg.ping_raw_socket_needs_root",
          "su user -c 'ping -c 1 127.0.0.1'; echo st=$?",
          has("permission denied (are you root?)", "st=1"))
    # /etc/hosts: "host" is 10.0.2.2, the host's 127.0.0.1
    check(record, boot, "netcfg.etc_hosts_wget_host",
          "grep -c '^nameserver 10.0.2.3' /etc/resolv.conf; wget -q -O - http://host/hello; echo st=$?",
          lambda out: out[:1] == ["0"] and HELLO in out and "st=0" in out)
    # UDP with the host: a datagram to its echo server and back
    check(record, boot, "netcfg.udp_host_echo",
          "echo udp-to-the-host | nc -u -w 2 10.0.2.2 7; echo st=$?",
          lambda out: "udp-to-the-host" in out and ns.saw("udp-echo 16 udp-to-the-host"))
    # Names only the test's responder knows: BusyBox nslookup, and musl's resolver (wget)
    check(record, boot, "netcfg.dns_nslookup",
          "cp /etc/resolv.conf /tmp/resolv.saved; echo nameserver 10.0.2.2 > /etc/resolv.conf; "
          "nslookup only.samsara.test; echo st=$?",
          lambda out: any("10.9.8.7" in l for l in out) and "st=0" in out
          and ns.saw("dns-query only.samsara.test 1"))
    check(record, boot, "netcfg.dns_getaddrinfo_wget",
          "wget -q -O - http://web.samsara.test/hello; echo st=$?; "
          "wget -q -O - http://nosuch.samsara.test/hello; echo st=$?",
          lambda out: HELLO in out and out[-1] == "st=1" and "st=0" in out
          and ns.saw("dns-query web.samsara.test 1") and ns.saw("dns-query nosuch.samsara.test"))
    boot.run("cp /tmp/resolv.saved /etc/resolv.conf", PROMPT, 10)
    # Changing the configuration: root only; a new address and default route work.
    check(record, boot, "netcfg.ifconfig_route_set_needs_root",
          "su user -c 'ifconfig eth0 10.0.2.99'; echo st=$?; "
          "su user -c 'route del default'; echo st=$?",
          lambda out: out.count("st=1") == 2 and sum("Operation not permitted" in l or
                                                     "ermission denied" in l for l in out) == 2)
    check(record, boot, "netcfg.ifconfig_route_set",
          "ifconfig eth0 10.0.2.16 netmask 255.255.255.0 up && route del default && "
          "route -n | grep -c UG; route add default gw 10.0.2.2 && ifconfig eth0 | grep 'inet ';"
          " route -n | grep UG; wget -q -O - http://host/hello; "
          "ifconfig eth0 10.0.2.15; echo st=$?",
          lambda out: out[:1] == ["0"] and any("inet addr:10.0.2.16" in l for l in out)
          and any(l.startswith("0.0.0.0         10.0.2.2") for l in out) and HELLO in out
          and out[-1] == "st=0")


if __name__ == "__main__" and sys.argv[1:] == ["--servers"]:
    servers()
