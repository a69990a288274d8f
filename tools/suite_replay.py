"""vfs replays a file server's request in flight to rs's new instance (docs/FILESYSTEMS.md,
"Replay"). ext2 mounted on /mnt (ramfs the root: tools/suite_ext2.py's boot) is killed 50 times,
every 100-300 ms, while a shell loop reads a 3.4 MB file (dd, 4 KiB a read: more than ext2's cache, so it
waits for the disk) and checks its sha256; then 50 times while
another lists a directory of 200 files (getdents, stat of each); the readers must see zero
errors (before replay: every read met by a kill failed with EIO). Then mkdir (a request that may not
run twice on a fresh ext2) under kills: each either completes or fails with EIO, never EEXIST. Last, tmpfs on /tmp (ROOT=ext2's boot) killed 50 times under stat and
directory reads of its root, which a fresh tmpfs has too: zero errors. And exact replay
(exact_boot): ext2 and ramfs die after committing each kind of changing request, before the
answer; every call succeeds once.

Each phase prints `reads=N errors=E kills=K`; the counts go into the test's line.
Called by tools/test.py as run(record, module)."""
import os
import re
import shlex
import shutil
import tempfile

from qemu import BUILD, Boot, run_boot
from suite_ext2 import make_image
from suite_mount import modules

PROMPT = "# "
KILLS = 50
SEQ = 500000  # 3.4 MB: more than ext2's cache of 1 MiB (1 KiB blocks), so reads wait for the disk

# The killer: KILLS kills of LABEL, 100-300 ms apart, then /done appears.
KILLER = ("(k=0; for t in $(seq 1 {kills}); do service kill {label} >/dev/null 2>&1 && "
          "k=$((k+1)); sleep 0.$((t % 3 + 1)); done; echo $k > /done) &")


def script(label, body, check):
    """A shell script: the killer in the background, body run over and over until it is done,
    each run's output compared with check's; prints reads, errors and kills."""
    return "\n".join([
        "rm -f /done; n=0; e=0",
        KILLER.format(kills=KILLS, label=label),
        "while [ ! -e /done ]; do",
        f"  x=$({body} 2>&1)",
        f'  if [ "$x" != "{check}" ]; then e=$((e+1)); echo "bad: $x" | head -3; fi',
        "  n=$((n+1))",
        "done",
        "echo reads=$n errors=$e kills=$(cat /done)",
        ""])


def put_script(boot, path, text):
    """Write text to path in the guest, a line a command (a here-document typed at once loses
    characters); True if every line went."""
    boot.run(f"rm -f {path}", PROMPT, 10)
    for line in text.splitlines():
        if boot.run(f"echo {shlex.quote(line)} >> {path}", PROMPT, 10) is None:
            return False
    return True


def counts(out):
    m = re.search(r"reads=(\d+) errors=(\d+) kills=(\d+)", " ".join(out or []))
    return tuple(int(x) for x in m.groups()) if m else None


def phase(record, boot, name, path, text, timeout=120):
    """Run the script; the test passes with zero errors and every kill made."""
    if not put_script(boot, path, text):
        record(name, False, "no prompt after writing the script", boot.tail())
        return None
    with boot.cond:
        start = len(boot.lines)
    out = boot.run(f"sh {path}", PROMPT, timeout)
    with boot.cond:
        waited = sum(int(m.group(1)) for _, t in boot.lines[start:]
                     if (m := re.search(r"restarted: .*; (\d+) calls waited", t)))
    c = counts(out)
    ok = c is not None and c[1] == 0 and c[2] == KILLS and c[0] > 0
    record(name, ok, (f"reads={c[0]} errors={c[1]} kills={c[2]}" if c else "no counts") +
           f", calls that waited for a new instance: {waited}",
           None if ok else (out or [])[-10:] + boot.tail(15))
    return out


def ext2_boot(record, tmp):
    img = os.path.join(tmp, "disk.img")
    make_image(tmp, img)
    mods, flags = run_boot("none", (), "ramfs", "virtio", img)
    with Boot(mods, extra=flags, console=True) as boot:
        if not boot.wait_prompt(PROMPT, 60):
            record("replay.ext2.prompt", False, "no prompt", boot.tail())
            return
        out = boot.run(f"seq 1 {SEQ} > /mnt/seq; sync; sha256sum < /mnt/seq", PROMPT, 30)
        want = (out or [""])[-1].strip()
        ok = re.fullmatch(r"[0-9a-f]{64}\s+-", want) is not None
        record("replay.ext2.file_written", ok, want, None if ok else boot.tail())
        if not ok:
            return
        phase(record, boot, "replay.ext2.reads_under_kills", "/r.sh",
              script("ext2", "dd if=/mnt/seq bs=4096 2>/dev/null | sha256sum", want))
        phase(record, boot, "replay.ext2.listing_under_kills", "/l.sh",
              script("ext2", "ls -l /mnt/sub | wc -l", "201"))
        # mkdir may not run twice on a fresh ext2: completed, or EIO; never EEXIST (its first
        # run made it). (A directory made may still be lost with the dead instance's cache.)
        text = "\n".join([
            "rm -f /done; n=0; e=0; other=0",
            KILLER.format(kills=KILLS, label="ext2"),
            "while [ ! -e /done ]; do",
            "  n=$((n+1))",
            "  x=$(mkdir /mnt/dir$n 2>&1) || case \"$x\" in *'I/O error'*) e=$((e+1));;"
            " *) other=$((other+1)); echo \"bad: $x\";; esac",
            "done",
            "echo reads=$n errors=$other kills=$(cat /done) eio=$e",
            ""])
        out = phase(record, boot, "replay.ext2.mkdir_completes_or_eio", "/m.sh", text)
        eio = re.search(r"eio=(\d+)", " ".join(out or []))
        record("replay.ext2.mkdir_eio_counted", eio is not None,
               f"mkdirs that failed with EIO: {eio.group(1) if eio else '?'}")


def tmpfs_boot(record, tmp):
    img = os.path.join(tmp, "root.img")
    shutil.copy(os.path.join(BUILD, "disk.img"), img)
    mods, flags = run_boot("none", (), "ext2", "virtio", img)
    with Boot(mods, extra=flags, console=True) as boot:
        if not boot.wait_prompt(PROMPT, 90):
            record("replay.tmpfs.prompt", False, "no prompt", boot.tail())
            return
        phase(record, boot, "replay.tmpfs.stat_under_kills", "/root/t.sh",
              script("tmpfs", "echo $(stat -c %F /tmp) $(ls -a /tmp | wc -l)", "directory 2"))


def stallfs_boot(record):
    """tests/servers/stallfs on /mnt holds a request 3 s (FS_SUSPENDED); killed meanwhile, the
    request dies in it for sure: a lookup (cat) runs again on the new instance and completes; a
    mkdir (may not run twice on a fresh instance) fails with EIO."""
    with Boot(modules("root=ramfs mount=/mnt:stallfs", ("stallfs",)), console=True) as boot:
        if not boot.wait_prompt(PROMPT, 90):
            record("replay.stallfs.prompt", False, "no prompt", boot.tail())
            return
        for name, command, want in [
                ("replay.stallfs.lookup_inside_request_runs_again",
                 "(cat /mnt/stall > /r1 2>&1; echo st=$? >> /r1) & sleep 1; "
                 "service kill stallfs >/dev/null; wait; cat /r1", ["stalled", "st=0"]),
                ("replay.stallfs.mkdir_inside_request_eio",
                 "(mkdir /mnt/stalldir 2> /r2; echo st=$? >> /r2) & sleep 1; "
                 "service kill stallfs >/dev/null; wait; cat /r2",
                 ["mkdir: can't create directory '/mnt/stalldir': I/O error", "st=1"])]:
            out = boot.run(command, PROMPT, 30)
            got = [t for t in (out or []) if not t.startswith(("[1]", "vfs: ", "rs: "))]
            with boot.cond:
                waited = sum(int(m.group(1)) for _, t in boot.lines
                             if (m := re.search(r"stallfs .*restarted: .*; (\d+) calls waited", t)))
            ok = got[-2:] == want
            record(name, ok, f"{got[-2:]}, calls that waited so far: {waited}",
                   None if ok else boot.tail(20))


# Exact replay: each call's request dies with its server right after the commit, before the
# answer (lib/fsdriver's test hook, armed by looking up FSDRIVER_DIE_AFTER_COMMIT), and each call
# must succeed once: no EEXIST for the exclusive create, the appended line once.
EXACT_CALLS = [
    ("rm", "rm u1"), ("mv", "mv r1 r2"), ("mkdir", "mkdir d1"), ("ln", "ln l1 l2"),
    ("symlink", "ln -s l1 s1"), ("excl", "(set -C; echo new > e1)"),
    ("append", "echo more >&3")]
EXACT_WANT = "files app d1 e1 l1 l2 r2 s1 x more new 2 l1 directory"


def exact_script(directory, tag):
    lines = [f"mkdir -p {directory}; cd {directory}",
             "echo a > u1; echo b > r1; echo c > l1; echo x > app; exec 3>>app"]
    for i, (name, command) in enumerate(EXACT_CALLS):
        lines.append(f"ls .die-after-commit-{tag}{i} 2>/dev/null; {command}; echo {name}=$?")
    lines += ["exec 3>&-",
              "echo files $(ls) $(cat app) $(cat e1) $(stat -c %h l1) $(readlink s1) "
              "$(stat -c %F d1)", "cd /"]
    return "\n".join(lines) + "\n"


def exact_boot(record, tmp):
    """ext2 on /mnt (`crashtest`) and the root ramfs (`crash-hook`), each made to die after
    committing an unlink, a rename, a mkdir, a link, a symlink, an exclusive create and an
    O_APPEND write, before the answer: vfs asks the new instance (FS_LAST) and every call
    succeeds once (the heuristic before it failed the exclusive create with EEXIST and wrote the
    appended line twice)."""
    img = os.path.join(tmp, "exact.img")
    make_image(tmp, img)
    mods, flags = run_boot("none", (), "ramfs", "virtio", img)
    hooks = {"/ext2": " virtio_blk 0 rw ext2 crashtest", "/ramfs": " initramfs.cpio vfs ramfs crash-hook"}
    mods = [m.split()[0] + hooks[k] if (k := next((h for h in hooks if m.split()[0].endswith(h)),
                                                  None)) else m for m in mods]
    with Boot(mods, extra=flags, console=True) as boot:
        if not boot.wait_prompt(PROMPT, 60):
            record("replay.exact.prompt", False, "no prompt", boot.tail())
            return
        for label, directory, tag in [("ext2", "/mnt/x", "e"), ("ramfs", "/x", "r")]:
            if not put_script(boot, "/x.sh", exact_script(directory, tag)):
                record(f"replay.exact.{label}", False, "no prompt after the script", boot.tail())
                continue
            with boot.cond:
                start = len(boot.lines)
            out = boot.run("sh /x.sh", PROMPT, 90) or []
            with boot.cond:
                died = [t for _, t in boot.lines[start:]
                        if f"{label}: test hook: dying after committing" in t]
            got = [t for t in out if re.fullmatch(r"\w+=\d+|files .*", t.strip())]
            want = [f"{name}=0" for name, _ in EXACT_CALLS] + [EXACT_WANT]
            ok = [t.strip() for t in got] == want and len(died) == len(EXACT_CALLS)
            record(f"replay.exact.{label}_calls_once", ok,
                   f"{len(died)} deaths after a commit; " + " ".join(t.strip() for t in got),
                   None if ok else out[-20:] + boot.tail(20))


def run(record, module):
    with tempfile.TemporaryDirectory(prefix="replay-") as tmp:
        exact_boot(record, tmp)
    stallfs_boot(record)
    with tempfile.TemporaryDirectory(prefix="replay-") as tmp:
        ext2_boot(record, tmp)
        if os.path.exists(os.path.join(BUILD, "disk.img")):
            tmpfs_boot(record, tmp)
        else:
            record("replay.tmpfs.disk_image_built", False, "build/disk.img missing (make)")
