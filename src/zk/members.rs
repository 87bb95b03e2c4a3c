//! The ensemble's members as ZooKeeper keeps them in dynamic membership (3.5+
//! reconfiguration): the configuration text (`server.N=…` lines and `version=`) as the `conf`
//! four-letter word, `/zookeeper/config` and ZooKeeper's `zoo.cfg.dynamic.<version>` files give
//! it, and the members' own answers.

#![forbid(unsafe_code)]

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::fourlw::{self, Address};
use crate::cli::error::{Error, Result};
use crate::tls::Tls;

/// How long one member may take to answer a four-letter word.
const ASK_TIMEOUT: Duration = fourlw::PEER_TIMEOUT;

/// A server's role in the ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Participant,
    Observer,
}

/// One `server.N=` line: the server's id and the rest of the line, as ZooKeeper wrote it
/// (`host:quorumPort:electionPort:role;clientAddress`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub id: u32,
    pub spec: String,
}

impl Server {
    /// The line as zoo.cfg and reconfiguration take it.
    pub fn line(&self) -> String {
        format!("server.{}={}", self.id, self.spec)
    }

    /// The host of its quorum address.
    pub fn host(&self) -> &str {
        self.spec.split(':').next().unwrap_or_default()
    }

    pub fn role(&self) -> Role {
        let addresses = self.spec.split(';').next().unwrap_or_default();
        if addresses.split(':').nth(3) == Some("observer") {
            Role::Observer
        } else {
            Role::Participant
        }
    }

    /// Its client port, from `;host:port` or `;port`.
    /// The client port others reach this server on. A client address on loopback (TLS in
    /// dynamic membership keeps its plaintext port there) is no such port: None.
    pub fn client_port(&self) -> Option<u16> {
        let client = self.spec.split_once(';')?.1.trim();
        let (address, port) = client.rsplit_once(':').unwrap_or(("", client));
        let address = address.trim_start_matches('[').trim_end_matches(']');
        let loopback = address == "localhost"
            || address
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match loopback {
            true => None,
            false => port.trim().parse().ok(),
        }
    }
}

/// An ensemble's membership.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `version=` (hexadecimal): the zxid that committed it.
    pub version: Option<u64>,
    pub servers: Vec<Server>,
}

impl Config {
    /// Read the `server.N=` and `version=` lines of `text`; other lines are left aside. Lines
    /// that hold control characters or no address are no server lines zkpod passes on.
    pub fn parse(text: &str) -> Config {
        let mut config = Config::default();
        for line in text.lines().map(str::trim) {
            if let Some(version) = line.strip_prefix("version=") {
                config.version = u64::from_str_radix(version.trim(), 16).ok();
            } else if let Some((key, spec)) = line.split_once('=')
                && let Some(id) = key.strip_prefix("server.")
                && let Ok(id) = id.parse::<u32>()
                && spec.contains(':')
                && !spec.chars().any(char::is_control)
            {
                config.servers.push(Server {
                    id,
                    spec: spec.trim().to_owned(),
                });
            }
        }
        config
    }

    pub fn get(&self, id: u32) -> Option<&Server> {
        self.servers.iter().find(|s| s.id == id)
    }

    pub fn voters(&self) -> impl Iterator<Item = &Server> {
        self.servers
            .iter()
            .filter(|s| s.role() == Role::Participant)
    }

    /// The configuration's server lines, each ending with a newline.
    pub fn lines(&self) -> String {
        self.servers.iter().map(|s| s.line() + "\n").collect()
    }
}

/// The membership `server` reports, if it serves (`srvr`: leader, follower, observer,
/// standalone) and `conf` lists servers; each word within `timeout`.
pub fn serving_config(server: &Address, timeout: Duration) -> Option<Config> {
    let srvr = fourlw::ask(server, "srvr", timeout).ok()?;
    fourlw::mode(&srvr).filter(|mode| fourlw::serves(mode))?;
    let conf = fourlw::ask(server, "conf", timeout).ok()?;
    Some(Config::parse(&conf)).filter(|c| !c.servers.is_empty())
}

/// The membership of a serving member, asking every one of `hosts` at once (on the client
/// `port`); None when none serves.
pub fn ensemble_config<'a>(
    hosts: impl IntoIterator<Item = &'a str>,
    port: u16,
    tls: &Tls,
) -> Option<Config> {
    std::thread::scope(|scope| {
        let asks: Vec<_> = hosts
            .into_iter()
            .map(|host| {
                scope.spawn(move || {
                    let address = Address {
                        host: host.to_owned(),
                        port,
                        tls: tls.clone(),
                    };
                    serving_config(&address, ASK_TIMEOUT)
                })
            })
            .collect();
        // The newest membership any serving member reports.
        asks.into_iter()
            .filter_map(|ask| ask.join().ok().flatten())
            .max_by_key(|config| config.version)
    })
}

/// `host:clientPort` of every server in `config` but `except`.
pub fn client_addresses(config: &Config, except: Option<u32>, default_port: u16) -> Vec<String> {
    config
        .servers
        .iter()
        .filter(|s| Some(s.id) != except)
        .map(|s| format!("{}:{}", s.host(), s.client_port().unwrap_or(default_port)))
        .collect()
}

/// `serverId=` of a `conf` answer: the answering server's own id.
pub fn server_id(conf: &str) -> Option<u32> {
    conf.lines()
        .find_map(|line| line.trim().strip_prefix("serverId="))
        .and_then(|id| id.trim().parse().ok())
}

/// The newest configuration ZooKeeper committed in `dir` (its `zoo.cfg.dynamic.<version>`
/// files), with its path. `.next` (proposed, not committed) does not count.
pub fn committed(dir: &Path) -> Result<Option<(PathBuf, Config)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(Error::failed(format!("reading {}: {err}", dir.display()))),
    };
    let mut newest: Option<(u64, PathBuf)> = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(version) = name
            .to_str()
            .and_then(|n| n.strip_prefix("zoo.cfg.dynamic."))
            .and_then(|v| u64::from_str_radix(v, 16).ok())
        else {
            continue;
        };
        if newest.as_ref().is_none_or(|(v, _)| version > *v) {
            newest = Some((version, entry.path()));
        }
    }
    let Some((version, path)) = newest else {
        return Ok(None);
    };
    let text = fs::read_to_string(&path)
        .map_err(|err| Error::failed(format!("reading {}: {err}", path.display())))?;
    let mut config = Config::parse(&text);
    config.version = Some(version);
    Ok(Some((path, config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "clientPort=2181\nserverId=2\npeerType=0\nmembership: \n\
        server.1=zk-0.zk-hs:2888:3888:participant;0.0.0.0:2181\n\
        server.2=zk-1.zk-hs:2888:3888:participant;0.0.0.0:2181\n\
        server.4=zk-3.zk-hs:2888:3888:observer;0.0.0.0:2181\n\
        version=100000002";

    #[test]
    fn conf_answers_read_back() {
        let config = Config::parse(CONF);
        assert_eq!(config.version, Some(0x1_0000_0002));
        assert_eq!(server_id(CONF), Some(2));
        let ids: Vec<u32> = config.servers.iter().map(|s| s.id).collect();
        assert_eq!(ids, [1, 2, 4]);
        assert_eq!(config.voters().count(), 2);
        let observer = config.get(4).unwrap();
        assert_eq!(
            (observer.role(), observer.host(), observer.client_port()),
            (Role::Observer, "zk-3.zk-hs", Some(2181))
        );
        assert_eq!(
            config.get(1).unwrap().line(),
            "server.1=zk-0.zk-hs:2888:3888:participant;0.0.0.0:2181"
        );
    }

    #[test]
    fn a_client_port_on_loopback_is_no_way_in() {
        // TLS in dynamic membership: the plaintext port is the pod's own; others use the
        // secure port, which the caller knows.
        let config = Config::parse(
            "server.1=zk-0.zk-hs:2888:3888:participant;127.0.0.1:12181\n\
             server.2=zk-1.zk-hs:2888:3888:participant;[::1]:12181\n\
             server.3=zk-2.zk-hs:2888:3888:participant;2182\n",
        );
        let ports: Vec<Option<u16>> = config.servers.iter().map(|s| s.client_port()).collect();
        assert_eq!(ports, [None, None, Some(2182)]);
        assert_eq!(
            client_addresses(&config, Some(3), 2181),
            ["zk-0.zk-hs:2181", "zk-1.zk-hs:2181"]
        );
    }

    #[test]
    fn odd_lines_are_no_servers() {
        let config = Config::parse("server.x=a:1:2\nserver.3=nohost\nserver.5=a:1:2\u{1b}\n");
        assert!(config.servers.is_empty());
    }

    #[test]
    fn the_newest_committed_file_wins() {
        let dir = crate::testing::scratch_dir("committed");
        assert_eq!(committed(&dir).unwrap(), None);
        fs::write(dir.join("zoo.cfg.dynamic.100000000"), "server.1=a:1:2\n").unwrap();
        fs::write(dir.join("zoo.cfg.dynamic.10000000a"), "server.2=b:1:2\n").unwrap();
        fs::write(dir.join("zoo.cfg.dynamic.next"), "server.3=c:1:2\n").unwrap();
        let (path, config) = committed(&dir).unwrap().unwrap();
        assert_eq!(path, dir.join("zoo.cfg.dynamic.10000000a"));
        assert_eq!(config.version, Some(0x1_0000_000a));
        assert_eq!(config.servers[0].id, 2);
        fs::remove_dir_all(&dir).unwrap();
    }
}
