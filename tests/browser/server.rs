//! A static file server for the browser tests: the built site under a sub-path of
//! 127.0.0.1 on an ephemeral port, as a plain web host would serve it (a folder's
//! index.html for the folder, content types by extension, 404 otherwise). It counts the
//! bytes it sends per file, for the search benchmarks.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct Server {
    /// `http://127.0.0.1:PORT/SUB/`
    pub base: String,
    sent: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl Server {
    /// Serves `dir` under `/{sub}/` until the test process ends.
    pub fn start(dir: &Path, sub: &str) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let sent = Arc::new(Mutex::new(BTreeMap::new()));
        let dir = dir.to_path_buf();
        let prefix = format!("/{sub}/");
        let counts = Arc::clone(&sent);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let dir = dir.clone();
                let prefix = prefix.clone();
                let counts = Arc::clone(&counts);
                std::thread::spawn(move || {
                    let _ = serve(stream, &dir, &prefix, &counts);
                });
            }
        });
        Server {
            base: format!("http://127.0.0.1:{port}/{sub}/"),
            sent,
        }
    }

    /// Bytes sent per path since the last call, and forgets them.
    pub fn take_sent(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.sent.lock().expect("lock"))
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// The file for a request path, if it is under the prefix and inside `dir`.
fn resolve(dir: &Path, prefix: &str, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let rel = crate::common::percent_decode(path.strip_prefix(prefix)?);
    let mut file = dir.to_path_buf();
    for c in Path::new(&rel).components() {
        match c {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

fn serve(
    stream: TcpStream,
    dir: &Path,
    prefix: &str,
    counts: &Mutex<BTreeMap<String, u64>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        let mut keep_alive = true;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let h = header.trim().to_ascii_lowercase();
            if h.is_empty() {
                break;
            }
            if h == "connection: close" {
                keep_alive = false;
            }
        }
        let mut parts = request.split_whitespace();
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("");
        let found = match method {
            "GET" | "HEAD" => resolve(dir, prefix, target),
            _ => None,
        };
        let (status, kind, body) = match found.and_then(|f| Some((std::fs::read(&f).ok()?, f))) {
            Some((body, file)) => ("200 OK", content_type(&file), body),
            None => (
                "404 Not Found",
                "text/plain; charset=utf-8",
                b"not found\n".to_vec(),
            ),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: {}\r\n\r\n",
            body.len(),
            if keep_alive { "keep-alive" } else { "close" }
        );
        stream.write_all(head.as_bytes())?;
        if method != "HEAD" {
            stream.write_all(&body)?;
        }
        stream.flush()?;
        let path = target.split('?').next().unwrap_or("").to_string();
        *counts.lock().expect("lock").entry(path).or_default() += body.len() as u64;
        if !keep_alive {
            return Ok(());
        }
    }
}
