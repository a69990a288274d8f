/*
 * The other end of badnet's wire: a pretend host at 10.0.2.2 (inet's gateway) that answers ARP
 * requests for its address, ICMP echo requests and UDP datagrams to port 7 (echoed, unless they
 * come from port 7: no echo loop with inet's own listeners), and reads the control words inet's
 * self-test sends to its port 9 ("frames", "garbage", "report"). Its answers go to inet before
 * the hostile stream's next frame (peer_output).
 */
#include "badnet.h"

const uint8_t peer_mac[NET_ADDR_LEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const uint8_t inet_mac[NET_ADDR_LEN] = {0x02, 0x00, 0x00, 0x00, 0x0b, 0xad};
uint32_t inet_ip;
enum control control;

#define QUEUE 8
static uint8_t queue[QUEUE][NET_FRAME_MAX];
static uint32_t queue_len[QUEUE];
static unsigned queue_first, queued;
static int streaming, streamed; /* the hostile stream runs once per instance */

uint16_t csum(const void *data, uint32_t len, uint32_t sum)
{
    const uint8_t *p = data;
    for (uint32_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(f, dst, NET_ADDR_LEN);
    memcpy(f + 6, src, NET_ADDR_LEN);
    put16(f + 12, type);
    return 14;
}

uint32_t ip4(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst, uint32_t payload)
{
    static uint16_t id;
    memset(f, 0, 20);
    f[0] = 0x45;
    put16(f + 2, (uint16_t)(20 + payload));
    put16(f + 4, ++id);
    f[8] = 64;
    f[9] = proto;
    put32(f + 12, src);
    put32(f + 16, dst);
    put16(f + 10, csum(f, 20, 0));
    return 20;
}

void fix_checksums(uint8_t *f, uint32_t len, int ip, int l4)
{
    if (len < 34 || get16(f + 12) != 0x0800)
        return;
    uint8_t *h = f + 14;
    uint32_t ihl = (h[0] & 15u) * 4, total = get16(h + 2), have = len - 14;
    if (ip && ihl >= 20 && ihl <= have) {
        put16(h + 10, 0);
        put16(h + 10, csum(h, ihl, 0));
    }
    if (!l4 || ihl < 20 || total > have || total <= ihl || (get16(h + 6) & 0x3fff))
        return; /* only whole, unfragmented datagrams the frame holds */
    uint8_t *d = h + ihl;
    uint32_t dlen = total - ihl;
    int at = h[9] == 6 ? 16 : h[9] == 17 ? 6 : h[9] == 1 ? 2 : -1;
    if (at < 0 || dlen < (uint32_t)at + 2)
        return;
    put16(d + at, 0);
    uint32_t sum = 0;
    if (h[9] != 1) /* TCP and UDP: the pseudo-header */
        sum = get16(h + 12) + get16(h + 14) + get16(h + 16) + get16(h + 18) + h[9] + dlen;
    put16(d + at, csum(d, dlen, sum));
}

void peer_queue(const uint8_t *f, uint32_t len)
{
    if (queued == QUEUE || len > NET_FRAME_MAX)
        return; /* a lost answer: inet asks again */
    unsigned at = (queue_first + queued++) % QUEUE;
    memcpy(queue[at], f, len);
    queue_len[at] = len;
}

/* A UDP datagram of len bytes from the peer's port sport to inet's dport. */
static void udp_to_inet(uint16_t sport, uint16_t dport, const void *data, uint32_t len)
{
    uint8_t f[NET_FRAME_MAX];
    if (!inet_ip || len > NET_FRAME_MAX - 42)
        return;
    uint32_t n = eth(f, inet_mac, peer_mac, 0x0800);
    n += ip4(f + n, 17, PEER_IP, inet_ip, 8 + len);
    put16(f + n, sport);
    put16(f + n + 2, dport);
    put16(f + n + 4, (uint16_t)(8 + len));
    put16(f + n + 6, 0);
    memcpy(f + n + 8, data, len);
    n += 8 + len;
    fix_checksums(f, n, 0, 1);
    peer_queue(f, n);
}

void peer_say(const char *text)
{
    udp_to_inet(CONTROL_PORT, CONTROL_PORT, text, (uint32_t)strlen(text));
}

static void arp_input(const uint8_t *f, uint32_t len)
{
    const uint8_t *a = f + 14;
    if (len < 42 || get16(a) != 1 || get16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4)
        return;
    if (!memcmp(a + 8, inet_mac, NET_ADDR_LEN))
        inet_ip = get32(a + 14);
    if (get16(a + 6) != 1 || get32(a + 24) != PEER_IP)
        return;
    uint8_t r[42];
    eth(r, a + 8, peer_mac, 0x0806);
    memcpy(r + 14, a, 6);
    put16(r + 20, 2); /* a reply */
    memcpy(r + 22, peer_mac, 6);
    put32(r + 28, PEER_IP);
    memcpy(r + 32, a + 8, 10); /* the asker's MAC and address */
    peer_queue(r, sizeof(r));
}

static void ip_input(const uint8_t *f, uint32_t len)
{
    const uint8_t *h = f + 14;
    uint32_t ihl = (h[0] & 15u) * 4, total = get16(h + 2);
    if (len < 34 || (h[0] >> 4) != 4 || ihl < 20 || total < ihl || total > len - 14 ||
        get32(h + 16) != PEER_IP || (get16(h + 6) & 0x3fff))
        return;
    inet_ip = get32(h + 12);
    const uint8_t *d = h + ihl;
    uint32_t dlen = total - ihl;
    if (h[9] == 6) {
        frames_tcp_seen(h, total);
    } else if (h[9] == 1 && dlen >= 8 && d[0] == 8) { /* an echo request: the reply */
        uint8_t r[NET_FRAME_MAX];
        uint32_t n = eth(r, f + 6, peer_mac, 0x0800);
        n += ip4(r + n, 1, PEER_IP, inet_ip, dlen);
        memcpy(r + n, d, dlen);
        r[n] = 0;
        n += dlen;
        fix_checksums(r, n, 0, 1);
        peer_queue(r, n);
    } else if (h[9] == 17 && dlen >= 8 && get16(d + 4) <= dlen && get16(d + 4) >= 8) {
        uint16_t sport = get16(d), dport = get16(d + 2), ulen = get16(d + 4);
        if (dport == ECHO_PORT && sport != ECHO_PORT)
            udp_to_inet(ECHO_PORT, sport, d + 8, ulen - 8u);
        if (dport != CONTROL_PORT)
            return;
        static const char *const words[] = {"", "frames", "garbage", "report"};
        for (unsigned w = 1; w < 4; w++)
            if (ulen - 8u == strlen(words[w]) && !memcmp(d + 8, words[w], ulen - 8u))
                control = (enum control)w;
        if (control == CTRL_FRAMES && !streamed) {
            streaming = streamed = 1;
            frames_start();
        }
    }
}

void peer_input(const uint8_t *f, uint32_t len)
{
    if (len < 14)
        return;
    if (get16(f + 12) == 0x0806)
        arp_input(f, len);
    else if (get16(f + 12) == 0x0800)
        ip_input(f, len);
}

uint32_t peer_output(uint8_t *f)
{
    if (queued) {
        uint32_t n = queue_len[queue_first];
        memcpy(f, queue[queue_first], n);
        queue_first = (queue_first + 1) % QUEUE;
        queued--;
        return n;
    }
    if (!streaming)
        return 0;
    int n = frames_next(f);
    if (n < 0)
        streaming = 0;
    return n > 0 ? (uint32_t)n : 0;
}
