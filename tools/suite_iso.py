"""make iso's CD (docs/BOOT.md): check that the grub.cfg on it is `make run`'s module list, boot it
once the way `make run ISO=1` does (no -kernel: the firmware, then GRUB from the CD), reach the
shell, run commands. The kernel names its loader ("kernel: loaded by GRUB ..."; -kernel boots say
"qemu"), and rs starts the services GRUB's module lines named. Its root is ramfs unless make iso
was given ROOT (tools/qemu.py: ISO_ROOT_DEFAULT), so it also boots alone: QEMU's defaults (the pc
machine, 128 MiB, an e1000 card the CD has no driver for) and nothing but -cdrom and -nographic.
Called by tools/test.py as run(record, module)."""
import os
import subprocess
import tempfile
import time

from qemu import BUILD, Boot, grub_cfg, make_run_boot, run_env
from suite_system import PROMPT, check

ISO = os.path.join(BUILD, "samsara.iso")


def run(record, module):
    if not os.path.exists(ISO):
        record("iso.built", False, "build/samsara.iso missing (make iso)")
        return
    mods, flags = make_run_boot(iso=True)  # make run's card and disk (a snapshot), its IOMMU
    root = run_env(iso=True)[1]
    check_grub_cfg(record, mods)
    # the contrast: under -kernel the same kernel names QEMU as its loader
    with Boot([module("root")]) as boot:
        i, m = boot.wait_for(r"^kernel: loaded by (.*)", timeout=30)
        record("iso.kernel_boot_loaded_by_qemu", i is not None and m.group(1) == "qemu",
               m.group(0) if m else "no loader line", boot.tail())
    boot = Boot([], extra=flags, console=True, cdrom=ISO)
    try:
        ok = boot.wait_prompt(PROMPT, 60)
        prompt = time.monotonic() - boot.start
        grub, _ = boot.wait_for(r"Booting `Samsara'", timeout=0)
        kernel, _ = boot.wait_for(r"^Samsara kernel booting", timeout=0)
        at = lambda i: f"{boot.lines[i][0]:.2f} s" if i is not None else "never"  # noqa: E731
        record("iso.shell_prompt", ok,
               f"GRUB's entry {at(grub)}, kernel {at(kernel)}, prompt "
               + (f"{prompt:.2f} s" if ok else "never") + " after QEMU started",
               boot.tail())
        loader = [t for _, t in boot.lines if t.startswith("kernel: loaded by ")]
        ok_loader = loader[:1] and loader[0].startswith("kernel: loaded by GRUB") and \
            "-kernel" not in boot.proc.args and "-cdrom" in boot.proc.args
        record("iso.loaded_by_grub_from_cd", bool(ok_loader), loader[0] if loader else "no loader line",
               None if ok_loader else boot.tail())
        services = [os.path.basename(m.split()[0]) for m in mods[1:]]
        services = [s for s in services if s not in ("initramfs.cpio", "manifests")]
        started = [t for _, t in boot.lines if t.startswith("rs: started ")]
        want = f"rs: started {len(services)} services: {' '.join(services)}"
        ok_started = started == [want]
        record("iso.services_from_grub_module_lines", ok_started,
               "" if ok_started else f"want {want!r}, saw {started!r}",
               None if ok_started else boot.tail())
        if ok:
            # pm's module argument (/sbin/init) came through GRUB's module line
            check(record, boot, "iso.shell_uname_and_init",
                  "uname -a; tr '\\0' ' ' < /proc/1/cmdline; echo",
                  lambda out: len(out) == 2 and out[0].startswith("Samsara samsara ")
                  and out[1].strip() == "/sbin/init")
    finally:
        boot.kill()
    if root == "ramfs":
        boots_alone(record)


def boots_alone(record):
    """`qemu-system-x86_64 -cdrom samsara.iso -nographic` as a user types it: the shell, the
    BusyBox in the initramfs, the network driver (virtio_net; QEMU's default card is an e1000)
    down once with no restart loop."""
    with Boot([], command=["qemu-system-x86_64", "-cdrom", ISO, "-nographic", "-no-reboot"],
              console=True) as boot:
        ok = boot.wait_prompt(PROMPT, 90)
        record("iso.boots_alone", ok, f"prompt after {time.monotonic() - boot.start:.1f} s"
               if ok else "no prompt", None if ok else boot.tail())
        if not ok:
            return
        check(record, boot, "iso.alone_shell",
              "uname -s; grep ' / ' /proc/mounts; ls /bin | wc -l",
              lambda out: len(out) == 3 and out[0] == "Samsara" and out[1].startswith("ramfs / ")
              and out[2].isdigit() and int(out[2]) > 300)
        downs = [t for _, t in boot.lines if t.startswith("rs: service virtio_net is down")]
        record("iso.alone_no_card_driver_down_once", len(downs) == 1, f"{downs!r}")


def check_grub_cfg(record, mods):
    """The grub.cfg on the CD is the one tools/qemu.py makes from make run's modules."""
    with tempfile.TemporaryDirectory(prefix="iso-") as tmp:
        out = os.path.join(tmp, "grub.cfg")
        res = subprocess.run(["xorriso", "-osirrox", "on", "-indev", ISO, "-extract",
                              "/boot/grub/grub.cfg", out], capture_output=True, text=True)
        cfg = open(out).read() if res.returncode == 0 and os.path.exists(out) else None
    ok = cfg == grub_cfg(mods)
    record("iso.grub_cfg_is_make_runs", ok,
           "" if ok else ("cannot read it: " + res.stderr[-300:] if cfg is None
                          else "differs from tools/qemu.py --grub-cfg (make iso again)"))
