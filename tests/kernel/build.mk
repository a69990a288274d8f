# ktest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += ktest
ktest_SRC := $(wildcard tests/kernel/*.c)
ktest_LIBS := test
# test_misc.c's FPU test needs SSE registers (the Makefile builds system programs without them)
$(B)/u/tests/kernel/%.o: UCFLAGS := $(filter-out -mgeneral-regs-only,$(UCFLAGS))
