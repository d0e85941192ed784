//! `bantin serve`: the binary started on a free port, spoken to over HTTP.
//!
//! Every wait is a bounded poll; every server is killed when its test ends.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tempfile::TempDir;

/// How long anything may take before a test fails (generous: CI shares its cores).
const LIMIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

const CONFIG: &str = "title = \"Bản tin thử nghiệm\"\ntimezone = \"+07:00\"\nbase_url = \"https://example.org/bantin/\"\npaginate = 5\n";

const UNITS: &str = r#"[[unit]]
id = "tinh-uy"
name = "Tỉnh ủy Hòa Bình"

[[unit]]
id = "huyen-uy-an-phu"
name = "Huyện ủy An Phú"
parent = "tinh-uy"

[[unit]]
id = "so-thong-tin"
name = "Sở Thông tin và Truyền thông"
"#;

/// A site in a temporary folder (`site/` inside it, so that there is an outside).
struct Site {
    dir: TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::Builder::new()
            .prefix("bantin-serve-")
            .tempdir()
            .expect("a temporary folder");
        let site = Site { dir };
        site.write("bantin.toml", CONFIG);
        site.write("units.toml", UNITS);
        site
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("site")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().expect("a folder")).expect("create the folder");
        fs::write(&path, bytes).expect("write the file");
    }

    fn report(&self, rel: &str, title: &str, date: &str, unit: &str) {
        self.write(&format!("content/{rel}"), report(title, date, unit, ""));
    }

    /// A fresh `bantin build` of the site, into a folder outside it.
    fn fresh_build(&self) -> BTreeMap<String, Vec<u8>> {
        let out = self.dir.path().join("fresh");
        let status = Command::new(env!("CARGO_BIN_EXE_bantin"))
            .arg("build")
            .arg("--root")
            .arg(self.root())
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run bantin build");
        assert!(status.success(), "bantin build failed");
        let tree = tree(&out);
        fs::remove_dir_all(&out).expect("remove the fresh build");
        tree
    }
}

fn report(title: &str, date: &str, unit: &str, extra: &str) -> String {
    format!(
        "+++\ntitle = \"{title}\"\ndate = {date}\nunit = \"{unit}\"\n{extra}+++\nNội dung của bài {title}.\n"
    )
}

/// A site with a few reports, a bundle with an image and some static files.
fn sample() -> Site {
    let site = Site::new();
    site.report(
        "2023/09/so-ket.md",
        "Sơ kết Nghị quyết 35",
        "2023-09-13T14:00:00+07:00",
        "huyen-uy-an-phu",
    );
    site.report(
        "2023/10/hoi-nghi.md",
        "Hội nghị chuyên đề",
        "2023-10-02",
        "tinh-uy",
    );
    site.write(
        "content/2024/01/lam-viec/index.md",
        report(
            "Làm việc tại Lào Cai",
            "2024-01-05",
            "so-thong-tin",
            "cover = { src = \"quang-canh.jpg\", alt = \"Quang cảnh\" }\n",
        ),
    );
    site.write(
        "content/2024/01/lam-viec/quang-canh.jpg",
        b"\xff\xd8\xff\xe0 jpeg",
    );
    site.write("static/logo.png", b"\x89PNG\r\n\x1a\n png");
    site.write("static/tai-lieu/ke-hoach.pdf", b"%PDF-1.4 pdf");
    site.write("static/data.json", "{\"a\": 1}");
    site.write("static/robots.txt", "User-agent: *\n");
    site.write("static/fonts/a.woff2", b"wOF2 font");
    site.write("static/blob.bin", b"\x00\x01 blob");
    site
}

/// Every file under `dir`, by '/'-separated path, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read a folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("inside");
                let rel = rel.to_string_lossy().replace('\\', "/");
                files.insert(rel, fs::read(&path).expect("read a file"));
            }
        }
    }
    files
}

/// A running `bantin serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    output: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a pipe line by line into `into`; the port once "Serving at" is printed.
fn drain(pipe: impl Read + Send + 'static, into: Arc<Mutex<String>>, port: mpsc::Sender<u16>) {
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            if let Some(url) = line.strip_prefix("Serving at http://127.0.0.1:") {
                if let Ok(p) = url.trim_end_matches('/').parse() {
                    let _ = port.send(p);
                }
            }
            let mut out = into.lock().unwrap();
            out.push_str(&line);
            out.push('\n');
        }
    });
}

impl Server {
    fn start(site: &Site) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bantin"))
            .arg("serve")
            .arg("--root")
            .arg(site.root())
            .args(["--port", "0"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bantin serve");
        let output = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        drain(
            child.stdout.take().unwrap(),
            Arc::clone(&output),
            tx.clone(),
        );
        drain(child.stderr.take().unwrap(), Arc::clone(&output), tx);
        let port = match rx.recv_timeout(LIMIT) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "bantin serve printed no address:\n{}",
                    output.lock().unwrap()
                );
            }
        };
        Server {
            child,
            port,
            output,
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    fn get(&self, path: &str) -> Reply {
        request(self.port, "GET", path)
    }

    fn status(&self) -> Value {
        serde_json::from_slice(&self.get("/__bantin/status").body).expect("status is JSON")
    }

    /// Polls `what` until it gives Some; fails the test after [`LIMIT`].
    fn wait<T>(&self, why: &str, mut what: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = what() {
                return v;
            }
            assert!(
                start.elapsed() < LIMIT,
                "timed out waiting for {why}; the server said:\n{}",
                self.output()
            );
            thread::sleep(POLL);
        }
    }

    /// Waits until a build that saw every change made so far is served: one that began
    /// after a last change (to a file the build ignores, so that one is sure to come).
    fn settled(&self, site: &Site) {
        let after = now_ns();
        site.write("content/_bantin-test", after.to_string());
        self.wait("a build of the last change", || {
            let s = self.status();
            let started: u128 = s["started"].as_str()?.parse().ok()?;
            (s["ok"] == true && started > after).then_some(())
        });
    }

    fn events(&self) -> Events {
        Events::open(self.port)
    }
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The status of a request that the server may refuse by closing the connection.
fn raw_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let _ = write!(stream, "GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    String::from_utf8_lossy(&raw)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
}

/// One HTTP/1.1 request, the path sent exactly as given.
fn request(port: u16, method: &str, path: &str) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    // A server may answer and close before reading all of a request it refuses.
    let _ = stream.write_all(head.as_bytes());
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("the end of the headers");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(
            std::str::from_utf8(&data[..line])
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line + 2..line + 2 + size]);
        data = &data[line + 2 + size + 2..];
    }
}

/// The Server-Sent Events of `/__bantin/events`, read as they come.
struct Events {
    rx: mpsc::Receiver<(String, String)>,
    _stream: TcpStream,
}

impl Events {
    fn open(port: u16) -> Events {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        write!(
            stream,
            "GET /__bantin/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let reader = stream.try_clone().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(reader).lines();
            // The head of the reply.
            for line in lines.by_ref() {
                match line {
                    Ok(l) if l.is_empty() => break,
                    Ok(l) if l.to_ascii_lowercase().starts_with("content-type") => {
                        assert!(l.contains("text/event-stream"), "{l}");
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
            let (mut event, mut data) = (String::new(), String::new());
            for line in lines {
                let Ok(line) = line else { return };
                if line.is_empty() {
                    if !event.is_empty() && tx.send((event.clone(), data.clone())).is_err() {
                        return;
                    }
                    event.clear();
                    data.clear();
                } else if let Some(e) = line.strip_prefix("event: ") {
                    event = e.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = d.to_string();
                }
            }
        });
        Events {
            rx,
            _stream: stream,
        }
    }

    /// The next event; fails the test after [`LIMIT`].
    fn next(&self) -> (String, String) {
        self.rx
            .recv_timeout(LIMIT)
            .expect("an event from /__bantin/events in time")
    }

    /// Skips events until one named `name`; returns its data.
    fn until(&self, name: &str) -> String {
        let start = Instant::now();
        loop {
            let left = LIMIT.saturating_sub(start.elapsed());
            let (event, data) = self
                .rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no `{name}` event in time"));
            if event == name {
                return data;
            }
        }
    }
}

const LIVE_TAG_START: &str = "<script src=\"/__bantin/live.js\"";

/// A served page without what the server put in it.
fn unserved(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(body.to_vec()).expect("HTML is UTF-8");
    let mut text = text.replacen("<base href=\"/\" data-bantin>", "", 1);
    let start = text.rfind(LIVE_TAG_START).expect("the live-reload script");
    let end = start + text[start..].find("</script>").unwrap() + "</script>".len();
    text.replace_range(start..end, "");
    text.into_bytes()
}

/// Everything the server serves, by path, as a fresh build would have written it.
fn served_tree(server: &Server) -> BTreeMap<String, Vec<u8>> {
    let files: Vec<String> =
        serde_json::from_slice(&server.get("/__bantin/files").body).expect("a JSON list");
    files
        .into_iter()
        .map(|path| {
            let url = format!("/{}", encode(&path));
            let reply = server.get(&url);
            assert_eq!(reply.status, 200, "{url}");
            let body = if path.ends_with(".html") {
                unserved(&reply.body)
            } else {
                reply.body
            };
            (path, body)
        })
        .collect()
}

/// Percent-encodes what a URL path cannot hold as is.
fn encode(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn assert_same(served: &BTreeMap<String, Vec<u8>>, built: &BTreeMap<String, Vec<u8>>) {
    let only_served: Vec<_> = served.keys().filter(|k| !built.contains_key(*k)).collect();
    let only_built: Vec<_> = built.keys().filter(|k| !served.contains_key(*k)).collect();
    let differ: Vec<_> = served
        .iter()
        .filter(|(k, v)| built.get(*k).is_some_and(|w| w != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        only_served.is_empty() && only_built.is_empty() && differ.is_empty(),
        "served and built differ:\n only served: {only_served:?}\n only built: {only_built:?}\n different bytes: {differ:?}"
    );
}

#[test]
fn serves_pages_folders_types_and_404() {
    let site = sample();
    let server = Server::start(&site);
    let built = site.fresh_build();

    let home = server.get("/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        home.text().contains(LIVE_TAG_START),
        "no live-reload script"
    );
    assert_eq!(unserved(&home.body), built["index.html"]);
    assert_eq!(server.get("/index.html").body, home.body);

    // Folders serve their index.html; without the slash, they redirect to it.
    let units = server.get("/don-vi/");
    assert_eq!(units.status, 200);
    assert_eq!(unserved(&units.body), built["don-vi/index.html"]);
    let moved = server.get("/don-vi?x=1");
    assert_eq!(moved.status, 301);
    assert_eq!(moved.header("Location"), Some("/don-vi/?x=1"));
    let report = server.get("/2023/09/so-ket-nghi-quyet-35/");
    assert_eq!(report.status, 200);
    assert!(report.text().contains("Sơ kết Nghị quyết 35"));

    // Missing: 404 with the site's 404.html.
    for missing in ["/khong-co.html", "/a/b/c/", "/2023/09/khong-co/index.html"] {
        let reply = server.get(missing);
        assert_eq!(reply.status, 404, "{missing}");
        assert_eq!(unserved(&reply.body), built["404.html"], "{missing}");
    }

    for (path, kind) in [
        ("/style.css", "text/css; charset=utf-8"),
        ("/search.js", "text/javascript; charset=utf-8"),
        ("/feed.xml", "application/xml"),
        ("/sitemap.xml", "application/xml"),
        ("/logo.png", "image/png"),
        ("/2024/01/lam-viec-tai-lao-cai/quang-canh.jpg", "image/jpeg"),
        ("/tai-lieu/ke-hoach.pdf", "application/pdf"),
        ("/data.json", "application/json"),
        ("/robots.txt", "text/plain; charset=utf-8"),
        ("/fonts/a.woff2", "font/woff2"),
        ("/blob.bin", "application/octet-stream"),
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("Content-Type"), Some(kind), "{path}");
        assert_eq!(reply.body, built[&path[1..]], "{path}");
    }

    let moved = server.get("/don-vi?q=H%C3%B2a");
    assert_eq!(moved.status, 301);
    assert_eq!(moved.header("Location"), Some("/don-vi/?q=H%C3%B2a"));
    // Not encoded by the client: refused (the connection closed), and the server lives on.
    assert_ne!(raw_status(server.port, "/tệp-không-có?q=Hòa"), Some(200));
    assert_eq!(server.get("/index.html").status, 200);

    let head = request(server.port, "HEAD", "/");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(request(server.port, "POST", "/").status, 405);

    let script = server.get("/__bantin/live.js");
    assert_eq!(script.status, 200);
    assert!(script.text().contains("EventSource(\"/__bantin/events\")"));
    assert!(server.output().contains("Serving at http://127.0.0.1:"));
}

#[test]
fn paths_outside_the_site_are_refused() {
    let site = sample();
    let secret = "SECRET-OUTSIDE-THE-SITE";
    fs::write(site.dir.path().join("secret.txt"), secret).unwrap();
    site.write("static/ok.txt", "served\n");
    let server = Server::start(&site);
    let config = fs::read_to_string(site.path("bantin.toml")).unwrap();

    for attack in [
        "/../bantin.toml",
        "/%2e%2e/bantin.toml",
        "/%2E%2E/%2E%2E/secret.txt",
        "/..%2fbantin.toml",
        "/..%2f..%2fsecret.txt",
        "/..%5c..%5csecret.txt",
        "/static/../../secret.txt",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/%2Fetc/passwd",
        "/C:/Windows/win.ini",
        "/bantin.toml",
        "/content/2023/09/so-ket.md",
        "/static/ok.txt",
        "/../secret.txt%00.html",
        "/%00",
        "/.%2e/secret.txt",
        "/%252e%252e/secret.txt",
    ] {
        let reply = server.get(attack);
        assert!(
            [400, 403, 404].contains(&reply.status),
            "{attack}: {}",
            reply.status
        );
        let text = reply.text();
        assert!(!text.contains(secret), "{attack} served the secret");
        assert!(!text.contains("root:"), "{attack} served /etc/passwd");
        assert!(!text.contains(config.trim()), "{attack} served bantin.toml");
    }
    assert_eq!(server.get("/../bantin.toml").status, 403);
    assert_eq!(server.get("/%2e%2e/bantin.toml").status, 403);
    assert_eq!(server.get("//etc/passwd").status, 403);

    // A copied file replaced by a link out of the site after the build: refused.
    assert_eq!(server.get("/ok.txt").text(), "served\n");
    #[cfg(unix)]
    {
        fs::remove_file(site.path("static/ok.txt")).unwrap();
        std::os::unix::fs::symlink(
            site.dir.path().join("secret.txt"),
            site.path("static/ok.txt"),
        )
        .unwrap();
        // Before and after the rebuild (which fails: links are refused), never the secret.
        server.wait("the link to be refused by the build", || {
            let reply = server.get("/ok.txt");
            assert!(!reply.text().contains(secret), "a link out was followed");
            assert_eq!(reply.status, 403);
            (server.status()["ok"] == false).then_some(())
        });
        let reply = server.get("/ok.txt");
        assert_eq!(reply.status, 403);
        assert!(!reply.text().contains(secret));
    }
}

#[test]
fn an_edit_is_served_and_open_pages_reload() {
    let site = sample();
    let server = Server::start(&site);
    let events = server.events();
    let (event, data) = events.next();
    assert_eq!(event, "hello");
    assert_eq!(data, r#"{"generation":1,"ok":true}"#);

    site.report(
        "2023/09/so-ket.md",
        "Sơ kết đã sửa",
        "2023-09-13T14:00:00+07:00",
        "huyen-uy-an-phu",
    );
    assert_eq!(events.until("reload"), "2");
    let page = server.get("/2023/09/so-ket-da-sua/index.html");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Sơ kết đã sửa"));
    assert!(page.text().contains("data-bantin-generation=\"2\""));
    assert_eq!(
        server
            .get("/2023/09/so-ket-nghi-quyet-35/index.html")
            .status,
        404
    );
    let home = server.get("/").text();
    assert!(home.contains("Sơ kết đã sửa") && !home.contains("Sơ kết Nghị quyết 35"));

    // A new static file, a new report: served after a reload.
    site.write("static/moi.txt", "mới\n");
    site.report("2023/11/moi.md", "Bài mới", "2023-11-20", "tinh-uy");
    server.wait("the new report", || {
        (server.get("/2023/11/bai-moi/index.html").status == 200).then_some(())
    });
    assert_eq!(server.get("/moi.txt").text(), "mới\n");
    events.until("reload");
    // A source folder replaced whole is watched anew.
    fs::rename(site.path("static"), site.dir.path().join("static-old")).unwrap();
    site.write("static/thay.txt", "một\n");
    server.wait("the new static folder", || {
        (server.get("/thay.txt").text() == "một\n").then_some(())
    });
    assert_eq!(server.get("/robots.txt").status, 404);
    site.write("static/hai.txt", "hai\n");
    server.wait("a file in the new static folder", || {
        (server.get("/hai.txt").status == 200).then_some(())
    });
    // A file that is no source changes nothing.
    let before = server.status()["builds"].clone();
    site.write("README.md", "not a source");
    site.write("public/index.html", "not a source either");
    thread::sleep(Duration::from_millis(400));
    assert_eq!(server.status()["builds"], before);
    assert!(server.output().contains("Rebuilt in"));

    // A save without a change rebuilds but reloads nothing.
    server.settled(&site);
    let generation = server.status()["generation"].as_u64().unwrap();
    let same = fs::read(site.path("content/2023/11/moi.md")).unwrap();
    site.write("content/2023/11/moi.md", same);
    server.settled(&site);
    assert_eq!(server.status()["generation"], generation);
    while let Ok((event, data)) = events.rx.try_recv() {
        if event == "reload" {
            assert!(
                data.parse::<u64>().unwrap() <= generation,
                "a reload for nothing"
            );
        }
    }
    assert!(server.output().contains("nothing changed"));
}

#[test]
fn a_broken_build_keeps_the_last_good_site_and_shows_the_error() {
    let site = sample();
    let server = Server::start(&site);
    let events = server.events();
    assert_eq!(events.next().0, "hello");
    let good = server.get("/2023/09/so-ket-nghi-quyet-35/index.html");
    assert_eq!(good.status, 200);

    let broken = "+++\ntitle = \"Sơ kết Nghị quyết 35\"\ndate = 2023-09-13T14:00:00+07:00\nunit = \"huyen-uy-an-phu\"\ntitel = \"x\"\n+++\nSửa dở.\n";
    site.write("content/2023/09/so-ket.md", broken);
    let data: Value = serde_json::from_str(&events.until("error")).expect("JSON data");
    let text = data["text"].as_str().expect("the error text");
    // File, line and column; the line with a marker; the fix.
    assert!(
        text.contains("content/2023/09/so-ket.md:5:1: unknown key `titel`"),
        "{text}"
    );
    assert!(text.contains(" 5 | titel = \"x\"\n   | ^"), "{text}");
    assert!(text.contains("hint: did you mean `title`?"), "{text}");

    // The last good site is still served, with the script that shows the overlay.
    let still = server.get("/2023/09/so-ket-nghi-quyet-35/index.html");
    assert_eq!(still.status, 200);
    assert_eq!(still.body, good.body);
    let status = server.status();
    assert_eq!(status["ok"], false);
    assert_eq!(status["generation"], 1);
    assert!(status["errors"].as_str().unwrap().contains("titel"));
    // A page opened now is told at once.
    let late = server.events();
    assert_eq!(late.next().0, "hello");
    let (event, data) = late.next();
    assert_eq!(event, "error");
    assert!(data.contains("titel"));
    // And the terminal has it in full.
    server.wait("the error in the terminal", || {
        server
            .output()
            .contains("content/2023/09/so-ket.md:5:1: unknown key `titel`")
            .then_some(())
    });
    let script = server.get("/__bantin/live.js").text();
    assert!(script.contains("addEventListener(\"error\"") && script.contains("textContent"));

    // Fixed: the overlay clears (a reload), the new page is served.
    site.report(
        "2023/09/so-ket.md",
        "Sơ kết Nghị quyết 35",
        "2023-09-13T14:00:00+07:00",
        "tinh-uy",
    );
    assert_eq!(events.until("reload"), "2");
    assert_eq!(late.until("reload"), "2");
    let status = server.status();
    assert_eq!(status["ok"], true);
    assert_eq!(status["errors"], Value::Null);
    let fixed = server.get("/2023/09/so-ket-nghi-quyet-35/index.html");
    assert_eq!(fixed.status, 200);
    assert_ne!(fixed.body, good.body);
}

#[test]
fn a_site_broken_from_the_start_shows_its_errors_until_fixed() {
    let site = sample();
    site.write("units.toml", "[[unit]]\nid = \"tinh-uy\"\n");
    let server = Server::start(&site);
    let page = server.get("/");
    assert_eq!(page.status, 503);
    let text = page.text();
    assert!(text.contains("units.toml"), "{text}");
    assert!(text.contains(LIVE_TAG_START));
    let events = server.events();
    assert_eq!(
        events.next(),
        ("hello".into(), r#"{"generation":0,"ok":false}"#.into())
    );
    assert_eq!(events.next().0, "error");

    site.write("units.toml", UNITS);
    assert_eq!(events.until("reload"), "1");
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(unserved(&page.body), site.fresh_build()["index.html"]);
}

#[test]
fn a_burst_of_changes_ends_like_a_fresh_build() {
    let site = sample();
    for i in 0..12 {
        site.report(
            &format!("2022/{:02}/bai-{i}.md", i % 12 + 1),
            &format!("Bài cũ số {i}"),
            &format!("2022-{:02}-10", i % 12 + 1),
            ["tinh-uy", "huyen-uy-an-phu", "so-thong-tin"][i % 3],
        );
    }
    let server = Server::start(&site);
    assert_same(&served_tree(&server), &site.fresh_build());

    // Like a `git checkout` of another branch: many files at once.
    for i in 0..30 {
        site.write(
            &format!("content/2025/{:02}/moi-{i}.md", i % 12 + 1),
            report(
                &format!("Báo cáo mới {i}"),
                &format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
                ["tinh-uy", "huyen-uy-an-phu", "so-thong-tin", "xa-moi"][i % 4],
                &format!("tags = [\"chủ đề {}\"]\n", i % 5),
            ),
        );
    }
    for i in 0..5 {
        fs::remove_file(site.path(&format!("content/2022/{:02}/bai-{i}.md", i % 12 + 1))).unwrap();
    }
    for i in 5..8 {
        let from = site.path(&format!("content/2022/{:02}/bai-{i}.md", i % 12 + 1));
        let to = site.path(&format!("content/2021/doi-ten-{i}.md"));
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::rename(from, to).unwrap();
    }
    // A bundle moved whole, its image with it.
    fs::rename(site.path("content/2024"), site.path("content/nam-2024")).unwrap();
    fs::remove_file(site.path("static/blob.bin")).unwrap();
    site.write("static/logo.png", b"\x89PNG\r\n\x1a\n another png");
    site.write(
        "units.toml",
        format!("{}\n[[unit]]\nid = \"xa-moi\"\nname = \"Đảng ủy xã Mới\"\nparent = \"huyen-uy-an-phu\"\n", UNITS.replace("Sở Thông tin", "Sở TT")),
    );
    server.settled(&site);
    let served = served_tree(&server);
    assert!(served.contains_key("don-vi/xa-moi/index.html"));
    assert!(served.contains_key("2025/01/bao-cao-moi-0/index.html"));
    assert!(!served.contains_key("blob.bin"));
    assert_same(&served, &site.fresh_build());
}

/// `git` in the site's folder, as a user with no configuration would run it.
fn git(site: &Site, args: &[&str]) -> bool {
    Command::new("git")
        .args([
            "-c",
            "user.name=bantin",
            "-c",
            "user.email=bantin@example.org",
        ])
        .args([
            "-c",
            "init.defaultBranch=chinh",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(site.root())
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn switching_git_branches_ends_like_a_fresh_build() {
    let site = sample();
    if !git(&site, &["init", "-q"]) {
        eprintln!("no git here: skipped");
        return;
    }
    assert!(git(&site, &["add", "-A"]) && git(&site, &["commit", "-qm", "chính"]));
    assert!(git(&site, &["checkout", "-qb", "khac"]));
    for i in 0..15 {
        site.report(
            &format!("2026/{:02}/nhanh-{i}/index.md", i % 12 + 1),
            &format!("Bài của nhánh khác {i}"),
            &format!("2026-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
            ["tinh-uy", "huyen-uy-an-phu", "so-thong-tin"][i % 3],
        );
        site.write(
            &format!("content/2026/{:02}/nhanh-{i}/anh.jpg", i % 12 + 1),
            b"jpeg",
        );
    }
    fs::remove_file(site.path("content/2023/09/so-ket.md")).unwrap();
    fs::rename(site.path("content/2024"), site.path("content/cu")).unwrap();
    site.write(
        "bantin.toml",
        CONFIG.replace("paginate = 5", "paginate = 3"),
    );
    site.write(
        "units.toml",
        UNITS.replace("Huyện ủy An Phú", "Huyện ủy An Phú mới"),
    );
    assert!(git(&site, &["add", "-A"]) && git(&site, &["commit", "-qm", "khác"]));
    assert!(git(&site, &["checkout", "-q", "chinh"]));

    let server = Server::start(&site);
    assert_same(&served_tree(&server), &site.fresh_build());
    for branch in ["khac", "chinh"] {
        assert!(git(&site, &["checkout", "-q", branch]));
        server.settled(&site);
        let served = served_tree(&server);
        assert_eq!(
            served.contains_key("2026/01/bai-cua-nhanh-khac-0/anh.jpg"),
            branch == "khac"
        );
        assert_same(&served, &site.fresh_build());
    }
}

/// Rebuilds reuse what did not change (parsed reports, rendered Markdown, pages whose
/// fingerprint is the same): after every kind of single edit the served site must
/// still be, byte for byte, what a fresh build gives.
#[test]
fn each_kind_of_edit_ends_like_a_fresh_build() {
    let site = sample();
    for i in 0..6 {
        site.write(
            &format!("content/2022/{:02}/bai-{i}.md", i + 1),
            report(
                &format!("Bài số {i}"),
                &format!("2022-{:02}-10", i + 1),
                ["tinh-uy", "huyen-uy-an-phu", "so-thong-tin"][i % 3],
                &format!("tags = [\"chủ đề {}\"]\nkind = \"Hội nghị\"\n", i % 2),
            ),
        );
    }
    let server = Server::start(&site);
    assert_same(&served_tree(&server), &site.fresh_build());
    let bai = |i: usize| format!("content/2022/{:02}/bai-{i}.md", i + 1);
    type Edit<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let edits: Vec<Edit> = vec![
        (
            "a body",
            Box::new(|| {
                let text = fs::read_to_string(site.path(&bai(2))).unwrap();
                site.write(&bai(2), text.replace("Nội dung", "Nội dung đã sửa"));
            }),
        ),
        (
            "a title (its slug, its neighbours, its lists)",
            Box::new(|| {
                let text = fs::read_to_string(site.path(&bai(3))).unwrap();
                site.write(&bai(3), text.replace("Bài số 3", "Bài số ba đã đổi tên"));
            }),
        ),
        (
            "a tag (term counts on other reports)",
            Box::new(|| {
                let text = fs::read_to_string(site.path(&bai(1))).unwrap();
                site.write(&bai(1), text.replace("chủ đề 1", "chủ đề mới"));
            }),
        ),
        (
            "a unit",
            Box::new(|| {
                let text = fs::read_to_string(site.path(&bai(4))).unwrap();
                site.write(&bai(4), text.replace("huyen-uy-an-phu", "tinh-uy"));
            }),
        ),
        (
            "a date (its month, its year, the order)",
            Box::new(|| {
                let text = fs::read_to_string(site.path(&bai(0))).unwrap();
                site.write(&bai(0), text.replace("2022-01-10", "2023-12-31"));
            }),
        ),
        (
            "a link to another report",
            Box::new(|| {
                site.write(
                    "content/2022/lien-ket.md",
                    report("Liên kết", "2022-08-01", "tinh-uy", "")
                        + "Xem [bài kia](02/bai-1.md) và [bài mất](khong-co.md).\n",
                );
            }),
        ),
        (
            "the report a link points at, renamed",
            Box::new(|| {
                fs::rename(site.path(&bai(1)), site.path("content/2022/02/doi-ten.md")).unwrap();
            }),
        ),
        (
            "a report deleted",
            Box::new(|| {
                fs::remove_file(site.path(&bai(5))).unwrap();
            }),
        ),
        (
            "a template",
            Box::new(|| {
                site.write(
                    "templates/partials/cards.html",
                    "{% for r in reports %}<p class=\"the\">{{ r.title }}</p>{% endfor %}",
                );
            }),
        ),
        (
            "the units",
            Box::new(|| {
                site.write("units.toml", UNITS.replace("Tỉnh ủy", "Tỉnh ủy tỉnh"));
            }),
        ),
        (
            "the settings",
            Box::new(|| {
                site.write(
                    "bantin.toml",
                    CONFIG.replace("paginate = 5", "paginate = 2"),
                );
            }),
        ),
    ];
    for (what, edit) in &edits {
        edit();
        server.settled(&site);
        let served = served_tree(&server);
        let built = site.fresh_build();
        assert_eq!(
            served.keys().collect::<Vec<_>>(),
            built.keys().collect::<Vec<_>>(),
            "after an edit of {what}"
        );
        assert_same(&served, &built);
    }
}

/// A change to one template renders again only the pages made with it: the 404 page's
/// template is used by that page alone.
#[test]
fn a_template_change_renders_again_only_the_pages_that_use_it() {
    let site = sample();
    let server = Server::start(&site);
    site.write(
        "templates/404.html",
        "{% extends \"base.html\" %}{% block content %}<h1>Không có trang này</h1>{% endblock content %}",
    );
    server.settled(&site);
    let served = served_tree(&server);
    assert!(String::from_utf8_lossy(&served["404.html"]).contains("Không có trang này"));
    assert_same(&served, &site.fresh_build());
    let output = server.output();
    let line = output
        .lines()
        .find(|l| l.contains("pages rendered again"))
        .expect("a rebuild line");
    assert!(line.contains("(1 of "), "{line}");
}

/// Waits for the build that follows an edit made when the server was idle at build
/// `generation`, search index included, and returns its line of the server's output.
/// (Not [`Server::settled`]: its extra change would make a whole build after the
/// patch, which would hide a page the patch forgot.)
fn build_after(server: &Server, generation: &Value) -> String {
    server.wait("the build of the edit", || {
        let s = server.status();
        let done =
            s["generation"] != *generation && s["building"] == false && s["pending"] == false;
        done.then_some(())
    });
    let output = server.output();
    let line = output.lines().rfind(|l| l.starts_with("Rebuilt in"));
    line.expect("a rebuild line").to_string()
}

/// A save in place that moves nothing patches the last model; any edit that moves a
/// report in or out of a list, changes an index, or changes an address something else
/// depends on, builds the whole site. Either way the served site is, byte for byte,
/// what a fresh build gives.
#[test]
fn a_save_in_place_patches_the_model_only_when_it_may() {
    let site = sample();
    let bai = |i: usize| format!("content/2022/{:02}/bai-{i}.md", i + 1);
    for i in 0..7 {
        site.write(
            &bai(i),
            report(
                &format!("Bài số {i}"),
                &format!("2022-{:02}-10", i + 1),
                ["tinh-uy", "huyen-uy-an-phu", "so-thong-tin"][i % 3],
                &format!("tags = [\"chủ đề {}\"]\nkind = \"Hội nghị\"\n", i % 2),
            ),
        );
    }
    // Two reports of one day, listed by title; one that links to another.
    let cung_ngay = |t: &str| report(t, "2022-12-01", "tinh-uy", "");
    site.write("content/2022/12/an.md", cung_ngay("An toàn"));
    site.write("content/2022/12/binh.md", cung_ngay("Bình yên"));
    site.write(
        "content/2022/12/lien-ket.md",
        report("Liên kết", "2022-12-20", "tinh-uy", "") + "Xem [bài kia](../05/bai-4.md).\n",
    );
    let server = Server::start(&site);
    let edit = |rel: &str, from: &str, to: &str| {
        let text = fs::read_to_string(site.path(rel)).unwrap();
        assert!(text.contains(from), "{rel} has no {from:?}");
        site.write(rel, text.replacen(from, to, 1));
    };
    let (a, b) = (bai(2), bai(3));
    type Edit<'a> = (&'a str, bool, Box<dyn Fn() + 'a>);
    let edits: Vec<Edit> = vec![
        (
            "a body",
            true,
            Box::new(|| edit(&a, "Nội dung", "Nội dung đã sửa")),
        ),
        (
            "a summary and an author",
            true,
            Box::new(|| {
                edit(
                    &a,
                    "+++\nNội",
                    "summary = \"Tóm tắt\"\nauthors = [\"Minh Kha\"]\n+++\nNội",
                )
            }),
        ),
        (
            "a dead link",
            true,
            Box::new(|| edit(&a, "đã sửa", "[mất](khong-co.md)")),
        ),
        (
            "a title, and with it its address",
            true,
            Box::new(|| edit(&b, "Bài số 3", "Bài số ba")),
        ),
        (
            "a title with the slug given",
            true,
            Box::new(|| {
                edit(
                    &b,
                    "title = \"Bài số ba\"",
                    "title = \"Bài ba\"\nslug = \"bai-so-ba\"",
                )
            }),
        ),
        (
            "a title that changes the order of a day's reports",
            false,
            Box::new(|| edit("content/2022/12/an.md", "An toàn", "Ca dao")),
        ),
        (
            "a date in the same month",
            false,
            Box::new(|| edit(&a, "2022-03-10", "2022-03-11")),
        ),
        (
            "a date in another month",
            false,
            Box::new(|| edit(&a, "2022-03-11", "2022-04-11")),
        ),
        (
            "a tag added",
            false,
            Box::new(|| edit(&b, "tags = [", "tags = [\"mới\", ")),
        ),
        (
            "a kind",
            false,
            Box::new(|| edit(&b, "Hội nghị", "Hội thảo")),
        ),
        (
            "a unit",
            false,
            Box::new(|| edit(&b, "unit = \"tinh-uy", "unit = \"so-thong-tin")),
        ),
        (
            "the title of a report another links to",
            false,
            Box::new(|| edit(&bai(4), "Bài số 4", "Bài số bốn")),
        ),
        (
            "the title of a bundle",
            false,
            Box::new(|| {
                edit(
                    "content/2024/01/lam-viec/index.md",
                    "Làm việc tại",
                    "Làm việc ở",
                )
            }),
        ),
        (
            "a slug taken by another report",
            false,
            Box::new(|| {
                edit(
                    &a,
                    "title = \"Bài số 2\"",
                    "title = \"Bài số 2\"\nslug = \"bai-so-ba\"",
                )
            }),
        ),
        (
            "the slug of a report whose address another waits for",
            false,
            Box::new(|| edit(&b, "slug = \"bai-so-ba\"", "slug = \"bai-ba\"")),
        ),
        (
            "a draft",
            false,
            Box::new(|| edit(&bai(5), "+++\nNội", "draft = true\n+++\nNội")),
        ),
        (
            "a body again",
            true,
            Box::new(|| edit(&bai(6), "Nội dung", "Nội dung mới")),
        ),
    ];
    for (what, patched, edit) in &edits {
        let generation = server.status()["generation"].clone();
        edit();
        let line = build_after(&server, &generation);
        assert_same(&served_tree(&server), &site.fresh_build());
        assert_eq!(
            line.contains("patched in place"),
            *patched,
            "after an edit of {what}: {line}"
        );
    }
}

/// The search index is made on a thread of its own, and saves made meanwhile are
/// built at once: however they interleave, the site served at the end, its index
/// included, is what a fresh build gives.
#[test]
fn saves_made_while_the_search_index_is_made_end_like_a_fresh_build() {
    let site = sample();
    for i in 0..300 {
        site.write(
            &format!("content/2021/{:02}/bai-{i}.md", i % 12 + 1),
            report(
                &format!("Bài {i} về chuyển đổi số"),
                &format!("2021-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
                ["tinh-uy", "huyen-uy-an-phu", "so-thong-tin"][i % 3],
                "tags = [\"chuyển đổi số\"]\n",
            ),
        );
    }
    let server = Server::start(&site);
    let rel = "content/2021/05/bai-4.md";
    let text = fs::read_to_string(site.path(rel)).unwrap();
    for i in 0..8 {
        site.write(
            rel,
            text.replace("Nội dung", &format!("Lần sửa {i}: nội dung")),
        );
        thread::sleep(Duration::from_millis(15 * (i % 3)));
    }
    server.settled(&site);
    assert_same(&served_tree(&server), &site.fresh_build());
    assert!(
        server.output().contains("patched in place"),
        "{}",
        server.output()
    );
}
