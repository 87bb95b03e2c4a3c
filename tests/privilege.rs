//! Dropping privileges for the child (`--user`): uid, gid, supplementary groups and HOME for
//! every form the flag takes, and the refusals.

mod common;

use std::fs;
use std::process::Command;
use std::sync::Once;

use common::*;

const USER: &str = "zkpodtest";
const EXTRA_GROUP: &str = "zkpodtest-extra";

/// A user with a supplementary group, created once (needs root).
fn test_user() {
    static CREATE: Once = Once::new();
    CREATE.call_once(|| {
        let exists = |db: &str, name: &str| {
            Command::new("getent")
                .args([db, name])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !exists("group", EXTRA_GROUP) {
            let status = Command::new("groupadd").arg(EXTRA_GROUP).status().unwrap();
            assert!(status.success(), "groupadd {EXTRA_GROUP}");
        }
        if !exists("passwd", USER) {
            let status = Command::new("useradd")
                .args(["--user-group", "--groups", EXTRA_GROUP, "--home-dir"])
                .arg(format!("/home/{USER}"))
                .args(["--no-create-home", USER])
                .status()
                .unwrap();
            assert!(status.success(), "useradd {USER}");
        }
    });
}

/// `id -u`, `id -g`, `id -G` and HOME of a child started with `--user spec`.
fn identity_under(spec: &str) -> (String, String, String, String) {
    let out = output(
        Command::new(ZKPOD)
            .args(["supervise", "--user", spec, "--"])
            .args(["sh", "-c", "id -u; id -g; id -G; echo \"$HOME\""])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", "/from-the-parent"),
    );
    assert!(out.status.success(), "--user {spec:?}: {}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    (
        lines[0].into(),
        lines[1].into(),
        lines[2].into(),
        lines[3].into(),
    )
}

fn id(args: &[&str]) -> String {
    stdout(&output(Command::new("id").args(args)))
        .trim()
        .to_string()
}

fn owned(a: &str, b: &str, c: &str, d: &str) -> (String, String, String, String) {
    (a.into(), b.into(), c.into(), d.into())
}

#[test]
#[ignore = "needs root and namespaces"]
fn the_gosu_matrix() {
    require_root_and_namespaces();
    test_user();
    let uid = id(&["-u", USER]);
    let gid = id(&["-g", USER]);
    let groups = id(&["-G", USER]);
    assert!(
        groups.split(' ').count() >= 2,
        "{USER} has no supplementary group"
    );
    let root_groups = id(&["-G", "root"]);
    let home = format!("/home/{USER}");

    let cases = [
        ("0", owned("0", "0", &root_groups, "/root")),
        ("0:0", owned("0", "0", "0", "/root")),
        ("root", owned("0", "0", &root_groups, "/root")),
        (USER, owned(&uid, &gid, &groups, &home)),
        (&uid, owned(&uid, &gid, &groups, &home)),
        (&format!("0:{gid}"), owned("0", &gid, &gid, "/root")),
        (&format!("{uid}:root"), owned(&uid, "0", "0", &home)),
        (&format!("{USER}:{EXTRA_GROUP}"), {
            let extra = stdout(&output(Command::new("getent").args(["group", EXTRA_GROUP])));
            let extra_gid = extra.split(':').nth(2).unwrap().to_string();
            owned(&uid, &extra_gid, &extra_gid, &home)
        }),
        // A uid with no passwd entry (random UIDs): the root group and HOME=/.
        ("4242", owned("4242", "0", "0", "/")),
    ];
    for (spec, expected) in cases {
        assert_eq!(identity_under(spec), expected, "--user {spec}");
    }
    // The current user (root), named or implied, changes nothing; HOME is left as it was.
    for spec in ["", ":0"] {
        let (u, g, _, home) = identity_under(spec);
        assert_eq!((u.as_str(), g.as_str()), ("0", "0"), "--user {spec:?}");
        assert_eq!(home, "/from-the-parent", "--user {spec:?}");
    }
}

#[test]
#[ignore = "needs root and namespaces"]
fn without_root_no_switch_and_no_chown() {
    require_root_and_namespaces();
    let sandbox = Sandbox::new("non-root");
    // A configuration directory nobody may write, and a data directory they may not.
    for dir in ["conf", "data"] {
        fs::create_dir(sandbox.path(dir)).unwrap();
    }
    let status = Command::new("chown")
        .arg("65534:65534")
        .arg(sandbox.path("conf"))
        .status()
        .unwrap();
    assert!(status.success());
    let as_nobody = |extra: &[&str]| {
        let mut cmd = Command::new(ZKPOD);
        cmd.args(["supervise", "--user", "65534:65534", "--"])
            .arg(sandbox.path("bin/start-zookeeper"))
            .arg(format!("--conf_dir={}", sandbox.path("conf").display()))
            .arg(format!("--data_dir={}", sandbox.path("data").display()))
            .arg(format!(
                "--data_log_dir={}",
                sandbox.path("conf/datalog").display()
            ))
            .arg(format!("--log_dir={}", sandbox.path("conf/log").display()))
            .args(extra)
            .args(["--", "true"]);
        output(&mut cmd)
    };

    let out = as_nobody(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("/data is not writable by uid 65534"), "{err}");
    assert!(
        !sandbox.path("conf/zoo.cfg").exists(),
        "nothing written after the refusal"
    );

    let out = as_nobody(&["--user=root"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("switching users needs root"),
        "{}",
        stderr(&out)
    );

    // Naming oneself is fine; the data directory is then left to its owner.
    let status = Command::new("chown")
        .arg("65534:65534")
        .arg(sandbox.path("data"))
        .status()
        .unwrap();
    assert!(status.success());
    let out = as_nobody(&["--user=65534:65534"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sandbox.path("conf/zoo.cfg").exists());
}
