# mk/lwip.mk: lwIP, the TCP/IP stack of the inet server (net/inet, docs/INET.md).
#
# Debian's source package `lwip` (2.1.x) is unpacked by tools/fetch-sources.sh
# into the git-ignored third_party/lwip (a link to lwip-VERSION); none of its
# code is in our tree. Its core (IPv4, ARP and Ethernet framing, ICMP, UDP,
# TCP, raw, the loopback interface, timers) compiles with the user-space flags
# of every Samsara program (UCFLAGS: freestanding, no libc) into
# build/liblwip.a, configured by net/inet/lwipopts.h and ported by
# net/inet/arch/cc.h, net/inet/libc/ (the two C headers lwIP includes) and
# net/inet/port.c. The file list is fixed, not a wildcard, so that make knows
# it before the first fetch: a missing source makes make run the fetch first.
# A program links the archive by naming it in NAME_ARCHIVES (net/inet/build.mk).

LWIP := third_party/lwip
# Everything lwIP's core needs (IPv4 and IPv6), and nothing of PPP, DHCP, DNS or the
# threaded APIs (netconn, sockets: inet implements the socket calls itself).
LWIP_FILES := core/def.c core/inet_chksum.c core/init.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/raw.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c \
	core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c core/ipv4/ip4_addr.c \
	core/ipv4/ip4_frag.c core/ipv6/ethip6.c core/ipv6/icmp6.c core/ipv6/inet6.c \
	core/ipv6/ip6.c core/ipv6/ip6_addr.c core/ipv6/ip6_frag.c core/ipv6/mld6.c core/ipv6/nd6.c \
	netif/ethernet.c
LWIP_C := $(addprefix $(LWIP)/src/,$(LWIP_FILES))
LWIP_OBJ := $(patsubst %,$(B)/u/%.o,$(LWIP_C))
# lwIP's headers, our configuration and port, and the libc headers it includes.
LWIP_CFLAGS := -Inet/inet -Inet/inet/libc -I$(LWIP)/src/include

# The first source stands for the whole package: it appears when the fetch is done.
LWIP_STAMP := $(firstword $(LWIP_C))
$(LWIP_STAMP):
	@tools/fetch-sources.sh
$(filter-out $(LWIP_STAMP),$(LWIP_C)): | $(LWIP_STAMP)

$(LWIP_OBJ): UCFLAGS += $(LWIP_CFLAGS)
$(B)/liblwip.a: $(LWIP_OBJ)
	@echo AR $@; rm -f $@ && ar rcs $@ $^
