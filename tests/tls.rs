//! TLS from a cert-manager Secret (`--tls_dir`, `ZK_TLS_DIR`) on simulated pods with real
//! ZooKeeper: the quorum forms over mutual TLS, clients need a certificate, nothing listens in
//! the clear on a pod's address, zkpod's own commands connect with the pair, a renewed pair
//! is taken up without losing the quorum, and broken pairs are refused.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::statefulset::*;
use common::tls::{Authority, Pair, project};
use common::*;

const MINUTE: Duration = Duration::from_secs(60);
/// Where each pod has its Secret mounted (on its volume, in these simulated pods).
const SECRET: &str = "/var/lib/zookeeper/tls";

/// Connect to HOST PORT with TLS (client certificate CERT KEY, or none when CERT is empty),
/// trusting CA; print the certificate the server presents, then, with a WORD, the answer.
const TLS_CLIENT: &str = r#"
import socket, ssl, sys
host, port, cert, key, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(ca)
if cert:
    ctx.load_cert_chain(cert, key)
with socket.create_connection((host, port), timeout=5) as s:
    with ctx.wrap_socket(s) as t:
        print(ssl.DER_cert_to_PEM_cert(t.getpeercert(binary_form=True)), end="")
        if len(sys.argv) > 6:
            t.sendall(sys.argv[6].encode())
            answer = b""
            while True:
                chunk = t.recv(4096)
                if not chunk:
                    break
                answer += chunk
            print(answer.decode())
"#;

/// The certificates of one test: an authority, the pods' wildcard pair (also in `dir` as
/// pods.crt, pods.key), and a client's pair (client.crt, client.key).
struct Certs {
    dir: PathBuf,
    ca: Authority,
    pods: Pair,
}

impl Certs {
    fn new(root: &Path) -> Certs {
        let dir = root.join("certs");
        let ca = Authority::new(&dir, "zkpod test authority");
        let pods = ca.issue(&[&format!("*.{DOMAIN}")], 10);
        let client = ca.issue(&["a client"], 10);
        fs::write(dir.join("client.crt"), &client.cert).unwrap();
        fs::write(dir.join("client.key"), &client.key).unwrap();
        fs::write(dir.join("pods.crt"), &pods.cert).unwrap();
        fs::write(dir.join("pods.key"), &pods.key).unwrap();
        Certs { dir, ca, pods }
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// Project `pair` as pod i's Secret.
    fn project(&self, set: &StatefulSet, i: usize, pair: &Pair) {
        project(&set.pods[i].volume.join("tls"), pair, &self.ca.cert);
    }
}

/// The PEM body of a certificate, for comparing.
fn body(pem: &str) -> String {
    pem.lines()
        .filter(|line| !line.starts_with("-----"))
        .collect()
}

/// Who asks: a client from the cluster network, with its certificate or none, or a peer from
/// pod i with the pods' certificate (the quorum ports check it against the asker's name).
#[derive(Clone, Copy)]
enum Asker {
    Client,
    Anonymous,
    Peer(usize),
}

/// What `host:port` presents to `asker`, and its answer to `word`.
fn tls_ask(
    set: &StatefulSet,
    certs: &Certs,
    asker: Asker,
    host: &str,
    port: u16,
    word: Option<&str>,
) -> Result<String, String> {
    let (cert, key) = match asker {
        Asker::Client => (certs.file("client.crt"), certs.file("client.key")),
        Asker::Anonymous => (String::new(), String::new()),
        Asker::Peer(_) => (certs.file("pods.crt"), certs.file("pods.key")),
    };
    let port = port.to_string();
    let ca = certs.file("ca.crt");
    let mut args = vec![PYTHON, "-c", TLS_CLIENT, host, &port, &cert, &key, &ca];
    args.extend(word);
    let deadline = Duration::from_secs(20);
    let out = match asker {
        Asker::Peer(i) => set.net_exec(i, &args, deadline),
        _ => run(&mut set.in_network(&args), deadline),
    };
    match out.status.success() {
        true => Ok(stdout(&out)),
        false => Err(stderr(&out)),
    }
}

/// Whether pod i's `port` presents `pair`'s certificate: the client port to a client, the
/// quorum ports to another pod.
fn presents(set: &StatefulSet, certs: &Certs, i: usize, port: u16, pair: &Pair) -> bool {
    let asker = match port {
        2181 => Asker::Client,
        _ => Asker::Peer((i + 1) % set.pods.len()),
    };
    tls_ask(set, certs, asker, &set.pods[i].ip, port, None)
        .is_ok_and(|pem| body(&pem) == body(&pair.cert))
}

/// A kazoo client with TLS from the cluster network.
fn kazoo_tls(
    set: &StatefulSet,
    certs: &Certs,
    hosts: &str,
    script: &str,
) -> Result<String, String> {
    let program = kazoo_program(script).replace(
        "zk = KazooClient(hosts=sys.argv[1], timeout=10,",
        "zk = KazooClient(hosts=sys.argv[1], timeout=10, use_ssl=True, \
         certfile=sys.argv[2], keyfile=sys.argv[3], ca=sys.argv[4],",
    );
    let (cert, key, ca) = (
        certs.file("client.crt"),
        certs.file("client.key"),
        certs.file("ca.crt"),
    );
    let out = run(
        &mut set.in_network(&[PYTHON, "-c", &program, hosts, &cert, &key, &ca]),
        MINUTE,
    );
    match out.status.success() {
        true => Ok(stdout(&out)),
        false => Err(stderr(&out)),
    }
}

/// The ports listening on pod i's own address (not loopback).
fn listening(set: &StatefulSet, i: usize) -> Vec<u16> {
    let out = set.net_exec(i, &["ss", "-Hltn"], MINUTE);
    let mut ports: Vec<u16> = stdout(&out)
        .lines()
        .filter_map(|line| line.split_whitespace().nth(3))
        .filter(|local| {
            !["127.", "[::1]", "[::ffff:127."]
                .iter()
                .any(|loopback| local.starts_with(loopback))
        })
        .filter_map(|local| local.rsplit(':').next()?.parse().ok())
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

fn tls_flags() -> Vec<String> {
    tutorial_flags(3)
}

/// Three pods with TLS, from empty disks, formed and serving.
fn tls_ensemble(release: Release) -> (StatefulSet, Certs) {
    let mut set = create_on(release, 3, &tls_flags());
    set.env.push(("ZK_TLS_DIR".into(), SECRET.into()));
    let certs = Certs::new(&set.root);
    for i in 0..3 {
        certs.project(&set, i, &certs.pods);
    }
    set.start_all();
    for i in 0..3 {
        set.wait_ready(i, true, 2 * MINUTE);
    }
    (set, certs)
}

#[test]
#[ignore = "needs root and namespaces"]
fn an_ensemble_over_tls() {
    ensemble_over_tls(Release::Debian12);
}

#[test]
#[ignore = "needs root and namespaces"]
fn an_ensemble_over_tls_on_zookeeper_3_9() {
    ensemble_over_tls(Release::Debian13);
}

fn ensemble_over_tls(release: Release) {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    // The three servers start from empty disks: the empty-disk guard asks the others over TLS
    // (and answers over TLS) before the quorum can form at all.
    let (set, certs) = tls_ensemble(release);
    assert!(
        wait_until(MINUTE, || one_leader(&states(&set), "follower")),
        "states: {:?}",
        states(&set)
    );
    for i in 0..3 {
        let cfg = stdout(&set.exec(i, &["cat", "/opt/zookeeper/conf/zoo.cfg"], MINUTE));
        assert!(cfg.contains("secureClientPort=2181\n"), "{cfg}");
        assert!(!cfg.contains("\nclientPort="), "{cfg}");
        // Its guard heard the others over TLS: all empty and waiting, or serving.
        let logs = set.logs(i);
        assert!(
            logs.contains("every other voter is reachable and empty")
                || logs.contains("the ensemble serves"),
            "zk-{i}:\n{logs}"
        );
    }

    // A client with a certificate writes through one pod and reads through another.
    let zk0 = format!("{}:2181", set.pods[0].ip);
    let zk1 = format!("{}:2181", set.pods[1].ip);
    kazoo_tls(&set, &certs, &zk0, "zk.create('/secret', b'kept')").unwrap();
    let read = kazoo_tls(
        &set,
        &certs,
        &zk1,
        "zk.sync('/secret')\nprint(zk.get('/secret')[0].decode())",
    );
    assert_eq!(read.unwrap(), "kept\n");

    // The client port presents the pods' certificate and answers four-letter words over TLS.
    let answer = tls_ask(
        &set,
        &certs,
        Asker::Client,
        &set.pods[0].ip,
        2181,
        Some("ruok"),
    )
    .unwrap();
    assert!(answer.ends_with("imok\n"), "{answer}");
    assert!(presents(&set, &certs, 0, 2181, &certs.pods));

    // Nothing in the clear: a plaintext ruok gets no answer, a plaintext client no session.
    let plain = run(
        &mut set.in_network(&[
            PYTHON,
            "-c",
            "import socket,sys\ns=socket.create_connection((sys.argv[1],2181),timeout=3)\n\
             s.sendall(b'ruok')\ntry:\n    print(s.recv(100))\nexcept OSError as e:\n    print(e)",
            &set.pods[0].ip,
        ]),
        MINUTE,
    );
    assert!(!stdout(&plain).contains("imok"), "{}", stdout(&plain));
    let plaintext = run(
        &mut set.in_network(&[
            PYTHON,
            "-c",
            "import sys\nfrom kazoo.client import KazooClient\n\
             zk = KazooClient(hosts=sys.argv[1], timeout=3)\nzk.start(timeout=5)\nprint('connected')",
            &zk0,
        ]),
        MINUTE,
    );
    assert!(!plaintext.status.success(), "a plaintext client connected");

    // Without a client certificate the client port and the election port refuse.
    let no_cert = tls_ask(
        &set,
        &certs,
        Asker::Anonymous,
        &set.pods[0].ip,
        2181,
        Some("ruok"),
    );
    assert!(
        !no_cert.as_deref().unwrap_or("").contains("imok"),
        "{no_cert:?}"
    );
    let election = tls_ask(
        &set,
        &certs,
        Asker::Anonymous,
        &set.pods[1].ip,
        3888,
        Some("ruok"),
    );
    assert!(
        election.is_err(),
        "the election port took a peer without a certificate"
    );
    // To another pod, with its certificate, it presents the pods' certificate (mutual TLS).
    assert!(presents(&set, &certs, 1, 3888, &certs.pods));

    // Only the client, quorum (the leader's) and election ports listen on a pod's address:
    // no JMX or other port in the clear.
    for i in 0..3 {
        let ports = listening(&set, i);
        let expected: &[&[u16]] = &[&[2181, 3888], &[2181, 2888, 3888]];
        assert!(
            expected.contains(&ports.as_slice()),
            "zk-{i} listens on {ports:?}"
        );
    }

    // zkpod's own commands, with the variable from the container's env: the probes, the
    // metrics in every format, and diagnose.
    for i in 0..3 {
        assert!(set.probe(i, true).status.success());
        assert!(set.probe(i, false).status.success());
    }
    let metrics = set.command_path("zookeeper-metrics");
    let prometheus = set.exec(0, &[&metrics, "--format", "prometheus"], MINUTE);
    assert!(
        stdout(&prometheus).contains("zk_up 1\n"),
        "{}",
        stderr(&prometheus)
    );
    promtool(&stdout(&prometheus)).unwrap();
    // --listen serves them over HTTP, asking the server over TLS at every scrape.
    let mut listening_metrics = set
        .exec_command(0, &[metrics.as_str(), "--listen", "127.0.0.1:9141"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let scrape = "import urllib.request,time\nfor _ in range(50):\n    try:\n        \
                  print(urllib.request.urlopen('http://127.0.0.1:9141/metrics').read().decode())\n        \
                  break\n    except OSError:\n        time.sleep(0.2)";
    let scraped = set.net_exec(0, &[PYTHON, "-c", scrape], MINUTE);
    let _ = listening_metrics.kill();
    let _ = listening_metrics.wait();
    assert!(
        stdout(&scraped).contains("\nzk_up 1\n"),
        "{}",
        stderr(&scraped)
    );
    let json = set.exec(0, &[&metrics, "--format", "json"], MINUTE);
    assert!(
        stdout(&json).contains("\"zk_server_state\""),
        "{}",
        stderr(&json)
    );
    let diagnose = set.exec(0, &set.zkpod_args("diagnose", &[]), MINUTE);
    assert!(
        diagnose.status.success(),
        "{}{}",
        stdout(&diagnose),
        stderr(&diagnose)
    );
    assert!(
        stdout(&diagnose).contains("verdict: healthy"),
        "{}",
        stdout(&diagnose)
    );
    let tls_line =
        format!("tls         {SECRET}: the pair is good; the server has the Secret's pair\n");
    assert!(
        stdout(&diagnose).contains(&tls_line),
        "{}",
        stdout(&diagnose)
    );

    // Without the variable in the probe's environment, the probe finds the directory the
    // pod's server runs with.
    let ready = set.command_path("zookeeper-ready");
    let mut bare_probe = set.exec_command(0, &[ready.as_str(), "--serving", "2181"]);
    bare_probe.env_remove("ZK_TLS_DIR");
    let bare = run(&mut bare_probe, MINUTE);
    assert!(bare.status.success(), "{}", stderr(&bare));
}

/// Sets its flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The JVMs of every pod, sampled until `stop`: per pod the java pids seen with when each
/// was first seen, and the most pods seen without a JVM at once. A server that restarts takes
/// seconds to serve again: two pods down together show as restarts close in time.
fn watch_jvms(set: &StatefulSet, stop: &AtomicBool) -> (Vec<Vec<(u32, Instant)>>, usize) {
    let pid1s: Vec<u32> = (0..set.pods.len()).map(|i| set.pid1(i)).collect();
    let mut seen: Vec<Vec<(u32, Instant)>> = vec![Vec::new(); pid1s.len()];
    let mut most_down = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut down = 0;
        for (i, pid1) in pid1s.iter().enumerate() {
            let java = children(*pid1).into_iter().find(|pid| {
                fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "java")
            });
            match java {
                Some(pid) if !seen[i].iter().any(|(p, _)| *p == pid) => {
                    seen[i].push((pid, Instant::now()))
                }
                Some(_) => {}
                None => down += 1,
            }
        }
        most_down = most_down.max(down);
        std::thread::sleep(Duration::from_millis(100));
    }
    (seen, most_down)
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_renewed_pair_is_taken_up_without_losing_the_quorum() {
    renewal(Release::Debian12);
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_renewed_pair_is_taken_up_without_losing_the_quorum_on_zookeeper_3_9() {
    renewal(Release::Debian13);
}

fn renewal(release: Release) {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let (set, certs) = tls_ensemble(release);
    let hosts = set
        .pods
        .iter()
        .map(|pod| format!("{}:2181", pod.ip))
        .collect::<Vec<_>>()
        .join(",");

    // A writer, with TLS throughout, that records the longest time between two writes (a
    // write that fails while its server restarts is tried again).
    let writer = r#"
import time
zk.ensure_path('/renewal')
last = time.monotonic()
longest = 0.0
end = last + float(sys.argv[5])
while time.monotonic() < end:
    try:
        zk.set('/renewal', str(time.time()).encode())
    except Exception:
        time.sleep(0.05)
        continue
    now = time.monotonic()
    longest = max(longest, now - last)
    last = now
    time.sleep(0.05)
print(longest)
"#;
    let write_for = 90;
    let (cert, key, ca) = (
        certs.file("client.crt"),
        certs.file("client.key"),
        certs.file("ca.crt"),
    );
    let program = kazoo_program(writer).replace(
        "zk = KazooClient(hosts=sys.argv[1], timeout=10,",
        "zk = KazooClient(hosts=sys.argv[1], timeout=10, use_ssl=True, \
         certfile=sys.argv[2], keyfile=sys.argv[3], ca=sys.argv[4],",
    );
    let write_for_text = write_for.to_string();
    let mut writing = set
        .in_network(&[
            PYTHON,
            "-c",
            &program,
            &hosts,
            &cert,
            &key,
            &ca,
            &write_for_text,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drained = Drained::start(&mut writing);

    let stop = AtomicBool::new(false);
    let jvms = Arc::new(Mutex::new(None));
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch_jvms(&set, &stop));
        // The watcher stops also when an assertion below fails.
        let _stop = StopOnDrop(&stop);
        std::thread::sleep(Duration::from_secs(5));
        // The kubelet updates the Secret in every pod at about the same time.
        let renewed = certs.ca.issue(&[&format!("*.{DOMAIN}")], 10);
        let swapped = Instant::now();
        for i in 0..3 {
            certs.project(&set, i, &renewed);
        }
        // The election port takes it in place (sslQuorumReloadCertFiles): zk-2's presents it
        // while zk-2, last in line, has not restarted yet.
        assert!(
            wait_until(MINUTE, || presents(&set, &certs, 2, 3888, &renewed)),
            "zk-2:3888 does not present the renewed certificate\n{}",
            set.logs(2)
        );
        assert!(
            !set.logs(2).contains("HUP: restarting"),
            "zk-2 restarted before its election port presented the renewed certificate"
        );
        // Every port of every pod presents the new certificate within the deadline.
        let deadline = 3 * MINUTE;
        for i in 0..3 {
            for port in [2181, 3888] {
                assert!(
                    wait_until(deadline.saturating_sub(swapped.elapsed()), || {
                        presents(&set, &certs, i, port, &renewed)
                    }),
                    "zk-{i}:{port} does not present the renewed certificate\n{}",
                    set.logs(i)
                );
            }
        }
        let leader = (0..3).find(|&i| set.server_state(i) == "leader").unwrap();
        assert!(presents(&set, &certs, leader, 2888, &renewed));
        for i in 0..3 {
            assert!(set.logs(i).contains("installed the renewed certificate"));
        }

        // A broken renewal (a key that is not the certificate's) is logged and ignored: the
        // servers keep the pair they have.
        let other = certs.ca.issue(&[&format!("*.{DOMAIN}")], 10);
        let broken = Pair {
            cert: other.cert.clone(),
            key: certs.pods.key.clone(),
        };
        for i in 0..3 {
            certs.project(&set, i, &broken);
        }
        assert!(
            wait_until(MINUTE, || (0..3)
                .all(|i| set.logs(i).contains("is ignored"))),
            "{}",
            set.logs(0)
        );
        for i in 0..3 {
            assert!(presents(&set, &certs, i, 2181, &renewed));
            assert!(set.probe(i, true).status.success());
        }
        // diagnose names the broken Secret, and the pair the server kept.
        let diagnose = set.exec(0, &set.zkpod_args("diagnose", &[]), MINUTE);
        let report = stdout(&diagnose);
        assert!(!diagnose.status.success(), "{report}");
        assert!(
            report.contains("is not the key of the certificate"),
            "{report}"
        );
        assert!(report.contains("the server has another pair"), "{report}");
        stop.store(true, Ordering::Relaxed);
        *jvms.lock().unwrap() = Some(watcher.join().unwrap());
    });
    let (seen, most_down) = jvms.lock().unwrap().take().unwrap();
    // At most one JVM down at any moment, and each restarted at most once. 3.9 reloads the
    // client port's certificate itself (client.certReload): no restart at all.
    assert!(most_down <= 1, "{most_down} JVMs were down at once");
    let most_jvms = match release {
        Release::Debian12 => 2,
        Release::Debian13 => 1,
    };
    for (i, pids) in seen.iter().enumerate() {
        assert!(pids.len() <= most_jvms, "zk-{i} ran JVMs {pids:?}");
    }
    // Restarts (JVMs after each pod's first) one after the other: none within 1.5 s of
    // another pod's, less than a restarted server takes to serve again.
    let mut restarts: Vec<Instant> = seen
        .iter()
        .flat_map(|pids| pids.iter().skip(1).map(|(_, at)| *at))
        .collect();
    restarts.sort();
    for pair in restarts.windows(2) {
        let apart = pair[1] - pair[0];
        assert!(
            apart > Duration::from_millis(1500),
            "two restarts {apart:?} apart"
        );
    }
    let status = writing.wait().unwrap();
    let (out, err) = drained.finish();
    let (out, err) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(&err));
    assert!(status.success(), "the writer failed: {err}");
    let longest: f64 = out.trim().parse().unwrap();
    // No gap longer than an election (a few ticks of 2 s).
    assert!(longest < 10.0, "the writer waited {longest} s");
}

#[test]
fn broken_pairs_are_refused_before_anything_starts() {
    let root = std::env::temp_dir().join(format!("zkpod-tls-refused-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let ca = Authority::new(&root.join("ca"), "zkpod test authority");
    let stranger = Authority::new(&root.join("stranger"), "another authority");
    let wildcard = format!("*.{DOMAIN}");
    let good = ca.issue(&[&wildcard], 10);
    let mismatched = Pair {
        cert: good.cert.clone(),
        key: ca.issue(&[&wildcard], 10).key,
    };
    let cases: [(&str, Pair, &str); 5] = [
        ("good", good.clone(), ""),
        (
            "mismatched",
            mismatched,
            "is not the key of the certificate",
        ),
        (
            "unchained",
            stranger.issue(&[&wildcard], 10),
            "not signed by the authority",
        ),
        (
            "misnamed",
            ca.issue(&["*.other.default.svc.cluster.local"], 10),
            "does not name",
        ),
        ("expired", ca.issue(&[&wildcard], -1), "expired"),
    ];
    // In dynamic membership too, where the start asks the ensemble which members it has: the
    // pair is refused before anyone is asked.
    let memberships = ["static", "dynamic"];
    let cases = memberships
        .iter()
        .flat_map(|membership| cases.iter().map(move |case| (membership, case)));
    for (membership, (case, pair, why)) in cases {
        let name = format!("{case}-{membership}");
        let dir = root.join(&name);
        project(&dir.join("secret"), pair, &ca.cert);
        let conf = dir.join("conf");
        let mut start = Command::new(ZKPOD);
        start
            .args(["start", "--servers=3", "--hostname=zk-0"])
            .arg(format!("--membership={membership}"))
            .env("ZK_SUPER_PASSWORD", "s3cret-for-tests")
            .arg(format!("--domain={DOMAIN}"))
            .arg(format!("--conf_dir={}", conf.display()))
            .arg(format!("--data_dir={}", dir.join("data").display()))
            .arg(format!("--tls_dir={}", dir.join("secret").display()));
        if why.is_empty() {
            // The same start, as a dry run, passes the checks.
            let out = run(start.arg("--dry_run"), MINUTE);
            assert!(out.status.success(), "{name}: {}", stderr(&out));
            continue;
        }
        let out = run(&mut start, MINUTE);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        assert!(
            err.contains("--tls_dir") && err.contains(why),
            "{name}: {err}"
        );
        assert!(!conf.exists(), "{name}: something was written");
    }
    fs::remove_dir_all(&root).unwrap();
}

/// The voters of the ensemble as a TLS client reads them through `host` (/zookeeper/config).
fn participants(set: &StatefulSet, certs: &Certs, host: &str) -> Vec<u32> {
    let script = "data, _ = zk.get('/zookeeper/config')\nprint(data.decode())";
    let text = kazoo_tls(set, certs, host, script).unwrap_or_default();
    text.lines()
        .filter(|line| line.contains(":participant"))
        .filter_map(|line| {
            line.split_once('=')?
                .0
                .strip_prefix("server.")?
                .parse()
                .ok()
        })
        .collect()
}

#[test]
#[ignore = "needs root and namespaces"]
fn dynamic_membership_over_tls() {
    require_root_and_namespaces();
    let _one = one_ensemble_at_a_time();
    let mut set = create(4, &tls_flags());
    set.env = vec![
        ("ZK_MEMBERSHIP".into(), "dynamic".into()),
        ("ZK_SUPER_PASSWORD".into(), "s3cret-for-tests".into()),
        ("ZK_TLS_DIR".into(), SECRET.into()),
    ];
    let certs = Certs::new(&set.root);
    for i in 0..4 {
        certs.project(&set, i, &certs.pods);
    }
    for i in 0..3 {
        set.start(i);
    }
    for i in 0..3 {
        set.wait_ready(i, true, 2 * MINUTE);
    }
    let zk0 = format!("{}:2181", set.pods[0].ip);
    assert_eq!(participants(&set, &certs, &zk0), [1, 2, 3]);
    // The plaintext client port reconfiguration needs listens on loopback only.
    let cfg = stdout(&set.exec(
        0,
        &["sh", "-c", "cat /var/lib/zookeeper/data/zoo.cfg*"],
        MINUTE,
    ));
    assert!(cfg.contains(";127.0.0.1:12181"), "{cfg}");
    for i in 0..3 {
        let ports = listening(&set, i);
        assert!(
            !ports.contains(&12181),
            "zk-{i} listens on {ports:?}: {}",
            stdout(&set.exec(i, &["ss", "-ltnp"], MINUTE))
        );
    }

    // A fourth pod joins by itself (zkpod join, over TLS) and becomes ready as a member.
    set.start(3);
    set.wait_ready(3, true, 2 * MINUTE);
    assert!(
        wait_until(MINUTE, || participants(&set, &certs, &zk0) == [1, 2, 3, 4]),
        "{:?}\n{}",
        participants(&set, &certs, &zk0),
        set.logs(3)
    );
    kazoo_tls(&set, &certs, &zk0, "zk.create('/joined', b'yes')").unwrap();

    // And leaves (its preStop hook), over TLS.
    let left = set.exec(
        3,
        &set.zkpod_args("leave", &["--timeout", "60"]),
        2 * MINUTE,
    );
    assert!(left.status.success(), "{}", stderr(&left));
    assert!(
        stderr(&left).contains("server 4 left the ensemble"),
        "{}",
        stderr(&left)
    );
    assert_eq!(participants(&set, &certs, &zk0), [1, 2, 3]);
    let zk1 = format!("{}:2181", set.pods[1].ip);
    let read = kazoo_tls(
        &set,
        &certs,
        &zk1,
        "zk.sync('/joined')\nprint(zk.get('/joined')[0].decode())",
    );
    assert_eq!(read.unwrap(), "yes\n");
}
