#!/usr/bin/python3
"""Write .cargo/layout.ld: the functions that the idle supervisor and the probes run, to be
placed side by side at the start of the static binary's code (see README.md, "The release
build").

The kernel maps a binary's code into a process 64 KiB at a time around each page it runs, so
a command's resident memory and start-up faults follow how many 64 KiB stretches its
functions are spread over. This script builds the binary with the linker's map, runs each of
those commands under valgrind's callgrind (which records the address of every instruction
that runs) against a stand-in server that answers as ZooKeeper does, finds each address's
input section (one per function) in the map, and writes one linker-script line per section,
the supervisor's first.

Run it after changing what those commands run (it needs valgrind: tests/install-deps.sh
test installs it), then rebuild from clean: cargo does not link again when only the linker
script changes.
    python3 tests/layout.py
"""
import bisect
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = "x86_64-unknown-linux-musl"
BUILD = os.path.join(ROOT, "target", "layout")
BINARY = os.path.join(BUILD, TARGET, "release", "zkpod")
MNTR = os.path.join(ROOT, "tests", "fixtures", "mntr-3.8-standalone.txt")
OUT = os.path.join(ROOT, ".cargo", "layout.ld")
# Where valgrind loads a position-independent executable (amd64), or the binary's own
# addresses.
VALGRIND_BASES = (0x108000, 0)

HEADER = """\
/* The functions the idle supervisor runs, then those the probes run (zookeeper-ready,
 * zookeeper-metrics raw), placed first in the code, in that order: each command then runs
 * code from a few 64 KiB stretches of the binary instead of most of them. Written by
 * tests/layout.py, which lists them with callgrind; a name missing here costs memory, never
 * correctness. Rust names end in a hash (legacy mangling) or hold a crate's disambiguator
 * (std's v0 mangling): both are wildcards here, so the list holds across builds. */
SECTIONS
{
  .text.hot :
  {
"""
FOOTER = """\
  }
}
INSERT BEFORE .text;
"""


def serve(listener, mntr):
    """Answers as ZooKeeper does: ruok, srvr, and mntr (a 3.8 server's)."""
    while True:
        conn, _ = listener.accept()
        with conn:
            word = conn.recv(4)
            if word == b"ruok":
                conn.sendall(b"imok")
            elif word == b"srvr":
                conn.sendall(b"Zookeeper version: 3.8.0\nMode: standalone\nNode count: 5\n")
            else:
                conn.sendall(mntr)


def sections(map_file):
    """The code's input sections from the linker's map: (start, end, name, object), sorted."""
    found = []
    with open(map_file) as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"^ (\.text\S*)(?:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*))?$", line)
        if not m:
            continue
        name, start, size, obj = m.groups()
        if start is None:  # a long name: its place is on the next line
            nxt = re.match(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$", lines[i + 1])
            if not nxt:
                continue
            start, size, obj = nxt.groups()
        start, size = int(start, 16), int(size, 16)
        if start and size:  # a section left out of the binary has none
            found.append((start, start + size, name, obj))
    return sorted(found)


def addresses(profile):
    """The addresses of the instructions that ran, from a callgrind profile (--dump-instr,
    --compress-pos=no)."""
    with open(profile) as f:
        return {int(line.split()[0], 16) for line in f if line.startswith("0x")}


def entry_point(binary):
    """Where the binary starts (its ELF header's entry)."""
    with open(binary, "rb") as f:
        header = f.read(32)
    return int.from_bytes(header[24:32], "little")


def pattern(name, obj):
    """The linker-script line that takes in this input section, in any build."""
    if name == ".text":  # assembly, or a file without a section per function
        member = re.search(r"\(([^()]+)\)$", obj)
        where = f"*{os.path.basename(obj.split('(')[0])}:{member.group(1)}" if member else \
            f"*{os.path.basename(obj)}"
        return f"    {where}(.text)"
    name = re.sub(r"^\.text\.(unlikely\.)?", "", name)
    name = re.sub(r"17h[0-9a-f]{16}E$", "17h*", name)
    name = re.sub(r"Cs[0-9a-zA-Z]+_", "Cs*_", name)
    # LLVM puts a function it finds rarely called in .text.unlikely.NAME.
    return f"    *(.text.{name} .text.unlikely.{name})"


def main():
    if not os.path.exists(OUT):  # the build reads it: start from an empty list
        with open(OUT, "w") as f:
            f.write(HEADER + FOOTER)
    # The linker flags of .cargo/config.toml, for the build below.
    with open(os.path.join(ROOT, ".cargo", "config.toml"), "rb") as f:
        flags = tomllib.load(f)["target"][TARGET]["rustflags"]
    map_file = os.path.join(BUILD, "zkpod.map")
    # The release build as it ships (stripped), so that its functions are the ones profiled.
    env = dict(os.environ,
               RUSTFLAGS=" ".join(flags + ["-C", f"link-arg=-Wl,-Map={map_file}"]))
    subprocess.run(["cargo", "build", "--quiet", "--release", "--target", TARGET,
                    "--target-dir", BUILD], cwd=ROOT, env=env, check=True)
    code = sections(map_file)
    starts = [start for start, _, _, _ in code]
    entry = entry_point(BINARY)

    with open(MNTR, "rb") as f:
        mntr = f.read()
    listener = socket.create_server(("127.0.0.1", 0))
    port = str(listener.getsockname()[1])
    threading.Thread(target=serve, args=(listener, mntr), daemon=True).start()
    groups = {
        "supervisor": [["supervise", "--", "sleep", "0.3"],
                       ["supervise", "--grace", "10", "--", "sleep", "0.3"]],
        "probes": [["ready", port], ["ready", "--serving", port], ["metrics", port]],
    }
    lines = {}
    with tempfile.TemporaryDirectory() as tmp:
        for group, commands in groups.items():
            lines[group] = set()
            # Twice each: how a supervisor's wait goes depends a little on timing.
            for i, args in enumerate(commands * 2):
                profile = os.path.join(tmp, f"{group}.{i}")
                run = subprocess.run(["valgrind", "--tool=callgrind", "--dump-instr=yes",
                                      "--compress-pos=no", f"--callgrind-out-file={profile}",
                                      BINARY, *args],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    sys.exit(f"layout: zkpod {' '.join(args)} failed: {run.stderr[-800:]}")
                ran = addresses(profile)
                # Where valgrind loaded the binary: the place that puts its entry among the
                # instructions that ran.
                load = next((base for base in VALGRIND_BASES if entry + base in ran), None)
                if load is None:
                    sys.exit(f"layout: cannot place the profile of zkpod {' '.join(args)}")
                for address in ran:
                    i = bisect.bisect_right(starts, address - load) - 1
                    if i >= 0 and address - load < code[i][1]:
                        lines[group].add(pattern(code[i][2], code[i][3]))
    # Code the commands run that callgrind does not count: parts of musl that valgrind does
    # itself (the thread area, memory mappings, signals, exit) or takes over (string
    # functions), and a formatting function reached from them. The page faults of the real
    # commands outside the placed code (perf trace -F all) show them.
    lines["supervisor"] |= {
        pattern(".text", "libc.a(__set_thread_area.lo)"),
        pattern(".text.static_init_tls", ""),
        pattern(".text.__mmap", ""),
        pattern(".text.__munmap", ""),
        pattern(".text.default_malloc", ""),
        pattern(".text.__sigaction", ""),
        pattern(".text._Exit", ""),
        pattern(".text.__strchrnul", ""),
        pattern(".text.strcmp", ""),
        pattern(".text._ZN44_$LT$$RF$T$u20$as$u20$core..fmt..Display$GT$3fmt17h0000000000000000E", ""),
    }
    first = sorted(lines["supervisor"])
    then = sorted(lines["probes"] - lines["supervisor"])
    with open(OUT, "w") as f:
        f.write(HEADER + "\n".join(first + then) + "\n" + FOOTER)
    print(f"layout: {len(first)} sections the supervisor runs, {len(then)} more the probes "
          f"run, in {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
