# inet: the TCP/IP server (docs/INET.md): its sources, lib/test for its self-test, and lwIP's
# core as an archive (mk/lwip.mk), which its sources' includes need fetched first.
PROGRAMS += inet
inet_SRC := $(wildcard net/inet/*.c)
inet_LIBS := test
inet_ARCHIVES := $(B)/liblwip.a
$(patsubst %,$(B)/u/%.o,$(inet_SRC)): UCFLAGS += $(LWIP_CFLAGS)
$(patsubst %,$(B)/u/%.o,$(inet_SRC)): | $(LWIP_STAMP)
