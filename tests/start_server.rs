//! start-zookeeper running a real ZooKeeper (Debian's package) and supervising it, talked to
//! by a real client (kazoo).

mod common;

use std::fs;
use std::time::Duration;

use common::*;

const TERM: i32 = 15;
const KILL: i32 = 9;

#[test]
fn a_started_server_serves_a_real_client() {
    let zk = ZooKeeper::start("serves", &[]);
    let written = kazoo(
        &zk.connect_string(),
        "zk.create('/hello', b'world')\nprint(zk.get('/hello')[0].decode())",
    )
    .unwrap();
    assert_eq!(written, "world\n");
    let srvr = four_letter_word(zk.port, "srvr").unwrap();
    assert!(srvr.contains("Mode: standalone"), "{srvr}");
    // The server logs through our log4j.properties, to the console, at INFO.
    let log = zk.log();
    assert!(log.contains(" [myid:] - INFO "), "{log}");
    assert!(log.contains("zkpod INFO  starting "), "{log}");
}

#[test]
fn kill_9_of_java_ends_start_zookeeper_with_137() {
    let mut zk = ZooKeeper::start("kill9", &[]);
    let java = zk.java_pid();
    assert!(
        fs::read_to_string(format!("/proc/{java}/cmdline"))
            .unwrap()
            .contains("QuorumPeerMain")
    );
    signal(java, KILL);
    assert_eq!(zk.wait(Duration::from_secs(10)), Some(128 + KILL));
}

#[test]
fn term_stops_the_server_gracefully_and_data_survives_a_restart() {
    let mut zk = ZooKeeper::start("term", &[]);
    kazoo(&zk.connect_string(), "zk.create('/durable', b'kept')").unwrap();
    signal(zk.pid(), TERM);
    // The JVM runs its shutdown hooks and exits with 143; start-zookeeper passes that on.
    assert_eq!(zk.wait(Duration::from_secs(15)), Some(128 + TERM));

    zk.restart(&[]);
    let read = kazoo(
        &zk.connect_string(),
        "print(zk.get('/durable')[0].decode())",
    )
    .unwrap();
    assert_eq!(read, "kept\n");
    assert_eq!(
        zk.sandbox
            .read("conf/zoo.cfg")
            .matches("clientPort=")
            .count(),
        1
    );
}

#[test]
fn missing_java_or_installation_is_an_error_before_anything_starts() {
    let sandbox = Sandbox::new("no-java");
    let out = output(sandbox.start().env("PATH", "/nonexistent"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "start-zookeeper: java not found: set JAVA_HOME or put java on PATH\n"
    );
    let out = output(
        sandbox
            .start()
            .arg(format!("--zk_home={}", sandbox.root.display())),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("start-zookeeper: --zk_home "),
        "{}",
        stderr(&out)
    );
    assert!(
        !sandbox.path("conf").exists(),
        "nothing is written before the checks pass"
    );
}

#[test]
fn a_custom_command_runs_instead_of_java() {
    let sandbox = Sandbox::new("custom");
    let out = output(
        sandbox
            .start()
            .args(["--heap=1G", "--", "sh", "-c", "cat \"$0\"; exit 7"])
            .arg(sandbox.path("conf/java.env")),
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stdout(&out).contains("-Xmx1G -Xms1G"), "{}", stdout(&out));
}

#[test]
fn jvm_flags_from_the_environment_reach_java() {
    let sandbox = Sandbox::new("jvmflags");
    let out = output(
        sandbox
            .start()
            .arg("--dry_run")
            .env("JVMFLAGS", "-Dfrom.jvmflags=1")
            .env("SERVER_JVMFLAGS", "-Dfrom.server=1 -XX:+UseG1GC"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let command = printed.split("==> command <==\n").nth(1).unwrap();
    for arg in [
        "-Dfrom.jvmflags=1",
        "-Dfrom.server=1",
        "-XX:+UseG1GC",
        "-Xmx2G",
    ] {
        assert!(command.contains(arg), "{arg} missing: {command}");
    }
    assert!(command.find("-Xmx2G") < command.find("-Dfrom.server=1"));
    let main_and_config = format!(
        "org.apache.zookeeper.server.quorum.QuorumPeerMain {}",
        sandbox.path("conf/zoo.cfg").display()
    );
    assert!(command.trim_end().ends_with(&main_and_config), "{command}");
}

#[test]
#[ignore = "needs root and namespaces"]
fn the_server_runs_as_the_user_it_is_given() {
    require_root_and_namespaces();
    // Debian's zookeeper package created this user.
    let uid = output(std::process::Command::new("id").args(["-u", "zookeeper"]));
    assert!(uid.status.success(), "the zookeeper user is missing");
    let uid = stdout(&uid).trim().to_string();
    let zk = ZooKeeper::start("as-user", &["--user=zookeeper"]);
    let java = zk.java_pid();
    let java_uid = proc_status(java, "Uid").unwrap();
    assert!(
        java_uid.starts_with(&format!("{uid}\t")),
        "java runs as {java_uid}"
    );
    assert!(
        proc_status(zk.pid(), "Uid").unwrap().starts_with("0\t"),
        "PID 1 stays root"
    );
    for dir in ["data", "datalog", "log", "data/version-2"] {
        let owner = output(
            std::process::Command::new("stat")
                .args(["-c", "%u"])
                .arg(zk.sandbox.path(dir)),
        );
        assert_eq!(stdout(&owner).trim(), uid, "{dir} not handed to the user");
    }
    kazoo(&zk.connect_string(), "zk.create('/as-user', b'ok')").unwrap();
}

#[test]
fn prometheus_port_needs_the_provider_jar() {
    let sandbox = Sandbox::new("prometheus-port");
    // Debian's package has no Prometheus provider: refused before anything is written.
    let out = output(sandbox.start().arg("--prometheus_port=7000"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("start-zookeeper: --prometheus_port: this ZooKeeper has no"),
        "{}",
        stderr(&out)
    );
    let out = output(sandbox.start().env("ZK_PROMETHEUS_PORT", "7000"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("start-zookeeper: ZK_PROMETHEUS_PORT: this ZooKeeper has no"),
        "{}",
        stderr(&out)
    );
    assert!(!sandbox.path("conf").exists());

    // A release that has it (its layout is all that is looked at here).
    for jar in [
        "zookeeper-3.8.4.jar",
        "zookeeper-prometheus-metrics-3.8.4.jar",
    ] {
        let path = sandbox.path("release/lib").join(jar);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "").unwrap();
    }
    let out = output(sandbox.start().args([
        "--prometheus_port=7000",
        &format!("--zk_home={}", sandbox.path("release").display()),
        "--dry_run",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.contains(
        "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n\
         metricsProvider.httpPort=7000\n"
    ));
    assert!(printed.contains("zookeeper-prometheus-metrics-3.8.4.jar"));
}

#[test]
fn the_admin_server_answers_when_asked_for() {
    let admin = free_port();
    let zk = ZooKeeper::start(
        "admin",
        &[
            &format!("--admin_port={admin}"),
            "--admin_address=127.0.0.1",
        ],
    );
    // Jetty starts with the server; the client port answering says it has had its chance.
    kazoo(&zk.connect_string(), "zk.get('/')").unwrap();
    let mut answer = String::new();
    let asked = std::net::TcpStream::connect(("127.0.0.1", admin)).and_then(|mut http| {
        use std::io::{Read, Write};
        http.write_all(b"GET /commands/ruok HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        http.read_to_string(&mut answer)
    });
    assert!(
        asked.is_ok()
            && answer.starts_with("HTTP/1.1 200")
            && answer.contains("\"command\" : \"ruok\""),
        "{asked:?}: {answer}\nlog:\n{}",
        zk.log()
    );
    assert!(!zk.log().contains("Unable to load jetty"));
}
