//! What the integration tests share: the built zkpod under its command names, scratch
//! directories, and running commands with a deadline.
#![allow(dead_code)] // each test file uses its own part of this module

pub mod statefulset;
pub mod tls;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The zkpod binary cargo built for these tests.
pub const ZKPOD: &str = env!("CARGO_BIN_EXE_zkpod");

/// A scratch directory, removed when dropped. It holds the command names as symlinks to zkpod
/// in `bin/`, the way an image installs them.
pub struct Sandbox {
    pub root: PathBuf,
}

impl Sandbox {
    pub fn new(name: &str) -> Sandbox {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "zkpod-test-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&root);
        // Made before anything is created, so that a failure below removes it too.
        let sandbox = Sandbox { root };
        fs::create_dir_all(sandbox.path("bin")).unwrap();
        for link in ["start-zookeeper", "zookeeper-ready", "zookeeper-metrics"] {
            std::os::unix::fs::symlink(ZKPOD, sandbox.path("bin").join(link)).unwrap();
        }
        sandbox
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// zkpod under one of its command names, with an empty environment but PATH.
    pub fn command(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.root.join("bin").join(name));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        default_signals(&mut cmd);
        cmd
    }

    /// `start-zookeeper` writing everything under this sandbox.
    pub fn start(&self) -> Command {
        let mut cmd = self.command("start-zookeeper");
        cmd.arg(format!("--conf_dir={}", self.path("conf").display()))
            .arg(format!("--data_dir={}", self.path("data").display()))
            .arg(format!("--data_log_dir={}", self.path("datalog").display()))
            .arg(format!("--log_dir={}", self.path("log").display()));
        cmd
    }

    pub fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.path(relative))
            .unwrap_or_else(|err| panic!("reading {relative}: {err}"))
    }

    /// Every file below the sandbox (but bin/) with its contents, to prove nothing changed.
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
            entries.sort_by_key(|e| e.path());
            for entry in entries {
                let path = entry.path();
                if path.is_dir() {
                    out.push((path.clone(), Vec::new()));
                    walk(&path, out);
                } else if !path.is_symlink() {
                    out.push((path.clone(), fs::read(&path).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Run to completion with a deadline; a command that hangs fails the test instead of the suite.
/// Its output is read while it runs, so a large one cannot block it.
pub fn run(cmd: &mut Command, deadline: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("starting {cmd:?}: {err}"));
    let output = Drained::start(&mut child);
    let Some(status) = wait_for(&mut child, deadline) else {
        panic!(
            "{cmd:?} did not finish within {deadline:?}; stderr: {}",
            output.stderr_so_far()
        );
    };
    let (stdout, stderr) = output.finish();
    Output {
        status,
        stdout,
        stderr,
    }
}

/// The stdout and stderr of a started child (those of them that are pipes), read by threads
/// while it runs: a child that writes more than a pipe holds (64 KiB) is never blocked by a
/// reader that waits for its exit first.
pub struct Drained {
    stdout: Drain,
    stderr: Drain,
}

/// What one reader has read so far, and the reader.
struct Drain {
    read: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drain {
    fn start(pipe: Option<impl std::io::Read + Send + 'static>) -> Drain {
        let read = Arc::new(Mutex::new(Vec::new()));
        let reader = pipe.map(|mut pipe| {
            let read = read.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                loop {
                    match pipe.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => read.lock().unwrap().extend_from_slice(&chunk[..n]),
                        Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
            })
        });
        Drain { read, reader }
    }

    fn so_far(&self) -> Vec<u8> {
        self.read.lock().unwrap().clone()
    }

    fn finish(mut self) -> Vec<u8> {
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        std::mem::take(&mut *self.read.lock().unwrap())
    }
}

impl Drained {
    /// Start reading `child`'s stdout and stderr, where they are pipes.
    pub fn start(child: &mut Child) -> Drained {
        Drained {
            stdout: Drain::start(child.stdout.take()),
            stderr: Drain::start(child.stderr.take()),
        }
    }

    /// What the child has written to stdout so far.
    pub fn stdout_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stdout.so_far()).into_owned()
    }

    /// What the child has written to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stderr.so_far()).into_owned()
    }

    /// Everything written to stdout and to stderr, once every writer has closed them (the
    /// child has exited, and whatever it left running that holds them has too).
    pub fn finish(self) -> (Vec<u8>, Vec<u8>) {
        (self.stdout.finish(), self.stderr.finish())
    }
}

/// Run with the default deadline of 30 s.
pub fn output(cmd: &mut Command) -> Output {
    run(cmd, Duration::from_secs(30))
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// For tests marked `#[ignore = "needs root and namespaces"]`: they run only when asked for
/// (`--include-ignored`, as tests/run.sh does as root and CI always does), and then a machine
/// that cannot run them is an error, not a skip.
pub fn require_root_and_namespaces() {
    let unshare = Command::new("unshare")
        .args(["--uts", "--mount", "--pid", "--fork", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "this test needs root (namespaces, mounts, test users)"
    );
    assert!(unshare, "`unshare --uts --mount --pid` does not work here");
}

/// Restore the default action of SIGINT and SIGQUIT in `cmd`'s process. A shell's background
/// job (`cargo test &`) inherits both ignored, and "ignored" survives exec: the signal tests
/// would then see children that never die of them.
pub fn default_signals(cmd: &mut Command) -> &mut Command {
    use nix::sys::signal::{SigHandler, Signal, signal};
    use std::os::unix::process::CommandExt;
    // SAFETY: signal(2) is async-signal-safe; no handler is installed.
    unsafe {
        cmd.pre_exec(|| {
            for sig in [Signal::SIGINT, Signal::SIGQUIT] {
                signal(sig, SigHandler::SigDfl)?;
            }
            Ok(())
        })
    }
}

/// A command run as if on a pod: its own UTS and mount namespaces, with `hostname` set and
/// `/etc/hosts` replaced by `hosts` (how the kubelet gives a pod its FQDN).
pub fn in_pod(hostname: &str, hosts: &Path, program: &Path, args: &[&OsStr]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["--uts", "--mount", "--fork", "sh", "-c"])
        .arg("set -e; hostname \"$1\"; mount --bind \"$2\" /etc/hosts; shift 2; exec \"$@\"")
        .arg("sh")
        .arg(hostname)
        .arg(hosts)
        .arg(program)
        .args(args);
    cmd
}

/// An /etc/hosts naming pods `zk-0` … `zk-(n-1)` in the tutorial's headless Service.
pub fn tutorial_hosts(n: usize) -> String {
    let mut hosts = String::from("127.0.0.1 localhost\n");
    for i in 0..n {
        hosts.push_str(&format!(
            "10.0.0.{} zk-{i}.zk-hs.default.svc.cluster.local zk-{i}\n",
            i + 2
        ));
    }
    hosts
}

/// A python program that runs `script` with `zk`, a started KazooClient for argv[1]. It
/// tries to connect at least once a second for 20 s (kazoo's default backoff would try for
/// the last time after about 13 s).
pub fn kazoo_program(script: &str) -> String {
    format!(
        "import sys\nfrom kazoo.client import KazooClient\nfrom kazoo.retry import KazooRetry\n\
         zk = KazooClient(hosts=sys.argv[1], timeout=10,\n\
         \x20                connection_retry=KazooRetry(max_tries=-1, max_delay=1))\n\
         zk.start(timeout=20)\n\
         try:\n{}\nfinally:\n    zk.stop()\n",
        script
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    )
}

/// A port nobody listens on, for a server a test starts or for a port that must stay closed.
///
/// Not the kernel's pick (binding port 0 and dropping the listener): that port comes from the
/// ephemeral range (32768–60999), where every other process's picks and outgoing connections
/// land too, and someone may take it before the server binds it. Instead each test process
/// takes the ports of its own block below that range: the 100 from 10000 + 100 × (pid mod
/// 220), going on to the next block (up to 31999, then from 10000 again) once those run out.
/// No port is handed out twice in a process, and each only once binding it on every address
/// worked (nobody listens there now). Test processes running at the same time use different
/// blocks unless their pids are equal modulo 220, and nothing else picks ports there on its
/// own. Simulated pods (common::statefulset) need none of this: each has an address of its
/// own, and their servers use the tutorial's fixed ports.
pub fn free_port() -> u16 {
    const FIRST: u32 = 10_000;
    const BLOCK: u32 = 100;
    const BLOCKS: u32 = 220;
    static HANDED_OUT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id() % BLOCKS * BLOCK;
    for _ in 0..BLOCK * BLOCKS {
        let n = HANDED_OUT.fetch_add(1, Ordering::SeqCst);
        let port = (FIRST + (start + n) % (BLOCK * BLOCKS)) as u16;
        if std::net::TcpListener::bind(("0.0.0.0", port)).is_ok() {
            return port;
        }
    }
    panic!(
        "no free port left between {FIRST} and {}",
        FIRST + BLOCK * BLOCKS - 1
    );
}

/// Poll `check` every 50 ms until it holds or `deadline` passes.
pub fn wait_until(deadline: Duration, mut check: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// The children of `pid` (from /proc), e.g. the supervisor that `unshare --fork` started.
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        if let Ok(list) = fs::read_to_string(task.path().join("children")) {
            out.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

/// A field of /proc/PID/status, e.g. `State` or `Uid`.
pub fn proc_status(pid: u32, field: &str) -> Option<String> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .map(|value| value.trim().to_string())
}

/// Send signal `sig` (by number) to `pid`.
pub fn signal(pid: u32, sig: i32) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{sig} {pid}");
}

/// Debian's python3, which has kazoo (PATH may lead to another python).
pub const PYTHON: &str = "/usr/bin/python3";

/// Ask a four-letter word on 127.0.0.1:`port` with a plain socket, independent of zkpod.
pub fn four_letter_word(port: u16, word: &str) -> Option<String> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(word.as_bytes()).ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    Some(reply)
}

/// A real ZooKeeper started by `start-zookeeper` in a sandbox, on ports nobody else uses.
/// Dropping it kills the server.
pub struct ZooKeeper {
    pub sandbox: Sandbox,
    pub port: u16,
    pub process: Option<Child>,
}

impl ZooKeeper {
    /// The start-zookeeper command for this sandbox and port, not yet started.
    pub fn command(sandbox: &Sandbox, port: u16, extra: &[&str]) -> Command {
        let mut cmd = sandbox.start();
        cmd.arg(format!("--client_port={port}"))
            .arg(format!("--server_port={}", free_port()))
            .arg(format!("--election_port={}", free_port()))
            .arg("--heap=128M")
            .args(extra)
            .env(
                "JAVA_HOME",
                std::env::var_os("JAVA_HOME").unwrap_or_default(),
            )
            .stdin(Stdio::null());
        // ZooKeeper logs to stdout, zkpod to stderr: both go to server.log.
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(sandbox.path("server.log"))
            .unwrap();
        cmd.stdout(log.try_clone().unwrap()).stderr(log);
        cmd
    }

    /// Start a standalone server and wait until it serves.
    pub fn start(name: &str, extra: &[&str]) -> ZooKeeper {
        let sandbox = Sandbox::new(name);
        let port = free_port();
        let mut zk = ZooKeeper {
            process: None,
            port,
            sandbox,
        };
        zk.restart(extra);
        zk
    }

    /// Start (again) on the same directories and port.
    pub fn restart(&mut self, extra: &[&str]) {
        let process = ZooKeeper::command(&self.sandbox, self.port, extra)
            .spawn()
            .expect("start-zookeeper");
        self.process = Some(process);
        let port = self.port;
        // Serving: srvr reports a mode (a server answers ruok a moment before it serves).
        assert!(
            wait_until(Duration::from_secs(60), || four_letter_word(port, "srvr")
                .is_some_and(|answer| answer.contains("\nMode: "))),
            "ZooKeeper did not start serving; log:\n{}",
            self.log()
        );
    }

    pub fn pid(&self) -> u32 {
        self.process.as_ref().expect("running").id()
    }

    /// The java process start-zookeeper supervises.
    pub fn java_pid(&self) -> u32 {
        *children(self.pid()).first().expect("a java child")
    }

    /// Wait for start-zookeeper to exit; its status code. (Its output goes to server.log, not
    /// to a pipe that would have to be read meanwhile.)
    pub fn wait(&mut self, deadline: Duration) -> Option<i32> {
        let process = self.process.as_mut().expect("running");
        let mut status = None;
        let exited = wait_until(deadline, || {
            status = process.try_wait().unwrap();
            status.is_some()
        });
        assert!(
            exited,
            "start-zookeeper did not exit within {deadline:?}; log:\n{}",
            self.log()
        );
        self.process = None;
        status.unwrap().code()
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.sandbox.path("server.log")).unwrap_or_default()
    }

    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            for child in children(process.id()) {
                let _ = Command::new("kill")
                    .args(["-9", &child.to_string()])
                    .status();
            }
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

/// Run a kazoo script against `hosts` with Debian's python3; its stdout.
/// The script sees `zk`, a started KazooClient.
pub fn kazoo(hosts: &str, script: &str) -> Result<String, String> {
    let program = kazoo_program(script);
    let out = run(
        Command::new(PYTHON).arg("-c").arg(program).arg(hosts),
        Duration::from_secs(60),
    );
    if out.status.success() {
        Ok(stdout(&out))
    } else {
        Err(stderr(&out))
    }
}

/// A process the test started, in a process group of its own: when the test lets go of it,
/// also by failing, the whole group is killed, so nothing outlives the test.
pub struct Running(pub Child);

impl Running {
    pub fn spawn(cmd: &mut Command) -> Running {
        use std::os::unix::process::CommandExt;
        Running(
            cmd.process_group(0)
                .spawn()
                .unwrap_or_else(|err| panic!("starting {cmd:?}: {err}")),
        )
    }

    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-9", "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

/// Run `cmd` with a stdout whose reader is already gone, as in `cmd | head -1` once head has
/// exited: every write to it fails with EPIPE.
pub fn with_closed_stdout(cmd: &mut Command) -> Output {
    let (reader, writer) = nix::unistd::pipe().unwrap();
    drop(reader);
    cmd.stdout(Stdio::from(writer));
    let out = run_keeping_stdout(cmd, Duration::from_secs(30));
    Output {
        status: out.status,
        stdout: Vec::new(),
        stderr: out.stderr,
    }
}

/// Like `run`, but with the stdout the command was given.
fn run_keeping_stdout(cmd: &mut Command, deadline: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("starting {cmd:?}: {err}"));
    let output = Drained::start(&mut child);
    let Some(status) = wait_for(&mut child, deadline) else {
        panic!(
            "{cmd:?} did not finish within {deadline:?}; stderr: {}",
            output.stderr_so_far()
        );
    };
    Output {
        status,
        stdout: Vec::new(),
        stderr: output.finish().1,
    }
}

/// The child's exit status, or None (and the child killed) when it runs past `deadline`.
fn wait_for(child: &mut Child, deadline: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A list in a manifest's flow style (`["a", "b"]`) on the first `command:` line after `key:`:
/// a probe's or a hook's exec command, or the container's.
pub fn manifest_list(manifest: &str, key: &str) -> Vec<String> {
    let at = manifest
        .find(&format!("{key}:"))
        .unwrap_or_else(|| panic!("no {key}"));
    let line = manifest[at..]
        .lines()
        .find(|l| l.trim_start().starts_with("command:"))
        .unwrap();
    let list = line.split_once('[').unwrap().1.split_once(']').unwrap().0;
    list.split(',')
        .map(|w| w.trim().trim_matches('"').to_string())
        .collect()
}

/// `promtool check metrics` on a Prometheus page: its complaints when it has any.
pub fn promtool(page: &str) -> Result<(), String> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus)");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", stdout(&out), stderr(&out)))
    }
}

/// A manifest's memory limit (`limits:` then `memory: "1Gi"`), in bytes.
pub fn manifest_memory_limit(manifest: &str) -> u64 {
    let at = manifest.find("limits:").expect("the manifest sets limits");
    let quantity = manifest[at..]
        .lines()
        .find_map(|line| line.trim().strip_prefix("memory:"))
        .expect("a memory limit")
        .trim()
        .trim_matches('"');
    let (number, unit) = quantity.split_at(quantity.trim_end_matches(char::is_alphabetic).len());
    let shift = match unit {
        "Mi" => 20,
        "Gi" => 30,
        other => panic!("memory quantity unit {other:?}"),
    };
    number.parse::<u64>().unwrap() << shift
}

/// Where cgroup v1's memory hierarchy is mounted.
pub const V1_MEMORY: &str = "/sys/fs/cgroup/memory";

/// A cgroup v1 memory cgroup of the test's (this machine's memory controller is on v1), removed
/// when dropped, once nothing runs in it. Needs root.
pub struct MemoryCgroup {
    pub dir: PathBuf,
}

impl MemoryCgroup {
    /// A new cgroup below the memory hierarchy's root, with `limit` bytes or none.
    pub fn new(name: &str, limit: Option<u64>) -> MemoryCgroup {
        let mount = fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(
            mount.lines().any(|line| line.contains(&format!(" {V1_MEMORY} "))
                && line.contains(" - cgroup ")),
            "this test needs cgroup v1's memory hierarchy at {V1_MEMORY}"
        );
        let dir = Path::new(V1_MEMORY).join(format!("zkpod-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir(&dir);
        fs::create_dir(&dir).unwrap();
        let cgroup = MemoryCgroup { dir };
        if let Some(limit) = limit {
            fs::write(cgroup.dir.join("memory.limit_in_bytes"), limit.to_string()).unwrap();
        }
        cgroup
    }

    /// `cmd`, run inside this cgroup.
    pub fn run(&self, cmd: &Command) -> Output {
        let mut inside = in_cgroup(&self.dir, cmd.get_program());
        inside
            .args(cmd.get_args())
            .env_clear()
            .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
        output(&mut inside)
    }
}

/// `program`, started inside the cgroup `dir`: a shell moves itself in, then becomes the
/// program (arguments follow).
pub fn in_cgroup(dir: &Path, program: impl AsRef<OsStr>) -> Command {
    let mut sh = Command::new("sh");
    sh.args(["-c", "echo $$ > \"$0/cgroup.procs\" && exec \"$@\""])
        .arg(dir)
        .arg(program);
    sh
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.dir);
    }
}
