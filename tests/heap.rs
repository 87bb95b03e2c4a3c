//! The JVM heap as a share of the container's memory limit (`--heap=NN%`, `ZK_HEAP_SIZE=NN%`),
//! in memory cgroups the tests make with a limit, and start-zookeeper run inside them.
//!
//! cgroup v1 is this machine's own: the memory controller's hierarchy, where a test makes a
//! cgroup, sets `memory.limit_in_bytes` and moves start-zookeeper into it. A kernel binds the
//! memory controller to one version at a time, and a node that mounts v1's memory hierarchy
//! has no `memory.max` in v2's: there, cgroup v2 is what a container sees of it, made in a
//! mount namespace of the test's own. The v1 hierarchy is unmounted, and a file system over
//! v2's mount point holds `memory.max`, where the kernel would. start-zookeeper still finds
//! them through the real /proc/self/cgroup and /proc/self/mountinfo.

mod common;

use std::fs;
use std::process::{Command, Output};

use common::*;

const MIB: u64 = 1024 * 1024;

fn heap_section(out: &Output) -> String {
    let printed = stdout(out);
    let at = printed
        .find("==> heap <==\n")
        .expect("the dry run shows the heap");
    printed[at..].lines().nth(1).unwrap().to_string()
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_share_of_a_cgroup_v1_limit() {
    require_root_and_namespaces();
    let sandbox = Sandbox::new("heap-v1");
    let cgroup = MemoryCgroup::new("share", Some(1536 * MIB));
    let file = cgroup.dir.join("memory.limit_in_bytes");

    let out = cgroup.run(sandbox.start().args(["--dry_run", "--heap=50%"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        heap_section(&out),
        format!(
            "768m: 50% (--heap) of the memory limit, 1536 MiB ({})",
            file.display()
        )
    );
    let printed = stdout(&out);
    assert!(printed.contains(" -Xmx768m -Xms768m "), "{printed}");
    assert!(
        printed.contains("SERVER_JVMFLAGS=\"-Xmx768m -Xms768m "),
        "{printed}"
    );
    assert_eq!(stderr(&out).matches("WARN").count(), 0, "{}", stderr(&out));

    // From the variable, and a limit set on a parent cgroup counts too.
    let child = MemoryCgroup {
        dir: cgroup.dir.join("ctr"),
    };
    fs::create_dir(&child.dir).unwrap();
    let out = child.run(
        sandbox
            .start()
            .args(["--dry_run"])
            .env("ZK_HEAP_SIZE", "25%"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        heap_section(&out).starts_with("384m: 25% (ZK_HEAP_SIZE) of the memory limit"),
        "{}",
        heap_section(&out)
    );
    drop(child);

    // The real start writes the share's size; the percentage stays off the disk.
    let out = cgroup.run(sandbox.start().args(["--heap=50%", "--", "true"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sandbox.read("conf/java.env").contains("-Xmx768m -Xms768m"));
    assert!(!sandbox.path("data").join("myid").exists());
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_fixed_heap_that_crowds_the_limit_is_warned_of() {
    require_root_and_namespaces();
    let sandbox = Sandbox::new("heap-crowded");
    // What users of other images hit: a 1024 MB heap in a 384 Mi limit, killed for memory.
    let cgroup = MemoryCgroup::new("crowded", Some(384 * MIB));
    let out = cgroup.run(sandbox.start().args(["--dry_run", "--heap=1024M"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let warned: Vec<String> = stderr(&out)
        .lines()
        .filter(|line| line.contains("WARN"))
        .map(str::to_owned)
        .collect();
    assert_eq!(warned.len(), 1, "{}", stderr(&out));
    assert!(
        warned[0]
            .contains("--heap=1024M: a heap of 1024 MiB leaves 0 MiB of the 384 MiB memory limit"),
        "{}",
        warned[0]
    );
    assert_eq!(heap_section(&out), "1024M (--heap)");
    // Three quarters exactly leaves the quarter: no warning.
    let out = cgroup.run(sandbox.start().args(["--dry_run", "--heap=288M"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("WARN"), "{}", stderr(&out));
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_share_without_a_limit_is_refused_and_nothing_is_written() {
    require_root_and_namespaces();
    let sandbox = Sandbox::new("heap-unlimited");
    let cgroup = MemoryCgroup::new("unlimited", None);
    for (flag, env, origin) in [
        (Some("--heap=50%"), None, "--heap"),
        (None, Some("60%"), "ZK_HEAP_SIZE"),
    ] {
        let mut start = sandbox.start();
        start.args(flag).args(["--", "true"]);
        if let Some(value) = env {
            start.env("ZK_HEAP_SIZE", value);
        }
        let out = cgroup.run(&start);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("start-zookeeper: {origin}: "))
                && err.contains("this container has no memory limit"),
            "{err}"
        );
        assert!(!sandbox.path("conf").exists() && !sandbox.path("data").exists());
    }
    // A size needs no limit.
    let out = cgroup.run(sandbox.start().args(["--dry_run", "--heap=512M"]));
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_share_of_a_cgroup_v2_limit() {
    require_root_and_namespaces();
    let sandbox = Sandbox::new("heap-v2");
    // A container's view of v2 (see the top of this file): its cgroup is the mount's root.
    let script = "set -e
        umount -l /sys/fs/cgroup/memory 2>/dev/null || true
        mkdir -p /sys/fs/cgroup/unified
        mount -t tmpfs cgroup-v2 /sys/fs/cgroup/unified
        echo \"$0\" > /sys/fs/cgroup/unified/memory.max
        exec \"$@\"";
    let v2 = |limit: &str, args: &[&str]| {
        let start = sandbox.start();
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--cgroup", "sh", "-c", script, limit])
            .arg(start.get_program())
            .args(start.get_args())
            .args(args)
            .env_clear()
            .envs(start.get_envs().filter_map(|(k, v)| Some((k, v?))));
        output(&mut cmd)
    };
    // What this process sees in its namespaces: a v2 line, a cgroup2 mount, no v1 memory.
    let mut seen = Command::new("unshare");
    seen.args(["--mount", "--cgroup", "sh", "-c", script, "max", "sh", "-c"])
        .arg("cat /proc/self/cgroup; grep cgroup /proc/self/mountinfo");
    let seen = stdout(&output(&mut seen));
    assert!(seen.lines().any(|line| line == "0::/"), "{seen}");
    assert!(!seen.contains(" - cgroup cgroup rw,memory"), "{seen}");

    let out = v2(&(1024 * MIB).to_string(), &["--dry_run", "--heap=40%"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        heap_section(&out),
        "409m: 40% (--heap) of the memory limit, 1024 MiB (/sys/fs/cgroup/unified/memory.max)"
    );
    assert!(stdout(&out).contains(" -Xmx409m -Xms409m "));

    // v2's "max" is no limit.
    let out = v2("max", &["--heap=40%", "--", "true"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("--heap: 40% of the memory limit, but this container has no memory limit")
    );
    assert!(!sandbox.path("conf").exists());
}
