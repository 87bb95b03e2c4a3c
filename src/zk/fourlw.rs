//! A client for ZooKeeper's four-letter words (`ruok`, `srvr`, `mntr`, …) on the client port:
//! one deadline for the whole exchange, and a bound on the reply, so a hung or hostile server
//! cannot hold a probe past its timeout or make it eat memory.

#![forbid(unsafe_code)]

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::cli::error::{Error, Result};
use crate::cli::quote::quote;
use crate::cli::values::Value;
use crate::tls::{self, Tls};

/// ZooKeeper's client port when nothing says otherwise.
const DEFAULT_PORT: u16 = 2181;

/// How long another pod's server may take to answer, in the rounds of asking of start-up
/// (the empty-disk guard, dynamic membership) and of `zkpod leave`.
pub const PEER_TIMEOUT: Duration = Duration::from_millis(800);

/// The most of a reply zkpod reads. `mntr` of a 3.8 server is about 30 KiB.
pub const MAX_REPLY: usize = 1024 * 1024;

/// How ZooKeeper says a word is switched off (3.5+: `4lw.commands.whitelist`).
const NOT_WHITELISTED: &str = "is not executed because it is not in the whitelist.";
/// How ZooKeeper says it has no quorum yet (electing, syncing) for srvr, stat, mntr, ….
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// Where to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
    /// In the clear, or TLS (`--tls_dir`).
    pub tls: Tls,
}

impl Address {
    /// The server the probe commands name: `--host`, and PORT, else `ZK_CLIENT_PORT` (the
    /// older image's probe read it), else 2181.
    pub fn from_args(host: Value, port: Option<Value>, env_port: Option<Value>) -> Result<Address> {
        let port = match port.or(env_port) {
            Some(value) => value.port()?,
            None => DEFAULT_PORT,
        };
        let host = host.text.trim();
        if host.is_empty() || host.chars().any(char::is_whitespace) {
            return Err(Error::usage(format!(
                "--host: {} is not a host",
                quote(host)
            )));
        }
        Ok(Address {
            host: host.to_owned(),
            port,
            tls: Tls::none(),
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Why there is no usable answer.
#[derive(Debug)]
pub enum Failure {
    Refused,
    TimedOut(Duration),
    /// The server hung up without a word.
    NoAnswer,
    TooLarge,
    /// The word is switched off in 4lw.commands.whitelist.
    NotWhitelisted(String),
    /// Alive, but not in a quorum (electing a leader, syncing).
    NotServing,
    Io(io::Error),
    Resolve(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused => write!(f, "connection refused"),
            Failure::TimedOut(after) => write!(f, "timed out after {}s", after.as_secs_f64()),
            Failure::NoAnswer => write!(f, "the connection closed without an answer"),
            Failure::TooLarge => write!(f, "the answer is larger than {MAX_REPLY} bytes"),
            Failure::NotWhitelisted(word) => write!(
                f,
                "{word} is refused: add it to 4lw.commands.whitelist in zoo.cfg"
            ),
            Failure::NotServing => write!(
                f,
                "not serving requests (no quorum yet: electing a leader or syncing)"
            ),
            Failure::Io(err) => write!(f, "{err}"),
            Failure::Resolve(err) => write!(f, "{err}"),
        }
    }
}

/// Send `word` and read the whole answer as text, all within `timeout`.
pub fn ask(
    server: &Address,
    word: &str,
    timeout: Duration,
) -> std::result::Result<String, Failure> {
    ask_bytes(server, word, timeout).map(|reply| text(&reply).into_owned())
}

/// Send `word` and read the whole answer, its bytes as the server sent them, all within
/// `timeout`.
pub fn ask_bytes(
    server: &Address,
    word: &str,
    timeout: Duration,
) -> std::result::Result<Vec<u8>, Failure> {
    let started = Instant::now();
    let deadline = started + timeout;
    let timed_out = || Failure::TimedOut(timeout);
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    };

    let mut stream = connect(server, timeout, deadline)?;
    stream
        .socket()
        .set_write_timeout(Some(left().ok_or_else(timed_out)?))
        .map_err(Failure::Io)?;
    stream
        .write_all(word.as_bytes())
        .map_err(|err| classify(err, timeout))?;

    let mut reply = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        stream
            .socket()
            .set_read_timeout(Some(left().ok_or_else(timed_out)?))
            .map_err(Failure::Io)?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                if reply.len() + n > MAX_REPLY {
                    return Err(Failure::TooLarge);
                }
                reply.extend_from_slice(&chunk[..n]);
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            // The server may reset instead of closing once it has said all, or over TLS close
            // without saying so.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
                ) && !reply.is_empty() =>
            {
                break;
            }
            Err(err) => return Err(classify(err, timeout)),
        }
    }
    answer(word, reply)
}

/// A connection to a server's client port, in the clear or over TLS.
pub enum Connection {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Connection {
    /// The TCP connection underneath, for its timeouts.
    pub fn socket(&self) -> &TcpStream {
        match self {
            Connection::Plain(socket) => socket,
            Connection::Tls(stream) => &stream.sock,
        }
    }
}

impl Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Connection::Plain(socket) => socket.read(buf),
            Connection::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Connection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Connection::Plain(socket) => socket.write(buf),
            Connection::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Connection::Plain(socket) => socket.flush(),
            Connection::Tls(stream) => stream.flush(),
        }
    }
}

/// Connect to `server` by the first of its addresses that takes the connection, before
/// `deadline`; over TLS, the handshake is done (and the server's certificate checked) too.
pub fn connect(
    server: &Address,
    timeout: Duration,
    deadline: Instant,
) -> std::result::Result<Connection, Failure> {
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(Failure::TimedOut(timeout))
    };
    let addrs = resolve(server, timeout)?;
    let mut last = Failure::Resolve(format!("{} has no address", server.host));
    let mut socket = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, left()?) {
            Ok(s) => {
                socket = Some(s);
                break;
            }
            Err(err) => last = classify(err, timeout),
        }
    }
    let socket = socket.ok_or(last)?;
    let Some(config) = server.tls.config() else {
        return Ok(Connection::Plain(socket));
    };
    let name = tls::client::server_name(&server.host).map_err(Failure::Resolve)?;
    let session = rustls::ClientConnection::new(config.clone(), name)
        .map_err(|err| Failure::Io(io::Error::other(err)))?;
    let mut stream = rustls::StreamOwned::new(session, socket);
    while stream.conn.is_handshaking() {
        stream
            .sock
            .set_read_timeout(Some(left()?))
            .map_err(Failure::Io)?;
        stream
            .sock
            .set_write_timeout(Some(left()?))
            .map_err(Failure::Io)?;
        stream
            .conn
            .complete_io(&mut stream.sock)
            .map_err(|err| match err.kind() {
                io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => {
                    Failure::Io(io::Error::other("the server ended the TLS handshake"))
                }
                _ => classify(err, timeout),
            })?;
    }
    Ok(Connection::Tls(Box::new(stream)))
}

/// The certificate `server` presents on its TLS client port (DER), after checking it.
pub fn certificate(server: &Address, timeout: Duration) -> std::result::Result<Vec<u8>, Failure> {
    let deadline = Instant::now() + timeout;
    match connect(server, timeout, deadline)? {
        Connection::Tls(stream) => stream
            .conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|leaf| leaf.to_vec())
            .ok_or(Failure::NoAnswer),
        Connection::Plain(_) => Err(Failure::Io(io::Error::other("not a TLS connection"))),
    }
}

/// The whole reply to `word` as its answer, or what it means when it is no answer: the last
/// step of `ask_bytes`, which the fuzz target takes on any bytes.
pub fn answer(word: &str, reply: Vec<u8>) -> std::result::Result<Vec<u8>, Failure> {
    match refusal(word, &reply) {
        Some(failure) => Err(failure),
        None => Ok(reply),
    }
}

/// What a reply means when it is no answer to `word`: nothing, a refusal of the word, or
/// "not serving".
fn refusal(word: &str, reply: &[u8]) -> Option<Failure> {
    let trimmed = reply.trim_ascii_end();
    if trimmed.is_empty() {
        Some(Failure::NoAnswer)
    } else if trimmed.ends_with(NOT_WHITELISTED.as_bytes()) {
        Some(Failure::NotWhitelisted(word.to_owned()))
    } else if trimmed == NOT_SERVING.as_bytes() {
        Some(Failure::NotServing)
    } else {
        None
    }
}

/// A reply as text: bytes that are not UTF-8 become U+FFFD. Borrowed when the reply is UTF-8,
/// as ZooKeeper's are (checked first on its own: `from_utf8` checks a whole ASCII text a word
/// at a time, where `from_utf8_lossy` goes through it in chunks).
pub fn text(reply: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(reply) {
        Ok(text) => text.into(),
        Err(_) => String::from_utf8_lossy(reply),
    }
}

/// The server's addresses. An IP address needs no lookup; a name is looked up on a thread of
/// its own, so that a resolver that never answers cannot hold the probe past its deadline
/// (getaddrinfo has no timeout of its own).
pub fn resolve(
    server: &Address,
    timeout: Duration,
) -> std::result::Result<Vec<SocketAddr>, Failure> {
    let host = server.host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, server.port)]);
    }
    let cannot =
        |err: &dyn fmt::Display| Failure::Resolve(format!("cannot resolve {}: {err}", server.host));
    let look_up = |name: &str, port| (name, port).to_socket_addrs().map(Vec::from_iter);
    match looked_up(&server.host, server.port, timeout, look_up) {
        Some(Ok(addrs)) => Ok(addrs),
        Some(Err(err)) => Err(cannot(&err)),
        None => Err(Failure::TimedOut(timeout)),
    }
}

type Addresses = io::Result<Vec<SocketAddr>>;

/// A name lookup still running, by name and port.
type Lookup = ((String, u16), mpsc::Receiver<Addresses>);

/// Lookups that outlived their deadline. A later ask for the same name and port waits for the
/// one running rather than start another, so a resolver that never answers holds one thread
/// per name, however often the loops of `join`, `leave` and the empty-disk guard ask.
static PENDING: Mutex<Vec<Lookup>> = Mutex::new(Vec::new());

/// What `look_up` gives for `name` and `port`, run on a thread of its own (or the one still
/// running for them); None when it has not answered within `timeout`.
fn looked_up(
    name: &str,
    port: u16,
    timeout: Duration,
    look_up: fn(&str, u16) -> Addresses,
) -> Option<Addresses> {
    let key = (name.to_owned(), port);
    let pending = || {
        PENDING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    let running = {
        let mut pending = pending();
        let at = pending.iter().position(|lookup| lookup.0 == key);
        at.map(|i| pending.swap_remove(i).1)
    };
    let answer = match running {
        Some(answer) => answer,
        None => {
            let (sender, answer) = mpsc::channel();
            let (name, port) = key.clone();
            let thread =
                std::thread::Builder::new().spawn(move || drop(sender.send(look_up(&name, port))));
            if let Err(err) = thread {
                return Some(Err(err));
            }
            answer
        }
    };
    match answer.recv_timeout(timeout) {
        Ok(addresses) => Some(addresses),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            pending().push((key, answer));
            None
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Some(Err(io::Error::other("the lookup ended without an answer")))
        }
    }
}

fn classify(err: io::Error, timeout: Duration) -> Failure {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => Failure::Refused,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Failure::TimedOut(timeout),
        _ => Failure::Io(err),
    }
}

/// The `Mode:` line of a `srvr` answer (`leader`, `follower`, `observer`, `standalone`,
/// `read-only`).
pub fn mode(srvr: &str) -> Option<&str> {
    srvr.lines()
        .find_map(|line| line.strip_prefix("Mode:"))
        .map(str::trim)
}

/// Whether a server in this mode serves clients: it is in a quorum, or runs alone.
pub fn serves(mode: &str) -> bool {
    matches!(mode, "leader" | "follower" | "observer" | "standalone")
}

/// A short, one-line rendering of an unexpected answer.
pub fn unexpected(reply: &str) -> String {
    format!("unexpected answer {}", quote(reply.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lookups started by `never_answers`.
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// A resolver that never answers.
    fn never_answers(_: &str, _: u16) -> Addresses {
        STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        loop {
            std::thread::park();
        }
    }

    #[test]
    fn a_lookup_that_never_answers_is_waited_on_again_not_started_again() {
        let short = Duration::from_millis(20);
        for _ in 0..10 {
            assert!(looked_up("hangs.example", 2181, short, never_answers).is_none());
        }
        assert_eq!(STARTED.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Another name, or port, has a lookup of its own.
        assert!(looked_up("hangs.example", 2182, short, never_answers).is_none());
        assert!(looked_up("other.example", 2181, short, never_answers).is_none());
        assert_eq!(STARTED.load(std::sync::atomic::Ordering::SeqCst), 3);
        // One that answers is not kept.
        let local = |_: &str, port| Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]);
        let found = looked_up("localhost.example", 1, short, local)
            .unwrap()
            .unwrap();
        assert_eq!(found, [SocketAddr::from(([127, 0, 0, 1], 1))]);
        let kept = PENDING.lock().unwrap();
        assert!(kept.iter().all(|lookup| lookup.0.0 != "localhost.example"));
    }

    #[test]
    fn mode_is_read_from_srvr() {
        let srvr = "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: follower\n";
        assert_eq!(mode(srvr), Some("follower"));
        assert_eq!(mode("imok"), None);
    }

    #[test]
    fn servers_print_as_addresses() {
        let v4 = Address {
            host: "127.0.0.1".into(),
            port: 2181,
            tls: Tls::none(),
        };
        let v6 = Address {
            host: "::1".into(),
            port: 2181,
            tls: Tls::none(),
        };
        assert_eq!(
            (v4.to_string(), v6.to_string()),
            ("127.0.0.1:2181".into(), "[::1]:2181".into())
        );
    }
}
