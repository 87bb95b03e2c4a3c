//! The smallest HTTP server Prometheus can scrape: one request at a time, read with a size
//! bound and a deadline, answered and closed. No async runtime.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// The most of a request zkpod reads: a scrape is a few hundred bytes.
const MAX_REQUEST: usize = 8 * 1024;
/// How long a client may take to send its request, and to take the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Answer each connection on `listener` with `route(method, path)`, forever.
pub fn serve(listener: &TcpListener, route: impl Fn(&str, &str) -> Response) -> ! {
    loop {
        let Ok((mut stream, _)) = listener.accept() else {
            continue;
        };
        let response = match read_request(&mut stream) {
            Ok((method, path)) => route(&method, &path),
            Err(status) => Response::text(status, format!("{status}\n")),
        };
        // A client that went away is not zkpod's problem.
        let _ = write_response(&mut stream, &response);
    }
}

/// The method and path of a request, or the status to refuse it with.
fn read_request(stream: &mut TcpStream) -> Result<(String, String), &'static str> {
    stream
        .set_read_timeout(Some(CLIENT_TIMEOUT))
        .map_err(|_| "500 Internal Server Error")?;
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Err("408 Request Timeout"),
        };
        request.extend_from_slice(&chunk[..n]);
        if request.len() > MAX_REQUEST {
            return Err("431 Request Header Fields Too Large");
        }
    }
    let text = String::from_utf8_lossy(&request);
    let mut words = text.lines().next().unwrap_or_default().split(' ');
    match (words.next(), words.next(), words.next()) {
        (Some(method), Some(target), Some(version)) if version.starts_with("HTTP/") => {
            let path = target.split('?').next().unwrap_or(target);
            Ok((method.to_owned(), path.to_owned()))
        }
        _ => Err("400 Bad Request"),
    }
}

fn write_response(stream: &mut TcpStream, response: &Response) -> io::Result<()> {
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
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
