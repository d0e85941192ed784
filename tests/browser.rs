//! The sample site in a real browser: Debian's Chromium, headless, driven by
//! playwright-core (tests/browser/drive.mjs, which never downloads a browser), opened
//! both from disk (file://) and from a static server on 127.0.0.1 under a sub-path.
//!
//! Needs `chromium` (apt-get install chromium), Node.js, and `npm ci` in tests/browser
//! (playwright-core and axe-core, pinned in its package-lock.json); `.ci/run` installs
//! all three. Without them these tests fail and say how to install them.
//!
//! Screenshots go to target/test-artifacts/browser/.

mod common;
#[path = "browser/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Chromium: $BANTIN_CHROMIUM, or `chromium` on the PATH.
fn chromium() -> PathBuf {
    let found = match std::env::var_os("BANTIN_CHROMIUM") {
        Some(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        None => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("chromium"))
                .find(|p| p.is_file())
        }),
    };
    found.unwrap_or_else(|| {
        panic!(
            "Chromium is missing: the browser tests need Debian's Chromium; install it with: \
             apt-get install chromium (or set BANTIN_CHROMIUM to a Chromium binary)"
        )
    })
}

fn driver() -> PathBuf {
    let dir = repo().join("tests/browser");
    if Command::new("node").arg("--version").output().is_err() {
        panic!("Node.js is missing: the browser tests drive Chromium with it; install it with: apt-get install nodejs npm");
    }
    for package in ["playwright-core", "axe-core"] {
        if !dir
            .join("node_modules")
            .join(package)
            .join("package.json")
            .is_file()
        {
            panic!(
                "{package} is missing: install the browser test tools with: npm ci --prefix tests/browser"
            );
        }
    }
    dir.join("drive.mjs")
}

struct Built {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

/// The sample site (this repository), built once into a temporary folder.
fn site() -> &'static Built {
    static SITE: OnceLock<Built> = OnceLock::new();
    SITE.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temporary folder");
        let dir = tmp.path().join("site");
        let out = Command::new(env!("CARGO_BIN_EXE_bantin"))
            .args(["build", "--root"])
            .arg(repo())
            .arg("--out")
            .arg(&dir)
            .output()
            .expect("run bantin");
        assert!(
            out.status.success(),
            "bantin build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Built { _tmp: tmp, dir }
    })
}

fn server() -> &'static server::Server {
    static SERVER: OnceLock<server::Server> = OnceLock::new();
    SERVER.get_or_init(|| server::Server::start(&site().dir, "bantin"))
}

fn file_base(dir: &Path) -> String {
    let mut url = String::from("file://");
    for b in dir.to_string_lossy().bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                url.push(b as char)
            }
            _ => url.push_str(&format!("%{b:02X}")),
        }
    }
    url.push('/');
    url
}

/// Runs a scenario of drive.mjs; returns its result. Fails on any console error,
/// uncaught exception or failed request of any page it visited.
fn drive(mut cmd: Value) -> Value {
    // One Chromium at a time: the machines have two cores.
    static ONE: Mutex<()> = Mutex::new(());
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    cmd["chromium"] = json!(chromium());
    let script = driver();
    let out = Command::new("node")
        .arg(&script)
        .arg(cmd.to_string())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("drive.mjs printed no result:\n{stdout}\n{stderr}"));
    assert!(
        report["ok"] == json!(true),
        "scenario {} failed: {}\n{stderr}",
        cmd["scenario"],
        report["error"].as_str().unwrap_or("?")
    );
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    assert!(
        errors.is_empty(),
        "pages logged errors:\n{}",
        serde_json::to_string_pretty(&errors).unwrap_or_default()
    );
    report["result"].clone()
}

fn titles(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["title"].as_str().unwrap_or("").to_string())
        .collect()
}

fn marks(v: &Value, i: usize) -> Vec<String> {
    v["results"][i]["marks"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|x| x.as_str())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

const NQ35_PROVINCE: &str = "Tỉnh ủy Long Giang sơ kết 5 năm thực hiện Nghị quyết 35-NQ/TW";
const NQ35_DISTRICT: &str = "Huyện ủy Bạch Lộc sơ kết 5 năm thực hiện Nghị quyết 35-NQ/TW";
/// A report of a unit two levels below huyen-uy-bach-loc.
const SUB_UNIT_REPORT: &str =
    "Chi bộ thôn Phú Hòa sinh hoạt chuyên đề nhận diện thông tin xấu, độc";

const QUERIES: &[&str] = &[
    "dang",
    "đảng",
    // đảng, decomposed (as some systems paste it)
    "\u{0111}a\u{0309}ng",
    "tọa đàm",
    "toạ đàm",
    "toa dam",
    "35-NQ/TW",
    "\"ban chi dao 35\"",
    "ban chi dao 35",
    "hoi nghi so ket cang long",
];

fn search_checks(base: &str) {
    let r = drive(json!({
        "scenario": "search",
        "base": base,
        "header_query": "hoi nghi so ket",
        "query": "so ket nghi quyet 35",
        "unit": "huyen-uy-bach-loc",
        "year": "2023",
        "queries": QUERIES,
    }));

    // The header's box, without marks, finds the reports with marks.
    let header = titles(&r["header"]);
    assert!(
        header.len() >= 3 && header[..3].iter().all(|t| t.contains("sơ kết")),
        "{header:#?}"
    );

    // Typed without marks: the two reports on Resolution 35 first, marks highlighted.
    let typed = titles(&r["typed"]);
    let mut top: Vec<&str> = typed.iter().take(2).map(String::as_str).collect();
    top.sort();
    assert_eq!(top, [NQ35_DISTRICT, NQ35_PROVINCE], "{typed:#?}");
    let m = marks(&r["typed"], 0);
    for w in ["sơ", "kết", "Nghị", "quyết", "35"] {
        assert!(m.iter().any(|x| x == w), "{w} not highlighted in {m:?}");
    }

    // The unit filter narrows to the unit and the units below it.
    let filtered = titles(&r["filtered"]);
    let count = |v: &Value| v["count"].as_u64().expect("count");
    assert!(
        !filtered.is_empty() && count(&r["filtered"]) < count(&r["typed"]),
        "{filtered:#?}"
    );
    assert_eq!(filtered[0], NQ35_DISTRICT);
    assert!(
        filtered.iter().any(|t| t == SUB_UNIT_REPORT),
        "{filtered:#?}"
    );
    assert!(!filtered.iter().any(|t| t == NQ35_PROVINCE));
    // And the year filter narrows again.
    let by_year = &r["by_year"]["results"];
    let by_year_titles = titles(&r["by_year"]);
    assert!(!by_year_titles.is_empty() && count(&r["by_year"]) < count(&r["filtered"]));
    for res in by_year.as_array().unwrap() {
        assert!(res["meta"].as_str().unwrap().contains("/2023"), "{res}");
    }
    // The search's address, opened anew, gives the same results.
    assert_eq!(titles(&r["linked"]), filtered);

    // "Show more" adds results; following a result opens its report.
    assert!(
        r["more"]["after"].as_u64() > r["more"]["before"].as_u64(),
        "{}",
        r["more"]
    );
    assert_eq!(r["report"]["h1"], r["followed_title"]);
    assert!(!r["report"]["url"].as_str().unwrap().contains("tim-kiem"));

    let q = |q: &str| r["queries"][q].clone();
    // Đảng and dang find the same reports; with marks, the same marks rank first.
    let dang = titles(&q("dang"));
    assert!(!dang.is_empty());
    let mut sorted = dang.clone();
    sorted.sort();
    for other in ["đảng", "\u{0111}a\u{0309}ng"] {
        let mut t = titles(&q(other));
        t.sort();
        assert_eq!(t.len(), sorted.len(), "{other}");
    }
    let first = marks(&q("đảng"), 0);
    assert!(
        first.iter().any(|m| m.to_lowercase() == "đảng"),
        "{first:?}"
    );
    // Old and new tone placement are one spelling: both titles, either way.
    for variant in ["tọa đàm", "toạ đàm", "toa dam"] {
        let t = titles(&q(variant));
        assert!(
            t.len() >= 2
                && t[..2]
                    .iter()
                    .all(|x| x.starts_with("Tọa đàm") || x.starts_with("Toạ đàm")),
            "{variant}: {t:#?}"
        );
    }
    // A document code as typed; a quoted phrase in order.
    let code = titles(&q("35-NQ/TW"));
    assert!(code.len() >= 2, "{code:#?}");
    let mut top: Vec<&str> = code.iter().take(2).map(String::as_str).collect();
    top.sort();
    assert_eq!(top, [NQ35_DISTRICT, NQ35_PROVINCE]);
    let phrase = q("\"ban chi dao 35\"");
    let loose = q("ban chi dao 35");
    assert!(count(&phrase) > 0 && count(&phrase) < count(&loose));
    assert!(titles(&phrase)[0].contains("Ban Chỉ đạo 35"));
}

#[test]
fn search_from_disk() {
    search_checks(&file_base(&site().dir));
}

#[test]
fn search_over_http_under_a_sub_path() {
    search_checks(&server().base);
}

const REPORT: &str =
    "2023/10/tinh-uy-long-giang-so-ket-5-nam-thuc-hien-nghi-quyet-35-nq-tw/index.html";
const UNIT: &str = "don-vi/huyen-uy-bach-loc/index.html";
const SEARCH: &str = "tim-kiem/index.html?q=so%20ket%20nghi%20quyet%2035";

/// Over HTTP: from file://, axe-core's own requests for the stylesheets are refused.
#[test]
fn no_serious_accessibility_violations() {
    {
        let base = server().base.clone();
        let r = drive(json!({
            "scenario": "axe",
            "base": base,
            "pages": ["index.html", REPORT, UNIT, SEARCH],
        }));
        let mut bad = Vec::new();
        for (page, violations) in r.as_object().expect("pages") {
            for v in violations.as_array().expect("violations") {
                if matches!(v["impact"].as_str(), Some("serious" | "critical")) {
                    bad.push(format!("{page}: {v}"));
                }
            }
        }
        assert!(bad.is_empty(), "axe-core ({base}):\n{}", bad.join("\n"));
    }
}

#[test]
fn screenshots_at_phone_and_desktop_widths() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let artifacts = target.join("test-artifacts").join("browser");
    let r = drive(json!({
        "scenario": "screenshots",
        "base": server().base,
        "label": "sample",
        "artifacts": artifacts,
        "pages": {"home": "index.html", "report": REPORT, "unit": UNIT, "search": SEARCH},
    }));
    let files = r["files"].as_array().expect("files");
    assert_eq!(files.len(), 8);
    for f in files {
        let path = PathBuf::from(f["file"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 2000,
            "{}",
            path.display()
        );
        assert!(
            f["overflow"].as_i64().unwrap_or(1) <= 0,
            "{} is wider than the window at {} px",
            f["page"],
            f["width"]
        );
    }
}

#[test]
fn search_page_without_javascript_points_to_archive_and_units() {
    let r = drive(json!({"scenario": "nojs", "base": server().base}));
    let text = r["text"].as_str().unwrap();
    assert!(text.contains("cần JavaScript"), "{text}");
    let links: Vec<&str> = r["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    assert!(links.contains(&"../luu-tru/index.html"), "{links:?}");
    assert!(links.contains(&"../don-vi/index.html"), "{links:?}");
}

/// For BENCHMARKS.md, not run by default: `BANTIN_BENCH_SITE=DIR cargo test --release
/// --test browser -- --ignored --nocapture bench`, DIR a built site. Prints, for a few
/// queries, the load/answer times measured in the page (performance.now()) and the
/// bytes a first search makes the browser transfer (each query alone in a new browser,
/// over HTTP), then the times of the same queries in one page from disk and over HTTP.
#[test]
#[ignore]
fn bench_search() {
    let dir = PathBuf::from(std::env::var("BANTIN_BENCH_SITE").expect("BANTIN_BENCH_SITE"));
    let queries = [
        "hoi nghi",
        "sơ kết",
        "cang long",
        "35-NQ/TW",
        "dân vận chính quyền",
        "\"nhân rộng các điển hình\"",
    ];
    let served = server::Server::start(&dir, "bench");
    println!("first search, each query alone in a new browser, over HTTP:");
    for q in queries {
        served.take_sent();
        let r = drive(json!({"scenario": "bench", "base": served.base, "queries": [q]}));
        let sent = served.take_sent();
        let search: u64 = sent
            .iter()
            .filter(|(p, _)| p.contains("/tim-kiem/") || p.ends_with("/search.js"))
            .map(|(_, b)| b)
            .sum();
        let all: u64 = sent.values().sum();
        let files = sent.keys().filter(|p| p.contains("/tim-kiem/")).count();
        println!(
            "  {q:<28} {}  search files: {search} bytes in {files} files (+ search.js); with the page and CSS: {all} bytes",
            r[0]
        );
    }
    for base in [file_base(&dir), served.base.clone()] {
        let r = drive(json!({"scenario": "bench", "base": base, "queries": queries}));
        println!("all queries in one page, {base}:");
        for row in r.as_array().unwrap() {
            println!("  {row}");
        }
    }
}
