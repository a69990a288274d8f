/*
 * badnet's hostile stream (mode "frames"): what a broken or malicious wire can deliver inside
 * the NET protocol's rules (14..1514 bytes a frame; lengths outside them are the driver's
 * garbage, main.c). In order:
 *   1. crafted frames, one per way a header can lie: Ethernet alone, IPv4 headers cut short,
 *      IHL below 5 or beyond the datagram, total lengths above and below the frame, versions,
 *      checksums, UDP lengths, ICMP cut short, ARP with odd hardware and protocol lengths and
 *      opcodes, broadcast and multicast junk, fragments (tiny, overlapping, duplicated, past
 *      64 KiB, never completed), TCP with data offsets 0..15 and options of length 0, 1 and
 *      running past the header (MSS, window scale, SACK, timestamps, unknown kinds);
 *   2. a TCP connection to inet's listening port 7 taken past the handshake (the peer waits
 *      for inet's SYN-ACK), then segments that reach deeper code: malformed SACK options,
 *      overlapping, out-of-order and out-of-window data, urgent pointers, a zero window, ACKs
 *      of data never sent, a SYN and RSTs in the window;
 *   3. RANDOM_FRAMES frames from a fixed seed: valid templates (UDP and TCP to the open ports,
 *      ICMP, ARP, fragments) with bytes changed, cut short, and their checksums made right
 *      again most of the time so that the damage gets past the checksum checks;
 *   4. "done N" to inet's control port: N frames were sent.
 */
#include "badnet.h"
#include "format/format.h"

#define RANDOM_FRAMES 3000
#define SEED 0x5eed0b4dull
#define SESSION_PORT 40000
#define SESSION_ISN 0x10000000u
#define SYNACK_WAIT_MS 1000 /* then the session's steps go anyway */

static uint64_t step, made, rng = SEED, waiting_since;
static uint32_t inet_isn, snd; /* inet's first sequence number; ours, next */
static int synack_seen;

void frames_start(void)
{
    step = made = 0;
}

uint64_t frames_made(void)
{
    return made;
}

void frames_tcp_seen(const uint8_t *ip, uint32_t len)
{
    uint32_t ihl = (ip[0] & 15u) * 4;
    if (len < ihl + 20)
        return;
    const uint8_t *t = ip + ihl;
    if (get16(t) == ECHO_PORT && get16(t + 2) == SESSION_PORT && (t[13] & 0x12) == 0x12) {
        inet_isn = get32(t + 4);
        synack_seen = 1;
    }
}

/* Ethernet and a 20-byte IPv4 header from the peer to inet: 34. */
static uint32_t to_inet(uint8_t *f, uint8_t proto, uint32_t payload)
{
    eth(f, inet_mac, peer_mac, 0x0800);
    return 14 + ip4(f + 14, proto, PEER_IP, inet_ip, payload);
}

/* A UDP datagram to inet's port with len bytes of data: the frame's length. */
static uint32_t udp(uint8_t *f, uint16_t port, uint32_t len)
{
    uint32_t n = to_inet(f, 17, 8 + len);
    put16(f + n, 5000);
    put16(f + n + 2, port);
    put16(f + n + 4, (uint16_t)(8 + len));
    for (uint32_t i = 0; i < len; i++)
        f[n + 8 + i] = (uint8_t)i;
    n += 8 + len;
    fix_checksums(f, n, 1, 1);
    return n;
}

/* A TCP segment to inet's port 7: options as given (padded with EOL), len bytes of data. */
static uint32_t tcp(uint8_t *f, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
                    const uint8_t *opt, uint32_t optlen, uint32_t len)
{
    uint32_t olen = (optlen + 3) & ~3u, n = to_inet(f, 6, 20 + olen + len);
    uint8_t *t = f + n;
    memset(t, 0, 20 + olen);
    put16(t, sport);
    put16(t + 2, ECHO_PORT);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)((5 + olen / 4) << 4);
    t[13] = flags;
    put16(t + 14, 65535);
    memcpy(t + 20, opt, optlen);
    for (uint32_t i = 0; i < len; i++)
        t[20 + olen + i] = (uint8_t)('a' + i % 26);
    n += 20 + olen + len;
    fix_checksums(f, n, 1, 1);
    return n;
}

/* An ICMP message of len bytes (type, code, then a pattern) to inet. */
static uint32_t icmp(uint8_t *f, uint8_t type, uint32_t len)
{
    uint32_t n = to_inet(f, 1, len);
    for (uint32_t i = 0; i < len; i++)
        f[n + i] = (uint8_t)i;
    f[n] = type;
    if (len > 1)
        f[n + 1] = 0;
    n += len;
    fix_checksums(f, n, 1, 1);
    return n;
}

/* An ARP packet of 28 bytes as given: 42. */
static uint32_t arp(uint8_t *f, const uint8_t *dst, uint16_t hw, uint16_t proto, uint8_t hlen,
                    uint8_t plen, uint16_t op, const uint8_t *smac, uint32_t sip, uint32_t tip)
{
    eth(f, dst, peer_mac, 0x0806);
    uint8_t *a = f + 14;
    put16(a, hw);
    put16(a + 2, proto);
    a[4] = hlen, a[5] = plen;
    put16(a + 6, op);
    memcpy(a + 8, smac, 6);
    put32(a + 14, sip);
    memset(a + 18, 0, 6);
    put32(a + 24, tip);
    return 42;
}

/* A fragment of a UDP datagram to port 7 (id, offset in 8-byte units, MF, len data bytes). */
static uint32_t fragment(uint8_t *f, uint16_t id, uint16_t offset, int more, uint32_t len)
{
    uint32_t n = to_inet(f, 17, len);
    put16(f + 18, id);
    put16(f + 20, (uint16_t)((more ? 0x2000 : 0) | (offset & 0x1fff)));
    for (uint32_t i = 0; i < len; i++)
        f[n + i] = (uint8_t)(offset * 8 + i);
    if (offset == 0 && len >= 8) { /* the UDP header: a datagram of 80 bytes, no checksum */
        put16(f + n, 5000);
        put16(f + n + 2, ECHO_PORT);
        put16(f + n + 4, 80);
        put16(f + n + 6, 0);
    }
    fix_checksums(f, n + len, 1, 0);
    return n + len;
}

/* The IPv4 header of a frame from to_inet, changed and checksummed again. */
static uint32_t with_ip(uint8_t *f, uint32_t n, uint32_t at, uint8_t v)
{
    f[14 + at] = v;
    fix_checksums(f, n, 1, 0);
    return n;
}

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

/* Crafted frame i (part 1): its length, 0 past the last. */
static uint32_t crafted(uint8_t *f, uint64_t i)
{
    static const uint8_t opts[][12] = {
        {2, 0},
        {2, 1},
        {2, 255, 5},
        {2, 4, 0, 0},
        {3, 2},
        {3, 3, 200},
        {4, 3},
        {5, 3, 1},
        {5, 11, 0},
        {5, 255, 0},
        {8, 5, 1, 2, 3},
        {99, 0},
        {99, 1},
        {1, 1, 1, 2},
        {0, 2, 4, 5, 0xb4},
        {2, 4, 0xff, 0xff, 3, 3, 14, 4},
        {5, 10, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff},
    };
    static const uint16_t types[] = {0x86dd, 0x8100, 0x0000, 0x05dc, 0xffff};
    uint32_t n;
    switch (i) {
    case 0: /* Ethernet alone */
        return eth(f, inet_mac, peer_mac, 0x0800);
    case 1:
        return eth(f, inet_mac, peer_mac, 0x0806);
    case 2: /* one byte of IPv4 */
        eth(f, inet_mac, peer_mac, 0x0800), f[14] = 0x45;
        return 15;
    case 3: /* an IPv4 header cut at 19 bytes */
        return udp(f, ECHO_PORT, 10), 33;
    case 4:
    case 5:
    case 6:
    case 7:
    case 8: /* IHL 0..4 */
        return with_ip(f, udp(f, ECHO_PORT, 10), 0, (uint8_t)(0x40 | (i - 4)));
    case 9: /* IHL 15 (60 bytes) in a datagram of 28 */
        return with_ip(f, udp(f, ECHO_PORT, 0), 0, 0x4f);
    case 10: /* IHL 15 beyond the frame */
        return with_ip(f, udp(f, ECHO_PORT, 0), 0, 0x4f) - 8;
    case 11: /* total length 1500 in a frame of 52 */
        n = udp(f, ECHO_PORT, 10);
        put16(f + 16, 1500);
        return with_ip(f, n, 0, 0x45);
    case 12:
    case 13:
    case 14: /* total length 20 (the header alone), 10 (< IHL), 0 */
        n = udp(f, ECHO_PORT, 10);
        put16(f + 16, (uint16_t)(i == 12 ? 20 : i == 13 ? 10 : 0));
        return with_ip(f, n, 0, 0x45);
    case 15:
    case 16:
    case 17: /* versions 6, 0, 15 */
        return with_ip(f, udp(f, ECHO_PORT, 10), 0, i == 15 ? 0x65 : i == 16 ? 0x05 : 0xf5);
    case 18: /* bad IP checksum */
        n = udp(f, ECHO_PORT, 10);
        f[24] ^= 0x55;
        return n;
    case 19: /* bad UDP checksum */
        n = udp(f, ECHO_PORT, 10);
        f[40] ^= 0x55;
        return n;
    case 20:
    case 21:
    case 22:
    case 23: /* UDP lengths 0, 7, 1000 in 18, 9 in 108 */
        n = udp(f, ECHO_PORT, i == 23 ? 100 : 10);
        put16(f + 38, (uint16_t)(i == 20 ? 0 : i == 21 ? 7 : i == 22 ? 1000 : 9));
        fix_checksums(f, n, 1, 1);
        return n;
    case 24: /* a closed port: inet answers port unreachable */
        return udp(f, 4444, 10);
    case 25: /* the largest frame */
        return udp(f, ECHO_PORT, NET_FRAME_MAX - 42);
    case 26: /* the largest frame, its datagram one byte longer */
        n = udp(f, ECHO_PORT, NET_FRAME_MAX - 42);
        put16(f + 16, 1501);
        return with_ip(f, n, 0, 0x45);
    case 27: /* IP options: IHL 6, an option of length 0 */
        n = udp(f, ECHO_PORT, 10);
        for (uint32_t k = n; k-- > 34;) /* 4 bytes of options after the header */
            f[k + 4] = f[k];
        f[34] = 7, f[35] = 0, f[36] = 0, f[37] = 0;
        put16(f + 16, (uint16_t)(n - 14 + 4));
        return with_ip(f, n + 4, 0, 0x46);
    case 28: /* from the broadcast address */
        n = udp(f, ECHO_PORT, 10);
        put32(f + 26, 0xffffffffu);
        fix_checksums(f, n, 1, 1);
        return n;
    case 29: /* from inet's own address and port to itself: a SYN */
        n = tcp(f, ECHO_PORT, 1, 0, 0x02, 0, 0, 0);
        put32(f + 26, inet_ip);
        fix_checksums(f, n, 1, 1);
        return n;
    case 30: /* a ping to the subnet's broadcast address */
        n = icmp(f, 8, 64);
        put32(f + 30, (inet_ip & 0xffffff00u) | 0xff);
        fix_checksums(f, n, 1, 1);
        return n;
    case 31: /* to the broadcast MAC */
        n = udp(f, ECHO_PORT, 10);
        memcpy(f, bcast, 6);
        return n;
    case 32: /* multicast MAC and 224.0.0.1 */
        n = udp(f, ECHO_PORT, 10);
        memcpy(f, mcast, 6);
        put32(f + 30, 0xe0000001u);
        fix_checksums(f, n, 1, 1);
        return n;
    case 33: /* from a broadcast MAC */
        n = udp(f, ECHO_PORT, 10);
        memcpy(f + 6, bcast, 6);
        return n;
    case 34:
    case 35:
    case 36:
    case 37:
    case 38: /* IPv6, VLAN, 0, an 802.3 length, 0xffff */
        n = udp(f, ECHO_PORT, 10);
        put16(f + 12, types[i - 34]);
        return n;
    case 39:
    case 40: /* ICMP of 4 and 7 bytes */
        return icmp(f, 8, i == 39 ? 4 : 7);
    case 41: /* an echo request with a bad checksum */
        n = icmp(f, 8, 64);
        f[40] ^= 1;
        return n;
    case 42: /* an odd length */
        return icmp(f, 8, 101);
    case 43: /* destination unreachable holding 10 bytes of an IP header */
        return icmp(f, 3, 18);
    case 44: /* type 255 */
        return icmp(f, 255, 32);
    case 45: /* the largest echo request */
        return icmp(f, 8, NET_FRAME_MAX - 34);
    case 46:
    case 47:
    case 48:
    case 49: /* ARP: hardware length 0, 255; protocol length 0, 16 */
        return arp(f, bcast, 1, 0x0800,
                   i == 46   ? 0
                   : i == 47 ? 255
                             : 6,
                   i == 48   ? 0
                   : i == 49 ? 16
                             : 4,
                   1, peer_mac, PEER_IP, inet_ip);
    case 50:
    case 51: /* hardware type 6; protocol IPv6 */
        return arp(f, bcast, i == 50 ? 6 : 1, i == 50 ? 0x0800 : 0x86dd, 6, 4, 1, peer_mac, PEER_IP,
                   inet_ip);
    case 52:
    case 53:
    case 54: /* opcodes 0, 3, 0xffff */
        return arp(f, bcast, 1, 0x0800, 6, 4,
                   i == 52   ? 0
                   : i == 53 ? 3
                             : 0xffff,
                   peer_mac, PEER_IP, inet_ip);
    case 55: /* a reply claiming inet's own address */
        return arp(f, inet_mac, 1, 0x0800, 6, 4, 2, peer_mac, inet_ip, inet_ip);
    case 56: /* the gateway is at the broadcast MAC */
        return arp(f, inet_mac, 1, 0x0800, 6, 4, 2, bcast, PEER_IP, inet_ip);
    case 57: /* the gateway is at a multicast MAC */
        return arp(f, bcast, 1, 0x0800, 6, 4, 1, mcast, PEER_IP, inet_ip);
    case 58: /* a request from 0.0.0.0 (a probe) */
        return arp(f, bcast, 1, 0x0800, 6, 4, 1, peer_mac, 0, inet_ip);
    case 59: /* cut at 20 bytes of its 28 */
        return arp(f, bcast, 1, 0x0800, 6, 4, 1, peer_mac, PEER_IP, inet_ip) - 8;
    case 60:
    case 61:
    case 62: /* fragments: 0-23, 16-39 overlapping, 40-79 the last */
        return fragment(f, 0x100,
                        (uint16_t)(i == 60   ? 0
                                   : i == 61 ? 2
                                             : 5),
                        i != 62, i == 62 ? 40 : 24);
    case 63:
    case 64:
    case 65:
    case 66:
    case 67:
    case 68:
    case 69:
    case 70:
    case 71:
    case 72:
        return fragment(f, (uint16_t)(0x200 + i), 0, 1, 8); /* never completed: 10 datagrams */
    case 73:                                                /* the largest offset: past 64 KiB */
        return fragment(f, 0x300, 8191, 0, 100);
    case 74: /* MF with a length that is no multiple of 8 */
        return fragment(f, 0x301, 0, 1, 13);
    case 75: /* a last fragment alone */
        return fragment(f, 0x302, 12, 0, 8);
    case 76:
    case 77:
    case 78: /* 0-39 twice, then 40-79: a whole datagram, reassembled */
        return fragment(f, 0x303, (uint16_t)(i == 78 ? 5 : 0), i != 78, 40);
    case 79:
    case 80:
    case 81:
    case 82: /* data offsets 0, 4, 15 (beyond), 15 (options) */
        n = tcp(f, (uint16_t)(41000 + i), 1, 0, 0x02, 0, 0, i == 82 ? 40 : 0);
        f[46] = (uint8_t)((i == 79 ? 0 : i == 80 ? 4 : 15) << 4);
        fix_checksums(f, n, 1, 1);
        return n;
    case 83: /* a TCP header cut at 10 bytes */
        n = tcp(f, 41083, 1, 0, 0x02, 0, 0, 0) - 10;
        put16(f + 16, 30);
        return with_ip(f, n, 0, 0x45);
    default:
        break;
    }
    if (i >= 84 && i < 84 + sizeof(opts) / sizeof(opts[0])) { /* SYNs with bad options */
        uint32_t k = (uint32_t)(i - 84), len = 1;
        while (len < sizeof(opts[0]) && opts[k][len])
            len++;
        if (len < 2)
            len = 2;
        return tcp(f, (uint16_t)(41100 + k), 1, 0, 0x02, opts[k], len + (k == 14 ? 3 : 0), 0);
    }
    uint64_t j = i - 84 - sizeof(opts) / sizeof(opts[0]);
    static const uint8_t flags[] = {0x03, 0x06, 0xff, 0x00, 0x04, 0x10, 0x01};
    if (j < sizeof(flags)) /* SYN+FIN, SYN+RST, all, none, RST, ACK, FIN to the listener */
        return tcp(f, (uint16_t)(41200 + j), 1, 1, flags[j], 0, 0, 0);
    return 0;
}

/* The connection's segment s (part 2): its length; 0 while waiting; -1 past the last. */
static int session(uint8_t *f, uint64_t s)
{
    static const uint8_t ok_syn[] = {2, 4, 0x05, 0xb4, 3, 3, 14, 4, 2};
    static const uint8_t sack_bad[] = {1, 1, 5, 10, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t sack_many[] = {5, 34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t past_end[] = {1, 1, 8, 30, 0, 0};
    uint32_t rcv = inet_isn + 1;
    switch (s) {
    case 0:
        synack_seen = 0;
        snd = SESSION_ISN;
        waiting_since = sys_uptime();
        return (int)tcp(f, SESSION_PORT, snd++, 0, 0x02, ok_syn, sizeof(ok_syn), 0);
    case 1: /* inet's SYN-ACK first (or give up waiting) */
        if (!synack_seen && sys_uptime() < waiting_since + SYNACK_WAIT_MS)
            return 0;
        if (!synack_seen)
            printf("badnet: no SYN-ACK from inet in %d ms\n", SYNACK_WAIT_MS);
        return (int)tcp(f, SESSION_PORT, snd, rcv, 0x10, 0, 0, 0);
    case 2:
        return snd += 5, (int)tcp(f, SESSION_PORT, snd - 5, rcv, 0x18, 0, 0, 5);
    case 3: /* SACK blocks of nonsense, a SACK of length 34 (more than fits) */
    case 4:
        return snd += 10,
               (int)tcp(f, SESSION_PORT, snd - 10, rcv, 0x18, s == 3 ? sack_bad : sack_many,
                        s == 3 ? sizeof(sack_bad) : sizeof(sack_many), 10);
    case 5: /* an option running past the header */
        return snd += 10,
               (int)tcp(f, SESSION_PORT, snd - 10, rcv, 0x18, past_end, sizeof(past_end), 10);
    case 6: { /* data offset 15 beyond a short segment */
        int n = (int)tcp(f, SESSION_PORT, snd, rcv, 0x18, 0, 0, 10);
        f[46] = 0xf0;
        fix_checksums(f, (uint32_t)n, 1, 1);
        return n;
    }
    case 7: /* overlapping what came: 3 old bytes, 5 new */
        return snd += 5, (int)tcp(f, SESSION_PORT, snd - 8, rcv, 0x18, 0, 0, 8);
    case 8: /* out of order: a hole of 1000 */
        return (int)tcp(f, SESSION_PORT, snd + 1000, rcv, 0x18, 0, 0, 100);
    case 9: /* far beyond the window */
        return (int)tcp(f, SESSION_PORT, snd + 0x40000000u, rcv, 0x18, 0, 0, 100);
    case 10: { /* urgent data, its pointer far past the segment */
        int n = (int)tcp(f, SESSION_PORT, snd, rcv, 0x38, 0, 0, 10);
        put16(f + 52, 65535);
        fix_checksums(f, (uint32_t)n, 1, 1);
        return snd += 10, n;
    }
    case 11: { /* a zero window */
        int n = (int)tcp(f, SESSION_PORT, snd, rcv, 0x10, 0, 0, 0);
        put16(f + 48, 0);
        fix_checksums(f, (uint32_t)n, 1, 1);
        return n;
    }
    case 12:
    case 13: /* ACKs of data inet never sent, and of long ago */
        return (int)tcp(f, SESSION_PORT, snd, s == 12 ? rcv + 100000 : rcv - 100000, 0x10, 0, 0, 0);
    case 14: /* a SYN inside the window */
        return (int)tcp(f, SESSION_PORT, snd, rcv, 0x02, 0, 0, 0);
    case 15: /* a RST in the window, not at its start */
        return (int)tcp(f, SESSION_PORT, snd + 1, rcv, 0x04, 0, 0, 0);
    case 16: /* FIN with data */
        return snd += 6, (int)tcp(f, SESSION_PORT, snd - 6, rcv, 0x19, 0, 0, 5);
    case 17: /* the RST that ends it */
        return (int)tcp(f, SESSION_PORT, snd, 0, 0x04, 0, 0, 0);
    }
    return -1;
}

/* A random frame (part 3): a valid template, damaged. */
static uint32_t random_frame(uint8_t *f)
{
    uint64_t r = rand64(&rng);
    uint32_t n, kind = (uint32_t)(r % 6);
    uint8_t opt[40];
    switch (kind) {
    case 0:
        n = udp(f, ECHO_PORT, (uint32_t)(r >> 8) % 300);
        break;
    case 1:   /* a SYN with random options */
    case 2: { /* or a segment of the session's port */
        uint32_t olen = (uint32_t)(r >> 8) % 41;
        uint64_t x = rand64(&rng);
        for (uint32_t i = 0; i < olen; i++)
            opt[i] = (uint8_t)(i % 8 == 0 ? (x = rand64(&rng)) : (x >>= 8));
        for (uint32_t i = 0; i + 1 < olen; i += 4) /* kinds that parse: MSS, WS, SACK... */
            if (opt[i] & 1)
                opt[i] = (uint8_t)(1 + opt[i] % 8);
        if (kind == 1)
            n = tcp(f, (uint16_t)(42000 + (r >> 20) % 1000), (uint32_t)(r >> 32), 0, 0x02, opt,
                    olen, 0);
        else
            n = tcp(f, SESSION_PORT, snd + (uint32_t)((r >> 16) % 3000) - 1000, inet_isn + 1,
                    (uint8_t)(0x10 | ((r >> 40) & 0x2f)), opt, olen, (uint32_t)(r >> 48) % 200);
        break;
    }
    case 3:
        n = icmp(f, (uint8_t)((r >> 8) & 1 ? 8 : (r >> 16)), 4 + (uint32_t)(r >> 24) % 200);
        break;
    case 4:
        n = arp(f, (r >> 8) & 1 ? bcast : inet_mac, 1, 0x0800, 6, 4, (uint16_t)(1 + (r >> 9) % 2),
                peer_mac, (r >> 10) & 1 ? PEER_IP : (uint32_t)(r >> 32), inet_ip);
        break;
    default:
        n = fragment(f, (uint16_t)(0x1000 + (r >> 8) % 64), (uint16_t)((r >> 16) % 16),
                     (int)((r >> 24) & 1), 8 * (1 + (uint32_t)(r >> 32) % 8));
    }
    /* 0 to 7 bytes changed after the Ethernet addresses */
    for (uint64_t k = (r >> 56) % 8, x; k; k--) {
        x = rand64(&rng);
        f[12 + x % (n - 12)] = (uint8_t)(x >> 32);
    }
    uint64_t y = rand64(&rng);
    if (y % 4 == 0) /* cut short */
        n = 14 + (uint32_t)((y >> 8) % (n - 13));
    fix_checksums(f, n, (y >> 16) % 8 != 0, (y >> 20) % 4 != 0);
    return n;
}

int frames_next(uint8_t *f)
{
    enum { SESSION = 1000, RANDOM = 2000, DONE = RANDOM + RANDOM_FRAMES };
    if (!inet_ip)
        return 0;
    uint32_t n = 0;
    if (step < SESSION && (n = crafted(f, step)) == 0)
        step = SESSION;
    if (step >= SESSION && step < RANDOM) {
        int s = session(f, step - SESSION);
        if (s == 0)
            return 0;
        if (s < 0)
            step = RANDOM;
        n = s > 0 ? (uint32_t)s : 0;
    }
    if (step >= RANDOM && step < DONE)
        n = random_frame(f);
    if (step == DONE) {
        char text[32];
        snprintf_s(text, sizeof(text), "done %lu", made);
        peer_say(text);
        step++;
        return 0;
    }
    if (step > DONE)
        return -1;
    step++;
    made++;
    return (int)n;
}
