//! What the integration tests share: the built zkpod under its command names, scratch
//! directories, and running commands with a deadline.
#![allow(dead_code)] // each test file uses its own part of this module

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
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
        fs::create_dir_all(root.join("bin")).unwrap();
        for link in ["start-zookeeper", "zookeeper-ready", "zookeeper-metrics"] {
            std::os::unix::fs::symlink(ZKPOD, root.join("bin").join(link)).unwrap();
        }
        Sandbox { root }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// zkpod under one of its command names, with an empty environment but PATH.
    pub fn command(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.root.join("bin").join(name));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
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
pub fn run(cmd: &mut Command, deadline: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("starting {cmd:?}: {err}"));
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{cmd:?} did not finish within {deadline:?}; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
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

/// Whether tests that need root and namespaces can run. Without them they are skipped with the
/// reason printed, except under CI=true, where skipping would hide a broken machine.
pub fn have_namespaces(test: &str) -> bool {
    let root = nix_is_root();
    let unshare = Command::new("unshare")
        .args(["--uts", "--mount", "--pid", "--fork", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if root && unshare {
        return true;
    }
    let why = if root {
        "`unshare --uts --mount --pid` does not work here"
    } else {
        "it needs root to create namespaces and bind-mount /etc/hosts"
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: cannot run under CI=true: {why}");
    }
    eprintln!("SKIPPED {test}: {why}");
    false
}

fn nix_is_root() -> bool {
    // Effective uid 0, read from /proc to keep the tests free of extra crates.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
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
