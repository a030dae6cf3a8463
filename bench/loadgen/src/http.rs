//! A minimal HTTP/1.1 keep-alive client over a tokio TcpStream: one request in
//! flight per connection (closed loop). Understands Content-Length, chunked
//! bodies, and `Connection: close` / HTTP/1.0 (then it reconnects).

use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    /// Start of unconsumed data in `buf`.
    pos: usize,
    /// Keep the `x-amzn-RequestId` header of each response (off in the hot loop).
    pub capture_request_id: bool,
}

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// The response had an `X-Amz-Function-Error` header (a Lambda function error).
    pub function_error: bool,
    /// `x-amzn-RequestId`, when `Conn::capture_request_id` is set.
    pub request_id: Option<String>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_usize(s: &[u8], radix: u32) -> Option<usize> {
    usize::from_str_radix(std::str::from_utf8(s).ok()?.trim(), radix).ok()
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let mut c = Conn { addr, stream: None, buf: Vec::with_capacity(16 * 1024), pos: 0, capture_request_id: false };
        c.reconnect().await?;
        Ok(c)
    }

    /// Drops the connection (e.g. after an abandoned request); the next call reconnects.
    pub fn reset(&mut self) {
        self.stream = None;
    }

    async fn reconnect(&mut self) -> io::Result<()> {
        self.stream = None;
        self.buf.clear();
        self.pos = 0;
        let s = TcpStream::connect(self.addr).await?;
        s.set_nodelay(true)?;
        self.stream = Some(s);
        Ok(())
    }

    /// Reads more bytes into buf; error on EOF.
    async fn fill(&mut self) -> io::Result<()> {
        let s = self.stream.as_mut().ok_or_else(|| io::Error::other("not connected"))?;
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        let n = s.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed by server"));
        }
        Ok(())
    }

    /// Sends one pre-serialised request and reads the whole response.
    /// On an I/O error the connection is dropped and re-opened on the next call.
    pub async fn roundtrip(&mut self, req: &[u8]) -> io::Result<Response> {
        if self.stream.is_none() {
            self.reconnect().await?;
        }
        let r = self.roundtrip_inner(req).await;
        if r.is_err() {
            self.stream = None;
        }
        r
    }

    async fn roundtrip_inner(&mut self, req: &[u8]) -> io::Result<Response> {
        self.stream.as_mut().expect("connected").write_all(req).await?;
        // Compact leftovers (there should be none in a closed loop).
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            if self.buf.len() > 64 * 1024 {
                return Err(io::Error::other("response header too large"));
            }
            self.fill().await?;
        };
        let head = &self.buf[..head_end];
        let mut lines = head.split(|&b| b == b'\n');
        let status_line = lines.next().unwrap_or_default();
        let http10 = status_line.starts_with(b"HTTP/1.0");
        let status = status_line
            .split(|&b| b == b' ')
            .nth(1)
            .and_then(|s| parse_usize(s, 10))
            .ok_or_else(|| io::Error::other("bad status line"))? as u16;
        let mut content_length = None;
        let mut chunked = false;
        let mut close = http10;
        let mut function_error = false;
        let mut request_id = None;
        for line in lines {
            let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
            let name = &line[..colon];
            let value = line[colon + 1..].trim_ascii();
            if name.eq_ignore_ascii_case(b"content-length") {
                content_length = parse_usize(value, 10);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                chunked = value.to_ascii_lowercase().windows(7).any(|w| w == b"chunked");
            } else if name.eq_ignore_ascii_case(b"x-amz-function-error") {
                function_error = true;
            } else if self.capture_request_id && name.eq_ignore_ascii_case(b"x-amzn-requestid") {
                request_id = Some(String::from_utf8_lossy(value).into_owned());
            } else if name.eq_ignore_ascii_case(b"connection") {
                let v = value.to_ascii_lowercase();
                if find(&v, b"close").is_some() {
                    close = true;
                } else if find(&v, b"keep-alive").is_some() {
                    close = false;
                }
            }
        }
        let mut p = head_end + 4;
        let body;
        if chunked {
            let mut out = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf[p..], b"\r\n") {
                        break p + i;
                    }
                    self.fill().await?;
                };
                let size_str = &self.buf[p..line_end];
                let size_str = size_str.split(|&b| b == b';').next().unwrap_or_default();
                let size = parse_usize(size_str, 16).ok_or_else(|| io::Error::other("bad chunk size"))?;
                p = line_end + 2;
                if size == 0 {
                    // trailers until empty line
                    loop {
                        if let Some(i) = find(&self.buf[p..], b"\r\n") {
                            let empty = i == 0;
                            p += i + 2;
                            if empty {
                                break;
                            }
                        } else {
                            self.fill().await?;
                        }
                    }
                    break;
                }
                while self.buf.len() < p + size + 2 {
                    self.fill().await?;
                }
                out.extend_from_slice(&self.buf[p..p + size]);
                p += size + 2;
            }
            body = out;
        } else if let Some(n) = content_length {
            while self.buf.len() < p + n {
                self.fill().await?;
            }
            body = self.buf[p..p + n].to_vec();
            p += n;
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            body = Vec::new();
        } else {
            // Body delimited by connection close.
            loop {
                match self.fill().await {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            }
            body = self.buf[p..].to_vec();
            p = self.buf.len();
            close = true;
        }
        self.pos = p;
        if close {
            self.stream = None;
        }
        Ok(Response { status, body, function_error, request_id })
    }
}
