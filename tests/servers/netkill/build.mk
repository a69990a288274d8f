# netkill: has rs kill a driver every PERIOD ms while inet's self-test asks (tools/suite_inet.py)
PROGRAMS += netkill
netkill_SRC := $(wildcard tests/servers/netkill/*.c)
