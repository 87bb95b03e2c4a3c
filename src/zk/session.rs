//! A ZooKeeper session as the super user, for reading the membership and changing it; every
//! call within a deadline. It speaks the few requests zkpod needs of ZooKeeper's protocol
//! (jute records in length-prefixed frames, big-endian): connect, authenticate (digest),
//! read `/zookeeper/config`, and `reconfig`, one at a time and synchronously, over the same
//! connection as the four-letter words, in the clear or with TLS.

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use super::fourlw::{self, Address, Connection};
use super::members::Config;
use crate::tls::Tls;

/// How long a session with the ensemble may take to open, and each call on it, where the
/// caller has no deadline of its own.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Request types and error codes of ZooKeeper's protocol (ZooDefs.OpCode, KeeperException).
const OP_GET_DATA: i32 = 4;
const OP_RECONFIG: i32 = 16;
const OP_AUTH: i32 = 100;
const OP_CLOSE: i32 = -11;
const XID_AUTH: i32 = -4;
const XID_WATCH: i32 = -1;
const XID_PING: i32 = -2;
const NEW_CONFIG_NO_QUORUM: i32 = -13;
const RECONFIG_IN_PROGRESS: i32 = -14;
const NO_AUTH: i32 = -102;
const AUTH_FAILED: i32 = -115;
const RECONFIG_DISABLED: i32 = -123;
/// The znode that holds the membership.
const CONFIG_NODE: &str = "/zookeeper/config";
/// The largest reply read: a membership is a few hundred bytes.
const MAX_FRAME: usize = 1024 * 1024;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// Another reconfiguration is under way, or the new one found no quorum yet: try again.
    Busy(String),
    /// Anything else (unreachable, timed out, refused): the message.
    Other(String),
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Busy(why) | SessionError::Other(why) => f.write_str(why),
        }
    }
}

/// What a ZooKeeper error code means to zkpod.
fn error_code(code: i32) -> SessionError {
    match code {
        RECONFIG_IN_PROGRESS => SessionError::Busy("another reconfiguration is in progress".into()),
        NEW_CONFIG_NO_QUORUM => {
            SessionError::Busy("the new configuration has no quorum of synced servers yet".into())
        }
        NO_AUTH | AUTH_FAILED => SessionError::Other(
            "the super user's password was refused (it must match the servers')".into(),
        ),
        RECONFIG_DISABLED => SessionError::Other(
            "reconfiguration is disabled on the server (reconfigEnabled)".into(),
        ),
        other => SessionError::Other(format!("ZooKeeper error {other}")),
    }
}

fn io_error(err: std::io::Error) -> SessionError {
    match err.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            SessionError::Other("timed out".into())
        }
        std::io::ErrorKind::UnexpectedEof => {
            SessionError::Other("the server closed the connection".into())
        }
        _ => SessionError::Other(err.to_string()),
    }
}

/// A request or reply being written or read: jute's encoding.
#[derive(Default)]
struct Record(Vec<u8>);

impl Record {
    fn int(mut self, value: i32) -> Record {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    fn long(mut self, value: i64) -> Record {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    fn bool(mut self, value: bool) -> Record {
        self.0.push(u8::from(value));
        self
    }

    /// A string or a buffer: its length, then its bytes; None is length -1.
    fn bytes(self, value: Option<&[u8]>) -> Record {
        match value {
            None => self.int(-1),
            Some(bytes) => {
                let mut record = self.int(bytes.len() as i32);
                record.0.extend_from_slice(bytes);
                record
            }
        }
    }
}

/// Reading a reply.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], SessionError> {
        if self.0.len() < n {
            return Err(SessionError::Other(
                "a reply shorter than its record".into(),
            ));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn int(&mut self) -> Result<i32, SessionError> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }

    fn long(&mut self) -> Result<i64, SessionError> {
        Ok(i64::from_be_bytes(
            self.take(8)?.try_into().unwrap_or_default(),
        ))
    }

    fn bytes(&mut self) -> Result<Vec<u8>, SessionError> {
        let len = self.int()?;
        match usize::try_from(len) {
            Ok(len) => Ok(self.take(len)?.to_vec()),
            Err(_) => Ok(Vec::new()),
        }
    }
}

/// A session with the ensemble.
pub struct Session {
    connection: Connection,
    timeout: Duration,
    xid: i32,
}

impl Session {
    /// Connect to one of `servers` (`host:port`, tried in turn) and authenticate as the super
    /// user, within `timeout`.
    pub fn open(
        servers: &[String],
        tls: &Tls,
        password: &str,
        timeout: Duration,
    ) -> Result<Session, SessionError> {
        let deadline = Instant::now() + timeout;
        let mut last = SessionError::Other("no server to connect to".into());
        for server in servers {
            let Some(address) = address(server, tls) else {
                last = SessionError::Other(format!("{server} is not host:port"));
                continue;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match Session::open_one(&address, password, left) {
                Ok(session) => return Ok(session),
                Err(SessionError::Other(why)) => {
                    last = SessionError::Other(format!("connecting to {server}: {why}"))
                }
                Err(busy) => last = busy,
            }
        }
        Err(last)
    }

    fn open_one(
        address: &Address,
        password: &str,
        timeout: Duration,
    ) -> Result<Session, SessionError> {
        let deadline = Instant::now() + timeout;
        let connection = fourlw::connect(address, timeout, deadline)
            .map_err(|failure| SessionError::Other(failure.to_string()))?;
        let mut session = Session {
            connection,
            timeout,
            xid: 0,
        };
        let session_timeout = timeout.max(Duration::from_secs(2)).as_millis() as i32;
        let connect = Record::default()
            .int(0) // protocol version
            .long(0) // last zxid seen
            .int(session_timeout)
            .long(0) // session id: a new one
            .bytes(Some(&[0; 16])) // its password
            .bool(false); // read-only
        session.send(connect)?;
        let reply = session.receive()?;
        let mut reader = Reader(&reply);
        let _protocol = reader.int()?;
        let negotiated = reader.int()?;
        if negotiated <= 0 {
            return Err(SessionError::Other("the server refused the session".into()));
        }
        let auth = Record::default()
            .int(XID_AUTH)
            .int(OP_AUTH)
            .int(0)
            .bytes(Some(b"digest"))
            .bytes(Some(format!("super:{password}").as_bytes()));
        session.send(auth)?;
        session.reply_to(XID_AUTH)?;
        Ok(session)
    }

    /// Write one frame.
    fn send(&mut self, record: Record) -> Result<(), SessionError> {
        let socket = self.connection.socket();
        socket
            .set_write_timeout(Some(self.timeout))
            .map_err(io_error)?;
        let mut frame = (record.0.len() as i32).to_be_bytes().to_vec();
        frame.extend_from_slice(&record.0);
        self.connection.write_all(&frame).map_err(io_error)?;
        self.connection.flush().map_err(io_error)
    }

    /// Read one frame.
    fn receive(&mut self) -> Result<Vec<u8>, SessionError> {
        self.connection
            .socket()
            .set_read_timeout(Some(self.timeout))
            .map_err(io_error)?;
        let mut len = [0u8; 4];
        self.connection.read_exact(&mut len).map_err(io_error)?;
        let len = usize::try_from(i32::from_be_bytes(len))
            .ok()
            .filter(|len| *len <= MAX_FRAME)
            .ok_or_else(|| SessionError::Other("a reply of impossible length".into()))?;
        let mut frame = vec![0u8; len];
        self.connection.read_exact(&mut frame).map_err(io_error)?;
        Ok(frame)
    }

    /// The body of the reply to request `xid`, skipping watch events and pings; a ZooKeeper
    /// error as its meaning.
    fn reply_to(&mut self, xid: i32) -> Result<Vec<u8>, SessionError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if Instant::now() >= deadline {
                return Err(SessionError::Other("timed out".into()));
            }
            let frame = self.receive()?;
            let mut reader = Reader(&frame);
            let got = reader.int()?;
            let _zxid = reader.long()?;
            let err = reader.int()?;
            if got == XID_WATCH || got == XID_PING || got != xid {
                continue;
            }
            if err != 0 {
                return Err(error_code(err));
            }
            return Ok(reader.0.to_vec());
        }
    }

    /// Send a request of type `op` with `body`; the body of its reply.
    fn call(&mut self, op: i32, body: Record) -> Result<Vec<u8>, SessionError> {
        self.xid += 1;
        let xid = self.xid;
        let mut request = Record::default().int(xid).int(op);
        request.0.extend_from_slice(&body.0);
        self.send(request)?;
        self.reply_to(xid)
    }

    /// The ensemble's membership, as the server this session is on knows it.
    pub fn config(&mut self) -> Result<Config, SessionError> {
        let body = Record::default()
            .bytes(Some(CONFIG_NODE.as_bytes()))
            .bool(false);
        let reply = self.call(OP_GET_DATA, body)?;
        let data = Reader(&reply).bytes()?;
        Ok(Config::parse(&String::from_utf8_lossy(&data)))
    }

    /// Add `joining` (`server.N=…` lines) and remove `leaving` (ids); the new membership once
    /// it is committed.
    pub fn reconfig(
        &mut self,
        joining: &[String],
        leaving: &[u32],
    ) -> Result<Config, SessionError> {
        let joining = joining.join(",");
        let leaving: Vec<String> = leaving.iter().map(u32::to_string).collect();
        let leaving = leaving.join(",");
        let body = Record::default()
            .bytes(text(&joining))
            .bytes(text(&leaving))
            .bytes(None) // new members: an incremental change
            .long(-1); // whatever the current configuration is
        let reply = self.call(OP_RECONFIG, body)?;
        let data = Reader(&reply).bytes()?;
        Ok(Config::parse(&String::from_utf8_lossy(&data)))
    }
}

/// A list as a jute string: an empty one is none.
fn text(list: &str) -> Option<&[u8]> {
    (!list.is_empty()).then_some(list.as_bytes())
}

impl Drop for Session {
    /// End the session at once, rather than leave it to expire.
    fn drop(&mut self) {
        self.xid += 1;
        let close = Record::default().int(self.xid).int(OP_CLOSE);
        let _ = self.send(close);
    }
}

/// `host:port` (the host in brackets when it is an IPv6 address) as an address to connect to.
fn address(server: &str, tls: &Tls) -> Option<Address> {
    let (host, port) = server.rsplit_once(':')?;
    Some(Address {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port: port.parse().ok()?,
        tls: tls.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_jute() {
        let record = Record::default()
            .int(1)
            .long(-1)
            .bool(true)
            .bytes(Some(b"ab"))
            .bytes(None);
        assert_eq!(
            record.0,
            [
                0, 0, 0, 1, 255, 255, 255, 255, 255, 255, 255, 255, 1, 0, 0, 0, 2, b'a', b'b', 255,
                255, 255, 255
            ]
        );
        let mut reader = Reader(&record.0);
        assert_eq!(reader.int().unwrap(), 1);
        assert_eq!(reader.long().unwrap(), -1);
        assert_eq!(reader.take(1).unwrap(), [1]);
        assert_eq!(reader.bytes().unwrap(), b"ab");
        assert_eq!(reader.bytes().unwrap(), b"");
        assert!(reader.int().is_err(), "nothing left");
    }

    #[test]
    fn servers_are_host_and_port() {
        let tls = Tls::none();
        let v6 = address("[::1]:2181", &tls).unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 2181));
        let name = address("zk-0.zk-hs:2181", &tls).unwrap();
        assert_eq!((name.host.as_str(), name.port), ("zk-0.zk-hs", 2181));
        assert!(address("zk-0", &tls).is_none());
    }
}
