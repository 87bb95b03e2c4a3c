//! The files start-zookeeper writes, rendered from the templates in `templates/` (built into
//! the binary) or from the operator's own `--template_dir`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use crate::identity::{Identity, Member};
use crate::quote::quote;
use crate::settings::Settings;

/// The templates, by file name, as built into zkpod.
const TEMPLATES: &[(&str, &str)] = &[
    ("zoo.cfg", include_str!("../templates/zoo.cfg")),
    (
        "log4j.properties",
        include_str!("../templates/log4j.properties"),
    ),
    ("logback.xml", include_str!("../templates/logback.xml")),
    ("java.env", include_str!("../templates/java.env")),
];

/// The four-letter words zkpod's own commands use (ruok, srvr, mntr, isro) and the read-only
/// ones operators reach for (stat, conf). 3.5.3+ answers only srvr unless told otherwise.
const FOUR_LETTER_WORDS: &str = "ruok,srvr,mntr,isro,stat,conf";

/// zoo.cfg keys zkpod sets for every pod, which `--extra` may replace.
const POLICY_KEYS: [&str; 3] = [
    "4lw.commands.whitelist",
    "quorumListenOnAllIPs",
    "reconfigEnabled",
];

/// A file to write: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: PathBuf,
    pub contents: String,
}

/// What the templates can use.
#[derive(Serialize)]
struct View<'a> {
    client_port: u16,
    server_port: u16,
    election_port: u16,
    data_dir: String,
    data_log_dir: String,
    tick_time: u32,
    init_limit: u32,
    sync_limit: u32,
    max_client_cnxns: u32,
    min_session_timeout: u32,
    max_session_timeout: u32,
    snap_retain_count: u32,
    purge_interval: u32,
    four_letter_words: String,
    /// Bind the quorum and election ports on every interface: a pod cannot resolve its own
    /// name until it is Ready, so binding to that name fails at start.
    quorum_listen_on_all_ips: String,
    reconfig_enabled: String,
    admin_address: String,
    admin_port: Option<u16>,
    prometheus_port: Option<u16>,
    observer: bool,
    myid: Option<u32>,
    servers: &'a [Member],
    extra: Vec<Entry<'a>>,
    log_level: &'static str,
    logback_level: &'static str,
    heap: &'a str,
}

#[derive(Serialize)]
struct Entry<'a> {
    key: &'a str,
    value: &'a str,
}

/// zoo.cfg, log4j.properties, logback.xml and java.env in the configuration directory.
pub fn render(settings: &Settings, identity: &Identity) -> anyhow::Result<Vec<File>> {
    let policy = |key: &str, default: &str| -> String {
        settings
            .extra
            .iter()
            .find(|(k, _)| k == key)
            .map_or(default, |(_, v)| v.as_str())
            .to_owned()
    };
    let view = View {
        client_port: settings.client_port,
        server_port: settings.server_port,
        election_port: settings.election_port,
        data_dir: settings.data_dir.display().to_string(),
        data_log_dir: settings.data_log_dir.display().to_string(),
        tick_time: settings.tick_time,
        init_limit: settings.init_limit,
        sync_limit: settings.sync_limit,
        max_client_cnxns: settings.max_client_cnxns,
        min_session_timeout: settings.min_session_timeout,
        max_session_timeout: settings.max_session_timeout,
        snap_retain_count: settings.snap_retain_count,
        purge_interval: settings.purge_interval,
        four_letter_words: policy(POLICY_KEYS[0], FOUR_LETTER_WORDS),
        quorum_listen_on_all_ips: policy(POLICY_KEYS[1], "true"),
        reconfig_enabled: policy(POLICY_KEYS[2], "false"),
        admin_address: settings
            .admin
            .as_ref()
            .map(|a| a.address.to_string())
            .unwrap_or_default(),
        admin_port: settings.admin.as_ref().map(|a| a.port),
        prometheus_port: settings.prometheus_port,
        observer: identity.observer,
        myid: identity.myid,
        servers: &identity.members,
        extra: settings
            .extra
            .iter()
            .filter(|(key, _)| !POLICY_KEYS.contains(&key.as_str()))
            .map(|(key, value)| Entry { key, value })
            .collect(),
        log_level: settings.log_level.log4j(),
        logback_level: settings.log_level.logback(),
        heap: &settings.heap,
    };
    let context = tera::Context::from_serialize(&view).context("preparing the templates")?;

    let mut tera = tera::Tera::new();
    let mut files = Vec::with_capacity(TEMPLATES.len());
    for (name, built_in) in TEMPLATES {
        let source = template_source(settings.template_dir.as_deref(), name, built_in)?;
        tera.add_raw_template(name, &source)
            .map_err(|err| anyhow::anyhow!("template {name}: {}", one_line(&err)))?;
        let contents = tera
            .render(name, &context)
            .map_err(|err| anyhow::anyhow!("rendering template {name}: {}", one_line(&err)))?;
        files.push(File {
            path: settings.conf_dir.join(name),
            contents,
        });
    }
    Ok(files)
}

/// The operator's template when `--template_dir` has one by that name, else the built-in one.
fn template_source(dir: Option<&Path>, name: &str, built_in: &str) -> anyhow::Result<String> {
    let Some(dir) = dir else {
        return Ok(built_in.to_owned());
    };
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(source) => Ok(source),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(built_in.to_owned()),
        Err(err) => Err(anyhow::anyhow!(
            "--template_dir: cannot read {}: {err}",
            quote(&path.display().to_string())
        )),
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
    use crate::identity::HostNames;
    use crate::settings::tests::flags;

    fn rendered(pairs: &[(&str, &str)], host: &str) -> Vec<File> {
        let settings = flags(pairs);
        let identity = Identity::resolve(&settings.ensemble, || {
            Ok(HostNames {
                short: host.into(),
                domain: "zk-hs.default.svc.cluster.local".into(),
            })
        })
        .unwrap();
        render(&settings, &identity).unwrap()
    }

    fn zoo_cfg(pairs: &[(&str, &str)], host: &str) -> String {
        rendered(pairs, host).remove(0).contents
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
    fn server_lines_take_the_form_every_version_reads() {
        let cfg = zoo_cfg(&[("servers", "3")], "zk-1");
        assert!(cfg.ends_with(
            "server.1=zk-0.zk-hs.default.svc.cluster.local:2888:3888\n\
             server.2=zk-1.zk-hs.default.svc.cluster.local:2888:3888\n\
             server.3=zk-2.zk-hs.default.svc.cluster.local:2888:3888\n"
        ));
        assert!(
            cfg.lines()
                .filter(|l| l.starts_with("server."))
                .all(|l| !l.contains(';')),
            "3.4 refuses ;clientPort on server lines"
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
        let log4j = &files[1].contents;
        assert!(log4j.contains("zookeeper.root.logger=FATAL, CONSOLE\n"));
        assert!(log4j.contains("zookeeper.console.threshold=FATAL\n"));
        assert!(log4j.contains("ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p"));
        let logback = &files[2].contents;
        assert!(logback.contains("<root level=\"ERROR\">"), "{logback}");
        let java_env = &files[3].contents;
        assert!(java_env.contains("SERVER_JVMFLAGS=\"-Xmx512M -Xms512M ${SERVER_JVMFLAGS}\"\n"));
        let names: Vec<_> = files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["zoo.cfg", "log4j.properties", "logback.xml", "java.env"]
        );
    }
}
