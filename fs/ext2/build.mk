# ext2: the ext2 file server (docs/EXT2.md). The file-system code (EXT2_CORE) is also compiled
# on the host into build/host/test_ext2 (the Makefile's host-tests).
PROGRAMS += ext2
EXT2_CORE := $(addprefix fs/ext2/,cache.c super.c alloc.c inode.c file.c dir.c names.c state.c)
ext2_SRC := $(wildcard fs/ext2/*.c)
ext2_LIBS := fsdriver bdev
# ext2b: the same program as a second service (fs/ext2/ext2b.conf): a boot module is named after
# its file, so the image is copied under that name.
all: $(B)/ext2b
$(B)/ext2b: $(B)/ext2
	@cp $< $@
