//! start-zookeeper's configuration half, through the built binary: the files it writes, where
//! its identity comes from, and that bad input changes nothing.

mod common;

use std::ffi::OsStr;
use std::fs;

use common::*;

/// After these, start-zookeeper writes the configuration and runs `true` instead of ZooKeeper:
/// these tests are about the files.
const NO_SERVER: [&str; 2] = ["--", "true"];

/// The tutorial's start-zookeeper flags, with its directories moved into `root`.
fn tutorial_flags(root: &str) -> Vec<String> {
    [
        "--servers=3",
        "--data_dir=ROOT/var/lib/zookeeper/data",
        "--data_log_dir=ROOT/var/lib/zookeeper/data/log",
        "--conf_dir=ROOT/opt/zookeeper/conf",
        "--client_port=2181",
        "--election_port=3888",
        "--server_port=2888",
        "--tick_time=2000",
        "--init_limit=10",
        "--sync_limit=5",
        "--heap=512M",
        "--max_client_cnxns=60",
        "--snap_retain_count=3",
        "--purge_interval=12",
        "--max_session_timeout=40000",
        "--min_session_timeout=4000",
        "--log_level=INFO",
        "--log_dir=ROOT/var/log/zookeeper",
    ]
    .iter()
    .map(|flag| flag.replace("ROOT", root))
    .collect()
}

/// The `key=value` lines of a zoo.cfg, comments left out.
fn settings_lines(cfg: &str) -> Vec<&str> {
    cfg.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .collect()
}

#[test]
#[ignore = "needs root and namespaces"]
fn tutorial_flags_on_zk_1_write_the_tutorials_zoo_cfg_and_myid_2() {
    require_root_and_namespaces();
    let sandbox = Sandbox::new("tutorial");
    let root = sandbox.root.display().to_string();
    fs::write(sandbox.path("hosts"), tutorial_hosts(3)).unwrap();
    let flags = tutorial_flags(&root);
    let args: Vec<&OsStr> = flags
        .iter()
        .map(OsStr::new)
        .chain(NO_SERVER.iter().map(OsStr::new))
        .collect();
    let out = output(&mut in_pod(
        "zk-1",
        &sandbox.path("hosts"),
        &sandbox.path("bin/start-zookeeper"),
        &args,
    ));
    assert!(out.status.success(), "{}", stderr(&out));

    // The tutorial's zoo.cfg, as its flags ask for it: the purge key spelled right, no stray
    // spaces, and the sync limit the flag gives.
    let cfg = sandbox.read("opt/zookeeper/conf/zoo.cfg");
    let expected_tutorial = [
        "clientPort=2181".to_string(),
        format!("dataDir={root}/var/lib/zookeeper/data"),
        format!("dataLogDir={root}/var/lib/zookeeper/data/log"),
        "tickTime=2000".into(),
        "initLimit=10".into(),
        "syncLimit=5".into(),
        "maxClientCnxns=60".into(),
        "minSessionTimeout=4000".into(),
        "maxSessionTimeout=40000".into(),
        "autopurge.snapRetainCount=3".into(),
        "autopurge.purgeInterval=12".into(),
        "server.1=zk-0.zk-hs.default.svc.cluster.local:2888:3888".into(),
        "server.2=zk-1.zk-hs.default.svc.cluster.local:2888:3888".into(),
        "server.3=zk-2.zk-hs.default.svc.cluster.local:2888:3888".into(),
    ];
    // What zkpod adds for every pod, and nothing else.
    let added = [
        "4lw.commands.whitelist=ruok,srvr,mntr,isro,stat,conf",
        "quorumListenOnAllIPs=true",
        "reconfigEnabled=false",
        "admin.enableServer=false",
    ];
    let lines = settings_lines(&cfg);
    let tutorial_order: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| !added.contains(line))
        .collect();
    assert_eq!(tutorial_order, expected_tutorial, "zoo.cfg:\n{cfg}");
    for line in added {
        assert!(lines.contains(&line), "{line} missing from:\n{cfg}");
    }

    assert_eq!(sandbox.read("var/lib/zookeeper/data/myid"), "2\n");
    assert!(
        sandbox
            .read("opt/zookeeper/conf/java.env")
            .contains("-Xmx512M -Xms512M")
    );
    assert!(
        sandbox
            .read("opt/zookeeper/conf/log4j.properties")
            .contains("zookeeper.console.threshold=INFO\n")
    );
    assert!(
        sandbox
            .read("opt/zookeeper/conf/logback.xml")
            .contains("<root level=\"INFO\">")
    );
    for dir in ["var/lib/zookeeper/data/log", "var/log/zookeeper"] {
        assert!(sandbox.path(dir).is_dir(), "{dir} was not created");
    }
    // Operators read the configuration in `kubectl logs`.
    assert!(
        stderr(&out).contains(&cfg),
        "zoo.cfg not printed: {}",
        stderr(&out)
    );
}

#[test]
#[ignore = "needs root and namespaces"]
fn environment_alone_configures_an_ensemble() {
    require_root_and_namespaces();
    let sandbox = Sandbox::new("env");
    fs::write(sandbox.path("hosts"), tutorial_hosts(3)).unwrap();
    let no_server: Vec<&OsStr> = NO_SERVER.iter().map(OsStr::new).collect();
    let mut cmd = in_pod(
        "zk-2",
        &sandbox.path("hosts"),
        &sandbox.path("bin/start-zookeeper"),
        &no_server,
    );
    let dir = |d: &str| sandbox.path(d).display().to_string();
    cmd.env("ZK_ENSEMBLE", "zk-0;zk-1;zk-2")
        .env("ZK_CONF_DIR", dir("conf"))
        .env("ZK_DATA_DIR", dir("data"))
        .env("ZK_DATA_LOG_DIR", dir("datalog"))
        .env("ZK_LOG_DIR", dir("log"))
        .env("ZK_CLIENT_PORT", "2191")
        .env("ZK_SERVER_PORT", "2898")
        .env("ZK_ELECTION_PORT", "3898")
        .env("ZK_TICK_TIME", "1000")
        .env("ZK_INIT_LIMIT", "20")
        .env("ZK_SYNC_LIMIT", "4")
        .env("ZK_HEAP_SIZE", "1G")
        .env("ZK_MAX_CLIENT_CNXNS", "100")
        .env("ZK_SNAP_RETAIN_COUNT", "5")
        .env("ZK_PURGE_INTERVAL", "6")
        .env("ZK_MIN_SESSION_TIMEOUT", "3000")
        .env("ZK_MAX_SESSION_TIMEOUT", "30000")
        .env("ZK_LOG_LEVEL", "WARN")
        .env("ZK_CFG_EXTRA", "snapCount=50000;4lw.commands.whitelist=*");
    let out = output(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));

    let cfg = sandbox.read("conf/zoo.cfg");
    for line in [
        "clientPort=2191",
        "tickTime=1000",
        "initLimit=20",
        "syncLimit=4",
        "maxClientCnxns=100",
        "minSessionTimeout=3000",
        "maxSessionTimeout=30000",
        "autopurge.snapRetainCount=5",
        "autopurge.purgeInterval=6",
        "snapCount=50000",
        "4lw.commands.whitelist=*",
        "server.1=zk-0.zk-hs.default.svc.cluster.local:2898:3898",
        "server.3=zk-2.zk-hs.default.svc.cluster.local:2898:3898",
    ] {
        assert!(
            settings_lines(&cfg).contains(&line),
            "{line} missing:\n{cfg}"
        );
    }
    assert_eq!(sandbox.read("data/myid"), "3\n");
    assert!(sandbox.read("conf/java.env").contains("-Xmx1G -Xms1G"));
    assert!(
        sandbox
            .read("conf/log4j.properties")
            .contains("threshold=WARN")
    );
}

#[test]
fn a_flag_beats_its_variable() {
    let sandbox = Sandbox::new("flag-beats-env");
    let out = output(
        sandbox
            .start()
            .arg("--client_port=2183")
            .arg("--heap=256M")
            .env("ZK_CLIENT_PORT", "2182")
            .env("ZK_HEAP_SIZE", "4G")
            .env("ZK_TICK_TIME", "3000")
            .env("ZK_SYNC_LIMIT", "")
            .args(NO_SERVER),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let cfg = sandbox.read("conf/zoo.cfg");
    assert!(cfg.contains("clientPort=2183\n"), "{cfg}");
    assert!(
        cfg.contains("tickTime=3000\n"),
        "the variable applies without its flag"
    );
    assert!(
        cfg.contains("syncLimit=5\n"),
        "an empty variable counts as unset"
    );
    assert!(sandbox.read("conf/java.env").contains("-Xmx256M"));
}

#[test]
#[ignore = "needs root and namespaces"]
fn observers_are_the_last_ordinals() {
    require_root_and_namespaces();
    let sandbox = Sandbox::new("observers");
    fs::write(sandbox.path("hosts"), tutorial_hosts(4)).unwrap();
    let dirs = [
        format!("--conf_dir={}", sandbox.path("conf").display()),
        format!("--data_dir={}", sandbox.path("data").display()),
        format!("--data_log_dir={}", sandbox.path("datalog").display()),
        format!("--log_dir={}", sandbox.path("log").display()),
    ];
    let mut args: Vec<&OsStr> = dirs.iter().map(OsStr::new).collect();
    args.extend([OsStr::new("--servers=3"), OsStr::new("--observers=1")]);
    args.extend(NO_SERVER.iter().map(OsStr::new));
    let out = output(&mut in_pod(
        "zk-3",
        &sandbox.path("hosts"),
        &sandbox.path("bin/start-zookeeper"),
        &args,
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let cfg = sandbox.read("conf/zoo.cfg");
    assert!(cfg.contains("peerType=observer\n"), "{cfg}");
    assert!(cfg.contains("server.3=zk-2.zk-hs.default.svc.cluster.local:2888:3888\n"));
    assert!(cfg.contains("server.4=zk-3.zk-hs.default.svc.cluster.local:2888:3888:observer\n"));
    assert_eq!(sandbox.read("data/myid"), "4\n");
}

#[test]
fn standalone_runs_under_any_host_name_and_writes_no_myid() {
    let sandbox = Sandbox::new("standalone");
    let out = output(sandbox.start().arg("--hostname=zookeeper").args(NO_SERVER));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!sandbox.read("conf/zoo.cfg").contains("server."));
    assert!(!sandbox.path("data/myid").exists());
}

#[test]
fn bad_input_changes_nothing_on_disk() {
    let sandbox = Sandbox::new("bad-input");
    let pod = [
        "--servers=3",
        "--hostname=zk-1",
        "--domain=zk-hs.default.svc.cluster.local",
    ];
    let out = output(sandbox.start().args(pod).args(NO_SERVER));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sandbox.read("data/myid"), "2\n");
    fs::create_dir(sandbox.path("templates")).unwrap();
    fs::write(
        sandbox.path("templates/zoo.cfg"),
        "clientPort={{ ports.client ",
    )
    .unwrap();
    let before = sandbox.snapshot();

    let huge = format!("--data_dir=/{}", "d".repeat(100_000));
    let broken_templates = format!("--template_dir={}", sandbox.path("templates").display());
    // (flags, environment, what the message must name)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["--client_port=0"], vec![], "--client_port"),
        (vec!["--client_port=http"], vec![], "--client_port"),
        (vec!["--server_port=2181"], vec![], "--server_port"),
        (vec!["--heap=2GB"], vec![], "--heap"),
        (vec!["--log_level=LOUD"], vec![], "--log_level"),
        (vec!["--tick_time=0"], vec![], "--tick_time"),
        (
            vec!["--min_session_timeout=9000", "--max_session_timeout=8000"],
            vec![],
            "--min_session_timeout",
        ),
        (vec!["--data_dir=/data\nclientPort=1"], vec![], "--data_dir"),
        (vec![&huge], vec![], "--data_dir"),
        (vec!["--extra=clientPort=1"], vec![], "--extra"),
        (vec!["--no_such_flag=1"], vec![], "--no_such_flag"),
        (vec![], vec![("ZK_TICK_TIME", "soon")], "ZK_TICK_TIME"),
        (vec![], vec![("ZK_ENSEMBLE", "zk-0;zk-0")], "ZK_ENSEMBLE"),
        (vec!["--hostname=zk-5"], vec![], "ordinal 5"),
        (
            vec!["--hostname=zookeeper"],
            vec![],
            "no StatefulSet ordinal",
        ),
        (vec!["--myid_offset=254"], vec![], "1-255"),
        // A volume that says it belongs to server 2, mounted in the pod of server 3.
        (vec!["--hostname=zk-2"], vec![], "server 2"),
        (vec![&broken_templates], vec![], "zoo.cfg"),
    ];
    for (args, env, named) in cases {
        let mut cmd = sandbox.start();
        cmd.args(pod)
            .args(&args)
            .envs(env.iter().copied())
            .args(NO_SERVER);
        let out = output(&mut cmd);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} {env:?} succeeded");
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{args:?}: {:?}",
            out.status
        );
        assert_eq!(
            err.lines().count(),
            1,
            "{args:?} {env:?}: not one line: {err}"
        );
        assert!(err.starts_with("start-zookeeper: "), "{args:?}: {err}");
        assert!(
            err.contains(named),
            "{args:?} {env:?}: {named} not named in: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(
            sandbox.snapshot(),
            before,
            "{args:?} {env:?} changed the disk"
        );
    }

    // The myid guard names both ids.
    let out = output(
        sandbox
            .start()
            .args(pod)
            .arg("--hostname=zk-2")
            .args(NO_SERVER),
    );
    let err = stderr(&out);
    assert!(
        err.contains("server 2") && err.contains("server 3"),
        "{err}"
    );
}

#[test]
fn non_utf8_arguments_get_one_line() {
    use std::os::unix::ffi::OsStrExt;
    let sandbox = Sandbox::new("non-utf8");
    let out = output(
        sandbox
            .start()
            .arg(OsStr::from_bytes(b"--data_dir=/d\xff\xfe")),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--data_dir") && err.contains("UTF-8"), "{err}");
    assert!(!sandbox.path("conf").exists());
}

#[test]
fn a_log_directory_that_cannot_be_made_is_no_reason_to_stop() {
    // A read-only root filesystem: ZooKeeper logs to the console, the directory is optional.
    let sandbox = Sandbox::new("no-log-dir");
    let out = output(
        sandbox
            .start()
            .arg("--log_dir=/proc/zkpod-cannot-be-made")
            .args(NO_SERVER),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no log directory /proc/zkpod-cannot-be-made"),
        "{}",
        stderr(&out)
    );
    assert!(sandbox.path("conf/zoo.cfg").exists());
}

#[test]
fn a_dry_run_into_a_closed_pipe_ends_quietly() {
    // `start-zookeeper --dry_run | head -1`
    let sandbox = Sandbox::new("dry-run-pipe");
    let out = with_closed_stdout(sandbox.start().arg("--dry_run"));
    assert_eq!((out.status.code(), stderr(&out).as_str()), (Some(141), ""));
    assert!(!sandbox.path("conf").exists());
}

#[test]
fn dry_run_prints_and_writes_nothing() {
    let sandbox = Sandbox::new("dry-run");
    let out = output(sandbox.start().args([
        "--servers=3",
        "--hostname=zk-0",
        "--domain=zk-hs",
        "--dry_run",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let conf = sandbox.path("conf").display().to_string();
    let data = sandbox.path("data").display().to_string();
    for header in [
        format!("==> {conf}/zoo.cfg <=="),
        format!("==> {conf}/log4j.properties <=="),
        format!("==> {conf}/logback.xml <=="),
        format!("==> {conf}/java.env <=="),
        format!("==> {data}/myid <==\n1\n"),
    ] {
        assert!(
            printed.contains(&header),
            "{header} missing from:\n{printed}"
        );
    }
    assert!(printed.contains("server.2=zk-1.zk-hs:2888:3888\n"));
    for dir in ["conf", "data", "datalog", "log"] {
        assert!(
            !sandbox.path(dir).exists(),
            "{dir} was created by a dry run"
        );
    }
}

#[test]
fn own_templates_replace_the_built_in_ones() {
    let sandbox = Sandbox::new("templates");
    fs::create_dir(sandbox.path("templates")).unwrap();
    fs::write(
        sandbox.path("templates/java.env"),
        "JVMFLAGS=\"-Xmx{{ launch.heap }} -XX:+UseG1GC\"\n",
    )
    .unwrap();
    let out = output(
        sandbox
            .start()
            .arg(format!(
                "--template_dir={}",
                sandbox.path("templates").display()
            ))
            .args(NO_SERVER),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        sandbox.read("conf/java.env"),
        "JVMFLAGS=\"-Xmx2G -XX:+UseG1GC\"\n"
    );
    assert!(
        sandbox.read("conf/zoo.cfg").contains("clientPort=2181\n"),
        "built-in kept"
    );
}

#[test]
fn help_documents_every_flag_with_its_variable() {
    let sandbox = Sandbox::new("help");
    let out = output(sandbox.command("start-zookeeper").arg("--help"));
    assert!(out.status.success());
    let help = stdout(&out);
    for (flag, var) in [
        ("--servers", "ZK_SERVERS"),
        ("--data_dir", "ZK_DATA_DIR"),
        ("--data_log_dir", "ZK_DATA_LOG_DIR"),
        ("--conf_dir", "ZK_CONF_DIR"),
        ("--log_dir", "ZK_LOG_DIR"),
        ("--client_port", "ZK_CLIENT_PORT"),
        ("--election_port", "ZK_ELECTION_PORT"),
        ("--server_port", "ZK_SERVER_PORT"),
        ("--tick_time", "ZK_TICK_TIME"),
        ("--init_limit", "ZK_INIT_LIMIT"),
        ("--sync_limit", "ZK_SYNC_LIMIT"),
        ("--heap", "ZK_HEAP_SIZE"),
        ("--max_client_cnxns", "ZK_MAX_CLIENT_CNXNS"),
        ("--snap_retain_count", "ZK_SNAP_RETAIN_COUNT"),
        ("--purge_interval", "ZK_PURGE_INTERVAL"),
        ("--max_session_timeout", "ZK_MAX_SESSION_TIMEOUT"),
        ("--min_session_timeout", "ZK_MIN_SESSION_TIMEOUT"),
        ("--log_level", "ZK_LOG_LEVEL"),
        ("--ensemble", "ZK_ENSEMBLE"),
        ("--myid_offset", "ZK_MYID_OFFSET"),
        ("--observers", "ZK_OBSERVERS"),
        ("--extra", "ZK_CFG_EXTRA"),
        ("--hostname", "ZK_HOSTNAME"),
        ("--domain", "ZK_DOMAIN"),
        ("--template_dir", "ZK_TEMPLATE_DIR"),
        ("--admin_port", "ZK_ADMIN_PORT"),
        ("--admin_address", "ZK_ADMIN_ADDRESS"),
    ] {
        let at = help
            .find(&format!("{flag} <"))
            .unwrap_or_else(|| panic!("{flag}"));
        let entry = &help[at..];
        let end = entry.find("\n\n  ").unwrap_or(entry.len());
        assert!(
            entry[..end].contains(&format!("[env: {var}")),
            "{flag} does not name {var}:\n{}",
            &entry[..end]
        );
    }
    assert!(help.contains("--dry_run"));
    // The original README got these wrong: the sync limit is a lag in ticks, and the
    // minimum session timeout defaults to 2 ticks, the maximum to 20.
    assert!(help.contains("lag behind the leader"));
    assert!(help.contains("[default: 2 × --tick_time]"));
    assert!(help.contains("[default: 20 × --tick_time]"));
}

#[test]
fn dispatch_by_name_and_by_argument() {
    let sandbox = Sandbox::new("dispatch");
    let out = output(sandbox.command("start-zookeeper").arg("--version"));
    assert!(
        stdout(&out).starts_with("start-zookeeper "),
        "{}",
        stdout(&out)
    );

    let out = output(std::process::Command::new(ZKPOD).arg("--help"));
    assert!(out.status.success());
    for command in ["start", "supervise", "install-links"] {
        assert!(stdout(&out).contains(&format!("  {command} ")), "{command}");
    }
    let out = output(std::process::Command::new(ZKPOD).args(["start", "--help"]));
    assert!(out.status.success() && stdout(&out).contains("--client_port"));

    let out = output(std::process::Command::new(ZKPOD).arg("frobnicate"));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("zkpod: unknown command \"frobnicate\" (the commands are: start, "));
    let out = output(&mut std::process::Command::new(ZKPOD));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Commands:"));
}

#[test]
fn install_links_creates_the_three_names() {
    let sandbox = Sandbox::new("links");
    let dir = sandbox.path("usr-local-bin");
    fs::create_dir(&dir).unwrap();
    for _ in 0..2 {
        // Twice: links that already point here are fine.
        let out = output(
            std::process::Command::new(ZKPOD)
                .arg("install-links")
                .arg(&dir),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for name in ["start-zookeeper", "zookeeper-ready", "zookeeper-metrics"] {
        let target = fs::read_link(dir.join(name)).unwrap();
        assert_eq!(target, fs::canonicalize(ZKPOD).unwrap(), "{name}");
    }
    let out = output(std::process::Command::new(dir.join("start-zookeeper")).arg("--help"));
    assert!(stdout(&out).contains("--client_port"));

    // Something else by one of the names is never replaced.
    let other = sandbox.path("other-bin");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("zookeeper-ready"), "#!/bin/sh\n").unwrap();
    let out = output(
        std::process::Command::new(ZKPOD)
            .arg("install-links")
            .arg(&other),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("zookeeper-ready\" exists"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        fs::read_to_string(other.join("zookeeper-ready")).unwrap(),
        "#!/bin/sh\n"
    );
    assert!(
        !other.join("start-zookeeper").exists(),
        "a refusal creates nothing"
    );
    // Paths are shown escaped: the message stays one line.
    let out = output(
        std::process::Command::new(ZKPOD)
            .arg("install-links")
            .arg(sandbox.path("no\ndir")),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.ends_with("no\\ndir\" is not a directory\n"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// The `env:` of the manifest's container: each `- name:` and the `value:` after it.
fn manifest_env(manifest: &str) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let mut lines = manifest.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix("- name: ")
            && let Some(value) = lines.next().and_then(|l| l.strip_prefix("value: "))
            && name.starts_with("ZK_")
        {
            env.push((name.to_owned(), value.trim_matches('"').to_owned()));
        }
    }
    env
}

#[test]
#[ignore = "needs root and namespaces"]
fn the_dynamic_manifest_matches_the_binary() {
    require_root_and_namespaces();
    let manifest = include_str!("../docker/zookeeper-dynamic.yaml");
    // Its heap is a share of its memory limit: start-zookeeper runs within that limit.
    let memory = MemoryCgroup::new("dynamic-manifest", Some(manifest_memory_limit(manifest)));
    let sandbox = Sandbox::new("dynamic-manifest");
    let env = manifest_env(manifest);
    assert!(
        env.iter()
            .any(|(name, value)| name == "ZK_MEMBERSHIP" && value == "dynamic")
    );
    // The pod's environment, with the Secret's file and the volumes moved into the sandbox.
    let password = sandbox.path("password");
    fs::write(&password, "secret-for-tests\n").unwrap();
    let moved = |name: &str, value: &str| match name {
        "ZK_SUPER_PASSWORD_FILE" => password.display().to_string(),
        _ if value.starts_with('/') => sandbox.path(&value[1..]).display().to_string(),
        _ => value.to_owned(),
    };
    let with_env = |cmd: &mut std::process::Command| {
        for (name, value) in &env {
            cmd.env(name, moved(name, value));
        }
    };

    let command = manifest_list(manifest, "containers");
    assert_eq!(command, ["start-zookeeper"]);
    let mut start = sandbox.command("start-zookeeper");
    with_env(&mut start);
    start.args([
        "--dry_run",
        "--hostname=zk-0",
        "--domain=zk-hs.default.svc.cluster.local",
    ]);
    let out = memory.run(&start);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains("reconfigEnabled=true\n"), "{page}");
    assert!(page.contains(" -Xmx512m -Xms512m "), "{page}");
    assert!(page.contains("server.3=zk-2.zk-hs.default.svc.cluster.local:2888:3888:"));

    // The probes and the preStop hook name commands and flags the binary accepts: against a
    // closed port (in place of the client port) a probe reports the server unhealthy (1), not
    // a usage error (2).
    let closed = free_port().to_string();
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        let words = manifest_list(manifest, probe);
        assert_eq!(words[0], "zookeeper-ready", "{probe}: {words:?}");
        assert_eq!(
            words.last().map(String::as_str),
            Some("2181"),
            "{probe}: {words:?}"
        );
        let mut cmd = sandbox.command("zookeeper-ready");
        with_env(&mut cmd);
        cmd.args(&words[1..words.len() - 1]).arg(&closed);
        let out = output(&mut cmd);
        assert_eq!(out.status.code(), Some(1), "{probe}: {}", stderr(&out));
    }
    let pre_stop = manifest_list(manifest, "preStop");
    assert_eq!(pre_stop[..2], ["zkpod", "leave"], "{pre_stop:?}");
    let out = output(
        std::process::Command::new(ZKPOD)
            .args(&pre_stop[1..])
            .arg("--help"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
#[ignore = "needs root and namespaces"]
fn the_tls_manifest_matches_the_binary() {
    require_root_and_namespaces();
    let manifest = include_str!("../docker/zookeeper-tls.yaml");
    // Its heap is a share of its memory limit: start-zookeeper runs within that limit.
    let memory = MemoryCgroup::new("tls-manifest", Some(manifest_memory_limit(manifest)));
    let sandbox = Sandbox::new("tls-manifest");
    let env = manifest_env(manifest);
    assert!(
        env.contains(&("ZK_TLS_DIR".into(), "/etc/zookeeper/tls".into())),
        "{env:?}"
    );
    // The Secret as the kubelet mounts it, in the sandbox.
    let secret = sandbox.path("secret");
    let ca = common::tls::Authority::new(&sandbox.path("ca"), "zkpod test authority");
    let pair = ca.issue(&["*.zk-hs.default.svc.cluster.local"], 10);
    common::tls::project(&secret, &pair, &ca.cert);

    // The container's command, a block list: `command:`, then `- word` lines.
    let at = manifest
        .find("        command:\n")
        .expect("the container's command");
    let command: Vec<&str> = manifest[at..]
        .lines()
        .skip(1)
        .map_while(|line| line.trim_start().strip_prefix("- "))
        .collect();
    assert_eq!(command[0], "start-zookeeper");
    let mut start = sandbox.command("start-zookeeper");
    start.env("ZK_TLS_DIR", &secret).args(&command[1..]).args([
        "--dry_run",
        "--hostname=zk-0",
        "--domain=zk-hs.default.svc.cluster.local",
    ]);
    let out = memory.run(&start);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(" -Xmx512m -Xms512m "), "{page}");
    for line in [
        "secureClientPort=2181\n",
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n",
        "ssl.clientAuth=need\n",
        "sslQuorum=true\n",
        "ssl.quorum.keyStore.location=/opt/zookeeper/conf/tls/keystore.pem\n",
    ] {
        assert!(page.contains(line), "{line} missing from:\n{page}");
    }
    assert!(!page.contains("\nclientPort="), "{page}");
    assert!(!page.contains("jmxremote"), "{page}");

    // The probes name flags the binary accepts, with the variable set: against a closed port
    // they report the server unhealthy (1), not a usage error (2).
    let closed = free_port().to_string();
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        let words = manifest_list(manifest, probe);
        let mut cmd = sandbox.command("zookeeper-ready");
        cmd.env("ZK_TLS_DIR", &secret)
            .args(&words[1..words.len() - 1])
            .arg(&closed);
        let out = output(&mut cmd);
        assert_eq!(out.status.code(), Some(1), "{probe}: {}", stderr(&out));
    }
}

#[test]
fn tls_in_dynamic_membership_keeps_the_plaintext_port_on_loopback() {
    let sandbox = Sandbox::new("tls-dynamic");
    let secret = sandbox.path("secret");
    let ca = common::tls::Authority::new(&sandbox.path("ca"), "zkpod test authority");
    let pair = ca.issue(&["*.zk-hs.default.svc.cluster.local"], 10);
    common::tls::project(&secret, &pair, &ca.cert);
    let out = output(
        sandbox
            .start()
            .env("ZK_SUPER_PASSWORD", "secret-for-tests")
            .arg(format!("--tls_dir={}", secret.display()))
            .args([
                "--servers=3",
                "--membership=dynamic",
                "--hostname=zk-0",
                "--domain=zk-hs.default.svc.cluster.local",
                "--dry_run",
            ]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(
        page.contains(
            "server.2=zk-1.zk-hs.default.svc.cluster.local:2888:3888:participant;127.0.0.1:12181\n"
        ),
        "{page}"
    );
    assert!(page.contains("secureClientPort=2181\n"), "{page}");
}
