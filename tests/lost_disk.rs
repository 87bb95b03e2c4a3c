//! A server that lost its disk never loses committed data: on simulated pods with real
//! ZooKeeper, the dangerous case without the guard (writes are lost) and with it (kept), a new
//! ensemble of empty servers, and wiped servers rejoining.

mod common;

use std::time::Duration;

use common::statefulset::*;
use common::*;

const MINUTE: Duration = Duration::from_secs(60);
const WRITES: usize = 50;

/// `WRITES` znodes under /acked, each create acknowledged to the client.
fn write_acknowledged(set: &StatefulSet, through: usize) {
    let script = format!(
        "zk.ensure_path('/acked')\nfor n in range({WRITES}):\n    zk.create('/acked/n%03d' % n, b'x')\nprint('ok')"
    );
    assert_eq!(set.kazoo(through, &script).unwrap(), "ok\n");
}

/// How many of the acknowledged znodes a client connected to pod i reads.
fn acked_seen_by(set: &StatefulSet, i: usize) -> usize {
    let script =
        "zk.sync('/')\nprint(len(zk.get_children('/acked')) if zk.exists('/acked') else 0)";
    set.kazoo(i, script)
        .unwrap_or_else(|err| panic!("reading through zk-{i}: {err}"))
        .trim()
        .parse()
        .unwrap()
}

/// Three pods serving, and `WRITES` acknowledged writes made through pod `through`.
fn three_serving_with_writes(through: usize) -> StatefulSet {
    let mut set = create(3, &tutorial_flags(3));
    set.start_all();
    for i in 0..3 {
        set.wait_ready(i, true, MINUTE);
    }
    write_acknowledged(&set, through);
    set
}

fn serving(set: &StatefulSet, i: usize) -> bool {
    set.probe(i, true).status.success()
}

/// The dangerous case, up to the point where the stale and the empty server run: three
/// servers with data; zk-2 down while zk-0 and zk-1 acknowledge writes; zk-1 down; zk-0's
/// volume lost; zk-0 and zk-2 start.
fn dangerous_case(release: Release, zk0_flags: &[String]) -> StatefulSet {
    let mut set = create_on(release, 3, &tutorial_flags(3));
    set.start_all();
    for i in 0..3 {
        set.wait_ready(i, true, MINUTE);
    }
    set.kazoo(0, "zk.create('/before', b'all three')").unwrap();
    assert_eq!(set.stop(2), Some(143));
    write_acknowledged(&set, 0);
    assert_eq!(set.stop(1), Some(143));
    assert_eq!(set.stop(0), Some(143));
    set.wipe(0);
    set.start_with(0, zk0_flags);
    set.start(2);
    set
}

#[test]
#[ignore = "needs root and namespaces"]
fn without_the_guard_an_empty_server_loses_acknowledged_writes() {
    lost_without_the_guard(Release::Debian12);
}

#[test]
#[ignore = "needs root and namespaces"]
fn without_the_guard_an_empty_server_loses_acknowledged_writes_on_zookeeper_3_9() {
    lost_without_the_guard(Release::Debian13);
}

fn lost_without_the_guard(release: Release) {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    // What ZooKeeper does by itself (and what --unsafe_start_empty allows): the empty zk-0
    // and the stale zk-2 form a quorum, and the writes zk-0 and zk-1 acknowledged are gone.
    let mut flags = tutorial_flags(3);
    flags.push("--unsafe_start_empty".into());
    let set = dangerous_case(release, &flags);
    set.wait_ready(2, true, MINUTE);
    assert!(
        set.logs(0)
            .contains("--unsafe_start_empty: starting with an empty data directory")
    );
    assert_eq!(
        acked_seen_by(&set, 2),
        0,
        "the acknowledged writes are lost"
    );
    assert_eq!(acked_seen_by(&set, 0), 0);
}

#[test]
#[ignore = "needs root and namespaces"]
fn an_empty_server_waits_and_every_acknowledged_write_is_kept() {
    kept_with_the_guard(Release::Debian12);
}

#[test]
#[ignore = "needs root and namespaces"]
fn an_empty_server_waits_and_every_acknowledged_write_is_kept_on_zookeeper_3_9() {
    kept_with_the_guard(Release::Debian13);
}

fn kept_with_the_guard(release: Release) {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = dangerous_case(release, &tutorial_flags(3));
    // zk-0 waits on purpose: alive (liveness passes), not ready, and no quorum forms. Watched
    // until it has said three times (every 5 s) that it waits while zk-2 runs.
    set.wait_ready(0, false, MINUTE);
    let zk2_runs = format!("zk-2.{DOMAIN} (runs, not serving yet)");
    let watched = wait_until(2 * MINUTE, || {
        assert!(!serving(&set, 0), "the empty zk-0 serves");
        assert!(!serving(&set, 2), "the stale zk-2 formed a quorum");
        assert!(
            set.probe(0, false).status.success(),
            "zk-0 waiting is not alive"
        );
        let logs = set.logs(0);
        let waiting = |line: &&str| {
            line.contains("waiting: the data directory is empty") && line.contains(&zk2_runs)
        };
        logs.lines().filter(waiting).count() >= 3
    });
    assert!(
        watched,
        "zk-0 did not wait with zk-2 running:\n{}",
        set.logs(0)
    );
    let logs = set.logs(0);
    let waiting = logs
        .lines()
        .rev()
        .find(|l| l.contains("waiting: the data directory is empty"))
        .unwrap_or_else(|| panic!("no waiting line:\n{logs}"));
    assert!(
        waiting.contains(&format!("zk-1.{DOMAIN} (connection refused)"))
            && waiting.contains(&format!("zk-2.{DOMAIN} (runs, not serving yet)")),
        "{waiting}"
    );
    // zk-1, which holds the writes, returns: zk-1 and zk-2 form the quorum, zk-0 syncs.
    set.start(1);
    for i in 0..3 {
        set.wait_ready(i, true, MINUTE);
    }
    for i in 0..3 {
        assert_eq!(acked_seen_by(&set, i), WRITES, "through zk-{i}");
    }
    assert_eq!(
        set.kazoo(0, "print(zk.get('/before')[0].decode())")
            .unwrap(),
        "all three\n"
    );
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_new_ensemble_of_empty_servers_forms_even_started_apart() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = create(3, &tutorial_flags(3));
    // Apart, as a slow scheduler or image pull would start them: each once the ones before it
    // wait for the rest.
    for i in 0..3 {
        set.start(i);
        set.wait_ready(i, false, MINUTE);
        assert!(!serving(&set, i));
        if i < 2 {
            assert!(
                wait_until(MINUTE, || set
                    .logs(i)
                    .contains("waiting: the data directory is empty")),
                "zk-{i} does not wait:\n{}",
                set.logs(i)
            );
        }
    }
    for i in 0..3 {
        set.wait_ready(i, true, MINUTE);
    }
    assert!(
        wait_until(MINUTE, || one_leader(&states(&set), "follower")),
        "states: {:?}",
        states(&set)
    );
    assert!(set.logs(2).contains("the ensemble is new"));
    set.kazoo(1, "zk.create('/new', b'ok')").unwrap();
}

#[test]
#[ignore = "needs root and namespaces"]
fn wiped_servers_rejoin_once_the_others_serve() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = three_serving_with_writes(2);

    // One server wiped, the others healthy: it joins at once and serves every write.
    assert_eq!(set.stop(1), Some(143));
    set.wipe(1);
    set.start(1);
    set.wait_ready(1, true, MINUTE);
    assert_eq!(acked_seen_by(&set, 1), WRITES);
    assert!(
        set.logs(1)
            .contains("starting, to sync from the ensemble's leader")
    );

    // A server wiped while the rest is down waits, and starts as soon as the others serve.
    for i in 0..3 {
        assert_eq!(set.stop(i), Some(143), "zk-{i}");
    }
    set.wipe(0);
    set.start(0);
    set.wait_ready(0, false, MINUTE);
    let waiting = |set: &StatefulSet| {
        set.logs(0)
            .lines()
            .rev()
            .find(|l| l.contains("waiting: the data directory is empty"))
            .map(str::to_owned)
    };
    assert!(
        wait_until(Duration::from_secs(15), || waiting(&set).is_some()),
        "no waiting line"
    );
    let line = waiting(&set).unwrap();
    for other in [1, 2] {
        assert!(
            line.contains(&format!("zk-{other}.{DOMAIN} (connection refused)")),
            "{line}"
        );
    }
    assert!(set.runs(0) && !serving(&set, 0));
    set.start(1);
    set.start(2);
    for i in 0..3 {
        set.wait_ready(i, true, MINUTE);
    }
    for i in 0..3 {
        assert_eq!(acked_seen_by(&set, i), WRITES, "through zk-{i}");
    }
}

/// What a follower leaves on its volume when it is stopped while it syncs from the leader by
/// snapshot: the leader's snapshot, complete, still under its temporary name
/// (`snapshot.<zxid>.tmp`, the zxid of the leader's newer epoch), and the old epoch.
/// ZooKeeper renames the file, then records the epoch, then answers the leader.
fn leave_an_unfinished_snapshot(set: &StatefulSet, i: usize) -> String {
    let version2 = set.pods[i].volume.join("data/version-2");
    let epoch = std::fs::read_to_string(version2.join("currentEpoch")).unwrap();
    let epoch: u64 = epoch.trim().parse().unwrap();
    let newest = std::fs::read_dir(&version2)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| {
            let zxid = u64::from_str_radix(name.strip_prefix("snapshot.")?, 16).ok()?;
            Some((zxid, name))
        })
        .max()
        .expect("a snapshot")
        .1;
    let unfinished = format!("snapshot.{:x}.tmp", ((epoch + 1) << 32) | 1);
    std::fs::copy(version2.join(newest), version2.join(&unfinished)).unwrap();
    unfinished
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_server_stopped_while_it_synced_starts_again() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = three_serving_with_writes(0);
    assert_eq!(set.stop(1), Some(143));
    let unfinished = leave_an_unfinished_snapshot(&set, 1);
    let data = set.pods[1].volume.join("data");
    // A dry run says so and moves nothing.
    let mut dry_run = vec![set.command_path("start-zookeeper"), "--dry_run".into()];
    dry_run.extend(set.flags.iter().cloned());
    let out = set.run_stopped(1, &dry_run, MINUTE);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "==> unfinished snapshots, moved aside <==\n/var/lib/zookeeper/data/version-2/\
             {unfinished} -> /var/lib/zookeeper/data/unfinished-snapshots/{unfinished}\n"
        )),
        "{}",
        stdout(&out)
    );
    assert!(data.join("version-2").join(&unfinished).exists());
    // ZooKeeper would load the unfinished snapshot, find it newer than the epoch it recorded
    // and exit, at every start. zkpod moves it aside (keeping it), and the server syncs again.
    set.start(1);
    set.wait_ready(1, true, MINUTE);
    assert_eq!(acked_seen_by(&set, 1), WRITES);
    assert!(!data.join("version-2").join(&unfinished).exists());
    assert!(
        data.join("unfinished-snapshots")
            .join(&unfinished)
            .is_file()
    );
    assert!(
        set.logs(1).contains(&format!("moved {unfinished}")),
        "{}",
        set.logs(1)
    );
}
