"""Hostile images mounted inside the running system (issue 10; docs/EXT2.md, "Hostile images").

One boot of make run's system (ROOT=ext2: the root on a snapshot of build/disk.img, on virtio-blk)
with a second disk on q35's AHCI controller, served by a second ext2 server, ext2b
(fs/ext2/ext2b.conf: `ext2b ahci 0 rw ext2b`). The test makes one good image on the host
(mke2fs -d from a small tree: files, a directory of many entries, a deep directory, fast and slow
symlinks, a hard link, a sparse file reaching the double indirect blocks) and corrupted copies of
it. For each image in turn the host writes it into the second disk's file in place (QEMU reads
the file again at every request; ext2b forgot the last image at its umount), then the shell runs
`hostile_image`, a function typed once: mount -t ext2b on /mnt, ls -lR, find, stat, every file read
(md5sum), readlink, an append, an overwrite, a create, a mkdir, an unlink, df, umount, and then
checks the root (a file of the root file system, /proc). Each image's test passes when the function finished
within its time bound (no hang), the mount was refused or the file system unmounted at the end,
and the root and /proc still answered; every step's status is in the test's line. The good image
is mounted first and last: its files read back as the host wrote them (the ext2b instance, or
its replacement after a crash, still serves). hostile.no_server_crashed fails if ext2b (or any
server) was restarted: a hostile image must get errors, not a crash. Called by tools/test.py as
run(record, module)."""
import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
import time

from qemu import BUILD, Boot, disk, run_boot
from suite_system import PROMPT

BS = 1024
BLOCKS = 4096           # a 4 MiB image, 1 KiB blocks, 4 groups of 1024 blocks
IMAGE_BOUND = 20        # seconds one image's commands may take (about 1 s is usual)

# hostile_image: one image's commands; each step prints "H STEP STATUS", the last "H end". stdout of the
# reads goes to files under /tmp (tmpfs), kept short on the console.
H = ("hostile_image() { cd /; mount -t ext2b none /mnt 2>/tmp/me; echo H mount $? $(head -c 60 /tmp/me); "
     "ls -lR /mnt >/dev/null 2>&1; echo H ls $?; "
     "find /mnt >/tmp/f 2>/dev/null; echo H find $? $(wc -l </tmp/f); "
     "stat /mnt /mnt/* >/dev/null 2>&1; echo H stat $?; "
     "(cd /mnt && find . -type f | sort | xargs md5sum) >/tmp/m 2>/dev/null; echo H read $?; "
     "readlink /mnt/fast >/tmp/l 2>/dev/null && readlink /mnt/slow >>/tmp/l 2>/dev/null; echo H readlink $?; "
     "echo more >> /mnt/small 2>/dev/null; echo H append $?; "
     "echo x | dd of=/mnt/medium conv=notrunc 2>/dev/null; echo H overwrite $?; "
     "echo new > /mnt/new 2>/dev/null; echo H create $?; "
     "mkdir /mnt/newdir 2>/dev/null; echo H mkdir $?; "
     "rm /mnt/medium 2>/dev/null; echo H unlink $?; "
     "df /mnt >/dev/null 2>&1; echo H df $?; "
     "umount /mnt 2>/dev/null; echo H umount $?; "
     "echo H root $(head -c 20 /etc/passwd | md5sum | head -c 8) $(wc -w </proc/uptime) "
     "$(grep -c ext2b /proc/mounts); "
     "echo H restarts $(service list | awk 'NR > 1 { n += $4 } END { print n }'); echo H end; }")


# ---- the good image

def make_tree(root):
    """The good image's files: (path -> bytes of every regular file, path -> symlink target)."""
    files, links = {}, {}

    def put(path, data):
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        files[path] = data

    put("small", b"hello, hostile world\n")
    put("medium", bytes((i * 7 + i // 1024) & 0xff for i in range(40 * 1024)))  # the indirect block
    for i in range(60):                                                      # a 3-block directory
        put(f"dir/f{i:04d}", f"file {i}\n".encode())
    put("deep/a/b/c/d/e/f/g/h/file", b"at the bottom\n")
    sparse = os.path.join(root, "sparse")  # blocks at 0, 100 KiB (indirect) and 1 MiB (double)
    with open(sparse, "wb") as f:
        for off, text in ((0, b"head"), (100 << 10, b"middle"), (1 << 20, b"tail")):
            f.seek(off)
            f.write(text)
    with open(sparse, "rb") as f:
        files["sparse"] = f.read()
    os.symlink("small", os.path.join(root, "fast"))
    links["fast"] = "small"
    slow = "deep/a/b/c/d/e/f/g/h/../../../../../../../../../deep/a/b/c/d/e/f/g/h/file"
    os.symlink(slow, os.path.join(root, "slow"))
    links["slow"] = slow
    os.link(os.path.join(root, "small"), os.path.join(root, "dir/hardlink"))
    files["dir/hardlink"] = files["small"]
    return files, links


def make_good(tmp):
    tree = os.path.join(tmp, "tree")
    os.mkdir(tree)
    files, links = make_tree(tree)
    img = os.path.join(tmp, "good.img")
    env = dict(os.environ, E2FSPROGS_FAKE_TIME="1700000000")
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", str(BS), "-g", "1024", "-N", "256",
                    "-L", "hostile", "-U", "6b2f6e2a-1c9e-4c43-9e5a-000000000010",
                    "-E", "root_owner=0:0,hash_seed=6b2f6e2a-1c9e-4c43-9e5a-000000000011",
                    "-d", tree, img, str(BLOCKS)], check=True, env=env, capture_output=True)
    with open(img, "rb") as f:
        return f.read(), files, links


# ---- reading the image: debugfs for inodes and blocks, Python for directory entries

def debugfs(img, request, write=False):
    """debugfs's answer to request; RuntimeError for anything it says on stderr but its banner
    (it exits 0 on a bad request)."""
    out = subprocess.run(["debugfs"] + (["-w"] if write else []) + ["-R", request, img],
                         capture_output=True, text=True)
    said = [line for line in out.stderr.splitlines() if not line.startswith("debugfs ")]
    if said:
        raise RuntimeError(f"debugfs {request!r}: {said[0]}")
    return out.stdout


def inode_of(img, path):
    m = re.search(r"Inode: (\d+)", debugfs(img, f"stat {path}"))
    return int(m.group(1))


def stat_field(img, path, label):
    """A block number from debugfs's `stat` of path: label is BLOCKS's '(IND)', '(0)' etc."""
    m = re.search(re.escape(label) + r":(\d+)", debugfs(img, f"stat {path}"))
    return int(m.group(1)) if m else None


def dir_blocks(img, path):
    return [int(b) for b in debugfs(img, f"blocks {path}").split()]


def entry_offset(img, data, path, name):
    """The byte offset in data of directory path's entry called name."""
    for blk in dir_blocks(img, path):
        off = 0
        while off + 8 <= BS:
            at = blk * BS + off
            rec_len = int.from_bytes(data[at + 4:at + 6], "little")
            name_len = data[at + 6]
            if data[at + 8:at + 8 + name_len] == name.encode():
                return at
            if rec_len < 8:
                break
            off += rec_len
    raise RuntimeError(f"no entry {name} in {path}")


def group0_metadata_end(img):
    """The block after group 0's inode table."""
    m = re.search(r"Inode table at (\d+)-(\d+)", subprocess.run(
        ["dumpe2fs", img], capture_output=True, text=True).stdout)
    return int(m.group(2)) + 1


# ---- the corruptions: name -> function(img path, bytearray of the image) changing one or both

def sb(field, value):  # the superblock through debugfs
    return lambda img, data: debugfs(img, f"ssv {field} {value}", write=True)


def cmd(*requests):
    def go(img, data):
        for r in requests:
            debugfs(img, r, write=True)
    return go


def raw(at, value, size):
    def go(img, data):
        data[at:at + size] = value.to_bytes(size, "little")
    return go


def entry(path, name, field, value, size):
    """Directory path's entry name: size bytes at field (0 inode, 4 rec_len, 6 name_len) become
    value, or value(img) when it is a function."""
    def go(img, data):
        at = entry_offset(img, data, path, name) + field
        data[at:at + size] = (value(img) if callable(value) else value).to_bytes(size, "little")
    return go


def fill_block(which):
    """Overwrite the block which(img) with seeded garbage."""
    def go(img, data):
        blk = which(img)
        rng = random.Random(blk)
        data[blk * BS:(blk + 1) * BS] = bytes(rng.randrange(256) for _ in range(BS))
    return go


def flips(seed, count=48):
    """count seeded random byte changes over group 0's metadata (superblock, descriptors,
    bitmaps, inode table) and the directories' blocks."""
    def go(img, data):
        rng = random.Random(seed)
        areas = [(BS, group0_metadata_end(img) * BS)]
        areas += [(b * BS, (b + 1) * BS) for p in ("/", "/dir", "/deep") for b in dir_blocks(img, p)]
        for _ in range(count):
            start, end = rng.choice(areas)
            at = rng.randrange(start, end)
            data[at] ^= rng.randrange(1, 256)
    return go


CORRUPTIONS = [
    ("bad_magic", raw(1024 + 56, 0x1234, 2)),
    ("block_size_huge", sb("log_block_size", "20")),
    ("blocks_per_group_zero", sb("blocks_per_group", "0")),
    ("blocks_per_group_huge", sb("blocks_per_group", "0xffffffff")),
    ("inodes_per_group_zero", sb("inodes_per_group", "0")),
    ("inodes_per_group_huge", sb("inodes_per_group", "0xffffffff")),
    ("group_block_bitmap_out_of_range", cmd("set_bg 1 block_bitmap 0xfffffff0")),
    ("group_inode_bitmap_out_of_range", cmd("set_bg 2 inode_bitmap 5000")),
    ("group_inode_table_out_of_range", cmd("set_bg 0 inode_table 0xffffff00")),
    ("group_inode_table_on_superblock", cmd("set_bg 0 inode_table 1")),
    ("root_not_dir", cmd("sif <2> mode 0100644")),
    ("rec_len_zero", entry("/", "small", 4, 0, 2)),
    ("rec_len_past_block", entry("/dir", "f0010", 4, BS + 64, 2)),
    ("name_len_past_rec_len", entry("/dir", "f0010", 6, 250, 1)),
    ("dir_loops_to_itself", cmd("link /dir /dir/self")),
    ("dir_points_at_root", cmd("link / /deep/a/b/up")),
    ("dir_dotdot_loops", entry("/deep/a/b", "..", 0, lambda img: inode_of(img, "/deep/a/b/c"), 4)),
    ("dir_hole", cmd("sif /deep/a/b block[0] 0")),
    ("size_2_63", cmd("sif /small size 0x8000000000000000")),
    ("size_2_64_minus_1", cmd("sif /small size 0xffffffffffffffff")),
    ("dir_size_huge", cmd("sif /dir size 0xfffffc00")),
    ("blocks_out_of_range", cmd("sif /medium block[0] 0xfffffff0", "sif /medium block[IND] 5000")),
    ("blocks_on_superblock", cmd("sif /medium block[0] 1", "sif /medium block[1] 2")),
    ("indirect_garbage", fill_block(lambda img: stat_field(img, "/medium", "(IND)"))),
    ("double_indirect_garbage", fill_block(lambda img: stat_field(img, "/sparse", "(DIND)"))),
    ("symlink_huge_length", cmd("sif /slow size 0xfffffff0")),
    ("links_zero_live_file", cmd("sif /medium links_count 0")),
    ("free_counts_wrong", cmd("ssv free_blocks_count 0xffffffff", "ssv free_inodes_count 0",
                              "set_bg 0 free_blocks_count 60000", "set_bg 1 free_inodes_count 0")),
] + [(f"random_flips_{seed}", flips(seed)) for seed in (1, 2, 3, 4, 5, 6)]


def corrupted(tmp, good, how):
    img = os.path.join(tmp, "work.img")
    with open(img, "wb") as f:
        f.write(good)
    with open(img, "rb") as f:
        data = bytearray(f.read())
    before = bytes(data)
    how(img, data)
    if bytes(data) != before:      # a change in Python
        with open(img, "wb") as f:
            f.write(data)
    with open(img, "rb") as f:
        return f.read()


# ---- the boot

def hostile_boot(disk_file):
    """make run's system (ROOT=ext2 on virtio-blk, no card) with the AHCI disk, its driver and
    ext2b before vfs."""
    mods, flags = run_boot("none", (), "ext2", "virtio")
    driver, disk_flags = disk(disk_file, "ahci", 1)
    vfs = next(i for i, m in enumerate(mods) if m.split()[0] == os.path.join(BUILD, "vfs"))
    mods[vfs:vfs] = [os.path.join(BUILD, driver), os.path.join(BUILD, "ext2b") + " ahci 0 rw ext2b"]
    return Boot(mods, extra=flags + disk_flags, console=True)


def steps(out):
    """{step: [words]} from hostile_image's "H STEP ..." lines."""
    return {w[1]: w[2:] for w in (line.split() for line in out or []) if len(w) >= 2 and w[0] == "H"}


def run(record, module):
    if not os.path.exists(os.path.join(BUILD, "ext2b")) or not os.path.exists(
            os.path.join(BUILD, "disk.img")):
        record("hostile.built", False, "build/ext2b or build/disk.img missing (make)")
        return
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        good, files, links = make_good(tmp)
        want_md5 = [f"{hashlib.md5(files[p]).hexdigest()}  ./{p}" for p in sorted(files)]
        disk_file = os.path.join(tmp, "disk.img")
        with open(disk_file, "wb") as f:
            f.write(good)
        with open(os.path.join(BUILD, "rootfs", "etc", "passwd"), "rb") as f:
            root_sum = hashlib.md5(f.read()[:20]).hexdigest()[:8]
        started = time.monotonic()
        with hostile_boot(disk_file) as boot:
            if not boot.wait_prompt(PROMPT, 90):
                record("hostile.prompt", False, "no prompt", boot.tail())
                return
            boot.run(H, PROMPT, 30)
            run_images(record, boot, tmp, disk_file, good, want_md5, links, root_sum)
        print(f"(hostile: {time.monotonic() - started:.0f} s)", flush=True)


def swap(disk_file, data):
    """The next image into the disk's file, in place (QEMU keeps the file open)."""
    with open(disk_file, "r+b") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def run_image(boot):
    """hostile_image on the image in the disk: (its steps, seconds, the serial lines). Past IMAGE_BOUND, ^C
    (the shell gets its prompt back if the system still answers) and the mount taken down."""
    start = len(boot.lines)
    t0 = time.monotonic()
    out = boot.run("hostile_image", PROMPT, IMAGE_BOUND)
    took = time.monotonic() - t0
    if out is None:
        boot.send("\x03")
        if boot.wait_prompt(PROMPT, 10, after=len(boot.lines)):
            boot.run("cd /; umount /mnt", PROMPT, 30)
    return steps(out), took, [t for _, t in boot.lines[start:]]


def fresh_ext2b(boot):
    """A new ext2b instance (it reads the disk's new image at its start); every service's
    restarts afterwards (the administrator's restart counts as one)."""
    out = boot.run("service restart ext2b >/dev/null 2>&1; sleep 1; "
                   "service list | awk 'NR > 1 { n += $4 } END { print n }'", PROMPT, 30)
    return int(out[-1]) if out and out[-1].isdigit() else 0


def fs_state(disk_file):
    """dumpe2fs's "Filesystem state" of the disk after the image's umount."""
    out = subprocess.run(["dumpe2fs", "-h", disk_file], capture_output=True, text=True).stdout
    m = re.search(r"^Filesystem state:\s*(.*)$", out, re.M)
    return m.group(1).strip() if m else "?"


def check_good(record, boot, name, want_md5, links):
    out = boot.run("mount -t ext2b none /mnt && (cd /mnt && find . -type f | sort | xargs md5sum);"
                   " readlink /mnt/fast; readlink /mnt/slow; umount /mnt; echo st=$?", PROMPT, 60)
    want = want_md5 + [links["fast"], links["slow"], "st=0"]
    got = [line for line in out or [] if not line.startswith(("ext2", "vfs:", "rs:", "root:"))]
    ok = got == want
    record(name, ok, f"{len(want_md5)} files" if ok else f"printed {got!r}",
           None if ok else boot.tail())


def run_images(record, boot, tmp, disk_file, good, want_md5, links, root_sum):
    check_good(record, boot, "hostile.good_image_reads_right", want_md5, links)
    crashed, restarts_seen, stale = [], 0, False
    for name, how in CORRUPTIONS:
        try:
            data = corrupted(tmp, good, how)
        except (RuntimeError, subprocess.SubprocessError) as e:
            record(f"hostile.{name}", False, f"cannot make the image: {e}")
            continue
        swap(disk_file, data)
        if stale:
            restarts_seen, stale = fresh_ext2b(boot), False
        got, took, lines = run_image(boot)
        count = int(got.get("restarts", ["0"])[0] or 0)  # every service's restarts, from rs
        died, restarts_seen = count > restarts_seen, max(count, restarts_seen)
        crashed += [name] if died else []
        mounted = got.get("mount", ["?"])[0] == "0"
        root = got.get("root", [])
        ok = ("end" in got and root == [root_sum, "2", "0"] and
              (not mounted or got.get("umount", ["?"])[0] == "0"))
        summary = " ".join(f"{k}={v[0] if v else ''}" for k, v in got.items()
                           if k not in ("root", "end", "restarts"))
        said = [t for t in lines if t.startswith(("ext2b:", "ext2:", "vfs:"))][:3]
        if mounted:
            summary += f" state={fs_state(disk_file).replace(' ', '_')}"
        record(f"hostile.{name}", ok, f"{summary} ({took:.1f} s)" +
               ("; " + " | ".join(said) if said else "") + ("; restarted" if died else ""),
               None if ok else lines[-30:])
        stale = died  # a new instance mounted this image at its start: the next needs another
    swap(disk_file, good)
    if stale:
        fresh_ext2b(boot)
    check_good(record, boot, "hostile.good_image_after_all", want_md5, links)
    record("hostile.no_server_crashed", not crashed,
           "restarts (service list) after " + ", ".join(crashed) if crashed else "")
    panics = [t for _, t in boot.lines if "kernel panic" in t]
    record("hostile.no_kernel_panic", not panics, panics[0] if panics else "")
