/*
 * inet, the TCP/IP server (docs/INET.md): lwIP's core on its raw callback
 * API, driven by one message loop. This header joins the loop (main.c)
 * and its self-test (selftest.c).
 */
#ifndef INET_H
#define INET_H

#include <stdint.h>
#include "lwip/ip_addr.h"

/*
 * One turn of inet's loop: take one message and handle it, waiting for it
 * only while lwIP has nothing queued or due, and then at most until lwIP's
 * next timeout or the deadline (an absolute uptime in ms; 0: none); then
 * run lwIP's work (expired timeouts, loopback deliveries).
 */
void inet_step(uint64_t deadline);

/* The self-test (argument "selftest [only=NAME]"): TEST inet.NAME lines; the failures. */
int inet_selftest(const char *args);

/* Run one of inet's test tables (selftest.c, netif_test.c, netif_badtest.c): TEST <prefix>NAME
 * lines; the failures. why_not: set-up failed (0: it did not), and no test runs. */
struct test;
int inet_run_tests(const char *prefix, const struct test *table, const char *why_not,
                   const char *args);

/* Pieces of the self-test the interfaces' self-test (netif_test.c) uses too (selftest.c). */
int run_until(const volatile int *done, uint64_t ms); /* turn the loop until *done: 1 */
/* TCP: total bytes of the stream to an echo server at to:port, all back and checked in ms */
void stream_echo(const ip_addr_t *to, uint16_t port, uint32_t total, uint64_t ms);
void ping_check(const ip_addr_t *to, uint64_t ms); /* an ICMP echo to `to` answered in ms */
/* At most half of lwIP's TCP pcbs half-open (synflood.c): the oldest beyond are aborted. */
void tcp_cap_half_open(void);
extern uint64_t half_open_aborted;

void loopback_echo(uint32_t bytes); /* an echo server on 127.0.0.1:7, bytes through it, closed */

#endif
