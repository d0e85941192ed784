//! Shared helpers of the integration tests: fixture sites in temporary folders, running
//! the `bantin` binary on them, and reading what a reader would see in the output.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// The bantin.toml of a fixture site, before any extra lines.
pub const CONFIG: &str = "title = \"Bản tin thử nghiệm\"\ntimezone = \"+07:00\"\n";

/// A unit forest three levels deep, with siblings and a second root:
///
/// ```text
/// tinh-uy                 Tỉnh ủy Hòa Bình
///   huyen-uy-an-phu       Huyện ủy An Phú
///     xa-binh-minh        Đảng ủy xã Bình Minh
///   huyen-uy-cam-le       Huyện ủy Cẩm Lệ
/// so-thong-tin            Sở Thông tin và Truyền thông
/// ```
pub const UNITS: &str = r#"[[unit]]
id = "tinh-uy"
name = "Tỉnh ủy Hòa Bình"
short = "TU Hòa Bình"

[[unit]]
id = "huyen-uy-an-phu"
name = "Huyện ủy An Phú"
parent = "tinh-uy"

[[unit]]
id = "xa-binh-minh"
name = "Đảng ủy xã Bình Minh"
parent = "huyen-uy-an-phu"

[[unit]]
id = "huyen-uy-cam-le"
name = "Huyện ủy Cẩm Lệ"
parent = "tinh-uy"

[[unit]]
id = "so-thong-tin"
name = "Sở Thông tin và Truyền thông"
"#;

pub const ALL_UNITS: [&str; 5] = [
    "tinh-uy",
    "huyen-uy-an-phu",
    "xa-binh-minh",
    "huyen-uy-cam-le",
    "so-thong-tin",
];

/// The `bantin` command, built once by cargo for all tests.
pub fn bantin() -> Command {
    let mut cmd = Command::cargo_bin("bantin").expect("the bantin binary is built");
    cmd.env_remove("RUST_BACKTRACE").env("NO_COLOR", "1");
    cmd
}

/// A site in a temporary folder, removed when dropped.
pub struct Site {
    /// The temporary folder; the site is `root`, this folder or a folder inside it.
    pub dir: TempDir,
    root: PathBuf,
}

impl Default for Site {
    fn default() -> Self {
        Site::new()
    }
}

impl Site {
    /// The fixture bantin.toml and units.toml, no content yet.
    pub fn new() -> Site {
        Site::with_config("")
    }

    /// Like `new`, with lines added to bantin.toml (`paginate = 2`, `base_url = "..."`).
    pub fn with_config(extra: &str) -> Site {
        let site = Site::empty();
        site.write("bantin.toml", format!("{CONFIG}{extra}\n"));
        site.write("units.toml", UNITS);
        site
    }

    /// An empty temporary folder.
    pub fn empty() -> Site {
        let dir = tempfile::Builder::new()
            .prefix("bantin-test-")
            .tempdir()
            .expect("a temporary folder");
        let root = dir.path().to_path_buf();
        Site { dir, root }
    }

    /// The fixture site in `site/` inside the temporary folder, so that the folder
    /// around the site can be looked at too.
    pub fn nested() -> Site {
        let mut site = Site::empty();
        site.root = site.dir.path().join("site");
        site.write("bantin.toml", format!("{CONFIG}\n"));
        site.write("units.toml", UNITS);
        site
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path inside the site's folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Writes a file of the site (folders made as needed).
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> &Site {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create the folder");
        fs::write(&path, bytes).expect("write the file");
        self
    }

    /// Writes `content/REL`: front matter lines between `+++`, then the body.
    pub fn report(&self, rel: &str, front: &[&str], body: &str) -> &Site {
        self.write(&format!("content/{rel}"), report_text(front, body))
    }

    /// A report with just the required keys and a one-line body.
    pub fn simple(&self, rel: &str, title: &str, date: &str, unit: &str) -> &Site {
        let title_line = format!("title = {}", toml_str(title));
        let date_line = format!("date = {date}");
        let unit_line = format!("unit = {}", toml_str(unit));
        self.report(
            rel,
            &[&title_line, &date_line, &unit_line],
            &format!("Nội dung của bài {title}.\n"),
        )
    }

    /// `bantin build --root ROOT ARGS...`
    pub fn build(&self, args: &[&str]) -> Output {
        self.run("build", args)
    }

    /// `bantin build`, which must succeed.
    pub fn build_ok(&self, args: &[&str]) -> Output {
        let out = self.build(args);
        assert_ok(&out);
        out
    }

    /// `bantin check --root ROOT ARGS...`
    pub fn check(&self, args: &[&str]) -> Output {
        self.run("check", args)
    }

    pub fn run(&self, command: &str, args: &[&str]) -> Output {
        bantin()
            .arg(command)
            .arg("--root")
            .arg(self.root())
            .args(args)
            .output()
            .expect("run bantin")
    }

    /// The default output folder.
    pub fn out(&self) -> PathBuf {
        self.path("public")
    }

    /// A file of the default output, as text.
    pub fn read(&self, rel: &str) -> String {
        read(&self.out().join(rel))
    }

    /// Whether the default output has this file.
    pub fn has(&self, rel: &str) -> bool {
        self.out().join(rel).is_file()
    }
}

/// A report's text.
pub fn report_text(front: &[&str], body: &str) -> String {
    let mut text = String::from("+++\n");
    for line in front {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str("+++\n");
    text.push_str(body);
    text
}

/// A TOML basic string.
pub fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit 0, and no panic.
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "bantin failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// Exit 1, and no panic.
pub fn assert_fails(out: &Output) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1\nstdout:\n{}\nstderr:\n{err}",
        stdout(out)
    );
    assert!(!err.contains("panicked"), "bantin panicked:\n{err}");
}

/// Every file under `dir`, by '/'-separated path relative to it, with its bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .expect("read a folder")
            .map(|e| e.expect("a folder entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(base, &path, files);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .expect("inside")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(rel, fs::read(&path).expect("read a file"));
            }
        }
    }
    if dir.is_dir() {
        walk(dir, dir, &mut files);
    }
    files
}

/// The '/'-separated paths of every file under `dir`.
pub fn file_list(dir: &Path) -> BTreeSet<String> {
    tree(dir).into_keys().collect()
}

/// The bytes of two trees are the same; on a difference, says which files differ.
pub fn assert_same_tree(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) {
    let only_a: Vec<_> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    let only_b: Vec<_> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    let differ: Vec<_> = a
        .iter()
        .filter(|(k, v)| b.get(*k).is_some_and(|w| w != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        only_a.is_empty() && only_b.is_empty() && differ.is_empty(),
        "the trees differ:\n only in the first: {only_a:?}\n only in the second: {only_b:?}\n different bytes: {differ:?}"
    );
}

/// Decodes the character references Tera and ammonia write (`&#x2F;`, `&amp;`, ...).
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ if name.starts_with("#x") || name.starts_with("#X") => {
                u32::from_str_radix(&name[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The values of attribute `attr` (`href`, `src`, ...) in `html`, decoded, in order.
pub fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let mut values = Vec::new();
    let bytes = html.as_bytes();
    let needle = format!("{attr}=");
    let mut from = 0;
    while let Some(i) = html[from..].find(&needle) {
        let at = from + i;
        from = at + needle.len();
        // A whole attribute name: preceded by white space.
        if at == 0 || !bytes[at - 1].is_ascii_whitespace() {
            continue;
        }
        let Some(&quote) = bytes.get(from) else { break };
        let value = if quote == b'"' || quote == b'\'' {
            let start = from + 1;
            let Some(len) = html[start..].find(quote as char) else {
                break;
            };
            from = start + len + 1;
            &html[start..start + len]
        } else {
            let len = html[from..]
                .find(|c: char| c.is_ascii_whitespace() || c == '>')
                .unwrap_or(html.len() - from);
            let v = &html[from..from + len];
            from += len;
            v
        };
        values.push(decode_entities(value));
    }
    values
}

/// Every `href`, `src` and `action` of a page.
pub fn links(html: &str) -> Vec<String> {
    let mut all = attr_values(html, "href");
    all.extend(attr_values(html, "src"));
    all.extend(attr_values(html, "action"));
    all
}

/// What is between `<main ...>` and `</main>`.
pub fn main_of(html: &str) -> &str {
    let start = html
        .find("<main")
        .unwrap_or_else(|| panic!("no <main> in:\n{html}"));
    let start = start + html[start..].find('>').expect("end of <main") + 1;
    let end = html.rfind("</main>").expect("no </main>");
    &html[start..end]
}

/// A page's text without tags, character references decoded, white space collapsed.
pub fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    decode_entities(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `href` as written on page `page` (a path from the output root), resolved to a path
/// from the output root without `?query` and `#fragment`, percent-decoded; None if it
/// climbs above the root.
pub fn resolve(page: &str, href: &str) -> Option<String> {
    let href = href.split(['#', '?']).next().unwrap_or("");
    let href = percent_decode(href);
    let mut parts: Vec<String> = page.split('/').map(str::to_string).collect();
    parts.pop(); // the page's own file name
    if href.is_empty() {
        return Some(page.to_string());
    }
    let ends_in_folder = href.ends_with('/');
    for seg in href.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s.to_string()),
        }
    }
    let mut joined = parts.join("/");
    if ends_in_folder && !joined.is_empty() {
        joined.push('/');
    }
    Some(joined)
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a link leaves the site: a scheme (`https:`, `mailto:`, `data:`) or `//host`.
pub fn is_external(href: &str) -> bool {
    if href.starts_with("//") {
        return true;
    }
    match href.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
        }
        None => false,
    }
}

/// Crawls every .html file of `out`: every relative `href`/`src`/`action` must reach an
/// existing file (not a folder); no link may be absolute (`/...`) or hold `base_url`.
/// Returns the problems found, one line each.
pub fn crawl(out: &Path, base_url: Option<&str>) -> Vec<String> {
    let files = file_list(out);
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in files.iter().filter(|f| f.ends_with(".html")) {
        let html = read(&out.join(page));
        for href in links(&html) {
            checked += 1;
            if let Some(base) = base_url {
                if href.contains(base) {
                    problems.push(format!("{page}: `{href}` holds the base_url"));
                    continue;
                }
            }
            if href.starts_with('/') {
                problems.push(format!("{page}: `{href}` is absolute"));
                continue;
            }
            if href.starts_with('#') || is_external(&href) {
                continue;
            }
            match resolve(page, &href) {
                None => problems.push(format!("{page}: `{href}` climbs above the site")),
                Some(target) if files.contains(&target) => {}
                Some(target) if out.join(&target).is_dir() || target.ends_with('/') => problems
                    .push(format!(
                        "{page}: `{href}` names a folder ({target}), not a file"
                    )),
                Some(target) => {
                    problems.push(format!("{page}: `{href}` reaches nothing ({target})"))
                }
            }
        }
    }
    assert!(
        checked > 0,
        "the crawler found no links at all in {}",
        out.display()
    );
    problems
}

/// The reports linked from a page's `<main>`, in order of first appearance, as
/// "YYYY/MM/slug" paths from the output root.
pub fn report_links(page: &str, html: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for href in attr_values(main_of(html), "href") {
        let Some(target) = resolve(page, &href) else {
            continue;
        };
        let target = target
            .strip_suffix("index.html")
            .unwrap_or(&target)
            .trim_end_matches('/')
            .to_string();
        let parts: Vec<&str> = target.split('/').collect();
        let is_report = parts.len() == 3
            && parts[0].len() == 4
            && parts[0].bytes().all(|b| b.is_ascii_digit())
            && parts[1].len() == 2
            && parts[1].bytes().all(|b| b.is_ascii_digit())
            && parts[2] != "page";
        if is_report && !found.contains(&target) {
            found.push(target);
        }
    }
    found
}

/// `report_links` of a page of the default output of `site`.
pub fn reports_on(site: &Site, page: &str) -> Vec<String> {
    report_links(page, &site.read(page))
}

/// The repository's own sample site (bantin.toml, units.toml, content/) copied into a
/// temporary folder.
pub fn sample_site() -> Site {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = Site::empty();
    for file in ["bantin.toml", "units.toml"] {
        fs::copy(repo.join(file), site.path(file)).expect("copy the sample site's settings");
    }
    for (rel, bytes) in tree(&repo.join("content")) {
        site.write(&format!("content/{rel}"), bytes);
    }
    site
}
