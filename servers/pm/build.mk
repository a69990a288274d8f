# pm: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += pm
pm_SRC := $(wildcard servers/pm/*.c) servers/pm/vdso_image.S

# The vDSO (lib/vdso) pm maps into every Linux process, built as a shared object of its own
# (position-independent, no library, a DT_HASH table: what musl's lookup reads) and carried in
# pm's image (vdso_image.S).
VDSO_SO := $(B)/gen/vdso.so
$(VDSO_SO): lib/vdso/vdso.c lib/vdso/vdso.lds include/samsara/clock.h
	@mkdir -p $(@D)
	@echo VDSO $@; $(CC) $(WARN) -O2 -fPIC -nostdlib -shared -ffreestanding -fno-stack-protector \
		-fno-asynchronous-unwind-tables -Iinclude -Wl,-T,lib/vdso/vdso.lds -Wl,--hash-style=sysv \
		-Wl,-soname,linux-vdso.so.1 -Wl,--build-id=none -Wl,-z,max-page-size=4096 -o $@ $<
$(B)/u/servers/pm/vdso_image.S.o: $(VDSO_SO)
$(B)/u/servers/pm/vdso_image.S.o: UCFLAGS += -DVDSO_SO='"$(VDSO_SO)"'
