//! zookeeper-ready and zookeeper-metrics: against a real ZooKeeper, and against stand-in
//! servers for the faults a real one will not produce (silence, garbage, refusals, huge
//! answers).

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;

/// What a stand-in server answers to a word; None: say nothing and keep the connection open.
type Answer = fn(&str) -> Option<Vec<u8>>;

/// A fake ZooKeeper on a loopback port, answering four-letter words its own way. It stops by
/// itself when dropped (or after a minute).
struct StandIn {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StandIn {
    fn start(answer: Answer) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut silent = Vec::new();
            while !stopping.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let mut word = [0u8; 4];
                if conn.read_exact(&mut word).is_err() {
                    continue;
                }
                match answer(&String::from_utf8_lossy(&word)) {
                    Some(reply) => {
                        // A client that stops reading makes this fail; that is its right.
                        let _ = conn.write_all(&reply);
                    }
                    None => silent.push(conn),
                }
            }
        });
        StandIn {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn zkpod(name: &str, args: &[&str]) -> (Output, Duration) {
    let sandbox = Sandbox::new("probe");
    let mut cmd = sandbox.command(name);
    cmd.args(args);
    let started = Instant::now();
    let out = run(&mut cmd, Duration::from_secs(20));
    (out, started.elapsed())
}

fn ready(args: &[&str]) -> (Option<i32>, String, Duration) {
    let (out, took) = zkpod("zookeeper-ready", args);
    (out.status.code(), stderr(&out), took)
}

fn srvr(mode: &str) -> Vec<u8> {
    format!(
        "Zookeeper version: 3.8.0-x, built on 2024-12-29 17:54 UTC\nLatency min/avg/max: 0/0.0/0\n\
         Received: 2\nSent: 1\nConnections: 1\nOutstanding: 0\nZxid: 0x100000002\nMode: {mode}\n\
         Node count: 5\n"
    )
    .into_bytes()
}

const NOT_SERVING: &[u8] = b"This ZooKeeper instance is not currently serving requests\n";

#[test]
fn real_server_probes_and_metrics() {
    let zk = ZooKeeper::start("probes", &[]);
    let port = zk.port.to_string();
    let (code, err, _) = ready(&[&port]);
    assert_eq!((code, err.as_str()), (Some(0), ""), "quiet on success");
    // Alive comes a moment before serving; readiness turns true once the server serves.
    assert!(wait_until(Duration::from_secs(20), || ready(&[
        "--serving",
        &port
    ])
    .0 == Some(0)));
    let (code, err, _) = ready(&["--serving", &port]);
    assert_eq!((code, err.as_str()), (Some(0), ""));

    let (out, _) = zkpod("zookeeper-metrics", &[&port]);
    assert!(out.status.success(), "{}", stderr(&out));
    let raw = stdout(&out);
    assert!(raw.contains("zk_server_state\tstandalone\n"), "{raw}");
    assert!(raw.starts_with("zk_version\t"));

    let (out, _) = zkpod("zookeeper-metrics", &["--format", "prometheus", &port]);
    let page = stdout(&out);
    promtool(&page).unwrap();
    assert!(page.contains("\nzk_up 1\n"));
    assert!(page.contains("zk_server_state{state=\"standalone\"} 1\n"));

    let (out, _) = zkpod("zookeeper-metrics", &["--format=json", &port]);
    let checked = python_with_input(
        "import json, sys\nd = json.load(sys.stdin)\n\
             assert d['zk_server_state'] == 'standalone', d\n\
             assert isinstance(d['zk_znode_count'], int) and d['zk_znode_count'] >= 5\n\
             assert isinstance(d['zk_avg_latency'], float)\nprint(len(d))",
        &out.stdout,
    );
    assert!(checked.status.success(), "{}", stderr(&checked));
    assert!(stdout(&checked).trim().parse::<usize>().unwrap() > 100);
}

#[test]
fn the_port_comes_from_zk_client_port_like_the_old_probe() {
    let zk = ZooKeeper::start("probe-env", &[]);
    let sandbox = Sandbox::new("probe-env-cmd");
    let out = output(
        sandbox
            .command("zookeeper-ready")
            .env("ZK_CLIENT_PORT", zk.port.to_string()),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // PORT given, the variable is not read, whatever it holds.
    for command in ["zookeeper-ready", "zookeeper-metrics"] {
        let out = output(
            sandbox
                .command(command)
                .arg(zk.port.to_string())
                .env("ZK_CLIENT_PORT", "1\n2"),
        );
        assert!(out.status.success(), "{command}: {}", stderr(&out));
    }
}

#[test]
fn whitelist_without_ruok_or_mntr() {
    let zk = ZooKeeper::start("whitelist", &["--extra=4lw.commands.whitelist=srvr"]);
    let port = zk.port.to_string();
    // ruok is refused; any answer to srvr counts as alive.
    let (code, err, _) = ready(&[&port]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let (out, _) = zkpod("zookeeper-metrics", &[&port]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "zookeeper-metrics: 127.0.0.1:{port}: mntr is refused: add it to \
             4lw.commands.whitelist in zoo.cfg\n"
        )
    );
    let (out, _) = zkpod("zookeeper-metrics", &["--format", "prometheus", &port]);
    assert_eq!(out.status.code(), Some(1));
    let page = stdout(&out);
    promtool(&page).unwrap();
    assert!(page.contains("\nzk_up 0\n"), "{page}");
}

#[test]
fn a_closed_port_fails_fast() {
    let port = free_port().to_string();
    let (code, err, _) = ready(&[&port]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!("zookeeper-ready: 127.0.0.1:{port}: connection refused\n")
    );
    // A refusal is final: the probe does not try again until its timeout.
    let (code, err, took) = ready(&["--timeout", "30", &port]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.ends_with(": connection refused\n"), "{err}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let (out, _) = zkpod("zookeeper-metrics", &[&port]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).is_empty(),
        "raw prints nothing without an answer"
    );
}

#[test]
fn silence_fails_within_the_timeout() {
    let silent = StandIn::start(|_| None);
    let port = silent.port.to_string();
    // It waits out its timeout, and then gives up rather than hanging: a bound of several
    // times the timeout (a hang would last until the run's deadline of 20 s).
    for (timeout, shown) in [("0.5", "0.5"), ("1", "1")] {
        let (code, err, took) = ready(&["--timeout", timeout, &port]);
        assert_eq!(code, Some(1));
        assert_eq!(
            err,
            format!("zookeeper-ready: 127.0.0.1:{port}: timed out after {shown}s\n")
        );
        let limit: f64 = timeout.parse().unwrap();
        assert!(
            took.as_secs_f64() >= limit * 0.9 && took.as_secs_f64() < limit * 5.0,
            "--timeout {timeout} took {took:?}"
        );
    }
    // The default keeps the probe inside Kubernetes' default timeoutSeconds of 1.
    let (code, err, took) = ready(&[&port]);
    assert_eq!(code, Some(1));
    let default: f64 = err
        .strip_prefix(&format!(
            "zookeeper-ready: 127.0.0.1:{port}: timed out after "
        ))
        .and_then(|rest| rest.strip_suffix("s\n"))
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(default < 1.0, "the default timeout is {default} s");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let (out, took) = zkpod(
        "zookeeper-metrics",
        &["--timeout=0.3", "--format=prometheus", &port],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    promtool(&stdout(&out)).unwrap();
}

#[test]
fn garbage_is_an_unexpected_answer() {
    let garbage = StandIn::start(|_| Some(b"HTTP/1.1 400 Bad Request\r\n\r\n\x00\xff".to_vec()));
    let port = garbage.port.to_string();
    let (code, err, _) = ready(&[&port]);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with(&format!(
            "zookeeper-ready: 127.0.0.1:{port}: unexpected answer \"HTTP/1.1 400 Bad Request\\r\\n"
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    let (code, err, _) = ready(&["--serving", &port]);
    assert_eq!(code, Some(1));
    assert!(err.contains("unexpected answer"), "{err}");
}

#[test]
fn ruok_switched_off_falls_back_to_srvr() {
    let refusing = StandIn::start(|word| match word {
        "ruok" => Some(b"ruok is not executed because it is not in the whitelist.\n".to_vec()),
        _ => Some(NOT_SERVING.to_vec()),
    });
    let (code, err, _) = ready(&[&refusing.port.to_string()]);
    assert_eq!(
        (code, err.as_str()),
        (Some(0), ""),
        "an answer to srvr means alive"
    );
}

#[test]
fn alive_but_not_serving() {
    let electing = StandIn::start(|word| match word {
        "ruok" => Some(b"imok".to_vec()),
        _ => Some(NOT_SERVING.to_vec()),
    });
    let port = electing.port.to_string();
    let (code, err, _) = ready(&[&port]);
    assert_eq!(
        (code, err.as_str()),
        (Some(0), ""),
        "liveness must not need a quorum"
    );
    let (code, err, _) = ready(&["--serving", &port]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!(
            "zookeeper-ready: 127.0.0.1:{port}: not serving requests (no quorum yet: \
             electing a leader or syncing)\n"
        )
    );
    let (out, _) = zkpod("zookeeper-metrics", &["--format", "prometheus", &port]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("\nzk_up 0\n"));
    assert!(stderr(&out).contains("mntr answers again once the quorum is back"));
}

#[test]
fn serving_modes() {
    let follower = StandIn::start(|_| Some(srvr("follower")));
    let (code, err, _) = ready(&["--serving", &follower.port.to_string()]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let read_only = StandIn::start(|_| Some(srvr("read-only")));
    let port = read_only.port.to_string();
    let (code, err, _) = ready(&["--serving", &port]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!("zookeeper-ready: 127.0.0.1:{port}: not serving: Mode: read-only\n")
    );
}

#[test]
fn a_huge_answer_is_cut_off_in_bounded_memory_without_waiting_for_the_timeout() {
    let huge = StandIn::start(|_| Some(vec![b'x'; 16 * 1024 * 1024]));
    let port = huge.port.to_string();
    // The child's peak memory, from the kernel's accounting.
    let measured = Command::new(PYTHON)
        .arg("-c")
        .arg(
            "import resource, subprocess, sys, time\n\
             t = time.monotonic()\n\
             p = subprocess.run(sys.argv[1:], capture_output=True)\n\
             took = time.monotonic() - t\n\
             peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n\
             print(p.returncode, peak, took, len(p.stdout))\n\
             sys.stderr.write(p.stderr.decode())",
        )
        .args([ZKPOD, "metrics", "--timeout", "30", &port])
        .output()
        .unwrap();
    let report = stdout(&measured);
    let fields: Vec<&str> = report.split_whitespace().collect();
    assert_eq!(fields[0], "1", "{report} {}", stderr(&measured));
    let peak_kib: u64 = fields[1].parse().unwrap();
    let took: f64 = fields[2].parse().unwrap();
    assert_eq!(fields[3], "0", "nothing printed");
    assert!(
        peak_kib < 12 * 1024,
        "peak memory {peak_kib} KiB for a 16 MiB answer"
    );
    // Cut off once the limit is passed, not when the timeout ends the reading.
    assert!(took < 15.0, "took {took} s");
    assert!(
        stderr(&measured).contains("larger than 1048576 bytes"),
        "{}",
        stderr(&measured)
    );
}

#[test]
fn prometheus_pages_of_every_mntr_shape_pass_promtool() {
    for (fixture, state) in [
        ("mntr-3.4-leader.txt", "leader"),
        ("mntr-3.5-follower.txt", "follower"),
        ("mntr-3.8-standalone.txt", "standalone"),
        ("mntr-3.8-leader.txt", "leader"),
    ] {
        let answer: Answer = match fixture {
            "mntr-3.4-leader.txt" => {
                |_| Some(include_bytes!("fixtures/mntr-3.4-leader.txt").to_vec())
            }
            "mntr-3.5-follower.txt" => {
                |_| Some(include_bytes!("fixtures/mntr-3.5-follower.txt").to_vec())
            }
            "mntr-3.8-standalone.txt" => {
                |_| Some(include_bytes!("fixtures/mntr-3.8-standalone.txt").to_vec())
            }
            _ => |_| Some(include_bytes!("fixtures/mntr-3.8-leader.txt").to_vec()),
        };
        let server = StandIn::start(answer);
        let (out, _) = zkpod(
            "zookeeper-metrics",
            &["--format", "prometheus", &server.port.to_string()],
        );
        assert!(out.status.success(), "{fixture}: {}", stderr(&out));
        let page = stdout(&out);
        promtool(&page).unwrap_or_else(|problems| panic!("{fixture}: {problems}\n{page}"));
        assert!(
            page.contains(&format!("zk_server_state{{state=\"{state}\"}} 1\n")),
            "{fixture}"
        );
        assert!(page.contains("\nzk_up 1\n"));
        assert!(page.contains("zk_version_info{version=\"3."), "{fixture}");
        // Raw passes the answer through byte for byte.
        let (raw, _) = zkpod("zookeeper-metrics", &[&server.port.to_string()]);
        let expected = std::fs::read(format!(
            "{}/tests/fixtures/{fixture}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(raw.stdout, expected, "{fixture}");
    }
    let leader = include_str!("fixtures/mntr-3.8-leader.txt");
    let server = StandIn::start(|_| Some(include_bytes!("fixtures/mntr-3.8-leader.txt").to_vec()));
    let (out, _) = zkpod(
        "zookeeper-metrics",
        &["--format", "prometheus", &server.port.to_string()],
    );
    let page = stdout(&out);
    assert!(leader.contains("zk_fsynctime{quantile=\"0.5\"}\tNaN"));
    assert!(page.contains("# TYPE zk_fsynctime summary\nzk_fsynctime{quantile=\"0.5\"} NaN\n"));
    assert!(page.contains("zk_peer_state{state=\"leading - broadcast\"} 1\n"));
    assert!(page.contains("# TYPE zk_learners gauge\nzk_learners 2\n"));
}

/// An answer no ZooKeeper gives, with every kind of line the conversion has to leave out or
/// clean up.
const ODD_MNTR: &[u8] = b"zk_version\t3.8.0 \"quoted\" \\ back\x01slash\n\
    zk_server_state\tleader\n\
    zk_up\t7\n\
    zk_up{forged=\"1\"}\t1\n\
    zk_fsynctime{quantile=\"0.5\"}\t1\n\
    zk_fsynctime{quantile=\"high\"}\t2\n\
    zk_fsynctime{quantile=\"0.5\"}\t3\n\
    zk_fsynctime_sum\t4\n\
    zk_a{x=\"1\",x=\"2\"}\t5\n\
    zk_a{x-y=\"1\",x_y=\"2\"}\t6\n\
    zk_a{__name__=\"b\"}\t7\n\
    zk_a{a:b=\"c\\\"d\\\\e\"}\t8\n\
    zk_b{value=\"1\"}\ttext\n\
    zk-c.x\t+1\n\
    zk_e\tInfinity\n\
    zk_f\t1e999\n\
    zk_g\t\xff\xfe bytes\n\
    zk_a\t9\n\
    not a line\n\
    zk_h{\t10\n";

#[test]
fn an_odd_answer_still_gives_a_valid_page_and_object() {
    let server = StandIn::start(|_| Some(ODD_MNTR.to_vec()));
    let port = server.port.to_string();
    let (out, _) = zkpod("zookeeper-metrics", &["--format", "prometheus", &port]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    promtool(&page).unwrap_or_else(|problems| panic!("{problems}\n{page}"));
    let up: Vec<&str> = page.lines().filter(|l| l.starts_with("zk_up")).collect();
    assert_eq!(up, ["zk_up 1"], "{page}");
    for line in [
        "zk_version_info{version=\"3.8.0 \\\"quoted\\\" \\\\ back\u{1}slash\"} 1\n",
        "# TYPE zk_fsynctime summary\nzk_fsynctime{quantile=\"0.5\"} 1\n# HELP",
        "zk_a{a_b=\"c\\\"d\\\\e\"} 8\nzk_a 9\n",
        "zk_c_x 1\n",
        "zk_e +Inf\n",
        "zk_f +Inf\n",
        "zk_g_info{value=\"\u{fffd}\u{fffd} bytes\"} 1\n",
    ] {
        assert!(page.contains(line), "{line:?} missing from:\n{page}");
    }
    for left_out in [
        "high",
        "zk_fsynctime_sum",
        "x_y",
        "__name__",
        "zk_b_info",
        "zk_h",
    ] {
        assert!(!page.contains(left_out), "{left_out} in:\n{page}");
    }

    let (out, _) = zkpod("zookeeper-metrics", &["--format", "json", &port]);
    assert!(out.status.success(), "{}", stderr(&out));
    let checked = python_with_input(
        "import json, sys\nd = json.load(sys.stdin)\n\
             assert d['zk-c.x'] == 1 and d['zk_e'] is None and d['zk_f'] is None, d\n\
             assert d['zk_up'] == 7 and d['zk_a'] == 9, d\n\
             assert d['zk_version'] == '3.8.0 \"quoted\" \\\\ back\\x01slash', d",
        &out.stdout,
    );
    assert!(checked.status.success(), "{}", stderr(&checked));

    // Raw is the answer as sent, bytes that are not UTF-8 included, like `nc`.
    let (out, _) = zkpod("zookeeper-metrics", &[&port]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, ODD_MNTR);
}

/// Debian's python3 running `script` with `input` on its stdin.
fn python_with_input(script: &str, input: &[u8]) -> Output {
    let mut child = Command::new(PYTHON)
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// One HTTP request to 127.0.0.1:`port`; the whole answer.
fn http(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn listen_serves_metrics_over_http() {
    let zk = ZooKeeper::start("listen", &[]);
    let http_port = free_port();
    let sandbox = Sandbox::new("listen-cmd");
    // Killed when the test ends, also by failing.
    let mut server = Running::spawn(
        sandbox
            .command("zookeeper-metrics")
            .args([
                "--listen",
                &format!("127.0.0.1:{http_port}"),
                &zk.port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    assert!(wait_until(Duration::from_secs(10), || TcpStream::connect(
        ("127.0.0.1", http_port)
    )
    .is_ok()));

    let answer = http(http_port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    promtool(body).unwrap();
    assert!(body.contains("\nzk_up 1\n") && body.contains("state=\"standalone\""));

    assert!(http(http_port, "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
    assert!(http(http_port, "POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405 "));
    assert!(http(http_port, "nonsense\r\n\r\n").starts_with("HTTP/1.1 400 "));
    let big = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "y".repeat(20_000));
    assert!(http(http_port, &big).starts_with("HTTP/1.1 431 "));
    // A client that never finishes its request is dropped, and the next one is served.
    let mut slow = TcpStream::connect(("127.0.0.1", http_port)).unwrap();
    slow.write_all(b"GET /metr").unwrap();
    let answer = http(http_port, "GET /metrics HTTP/1.1\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200 OK"));

    // Each scrape asks anew: with the server gone, zk_up turns 0 and the page stays valid.
    drop(zk);
    let answer = http(http_port, "GET /metrics HTTP/1.1\r\n\r\n");
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    promtool(body).unwrap();
    assert!(body.contains("\nzk_up 0\n"), "{body}");

    // TERM ends it, as PID 1 of a sidecar too.
    signal(server.id(), 15);
    assert!(wait_until(Duration::from_secs(5), || server
        .0
        .try_wait()
        .unwrap()
        .is_some()));
}

#[test]
fn a_scrape_is_answered_while_silent_and_trickling_clients_hold_connections() {
    let server = StandIn::start(|word| (word == "mntr").then(|| b"zk_version\t3.8.0\n".to_vec()));
    let http_port = free_port();
    let sandbox = Sandbox::new("listen-slow");
    let mut cmd = sandbox.command("zookeeper-metrics");
    cmd.args([
        "--listen",
        &format!("127.0.0.1:{http_port}"),
        &server.port.to_string(),
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    // Killed when the test ends, also by failing.
    let _metrics = Running::spawn(&mut cmd);
    assert!(wait_until(Duration::from_secs(10), || TcpStream::connect(
        ("127.0.0.1", http_port)
    )
    .is_ok()));

    // 20 clients that connect and say nothing, and one that sends a byte now and then.
    let silent: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(("127.0.0.1", http_port)).unwrap())
        .collect();
    let mut trickle = TcpStream::connect(("127.0.0.1", http_port)).unwrap();
    let trickling = std::thread::spawn(move || {
        let started = Instant::now();
        for byte in b"GET /metrics HTTP/1.1\r\n".iter().cycle() {
            if trickle.write_all(&[*byte]).is_err() {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(300));
            if started.elapsed() > Duration::from_secs(30) {
                return None;
            }
        }
        None
    });
    // Each scrape is answered while the others hold their connections, not after one of them
    // is cut off (at 5 s): well within that.
    let scrape = || {
        let asked = Instant::now();
        let answer = http(http_port, "GET /metrics HTTP/1.1\r\n\r\n");
        let took = asked.elapsed();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(took < Duration::from_secs(3), "the scrape took {took:?}");
    };
    for _ in 0..3 {
        scrape();
    }
    // The trickling client is cut off once its request has taken 5 s, however long it keeps
    // sending (it would go on for 30 s).
    let cut_after = trickling
        .join()
        .unwrap()
        .expect("the trickling client was never cut off");
    assert!(
        cut_after < Duration::from_secs(15),
        "cut off after {cut_after:?}"
    );
    // Many more connections than it holds: the oldest go, scrapes are still answered.
    let crowd: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", http_port)).ok())
        .collect();
    scrape();
    drop((silent, crowd));
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_probe_deadline_covers_name_resolution() {
    // A resolver that never answers: /etc/resolv.conf points at a stand-in DNS server that
    // reads queries and says nothing, in a mount namespace of the probe's own.
    require_root_and_namespaces();
    let sandbox = Sandbox::new("slow-dns");
    // An address of the loopback range that nothing else uses, one per test process (a DNS
    // server's port is 53); the server only receives.
    let pid = std::process::id();
    let address = format!("127.83.{}.{}", (pid >> 8) & 255, pid & 255);
    let _dns = std::net::UdpSocket::bind((address.as_str(), 53)).expect("a silent DNS server");
    fs::write(
        sandbox.path("resolv.conf"),
        format!("nameserver {address}\noptions timeout:30 attempts:5\n"),
    )
    .unwrap();
    fs::write(sandbox.path("hosts"), "127.0.0.1 localhost\n").unwrap();
    let script = "mount --bind \"$1\" /etc/resolv.conf && mount --bind \"$2\" /etc/hosts && shift 2 && exec \"$@\"";
    let started = Instant::now();
    let out = run(
        Command::new("unshare")
            .args(["--mount", "sh", "-c", script, "sh"])
            .arg(sandbox.path("resolv.conf"))
            .arg(sandbox.path("hosts"))
            .arg(sandbox.path("bin/zookeeper-ready"))
            .args(["--host", "zk-0.nowhere.example", "--timeout", "0.8", "2181"]),
        Duration::from_secs(30),
    );
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("timed out after 0.8s"),
        "{}",
        stderr(&out)
    );
    // Given up at its timeout, not after the resolver's (30 s, five times).
    assert!(took < Duration::from_secs(5), "the probe took {took:?}");
}

#[test]
fn a_listen_address_in_use_is_a_failure_not_a_usage_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (out, _) = zkpod("zookeeper-metrics", &["--listen", &addr]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!("zookeeper-metrics: --listen {addr}: ")),
        "{err}"
    );
    assert!(err.contains("in use"), "{err}");
}

#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    // `zookeeper-metrics --format prometheus | head -1`: no panic, no message, the status of a
    // command that died of SIGPIPE.
    let server = StandIn::start(|word| (word == "mntr").then(|| b"zk_version\t3.8.0\n".to_vec()));
    let sandbox = Sandbox::new("closed-stdout");
    let port = server.port.to_string();
    for format in ["prometheus", "json", "raw"] {
        let out = with_closed_stdout(
            sandbox
                .command("zookeeper-metrics")
                .args(["--format", format, &port]),
        );
        assert_eq!(stderr(&out), "", "{format}");
        assert_eq!(out.status.code(), Some(141), "{format}");
    }
    let out = with_closed_stdout(sandbox.command("zookeeper-ready").arg("--help"));
    assert_eq!((out.status.code(), stderr(&out).as_str()), (Some(141), ""));
}

#[test]
fn bad_arguments_are_usage_errors() {
    for (name, args, named) in [
        ("zookeeper-ready", vec!["70000"], "PORT"),
        ("zookeeper-ready", vec!["--timeout", "0"], "--timeout"),
        ("zookeeper-ready", vec!["--host", "a b"], "--host"),
        ("zookeeper-metrics", vec!["--format", "xml"], "--format"),
        ("zookeeper-metrics", vec!["--listen", "nowhere"], "--listen"),
        ("zookeeper-metrics", vec!["--listen", "a\nb"], "--listen"),
        ("zookeeper-ready", vec!["--host", "\u{1b}[31mred"], "--host"),
    ] {
        let (out, _) = zkpod(name, &args);
        assert_eq!(out.status.code(), Some(2), "{name} {args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("{name}: ")) && err.contains(named),
            "{err}"
        );
    }
}
