#!/usr/bin/python3
"""A ZooKeeper client (kazoo) for tests/image.sh. HOSTS is host:port[,host:port...].

  client.py write HOSTS PATH VALUE       create PATH (or set it) and wait for the answer
  client.py read HOST PATH               print PATH's value as this one server has it
  client.py writer HOSTS PREFIX STOP LOG write PREFIX/0, PREFIX/1, ... until the file STOP
                                         exists, and append every acknowledged number to LOG
  client.py verify HOST PREFIX LOG       every number in LOG exists under PREFIX on this server
"""

import logging
import os
import sys
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NodeExistsError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry

logging.basicConfig(level=logging.CRITICAL)


def connect(hosts, timeout=30):
    retry = KazooRetry(max_tries=-1, deadline=60, max_delay=1)
    zk = KazooClient(hosts=hosts, timeout=10, connection_retry=retry, command_retry=retry)
    try:
        zk.start(timeout=timeout)
    except KazooTimeoutError:
        sys.exit(f"client.py: could not connect to {hosts} in {timeout} s")
    return zk


def write(hosts, path, value):
    zk = connect(hosts)
    try:
        zk.create(path, value.encode(), makepath=True)
    except NodeExistsError:
        zk.set(path, value.encode())
    zk.stop()


def read(host, path):
    zk = connect(host)
    zk.sync(path)
    print(zk.get(path)[0].decode())
    zk.stop()


def writer(hosts, prefix, stop, log):
    """Writes one node after another; a write counts once the ensemble acknowledged it."""
    zk = connect(hosts)
    zk.retry(zk.ensure_path, prefix)
    started, n, failures = time.monotonic(), 0, 0
    with open(log, "a") as out:
        # Bounded: at most ten minutes and 100000 writes, whatever happens to STOP.
        while not os.path.exists(stop) and time.monotonic() - started < 600 and n < 100000:
            try:
                zk.retry(zk.create, f"{prefix}/{n}", b"x")
            except NodeExistsError:
                pass  # acknowledged before a lost answer, then retried
            except KazooException as e:
                failures += 1
                print(f"client.py: write {n} failed: {e!r}", file=sys.stderr)
                time.sleep(0.5)
                continue
            out.write(f"{n}\n")
            out.flush()
            n += 1
            time.sleep(0.05)
    zk.stop()
    print(f"{n} writes acknowledged, {failures} failed")
    sys.exit(1 if failures else 0)


def verify(host, prefix, log):
    with open(log) as f:
        acknowledged = {line.strip() for line in f if line.strip()}
    zk = connect(host)
    zk.sync(prefix)
    present = set(zk.get_children(prefix))
    zk.stop()
    missing = sorted(acknowledged - present, key=int)
    if missing:
        sys.exit(f"client.py: {host} lacks {len(missing)} acknowledged writes: {missing[:10]}")
    print(f"{host} has all {len(acknowledged)} acknowledged writes")


if __name__ == "__main__":
    commands = {"write": (write, 3), "read": (read, 2), "writer": (writer, 4), "verify": (verify, 3)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands or len(sys.argv) != commands[sys.argv[1]][1] + 2:
        sys.exit(__doc__)
    commands[sys.argv[1]][0](*sys.argv[2:])
