//! start-zookeeper's files in dynamic membership, through the built binary: where zoo.cfg
//! lives, what it says, how the password reaches the server, and the refusals.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use common::*;

const PASSWORD: &str = "pa55-for-tests";
/// base64(sha1("super:pa55-for-tests")), as ZooKeeper's DigestAuthenticationProvider makes it.
fn digest() -> String {
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("printf 'super:{PASSWORD}' | openssl dgst -sha1 -binary | base64"),
        ])
        .output()
        .unwrap();
    let digest = stdout(&out).trim().to_owned();
    // 20 bytes of SHA-1 are 28 characters of base64.
    assert_eq!(digest.len(), 28, "openssl dgst: {out:?}");
    digest
}

/// start-zookeeper in dynamic membership for pod `host` of a first ensemble of three.
fn dynamic(sandbox: &Sandbox, host: &str) -> std::process::Command {
    let mut cmd = sandbox.start();
    cmd.args(["--membership=dynamic", "--servers=3", "--domain=zk-hs"])
        .arg(format!("--hostname={host}"))
        .env("ZK_SUPER_PASSWORD", PASSWORD);
    cmd
}

#[test]
fn the_first_ensemble_is_written_on_the_data_volume() {
    let sandbox = Sandbox::new("dyn-first");
    let out = output(dynamic(&sandbox, "zk-1").args(["--", "true"]));
    assert!(out.status.success(), "{}", stderr(&out));
    // ZooKeeper rewrites zoo.cfg and writes the committed membership beside it: the volume.
    assert!(!sandbox.path("conf/zoo.cfg").exists());
    let cfg = sandbox.read("data/zoo.cfg");
    for line in [
        "reconfigEnabled=true\n",
        "standaloneEnabled=false\n",
        "server.1=zk-0.zk-hs:2888:3888:participant;2181\n",
        "server.2=zk-1.zk-hs:2888:3888:participant;2181\n",
        "server.3=zk-2.zk-hs:2888:3888:participant;2181\n",
    ] {
        assert!(cfg.contains(line), "{line} missing from:\n{cfg}");
    }
    assert_eq!(sandbox.read("data/myid"), "2\n");
}

#[test]
fn the_password_reaches_the_server_through_a_private_file_only() {
    let sandbox = Sandbox::new("dyn-secret");
    let digest = digest();
    let out = output(dynamic(&sandbox, "zk-0").args(["--", "true"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = sandbox.path("conf/super-digest.args");
    assert_eq!(
        sandbox.read("conf/super-digest.args"),
        format!("-Dzookeeper.DigestAuthenticationProvider.superDigest=super:{digest}\n")
    );
    let mode = fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Neither the password nor its digest in the logs, the dry run or any other file.
    let dry = output(dynamic(&sandbox, "zk-0").arg("--dry_run"));
    assert!(dry.status.success());
    let shown = format!("{}{}{}", stderr(&out), stdout(&dry), stderr(&dry));
    assert!(shown.contains("super-digest.args <==\n(the super user's password digest"));
    for file in ["data/zoo.cfg", "conf/java.env", "conf/log4j.properties"] {
        let text = sandbox.read(file);
        assert!(
            !text.contains(PASSWORD) && !text.contains(&digest),
            "{file}"
        );
    }
    assert!(
        !shown.contains(PASSWORD) && !shown.contains(&digest),
        "{shown}"
    );
}

#[test]
fn the_java_command_line_names_the_file_not_the_password() {
    let sandbox = Sandbox::new("dyn-cmdline");
    // A java that prints its arguments: what ps would show.
    let java_home = sandbox.path("jdk");
    fs::create_dir_all(java_home.join("bin")).unwrap();
    fs::write(java_home.join("bin/java"), "#!/bin/sh\necho \"$@\"\n").unwrap();
    fs::set_permissions(
        java_home.join("bin/java"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let out = output(
        dynamic(&sandbox, "zk-0")
            .env("JAVA_HOME", &java_home)
            .arg("--dry_run"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let command = printed.split("==> command <==\n").nth(1).unwrap();
    let conf = sandbox.path("conf").display().to_string();
    assert!(
        command.contains(&format!("@{conf}/super-digest.args")),
        "{command}"
    );
    assert!(!command.contains(&digest()) && !command.contains(PASSWORD));
    let data = sandbox.path("data").display().to_string();
    assert!(
        command.trim_end().ends_with(&format!("{data}/zoo.cfg")),
        "{command}"
    );
}

#[test]
fn a_member_with_history_starts_from_the_committed_membership() {
    let sandbox = Sandbox::new("dyn-committed");
    fs::create_dir_all(sandbox.path("data/version-2")).unwrap();
    fs::write(sandbox.path("data/version-2/log.100000001"), "").unwrap();
    fs::write(sandbox.path("data/myid"), "5\n").unwrap();
    let committed = "server.1=zk-0.zk-hs:2888:3888:participant;0.0.0.0:2181\n\
                     server.5=zk-4.zk-hs:2888:3888:participant;0.0.0.0:2181\n";
    fs::write(sandbox.path("data/zoo.cfg.dynamic.100000007"), committed).unwrap();
    fs::write(
        sandbox.path("data/zoo.cfg.dynamic.100000003"),
        "server.1=old:1:2\n",
    )
    .unwrap();
    // zk-4 is outside --servers=3: the committed membership decides.
    let out = output(dynamic(&sandbox, "zk-4").args(["--", "true"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let cfg = sandbox.read("data/zoo.cfg");
    let file = sandbox.path("data/zoo.cfg.dynamic.100000007");
    assert!(
        cfg.contains(&format!("dynamicConfigFile={}\n", file.display())),
        "{cfg}"
    );
    assert!(!cfg.contains("server."), "{cfg}");
    assert!(stderr(&out).contains("membership the ensemble committed (version 100000007)"));
}

#[test]
fn static_membership_is_unchanged_and_refuses_pods_past_the_ensemble() {
    let sandbox = Sandbox::new("dyn-static");
    let out = output(sandbox.start().args([
        "--servers=3",
        "--hostname=zk-3",
        "--domain=zk-hs",
        "--",
        "true",
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("outside the ensemble"),
        "{}",
        stderr(&out)
    );
    // Dynamic: a pod past the first ensemble gets its myid (and joins once it starts).
    let dry = output(dynamic(&sandbox, "zk-3").arg("--dry_run"));
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(stdout(&dry).contains("myid <==\n4\n"));
}

#[test]
fn dynamic_membership_refusals_are_one_line_and_change_nothing() {
    let sandbox = Sandbox::new("dyn-refusals");
    let before = sandbox.snapshot();
    let no_password = |cmd: &mut std::process::Command| {
        cmd.env_remove("ZK_SUPER_PASSWORD");
    };
    type Case = (Vec<&'static str>, bool, &'static str);
    let cases: Vec<Case> = vec![
        (vec![], true, "needs the super user's password"),
        (vec!["--extra=reconfigEnabled=false"], false, "--extra"),
        (vec!["--extra=standaloneEnabled=true"], false, "--extra"),
        (vec!["--membership=elastic"], false, "--membership"),
        (
            vec!["--super_password_file=/nonexistent/secret"],
            true,
            "--super_password_file",
        ),
        (
            vec!["--super_password_file=/dev/zero"],
            true,
            "over 4096 bytes",
        ),
    ];
    for (args, without_password, named) in cases {
        let mut cmd = dynamic(&sandbox, "zk-0");
        if without_password {
            no_password(&mut cmd);
        }
        let out = output(cmd.args(&args).args(["--", "true"]));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(named), "{args:?}: {err}");
        assert!(!err.contains(PASSWORD));
    }
    assert_eq!(sandbox.snapshot(), before);
}

#[test]
fn the_password_file_is_read_whole_without_its_newline() {
    let sandbox = Sandbox::new("dyn-file");
    fs::write(sandbox.path("secret"), format!("{PASSWORD}\n")).unwrap();
    let mut cmd = dynamic(&sandbox, "zk-0");
    cmd.env_remove("ZK_SUPER_PASSWORD")
        .arg(format!(
            "--super_password_file={}",
            sandbox.path("secret").display()
        ))
        .args(["--", "true"]);
    let out = output(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sandbox.read("conf/super-digest.args").contains(&digest()));
}

#[test]
fn leave_reads_the_variables_and_fails_within_its_deadline_when_no_member_serves() {
    // As the manifest's preStop hook runs it: every setting from ZK_* variables.
    let mut leave = std::process::Command::new(ZKPOD);
    leave
        .args([
            "leave",
            "--timeout=2",
            "--hostname=zk-0",
            "--domain=invalid",
        ])
        .env_clear()
        .env("ZK_SUPER_PASSWORD", PASSWORD)
        .env("ZK_MEMBERSHIP", "dynamic")
        .env("ZK_SERVERS", "3")
        .env("ZK_CLIENT_PORT", free_port().to_string());
    let started = std::time::Instant::now();
    let out = output(&mut leave);
    // It gives up at its deadline rather than hanging: a bound of several times the 2 s.
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("zkpod leave: cannot leave"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // In static membership there is nothing to leave: a usage error.
    let out = output(
        std::process::Command::new(ZKPOD)
            .args(["leave", "--hostname=zk-0"])
            .env_clear(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--membership=dynamic"));
}
