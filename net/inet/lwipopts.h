/*
 * lwIP's configuration for the inet server (docs/INET.md, "lwipopts.h",
 * gives the reason for each choice). Everything not set here keeps the
 * default of lwip/opt.h in Debian's lwIP 2.1.3.
 *
 * The shape: one single-threaded server with no operating-system layer
 * (NO_SYS), driving lwIP's raw callback API from its message loop; memory
 * is lwIP's own static heap and pools (no malloc in libsys); TCP is tuned
 * so that losing the frames of a network driver's restart costs one
 * retransmission of the hole, not a collapse of the window.
 */
#ifndef INET_LWIPOPTS_H
#define INET_LWIPOPTS_H

/* ---- the platform ---- */
#define NO_SYS 1               /* no threads, semaphores or mailboxes: one loop calls lwIP */
#define SYS_LIGHTWEIGHT_PROT 0 /* nothing interrupts lwIP: no critical sections needed */
#define LWIP_NETCONN 0         /* the threaded APIs need an OS layer; inet serves */
#define LWIP_SOCKET 0          /* socket calls itself (through vfs) on the raw API */
#define LWIP_TIMERS 1          /* lwIP's timeout list, run by sys_check_timeouts() */
#define MEM_ALIGNMENT 8
#define LWIP_CHKSUM_ALGORITHM 3 /* 32-bit steps: the fastest of lwIP's three in C */

/* ---- memory: all static, in inet's BSS ---- */
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEM_SIZE (8 * 1024 * 1024) /* heap: TCP send queues, loopback copies, PBUF_RAM */
#define PBUF_POOL_SIZE 1024        /* frames received from drivers: 1.5 MiB */
#define MEMP_NUM_PBUF 256          /* pbufs referring to other memory (PBUF_REF/ROM) */
#define MEMP_NUM_TCP_PCB 128
#define MEMP_NUM_TCP_PCB_LISTEN 32
#define MEMP_NUM_UDP_PCB 64
#define MEMP_NUM_RAW_PCB 16
#define MEMP_NUM_TCP_SEG 4096 /* send queues and out-of-order queues, all connections */
#define MEMP_NUM_REASSDATA 8  /* IP datagrams being reassembled at once */
#define IP_REASS_MAX_PBUFS 64 /* their fragments, all together: one 64 KiB datagram */
#define MEMP_NUM_FRAG_PBUF 64 /* fragments being sent at once */
#define MEMP_NUM_ARP_QUEUE 64 /* frames waiting for an ARP answer */
#define MEMP_NUM_SYS_TIMEOUT                                                                       \
    (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4 + 1) /* + netif.c's per NIC, + selftest */

/* ---- IPv4 and IPv6 (docs/INET.md, "IPv6") ---- */
#define LWIP_IPV4 1
#define LWIP_IPV6 1 /* AF_INET6 sockets; ip_addr_t carries either, IPADDR_TYPE_ANY dual stack */
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0 /* addresses usable at once (no DAD wait) */
#define LWIP_IPV6_AUTOCONFIG 0
#define LWIP_IPV6_DHCP6 0
#define IPV6_FRAG_COPYHEADER 1 /* 64-bit pointers do not fit lwIP's in-place reassembly helper */
#define IP_FORWARD 0           /* a host, not a router */
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define LWIP_ICMP 1
#define LWIP_RAW 1 /* ping's ICMP sockets */
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_ARP 1
#define LWIP_ETHERNET 1 /* the network drivers carry Ethernet frames */
#define ARP_TABLE_SIZE 32
#define ARP_QUEUEING 1
#define LWIP_DHCP 0 /* the address is configured (QEMU user networking: 10.0.2.15/24) */
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0 /* resolution is musl's, over UDP sockets, from /etc/resolv.conf */
#define SO_REUSE 1 /* SO_REUSEADDR */

/* ---- interfaces ---- */
#define LWIP_HAVE_LOOPIF 1           /* lo, 127.0.0.1/8, made by lwip_init() */
#define LWIP_NETIF_LOOPBACK 1        /* queued, delivered by netif_poll() in inet's loop */
#define LWIP_LOOPBACK_MAX_PBUFS 0    /* no cap: TCP's windows bound what is in flight */
#define LWIP_NETIF_STATUS_CALLBACK 1 /* address and up/down changes */
#define LWIP_NETIF_LINK_CALLBACK 1   /* link state from the drivers */
#define LWIP_NETIF_HWADDRHINT 1      /* remember the ARP entry per connection */
#define LWIP_SINGLE_NETIF 0

/* ---- TCP ---- */
#define TCP_MSS 1460             /* Ethernet's 1500 minus IPv4 and TCP headers */
#define LWIP_WND_SCALE 1         /* windows above 64 KiB */
#define TCP_RCV_SCALE 3          /* 256 KiB fits 16 bits in units of 8 bytes */
#define TCP_WND (256 * 1024)     /* receive window: several ms at the link's speed */
#define TCP_SND_BUF (256 * 1024) /* send buffer per connection */
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_SNDLOWAT (32 * 1024) /* poll says writable with this much room */
#define TCP_QUEUE_OOSEQ 1        /* keep segments after a hole: refill only the hole */
#define LWIP_TCP_SACK_OUT 1      /* and tell the sender which ones we hold */
#define LWIP_TCP_MAX_SACK_NUM 4
#define TCP_OOSEQ_MAX_BYTES TCP_WND /* per connection: no more than the window anyway */
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 128
#define LWIP_TCP_KEEPALIVE 1  /* SO_KEEPALIVE */
#define LWIP_TCP_TIMESTAMPS 0 /* lwIP only echoes them; it gains us nothing yet */
#define TCP_OVERSIZE TCP_MSS  /* fill segments to the MSS on small writes */
/* A window update of its own only once reads opened 32 KiB of window (lwIP's default, 4 MSS,
 * sent one after every two 4 KiB reads; the ACKs of data carry the window anyway). It must stay
 * well below 64 KiB: a peer without window scaling (QEMU's slirp) sees at most 65535 bytes,
 * and a threshold above that would never reopen a window that closed. */
#define TCP_WND_UPDATE_THRESHOLD (32 * 1024)
#define LWIP_CALLBACK_API 1

/* ---- statistics and debugging ---- */
#define LWIP_STATS 1 /* counters for netstat; nothing printed */
#define LWIP_STATS_DISPLAY 0
/* LWIP_DEBUG stays undefined: lwIP tests it with #ifdef, so even 0 would turn it on. */

#endif
