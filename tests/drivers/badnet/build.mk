# badnet: a hostile network driver with no hardware, for inet's tests (tools/suite_inet.py)
PROGRAMS += badnet
badnet_SRC := $(wildcard tests/drivers/badnet/*.c)
