//! `start-zookeeper`: write this pod's ZooKeeper configuration, then run the server.
//!
//! The phases, in order, each in its own module: flags and environment → `Settings` → `plan`
//! (identity, rendered files, myid, command line; nothing written) → `apply` (directories,
//! atomic writes, unfinished snapshots moved aside, owners) → exec into `zkpod supervise`,
//! which runs the server as PID 1.

pub mod apply;
pub mod dynamic;
pub mod launch;
pub mod plan;
pub mod unfinished;

use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use clap::ArgMatches;

use crate::cli::error::Result;
use crate::cli::values::Origin;
use crate::cli::{log, output};
use crate::config::flags;
use crate::config::identity::{HostNames, Identity};
use crate::config::render::Servers;
use crate::config::settings::Settings;
use crate::empty_disk::{self, Waited};
use crate::pid1::Child;
use dynamic::Decision;

pub use flags::command;

pub fn run(matches: &ArgMatches) -> Result<u8> {
    // Signals are blocked already (the applet table says so): a TERM that comes while the
    // configuration is written waits, and then the server is never started.
    let env = |name: &str| std::env::var_os(name);
    let flags = flags::parse(matches, &env, None)?;
    // A password file, TLS directory or heap given on the command line goes on to PID 1's
    // environment, where the commands run later in the pod find it (`config::running`): it
    // wins over a variable of the same name there, as the flag did. (java's -Xmx has only
    // the size a share of the memory limit came to.)
    let from_flag = |given: Option<(Origin, OsString)>, var: &'static str| {
        given
            .filter(|(origin, _)| matches!(origin, Origin::Flag(_)))
            .map(|(_, value)| (var, value))
    };
    let path = |given: &Option<flags::Given<PathBuf>>| {
        given.as_ref().map(|g| (g.origin, g.value.clone().into()))
    };
    let heap = flags
        .heap
        .as_ref()
        .map(|heap| (heap.origin, heap.value.to_string().into()));
    let for_pid1: Vec<(&str, OsString)> = [
        from_flag(path(&flags.super_password_file), "ZK_SUPER_PASSWORD_FILE"),
        from_flag(path(&flags.tls_dir), crate::tls::DIR_VAR),
        from_flag(heap, "ZK_HEAP_SIZE"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let settings = Settings::new(flags, &env)?;
    log::set_level(settings.log_level);
    let names = &settings.names;
    let discover = || HostNames::discover(names.hostname.as_deref(), names.domain.as_deref());
    let identity = Identity::resolve(&settings.ensemble, discover)?;
    // The TLS pair is checked before anything else happens, dynamic membership's questions to
    // the ensemble included: a pair that cannot work stops the start here.
    let tls = match &settings.tls {
        None => None,
        Some(files) => {
            let name = identity.server_name(discover)?;
            Some(plan::tls_plan(files, &name)?)
        }
    };
    let client_tls = tls.as_ref().map(|t| t.client.clone()).unwrap_or_default();
    let own_server = settings.launch.command.is_empty();
    let servers = match settings.ensemble.dynamic {
        false => Servers::Flags,
        // Which members: from the data volume, else from the running ensemble (a dry run, or
        // a command of the operator's own, asks nobody).
        true => {
            let ask = own_server && !settings.dry_run;
            match dynamic::decide(&settings, &identity, ask, &client_tls)? {
                Decision::Start(servers) => servers,
                Decision::Stop(status) => return Ok(status),
            }
        }
    };
    let plan = plan::plan(&settings, &identity, &servers, tls)?;
    if let Some(warning) = &plan.heap.warning {
        crate::warn!("{warning}");
    }
    if settings.dry_run {
        output::print(plan.show())?;
        return Ok(0);
    }
    apply::apply(&plan)?;
    if plan.unguarded_empty_start {
        crate::warn!("{}", empty_disk::UNGUARDED);
    }
    if let Some(guard) = &plan.guard {
        match empty_disk::wait(guard.myid, &guard.others, guard.client_port, &guard.tls)? {
            Waited::Stopped(status) => return Ok(status),
            Waited::Join => crate::info!("starting, to sync from the ensemble's leader"),
            Waited::New => {}
        }
    }
    // Operators read the configuration in `kubectl logs`, as the original script printed it.
    eprint!("{}", plan.files.zoo_cfg.contents);
    if settings.ensemble.dynamic && own_server {
        spawn_beside("join", matches);
    }
    if settings.tls.is_some() && own_server {
        spawn_beside("renew", matches);
    }
    crate::info!("starting {}", plan.command_line());
    let user = settings
        .launch
        .user
        .as_ref()
        .map(|user| user.value.as_str());
    become_supervisor(
        Child {
            user: plan.user,
            ..plan.child
        },
        user,
        &for_pid1,
    )
}

/// Start `zkpod COMMAND` with this command's flags, beside the server: `join` waits for the
/// server to sync, then has the ensemble add it if it is no member yet; `renew` takes up
/// renewed certificates. Each is a process of its own (PID 1 keeps none of its memory) and
/// ends with PID 1 (parent-death signal).
#[allow(unsafe_code)] // pre_exec
fn spawn_beside(command: &str, matches: &ArgMatches) {
    use std::os::unix::process::CommandExt as _;
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    let mut beside = std::process::Command::new(exe);
    beside.arg(command).args(flags::given_flags(matches));
    // SAFETY: prctl is async-signal-safe; nothing else runs in the child before exec.
    unsafe {
        beside.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                .map_err(std::io::Error::from)
        });
    }
    match beside.spawn() {
        Ok(child) => crate::debug!("zkpod {command} runs as process {}", child.id()),
        Err(err) => crate::warn!("cannot start zkpod {command} ({err}): run it by hand"),
    }
}

/// Replace this process with `zkpod supervise … -- COMMAND`: PID 1 then keeps none of the
/// start-up's code, heap or templates while it idles for the life of the pod. Blocked and
/// pending signals survive execve, so a TERM that came during start-up still stops the
/// server from starting. `--user` goes across as the operator wrote it (the supervisor resolves
/// it again, supplementary groups included). `vars` join the environment, replacing any of the
/// same name. Where exec fails (no /proc), supervise from here, as `child.user`.
fn become_supervisor(child: Child, user: Option<&str>, vars: &[(&str, OsString)]) -> Result<u8> {
    let mut args: Vec<OsString> = vec!["zkpod".into(), "supervise".into()];
    if let Some(grace) = child.grace {
        args.push("--grace".into());
        args.push(grace.as_secs_f64().to_string().into());
    }
    if child.restart_on_hup {
        args.push("--restart_on_hup".into());
    }
    if let Some(user) = user {
        args.push("--user".into());
        args.push(user.into());
    }
    args.push("--".into());
    args.push(child.program.clone());
    args.extend(child.args.iter().cloned());
    let c_args: std::result::Result<Vec<CString>, _> =
        args.iter().map(|a| CString::new(a.as_bytes())).collect();
    // The binary by its own name (ps shows "zkpod"), or through /proc if that is gone.
    let exe = std::env::current_exe()
        .ok()
        .filter(|path| path.is_file())
        .and_then(|path| CString::new(path.into_os_string().into_vec()).ok())
        .unwrap_or_else(|| c"/proc/self/exe".to_owned());
    let mut env: Vec<OsString> = std::env::vars_os()
        .filter(|(name, _)| !vars.iter().any(|(var, _)| name == var))
        .map(|(name, value)| {
            let mut pair = name;
            pair.push("=");
            pair.push(value);
            pair
        })
        .collect();
    for (var, value) in vars {
        let mut pair = OsString::from(format!("{var}="));
        pair.push(value);
        env.push(pair);
    }
    let c_env: std::result::Result<Vec<CString>, _> =
        env.iter().map(|a| CString::new(a.as_bytes())).collect();
    if let (Ok(c_args), Ok(c_env)) = (c_args, c_env) {
        // Raw execve: std's exec would unblock the signals first.
        let err = nix::unistd::execve(&exe, &c_args, &c_env).unwrap_err();
        crate::warn!("cannot re-execute as the supervisor ({err}); supervising from here");
    }
    crate::pid1::supervise(child)
}
