/*
 * badnet's parts (tests/drivers/badnet): the NET protocol by hand (main.c), the pretend host at
 * the other end of the wire (peer.c) and the malformed frames (frames.c).
 */
#ifndef BADNET_H
#define BADNET_H

#include <samsara/net.h>
#include "sys.h"

#define PEER_IP 0x0a000202u /* 10.0.2.2: the host on the wire, inet's gateway */
#define ECHO_PORT 7         /* the peer echoes UDP here; inet's test listens here (TCP, UDP) */
#define CONTROL_PORT 9      /* words between inet's self-test and badnet, both ways */
extern const uint8_t peer_mac[NET_ADDR_LEN], inet_mac[NET_ADDR_LEN]; /* inet_mac: what we say */
extern uint32_t inet_ip; /* inet's address, learned from its frames; 0: not yet */

/* What inet's self-test asked for last (a UDP datagram to the peer's CONTROL_PORT). */
enum control { CTRL_NONE, CTRL_FRAMES, CTRL_GARBAGE, CTRL_REPORT };
extern enum control control;

/* A frame inet sent: the peer answers ARP, ICMP echo and UDP echo, and reads control words. */
void peer_input(const uint8_t *f, uint32_t len);
/* The next frame for inet (peer's answers first, then the hostile stream): its length, 0: none. */
uint32_t peer_output(uint8_t *f);
/* A UDP datagram from the peer's port `from` to inet's CONTROL_PORT, queued for inet. */
void peer_say(const char *text);
/* A frame for inet, queued (at most a few: answers). */
void peer_queue(const uint8_t *f, uint32_t len);

/* The hostile stream (frames.c): start it; the next frame into f (its length; 0 while waiting
 * for inet's answer; -1 at the end). tcp_seen: a TCP segment inet sent. */
void frames_start(void);
int frames_next(uint8_t *f);
void frames_tcp_seen(const uint8_t *ip, uint32_t len);
uint64_t frames_made(void);

/* Frame building (peer.c). Checksums: the Internet checksum of len bytes added to sum. */
uint16_t csum(const void *data, uint32_t len, uint32_t sum);
uint32_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type);
/* An IPv4 header of 20 bytes at f (protocol, addresses, payload length), checksummed. */
uint32_t ip4(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst, uint32_t payload);
/* The IPv4 header checksum, and the TCP, UDP or ICMP checksum as far as the frame goes. */
void fix_checksums(uint8_t *f, uint32_t len, int ip, int l4);
static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}
static inline void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v);
}
static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

#endif
