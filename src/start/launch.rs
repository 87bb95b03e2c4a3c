//! How to start ZooKeeper without zkServer.sh: find java and the installation, and build the
//! command line zkServer.sh start-foreground would, made safe for a container.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::cli::error::{Error, Result};
use crate::config::flags::Given;
use crate::config::settings::{Launch, Settings};

/// Where the upstream tarball is unpacked in ZooKeeper images.
const UPSTREAM_HOME: &str = "/opt/zookeeper";
/// Debian's and Ubuntu's zookeeper package.
const DEBIAN_JARS: &str = "/usr/share/java";
/// Debian's zookeeper.jar names its dependencies in its manifest, but no logging backend:
/// without these two the server logs nothing.
const DEBIAN_LOG4J_BINDING: [&str; 2] = ["slf4j-log4j12.jar", "log4j-1.2.jar"];
/// Nor every jar the server needs, added when present:
/// - the Netty jars the Netty server (TLS) needs: without netty-codec every TLS connection
///   fails (NoClassDefFoundError: io/netty/handler/codec/ByteToMessageDecoder);
/// - the servlet API the AdminServer (`--admin_port`) needs: without it ZooKeeper logs
///   "Unable to load jetty" (NoClassDefFoundError: javax/servlet/Servlet) and serves none.
const DEBIAN_MISSING: [&str; 4] = [
    "netty-codec.jar",
    "netty-resolver.jar",
    "netty-transport-native-unix-common.jar",
    "servlet-api.jar",
];

const MAIN_CLASS: &str = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
/// The java options file (in the configuration directory) that carries the super user's
/// password digest in dynamic membership.
pub const SECRET_FILE: &str = "super-digest.args";

/// Which logging configuration the installation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logging {
    /// log4j 1.2: ZooKeeper up to 3.7, and Debian's 3.8.
    Log4j,
    /// logback: upstream ZooKeeper 3.8 and later.
    Logback,
}

/// A ZooKeeper installation: the jars to put on the classpath and its logging backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub jars: Vec<PathBuf>,
    pub logging: Logging,
}

impl Installation {
    /// `--zk_home` (or `ZK_HOME`, `ZOOKEEPER_HOME`) when given; else the upstream layout
    /// under /opt/zookeeper, else Debian's package.
    pub fn find(zk_home: Option<&Given<PathBuf>>) -> Result<Installation> {
        if let Some(Given {
            value: home,
            origin,
        }) = zk_home
        {
            return Installation::at(home).ok_or_else(|| {
                Error::failed(format!(
                    "{origin} {}: no ZooKeeper there (expected lib/*.jar, or zookeeper.jar \
                     with its log4j binding)",
                    home.display()
                ))
            });
        }
        for home in [UPSTREAM_HOME, DEBIAN_JARS] {
            if let Some(installation) = Installation::at(Path::new(home)) {
                return Ok(installation);
            }
        }
        Err(Error::failed(format!(
            "no ZooKeeper installation found in {UPSTREAM_HOME} or {DEBIAN_JARS}: give its \
             directory with --zk_home (or ZK_HOME)"
        )))
    }

    /// The installation in `home`: the upstream tarball (`lib/*.jar`, plus 3.4's top-level
    /// zookeeper jar) or a directory of jars laid out as Debian's (`zookeeper.jar`).
    fn at(home: &Path) -> Option<Installation> {
        let lib = jars_in(&home.join("lib"));
        if !lib.is_empty() {
            let logging = if lib
                .iter()
                .any(|jar| file_name(jar).starts_with("logback-classic"))
            {
                Logging::Logback
            } else {
                Logging::Log4j
            };
            let mut jars: Vec<PathBuf> = jars_in(home)
                .into_iter()
                .filter(|jar| file_name(jar).starts_with("zookeeper-"))
                .collect();
            jars.extend(lib);
            return Some(Installation { jars, logging });
        }
        let server = home.join("zookeeper.jar");
        let binding: Vec<PathBuf> = DEBIAN_LOG4J_BINDING.iter().map(|j| home.join(j)).collect();
        if server.is_file() && binding.iter().all(|jar| jar.is_file()) {
            let mut jars = vec![server];
            jars.extend(binding);
            jars.extend(
                DEBIAN_MISSING
                    .iter()
                    .map(|jar| home.join(jar))
                    .filter(|jar| jar.is_file()),
            );
            return Some(Installation {
                jars,
                logging: Logging::Log4j,
            });
        }
        None
    }
}

impl Installation {
    /// Whether ZooKeeper's own Prometheus provider (3.6+, `zookeeper-prometheus-metrics`) is
    /// on the classpath: without it, a server told to use it does not start.
    pub fn has_prometheus_provider(&self) -> bool {
        self.jars
            .iter()
            .any(|jar| file_name(jar).starts_with("zookeeper-prometheus-metrics"))
    }
}

fn jars_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut jars: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jar") && path.is_file())
        .collect();
    jars.sort();
    jars
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `$JAVA_HOME/bin/java` when JAVA_HOME is set, else the first `java` on PATH.
pub fn find_java(launch: &Launch) -> Result<PathBuf> {
    if let Some(home) = &launch.java_home {
        let java = home.join("bin/java");
        if is_executable(&java) {
            return Ok(java);
        }
        return Err(Error::failed(format!(
            "JAVA_HOME is set, but {} is not an executable",
            java.display()
        )));
    }
    std::env::split_paths(&launch.path)
        .map(|dir| dir.join("java"))
        .find(|java| is_executable(java))
        .ok_or_else(|| Error::failed("java not found: set JAVA_HOME or put java on PATH"))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The java command line for the server: what zkServer.sh start-foreground runs, with
/// container-minded changes (an OOM ends the JVM so the pod restarts; no JMX agent, whose RMI
/// port would listen in the clear on every address, while local tools attach without it; the
/// election port is retried forever while the pod's address settles).
pub fn java_args(
    settings: &Settings,
    installation: &Installation,
    heap: &str,
    zoo_cfg: &Path,
) -> Vec<OsString> {
    let conf = &settings.dirs.conf;
    let mut classpath = OsString::from(conf);
    for jar in &installation.jars {
        classpath.push(":");
        classpath.push(jar);
    }
    let level = settings.log_level.log4j();
    let mut args: Vec<OsString> = vec![
        format!("-Dzookeeper.log.dir={}", settings.dirs.log.display()).into(),
        "-Dzookeeper.log.file=zookeeper.log".into(),
    ];
    match installation.logging {
        Logging::Log4j => {
            args.push(format!("-Dzookeeper.root.logger={level},CONSOLE").into());
            args.push(
                format!(
                    "-Dlog4j.configuration=file:{}/log4j.properties",
                    conf.display()
                )
                .into(),
            );
        }
        Logging::Logback => {
            args.push(format!("-Dlogback.configurationFile={}/logback.xml", conf.display()).into());
        }
    }
    args.extend(
        [
            format!("-Xmx{heap}"),
            format!("-Xms{heap}"),
            "-XX:+ExitOnOutOfMemoryError".into(),
            "-Dzookeeper.electionPortBindRetry=0".into(),
        ]
        .map(OsString::from),
    );
    if settings.super_password.is_some() {
        // The password's digest, from a file only the server's user reads: not on the command
        // line, where ps shows it.
        let mut file = OsString::from("@");
        file.push(conf.join(SECRET_FILE));
        args.push(file);
    }
    args.push("-cp".into());
    args.push(classpath);
    // The operator's own flags come last, so they win over the ones above.
    args.extend(settings.launch.jvm_flags.iter().map(OsString::from));
    args.push(MAIN_CLASS.into());
    args.push(zoo_cfg.into());
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::values::Origin;
    use crate::config::settings::tests::parse;
    use std::fs;

    /// `home` as `ZK_HOME` gives it.
    fn given(home: &Path) -> Given<PathBuf> {
        Given {
            value: home.to_owned(),
            origin: Origin::Env("ZK_HOME"),
        }
    }

    fn tree(name: &str, files: &[&str]) -> PathBuf {
        let root = crate::testing::scratch_dir(&format!("launch-{name}"));
        for file in files {
            let path = root.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, "").unwrap();
        }
        root
    }

    #[test]
    fn upstream_3_4_layout_has_a_top_level_jar() {
        let home = tree(
            "34",
            &[
                "zookeeper-3.4.10.jar",
                "zookeeper-3.4.10.jar.md5",
                "lib/slf4j-log4j12-1.6.1.jar",
                "lib/log4j-1.2.16.jar",
                "lib/netty-3.10.5.Final.jar",
            ],
        );
        let found = Installation::find(Some(&given(&home))).unwrap();
        assert_eq!(found.logging, Logging::Log4j);
        let names: Vec<String> = found.jars.iter().map(|j| file_name(j)).collect();
        assert_eq!(
            names,
            [
                "zookeeper-3.4.10.jar",
                "log4j-1.2.16.jar",
                "netty-3.10.5.Final.jar",
                "slf4j-log4j12-1.6.1.jar"
            ]
        );
        fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn upstream_3_8_layout_logs_through_logback() {
        let home = tree(
            "38",
            &[
                "lib/zookeeper-3.8.4.jar",
                "lib/zookeeper-jute-3.8.4.jar",
                "lib/logback-classic-1.2.13.jar",
                "lib/logback-core-1.2.13.jar",
            ],
        );
        let found = Installation::find(Some(&given(&home))).unwrap();
        assert_eq!(found.logging, Logging::Logback);
        assert_eq!(found.jars.len(), 4);
        assert!(!found.has_prometheus_provider());
        fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn a_home_without_zookeeper_is_an_error() {
        let home = tree("empty", &["README"]);
        let err = Installation::find(Some(&given(&home))).unwrap_err();
        // Named by where the value came from.
        assert!(err.to_string().starts_with("ZK_HOME /"), "{err}");
        fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn java_from_java_home_or_path() {
        let home = tree("java", &[]);
        fs::create_dir_all(home.join("bin")).unwrap();
        fs::write(home.join("bin/java"), "#!/bin/sh\n").unwrap();
        let home_text = home.display().to_string();
        let with_home = parse(&[], &[("JAVA_HOME", &home_text)]).unwrap().launch;
        assert!(
            find_java(&with_home)
                .unwrap_err()
                .to_string()
                .contains("not an executable")
        );
        fs::set_permissions(home.join("bin/java"), fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find_java(&with_home).unwrap(), home.join("bin/java"));
        let bin = home.join("bin").display().to_string();
        let with_path = parse(&[], &[("PATH", &bin)]).unwrap().launch;
        assert_eq!(find_java(&with_path).unwrap(), home.join("bin/java"));
        let nothing = parse(&[], &[]).unwrap().launch;
        let err = find_java(&nothing).unwrap_err().to_string();
        assert!(err.starts_with("java not found"), "{err}");
        fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn java_command_line() {
        let settings = parse(
            &["--conf_dir=/c", "--heap=512M", "--log_level=WARN"],
            &[
                ("JVMFLAGS", " -Xmx1G  -Dx=1 "),
                ("SERVER_JVMFLAGS", "-Dserver=1"),
            ],
        )
        .unwrap();
        let installation = Installation {
            jars: vec!["/j/zookeeper.jar".into(), "/j/log4j.jar".into()],
            logging: Logging::Log4j,
        };
        let args: Vec<String> =
            java_args(&settings, &installation, "512M", Path::new("/c/zoo.cfg"))
                .into_iter()
                .map(|a| a.into_string().unwrap())
                .collect();
        let at = |arg: &str| {
            args.iter()
                .position(|a| a == arg)
                .unwrap_or_else(|| panic!("{arg}"))
        };
        assert!(args.contains(&"-Dzookeeper.root.logger=WARN,CONSOLE".into()));
        assert!(args.contains(&"-Dlog4j.configuration=file:/c/log4j.properties".into()));
        assert!(!args.iter().any(|a| a.contains("jmxremote")), "{args:?}");
        assert_eq!(args[at("-cp") + 1], "/c:/j/zookeeper.jar:/j/log4j.jar");
        assert!(
            at("-Xmx512M") < at("-Dserver=1"),
            "environment flags come later, and win"
        );
        assert!(at("-Dserver=1") < at("-Xmx1G"));
        assert_eq!(args[args.len() - 2], MAIN_CLASS);
        assert_eq!(args[args.len() - 1], "/c/zoo.cfg");
        for flag in [
            "-XX:+ExitOnOutOfMemoryError",
            "-Dzookeeper.electionPortBindRetry=0",
        ] {
            assert!(at(flag) < at(MAIN_CLASS));
        }
    }
}
