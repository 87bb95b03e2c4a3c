#!/usr/bin/python3
"""zkpod side by side with what it replaces, measured in one run.

Peers: the original probe and metrics methods (bash running `echo WORD | nc`), a bash script
that does the original start-up's work, and Debian's tini. Times are medians over many runs,
taken with hyperfine in alternating rounds (A then B, then B then A, ...), so drift on a noisy
machine hits both sides; results are ratios. Every budget is about what a user sees: a whole
command's wall time, and the memory an idle PID 1 holds that the kernel cannot reclaim. Run
through tests/bench.sh, as root.
"""

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZKPOD = os.path.join(ROOT, "target", "x86_64-unknown-linux-musl", "release", "zkpod")
PYTHON = "/usr/bin/python3"  # Debian's, which has kazoo

# The original methods, as the seed image's scripts ran them (bash and netcat, no timeout):
# started through `#!/usr/bin/env bash`; the metrics script asks `localhost`, the probe
# 127.0.0.1.
ORIGINAL_PROBE = """#!/usr/bin/env bash
answer=$(echo ruok | nc 127.0.0.1 "$1")
[ "$answer" == "imok" ]
"""
ORIGINAL_METRICS = """#!/usr/bin/env bash
echo mntr | nc localhost "$1"
"""
# The same methods made leaner than the image made them: bash started directly, and the
# metrics asked of 127.0.0.1. Shown beside the originals, without a budget.
LEAN_PROBE = ORIGINAL_PROBE.replace("#!/usr/bin/env bash", "#!/bin/bash")
LEAN_METRICS = ORIGINAL_METRICS.replace("#!/usr/bin/env bash", "#!/bin/bash").replace(
    "localhost", "127.0.0.1")
# The original start-up's work: parse --name=value flags, ask whoami and hostname twice,
# write zoo.cfg, java.env, log4j.properties and myid with echo, print zoo.cfg, exec the server.
ORIGINAL_START = r"""#!/usr/bin/env bash
SERVERS=1; DATA_DIR=/var/lib/zookeeper/data; DATA_LOG_DIR=/var/lib/zookeeper/log
CONF_DIR=/opt/zookeeper/conf; LOG_DIR=/var/log/zookeeper; CLIENT_PORT=2181
SERVER_PORT=2888; ELECTION_PORT=3888; TICK_TIME=2000; INIT_LIMIT=10; SYNC_LIMIT=5
HEAP=2G; MAX_CLIENT_CNXNS=60; SNAP_RETAIN_COUNT=3; PURGE_INTERVAL=0; LOG_LEVEL=INFO
for arg in "$@"; do
  case "$arg" in
    --servers=*) SERVERS=${arg#*=} ;;
    --data_dir=*) DATA_DIR=${arg#*=} ;;
    --data_log_dir=*) DATA_LOG_DIR=${arg#*=} ;;
    --conf_dir=*) CONF_DIR=${arg#*=} ;;
    --log_dir=*) LOG_DIR=${arg#*=} ;;
    --client_port=*) CLIENT_PORT=${arg#*=} ;;
    --heap=*) HEAP=${arg#*=} ;;
    --) break ;;
    *) echo "Unknown option $arg" >&2; exit 1 ;;
  esac
done
MIN_SESSION_TIMEOUT=$((TICK_TIME*2)); MAX_SESSION_TIMEOUT=$((TICK_TIME*20))
USER=$(whoami); HOST=$(hostname -s); DOMAIN=$(hostname -d)
if [[ $HOST =~ (.*)-([0-9]+)$ ]]; then NAME=${BASH_REMATCH[1]}; ORD=${BASH_REMATCH[2]}
else echo "no ordinal in $HOST" >&2; exit 1; fi
MY_ID=$((ORD+1))
mkdir -p "$CONF_DIR" "$DATA_DIR" "$DATA_LOG_DIR" "$LOG_DIR"
CFG="$CONF_DIR/zoo.cfg"
rm -f "$CFG"
{
  echo "clientPort=$CLIENT_PORT"; echo "dataDir=$DATA_DIR"; echo "dataLogDir=$DATA_LOG_DIR"
  echo "tickTime=$TICK_TIME"; echo "initLimit=$INIT_LIMIT"; echo "syncLimit=$SYNC_LIMIT"
  echo "maxClientCnxns=$MAX_CLIENT_CNXNS"; echo "minSessionTimeout=$MIN_SESSION_TIMEOUT"
  echo "maxSessionTimeout=$MAX_SESSION_TIMEOUT"
  echo "autopurge.snapRetainCount=$SNAP_RETAIN_COUNT"
  echo "autopurge.purgeInterval=$PURGE_INTERVAL"
  for (( i=1; i<=SERVERS; i++ )); do
    echo "server.$i=$NAME-$((i-1)).$DOMAIN:$SERVER_PORT:$ELECTION_PORT"
  done
} >> "$CFG"
cat "$CFG" >&2
rm -f "$CONF_DIR/java.env"; echo "JVMFLAGS=\"-Xmx$HEAP -Xms$HEAP\"" >> "$CONF_DIR/java.env"
LOG4J="$CONF_DIR/log4j.properties"; rm -f "$LOG4J"
{
  echo "zookeeper.root.logger=CONSOLE"; echo "zookeeper.console.threshold=$LOG_LEVEL"
  echo 'log4j.rootLogger=${zookeeper.root.logger}'
  echo "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender"
  echo 'log4j.appender.CONSOLE.Threshold=${zookeeper.console.threshold}'
  echo "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout"
  echo "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n"
} >> "$LOG4J"
if [ ! -f "$DATA_DIR/myid" ] && [ "$SERVERS" -gt 1 ]; then echo "$MY_ID" >> "$DATA_DIR/myid"; fi
shift $(( $# > 0 ? $# - 1 : 0 ))
exec "$@"
"""

# The floor: the same exchange as zookeeper-ready (connect, send ruok, read to the end,
# compare with imok) or as zookeeper-metrics (send mntr, print the answer) in a few lines of C,
# built by the bench with glibc (static and dynamic) and with musl (static, as zkpod is).
# `c-client PORT` probes; `c-client PORT mntr` prints.
C_CLIENT = r"""
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static char buf[1 << 20];
int main(int argc, char **argv) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    const char *word = argc > 2 ? argv[2] : "ruok";
    int s = socket(AF_INET, SOCK_STREAM, 0), n = 0, r;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(s, (struct sockaddr *)&a, sizeof a) || write(s, word, 4) != 4) return 1;
    while (n < (int)sizeof buf && (r = read(s, buf + n, sizeof buf - n)) > 0) n += r;
    if (argc > 2) return write(1, buf, n) != n;
    return !(n == 4 && memcmp(buf, "imok", 4) == 0);
}
"""

# A hostile mntr answer of 1 MiB, the most zkpod reads: every kind of line the conversion
# handles (milliseconds, counters, text, summaries, labels it must drop, names it must clean,
# repeats), each key new, so that nothing is found again cheaply.
def hostile_answer():
    kinds = (
        "zk_wait_{i}_ms\t{i}\n",
        "zk_packets_{i}\t{i}\n",
        "zk_state_{i}\tleader {i} \"quoted\" \\ back\n",
        "zk_lat_{i}{{quantile=\"0.{i}\"}}\t{i}.5\n",
        "zk_lab_{i}{{le=\"1\",le=\"2\",quantile=\"x\"}}\t{i}\n",
        "zk bad-name.{i}\t-{i}e3\n",
        "zk_packets_{i}\t{i}\n",
    )
    lines, size, i = [], 0, 0
    while True:
        line = kinds[i % len(kinds)].format(i=i // len(kinds))
        if size + len(line) > 1024 * 1024:
            return "".join(lines).encode()
        lines.append(line)
        size += len(line)
        i += 1


def serve_forever(listener, answer):
    """A stand-in server: every connection gets `answer`, whatever it asks."""
    while True:
        conn, _ = listener.accept()
        with conn:
            try:
                conn.recv(4)
                conn.sendall(answer)
            except OSError:
                pass


LOAD_WRITER = """
import sys, time
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=10)
zk.start(timeout=30)
path = '/load/' + sys.argv[2]
zk.ensure_path(path)
value = b'x' * 1024
end = time.monotonic() + float(sys.argv[3])
ops = 0
while time.monotonic() < end:
    zk.set(path, value)
    ops += 1
print(ops)
zk.stop()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter_word(port, word):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(word.encode())
            s.settimeout(2)
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    return b"".join(chunks).decode(errors="replace")
                chunks.append(data)
    except OSError:
        return ""


class Bench:
    def __init__(self, quick):
        self.quick = quick
        self.rows = []
        self.work = tempfile.mkdtemp(prefix="zkpod-bench-")
        self.bin = os.path.join(self.work, "bin")
        os.makedirs(self.bin)
        for name in ("start-zookeeper", "zookeeper-ready", "zookeeper-metrics"):
            os.symlink(ZKPOD, os.path.join(self.bin, name))
        for name, text in (("probe", ORIGINAL_PROBE), ("metrics", ORIGINAL_METRICS),
                           ("start", ORIGINAL_START), ("lean-probe", LEAN_PROBE),
                           ("lean-metrics", LEAN_METRICS)):
            path = os.path.join(self.work, "original-" + name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
        self.server = None
        self.port = free_port()
        source = os.path.join(self.work, "client.c")
        with open(source, "w") as f:
            f.write(C_CLIENT)
        for kind, cc, flags in (("static", "gcc", ["-static"]), ("dynamic", "gcc", []),
                                ("musl", "musl-gcc", ["-static"])):
            subprocess.run([cc, "-O2", *flags, "-o",
                            os.path.join(self.work, f"c-client-{kind}"), source], check=True)

    # --- the real ZooKeeper everything is measured against -------------------------------
    def start_server(self):
        d = os.path.join(self.work, "server")
        self.server = subprocess.Popen(
            [os.path.join(self.bin, "start-zookeeper"), f"--conf_dir={d}/conf",
             f"--data_dir={d}/data", f"--data_log_dir={d}/datalog", f"--log_dir={d}/log",
             f"--client_port={self.port}", f"--server_port={free_port()}",
             f"--election_port={free_port()}", "--heap=256M", "--max_client_cnxns=0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while "Mode: " not in four_letter_word(self.port, "srvr"):
            if time.monotonic() > deadline:
                sys.exit("bench: ZooKeeper did not start")
            time.sleep(0.2)

    def stop_server(self):
        if self.server:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()

    # --- measuring ----------------------------------------------------------------------
    def hyperfine(self, commands, runs, wrapper=None, prepare=None):
        """Median wall time and mean CPU time (user + system) of each command, in seconds,
        over alternating rounds. `wrapper` runs hyperfine inside a namespace when given;
        `prepare` runs (untimed) before every run."""
        rounds = 2 if self.quick else 6
        runs = max(5, runs // 10) if self.quick else runs
        times = {c: [] for c in commands}
        cpu = {c: [] for c in commands}
        for r in range(rounds):
            order = commands if r % 2 == 0 else list(reversed(commands))
            out = os.path.join(self.work, "hyperfine.json")
            # -i: the original probe fails now and then (see reliability); time it anyway.
            cmd = ["hyperfine", "-N", "-i", "--style", "none", "--warmup", "3",
                   "--runs", str(runs), "--export-json", out]
            if prepare:
                cmd += ["--prepare", prepare]
            cmd += order
            subprocess.run((wrapper or []) + cmd, check=True, stdout=subprocess.DEVNULL)
            with open(out) as f:
                for result in json.load(f)["results"]:
                    # Only the original scripts may fail; a failing run of any other command
                    # would be timed as if it had done the work.
                    failures = sum(code != 0 for code in result["exit_codes"])
                    if failures and "/original-" not in result["command"]:
                        sys.exit(f"bench: {result['command']} failed {failures} times")
                    times[result["command"]].extend(result["times"])
                    cpu[result["command"]].append(result["user"] + result["system"])
        return {c: (statistics.median(times[c]), statistics.mean(cpu[c])) for c in commands}

    def row(self, measure, ours, peer, unit, budget=None):
        ratio = None if peer is None else (ours / peer if peer else float("inf"))
        verdict = "-" if budget is None else ("pass" if ratio <= budget else "FAIL")
        self.rows.append((measure, ours, peer, unit, ratio, budget, verdict))

    def compare(self, label, ours, peer, runs, budget, wrapper=None, prepare=None):
        result = self.hyperfine([ours, peer], runs, wrapper, prepare)
        (ours_wall, ours_cpu), (peer_wall, peer_cpu) = result[ours], result[peer]
        self.row(f"{label}: wall (median)", ours_wall * 1000, peer_wall * 1000, "ms", budget)
        self.row(f"{label}: CPU (mean)", ours_cpu * 1000, peer_cpu * 1000, "ms")

    def probe(self):
        ours = f"{self.bin}/zookeeper-ready {self.port}"
        original = f"{self.work}/original-probe {self.port}"
        static_c = f"{self.work}/c-client-static {self.port}"
        dynamic_c = f"{self.work}/c-client-dynamic {self.port}"
        musl_c = f"{self.work}/c-client-musl {self.port}"
        lean = f"{self.work}/original-lean-probe {self.port}"
        result = self.hyperfine([ours, original, static_c, dynamic_c, musl_c, lean], 300)
        for label, peer, budget in (("zookeeper-ready vs bash+nc ruok", original, 0.25),
                                    ("zookeeper-ready vs lean bash+nc ruok", lean, None),
                                    ("zookeeper-ready vs static C client", static_c, None),
                                    ("zookeeper-ready vs dynamic C client", dynamic_c, None),
                                    ("zookeeper-ready vs static musl C client", musl_c, None)):
            self.row(f"probe, {label}: wall (median)", result[ours][0] * 1000,
                     result[peer][0] * 1000, "ms", budget)
            self.row(f"probe, {label}: CPU (mean)", result[ours][1] * 1000,
                     result[peer][1] * 1000, "ms")

    def probe_over_tls(self):
        """The probe against a second server with --tls_dir (a certificate made here with
        openssl, as cert-manager lays it out), against the plaintext one: what the TLS
        handshake costs. Informational: no budget."""
        d = os.path.join(self.work, "tls")
        secret = os.path.join(d, "secret")
        os.makedirs(secret)
        ext = os.path.join(d, "ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:*.bench.local\nextendedKeyUsage=serverAuth,clientAuth\n")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        for args in (["req", "-x509", *ec, "-keyout", "ca.key", "-out", "secret/ca.crt",
                      "-days", "2", "-subj", "/CN=bench authority"],
                     ["req", *ec, "-keyout", "secret/tls.key", "-out", "tls.csr",
                      "-subj", "/CN=*.bench.local"],
                     ["x509", "-req", "-in", "tls.csr", "-CA", "secret/ca.crt", "-CAkey",
                      "ca.key", "-CAcreateserial", "-out", "secret/tls.crt", "-days", "2",
                      "-extfile", ext]):
            subprocess.run(["openssl", *args], cwd=d, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = free_port()
        server = subprocess.Popen(
            [os.path.join(self.bin, "start-zookeeper"), f"--conf_dir={d}/conf",
             f"--data_dir={d}/data", f"--data_log_dir={d}/datalog", f"--log_dir={d}/log",
             f"--client_port={port}", f"--server_port={free_port()}",
             f"--election_port={free_port()}", "--heap=256M", "--max_client_cnxns=0",
             f"--tls_dir={secret}", "--hostname=zk-0", "--domain=bench.local"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            ours = f"{self.bin}/zookeeper-ready --tls_dir {secret} {port}"
            deadline = time.monotonic() + 60
            while subprocess.run(ours.split(), stderr=subprocess.DEVNULL).returncode != 0:
                if time.monotonic() > deadline:
                    sys.exit("bench: ZooKeeper with TLS did not start")
                time.sleep(0.2)
            plain = f"{self.bin}/zookeeper-ready {self.port}"
            self.compare("probe over TLS vs in the clear", ours, plain, 300, None)
        finally:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    def reliability(self):
        """False failures: probes that say unhealthy about a healthy, idle server."""
        runs = 100 if self.quick else 1000
        failures = {}
        for name, argv in (("zkpod", [f"{self.bin}/zookeeper-ready", str(self.port)]),
                           ("original", [f"{self.work}/original-probe", str(self.port)])):
            failures[name] = sum(subprocess.run(argv, stderr=subprocess.DEVNULL).returncode != 0
                                 for _ in range(runs))
        ours, peer = failures["zkpod"], failures["original"]
        self.rows.append((f"probe false failures in {runs} runs (healthy server)", ours, peer,
                          "runs", ours / peer if peer else 0.0, 0.0,
                          "pass" if ours == 0 else "FAIL"))

    def metrics(self):
        ours = f"{self.bin}/zookeeper-metrics {self.port}"
        original = f"{self.work}/original-metrics {self.port}"
        static_c = f"{self.work}/c-client-static {self.port} mntr"
        musl_c = f"{self.work}/c-client-musl {self.port} mntr"
        lean = f"{self.work}/original-lean-metrics {self.port}"
        prometheus = f"{self.bin}/zookeeper-metrics --format prometheus {self.port}"
        as_json = f"{self.bin}/zookeeper-metrics --format json {self.port}"
        result = self.hyperfine([ours, prometheus, as_json, original, static_c, musl_c, lean],
                                200)
        lines = four_letter_word(self.port, "mntr").count("\n")
        for label, command in (("prometheus", prometheus), ("json", as_json)):
            self.row(f"metrics --format {label} vs raw, {lines}-line mntr: wall (median)",
                     result[command][0] * 1000, result[ours][0] * 1000, "ms", 1.5)
        for label, peer, budget in (("metrics raw vs bash+nc mntr", original, 0.25),
                                    ("metrics raw vs lean bash+nc mntr", lean, None),
                                    ("metrics raw vs static C client mntr", static_c, None),
                                    ("metrics raw vs static musl C client mntr", musl_c, None)):
            self.row(f"{label}: wall (median)", result[ours][0] * 1000,
                     result[peer][0] * 1000, "ms", budget)
            self.row(f"{label}: CPU (mean)", result[ours][1] * 1000,
                     result[peer][1] * 1000, "ms")

    def hostile(self):
        """A 1 MiB hostile mntr answer from a stand-in server, converted: well under a second
        (the budget is half of one), against the raw answer's time."""
        answer = hostile_answer()
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        threading.Thread(target=serve_forever, args=(listener, answer), daemon=True).start()
        raw = f"{self.bin}/zookeeper-metrics {port}"
        commands = [raw] + [f"{self.bin}/zookeeper-metrics --format {f} {port}"
                            for f in ("prometheus", "json")]
        result = self.hyperfine(commands, 20)
        lines = answer.count(b"\n")
        self.row(f"metrics raw, hostile 1 MiB mntr ({lines} lines): wall (median)",
                 result[raw][0] * 1000, None, "ms")
        for fmt, command in zip(("prometheus", "json"), commands[1:]):
            self.row(f"metrics --format {fmt}, hostile 1 MiB mntr: wall vs 1 s",
                     result[command][0] * 1000, 1000.0, "ms", 0.5)

    def startup(self):
        """Invocation until the server command is exec'd, as pod zk-1 of three: in a UTS and
        mount namespace with the pod's host name and /etc/hosts."""
        hosts = os.path.join(self.work, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n")
            for i in range(3):
                f.write(f"10.0.0.{i + 2} zk-{i}.zk-hs.default.svc.cluster.local zk-{i}\n")
        wrapper = ["unshare", "--uts", "--mount", "sh", "-c",
                   f'hostname zk-1 && mount --bind {hosts} /etc/hosts && exec "$@"', "sh"]

        def dirs(name):
            d = os.path.join(self.work, name)
            return (f"--servers=3 --conf_dir={d}/conf --data_dir={d}/data "
                    f"--data_log_dir={d}/datalog --log_dir={d}/log --heap=512M")

        # A restarted container has a fresh filesystem: no configuration directory yet. The
        # volume (data, myid) stays.
        fresh = (f"rm -rf {self.work}/original/conf {self.work}/zkpod/conf "
                 f"{self.work}/dry/conf")
        original = f"{self.work}/original-start {dirs('original')} -- /bin/true"
        self.compare("start-up to exec, start-zookeeper vs bash",
                     f"{self.bin}/start-zookeeper {dirs('zkpod')} -- /bin/true",
                     original, 200, 0.3, wrapper, fresh)
        self.compare("start-up --dry_run vs bash",
                     f"{self.bin}/start-zookeeper {dirs('dry')} --dry_run",
                     original, 200, None, wrapper, fresh)

    def memory_of(self, argv):
        """RSS, PSS and anonymous memory (KiB) of an idle supervisor; median of runs."""
        samples = []
        for _ in range(2 if self.quick else 5):
            p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
            try:
                time.sleep(1.5)  # started, child running, idle
                fields = {}
                with open(f"/proc/{p.pid}/smaps_rollup") as f:
                    for line in f:
                        key, _, rest = line.partition(":")
                        if key in ("Rss", "Pss", "Anonymous"):
                            fields[key] = int(rest.split()[0])
                samples.append(fields)
            finally:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        return {k: statistics.median(s[k] for s in samples) for k in ("Rss", "Pss", "Anonymous")}

    def memory(self):
        subprocess.run(["sync"], check=True)  # freshly written binaries count as dirty pages
        tini = self.memory_of(["tini", "-s", "--", "sleep", "600"])
        supervise = self.memory_of([ZKPOD, "supervise", "--", "sleep", "600"])
        d = os.path.join(self.work, "memory")
        start = self.memory_of([f"{self.bin}/start-zookeeper", f"--conf_dir={d}/conf",
                                f"--data_dir={d}/data", f"--data_log_dir={d}/datalog",
                                f"--log_dir={d}/log", "--", "sleep", "600"])
        for name, ours in (("zkpod supervise -- sleep", supervise),
                           ("start-zookeeper -- sleep", start)):
            self.row(f"idle RSS, {name} vs tini -s", ours["Rss"], tini["Rss"], "KiB")
            self.row(f"idle PSS, {name} vs tini -s", ours["Pss"], tini["Pss"], "KiB")
            self.row(f"idle anonymous, {name} vs tini -s", ours["Anonymous"],
                     tini["Anonymous"], "KiB", 1.0)
        size = os.path.getsize(ZKPOD) / 1024
        tini_size = os.path.getsize("/usr/bin/tini") / 1024
        self.row("binary size (stripped) vs tini", size, tini_size, "KiB")
        self.rows.append(("binary size budget", size, 3 * 1024, "KiB", size / 3072, 1.0,
                          "pass" if size <= 3 * 1024 else "FAIL"))

    def probe_in_a_pod(self):
        """The readiness probe inside a pod, with no PORT and no variable: it reads the client
        port and the membership mode from the server PID 1 runs. PID 1 of a PID namespace gets
        the command line of the bench server's supervisor (java's part run by sh, which ignores
        it), so that the probe finds the real server's zoo.cfg."""
        with open(f"/proc/{self.server.pid}/cmdline", "rb") as f:
            supervisor = f.read().split(b"\0")[:-1]
        java = supervisor[supervisor.index(b"--") + 1:]
        pod = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", ZKPOD, "supervise",
                                "--", "sh", "-c", "exec sleep 3600", *java],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
        try:
            pid1 = None
            deadline = time.monotonic() + 10
            while pid1 is None and time.monotonic() < deadline:
                children = subprocess.run(["pgrep", "-P", str(pod.pid)], capture_output=True,
                                          text=True).stdout.split()
                pid1 = int(children[0]) if children else None
                time.sleep(0.05)
            if pid1 is None:
                sys.exit("bench: the pod's PID 1 did not start")
            wrapper = ["nsenter", "-t", str(pid1), "-p", "-m"]
            ours = f"{self.bin}/zookeeper-ready --serving"
            given = f"{self.bin}/zookeeper-ready --serving --membership static {self.port}"
            original = f"{self.work}/original-probe {self.port}"
            result = self.hyperfine([ours, given, original], 300, wrapper)
            self.row("probe in a pod, reading the running server, vs bash+nc ruok: wall "
                     "(median)", result[ours][0] * 1000, result[original][0] * 1000, "ms", 0.25)
            self.row("probe in a pod, reading the running server, vs given PORT and mode: wall "
                     "(median)", result[ours][0] * 1000, result[given][0] * 1000, "ms")
        finally:
            os.killpg(pod.pid, signal.SIGKILL)
            pod.wait()

    def supervisor_overhead(self):
        self.compare("PID 1 in unshare, zkpod supervise vs tini",
                     f"unshare --pid --fork --mount-proc {ZKPOD} supervise -- /bin/true",
                     "unshare --pid --fork --mount-proc tini -- /bin/true", 200, None)

    def under_load(self):
        """Probe latency while kazoo clients write as fast as they can."""
        seconds = 8 if self.quick else 30
        writers = [subprocess.Popen([PYTHON, "-c", LOAD_WRITER, f"127.0.0.1:{self.port}",
                                     str(i), str(seconds)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for i in range(4)]
        time.sleep(3)  # connected and writing
        ours, peer = [], []
        failed = {"zkpod": 0, "original": 0}
        end = time.monotonic() + seconds - 5
        while time.monotonic() < end:
            for name, argv, out in (
                    ("zkpod", [f"{self.bin}/zookeeper-ready", str(self.port)], ours),
                    ("original", [f"{self.work}/original-probe", str(self.port)], peer)):
                t = time.perf_counter()
                failed[name] += subprocess.run(argv, stderr=subprocess.DEVNULL).returncode != 0
                out.append(time.perf_counter() - t)
        ops = 0
        for w in writers:
            written, errors = w.communicate()
            if w.returncode != 0 or not written.strip():
                sys.exit(f"bench: a load writer failed: {errors.strip()}")
            ops += int(written)
        if ops == 0:
            sys.exit("bench: the load writers wrote nothing")
        q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000
        self.row(f"probe under load ({ops // seconds} writes/s): p50", q(ours, 0.5),
                 q(peer, 0.5), "ms")
        self.row("probe under load: p99", q(ours, 0.99), q(peer, 0.99), "ms")
        worst = max(ours) * 1000
        self.rows.append(("probe under load: max vs its 800 ms timeout", worst, 800.0, "ms",
                          worst / 800.0, 1.0, "pass" if worst < 800 else "FAIL"))
        self.rows.append((f"probe false failures under load, {len(ours)} runs",
                          failed["zkpod"], failed["original"], "runs", 0.0, 0.0,
                          "pass" if failed["zkpod"] == 0 else "FAIL"))

    def report(self):
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                    if l.startswith("model name")), platform.processor())
        print(f"zkpod {self.version()} on {platform.node()}: {os.cpu_count()} CPUs ({cpu}), "
              f"Linux {platform.release()}, {'quick' if self.quick else 'full'} run")
        head = ("measure", "zkpod", "peer", "unit", "ratio", "budget", "result")
        width = max(len(r[0]) for r in self.rows)
        print(f"{head[0]:<{width}}  {head[1]:>9}  {head[2]:>9}  {head[3]:<4}  {head[4]:>6}"
              f"  {head[5]:>6}  {head[6]}")
        for measure, ours, peer, unit, ratio, budget, verdict in self.rows:
            budget = "-" if budget is None else f"<={budget:g}"
            peer = "-" if peer is None else f"{peer:.2f}"
            ratio = "-" if ratio is None else f"{ratio:.3f}"
            print(f"{measure:<{width}}  {ours:>9.2f}  {peer:>9}  {unit:<4}  {ratio:>6}"
                  f"  {budget:>6}  {verdict}")
        return all(r[6] != "FAIL" for r in self.rows)

    def version(self):
        return subprocess.run([ZKPOD, "--version"], capture_output=True,
                              text=True).stdout.split()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="few runs: proves the benchmark works, budgets not enforced")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (namespaces for the start-up and PID 1 measures)")
    bench = Bench(args.quick)
    try:
        bench.start_server()
        for step in (bench.probe, bench.probe_over_tls, bench.reliability, bench.metrics,
                     bench.hostile, bench.probe_in_a_pod, bench.startup, bench.memory,
                     bench.supervisor_overhead, bench.under_load):
            step()
    finally:
        bench.stop_server()
        subprocess.run(["rm", "-rf", bench.work])
    within = bench.report()
    sys.exit(0 if within or args.quick else 1)


if __name__ == "__main__":
    main()
