//! A voter whose disk is empty must not help form a quorum while the ensemble may have
//! history: with its id and an empty state it could outvote the servers that hold writes the
//! ensemble acknowledged, and those writes would be lost.
//!
//! Such a server waits before its JVM starts, until one of:
//! - the rest of the ensemble serves without it (a member answers `srvr` as leader, follower or
//!   observer): a quorum exists, and this server syncs from its leader like any follower;
//! - every other voter is reachable and is itself an empty server waiting here: nobody has
//!   history, the ensemble is new. A server that sees this keeps saying so for `LINGER` before
//!   it starts, so that the other waiting servers see it too and start with it.
//!
//! While it waits, zkpod answers on the client port itself, as a server without a quorum
//! would: `ruok` is `imok` (the pod is alive, waiting on purpose), `isro` is `null`, `srvr` and
//! the other words say "not currently serving" (the pod is not ready), and `gtmk` tells other
//! waiting servers that this one is empty and waiting. zkpod asks that word because a real
//! ZooKeeper answers it harmlessly (with its trace mask, or a refusal when the word is not
//! whitelisted) and without a log line; an unknown word would make it log an error at every
//! ask.

#![forbid(unsafe_code)]

use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;

use crate::cli::error::{Error, Result};
use crate::config::identity::Member;
use crate::pid1::signals::Signals;
use crate::tls::Tls;
use crate::zk;
use crate::zk::fourlw::{self, Address, Failure};

/// How often the other members are asked.
const POLL: Duration = Duration::from_secs(1);
/// How long one member may take to answer.
const ASK_TIMEOUT: Duration = fourlw::PEER_TIMEOUT;
/// How long a server that found the ensemble new keeps saying so before it starts.
const LINGER: Duration = Duration::from_secs(3);
/// How often the waiting is logged.
const LOG_EVERY: Duration = Duration::from_secs(5);
/// The word waiting servers ask each other.
pub const WORD: &str = "gtmk";
/// What start-zookeeper logs when --unsafe_start_empty skips the wait.
pub const UNGUARDED: &str = "--unsafe_start_empty: starting with an empty data directory \
                             without waiting for the other voters; if they hold history, \
                             writes it acknowledged can be lost";

/// Whether the server's directories hold any history: a transaction log, or a snapshot other
/// than `snapshot.0` (which an empty server writes as soon as it starts; `.gz` or `.snappy`
/// follows when `snapshot.compression.method` says so). myid, the epoch files and the
/// configuration do not count.
pub fn has_history(dirs: &[&Path]) -> Result<bool> {
    for dir in dirs {
        let version = dir.join("version-2");
        let entries = match fs::read_dir(&version) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => {
                return Err(Error::failed(format!(
                    "reading {}: {err}",
                    version.display()
                )));
            }
        };
        for entry in entries {
            let entry = entry
                .map_err(|err| Error::failed(format!("reading {}: {err}", version.display())))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // An unfinished snapshot is no history: the server never answered for it.
            let first = ["snapshot.0", "snapshot.0.gz", "snapshot.0.snappy"].contains(&&*name);
            let snapshot =
                name.starts_with("snapshot.") && !first && !zk::is_unfinished_snapshot(&name);
            if name.starts_with("log.") || snapshot {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// What another member is doing, as far as this server can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// It serves clients in a quorum (leader, follower or observer).
    Serving(String),
    /// Its ZooKeeper runs but does not serve (electing, syncing): it may hold history.
    NotServing,
    /// It is an empty server waiting here.
    Waiting { myid: u32 },
    /// It cannot be asked: not running, not resolvable, not answering.
    Unreachable(String),
}

/// What to do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The others serve: start and sync from the leader.
    Join,
    /// Every other voter is an empty server waiting here: the ensemble is new.
    New,
    /// Keep waiting, for this reason.
    Wait(String),
}

/// Decide from what the other members said. Observers never vote, so their state does not make
/// an ensemble new or old; serving, they show that a quorum exists.
pub fn verdict(peers: &[(Member, Peer)]) -> Verdict {
    if peers.iter().any(|(_, p)| matches!(p, Peer::Serving(_))) {
        return Verdict::Join;
    }
    let mut unsure = Vec::new();
    for (member, peer) in peers.iter().filter(|(m, _)| !m.observer) {
        let why = match peer {
            Peer::Waiting { myid } if *myid == member.id => continue,
            Peer::Waiting { myid } => format!("answers as server {myid}"),
            Peer::NotServing => "runs, not serving yet".to_owned(),
            Peer::Unreachable(why) => why.clone(),
            Peer::Serving(_) => unreachable!("handled above"),
        };
        unsure.push(format!("{} ({why})", member.host));
    }
    if unsure.is_empty() {
        Verdict::New
    } else {
        Verdict::Wait(unsure.join(", "))
    }
}

/// Ask a member what it is doing.
pub fn ask(member: &Member, port: u16, tls: &Tls) -> Peer {
    let server = Address {
        host: member.host.clone(),
        port,
        tls: tls.clone(),
    };
    match fourlw::ask(&server, WORD, ASK_TIMEOUT) {
        Ok(reply) if reply.starts_with("zkpod ") => {
            return parse_waiting(&reply)
                .unwrap_or_else(|| Peer::Unreachable(fourlw::unexpected(&reply)));
        }
        Err(Failure::Refused) => return Peer::Unreachable("connection refused".into()),
        Err(err @ (Failure::Resolve(_) | Failure::TimedOut(_))) => {
            return Peer::Unreachable(err.to_string());
        }
        // A real ZooKeeper: a trace mask, or a refusal.
        _ => {}
    }
    match fourlw::ask(&server, "srvr", ASK_TIMEOUT) {
        Ok(srvr) => match fourlw::mode(&srvr) {
            Some(mode) if fourlw::serves(mode) => Peer::Serving(mode.to_owned()),
            _ => Peer::NotServing,
        },
        Err(Failure::NotServing) => Peer::NotServing,
        // Refusing srvr, it still runs: it may hold history.
        Err(Failure::NotWhitelisted(_)) => Peer::NotServing,
        Err(err) => Peer::Unreachable(err.to_string()),
    }
}

/// `zkpod waiting myid=2 new=no`
pub fn parse_waiting(reply: &str) -> Option<Peer> {
    let mut words = reply.split_whitespace();
    if words.next() != Some("zkpod") || words.next() != Some("waiting") {
        return None;
    }
    let myid = words.next()?.strip_prefix("myid=")?.parse().ok()?;
    // Whether it found the ensemble new: said for the log of whoever asks; what matters to
    // the others is that it keeps waiting meanwhile (LINGER).
    if !matches!(words.next()?, "new=yes" | "new=no") {
        return None;
    }
    Some(Peer::Waiting { myid })
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// The others serve: start, to sync from their leader.
    Join,
    /// Every voter is empty: the ensemble is new.
    New,
    /// A TERM or INT came first, so the pod is going away and the server is never started:
    /// exit with this status.
    Stopped(u8),
}

/// Wait until this empty server may start.
pub fn wait(myid: u32, others: &[Member], port: u16, tls: &Tls) -> Result<Waited> {
    let signals = Signals::open()?;
    let listener = TcpListener::bind(("0.0.0.0", port))
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|err| Error::failed(format!("waiting on the client port {port}: {err}")))?;
    crate::warn!(
        "this server's data directory is empty: it joins no quorum until the ensemble serves \
         without it, or every voter is reachable and empty"
    );
    // Answers come from a thread of their own, so that other waiting servers get them while
    // this one is busy asking.
    let answers = tls
        .server_config()
        .map_err(|why| Error::failed(format!("--tls_dir: {why}")))?;
    let new = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| respond(&listener, answers.as_ref(), Some((myid, &new)), &stop));
        let outcome = watch(&signals, others, port, tls, &new);
        stop.store(true, Ordering::Relaxed);
        outcome
    })
    // The responder has ended and the listener is closed here: the server can take the port.
}

/// Ask the others every `POLL` until the verdict allows a start, reading signals meanwhile.
fn watch(
    signals: &Signals,
    others: &[Member],
    port: u16,
    tls: &Tls,
    new: &AtomicBool,
) -> Result<Waited> {
    let mut new_since: Option<Instant> = None;
    let mut next_poll = Instant::now();
    let mut next_log = Instant::now();
    loop {
        let now = Instant::now();
        if let Some(since) = new_since
            && now >= since + LINGER
        {
            crate::info!("every voter is empty: the ensemble is new; starting");
            return Ok(Waited::New);
        }
        if now >= next_poll {
            match verdict(&ask_all(others, port, tls)) {
                Verdict::Join => {
                    crate::info!("the ensemble serves");
                    return Ok(Waited::Join);
                }
                Verdict::New if new_since.is_none() => {
                    crate::info!("every other voter is reachable and empty: the ensemble is new");
                    new.store(true, Ordering::Relaxed);
                    new_since = Some(now);
                }
                Verdict::New => {}
                Verdict::Wait(why) => {
                    if now >= next_log {
                        crate::warn!(
                            "waiting: the data directory is empty and the ensemble may have \
                             history; not serving yet: {why}"
                        );
                        next_log = now + LOG_EVERY;
                    }
                }
            }
            next_poll = Instant::now() + POLL;
        }
        let wake = new_since.map_or(next_poll, |since| next_poll.min(since + LINGER));
        if let Some(status) = pause(signals, wake.saturating_duration_since(Instant::now())) {
            return Ok(Waited::Stopped(status));
        }
    }
}

/// Wait `time` for a TERM or INT: Some(128 + its number) if one came, and then the server is
/// never started. As PID 1, zkpod reaps what exec probes leave behind while it waits too.
pub fn pause(signals: &Signals, time: Duration) -> Option<u8> {
    let until = Instant::now() + time;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if signals.wait(Some(left)) {
            while let Some(signo) = signals.next() {
                match Signal::try_from(signo) {
                    Ok(sig @ (Signal::SIGTERM | Signal::SIGINT)) => {
                        crate::info!("{sig} while waiting: not starting the server");
                        return Some(128 + sig as u8);
                    }
                    Ok(Signal::SIGCHLD) => {
                        crate::pid1::reap(None);
                    }
                    _ => {}
                }
            }
        }
    }
    None
}

/// Answer every connection to the client port until told to stop, over TLS with `tls` when
/// given. `empty` is this server's id and whether it found the ensemble new, for `gtmk`: only
/// a server with an empty disk says so.
fn respond(
    listener: &TcpListener,
    tls: Option<&Arc<rustls::ServerConfig>>,
    empty: Option<(u32, &AtomicBool)>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(100u8));
        while let Ok((stream, _)) = listener.accept() {
            answer(
                stream,
                tls,
                empty.map(|(myid, new)| (myid, new.load(Ordering::Relaxed))),
            );
        }
    }
}

/// Run `wait` while answering on the client port as a server without a quorum: `ruok` is
/// `imok` (the pod is alive), `isro` is `null`, everything else "not serving" (the pod is not
/// ready). For a server that waits for a reason other than an empty disk (it says nothing of
/// its disk).
pub fn answering<T>(port: u16, tls: &Tls, wait: impl FnOnce() -> T) -> T {
    let listener = TcpListener::bind(("0.0.0.0", port))
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener));
    let Ok(listener) = listener else {
        return wait();
    };
    let answers = match tls.server_config() {
        Ok(answers) => answers,
        // Never in the clear where TLS is asked for: then not at all.
        Err(why) => {
            crate::warn!("not answering on the client port while waiting: {why}");
            return wait();
        }
    };
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| respond(&listener, answers.as_ref(), None, &stop));
        let outcome = wait();
        stop.store(true, Ordering::Relaxed);
        outcome
    })
}

/// Ask every other member at once, each within `ASK_TIMEOUT`.
fn ask_all(others: &[Member], port: u16, tls: &Tls) -> Vec<(Member, Peer)> {
    std::thread::scope(|scope| {
        let asks: Vec<_> = others
            .iter()
            .map(|member| (member, scope.spawn(move || ask(member, port, tls))))
            .collect();
        asks.into_iter()
            .map(|(member, ask)| {
                let peer = ask
                    .join()
                    .unwrap_or_else(|_| Peer::Unreachable("the check failed".into()));
                (member.clone(), peer)
            })
            .collect()
    })
}

/// Answer one connection as a server without a quorum would, and `gtmk` as a waiting empty
/// server when `empty` says it is one (its id, and whether it found the ensemble new).
fn answer(stream: TcpStream, tls: Option<&Arc<rustls::ServerConfig>>, empty: Option<(u32, bool)>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(300)));
    match tls {
        None => say(stream, empty),
        Some(config) => {
            let Ok(session) = rustls::ServerConnection::new(config.clone()) else {
                return;
            };
            let mut stream = rustls::StreamOwned::new(session, stream);
            say(&mut stream, empty);
            stream.conn.send_close_notify();
            let _ = stream.flush();
        }
    }
}

/// Read the word and answer it (see `answer`).
fn say(mut stream: impl Read + Write, empty: Option<(u32, bool)>) {
    let mut word = [0u8; 4];
    if stream.read_exact(&mut word).is_err() {
        return;
    }
    let reply: Vec<u8> = match &word {
        b"ruok" => b"imok".to_vec(),
        b"isro" => b"null".to_vec(),
        b"gtmk" => match empty {
            Some((myid, new)) => format!(
                "zkpod waiting myid={myid} new={}\n",
                if new { "yes" } else { "no" }
            )
            .into_bytes(),
            None => not_serving(),
        },
        _ => not_serving(),
    };
    let _ = stream.write_all(&reply);
}

/// ZooKeeper's answer without a quorum, with its line feed.
fn not_serving() -> Vec<u8> {
    format!("{}\n", fourlw::NOT_SERVING).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u32, observer: bool) -> Member {
        Member {
            id,
            host: format!("zk-{}.zk-hs", id - 1),
            observer,
        }
    }

    fn waiting(id: u32) -> Peer {
        Peer::Waiting { myid: id }
    }

    #[test]
    fn a_serving_member_means_join() {
        let peers = [
            (
                member(2, false),
                Peer::Unreachable("connection refused".into()),
            ),
            (member(3, false), Peer::Serving("leader".into())),
        ];
        assert_eq!(verdict(&peers), Verdict::Join);
        let observer_serves = [
            (member(2, false), Peer::NotServing),
            (member(4, true), Peer::Serving("observer".into())),
        ];
        assert_eq!(verdict(&observer_serves), Verdict::Join);
    }

    #[test]
    fn all_voters_empty_and_waiting_means_new() {
        let peers = [
            (member(2, false), waiting(2)),
            (member(3, false), waiting(3)),
        ];
        assert_eq!(verdict(&peers), Verdict::New);
        // Observers start at once (they never vote): they do not hold the voters back.
        let with_observer = [
            (member(2, false), waiting(2)),
            (member(4, true), Peer::NotServing),
        ];
        assert_eq!(verdict(&with_observer), Verdict::New);
        assert_eq!(verdict(&[]), Verdict::New, "a lone voter");
    }

    #[test]
    fn anything_else_means_wait_and_names_the_members() {
        // The dangerous case: a stale server runs, the one with the writes is down.
        let peers = [
            (
                member(2, false),
                Peer::Unreachable("connection refused".into()),
            ),
            (member(3, false), Peer::NotServing),
        ];
        let Verdict::Wait(why) = verdict(&peers) else {
            panic!("must wait");
        };
        assert_eq!(
            why,
            "zk-1.zk-hs (connection refused), zk-2.zk-hs (runs, not serving yet)"
        );
        // A waiting server that says it is someone else is not trusted.
        let wrong = [(member(2, false), waiting(3))];
        assert!(matches!(verdict(&wrong), Verdict::Wait(w) if w.contains("as server 3")));
    }

    #[test]
    fn history_is_a_log_or_a_snapshot_past_zero() {
        let dir = crate::testing::scratch_dir("history");
        let v2 = dir.join("version-2");
        fs::create_dir_all(&v2).unwrap();
        fs::write(dir.join("myid"), "1\n").unwrap();
        fs::write(v2.join("acceptedEpoch"), "0").unwrap();
        for first in ["snapshot.0", "snapshot.0.gz", "snapshot.0.snappy"] {
            fs::write(v2.join(first), "").unwrap();
        }
        // A server stopped during its first sync: its snapshot was never finished.
        fs::write(v2.join("snapshot.100000000.tmp"), "").unwrap();
        assert!(!has_history(&[&dir]).unwrap());
        assert!(!has_history(&[&dir.join("missing")]).unwrap());
        fs::write(v2.join("snapshot.100000000"), "").unwrap();
        assert!(has_history(&[&dir]).unwrap());
        fs::remove_file(v2.join("snapshot.100000000")).unwrap();
        fs::write(v2.join("snapshot.100000000.gz"), "").unwrap();
        assert!(has_history(&[&dir]).unwrap());
        fs::remove_file(v2.join("snapshot.100000000.gz")).unwrap();
        fs::write(v2.join("log.100000001"), "").unwrap();
        assert!(has_history(&[&dir]).unwrap());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn waiting_answers_read_back() {
        assert_eq!(
            parse_waiting("zkpod waiting myid=2 new=yes\n"),
            Some(Peer::Waiting { myid: 2 })
        );
        assert_eq!(parse_waiting("zkpod waiting myid=x new=no"), None);
        assert_eq!(parse_waiting("imok"), None);
    }
}
