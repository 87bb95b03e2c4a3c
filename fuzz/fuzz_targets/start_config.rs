//! start-zookeeper's flags and environment, whatever their bytes, through settings, identity
//! and rendering: either refused, or a zoo.cfg that says exactly what the settings say. No
//! input may add a line or a key to zoo.cfg, and every id stays within ZooKeeper's 1-255.
#![no_main]

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use zkpod::cli::values::{Origin, Value};
use zkpod::config::flags::{self, FLAGS};
use zkpod::config::identity::{HostNames, Identity};
use zkpod::config::render;
use zkpod::config::settings::Settings;

#[derive(Arbitrary, Debug)]
struct Input {
    /// (which flag, its value); a flag index past the table gives a free-form argument.
    args: Vec<(u8, Vec<u8>)>,
    /// (which flag's variable, its value)
    env: Vec<(u8, Vec<u8>)>,
    /// The machine's host name and domain, as discovery would give them.
    host: (String, String),
}

/// zoo.cfg's keys that are always there, from the built-in template.
const ALWAYS: [&str; 14] = [
    "dataDir",
    "dataLogDir",
    "tickTime",
    "initLimit",
    "syncLimit",
    "maxClientCnxns",
    "minSessionTimeout",
    "maxSessionTimeout",
    "autopurge.snapRetainCount",
    "autopurge.purgeInterval",
    "4lw.commands.whitelist",
    "quorumListenOnAllIPs",
    "reconfigEnabled",
    "admin.enableServer",
];

/// zoo.cfg's keys with --tls_dir, in place of clientPort.
const TLS_KEYS: [&str; 15] = [
    "serverCnxnFactory",
    "secureClientPort",
    "ssl.clientAuth",
    "ssl.keyStore.location",
    "ssl.keyStore.type",
    "ssl.trustStore.location",
    "ssl.trustStore.type",
    "client.certReload",
    "sslQuorum",
    "sslQuorumReloadCertFiles",
    "ssl.quorum.clientAuth",
    "ssl.quorum.keyStore.location",
    "ssl.quorum.keyStore.type",
    "ssl.quorum.trustStore.location",
    "ssl.quorum.trustStore.type",
];

fuzz_target!(|input: Input| {
    let mut argv: Vec<OsString> = vec!["start-zookeeper".into()];
    for (index, value) in input.args {
        match FLAGS.get(index as usize) {
            Some(flag) => {
                let mut arg = format!("--{}=", flag.name).into_bytes();
                arg.extend(value);
                argv.push(OsString::from_vec(arg));
            }
            None => argv.push(OsString::from_vec(value)),
        }
    }
    let mut vars: Vec<(&str, OsString)> = Vec::new();
    for (index, value) in input.env {
        let names: Vec<&str> = FLAGS
            .iter()
            .flat_map(|f| f.env.iter().copied())
            .chain(["ZK_SUPER_PASSWORD"])
            .collect();
        let name = names[index as usize % names.len()];
        vars.push((name, OsString::from_vec(value)));
    }
    let env = |name: &str| {
        vars.iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    };
    thread_local! {
        static COMMAND: std::cell::RefCell<clap::Command> = std::cell::RefCell::new(flags::command());
    }
    let Ok(matches) = COMMAND.with(|cmd| cmd.borrow_mut().try_get_matches_from_mut(argv)) else {
        return;
    };
    let Ok(parsed) = flags::parse(&matches, &env, None) else {
        return;
    };
    let Ok(mut settings) = Settings::new(parsed, &env) else {
        return;
    };
    // The built-in templates only: nothing here reads the disk.
    settings.template_dir = None;
    let (short, domain) = input.host;
    let names = || {
        Ok(HostNames {
            short: settings.names.hostname.clone().unwrap_or(short),
            domain: settings.names.domain.clone().unwrap_or(domain),
        })
    };
    let Ok(identity) = Identity::resolve(&settings.ensemble, names) else {
        return;
    };

    // Every id within 1-255, each once.
    let ids: BTreeSet<u32> = identity.members.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), identity.members.len());
    assert!(ids.iter().all(|id| (1..=255).contains(id)), "{ids:?}");
    if let Some(myid) = identity.myid {
        // In dynamic membership a pod past the first ensemble is no member yet.
        assert!(ids.contains(&myid) || settings.ensemble.dynamic);
        assert!((1..=255).contains(&myid), "{myid}");
    }
    // The grace period survives the trip to the supervisor's command line.
    if let Some(grace) = settings.launch.grace {
        let text = grace.as_secs_f64().to_string();
        let value = Value {
            origin: Origin::Flag("grace"),
            text: &text,
        };
        assert!(value.seconds().is_ok(), "{text}");
    }

    // The heap as given: a share's size depends on the machine's memory limit.
    let heap = settings.launch.heap.value.to_string();
    let files = render::render(&settings, &identity, &render::Servers::Flags, &heap)
        .expect("valid settings always render");
    let cfg = &files.zoo_cfg.contents;
    let mut expected: BTreeSet<String> = ALWAYS.iter().map(|k| k.to_string()).collect();
    // The client port: in the clear, or with --tls_dir the secure one and the TLS keys.
    match settings.tls {
        None => {
            expected.insert("clientPort".into());
        }
        Some(_) => expected.extend(TLS_KEYS.iter().map(|k| k.to_string())),
    }
    if settings.admin.server.is_some() {
        expected.extend(["admin.serverAddress".into(), "admin.serverPort".into()]);
    }
    if settings.admin.prometheus_port.is_some() {
        expected.extend([
            "metricsProvider.className".into(),
            "metricsProvider.httpPort".into(),
        ]);
    }
    if identity.observer {
        expected.insert("peerType".into());
    }
    if settings.ensemble.dynamic {
        expected.insert("standaloneEnabled".into());
    }
    expected.extend(settings.policy.extra.iter().map(|e| e.key.clone()));
    expected.extend(identity.members.iter().map(|m| format!("server.{}", m.id)));

    let mut seen = BTreeSet::new();
    let mut lines = 0;
    for line in cfg.lines().filter(|l| !l.starts_with('#')) {
        lines += 1;
        assert!(!line.contains('\\'), "an escape in {line:?}");
        assert!(!line.starts_with([' ', '\t', '!']), "{line:?}");
        let (key, value) = line.split_once('=').expect("key=value");
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')),
            "{key:?}"
        );
        assert_eq!(value.trim(), value, "ZooKeeper trims {line:?}");
        assert!(seen.insert(key.to_owned()), "{key} twice");
        if settings.ensemble.dynamic && key.starts_with("server.") {
            assert!(
                value.ends_with(&format!(";{}", settings.ports.client)),
                "{line:?}"
            );
        }
        if key == "dataDir" {
            assert!(value.is_ascii());
            assert_eq!(value, settings.dirs.data.to_str().unwrap());
        }
    }
    assert_eq!(seen, expected, "{cfg}");
    assert_eq!(lines, expected.len());
    assert!(cfg.ends_with('\n'));
});
