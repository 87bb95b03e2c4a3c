//! Dynamic membership on simulated pods with real ZooKeeper: scaling up and down, rolling and
//! whole-ensemble restarts, killed and wiped pods, with a client writing acknowledged znodes
//! throughout, every one of them present at the end.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::statefulset::*;
use common::*;

const MINUTE: Duration = Duration::from_secs(60);
const PASSWORD: &str = "s3cret-for-tests";

/// Five pods (all names known, as with publishNotReadyAddresses), the first ensemble three,
/// dynamic membership as the manifest sets it: ZK_MEMBERSHIP and ZK_SUPER_PASSWORD.
fn dynamic_set() -> StatefulSet {
    dynamic_set_on(Release::Debian12)
}

fn dynamic_set_on(release: Release) -> StatefulSet {
    dynamic(create_on(release, 5, &tutorial_flags(3)))
}

/// `set` with the manifest's variables for dynamic membership.
fn dynamic(mut set: StatefulSet) -> StatefulSet {
    set.env = vec![
        ("ZK_MEMBERSHIP".into(), "dynamic".into()),
        ("ZK_SUPER_PASSWORD".into(), PASSWORD.into()),
    ];
    set
}

/// The ensemble's membership as pod i's server reports it (`conf`): (id, role) pairs.
fn members(set: &StatefulSet, i: usize) -> Vec<(u32, String)> {
    let script = "data, _ = zk.get('/zookeeper/config')\nprint(data.decode())";
    let text = set.kazoo(i, script).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (key, spec) = line.split_once('=')?;
            let id = key.strip_prefix("server.")?.parse().ok()?;
            let role = spec.split(';').next()?.split(':').nth(3)?.to_owned();
            Some((id, role))
        })
        .collect()
}

fn participants(set: &StatefulSet, i: usize) -> Vec<u32> {
    members(set, i)
        .into_iter()
        .filter(|(_, role)| role == "participant")
        .map(|(id, _)| id)
        .collect()
}

fn wait_participants(set: &StatefulSet, through: usize, want: &[u32]) {
    let mut seen = Vec::new();
    let ok = wait_until(2 * MINUTE, || {
        seen = participants(set, through);
        seen == want
    });
    assert!(
        ok,
        "participants seen through zk-{through}: {seen:?}, want {want:?}"
    );
}

/// `zkpod leave` in pod i (its preStop hook), with the pod's flags.
fn leave(set: &StatefulSet, i: usize, timeout: &str) -> std::process::Output {
    let args = set.zkpod_args("leave", &["--timeout", timeout]);
    set.exec(i, &args, Duration::from_secs(120))
}

/// `zkpod leave` running in a pod in the background, as a preStop hook runs; its stderr is read
/// as it comes.
struct Leaving {
    child: Child,
    output: Drained,
}

/// `zkpod leave` in pod i, started in the background. It logs at DEBUG, so that it also says
/// when it asks again.
fn leave_in_background(set: &StatefulSet, i: usize, timeout: &str) -> Leaving {
    let args: Vec<String> = set
        .zkpod_args("leave", &["--timeout", timeout])
        .into_iter()
        .map(|arg| match arg.starts_with("--log_level=") {
            true => "--log_level=DEBUG".into(),
            false => arg,
        })
        .collect();
    let mut child = set
        .exec_command(i, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = Drained::start(&mut child);
    Leaving { child, output }
}

impl Leaving {
    fn stderr_so_far(&self) -> String {
        self.output.stderr_so_far()
    }

    /// Wait for it to end (it has its own --timeout; this deadline is for a hang): whether it
    /// succeeded, and its stderr.
    fn finish(mut self) -> (bool, String) {
        let mut status = None;
        let ended = wait_until(3 * MINUTE, || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        if !ended {
            let _ = self.child.kill();
            panic!("leave did not end: {}", self.stderr_so_far());
        }
        let err = self.output.finish().1;
        (
            status.unwrap().success(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }
}

/// A client in the cluster network creating /acked/NNNNNN one after another, through every
/// pod, printing each name once ZooKeeper acknowledged it; it stops when `stop` exists.
/// Its stderr goes to `errors`, shown if it does not end well.
struct Writer {
    /// Killed when the test ends, also by failing.
    child: Running,
    stop: std::path::PathBuf,
    errors: std::path::PathBuf,
    /// Reads its stdout as it comes, so that the pipe never fills.
    acked: std::thread::JoinHandle<Vec<String>>,
}

const WRITER: &str = r#"
import os, sys, time
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry
zk = KazooClient(hosts=sys.argv[1], timeout=10,
                 connection_retry=KazooRetry(max_tries=-1, max_delay=1),
                 command_retry=KazooRetry(max_tries=-1, max_delay=1))
zk.start(timeout=60)
zk.retry(zk.ensure_path, '/acked')
n = 0
while not os.path.exists(sys.argv[2]):
    name = '/acked/n%06d' % n
    try:
        zk.create(name, b'x')
    except Exception as err:
        if type(err).__name__ != 'NodeExistsError':
            time.sleep(0.2)
            continue
    print(name, flush=True)
    n += 1
    time.sleep(0.05)
zk.stop()
"#;

impl Writer {
    fn start(set: &StatefulSet) -> Writer {
        let stop = set.root.join("writer-stop");
        let errors = set.root.join("writer-stderr");
        let mut child = Running::spawn(
            set.in_network(&[PYTHON, "-c", WRITER, &set.connect_string()])
                .arg(&stop)
                .stdout(Stdio::piped())
                .stderr(fs::File::create(&errors).unwrap()),
        );
        let stdout = BufReader::new(child.0.stdout.take().unwrap());
        let acked = std::thread::spawn(|| stdout.lines().map_while(|l| l.ok()).collect());
        Writer {
            child,
            stop,
            errors,
            acked,
        }
    }

    /// Stop it (within a minute); the names it saw acknowledged. It must have run until told
    /// to stop.
    fn finish(mut self) -> Vec<String> {
        fs::write(&self.stop, "").unwrap();
        let child = &mut self.child.0;
        wait_until(MINUTE, || !matches!(child.try_wait(), Ok(None)));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let acked = self.acked.join().unwrap();
        assert!(
            status.success(),
            "the writer ended with {status} after {} writes:\n{}",
            acked.len(),
            fs::read_to_string(&self.errors).unwrap_or_default()
        );
        acked
    }
}

/// Every acknowledged znode is there, read through pod i.
fn assert_all_present(set: &StatefulSet, i: usize, acked: &[String]) {
    assert!(
        acked.len() > 20,
        "the writer acknowledged only {}",
        acked.len()
    );
    let script = "zk.sync('/')\nprint('\\n'.join(sorted(zk.get_children('/acked'))))";
    let present = set.kazoo(i, script).unwrap();
    let present: std::collections::HashSet<&str> = present.lines().collect();
    let lost: Vec<&String> = acked
        .iter()
        .filter(|name| !present.contains(name.trim_start_matches("/acked/")))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged znodes lost: {lost:?}",
        lost.len()
    );
}

/// A write through pod i succeeds (a quorum exists).
fn write_through(set: &StatefulSet, i: usize, name: &str) {
    let script = format!("zk.create('/{name}', b'x')\nprint('ok')");
    assert_eq!(
        set.kazoo(i, &script).as_deref(),
        Ok("ok\n"),
        "write through zk-{i}"
    );
}

/// A server on port 2181 that accepts connections and never answers.
const SILENT_SERVER: &str = "
import socket
server = socket.create_server(('0.0.0.0', 2181), reuse_port=True)
held = []
while True:
    held.append(server.accept()[0])
";

fn start_and_wait(set: &mut StatefulSet, pods: &[usize]) {
    for &i in pods {
        set.start(i);
    }
    for &i in pods {
        set.wait_ready(i, true, 2 * MINUTE);
    }
}

#[test]
#[ignore = "needs root and namespaces"]
fn scale_up_then_down_keeps_every_write() {
    scale_up_then_down(Release::Debian12);
}

#[test]
#[ignore = "needs root and namespaces"]
fn scale_up_then_down_keeps_every_write_on_zookeeper_3_9() {
    scale_up_then_down(Release::Debian13);
}

fn scale_up_then_down(release: Release) {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = dynamic_set_on(release);
    start_and_wait(&mut set, &[0, 1, 2]);
    wait_participants(&set, 0, &[1, 2, 3]);
    let writer = Writer::start(&set);

    // 3 → 5: the new pods join by themselves; ready only once they are members.
    start_and_wait(&mut set, &[3, 4]);
    wait_participants(&set, 0, &[1, 2, 3, 4, 5]);
    for i in [3, 4] {
        assert!(set.probe(i, true).status.success());
    }
    // diagnose in zk-0, whose flags name the first three, finds the two that joined.
    let args = set.zkpod_args("diagnose", &["--format", "json"]);
    let out = set.exec(0, &args, Duration::from_secs(30));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["healthy"], true, "{report}");
    assert_eq!(report["this_pod"]["membership"], "dynamic");
    let ids: Vec<u64> = report["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    // The new servers vote: with two of the first three killed, 3 of 5 remain.
    set.kill(0);
    set.kill(1);
    write_through(&set, 3, "with-two-killed");
    // A killed pod restarts and is still a member.
    start_and_wait(&mut set, &[0, 1]);
    wait_participants(&set, 0, &[1, 2, 3, 4, 5]);

    // 5 → 3: the StatefulSet (Parallel pod management) deletes zk-4 and zk-3 at once, so
    // both preStop hooks run together: one removal waits for the other. Then TERM.
    let leaving = [4, 3].map(|i| (i, leave_in_background(&set, i, "60")));
    for (i, leave) in leaving {
        let (succeeded, err) = leave.finish();
        assert!(succeeded, "leave zk-{i}: {err}");
        assert!(
            err.contains(&format!("server {} left the ensemble", i + 1)),
            "zk-{i}: {err}"
        );
        assert_eq!(set.stop(i), Some(143));
    }
    wait_participants(&set, 0, &[1, 2, 3]);
    // The quorum is now 2 of 3: one stopped, writes still succeed.
    assert_eq!(set.stop(2), Some(143));
    write_through(&set, 0, "with-one-of-three-stopped");
    // Leaving now would leave one serving voter of two: refused once that has lasted its
    // settle time or the deadline, and the pod may stop. The deadline (5 s) holds: it does
    // not wait out the settle time (20 s), nor hang.
    let started = Instant::now();
    let out = leave(&set, 0, "5");
    let took = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not leaving: without server 1"),
        "{}",
        stderr(&out)
    );
    assert!(took < Duration::from_secs(18), "took {took:?}");
    assert_eq!(participants(&set, 0), [1, 2, 3]);
    start_and_wait(&mut set, &[2]);

    // A shortage that ends is waited out: zk-2 restarts while zk-1 leaves, and zk-1 leaves
    // once zk-2 serves again, rather than staying a voter.
    assert_eq!(set.stop(2), Some(143));
    let leaving = leave_in_background(&set, 1, "60");
    let short = "fewer than their quorum of 2; asking again";
    assert!(
        wait_until(MINUTE, || leaving.stderr_so_far().contains(short)),
        "zk-1's leave did not find too few serving: {}",
        leaving.stderr_so_far()
    );
    start_and_wait(&mut set, &[2]);
    let (succeeded, err) = leaving.finish();
    assert!(succeeded, "{err}");
    assert!(err.contains("server 2 left the ensemble"), "{err}");
    wait_participants(&set, 0, &[1, 3]);

    let acked = writer.finish();
    assert_all_present(&set, 0, &acked);
}

#[test]
#[ignore = "needs root and namespaces"]
fn rolling_and_whole_restarts_and_a_wiped_pod_keep_every_write() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = dynamic_set();
    start_and_wait(&mut set, &[0, 1, 2]);
    let writer = Writer::start(&set);

    // A rolling restart, as the StatefulSet controller does it: highest ordinal first, each
    // pod's preStop and TERM, then its start, ready before the next.
    for i in [2, 1, 0] {
        let out = leave(&set, i, "60");
        assert!(out.status.success(), "leave zk-{i}: {}", stderr(&out));
        assert_eq!(set.stop(i), Some(143));
        start_and_wait(&mut set, &[i]);
        wait_participants(&set, i, &[1, 2, 3]);
    }

    // `kubectl delete` of every pod: every preStop and TERM at once; then all start again.
    let leaves: Vec<_> = (0..3).map(|i| leave_in_background(&set, i, "30")).collect();
    for (i, leave) in leaves.into_iter().enumerate() {
        let (succeeded, err) = leave.finish();
        assert!(succeeded, "leave zk-{i}: {err}");
    }
    // Every leave ends with one voter left: the last one refuses. (While the last removals
    // hand over leadership, zk-0 may not answer for a moment.)
    let mut last = Vec::new();
    wait_until(MINUTE, || {
        last = participants(&set, 0);
        !last.is_empty()
    });
    assert_eq!(last.len(), 1, "voters after every pod's preStop: {last:?}");
    let last = last[0] as usize - 1;
    for i in 0..3 {
        set.stop(i);
    }
    // The removed servers start first: they must not form a quorum of the first ensemble,
    // since the last voter holds writes they lack; they wait for it. Its pod is away, and
    // connections to its address hang (as on a node that is down): each time they ask it,
    // they wait for the whole ask timeout.
    let hanging = Running::spawn(
        Command::new("ip")
            .args(["netns", "exec", &set.pods[last].netns, PYTHON, "-c"])
            .arg(SILENT_SERVER),
    );
    let removed: Vec<usize> = (0..3).filter(|&i| i != last).collect();
    let mut earlier = Vec::new();
    for &i in &removed {
        earlier.push(set.logs(i).len());
        set.start(i);
    }
    // Each says that it waits, and keeps saying so (every 5 s) while it asks the others
    // round after round: seen three times, it has waited for 10 s at least and still does.
    for (&i, &earlier) in removed.iter().zip(&earlier) {
        let waits = || {
            let logs = set.logs(i);
            let this_start = logs.get(earlier..).unwrap_or_default();
            this_start
                .matches("not in the membership committed last")
                .count()
        };
        assert!(
            wait_until(2 * MINUTE, || waits() >= 3),
            "zk-{i} does not wait for the last voter:\n{}",
            set.logs(i)
        );
    }
    for &i in &removed {
        assert!(
            !set.probe(i, true).status.success(),
            "zk-{i} serves without the last voter:\n{}",
            set.logs(i)
        );
        // Alive all the while it waits, also while it asks: the liveness probe passes, so the
        // kubelet does not restart it.
        let failed = (0..20)
            .filter(|_| {
                std::thread::sleep(Duration::from_millis(150));
                !set.probe(i, false).status.success()
            })
            .count();
        assert_eq!(failed, 0, "zk-{i}: liveness probes failed while it waits");
    }
    drop(hanging);
    start_and_wait(&mut set, &[last]);
    for &i in &removed {
        set.wait_ready(i, true, 2 * MINUTE);
    }
    wait_participants(&set, 0, &[1, 2, 3]);

    // A pod whose volume is lost rejoins by the join path.
    assert_eq!(set.stop(1), Some(143));
    set.wipe(1);
    start_and_wait(&mut set, &[1]);
    wait_participants(&set, 1, &[1, 2, 3]);
    assert!(
        set.logs(1).contains("removing it first"),
        "zk-1 did not rejoin as a new member:\n{}",
        set.logs(1)
    );

    let acked = writer.finish();
    assert_all_present(&set, 1, &acked);
}

#[test]
#[ignore = "needs root and namespaces"]
fn leave_with_the_ensemble_unreachable_fails_within_its_deadline() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = dynamic_set();
    // zk-0 runs a command instead of ZooKeeper: nobody serves.
    let mut flags = set.flags.clone();
    flags.extend(["--".into(), "sleep".into(), "600".into()]);
    set.start_with(0, &flags);
    let started = Instant::now();
    let out = leave(&set, 0, "3");
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // It gives up at its deadline rather than hanging: a bound of several times the 3 s.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let err = stderr(&out);
    assert!(err.starts_with("zkpod leave: cannot leave"), "{err}");
}

#[test]
#[ignore = "needs root and namespaces"]
fn unsafe_start_empty_forms_the_first_ensemble_without_the_wait() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = dynamic_set();
    // zk-0, empty and alone, waits for the other members of the first ensemble.
    set.start(0);
    let waits = wait_until(MINUTE, || {
        set.logs(0).contains("waiting: the data directory is empty")
    });
    assert!(waits, "zk-0 does not wait:\n{}", set.logs(0));
    assert_eq!(set.stop(0), Some(143));
    // With --unsafe_start_empty it starts its server at once, and says what it risks.
    let mut flags = set.flags.clone();
    flags.push("--unsafe_start_empty".into());
    set.start_with(0, &flags);
    let started = wait_until(MINUTE, || {
        let logs = set.logs(0);
        let skipped = logs
            .rsplit("waiting: the data directory is empty")
            .next()
            .unwrap();
        skipped.contains("--unsafe_start_empty: starting with an empty data directory")
            && skipped.contains("starting /")
    });
    assert!(started, "zk-0 did not start:\n{}", set.logs(0));
}

#[test]
#[ignore = "needs root and namespaces"]
fn observers_keep_their_role_and_the_password_stays_off_command_lines() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut flags = tutorial_flags(3);
    flags.push("--observers=1".into());
    let mut set = dynamic(create(5, &flags));
    start_and_wait(&mut set, &[0, 1, 2, 3]);
    let first = vec![
        (1, "participant".to_owned()),
        (2, "participant".to_owned()),
        (3, "participant".to_owned()),
        (4, "observer".to_owned()),
    ];
    assert!(
        wait_until(MINUTE, || members(&set, 0) == first),
        "{:?}",
        members(&set, 0)
    );
    assert_eq!(set.server_state(3), "observer");
    // A pod past the first ensemble joins as a voter.
    start_and_wait(&mut set, &[4]);
    wait_participants(&set, 0, &[1, 2, 3, 5]);
    // What ps shows of every process in the pod: no password, no digest.
    let ps = set.exec(0, &["ps", "-eo", "args"], Duration::from_secs(10));
    let ps = stdout(&ps);
    assert!(ps.contains("QuorumPeerMain"), "{ps}");
    assert!(
        !ps.contains(PASSWORD) && !ps.contains("superDigest"),
        "{ps}"
    );
    assert!(!set.logs(0).contains(PASSWORD) && !set.logs(0).contains("superDigest"));
}

#[test]
#[ignore = "needs root and namespaces"]
fn with_settings_as_flags_only_probes_join_and_leave_read_the_running_server() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    // The tutorial's manifest style: every setting a flag on start-zookeeper's command line,
    // the password a file of the volume's, no ZK_* variable anywhere.
    let mut flags = tutorial_flags(3);
    flags.push("--membership=dynamic".into());
    flags.push("--super_password_file=/var/lib/zookeeper/password".into());
    let mut set = create(4, &flags);
    for pod in &set.pods {
        fs::write(pod.volume.join("password"), format!("{PASSWORD}\n")).unwrap();
    }
    // zk-3 has the wrong password: the join start-zookeeper runs for it cannot add it.
    fs::write(set.pods[3].volume.join("password"), "wrong\n").unwrap();
    // The probe (wait_ready) has no flag saying dynamic either.
    start_and_wait(&mut set, &[0, 1, 2]);
    wait_participants(&set, 0, &[1, 2, 3]);

    // zk-3 serves as a non-voting follower, and is no member: not ready.
    set.start(3);
    let serves = wait_until(2 * MINUTE, || {
        set.probe_with(3, &["--serving", "--membership=static"])
            .status
            .success()
    });
    assert!(serves, "zk-3 never served:\n{}", set.logs(3));
    let out = set.probe_with(3, &["--serving"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a member yet: the ensemble does not list server 4"),
        "{}",
        stderr(&out)
    );

    // With the right password in its file, `zkpod join` with no flags adds it.
    fs::write(set.pods[3].volume.join("password"), format!("{PASSWORD}\n")).unwrap();
    let out = set.exec(3, &[ZKPOD, "join"], 2 * MINUTE);
    assert!(out.status.success(), "join: {}", stderr(&out));
    wait_participants(&set, 0, &[1, 2, 3, 4]);
    set.wait_ready(3, true, MINUTE);

    // diagnose with no flags sees the four members.
    let out = set.exec(0, &[ZKPOD, "diagnose", "--format", "json"], MINUTE);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["healthy"], true, "{report}");
    assert_eq!(report["this_pod"]["membership"], "dynamic", "{report}");
    let ids: Vec<u64> = report["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4], "{report}");

    // The preStop hook with no flags: zk-3 leaves.
    let out = set.exec(3, &[ZKPOD, "leave", "--timeout", "60"], 2 * MINUTE);
    assert!(out.status.success(), "leave: {}", stderr(&out));
    assert!(
        stderr(&out).contains("server 4 left the ensemble"),
        "{}",
        stderr(&out)
    );
    wait_participants(&set, 0, &[1, 2, 3]);
    assert_eq!(set.stop(3), Some(143));
    write_through(&set, 0, "after-leaving");
}
