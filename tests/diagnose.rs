//! `zkpod diagnose` on a simulated StatefulSet with real ZooKeeper: a healthy ensemble, a
//! member stopped, words not whitelisted, a name that does not resolve, a wrong myid, and
//! every member down; the verdict lines and the JSON.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use common::statefulset::*;
use common::*;

const MINUTE: Duration = Duration::from_secs(60);

/// `zkpod diagnose` in pod i, with the pod's flags: (status, stdout).
fn diagnose(set: &StatefulSet, i: usize, json: bool) -> (Option<i32>, String) {
    let format: &[&str] = if json { &["--format", "json"] } else { &[] };
    let out = set.exec(
        i,
        &set.zkpod_args("diagnose", format),
        Duration::from_secs(30),
    );
    assert_eq!(stderr(&out), "", "diagnose wrote to stderr");
    (out.status.code(), stdout(&out))
}

/// `zkpod diagnose` in pod i as `kubectl exec zk-i -- zkpod diagnose` runs it: none of the
/// pod's flags, no ZK_* variable, only `extra`: (status, stdout).
fn diagnose_bare(set: &StatefulSet, i: usize, extra: &[&str]) -> (Option<i32>, String) {
    let args: Vec<&str> = [ZKPOD, "diagnose"]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let out = set.exec(i, &args, Duration::from_secs(30));
    assert_eq!(stderr(&out), "", "diagnose wrote to stderr");
    (out.status.code(), stdout(&out))
}

/// The problem lines of a table, in order ("1. …" without the number).
fn problems(table: &str) -> Vec<String> {
    table
        .lines()
        .filter_map(|line| {
            let (number, rest) = line.split_once(". ")?;
            number.parse::<u32>().ok()?;
            Some(rest.to_owned())
        })
        .collect()
}

fn json_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("{err}: {text}"))
}

#[test]
#[ignore = "needs root and namespaces"]
fn diagnose_tells_what_is_wrong_most_fundamental_first() {
    require_root_and_namespaces();
    let mut set = create(3, &tutorial_flags(3));
    set.start_all();
    for i in 0..3 {
        set.wait_ready(i, true, MINUTE);
    }

    // Healthy: status 0, every member's mode, one leader, the JSON says the same.
    let (status, table) = diagnose(&set, 0, false);
    assert_eq!(status, Some(0), "{table}");
    assert!(table.contains("verdict: healthy"), "{table}");
    assert!(
        table.contains("myid        1 expected, 1 on disk"),
        "{table}"
    );
    assert!(table.contains("zoo.cfg matches"), "{table}");
    let (status, json) = diagnose(&set, 0, true);
    assert_eq!(status, Some(0));
    let report = json_value(&json);
    assert_eq!(report["healthy"], true);
    let modes: Vec<&str> = report["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mode"].as_str().unwrap())
        .collect();
    assert_eq!(
        modes.iter().filter(|m| **m == "leader").count(),
        1,
        "{modes:?}"
    );
    assert_eq!(
        modes.iter().filter(|m| **m == "follower").count(),
        2,
        "{modes:?}"
    );
    assert_eq!(report["this_pod"]["myid"], 1);
    assert_eq!(report["members"][0]["client"], "open");

    // As kubectl exec runs it, with neither the flags the pod started with nor a variable:
    // what it needs comes from the server running in the pod, and the files match it.
    let (status, table) = diagnose_bare(&set, 1, &[]);
    assert_eq!(status, Some(0), "{table}");
    assert!(table.contains("verdict: healthy"), "{table}");
    assert!(
        table.contains("myid        2 expected, 2 on disk"),
        "{table}"
    );
    assert!(
        table.contains("running     the server started with /opt/zookeeper/conf/zoo.cfg"),
        "{table}"
    );
    for file in ["zoo.cfg", "log4j.properties", "java.env"] {
        assert!(table.contains(&format!("{file} matches")), "{table}");
    }
    let (_, json) = diagnose_bare(&set, 1, &["--format", "json"]);
    let ids: Vec<u64> = json_value(&json)["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    // A flag given that the running server does not have is a problem of its own, first.
    let (status, table) = diagnose_bare(&set, 1, &["--heap=1G"]);
    assert_eq!(status, Some(1), "{table}");
    assert_eq!(
        problems(&table)[0],
        "flags or variables given disagree with the server running in this pod: --heap 1G \
         (running: 128M)",
        "{table}"
    );

    // One member stopped: the quorum holds (once the others have re-formed it), the stopped
    // member is named.
    assert_eq!(set.stop(2), Some(143));
    set.wait_ready(0, true, MINUTE);
    set.wait_ready(1, true, MINUTE);
    let (status, table) = diagnose(&set, 0, false);
    assert_eq!(status, Some(1), "{table}");
    let found = problems(&table);
    assert_eq!(found.len(), 1, "{table}");
    assert!(
        found[0].starts_with(
            "zk-2.zk-hs.default.svc.cluster.local does not serve: the client port 2181 is not open"
        ),
        "{table}"
    );
    // The same without the pod's flags.
    let (status, table) = diagnose_bare(&set, 0, &[]);
    assert_eq!(status, Some(1), "{table}");
    assert_eq!(problems(&table), found, "{table}");

    // zk-2 back with only ruok whitelisted: it serves, but refuses conf (ZooKeeper always
    // answers srvr).
    let mut flags = set.flags.clone();
    flags.push("--extra=4lw.commands.whitelist=ruok".into());
    set.start_with(2, &flags);
    set.wait_ready(2, false, MINUTE);
    let whitelisted = wait_until(MINUTE, || {
        problems(&diagnose(&set, 0, false).1)
            .first()
            .is_some_and(|p| p.starts_with("four-letter words not whitelisted: zk-2"))
    });
    assert!(whitelisted, "{}", diagnose(&set, 0, false).1);
    let (_, json) = diagnose(&set, 0, true);
    let report = json_value(&json);
    assert_eq!(
        report["members"][2]["refused_words"],
        serde_json::json!(["conf"])
    );
    assert_eq!(set.stop(2), Some(143));
    set.start(2);
    set.wait_ready(2, true, MINUTE);

    // A name that zk-0 cannot resolve (as without publishNotReadyAddresses): first.
    let hosts = format!("/etc/netns/{}/hosts", set.pods[0].netns);
    let all = fs::read_to_string(&hosts).unwrap();
    let without: String = all
        .lines()
        .filter(|l| !l.contains("zk-1."))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&hosts, without).unwrap();
    let (status, table) = diagnose(&set, 0, false);
    fs::write(&hosts, all).unwrap();
    assert_eq!(status, Some(1), "{table}");
    let found = problems(&table);
    assert!(
        found[0].starts_with("names do not resolve: zk-1.zk-hs.default.svc.cluster.local"),
        "{table}"
    );
    assert!(table.contains("publishNotReadyAddresses"), "{table}");

    // A wrong myid on zk-1's volume: start-zookeeper refuses; diagnose in that pod says why.
    assert_eq!(set.stop(1), Some(143));
    let myid = set.pods[1].volume.join("data/myid");
    fs::write(&myid, "7\n").unwrap();
    let args = set.zkpod_args("diagnose", &[]);
    let out = set.run_stopped(1, &args, Duration::from_secs(30));
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{table}{}", stderr(&out));
    assert_eq!(
        problems(&table)[0],
        "this pod is server 2, but the myid on its volume says \"7\": start-zookeeper refuses to start it",
        "{table}"
    );
    fs::write(&myid, "2\n").unwrap();

    // Every member down: the run ends, bounded by its timeout for each step (1 s) rather
    // than hanging on the members, and says no quorum.
    set.stop(0);
    set.stop(2);
    let started = Instant::now();
    let out = set.run_stopped(1, &args, Duration::from_secs(30));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let found = problems(&stdout(&out));
    assert_eq!(
        found[0],
        "no quorum: 0 of 3 voters serve; a quorum needs 2",
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_arguments_are_one_line_and_status_2() {
    for (args, named) in [
        (vec!["--format", "yaml"], "--format"),
        (vec!["--timeout", "soon"], "--timeout"),
        (vec!["--client_port", "0"], "--client_port"),
    ] {
        let out = output(
            std::process::Command::new(ZKPOD)
                .arg("diagnose")
                .args(&args)
                .env_clear(),
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("zkpod diagnose: ") && err.contains(named),
            "{err}"
        );
        assert_eq!(stdout(&out), "");
    }
}
