//! `zkpod supervise` against the black-box cases good init programs are held to, as PID 1 of a
//! PID namespace (the way a container runs it) and as an ordinary process.

mod common;

use std::fs;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const TERM: i32 = 15;
const INT: i32 = 2;
const HUP: i32 = 1;
const QUIT: i32 = 3;
const KILL: i32 = 9;
const USR1: i32 = 10;
const USR2: i32 = 12;
const ALRM: i32 = 14;
const WINCH: i32 = 28;

/// `zkpod supervise ARGS` as PID 1 of a new PID namespace.
struct Pid1 {
    unshare: Child,
    /// Its stdout and stderr, read as they come.
    output: Option<Drained>,
}

impl Pid1 {
    fn start(args: &[&str]) -> Pid1 {
        let mut unshare = default_signals(&mut Command::new("unshare"))
            .args(["--pid", "--fork", "--mount-proc", ZKPOD, "supervise"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Some(Drained::start(&mut unshare));
        Pid1 { unshare, output }
    }

    /// The supervisor's pid as seen from here: the process `unshare --fork` started.
    fn supervisor(&self) -> u32 {
        let mut supervisor = None;
        assert!(
            wait_until(Duration::from_secs(10), || {
                supervisor = children(self.unshare.id()).first().copied();
                supervisor.is_some()
            }),
            "no supervisor under unshare"
        );
        supervisor.unwrap()
    }

    /// Wait until the supervisor has started its child.
    fn child_started(&self) {
        let supervisor = self.supervisor();
        assert!(
            wait_until(Duration::from_secs(10), || !children(supervisor).is_empty()),
            "the supervisor started no child"
        );
    }

    /// The supervisor's exit status (unshare passes it on), stdout and stderr. Past the
    /// deadline the test fails, and dropping the Pid1 ends the namespace.
    fn wait(mut self, deadline: Duration) -> (Option<i32>, String, String) {
        let mut status = None;
        let exited = wait_until(deadline, || {
            status = self.unshare.try_wait().unwrap();
            status.is_some()
        });
        let output = self.output.take().unwrap();
        assert!(
            exited,
            "PID 1 did not exit within {deadline:?}; stderr: {}",
            output.stderr_so_far()
        );
        let (out, err) = output.finish();
        (
            status.unwrap().code(),
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }
}

impl Drop for Pid1 {
    fn drop(&mut self) {
        // Killing PID 1 of the namespace ends every process in it.
        if let Ok(None) = self.unshare.try_wait() {
            for supervisor in children(self.unshare.id()) {
                // Not signal(): it asserts, and a panic while unwinding aborts.
                let _ = Command::new("kill")
                    .args(["-9", &supervisor.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
            let _ = self.unshare.wait();
        }
    }
}

fn supervise(args: &[&str]) -> Command {
    let mut cmd = Command::new(ZKPOD);
    cmd.arg("supervise").args(args);
    default_signals(&mut cmd);
    cmd
}

#[test]
fn exit_codes_pass_through() {
    for code in [0, 1, 2, 32, 64, 127, 254, 255] {
        let script = format!("exit {code}");
        let out = output(&mut supervise(&["sh", "-c", &script]));
        assert_eq!(out.status.code(), Some(code), "not PID 1: exit {code}");
    }
}

#[test]
fn a_child_started_without_stdin_reads_dev_null() {
    // Started with descriptor 0 closed (`<&-`), zkpod opens /dev/null there before anything
    // else: its child reads an empty stdin instead of failing on a closed one, and no
    // descriptor zkpod opens for itself takes stdin's place.
    let supervise = supervise(&["sh", "-c", "cat; echo status=$?"]);
    let out = output(
        Command::new("/bin/sh")
            .args(["-c", "exec \"$@\" <&-", "sh"])
            .arg(supervise.get_program())
            .args(supervise.get_args()),
    );
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("status=0\n", "")
    );
}

#[test]
#[ignore = "needs root and namespaces"]
fn exit_codes_pass_through_as_pid_1() {
    require_root_and_namespaces();
    for code in [0, 1, 2, 32, 64, 127, 254, 255] {
        let script = format!("exit {code}");
        let (status, _, err) = Pid1::start(&["sh", "-c", &script]).wait(Duration::from_secs(10));
        assert_eq!(status, Some(code), "PID 1: exit {code}: {err}");
    }
}

#[test]
#[ignore = "needs root and namespaces"]
fn output_of_any_size_passes_through_pid_1() {
    require_root_and_namespaces();
    // More than a pipe holds: nothing waits for a reader.
    let script = "head -c 1048576 /dev/zero | tr '\\0' x; echo done >&2";
    let (status, out, err) = Pid1::start(&["sh", "-c", script]).wait(Duration::from_secs(10));
    assert_eq!(status, Some(0), "{err}");
    assert_eq!((out.len(), out.trim_matches('x')), (1 << 20, ""));
    assert_eq!(err, "done\n");
}

#[test]
fn a_child_killed_by_a_signal_gives_128_plus_n() {
    for (name, n) in [
        ("TERM", TERM),
        ("HUP", HUP),
        ("QUIT", QUIT),
        ("KILL", KILL),
        ("USR1", USR1),
    ] {
        let script = format!("kill -{name} $$; sleep 5");
        let out = output(&mut supervise(&["sh", "-c", &script]));
        assert_eq!(out.status.code(), Some(128 + n), "{name}");
    }
}

#[test]
#[ignore = "needs root and namespaces"]
fn signals_to_pid_1_reach_the_child() {
    require_root_and_namespaces();
    for (name, n) in [
        ("TERM", TERM),
        ("INT", INT),
        ("HUP", HUP),
        ("USR1", USR1),
        ("USR2", USR2),
        ("QUIT", QUIT),
    ] {
        // sleep keeps the default action for every signal.
        let pid1 = Pid1::start(&["sleep", "60"]);
        pid1.child_started();
        signal(pid1.supervisor(), n);
        let (status, _, err) = pid1.wait(Duration::from_secs(10));
        assert_eq!(status, Some(128 + n), "{name} sent to PID 1: {err}");
    }
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_child_sees_each_signal_it_catches_in_order() {
    require_root_and_namespaces();
    let sandbox = Sandbox::new("caught");
    let seen = sandbox.path("seen");
    let script = format!(
        "for s in HUP USR1 USR2 WINCH ALRM; do trap \"echo $s >> {0}\" $s; done; \
         echo ready >> {0}; while :; do sleep 0.05; done",
        seen.display()
    );
    let pid1 = Pid1::start(&["sh", "-c", &script]);
    let read = || fs::read_to_string(&seen).unwrap_or_default();
    assert!(wait_until(Duration::from_secs(10), || read().contains("ready")));
    let sent = [
        ("HUP", HUP),
        ("USR1", USR1),
        ("USR2", USR2),
        ("WINCH", WINCH),
        ("ALRM", ALRM),
    ];
    for (i, (_, n)) in sent.iter().enumerate() {
        signal(pid1.supervisor(), *n);
        assert!(
            wait_until(Duration::from_secs(5), || read().lines().count() == i + 2),
            "signal {n} not seen: {}",
            read()
        );
    }
    let expected: Vec<&str> = std::iter::once("ready")
        .chain(sent.iter().map(|(name, _)| *name))
        .collect();
    assert_eq!(read().lines().collect::<Vec<_>>(), expected);
    signal(pid1.supervisor(), TERM);
    let (status, _, err) = pid1.wait(Duration::from_secs(10));
    assert_eq!(status, Some(128 + TERM), "{err}");
}

/// Zombies among the children of `pid`.
fn zombies(pid: u32) -> Vec<u32> {
    children(pid)
        .into_iter()
        .filter(|c| proc_status(*c, "State").is_some_and(|s| s.starts_with('Z')))
        .collect()
}

#[test]
#[ignore = "needs root and namespaces"]
fn orphans_of_exec_probes_are_reaped_by_pid_1() {
    require_root_and_namespaces();
    let pid1 = Pid1::start(&["sleep", "60"]);
    pid1.child_started();
    // What an exec probe does: enter the container, leave a background process, exit. Each
    // orphan leaves a marker as its last act, so the test knows when all have ended.
    let sandbox = Sandbox::new("orphans");
    for i in 0..20 {
        let marker = sandbox.path(&format!("orphan-{i}"));
        let script = format!("(sleep 0.2; touch {}) & exit 0", marker.display());
        let status = Command::new("nsenter")
            .args(["-t", &pid1.supervisor().to_string(), "-p", "-m"])
            .args(["sh", "-c", &script])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let ended = || (0..20).all(|i| sandbox.path(&format!("orphan-{i}")).exists());
    assert!(
        wait_until(Duration::from_secs(10), ended),
        "the orphans did not end"
    );
    // Every orphan has exited: re-parented to PID 1, each is reaped, none stays a zombie, and
    // the supervisor's only child is the command again.
    assert!(
        wait_until(Duration::from_secs(5), || zombies(pid1.supervisor())
            .is_empty()
            && children(pid1.supervisor()).len() == 1),
        "zombies left: {:?}",
        zombies(pid1.supervisor())
    );
    signal(pid1.supervisor(), TERM);
    assert_eq!(pid1.wait(Duration::from_secs(10)).0, Some(128 + TERM));
}

#[test]
fn orphans_are_reaped_without_being_pid_1() {
    // Not PID 1: the supervisor makes itself the child subreaper, so orphans come to it.
    let sandbox = Sandbox::new("subreaper");
    let orphans_end = sandbox.path("orphans-end");
    let child_ends = sandbox.path("child-ends");
    // Two processes orphaned at once, living until `orphans_end` exists; the child itself
    // until `child_ends` does.
    let until =
        |file: &std::path::Path| format!("until [ -e {} ]; do sleep 0.05; done", file.display());
    let script = format!(
        "({0} &); ({0} &); {1}",
        until(&orphans_end),
        until(&child_ends)
    );
    let mut child = Running::spawn(supervise(&["sh", "-c", &script]).stdin(Stdio::null()));
    let supervisor = child.id();
    assert!(
        wait_until(Duration::from_secs(10), || children(supervisor).len() == 3),
        "the orphans were not re-parented to the supervisor: {:?}",
        children(supervisor)
    );
    // Once they end, they must not stay zombies.
    fs::write(&orphans_end, "").unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || children(supervisor).len() == 1),
        "orphans not reaped: {:?}",
        children(supervisor)
    );
    assert!(zombies(supervisor).is_empty());
    fs::write(&child_ends, "").unwrap();
    assert!(child.0.wait().unwrap().success());
}

#[test]
fn commands_that_cannot_run() {
    let out = output(&mut supervise(&["/no/such/command"]));
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("/no/such/command: command not found"),
        "{}",
        stderr(&out)
    );
    let out = output(&mut supervise(&["/tmp"]));
    assert_eq!(out.status.code(), Some(126));
    assert!(
        stderr(&out).contains("/tmp: permission denied"),
        "{}",
        stderr(&out)
    );
    let out = output(&mut supervise(&[]));
    assert_eq!(out.status.code(), Some(2), "a command is required");
    // A name that would break the one-line message is shown escaped.
    let out = output(&mut supervise(&["--", "a\nb"]));
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        stderr(&out),
        "zkpod supervise: cannot run \"a\\nb\": command not found\n"
    );
}

#[test]
fn stdin_passes_through_and_no_double_dash_is_needed() {
    let mut child = supervise(&["sh"]).stdin(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"exit 3\n").unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(3));
    let out = output(&mut supervise(&["sh", "-c", "exit 5"]));
    assert_eq!(out.status.code(), Some(5));
    let out = output(&mut supervise(&[
        "--",
        "sh",
        "-c",
        "echo $0 $1",
        "-x",
        "--y",
    ]));
    assert_eq!(
        stdout(&out),
        "-x --y\n",
        "arguments after the command are its own"
    );
}

#[test]
fn grace_kills_a_child_that_ignores_term() {
    let sandbox = Sandbox::new("grace");
    let ready = sandbox.path("ignoring-term");
    let script = format!("trap '' TERM; touch {}; sleep 30 & wait", ready.display());
    let mut cmd = supervise(&["--grace", "1", "--", "sh", "-c", &script]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut child = Running::spawn(&mut cmd);
    let supervisor = child.id();
    assert!(wait_until(Duration::from_secs(5), || ready.exists()));
    let sent = Instant::now();
    signal(supervisor, TERM);
    let status = child.0.wait().unwrap();
    let took = sent.elapsed();
    assert_eq!(status.code(), Some(128 + KILL));
    // Not before the grace period; and well before the child's sleep would have ended by
    // itself (30 s): the KILL came from the supervisor.
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "killed after {took:?}, not after the 1 s grace period"
    );
}

/// Exec `args` with TERM blocked and already pending: the signal an orchestrator sends while
/// the container is still starting.
fn with_pending_term(args: &[&str]) -> Command {
    let mut cmd = Command::new(PYTHON);
    cmd.arg("-c")
        .arg(
            "import os, signal, sys\n\
             signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})\n\
             os.kill(os.getpid(), signal.SIGTERM)\n\
             os.execv(sys.argv[1], sys.argv[1:])",
        )
        .args(args);
    cmd
}

#[test]
fn term_before_the_child_starts_means_no_child() {
    let sandbox = Sandbox::new("early-term");
    let marker = sandbox.path("started");
    let touch = format!("touch {}", marker.display());
    let out = output(&mut with_pending_term(&[
        ZKPOD,
        "supervise",
        "sh",
        "-c",
        &touch,
    ]));
    assert_eq!(out.status.code(), Some(128 + TERM), "{}", stderr(&out));
    assert!(!marker.exists(), "the child was started");

    // start-zookeeper too: the configuration is written, the server is never started.
    let start = sandbox.path("bin/start-zookeeper").display().to_string();
    let conf = format!("--conf_dir={}", sandbox.path("conf").display());
    let data = format!("--data_dir={}", sandbox.path("data").display());
    let datalog = format!("--data_log_dir={}", sandbox.path("datalog").display());
    let log = format!("--log_dir={}", sandbox.path("log").display());
    let args = [
        &start, &conf, &data, &datalog, &log, "--", "sh", "-c", &touch,
    ];
    let out = output(&mut with_pending_term(&args));
    assert_eq!(out.status.code(), Some(128 + TERM), "{}", stderr(&out));
    assert!(!marker.exists(), "the server was started");
    assert!(sandbox.path("conf/zoo.cfg").exists());
}

#[test]
fn an_idle_supervisor_is_never_woken() {
    // While its child runs and nothing happens, the supervisor sleeps until something does:
    // it is not scheduled at all (no context switch, no CPU time), as it would be if it
    // looked for exited children or signals now and then.
    let child = Running::spawn(supervise(&["sleep", "30"]).stdin(Stdio::null()));
    let pid = child.id();
    // Its child has become `sleep` (exec'd): the supervisor has heard so, or will.
    let execd = wait_until(Duration::from_secs(10), || {
        children(pid).iter().any(|c| {
            fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|comm| comm == "sleep\n")
        })
    });
    assert!(execd, "no sleep under the supervisor");
    // Context switches and CPU ticks of all its threads, and whether all of them sleep.
    let activity = || {
        let mut switches = 0;
        let mut ticks = 0;
        let mut sleeping = true;
        for task in fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
            let status = fs::read_to_string(task.path().join("status")).unwrap();
            for line in status.lines() {
                if let Some((key, value)) = line.split_once(':') {
                    match key {
                        "voluntary_ctxt_switches" | "nonvoluntary_ctxt_switches" => {
                            switches += value.trim().parse::<u64>().unwrap();
                        }
                        "State" => sleeping &= value.trim().starts_with('S'),
                        _ => {}
                    }
                }
            }
            // utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the name.
            let stat = fs::read_to_string(task.path().join("stat")).unwrap();
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .unwrap()
                .1
                .split_whitespace()
                .collect();
            ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        }
        (switches, ticks, sleeping)
    };
    // Settled after that: asleep, and not woken between two looks.
    let mut last = activity();
    let settled = wait_until(Duration::from_secs(10), || {
        let now = activity();
        let quiet = now.2 && now == last;
        last = now;
        quiet
    });
    assert!(settled, "the supervisor does not settle: {last:?}");
    // Then a second with nothing to do.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(activity(), last, "the idle supervisor was woken");
}

#[test]
fn bad_grace_and_unknown_users_are_refused() {
    let out = output(&mut supervise(&["--grace", "soon", "true"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--grace"), "{}", stderr(&out));
    let sandbox = Sandbox::new("bad-user");
    for user in ["bogus-zkpod-user", "0day", "0:bogus-zkpod-group"] {
        let out = output(&mut supervise(&["--user", user, "true"]));
        assert_eq!(out.status.code(), Some(2), "{user}");
        let message = stderr(&out);
        let message = message
            .strip_prefix("zkpod supervise: ")
            .unwrap_or(&message);
        assert!(message.starts_with("--user: no "), "{user}: {message}");
        // The same mistake, the same status and message under start-zookeeper.
        let out = output(sandbox.start().args(["--user", user, "--", "true"]));
        assert_eq!(out.status.code(), Some(2), "start-zookeeper --user {user}");
        assert_eq!(stderr(&out), format!("start-zookeeper: {message}"));
    }
    // From the variable, the message names the variable.
    let out = output(
        sandbox
            .start()
            .env("ZK_USER", "bogus-zkpod-user")
            .args(["--", "true"]),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "start-zookeeper: ZK_USER: no user named \"bogus-zkpod-user\"\n"
    );
    assert!(
        !sandbox.path("conf").exists(),
        "a bad --user writes nothing"
    );
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_failed_privilege_drop_is_reported_as_such() {
    require_root_and_namespaces();
    // In a user namespace that maps only root, zkpod is root but cannot switch to uid 1000:
    // setgroups(2) is denied there. That is no "command not found" and no "not executable".
    let out = output(default_signals(&mut Command::new("unshare")).args([
        "--user",
        "--map-root-user",
        ZKPOD,
        "supervise",
        "--user",
        "1000:1000",
        "--",
        "true",
    ]));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot run true as uid 1000 gid 1000: dropping privileges failed"),
        "{err}"
    );
    assert!(
        !err.contains("not executable") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
#[ignore = "needs root and namespaces"]
fn a_signal_that_cannot_be_passed_on_is_logged() {
    require_root_and_namespaces();
    // The supervisor runs as nobody; its child becomes root through a set-user-ID copy of
    // python and so cannot be signalled by it (EPERM). That is logged, not ignored.
    let sandbox = Sandbox::new("kill-eperm");
    let python = sandbox.path("python-setuid");
    fs::copy(fs::canonicalize(PYTHON).unwrap(), &python).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&python, fs::Permissions::from_mode(0o4755)).unwrap();
    let rooted = sandbox.path("rooted");
    let script = format!(
        "import os, time\nos.setuid(0)\nopen({:?}, 'w').close()\ntime.sleep(30)",
        rooted.display().to_string()
    );
    let log = sandbox.path("supervisor.log");
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        ZKPOD,
        "supervise",
    ])
    .arg(&python)
    .args(["-c", &script])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(fs::File::create(&log).unwrap());
    // setpriv execs zkpod: the process started is the supervisor.
    let mut supervisor = Running::spawn(default_signals(&mut cmd));
    assert!(
        wait_until(Duration::from_secs(10), || rooted.exists()),
        "the child did not become root"
    );
    let python_pid = *children(supervisor.id()).first().expect("the python child");
    signal(supervisor.id(), USR1);
    let expected =
        format!("cannot pass signal {USR1} to pid {python_pid}: Operation not permitted");
    let logged = wait_until(Duration::from_secs(5), || {
        fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(&expected)
    });
    signal(python_pid, KILL);
    assert_eq!(supervisor.0.wait().unwrap().code(), Some(128 + KILL));
    assert!(logged, "{}", fs::read_to_string(&log).unwrap_or_default());
}

#[test]
#[ignore = "needs root and namespaces"]
fn the_signal_tests_pass_from_a_background_job() {
    require_root_and_namespaces();
    // A background job of a shell starts with SIGINT and SIGQUIT ignored, and so does every
    // process it starts: the harness must give the commands under test their defaults back.
    let ignored =
        output(Command::new("sh").args(["-c", "grep SigIgn /proc/self/status & wait $!"]));
    let mask =
        u64::from_str_radix(stdout(&ignored).split_whitespace().nth(1).unwrap(), 16).unwrap();
    assert_eq!(
        mask & 0b110,
        0b110,
        "INT and QUIT are ignored in a background job"
    );
    let this_test_binary = std::env::current_exe().unwrap();
    let out = run(
        Command::new("sh")
            .arg("-c")
            .arg(
                "\"$0\" --exact --include-ignored signals_to_pid_1_reach_the_child \
                 a_child_killed_by_a_signal_gives_128_plus_n & wait $!",
            )
            .arg(this_test_binary),
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("2 passed"), "{}", stdout(&out));
}

#[test]
#[ignore = "needs root and namespaces"]
fn hup_restarts_the_child_in_place_with_restart_on_hup() {
    require_root_and_namespaces();
    let sandbox = Sandbox::new("restart-on-hup");
    let starts = sandbox.path("starts");
    // Each start appends its pid; a TERM ends it with 143.
    let script = format!(
        "echo $$ >> {}; trap 'exit 143' TERM; sleep 60 & wait",
        starts.display()
    );
    let pid1 = Pid1::start(&["--restart_on_hup", "--", "sh", "-c", &script]);
    pid1.child_started();
    let supervisor = pid1.supervisor();
    let started = |n: usize| {
        wait_until(Duration::from_secs(10), || {
            fs::read_to_string(&starts).is_ok_and(|s| s.lines().count() == n)
        })
    };
    assert!(started(1));
    // HUP: the child is stopped and started again, and PID 1 stays.
    signal(supervisor, HUP);
    assert!(
        started(2),
        "no second start: {:?}",
        fs::read_to_string(&starts)
    );
    signal(supervisor, HUP);
    assert!(
        started(3),
        "no third start: {:?}",
        fs::read_to_string(&starts)
    );
    let pids = fs::read_to_string(&starts).unwrap();
    let pids: Vec<&str> = pids.lines().collect();
    assert!(pids[0] != pids[1] && pids[1] != pids[2], "{pids:?}");
    // TERM still ends it all, with the child's status.
    signal(supervisor, TERM);
    let (status, _, err) = pid1.wait(Duration::from_secs(10));
    assert_eq!(status, Some(143), "{err}");
    assert!(err.contains("HUP: restarting"), "{err}");
}

#[test]
fn without_restart_on_hup_a_hup_is_passed_on() {
    let out = output(&mut supervise(&[
        "sh",
        "-c",
        "kill -HUP $PPID; sleep 1; exit 0",
    ]));
    // The supervisor is not PID 1 here: it passes HUP to sh, which dies of it.
    assert_eq!(out.status.code(), Some(128 + HUP), "{}", stderr(&out));
}
