//! The tutorial "Running ZooKeeper, A Distributed System Coordinator", step by step, on pods
//! simulated with namespaces (tests/common/statefulset.rs): real ZooKeeper, real clients.

mod common;

use std::fs;
use std::process::Stdio;
use std::time::Duration;

use common::statefulset::*;
use common::*;

const TERM: i32 = 15;
const KILL: i32 = 9;

const MINUTE: Duration = Duration::from_secs(60);

#[test]
#[ignore = "needs root and namespaces"]
fn the_tutorial_on_three_pods() {
    tutorial(Release::Debian12);
}

#[test]
#[ignore = "needs root and namespaces"]
fn the_tutorial_on_three_pods_with_zookeeper_3_9() {
    tutorial(Release::Debian13);
}

fn tutorial(release: Release) {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = create_on(release, 3, &tutorial_flags(3));
    set.start_all();

    // 1. Every pod becomes ready through `zookeeper-ready 2181`; myid is ordinal + 1; every
    //    zoo.cfg names the three pods.
    for i in 0..3 {
        set.wait_ready(i, false, MINUTE);
    }
    for i in 0..3 {
        let myid = fs::read_to_string(set.pods[i].volume.join("data/myid")).unwrap();
        assert_eq!(myid, format!("{}\n", i + 1), "myid of zk-{i}");
        let cfg = stdout(&set.exec(i, &["cat", "/opt/zookeeper/conf/zoo.cfg"], MINUTE));
        for j in 0..3 {
            let line = format!("server.{}=zk-{j}.{DOMAIN}:2888:3888\n", j + 1);
            assert!(cfg.contains(&line), "zk-{i}'s zoo.cfg lacks {line}{cfg}");
        }
        assert!(cfg.contains("autopurge.purgeInterval=12\n"));
        let hostname = stdout(&set.exec(i, &["hostname"], MINUTE));
        assert_eq!(hostname.trim(), format!("zk-{i}"));
    }

    // 2. Once the quorum has formed: one leader, the rest followers; --serving passes.
    for i in 0..3 {
        set.wait_ready(i, true, MINUTE);
        let version = set.metric(i, "zk_version").unwrap_or_default();
        assert!(
            version.starts_with(release.zookeeper()),
            "zk-{i}: {version}"
        );
    }
    assert!(
        wait_until(MINUTE, || one_leader(&states(&set), "follower")),
        "states: {:?}",
        states(&set)
    );
    // Every server's metrics, leader and followers alike, make a page Prometheus accepts:
    // each `mntr` key of this release, known to zkpod or not.
    let metrics = set.command_path("zookeeper-metrics");
    for i in 0..3 {
        let raw = stdout(&set.exec(i, &[&metrics], MINUTE));
        let page = stdout(&set.exec(i, &[&metrics, "--format", "prometheus"], MINUTE));
        promtool(&page).unwrap_or_else(|problems| panic!("zk-{i}: {problems}\n{page}"));
        for line in raw.lines().filter(|line| !line.starts_with("zk_version\t")) {
            // As it is, or renamed: milliseconds become seconds, counters gain `_total`, text
            // becomes an `_info` label.
            let key = line.split(['\t', '{']).next().unwrap();
            let stem = key.trim_end_matches("_ms");
            let named = |suffix: &str| {
                [' ', '{']
                    .iter()
                    .any(|after| page.contains(&format!("\n{stem}{suffix}{after}")))
            };
            assert!(
                ["", "_seconds", "_total", "_info"].into_iter().any(named),
                "zk-{i}: {key} missing:\n{page}"
            );
        }
    }

    // 3. Sanity: write through zk-0, read through zk-1.
    set.kazoo(0, "zk.create('/hello', b'world')").unwrap();
    assert_eq!(
        set.kazoo(1, "zk.sync('/hello')\nprint(zk.get('/hello')[0].decode())")
            .unwrap(),
        "world\n"
    );

    // 4. Process failure. First the process tree (`kubectl exec zk-0 -- ps -ef`): PID 1 is
    //    zkpod supervising java, not java itself. Then kill -9 of that java ends the pod's
    //    PID 1 with 137; the restarted pod rejoins and serves /hello.
    let ps = stdout(&set.exec(0, &["ps", "-o", "pid=,ppid=,args=", "-e"], MINUTE));
    let pid1 = ps
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .unwrap_or_default();
    assert!(
        pid1.contains("zkpod supervise --restart_on_hup -- /usr/bin/java"),
        "{ps}"
    );
    assert!(
        ps.lines()
            .any(|l| l.contains("QuorumPeerMain") && l.split_whitespace().nth(1) == Some("1")),
        "java is not PID 1's child:\n{ps}"
    );
    let java = set.java(0);
    signal(java, KILL);
    assert_eq!(set.wait_exit(0, Duration::from_secs(10)), Some(128 + KILL));
    set.start(0);
    set.wait_ready(0, true, MINUTE);
    assert_eq!(
        set.kazoo(0, "print(zk.get('/hello')[0].decode())").unwrap(),
        "world\n"
    );

    // 5. Liveness: a stopped server's probe fails, refused rather than timed out; two of
    //    three still take writes. With two of three down, writes fail and the last server is
    //    alive but not serving.
    set.kill(2);
    let probe = run(
        std::process::Command::new("ip")
            .args(["netns", "exec", &set.pods[2].netns])
            .arg(set.command_path("zookeeper-ready"))
            .arg("2181"),
        Duration::from_secs(10),
    );
    assert_eq!(probe.status.code(), Some(1));
    assert!(
        stderr(&probe).contains("connection refused"),
        "{}",
        stderr(&probe)
    );
    set.kazoo(0, "zk.create('/two-of-three', b'ok')").unwrap();

    set.kill(1);
    assert!(
        wait_until(MINUTE, || !set.probe(0, true).status.success()),
        "zk-0 kept serving without a quorum"
    );
    let not_serving = set.probe(0, true);
    assert!(
        stderr(&not_serving).contains("not serving"),
        "{}",
        stderr(&not_serving)
    );
    assert!(
        set.probe(0, false).status.success(),
        "alive without a quorum"
    );
    let write = set.kazoo(0, "zk.create('/no-quorum', b'lost')");
    assert!(write.is_err(), "a write succeeded without a quorum");
    set.start(1);
    set.start(2);
    for i in 0..3 {
        set.wait_ready(i, true, MINUTE);
    }
    assert_eq!(
        set.kazoo(2, "print(zk.exists('/no-quorum'))").unwrap(),
        "None\n"
    );

    // 7. Zombies: what exec probes leave behind is reaped by PID 1. Each orphan leaves a
    //    marker on the volume as its last act; once all are there, none may stay a zombie.
    for n in 0..20 {
        let script = format!("(sleep 0.2; touch /var/lib/zookeeper/orphan-{n}) & exit 0");
        let out = set.exec(1, &["sh", "-c", &script], MINUTE);
        assert!(out.status.success());
    }
    let volume = set.pods[1].volume.clone();
    assert!(
        wait_until(Duration::from_secs(10), || (0..20)
            .all(|n| volume.join(format!("orphan-{n}")).exists())),
        "the orphans did not end"
    );
    assert!(
        wait_until(Duration::from_secs(5), || set.zombies(1).is_empty()),
        "zombies in zk-1: {:?}",
        set.zombies(1)
    );

    // 6. Durable storage: TERM to every PID 1 (as the kubelet does) ends each within the grace
    //    period with the JVM's 143; started again, the ensemble still serves /hello.
    for i in 0..3 {
        signal(set.pid1(i), TERM);
    }
    for i in 0..3 {
        assert_eq!(
            set.wait_exit(i, Duration::from_secs(30)),
            Some(128 + TERM),
            "zk-{i}"
        );
    }
    set.start_all();
    for i in 0..3 {
        set.wait_ready(i, true, MINUTE);
    }
    assert_eq!(
        set.kazoo(2, "print(zk.get('/hello')[0].decode())").unwrap(),
        "world\n"
    );
    assert_eq!(
        set.kazoo(1, "print(zk.get('/two-of-three')[0].decode())")
            .unwrap(),
        "ok\n"
    );

    // 9. Rolling restart in reverse ordinal order, waiting for --serving each time, while a
    //    client keeps writing (retrying across leader elections, as ZooKeeper clients do).
    let stop = set.root.join("stop-writing");
    let writer = "import os, sys, time\n\
        from kazoo.client import KazooClient\n\
        from kazoo.retry import KazooRetry\n\
        from kazoo.exceptions import NodeExistsError\n\
        retry = KazooRetry(max_tries=-1, delay=0.2, max_delay=1, deadline=60)\n\
        zk = KazooClient(hosts=sys.argv[1], timeout=10, connection_retry=retry, command_retry=retry)\n\
        zk.start(timeout=30)\n\
        zk.ensure_path('/rolling')\n\
        n = 0\n\
        while not os.path.exists(sys.argv[2]):\n\
        \x20   try:\n\
        \x20       zk.retry(zk.create, '/rolling/w%06d' % n, b'x')\n\
        \x20   except NodeExistsError:\n\
        \x20       pass\n\
        \x20   n += 1\n\
        \x20   time.sleep(0.05)\n\
        print(n)\n\
        zk.stop()\n";
    // Killed when the test ends, also by failing; its output read as it comes.
    let mut writing = Running::spawn(
        set.in_network(&[
            PYTHON,
            "-c",
            writer,
            &set.connect_string(),
            &stop.display().to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()),
    );
    let writer_output = Drained::start(&mut writing.0);
    assert!(
        wait_until(MINUTE, || written(&set) > 10),
        "the writer is not writing"
    );
    for i in (0..3).rev() {
        signal(set.pid1(i), TERM);
        assert_eq!(
            set.wait_exit(i, Duration::from_secs(30)),
            Some(128 + TERM),
            "zk-{i}"
        );
        set.start(i);
        set.wait_ready(i, true, MINUTE);
    }
    let after_restarts = written(&set);
    assert!(
        wait_until(MINUTE, || written(&set) > after_restarts + 10),
        "the writer stopped writing"
    );
    fs::write(&stop, "").unwrap();
    let mut status = None;
    assert!(
        wait_until(MINUTE, || {
            status = writing.0.try_wait().unwrap();
            status.is_some()
        }),
        "the writer did not stop: {}",
        writer_output.stderr_so_far()
    );
    let (out, err) = writer_output.finish();
    assert!(
        status.unwrap().success(),
        "the writer failed: {}",
        String::from_utf8_lossy(&err)
    );
    let count: usize = String::from_utf8_lossy(&out).trim().parse().unwrap();
    assert!(count > 20, "only {count} writes during the rolling restart");
    let stored = set
        .kazoo(
            0,
            "zk.sync('/rolling')\nprint(len(zk.get_children('/rolling')))",
        )
        .unwrap();
    assert_eq!(
        stored.trim().parse::<usize>().unwrap(),
        count,
        "every write was kept"
    );
    assert!(wait_until(MINUTE, || one_leader(&states(&set), "follower")));
}

/// How many znodes the rolling-restart writer has created so far.
fn written(set: &StatefulSet) -> usize {
    set.kazoo(
        0,
        "print(len(zk.get_children('/rolling')) if zk.exists('/rolling') else 0)",
    )
    .ok()
    .and_then(|n| n.trim().parse::<usize>().ok())
    .unwrap_or(0)
}

#[test]
#[ignore = "needs root and namespaces"]
fn five_pods_form_one_ensemble() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = create(5, &tutorial_flags(5));
    set.start_all();
    for i in 0..5 {
        set.wait_ready(i, true, MINUTE);
        let myid = fs::read_to_string(set.pods[i].volume.join("data/myid")).unwrap();
        assert_eq!(myid, format!("{}\n", i + 1));
    }
    assert!(
        wait_until(MINUTE, || one_leader(&states(&set), "follower")),
        "states: {:?}",
        states(&set)
    );
    set.kazoo(4, "zk.create('/five', b'5')").unwrap();
    assert_eq!(
        set.kazoo(0, "zk.sync('/five')\nprint(zk.get('/five')[0].decode())")
            .unwrap(),
        "5\n"
    );
    // Two of five may go: three still make a quorum.
    set.kill(0);
    set.kill(1);
    set.kazoo(2, "zk.create('/three-of-five', b'ok')").unwrap();
}

#[test]
#[ignore = "needs root and namespaces"]
fn an_observer_serves_reads_without_voting() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut flags = tutorial_flags(3);
    flags.push("--observers=1".into());
    let mut set = create(4, &flags);
    set.start_all();
    for i in 0..4 {
        set.wait_ready(i, true, MINUTE);
    }
    assert!(
        wait_until(MINUTE, || set.server_state(3) == "observer"),
        "zk-3 is {}",
        set.server_state(3)
    );
    let voters: Vec<String> = (0..3).map(|i| set.server_state(i)).collect();
    assert!(one_leader(&voters, "follower"), "voters: {voters:?}");
    let cfg = stdout(&set.exec(3, &["cat", "/opt/zookeeper/conf/zoo.cfg"], MINUTE));
    assert!(cfg.contains("peerType=observer\n"), "{cfg}");
    assert!(
        cfg.contains(&format!("server.4=zk-3.{DOMAIN}:2888:3888:observer\n")),
        "{cfg}"
    );

    set.kazoo(0, "zk.create('/seen-by-observer', b'yes')")
        .unwrap();
    let read = set
        .kazoo(
            3,
            "zk.sync('/seen-by-observer')\nprint(zk.get('/seen-by-observer')[0].decode())",
        )
        .unwrap();
    assert_eq!(read, "yes\n");
    // Losing the observer costs no quorum.
    set.kill(3);
    set.kazoo(1, "zk.create('/after-observer', b'ok')").unwrap();
    assert!(set.probe(0, true).status.success());
}

/// The manifest's start-zookeeper command: the items of the container's `command:` list.
fn manifest_command(manifest: &str) -> Vec<String> {
    let mut lines = manifest.lines().skip_while(|l| l.trim() != "command:");
    lines.next().expect("a command: list in the manifest");
    lines
        .take_while(|l| l.trim_start().starts_with("- "))
        .map(|l| l.trim_start()[2..].trim().trim_matches('"').to_string())
        .collect()
}

#[test]
#[ignore = "needs root and namespaces"]
fn the_manifest_matches_the_binary() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let manifest = include_str!("../docker/zookeeper.yaml");
    let command = manifest_command(manifest);
    assert_eq!(command[0], "start-zookeeper", "{command:?}");
    let servers: usize = command
        .iter()
        .find_map(|flag| flag.strip_prefix("--servers="))
        .expect("--servers in the manifest")
        .parse()
        .unwrap();
    let replicas: usize = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("replicas:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        servers, replicas,
        "--servers must match the StatefulSet's replicas"
    );

    // The manifest's command line, as pod zk-1 runs it (in its memory limit), with --dry_run.
    let memory = MemoryCgroup::new("manifest", Some(manifest_memory_limit(manifest)));
    let mut set = StatefulSet::create(replicas, &[]);
    set.cgroup = Some(memory.dir.clone());
    let mut flags: Vec<String> = command[1..].to_vec();
    flags.push("--dry_run".into());
    set.start_with(1, &flags);
    assert_eq!(set.wait_exit(1, MINUTE), Some(0), "{}", set.logs(1));
    let printed = set.logs(1);
    assert!(
        printed.contains("==> /var/lib/zookeeper/data/myid <==\n2\n"),
        "{printed}"
    );
    for j in 0..replicas {
        let line = format!("server.{}=zk-{j}.{DOMAIN}:2888:3888\n", j + 1);
        assert!(printed.contains(&line), "{line} missing:\n{printed}");
    }
    assert!(printed.contains("==> command <==\n"));
    // --heap=50% of the 1Gi limit.
    assert!(printed.contains(" -Xmx512m -Xms512m "), "{printed}");
    assert!(
        !set.pods[1].volume.join("data").exists(),
        "a dry run writes nothing"
    );

    // The probes name commands and flags the binary accepts: against a closed port they
    // report the server unhealthy (1), not a usage error (2).
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        let words = manifest_list(manifest, probe);
        assert_eq!(words[0], "zookeeper-ready", "{probe}: {words:?}");
        let mut cmd = std::process::Command::new(set.command_path("zookeeper-ready"));
        cmd.args(&words[1..]);
        let out = output(&mut cmd);
        assert_eq!(out.status.code(), Some(1), "{probe}: {}", stderr(&out));
    }
    let liveness = manifest_list(manifest, "livenessProbe");
    assert!(
        !liveness.contains(&"--serving".to_string()),
        "liveness must not need a quorum"
    );
    assert!(manifest_list(manifest, "readinessProbe").contains(&"--serving".to_string()));
    // Started means alive: the startup probe asks what liveness asks, and nothing more.
    assert_eq!(manifest_list(manifest, "startupProbe"), liveness);
    assert!(manifest.contains("podManagementPolicy: Parallel"));
    assert!(manifest.contains("publishNotReadyAddresses: true"));
}

#[test]
#[ignore = "needs root and namespaces"]
fn nothing_is_left_behind() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let names = || {
        let out = std::process::Command::new("ip")
            .args(["netns", "list"])
            .output()
            .unwrap();
        stdout(&out)
            .lines()
            .filter(|l| l.contains(&format!("zkpod-sts-{}-", std::process::id())))
            .count()
    };
    let root;
    {
        // Pods that only sleep: this test is about what the harness leaves behind.
        let mut set = StatefulSet::create(2, &["--servers=2", "--", "sleep", "600"]);
        set.start_all();
        let pid1 = set.pid1(0);
        assert!(names() >= 3);
        root = set.root.clone();
        // A failing test must clean up too: drop while unwinding from a panic.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _set = set;
            panic!("a failing test");
        }));
        assert!(
            !std::path::Path::new(&format!("/proc/{pid1}")).exists(),
            "PID 1 still runs"
        );
    }
    assert_eq!(names(), 0, "network namespaces left behind");
    assert!(!root.exists(), "volumes left behind");
    let etc: Vec<_> = fs::read_dir("/etc/netns")
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !etc.iter().any(|n| n
            .to_string_lossy()
            .contains(&format!("zkpod-sts-{}-", std::process::id()))),
        "/etc/netns entries left behind: {etc:?}"
    );
}
