//! The configuration files, rendered from the templates in `templates/` (built into the
//! binary) or from the operator's own `--template_dir`.
//!
//! The templates see the settings by group, as `start::settings` defines them: `ports.client`,
//! `dirs.data`, `tuning.tick_time`, `admin.server.port`, `policy.four_letter_words`,
//! `policy.extra` (key, value), `log_level.log4j`, `launch.heap`; and this pod's place in the
//! ensemble: `myid`, `observer`, `servers` (id, host, observer). In dynamic membership,
//! `membership` is "dynamic" and the members come as `dynamic_config_file` (the membership
//! ZooKeeper committed) or as `server_lines`, whole.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::identity::Identity;
use super::settings::Settings;
use crate::cli::error::{Error, Result};
use crate::cli::quote::quote;
use crate::zk::members::Config;

/// A file to write: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: PathBuf,
    pub contents: String,
}

/// The files in the configuration directory, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFiles {
    pub zoo_cfg: File,
    pub log4j: File,
    pub logback: File,
    pub java_env: File,
}

impl ConfigFiles {
    pub fn all(&self) -> [&File; 4] {
        [&self.zoo_cfg, &self.log4j, &self.logback, &self.java_env]
    }
}

/// Where the server's members come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Servers {
    /// The flags: `--servers` (or `--ensemble`) and `--observers`.
    Flags,
    /// Dynamic membership: the membership ZooKeeper committed, in this file.
    Committed(PathBuf),
    /// Dynamic membership: these members (the running ensemble's, and this server).
    Lines(Config),
}

/// What the templates see of the launch settings: the heap, for java.env.
#[derive(Serialize)]
struct LaunchView<'a> {
    heap: &'a str,
}

/// Render every configuration file for this pod.
/// `heap` is the JVM heap as -Xmx takes it (`config::heap` works it out from `--heap`).
pub fn render(
    settings: &Settings,
    identity: &Identity,
    servers: &Servers,
    heap: &str,
) -> Result<ConfigFiles> {
    let mut context = tera::Context::new();
    context.insert("dirs", &settings.dirs);
    context.insert("ports", &settings.ports);
    context.insert("tuning", &settings.tuning);
    context.insert("admin", &settings.admin);
    context.insert("tls", &settings.tls);
    context.insert("policy", &settings.policy);
    context.insert("log_level", &settings.log_level);
    context.insert("launch", &LaunchView { heap });
    context.insert("myid", &identity.myid);
    context.insert("observer", &identity.observer);
    context.insert("servers", &identity.members);
    let dynamic = settings.ensemble.dynamic;
    context.insert("membership", if dynamic { "dynamic" } else { "static" });
    let (file, lines) = match servers {
        Servers::Flags => (None, dynamic_lines(settings, identity)),
        Servers::Committed(path) => (Some(path.display().to_string()), Vec::new()),
        Servers::Lines(config) => (None, config.servers.iter().map(|s| s.line()).collect()),
    };
    context.insert("dynamic_config_file", &file);
    context.insert("server_lines", &lines);

    let mut tera = tera::Tera::new();
    let mut file = |name: &str, built_in: &str| -> Result<File> {
        let source = template_source(settings.template_dir.as_deref(), name, built_in)?;
        tera.add_raw_template(name, &source)
            .map_err(|err| Error::usage(format!("template {name}: {}", one_line(&err))))?;
        let contents = tera.render(name, &context).map_err(|err| {
            Error::usage(format!("rendering template {name}: {}", one_line(&err)))
        })?;
        // In dynamic membership ZooKeeper rewrites zoo.cfg and writes the membership it
        // commits beside it: both must live on the data volume.
        let dir = match (dynamic, name) {
            (true, "zoo.cfg") => &settings.dirs.data,
            _ => &settings.dirs.conf,
        };
        Ok(File {
            path: dir.join(name),
            contents,
        })
    };
    Ok(ConfigFiles {
        zoo_cfg: file("zoo.cfg", include_str!("../../templates/zoo.cfg"))?,
        log4j: file(
            "log4j.properties",
            include_str!("../../templates/log4j.properties"),
        )?,
        logback: file("logback.xml", include_str!("../../templates/logback.xml"))?,
        java_env: file("java.env", include_str!("../../templates/java.env"))?,
    })
}

/// The first ensemble's `server.N=` lines in dynamic form: role, and the client port.
pub fn dynamic_lines(settings: &Settings, identity: &Identity) -> Vec<String> {
    identity
        .members
        .iter()
        .map(|member| server_line(settings, member))
        .collect()
}

/// A member's `server.N=` line in dynamic form.
pub fn server_line(settings: &Settings, member: &super::identity::Member) -> String {
    let ports = &settings.ports;
    let role = if member.observer {
        "observer"
    } else {
        "participant"
    };
    // ZooKeeper's reconfiguration needs a plaintext client port in each member's line; with
    // TLS it listens on loopback only.
    let client = match settings.tls {
        None => ports.client.to_string(),
        Some(_) => format!("127.0.0.1:{}", ports.loopback_client()),
    };
    format!(
        "server.{}={}:{}:{}:{role};{client}",
        member.id, member.host, ports.server, ports.election
    )
}

/// The operator's template when `--template_dir` has one by that name, else the built-in one.
fn template_source(dir: Option<&Path>, name: &str, built_in: &str) -> Result<String> {
    let Some(dir) = dir else {
        return Ok(built_in.to_owned());
    };
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(source) => Ok(source),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(built_in.to_owned()),
        Err(err) => Err(Error::usage(format!(
            "--template_dir: cannot read {}: {err}",
            quote(&path.display().to_string())
        ))),
    }
}

/// Tera's errors span lines (with a caret under the fault); messages here are one line.
fn one_line(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.split('\n')
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::identity::HostNames;
    use crate::config::settings::tests::flags;

    fn rendered(pairs: &[(&str, &str)], host: &str) -> ConfigFiles {
        let settings = flags(pairs);
        let identity = Identity::resolve(&settings.ensemble, || {
            Ok(HostNames {
                short: host.into(),
                domain: "zk-hs.default.svc.cluster.local".into(),
            })
        })
        .unwrap();
        let heap = settings.launch.heap.value.to_string();
        render(&settings, &identity, &Servers::Flags, &heap).unwrap()
    }

    fn zoo_cfg(pairs: &[(&str, &str)], host: &str) -> String {
        rendered(pairs, host).zoo_cfg.contents
    }

    #[test]
    fn standalone_zoo_cfg_has_no_server_lines() {
        let cfg = zoo_cfg(&[], "anything");
        assert!(cfg.contains("clientPort=2181\n"));
        assert!(cfg.contains("autopurge.purgeInterval=0\n"));
        assert!(!cfg.contains("purgeInteval"));
        assert!(!cfg.contains("server."));
        assert!(cfg.contains("4lw.commands.whitelist=ruok,srvr,mntr,isro,stat,conf\n"));
        assert!(cfg.contains("quorumListenOnAllIPs=true\n"));
        assert!(cfg.contains("reconfigEnabled=false\n"));
        assert!(cfg.contains("admin.enableServer=false\n"));
        assert!(!cfg.contains("admin.serverPort"));
        assert!(!cfg.contains("metricsProvider"));
        assert!(!cfg.contains("\n\n"), "no blank lines:\n{cfg}");
        assert!(cfg.ends_with('\n'));
    }

    #[test]
    fn the_tutorial_zoo_cfg_line_by_line() {
        let cfg = zoo_cfg(&[("servers", "3"), ("purge_interval", "12")], "zk-1");
        let lines: Vec<&str> = cfg.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "clientPort=2181",
                "dataDir=/var/lib/zookeeper/data",
                "dataLogDir=/var/lib/zookeeper/log",
                "tickTime=2000",
                "initLimit=10",
                "syncLimit=5",
                "maxClientCnxns=60",
                "minSessionTimeout=4000",
                "maxSessionTimeout=40000",
                "autopurge.snapRetainCount=3",
                "autopurge.purgeInterval=12",
                "4lw.commands.whitelist=ruok,srvr,mntr,isro,stat,conf",
                "quorumListenOnAllIPs=true",
                "reconfigEnabled=false",
                "admin.enableServer=false",
                "server.1=zk-0.zk-hs.default.svc.cluster.local:2888:3888",
                "server.2=zk-1.zk-hs.default.svc.cluster.local:2888:3888",
                "server.3=zk-2.zk-hs.default.svc.cluster.local:2888:3888",
            ]
        );
    }

    #[test]
    fn observers_are_marked_on_their_line_and_in_their_own_config() {
        let cfg = zoo_cfg(&[("servers", "3"), ("observers", "1")], "zk-3");
        assert!(cfg.contains("peerType=observer\n"));
        assert!(cfg.contains("server.4=zk-3.zk-hs.default.svc.cluster.local:2888:3888:observer\n"));
        assert!(cfg.contains("server.3=zk-2.zk-hs.default.svc.cluster.local:2888:3888\n"));
        let voter = zoo_cfg(&[("servers", "3"), ("observers", "1")], "zk-0");
        assert!(!voter.contains("peerType"));
        assert!(voter.contains(":observer\n"));
    }

    #[test]
    fn admin_server_and_prometheus_when_asked() {
        let cfg = zoo_cfg(&[("admin_port", "8080"), ("prometheus_port", "7000")], "x");
        assert!(cfg.contains(
            "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=8080\n"
        ));
        assert!(cfg.contains(
            "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n\
             metricsProvider.httpPort=7000\n"
        ));
    }

    #[test]
    fn extra_keys_are_added_and_policy_keys_replaced_in_place() {
        let cfg = zoo_cfg(
            &[
                ("extra", "4lw.commands.whitelist=*"),
                ("extra", "snapCount=5000"),
            ],
            "x",
        );
        assert!(cfg.contains("4lw.commands.whitelist=*\n"));
        assert_eq!(cfg.matches("4lw.commands.whitelist").count(), 1);
        assert!(cfg.contains("snapCount=5000\n"));
    }

    #[test]
    fn logging_files_follow_log_level() {
        let files = rendered(&[("log_level", "fatal"), ("heap", "512M")], "x");
        let log4j = &files.log4j.contents;
        assert!(log4j.contains("zookeeper.root.logger=FATAL, CONSOLE\n"));
        assert!(log4j.contains("zookeeper.console.threshold=FATAL\n"));
        assert!(log4j.contains("ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p"));
        assert!(files.logback.contents.contains("<root level=\"ERROR\">"));
        assert!(
            files
                .java_env
                .contents
                .contains("SERVER_JVMFLAGS=\"-Xmx512M -Xms512M ${SERVER_JVMFLAGS}\"\n")
        );
        let names: Vec<_> = files
            .all()
            .iter()
            .map(|f| f.path.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            ["zoo.cfg", "log4j.properties", "logback.xml", "java.env"]
        );
    }
}
