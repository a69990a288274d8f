# badkbd: a malicious "keyboard" driver, for the malicious-driver suite (tools/suite_baddrv.py)
PROGRAMS += badkbd
badkbd_SRC := $(wildcard tests/drivers/badkbd/*.c)
