# ramfs: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += ramfs
ramfs_SRC := $(wildcard fs/ramfs/*.c)
ramfs_LIBS := fsdriver
# tmpfs: the same program as a second service (fs/ramfs/tmpfs.conf): a boot module is named after
# its file, so the image is copied under that name.
all: $(B)/tmpfs
$(B)/tmpfs: $(B)/ramfs
	@cp $< $@
