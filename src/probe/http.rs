//! The smallest HTTP server Prometheus can scrape, on one thread and without an async runtime.
//! Requests are read from every connection at once (poll), each with a size bound and one
//! deadline for the whole request, so clients that connect and stay silent (a port scanner, a
//! stuck proxy) or trickle bytes cannot delay a scrape. At most `MAX_CLIENTS` connections are
//! held; when more come, the oldest is dropped. A complete request is answered at once and the
//! connection closed.

#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// The most of a request zkpod reads: a scrape is a few hundred bytes.
pub const MAX_REQUEST: usize = 8 * 1024;
/// How long a client may take to send its whole request.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// How long a client may take to take the answer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections held at once, waiting for their request.
pub const MAX_CLIENTS: usize = 64;

/// An answer: status line, content type, body.
pub struct Response {
    pub status: &'static str,
    pub content_type: &'static str,
    pub body: String,
}

impl Response {
    pub fn text(status: &'static str, body: impl Into<String>) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }
}

/// A connection whose request is still coming.
struct Client {
    stream: TcpStream,
    request: Vec<u8>,
    deadline: Instant,
}

/// Answer each connection on `listener` with `route(method, path)`, forever.
pub fn serve(listener: &TcpListener, route: impl Fn(&str, &str) -> Response) -> ! {
    // Best effort: a listener that stays blocking only makes accept wait for a connection.
    let _ = listener.set_nonblocking(true);
    let mut clients: Vec<Client> = Vec::new();
    loop {
        let now = Instant::now();
        // Past their deadline: told so (best effort), then dropped.
        clients.retain_mut(|client| {
            let expired = client.deadline <= now;
            if expired {
                let _ = answer(&mut client.stream, &refusal("408 Request Timeout"));
            }
            !expired
        });
        let wait = clients
            .iter()
            .map(|c| c.deadline.saturating_duration_since(now))
            .min();
        let ready: Vec<bool> = {
            let mut fds = vec![PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
            fds.extend(
                clients
                    .iter()
                    .map(|c| PollFd::new(c.stream.as_fd(), PollFlags::POLLIN)),
            );
            let timeout = match wait {
                None => PollTimeout::NONE,
                Some(left) => PollTimeout::try_from(left.as_millis().min(60_000) as i32 + 1)
                    .unwrap_or(PollTimeout::MAX),
            };
            if poll(&mut fds, timeout).is_err() {
                continue;
            }
            fds.iter()
                .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
                .collect()
        };
        // Requests first, in the order the clients came; then new connections.
        let mut done = Vec::new();
        for (i, client) in clients.iter_mut().enumerate() {
            if ready[i + 1]
                && let Some(response) = read_more(client, &route)
            {
                let _ = answer(&mut client.stream, &response);
                done.push(i);
            }
        }
        for i in done.into_iter().rev() {
            clients.remove(i);
        }
        if ready[0] {
            accept_all(listener, &mut clients);
        }
    }
}

/// Take every pending connection; over the limit, the oldest waiting one goes.
fn accept_all(listener: &TcpListener, clients: &mut Vec<Client>) {
    while let Ok((stream, _)) = listener.accept() {
        if stream.set_nonblocking(true).is_err() {
            continue;
        }
        if clients.len() >= MAX_CLIENTS {
            clients.remove(0);
        }
        clients.push(Client {
            stream,
            request: Vec::new(),
            deadline: Instant::now() + REQUEST_DEADLINE,
        });
    }
}

/// Read what the client sent; the answer once the request is complete (or refused).
fn read_more(client: &mut Client, route: &impl Fn(&str, &str) -> Response) -> Option<Response> {
    let mut chunk = [0u8; 2048];
    loop {
        match client.stream.read(&mut chunk) {
            Ok(0) => return Some(respond(&client.request, route)),
            Ok(n) => {
                client.request.extend_from_slice(&chunk[..n]);
                if client.request.len() > MAX_REQUEST || head_complete(&client.request) {
                    return Some(respond(&client.request, route));
                }
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return None,
            Err(_) => return Some(refusal("400 Bad Request")),
        }
    }
}

fn head_complete(request: &[u8]) -> bool {
    request.windows(4).any(|w| w == b"\r\n\r\n")
}

fn respond(request: &[u8], route: &impl Fn(&str, &str) -> Response) -> Response {
    match parse_request(request) {
        Ok((method, path)) => route(method, path),
        Err(status) => refusal(status),
    }
}

fn refusal(status: &'static str) -> Response {
    Response::text(status, format!("{status}\n"))
}

/// The method and path of a request, or the status to refuse it with. Only the request line
/// matters: `METHOD TARGET HTTP/x`; a query string is ignored.
pub fn parse_request(request: &[u8]) -> Result<(&str, &str), &'static str> {
    if request.len() > MAX_REQUEST {
        return Err("431 Request Header Fields Too Large");
    }
    if !head_complete(request) {
        return Err("400 Bad Request");
    }
    let line_end = request
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(request.len());
    let line = std::str::from_utf8(&request[..line_end]).map_err(|_| "400 Bad Request")?;
    let mut words = line.split(' ');
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some(method), Some(target), Some(version), None)
            if version.starts_with("HTTP/") && !method.is_empty() && target.starts_with('/') =>
        {
            let path = target.split('?').next().unwrap_or(target);
            Ok((method, path))
        }
        _ => Err("400 Bad Request"),
    }
}

fn answer(stream: &mut TcpStream, response: &Response) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let head = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(response.body.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(
            parse_request(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"),
            Ok(("GET", "/metrics"))
        );
        assert_eq!(parse_request(b"nonsense\r\n\r\n"), Err("400 Bad Request"));
        assert_eq!(
            parse_request(b"GET /metrics HTTP/1.1\r\n"),
            Err("400 Bad Request")
        );
        assert_eq!(
            parse_request(b"GET  /x HTTP/1.1\r\n\r\n"),
            Err("400 Bad Request")
        );
        assert_eq!(
            parse_request(b"GET x HTTP/1.1\r\n\r\n"),
            Err("400 Bad Request")
        );
        let big = [b'x'; MAX_REQUEST + 1];
        assert_eq!(
            parse_request(&big),
            Err("431 Request Header Fields Too Large")
        );
    }
}
