//! The fuzz targets of bantin as plain functions of the input bytes: libFuzzer calls them
//! from `fuzz_targets/` (`cargo fuzz run NAME`), the stable smoke runner
//! (`src/bin/smoke.rs`) from a loop of its own. A target panics on whatever it finds:
//! a panic inside bantin, a broken invariant, script surviving into the output, a file
//! written outside the output folder. Stack overflows and hangs are found by the
//! runners.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use bantin::config::Config;
use bantin::markdown::{LinkResolver, MarkdownInput};
use bantin::units::UnitTree;

/// The XSS check of the integration tests, shared.
#[path = "../../tests/support/xss.rs"]
pub mod xss;

/// A fuzz target: a function of the input bytes that panics on what it finds.
pub type Target = fn(&[u8]);

/// The targets, by name: what `cargo fuzz run NAME` and `smoke --target NAME` run.
pub const TARGETS: &[(&str, Target)] = &[
    ("front_matter", front_matter),
    ("markdown", markdown),
    ("units", units),
    ("site", site),
];

/// The largest input worth trying, per target (the smoke runner's mutations stay below).
pub fn max_len(target: &str) -> usize {
    match target {
        "site" => 128 * 1024,
        _ => 64 * 1024,
    }
}

/// The repository: the sample site is the seed corpus.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("fuzz/ is inside the repository")
        .to_path_buf()
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Every diagnostic must print (the caret code slices lines by characters).
fn show(diags: &[bantin::diag::Diagnostic]) {
    for d in diags {
        let shown = d.to_string();
        assert!(!shown.is_empty());
    }
}

fn sample_config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::parse(
            "title = \"Bản tin\"\ntimezone = \"+07:00\"\n",
            Path::new("bantin.toml"),
        )
        .expect("the fuzz config parses")
    })
}

fn sample_units() -> &'static UnitTree {
    static UNITS: OnceLock<UnitTree> = OnceLock::new();
    UNITS.get_or_init(|| {
        let text = fs::read_to_string(repo().join("units.toml")).expect("the sample units.toml");
        UnitTree::parse(&text, Path::new("units.toml")).expect("the sample units.toml parses")
    })
}

fn check_slug(slug: &str) {
    assert!(!slug.is_empty(), "empty slug");
    assert!(
        slug.len() <= bantin::lang::MAX_SLUG_LEN,
        "slug too long: {slug}"
    );
    assert!(
        slug.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "slug {slug:?}"
    );
}

/// A report file (front matter and body) and, from the same bytes, bantin.toml.
pub fn front_matter(data: &[u8]) {
    let Ok(text) = bantin::load::text_from_bytes(data.to_vec(), Path::new("content/r.md")) else {
        return;
    };
    for units in [Some(sample_units()), None] {
        match bantin::report::parse(
            &text,
            "2023/09/bai/index.md",
            Path::new("content/2023/09/bai/index.md"),
            sample_config(),
            units,
        ) {
            Ok(report) => {
                assert!(!report.title.trim().is_empty(), "empty title");
                check_slug(&report.slug);
                for (alias, _) in &report.aliases {
                    assert!(
                        !alias.starts_with('/')
                            && alias
                                .split('/')
                                .all(|s| !s.is_empty() && s != "." && s != ".."),
                        "alias {alias:?} leaves the output"
                    );
                }
                for term in report.tags.iter().chain(&report.documents) {
                    let slug = bantin::lang::slugify(term);
                    check_slug(&slug);
                }
            }
            Err(diags) => {
                assert!(!diags.is_empty(), "a report refused without a reason");
                show(&diags);
            }
        }
    }
    if let Err(diags) = Config::parse(&text, Path::new("bantin.toml")) {
        show(&diags);
    }
}

struct Files(HashMap<String, String>);

impl LinkResolver for Files {
    fn resolve(&self, target: &str) -> Option<String> {
        self.0.get(target).cloned()
    }
}

fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        Files(
            [
                ("2023/09/so-ket.md", "2023/09/so-ket-nghi-quyet/index.html"),
                ("2023/09/bai/index.md", "2023/09/bai/index.html"),
                ("2023/09/bai/quang-canh.jpg", "2023/09/bai/quang-canh.jpg"),
                (
                    "2023/09/bai/ảnh đại biểu.jpg",
                    "2023/09/bai/ảnh đại biểu.jpg",
                ),
                ("index.md", "2020/01/gioi-thieu/index.html"),
            ]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        )
    })
}

/// A report body through the Markdown pipeline. The first byte: bit 0 allows raw HTML.
/// Without it, no script may come out.
pub fn markdown(data: &[u8]) {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let allow_html = flags & 1 == 1;
    let body = text(body);
    let rendered = bantin::markdown::render(
        &MarkdownInput {
            text: &body,
            source: "2023/09/bai/index.md",
            first_line: 7,
            root: "../../../",
        },
        allow_html,
        files(),
    );
    assert!(rendered.summary.chars().count() <= 300);
    for dead in &rendered.dead_links {
        assert!(dead.line >= 7 && dead.column >= 1);
    }
    if !allow_html {
        let problems = xss::script_in_html(&rendered.html);
        assert!(
            problems.is_empty(),
            "script in the HTML of a report without allow_html: {problems:?}\n{}",
            rendered.html
        );
    }
}

/// units.toml: parsed, it is a forest whose every unit is listed once.
pub fn units(data: &[u8]) {
    let Ok(text) = bantin::load::text_from_bytes(data.to_vec(), Path::new("units.toml")) else {
        return;
    };
    match UnitTree::parse(&text, Path::new("units.toml")) {
        Ok(tree) => {
            let order = tree.preorder();
            assert_eq!(order.len(), tree.units.len());
            let mut seen = vec![false; tree.units.len()];
            for &i in &order {
                assert!(!seen[i], "unit listed twice");
                seen[i] = true;
            }
            for u in &tree.units {
                assert!(u.ancestors.len() < bantin::units::MAX_DEPTH);
                assert!(!u.id.is_empty() && u.id.len() <= bantin::units::MAX_ID_LEN);
                assert_eq!(tree.get(&u.id).map(|i| &tree.units[i].id), Some(&u.id));
            }
        }
        Err(diags) => {
            assert!(!diags.is_empty());
            show(&diags);
        }
    }
}

const DEFAULT_CONFIG: &str = "title = \"Bản tin\"\nbase_url = \"https://bantin.example/\"\n";
const DEFAULT_UNITS: &str = "[[unit]]\nid = \"tinh-uy\"\nname = \"Tỉnh ủy\"\n\n[[unit]]\nid = \"huyen-uy\"\nname = \"Huyện ủy\"\nparent = \"tinh-uy\"\n";

/// Splits a `site` input: bantin.toml, units.toml, then files as `path\nbytes`, all
/// separated by 0xFF bytes (which UTF-8 text never holds).
pub fn pack_site(config: &[u8], units: &[u8], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(config);
    out.push(0xFF);
    out.extend_from_slice(units);
    for (path, bytes) in files {
        out.push(0xFF);
        out.extend_from_slice(path.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(bytes);
    }
    out
}

/// A relative path of the input, if it is one a site could hold (no `..`, not absolute).
fn input_path(line: &[u8]) -> Option<PathBuf> {
    let line = std::str::from_utf8(line).ok()?.trim();
    if line.is_empty() || line.contains('\0') || line.starts_with('/') || line.len() > 200 {
        return None;
    }
    let path = PathBuf::from(line);
    path.components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
        .then_some(path)
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            files_under(&path, base, out);
        } else {
            out.push(path.strip_prefix(base).unwrap_or(&path).to_path_buf());
        }
    }
}

/// A whole site from fuzzed files (see [`pack_site`]), built into its output folder.
/// Files go under content/ unless their path starts with `static/` or `templates/`.
/// Checks: no panic, nothing written outside the output folder, no temporary folder
/// left; and, for a site of Markdown only without allow_html, no script in any page,
/// feed, sitemap or search file.
pub fn site(data: &[u8]) {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let mut parts = data.split(|&b| b == 0xFF);
    let config = parts.next().unwrap_or_default();
    let units = parts.next().unwrap_or_default();
    let base = std::env::temp_dir().join(format!(
        "bantin-fuzz-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&base);
    let root = base.join("site");
    fs::create_dir_all(root.join("content")).expect("a temporary folder");
    let config: &[u8] = if config.is_empty() {
        DEFAULT_CONFIG.as_bytes()
    } else {
        config
    };
    let units: &[u8] = if units.is_empty() {
        DEFAULT_UNITS.as_bytes()
    } else {
        units
    };
    fs::write(root.join("bantin.toml"), config).expect("write bantin.toml");
    fs::write(root.join("units.toml"), units).expect("write units.toml");
    let mut only_markdown = true;
    let mut written: Vec<PathBuf> = vec!["bantin.toml".into(), "units.toml".into()];
    for part in parts.take(40) {
        let (line, bytes) = match part.iter().position(|&b| b == b'\n') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &[][..]),
        };
        let Some(path) = input_path(line) else {
            continue;
        };
        let rel = if path.starts_with("static") || path.starts_with("templates") {
            path
        } else {
            Path::new("content").join(path)
        };
        if rel.extension().is_none_or(|e| e != "md") || !rel.starts_with("content") {
            only_markdown = false;
        }
        let abs = root.join(&rel);
        let made = abs.parent().is_some_and(|p| fs::create_dir_all(p).is_ok())
            && fs::write(&abs, bytes).is_ok();
        if made {
            written.push(rel);
        }
    }
    let out = root.join("public");
    let options = bantin::BuildOptions {
        drafts: data.len().is_multiple_of(2),
        ..Default::default()
    };
    let result = bantin::build(&root, &out, &options);

    // Nothing but the output folder was added to the site or beside it.
    let mut now = Vec::new();
    files_under(&base, &base, &mut now);
    for f in &now {
        let inside_out = f.starts_with("site/public");
        let input = f
            .strip_prefix("site")
            .is_ok_and(|r| written.iter().any(|w| w == r));
        assert!(
            inside_out || input,
            "bantin wrote {} outside its output",
            f.display()
        );
    }
    let leftovers: Vec<_> = fs::read_dir(&root)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().contains("bantin-"))
                .map(|e| e.file_name())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        leftovers.is_empty(),
        "temporary folders left: {leftovers:?}"
    );

    match result {
        Ok(_) => {
            let allow_html = Config::parse(&text(config), Path::new("bantin.toml"))
                .map(|c| c.markdown.allow_html)
                .unwrap_or(true);
            if only_markdown && !allow_html {
                check_output(&out);
            }
        }
        Err(diags) => {
            assert!(diags.has_errors(), "a build failed without an error");
            show(&diags.0);
        }
    }
    let _ = fs::remove_dir_all(&base);
}

/// No script in any page, feed, sitemap or search file of a built site.
pub fn check_output(out: &Path) {
    let mut files = Vec::new();
    files_under(out, out, &mut files);
    for rel in files {
        let name = rel.to_string_lossy().to_string();
        let Ok(text) = fs::read_to_string(out.join(&rel)) else {
            continue;
        };
        let mut problems = Vec::new();
        if name.ends_with(".html") || name.ends_with(".xml") {
            problems.extend(xss::script_in_html(&text));
        }
        if name.ends_with(".xml") {
            for html in xss::xml_element_texts(&text, "content") {
                problems.extend(xss::script_in_html(&html));
            }
        }
        assert!(problems.is_empty(), "script in {name}: {problems:?}");
    }
}

/// The seed corpus of a target, from the repository's sample site.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let repo = repo();
    let mut reports = Vec::new();
    collect_md(&repo.join("content"), &mut reports);
    reports.sort();
    let read = |p: &Path| fs::read(p).unwrap_or_default();
    let config = read(&repo.join("bantin.toml"));
    let units_toml = read(&repo.join("units.toml"));
    match target {
        "front_matter" => reports.iter().map(|p| read(p)).collect(),
        "markdown" => {
            let mut out = Vec::new();
            for p in &reports {
                let t = String::from_utf8_lossy(&read(p)).into_owned();
                let body = t.splitn(3, "+++").nth(2).unwrap_or(&t).to_string();
                for flags in [0u8, 1] {
                    let mut seed = vec![flags];
                    seed.extend_from_slice(body.as_bytes());
                    out.push(seed);
                }
            }
            out
        }
        "units" => vec![units_toml, DEFAULT_UNITS.as_bytes().to_vec()],
        "site" => {
            let mut with_feeds = b"base_url = \"https://bantin.example/\"\n".to_vec();
            with_feeds.extend_from_slice(&config);
            let config = with_feeds;
            let mut out = Vec::new();
            let rel = |p: &Path| {
                p.strip_prefix(repo.join("content"))
                    .unwrap_or(p)
                    .to_string_lossy()
                    .to_string()
            };
            for chunk in reports.chunks(3) {
                let files: Vec<(String, Vec<u8>)> =
                    chunk.iter().map(|p| (rel(p), read(p))).collect();
                let files: Vec<(&str, &[u8])> = files
                    .iter()
                    .map(|(p, b)| (p.as_str(), b.as_slice()))
                    .collect();
                out.push(pack_site(&config, &units_toml, &files));
            }
            out
        }
        _ => Vec::new(),
    }
}

fn collect_md(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_md(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}
