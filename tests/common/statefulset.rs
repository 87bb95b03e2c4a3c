//! A StatefulSet simulated with namespaces, the way a container runtime runs its pods.
//!
//! Pod `zk-i` gets:
//! - its own network namespace, with `eth0` = 10.0.0.(i+2) on a bridge. The bridge lives in a
//!   namespace of its own (the "cluster network"), so no test traffic touches the host's;
//! - its own UTS namespace with hostname `zk-i`, and an /etc/hosts naming every pod
//!   `zk-j.zk-hs.default.svc.cluster.local zk-j` (`ip netns exec` bind-mounts
//!   /etc/netns/NAME/hosts over /etc/hosts);
//! - its own PID and mount namespaces, where start-zookeeper runs as PID 1, its persistent
//!   volume (a directory of the test's) mounted at /var/lib/zookeeper, and fresh tmpfs at
//!   /opt and /var/log (the container's own filesystem, lost at every restart).
//!
//! Pods run the host's ZooKeeper (Debian 12's 3.8), or another release's from a root file
//! system that each pod's PID 1 enters with chroot, as a container runs its image's
//! (`Release`). The volume, /opt and /var/log are then mounted inside that root, and zkpod is
//! there at the host's paths, so that commands run in the pod name it the same way.
//!
//! Everything is removed when the StatefulSet is dropped, also when a test fails; leftovers of
//! test processes that were killed outright are removed by the next run.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::*;

/// The headless Service's domain, as in the tutorial.
pub const DOMAIN: &str = "zk-hs.default.svc.cluster.local";
/// Where the tutorial mounts each pod's PersistentVolume.
const MOUNT_PATH: &str = "/var/lib/zookeeper";
const PREFIX: &str = "zkpod-sts";

pub struct Pod {
    pub netns: String,
    pub ip: String,
    pub volume: PathBuf,
    /// `ip netns exec … unshare …`: its only child is the pod's PID 1.
    process: Option<Child>,
}

/// Which ZooKeeper the pods run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// The host's: Debian 12's ZooKeeper 3.8.0 with Java 17.
    Debian12,
    /// Debian 13's ZooKeeper 3.9 with Java 21, from the root tests/zookeeper-root.sh makes.
    Debian13,
}

impl Release {
    /// The version `zk_version` starts with.
    pub fn zookeeper(self) -> &'static str {
        match self {
            Release::Debian12 => "3.8.",
            Release::Debian13 => "3.9.",
        }
    }

    /// The root file system the pods enter, if not the host's.
    fn root(self) -> Option<PathBuf> {
        match self {
            Release::Debian12 => None,
            Release::Debian13 => {
                let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/zookeeper-root.sh");
                let out = Command::new(script)
                    .stdin(Stdio::null())
                    .output()
                    .unwrap_or_else(|err| panic!("{script}: {err}"));
                assert!(out.status.success(), "{script}: {}", stderr(&out));
                Some(PathBuf::from(stdout(&out).trim()))
            }
        }
    }
}

pub struct StatefulSet {
    id: String,
    pub root: PathBuf,
    /// The cluster network's namespace, where the bridge is (and clients from "another pod").
    pub network: String,
    pub pods: Vec<Pod>,
    /// start-zookeeper's flags, as in the manifest's command.
    pub flags: Vec<String>,
    /// The container's variables (the manifest's env): start-zookeeper and exec'd commands
    /// see them.
    pub env: Vec<(String, String)>,
    /// The memory cgroup the pods run in (their container's memory limit), if any.
    pub cgroup: Option<PathBuf>,
    /// The root file system the pods enter (their image), if not the host's.
    image: Option<PathBuf>,
}

/// Run a setup command; it must succeed.
fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("{args:?}: {err}"));
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

fn netns_list() -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output().unwrap();
    stdout(&out)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// Remove a network namespace and everything in it.
fn remove_netns(name: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", name]).output() {
        for pid in stdout(&out).split_whitespace() {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
    let _ = Command::new("ip").args(["netns", "del", name]).status();
    let _ = fs::remove_dir_all(format!("/etc/netns/{name}"));
}

/// Namespaces left by test runs whose process is gone (killed before it could clean up).
fn sweep_leftovers() {
    for name in netns_list() {
        let Some(rest) = name.strip_prefix(&format!("{PREFIX}-")) else {
            continue;
        };
        let owner = rest.split('-').next().unwrap_or_default();
        if !Path::new(&format!("/proc/{owner}")).exists() {
            remove_netns(&name);
        }
    }
}

impl StatefulSet {
    /// Create the pods' namespaces, network and volumes; no pod runs yet.
    pub fn create(replicas: usize, flags: &[&str]) -> StatefulSet {
        StatefulSet::create_on(Release::Debian12, replicas, flags)
    }

    /// The same, with pods that run `release`'s ZooKeeper.
    pub fn create_on(release: Release, replicas: usize, flags: &[&str]) -> StatefulSet {
        let image = release.root();
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        sweep_leftovers();
        assert!(
            Path::new(MOUNT_PATH).is_dir(),
            "{MOUNT_PATH} must exist (Debian's zookeeper package creates it)"
        );
        let id = format!(
            "{PREFIX}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let root = std::env::temp_dir().join(&id);
        let _ = fs::remove_dir_all(&root);
        let network = format!("{id}-net");
        // Made before anything is created: if a step below fails, dropping it removes what the
        // steps before made.
        let mut set = StatefulSet {
            id: id.clone(),
            root,
            network: network.clone(),
            pods: Vec::new(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            env: Vec::new(),
            cgroup: None,
            image,
        };
        fs::create_dir_all(set.root.join("bin")).unwrap();
        for name in ["start-zookeeper", "zookeeper-ready", "zookeeper-metrics"] {
            std::os::unix::fs::symlink(ZKPOD, set.root.join("bin").join(name)).unwrap();
        }
        sh(&["ip", "netns", "add", &network]);
        sh(&["ip", "-n", &network, "link", "set", "lo", "up"]);
        sh(&["ip", "-n", &network, "link", "add", "br0", "type", "bridge"]);
        sh(&[
            "ip",
            "-n",
            &network,
            "addr",
            "add",
            "10.0.0.1/24",
            "dev",
            "br0",
        ]);
        sh(&["ip", "-n", &network, "link", "set", "br0", "up"]);
        for i in 0..replicas {
            set.add_pod(i);
        }
        // Every pod's /etc/hosts names every pod, as cluster DNS would
        // (publishNotReadyAddresses on the headless Service).
        let mut hosts = String::from("127.0.0.1 localhost\n");
        for i in 0..replicas {
            hosts.push_str(&format!("10.0.0.{} zk-{i}.{DOMAIN} zk-{i}\n", i + 2));
        }
        for pod in &set.pods {
            let dir = PathBuf::from(format!("/etc/netns/{}", pod.netns));
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("hosts"), &hosts).unwrap();
        }
        set
    }

    fn add_pod(&mut self, i: usize) {
        let netns = format!("{}-zk-{i}", self.id);
        let ip = format!("10.0.0.{}", i + 2);
        let veth = format!("v{i}");
        let volume = self.root.join(format!("datadir-zk-{i}"));
        sh(&["ip", "netns", "add", &netns]);
        // Listed at once, so that it is removed with the others if a step below fails.
        self.pods.push(Pod {
            netns: netns.clone(),
            ip: ip.clone(),
            volume: volume.clone(),
            process: None,
        });
        sh(&[
            "ip",
            "-n",
            &self.network,
            "link",
            "add",
            &veth,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &netns,
        ]);
        sh(&[
            "ip",
            "-n",
            &self.network,
            "link",
            "set",
            &veth,
            "master",
            "br0",
            "up",
        ]);
        sh(&[
            "ip",
            "-n",
            &netns,
            "addr",
            "add",
            &format!("{ip}/24"),
            "dev",
            "eth0",
        ]);
        sh(&["ip", "-n", &netns, "link", "set", "eth0", "up"]);
        sh(&["ip", "-n", &netns, "link", "set", "lo", "up"]);
        fs::create_dir_all(&volume).unwrap();
    }

    /// The kubelet starting pod i's container: start-zookeeper as PID 1 with the flags.
    pub fn start(&mut self, i: usize) {
        self.start_with(i, &self.flags.clone());
    }

    /// Start pod i's container with another command line for start-zookeeper.
    pub fn start_with(&mut self, i: usize, flags: &[String]) {
        assert!(self.pods[i].process.is_none(), "zk-{i} already runs");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(i))
            .unwrap();
        let start = self.command_path("start-zookeeper");
        let script = format!(
            "set -e; hostname zk-{i}; {}; shift; exec {}\"$@\"",
            self.container_mounts(true),
            self.chroot()
        );
        // `ip netns exec` mounts a sysfs of its own, without the cgroups: the move into the
        // memory cgroup comes first.
        let mut command = match &self.cgroup {
            Some(dir) => in_cgroup(dir, "ip"),
            None => Command::new("ip"),
        };
        let process = default_signals(&mut command)
            .args(["netns", "exec", &self.pods[i].netns])
            .args([
                "unshare",
                "--uts",
                "--pid",
                "--fork",
                "--mount-proc",
                "sh",
                "-c",
            ])
            .arg(script)
            .arg("sh")
            .arg(&self.pods[i].volume)
            .arg(&start)
            .args(flags)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.pods[i].process = Some(process);
    }

    /// Run `args` in pod i's network with its host name and volume, while its container does
    /// not run (as a debug container would): for commands run where start-zookeeper cannot.
    pub fn run_stopped<S: AsRef<OsStr>>(&self, i: usize, args: &[S], deadline: Duration) -> Output {
        assert!(self.pods[i].process.is_none(), "zk-{i} runs");
        let script = format!(
            "set -e; hostname zk-{i}; {}; shift; exec {}\"$@\"",
            self.container_mounts(false),
            self.chroot()
        );
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.pods[i].netns])
            .args(["unshare", "--uts", "--mount", "sh", "-c"])
            .arg(script)
            .arg("sh")
            .arg(&self.pods[i].volume)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        run(&mut cmd, deadline)
    }

    /// The pod's mounts, in the shell that becomes its PID 1 (the volume is "$1"): the
    /// volume, and with `fresh` the container's own /opt and /var/log. Inside an image, also
    /// /proc, /dev, /etc/hosts, /tmp and the paths zkpod is found at.
    fn container_mounts(&self, fresh: bool) -> String {
        let root = match &self.image {
            Some(root) => root.display().to_string(),
            None => String::new(),
        };
        let mut mounts = vec![format!("mount --bind \"$1\" {root}{MOUNT_PATH}")];
        if fresh {
            mounts.push(format!(
                "mount -t tmpfs container {root}/opt; mount -t tmpfs container {root}/var/log; \
                 mkdir -p {root}/opt/zookeeper/conf"
            ));
        }
        if self.cgroup.is_some() {
            // The memory cgroup's hierarchy, as a container runtime mounts it for the
            // container (`ip netns exec` left a /sys without cgroups).
            mounts.push(format!(
                "mkdir -p {root}/sys/fs/cgroup; mount -t tmpfs cgroup {root}/sys/fs/cgroup; \
                 mkdir {root}/sys/fs/cgroup/memory; \
                 mount -t cgroup -o memory memory {root}/sys/fs/cgroup/memory"
            ));
        }
        if self.image.is_some() {
            // The container's own /tmp too (the JVM keeps its perf data there by PID).
            mounts.push(format!(
                "mount -t proc proc {root}/proc; mount --rbind /dev {root}/dev; \
                 mount --bind /etc/hosts {root}/etc/hosts; mount -t tmpfs container {root}/tmp"
            ));
            let zkpod = Path::new(ZKPOD).parent().unwrap();
            for dir in [zkpod, &self.root] {
                let dir = dir.display();
                mounts.push(format!(
                    "mkdir -p {root}{dir}; mount --bind {dir} {root}{dir}"
                ));
            }
        }
        mounts.join("; ")
    }

    /// `chroot ROOT ` when the pods enter an image.
    fn chroot(&self) -> String {
        match &self.image {
            Some(root) => format!("chroot {} ", root.display()),
            None => String::new(),
        }
    }

    pub fn start_all(&mut self) {
        for i in 0..self.pods.len() {
            self.start(i);
        }
    }

    /// A zkpod command name, as the image installs it.
    pub fn command_path(&self, name: &str) -> String {
        self.root.join("bin").join(name).display().to_string()
    }

    pub fn log_path(&self, i: usize) -> PathBuf {
        self.root.join(format!("zk-{i}.log"))
    }

    /// `kubectl logs zk-i` (every start of the container).
    pub fn logs(&self, i: usize) -> String {
        fs::read_to_string(self.log_path(i)).unwrap_or_default()
    }

    /// The host's pid of pod i's PID 1.
    pub fn pid1(&self, i: usize) -> u32 {
        let process = self.pods[i].process.as_ref().expect("the pod runs");
        // PID 1 is first the shell that sets the pod up (host name, mounts): the pod is ready
        // for `exec` once that shell has become start-zookeeper.
        let zkpod = fs::metadata(self.command_path("start-zookeeper")).unwrap();
        let is_zkpod = |pid: u32| {
            fs::metadata(format!("/proc/{pid}/exe"))
                .is_ok_and(|exe| (exe.dev(), exe.ino()) == (zkpod.dev(), zkpod.ino()))
        };
        let mut pid = None;
        assert!(
            wait_until(Duration::from_secs(10), || {
                pid = children(process.id()).first().copied();
                pid.is_some_and(is_zkpod)
            }),
            "zk-{i} has no PID 1 running start-zookeeper"
        );
        pid.unwrap()
    }

    /// The JVM that pod i's PID 1 supervises.
    pub fn java(&self, i: usize) -> u32 {
        let pid1 = self.pid1(i);
        let mut java = None;
        assert!(
            wait_until(Duration::from_secs(10), || {
                java = children(pid1).into_iter().find(|pid| {
                    fs::read_to_string(format!("/proc/{pid}/cmdline"))
                        .is_ok_and(|c| c.contains("QuorumPeerMain"))
                });
                java.is_some()
            }),
            "zk-{i} runs no java"
        );
        java.unwrap()
    }

    /// Wait for pod i's PID 1 to exit; its exit status.
    pub fn wait_exit(&mut self, i: usize, deadline: Duration) -> Option<i32> {
        let mut process = self.pods[i].process.take().expect("the pod runs");
        let started = Instant::now();
        loop {
            if let Some(status) = process.try_wait().unwrap() {
                return status.code();
            }
            if started.elapsed() > deadline {
                self.pods[i].process = Some(process);
                panic!("zk-{i}'s PID 1 did not exit within {deadline:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kill pod i outright (its PID 1, and with it every process in the pod).
    pub fn kill(&mut self, i: usize) {
        let pid1 = self.pid1(i);
        signal(pid1, 9);
        self.wait_exit(i, Duration::from_secs(10));
    }

    /// `kubectl delete pod zk-i`: TERM to PID 1, and its exit (143 once ZooKeeper runs).
    pub fn stop(&mut self, i: usize) -> Option<i32> {
        signal(self.pid1(i), 15);
        self.wait_exit(i, Duration::from_secs(30))
    }

    /// Pod i's volume lost: a new, empty one in its place (the pod must not run).
    pub fn wipe(&mut self, i: usize) {
        assert!(self.pods[i].process.is_none(), "zk-{i} still runs");
        let volume = &self.pods[i].volume;
        fs::remove_dir_all(volume).unwrap();
        fs::create_dir_all(volume).unwrap();
    }

    /// Whether pod i runs (its PID 1 has not exited).
    pub fn runs(&mut self, i: usize) -> bool {
        self.pods[i]
            .process
            .as_mut()
            .is_some_and(|p| p.try_wait().unwrap().is_none())
    }

    /// `kubectl exec zk-i -- args…`: run in pod i's network, UTS, PID and mount namespaces.
    pub fn exec<S: AsRef<OsStr>>(&self, i: usize, args: &[S], deadline: Duration) -> Output {
        run(&mut self.exec_command(i, args), deadline)
    }

    /// `zkpod COMMAND EXTRA… FLAGS…`: a zkpod command with the pod's start-zookeeper flags, as
    /// the pod's hooks and operators run it.
    pub fn zkpod_args(&self, command: &str, extra: &[&str]) -> Vec<String> {
        [ZKPOD, command]
            .iter()
            .chain(extra)
            .map(|arg| arg.to_string())
            .chain(self.flags.iter().cloned())
            .collect()
    }

    /// The command `exec` runs, to start it in the background.
    pub fn exec_command<S: AsRef<OsStr>>(&self, i: usize, args: &[S]) -> Command {
        let pid1 = self.pid1(i).to_string();
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &pid1, "-n", "-u", "-p", "-m"]);
        if self.image.is_some() {
            // Its root and working directory: the image's.
            cmd.args(["-r", "-w"]);
        }
        cmd.arg("--")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Run in the cluster network, as another pod would (clients, writers).
    pub fn in_network(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.network])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        cmd
    }

    /// The kubelet's exec probe: `zookeeper-ready [--serving] 2181` in pod i.
    pub fn probe(&self, i: usize, serving: bool) -> Output {
        self.probe_with(i, if serving { &["--serving"] } else { &[] })
    }

    /// `zookeeper-ready FLAGS… 2181` in pod i, as an exec probe with those flags runs it.
    pub fn probe_with(&self, i: usize, flags: &[&str]) -> Output {
        let ready = self.command_path("zookeeper-ready");
        let mut args = vec![ready.as_str()];
        args.extend_from_slice(flags);
        args.push("2181");
        self.exec(i, &args, Duration::from_secs(10))
    }

    /// Wait until pod i's probe passes.
    pub fn wait_ready(&self, i: usize, serving: bool, deadline: Duration) {
        let passed = wait_until(deadline, || self.probe(i, serving).status.success());
        if !passed {
            let last = self.probe(i, serving);
            panic!(
                "zk-{i} not {} within {deadline:?}: {}\nlogs:\n{}",
                if serving { "serving" } else { "alive" },
                stderr(&last),
                tail(&self.logs(i), 40)
            );
        }
    }

    /// `kubectl exec zk-i -- zookeeper-metrics`: the zk_server_state line's value.
    pub fn server_state(&self, i: usize) -> String {
        self.metric(i, "zk_server_state")
            .unwrap_or_else(|| "unknown".into())
    }

    /// One line of `kubectl exec zk-i -- zookeeper-metrics`: its value.
    pub fn metric(&self, i: usize, name: &str) -> Option<String> {
        let metrics = self.command_path("zookeeper-metrics");
        let out = self.exec(i, &[&metrics], Duration::from_secs(10));
        let prefix = format!("{name}\t");
        stdout(&out)
            .lines()
            .find_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
    }

    /// Run a host program in pod i's network namespace only: a client or tool (python, ss)
    /// beside the pod's server, which its image need not have.
    pub fn net_exec<S: AsRef<OsStr>>(&self, i: usize, args: &[S], deadline: Duration) -> Output {
        let pid1 = self.pid1(i).to_string();
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &pid1, "-n", "--"])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        run(&mut cmd, deadline)
    }

    /// A kazoo script run in pod i's network against its own server (127.0.0.1:2181).
    pub fn kazoo(&self, i: usize, script: &str) -> Result<String, String> {
        let program = kazoo_program(script);
        let out = self.net_exec(
            i,
            &[PYTHON, "-c", &program, "127.0.0.1:2181"],
            Duration::from_secs(60),
        );
        if out.status.success() {
            Ok(stdout(&out))
        } else {
            Err(stderr(&out))
        }
    }

    /// Every pod's client address, as a ZooKeeper connect string.
    pub fn connect_string(&self) -> String {
        self.pods
            .iter()
            .map(|pod| format!("{}:2181", pod.ip))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Zombies among the children of pod i's PID 1.
    pub fn zombies(&self, i: usize) -> Vec<u32> {
        children(self.pid1(i))
            .into_iter()
            .filter(|c| proc_status(*c, "State").is_some_and(|s| s.starts_with('Z')))
            .collect()
    }
}

impl Drop for StatefulSet {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for i in 0..self.pods.len() {
                eprintln!("--- zk-{i} logs (tail) ---\n{}", tail(&self.logs(i), 30));
            }
        }
        for pod in &mut self.pods {
            if let Some(mut process) = pod.process.take() {
                // Killing PID 1 ends the pod; unshare then reaps it and exits.
                for pid1 in children(process.id()) {
                    // Not signal(): it asserts, and a panic while unwinding aborts.
                    let _ = Command::new("kill")
                        .args(["-9", &pid1.to_string()])
                        .stderr(Stdio::null())
                        .status();
                }
                let started = Instant::now();
                while matches!(process.try_wait(), Ok(None))
                    && started.elapsed() < Duration::from_secs(5)
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                let _ = process.kill();
                let _ = process.wait();
            }
            remove_netns(&pod.netns);
        }
        remove_netns(&self.network);
        if std::env::var_os("ZKPOD_KEEP_STS").is_none() {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

/// The tutorial's start-zookeeper flags, with a small heap.
pub fn tutorial_flags(servers: usize) -> Vec<String> {
    [
        &format!("--servers={servers}"),
        "--data_dir=/var/lib/zookeeper/data",
        "--data_log_dir=/var/lib/zookeeper/data/log",
        "--conf_dir=/opt/zookeeper/conf",
        "--client_port=2181",
        "--election_port=3888",
        "--server_port=2888",
        "--tick_time=2000",
        "--init_limit=10",
        "--sync_limit=5",
        "--heap=128M",
        "--max_client_cnxns=60",
        "--snap_retain_count=3",
        "--purge_interval=12",
        "--max_session_timeout=40000",
        "--min_session_timeout=4000",
        "--log_level=INFO",
    ]
    .iter()
    .map(|flag| flag.to_string())
    .collect()
}

/// Hold while a test runs an ensemble: one at a time per test binary, since each pod is a
/// JVM and the machine has few cores.
pub fn one_ensemble_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn create(replicas: usize, flags: &[String]) -> StatefulSet {
    create_on(Release::Debian12, replicas, flags)
}

pub fn create_on(release: Release, replicas: usize, flags: &[String]) -> StatefulSet {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    StatefulSet::create_on(release, replicas, &flags)
}

/// States of every pod, e.g. ["follower", "leader", "follower"].
pub fn states(set: &StatefulSet) -> Vec<String> {
    (0..set.pods.len()).map(|i| set.server_state(i)).collect()
}

pub fn one_leader(states: &[String], others: &str) -> bool {
    states.iter().filter(|s| *s == "leader").count() == 1
        && states.iter().filter(|s| *s == others).count() == states.len() - 1
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
