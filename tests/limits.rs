//! Limits: input far beyond any real bulletin either builds or fails with a clear
//! message, in bounded time, never hanging or overflowing the stack. Each build runs
//! the bantin binary under a time limit; the figures of release builds are in
//! RELIABILITY.md (`cargo test --release --test limits -- --include-ignored`).

mod common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;

/// Far above what each case takes in a debug build; a case over it hangs.
const LIMIT: Duration = Duration::from_secs(120);

/// `bantin ARGS... --root ROOT`, killed after [`LIMIT`]; never a crash.
fn run_within(site: &Site, command: &str) -> Output {
    let started = Instant::now();
    let out = bantin()
        .arg(command)
        .arg("--root")
        .arg(site.root())
        .timeout(LIMIT)
        .output()
        .expect("run bantin");
    let took = started.elapsed();
    let err = stderr(&out);
    assert!(
        took < LIMIT,
        "bantin {command} ran over {LIMIT:?} and was killed"
    );
    assert!(
        !err.contains("overflowed its stack") && !err.contains("panicked"),
        "bantin {command} crashed:\n{}",
        &err[..err.len().min(4000)]
    );
    assert!(
        out.status.code().is_some(),
        "bantin {command} was killed by a signal: {:?}",
        out.status
    );
    out
}

fn build_within(site: &Site) -> Output {
    run_within(site, "build")
}

fn report_front(title: &str, unit: &str) -> Vec<String> {
    vec![
        format!("title = {}", toml_str(title)),
        "date = 2024-01-02T08:00:00+07:00".to_string(),
        format!("unit = {}", toml_str(unit)),
    ]
}

fn write_report(site: &Site, rel: &str, front: &[String], body: &str) {
    let front: Vec<&str> = front.iter().map(String::as_str).collect();
    site.report(rel, &front, body);
}

#[test]
fn a_report_of_10_mb_builds() {
    let site = Site::new();
    let para = "Hội nghị sơ kết 5 năm thực hiện Nghị quyết 35-NQ/TW của Bộ Chính trị về \
                tăng cường bảo vệ nền tảng tư tưởng của Đảng, đấu tranh phản bác các quan \
                điểm sai trái, thù địch trong tình hình mới. **Đảng ủy** [xem](../khac.md).\n\n";
    let mut body = String::with_capacity(10 << 20);
    let mut n = 0;
    while body.len() < 10 << 20 {
        if n % 100 == 0 {
            body.push_str(&format!("## Phần {n}\n\n"));
        }
        body.push_str(para);
        n += 1;
    }
    body.push_str("Đoạn cuối cùng.\n");
    write_report(
        &site,
        "2024/01/lon.md",
        &report_front("Báo cáo lớn", "tinh-uy"),
        &body,
    );
    assert_ok(&build_within(&site));
    let page = site.read("2024/01/bao-cao-lon/index.html");
    assert!(page.len() > 10 << 20);
    assert!(page.contains("Đoạn cuối cùng."));
}

#[test]
fn front_matter_of_100000_lines() {
    // Valid: an [extra] table of 100,000 keys and a summary of 100,000 lines.
    let site = Site::new();
    let mut front = report_front("Nhiều khóa", "tinh-uy");
    front.push(format!(
        "summary = \"\"\"\n{}\"\"\"",
        "dòng tóm tắt\n".repeat(100_000)
    ));
    front.push("[extra]".to_string());
    front.extend((0..100_000).map(|i| format!("k{i} = \"giá trị {i}\"")));
    write_report(&site, "2024/01/nhieu.md", &front, "x\n");
    assert_ok(&build_within(&site));
    assert!(site.has("2024/01/nhieu-khoa/index.html"));

    // Invalid: 100,000 unknown keys, every one reported with its line, in linear time.
    let site = Site::new();
    let mut front = report_front("Khóa lạ", "tinh-uy");
    front.extend((0..100_000).map(|i| format!("k{i} = 1")));
    write_report(&site, "2024/01/la.md", &front, "x\n");
    let out = build_within(&site);
    assert_fails(&out);
    let err = stderr(&out);
    assert!(err.contains("error: content/2024/01/la.md:5:1: unknown key `k0`"));
    assert!(err.contains("error: content/2024/01/la.md:100004:1: unknown key `k99999`"));
    assert_eq!(err.matches("unknown key").count(), 100_000);
    assert!(err.contains("100000 errors found; nothing was written."));
}

#[test]
fn a_list_of_100000_bad_tags_on_one_line_is_reported_without_copying_the_line() {
    // Every error shows a window of the line, not the whole 1 MB line each time.
    let site = Site::new();
    let mut front = report_front("Thẻ", "tinh-uy");
    front.push(format!("tags = [{}\"cuối\"]", "\"!!\", ".repeat(100_000)));
    write_report(&site, "2024/01/the.md", &front, "x\n");
    let out = build_within(&site);
    assert_fails(&out);
    let err = stderr(&out);
    assert_eq!(err.matches("has no letters or digits").count(), 100_000);
    assert!(err.len() < 100 << 20, "{} bytes of messages", err.len());
    assert!(err.contains("error: content/2024/01/the.md:5:9: `!!` has no letters"));
    assert!(err.contains(&format!(
        "error: content/2024/01/the.md:5:{}: `!!` has no letters",
        9 + 6 * 99_999
    )));
}

/// Reports whose bodies nest 10,000 levels deep, one construct each.
#[test]
fn markdown_nested_10000_deep_builds() {
    const N: usize = 10_000;
    let site = Site::new();
    let bodies: Vec<(&str, String)> = vec![
        ("trich-dan", "> ".repeat(N) + "x\n"),
        ("danh-sach", "- ".repeat(N) + "x\n"),
        ("danh-sach-so", "1. ".repeat(N) + "x\n"),
        ("nhan-manh", "*_".repeat(N) + "x" + &"_*".repeat(N) + "\n"),
        ("ngoac", "[".repeat(N) + "x" + &"](y.md)".repeat(N) + "\n"),
        (
            "anh",
            "![".repeat(N) + "x" + &"](a.jpg \"t\")".repeat(N) + "\n",
        ),
        (
            "html-khoi",
            "<div>".repeat(N) + "x" + &"</div>".repeat(N) + "\n",
        ),
        ("html-dong", "x ".to_string() + &"<span>".repeat(N) + "x\n"),
        ("trich-dan-html", "> ".repeat(N) + "<b>x</b>\n"),
        (
            "chu-thich",
            (0..N)
                .map(|i| format!("[^{i}]: [^{}]\n", i + 1))
                .collect::<String>()
                + "\nx[^0]\n",
        ),
        ("ma", "`".repeat(N) + "x" + &"`".repeat(N - 1) + "\n"),
        ("tieu-de", "# ".repeat(N) + "x\n"),
        ("bang", format!("| {} |\n|---|\n| x |\n", "[".repeat(N))),
    ];
    for (i, (name, body)) in bodies.iter().enumerate() {
        write_report(
            &site,
            &format!("2024/01/{name}.md"),
            &report_front(&format!("Lồng {i} {name}"), "tinh-uy"),
            body,
        );
    }
    let out = build_within(&site);
    assert_ok(&out);
    assert!(stdout(&out).contains(&format!("Built {} reports", bodies.len())));
}

fn unit_chain(n: usize) -> String {
    let mut units = String::with_capacity(n * 60);
    for i in 0..n {
        units.push_str(&format!("[[unit]]\nid = \"u{i}\"\nname = \"Đơn vị {i}\"\n"));
        if i > 0 {
            units.push_str(&format!("parent = \"u{}\"\n", i - 1));
        }
    }
    units
}

#[test]
fn a_unit_tree_1000_levels_deep_builds_and_1001_is_refused() {
    let site = Site::new();
    site.write("units.toml", unit_chain(1000));
    write_report(&site, "2024/01/sau.md", &report_front("Sâu", "u999"), "x\n");
    assert_ok(&build_within(&site));
    // The deepest unit's page, with its 999 ancestors; the tree page, with every unit.
    let deepest = site.read("don-vi/u999/index.html");
    assert!(deepest.contains("Đơn vị 0") && deepest.contains("Đơn vị 998"));
    assert_eq!(reports_on(&site, "don-vi/u0/index.html"), ["2024/01/sau"]);
    let tree = site.read("don-vi/index.html");
    assert!(tree.contains("Đơn vị 999"));

    let site = Site::new();
    site.write("units.toml", unit_chain(1001));
    write_report(
        &site,
        "2024/01/sau.md",
        &report_front("Sâu", "u1000"),
        "x\n",
    );
    let out = build_within(&site);
    assert_fails(&out);
    assert!(
        stderr(&out)
            .contains("unit `u1000` is on level 1001 of the unit tree; bantin allows 1000 levels"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fifty_thousand_units_and_a_chain_of_them_parse_in_linear_time() {
    // 50,000 units, ten under each: parsed, and each given its ancestors.
    let mut units = String::new();
    for i in 0..50_000 {
        units.push_str(&format!("[[unit]]\nid = \"u{i}\"\nname = \"Đơn vị {i}\"\n"));
        if i > 0 {
            units.push_str(&format!("parent = \"u{}\"\n", (i - 1) / 10));
        }
    }
    let started = Instant::now();
    let tree = bantin::units::UnitTree::parse(&units, Path::new("units.toml")).expect("parses");
    assert_eq!(tree.units.len(), 50_000);
    assert_eq!(tree.preorder().len(), 50_000);
    // A chain 50,000 deep: refused, naming the first unit too deep, without recursion.
    let chain = unit_chain(50_000);
    let err = bantin::units::UnitTree::parse(&chain, Path::new("units.toml")).expect_err("refused");
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(err[0].message.contains("unit `u1000` is on level 1001"));
    // 50,000 bad units: every error has its line, in linear time.
    let bad = units.replace("id = \"u", "id = \"U");
    let err = bantin::units::UnitTree::parse(&bad, Path::new("units.toml")).expect_err("refused");
    assert_eq!(err.len(), 50_000);
    assert_eq!(err[49_999].line, Some(units.lines().count() - 2));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// The whole build of 50,000 units: 50,000 unit pages. About 14 s in a release build.
#[test]
#[ignore = "slow in a debug build: run with --release --include-ignored"]
fn fifty_thousand_units_build() {
    let site = Site::new();
    let mut units = String::new();
    for i in 0..50_000 {
        units.push_str(&format!("[[unit]]\nid = \"u{i}\"\nname = \"Đơn vị {i}\"\n"));
        if i > 0 {
            units.push_str(&format!("parent = \"u{}\"\n", (i - 1) / 10));
        }
    }
    site.write("units.toml", units);
    write_report(
        &site,
        "2024/01/bai.md",
        &report_front("Bài", "u49999"),
        "x\n",
    );
    assert_ok(&build_within(&site));
    assert!(site.has("don-vi/u49999/index.html"));
    assert_eq!(reports_on(&site, "don-vi/u0/index.html"), ["2024/01/bai"]);
}

/// 100,000 tags on one report: 100,000 term pages. About 18 s in a release build.
#[test]
#[ignore = "slow in a debug build: run with --release --include-ignored"]
fn a_report_with_100000_tags_builds() {
    let site = Site::new();
    let mut front = report_front("Nhiều thẻ", "tinh-uy");
    front.push(format!(
        "tags = [\n{}]",
        (0..100_000)
            .map(|i| format!("\"chủ đề {i}\",\n"))
            .collect::<String>()
    ));
    write_report(&site, "2024/01/the.md", &front, "x\n");
    assert_ok(&build_within(&site));
    assert!(site.has("chu-de/chu-de-99999/index.html"));
}

#[test]
fn a_title_of_100000_characters_builds() {
    let site = Site::new();
    let title = "Hội nghị sơ kết ".repeat(6_250);
    assert_eq!(title.chars().count(), 100_000);
    let long_tag = "Đảng".repeat(25_000);
    let mut front = report_front(&title, "tinh-uy");
    front.push(format!("tags = [{}]", toml_str(&long_tag)));
    front.push(format!("kind = {}", toml_str(&"a".repeat(100_000))));
    write_report(&site, "2024/01/dai.md", &front, "x\n");
    assert_ok(&build_within(&site));
    let pages = file_list(&site.out());
    let page = pages
        .iter()
        .find(|p| p.starts_with("2024/01/hoi-nghi-so-ket-") && p.ends_with("/index.html"))
        .expect("the report's page");
    let folder = page.split('/').nth(2).unwrap();
    assert!(
        folder.len() <= bantin::lang::MAX_SLUG_LEN,
        "{}",
        folder.len()
    );
    assert!(text_of(main_of(&site.read(page))).contains(title.trim()));
    assert!(pages.iter().all(|p| p
        .split('/')
        .all(|s| s.len() <= bantin::lang::MAX_SLUG_LEN + 16)));
}

#[test]
fn names_too_long_for_a_file_are_errors_naming_their_line() {
    let site = Site::new();
    let mut front = report_front("Bí danh", "tinh-uy");
    front.push(format!(
        "aliases = [\"/tin-cu/{}.html\"]",
        "a".repeat(100_000)
    ));
    write_report(&site, "2024/01/bi-danh.md", &front, "x\n");
    let out = build_within(&site);
    assert_fails(&out);
    assert!(stderr(&out).contains(
        "error: content/2024/01/bi-danh.md:5:12: this alias has a part longer than file names may be"
    ));

    let site = Site::new();
    site.write(
        "units.toml",
        format!(
            "{UNITS}\n[[unit]]\nid = \"{}\"\nname = \"Dài\"\n",
            "a".repeat(100_000)
        ),
    );
    let out = build_within(&site);
    assert_fails(&out);
    assert!(stderr(&out).contains("characters long"), "{}", stderr(&out));
}

#[test]
fn fifty_thousand_equal_headings_build_in_linear_time() {
    let site = Site::new();
    write_report(
        &site,
        "2024/01/tieu-de.md",
        &report_front("Tiêu đề", "tinh-uy"),
        &"## Mục\n\nĐoạn.\n\n".repeat(50_000),
    );
    assert_ok(&build_within(&site));
    let page = site.read("2024/01/tieu-de/index.html");
    assert!(page.contains("id=\"muc-50000\""));
}

#[test]
fn two_thousand_reports_of_one_title_get_their_numbers_in_linear_time() {
    let site = Site::new();
    for i in 0..2_000 {
        write_report(
            &site,
            &format!("2024/01/bai-{i:04}.md"),
            &report_front("Giao ban", "tinh-uy"),
            "x\n",
        );
    }
    let started = Instant::now();
    let source = bantin::load::load(site.root()).expect("loads");
    let built =
        bantin::site::Site::build(source, &bantin::BuildOptions::default()).expect("builds");
    let mut dirs: Vec<&str> = built.entries.iter().map(|e| e.dir.as_str()).collect();
    dirs.sort();
    dirs.dedup();
    assert_eq!(dirs.len(), 2_000);
    assert!(dirs.contains(&"2024/01/giao-ban-2000/"));
    assert_eq!(built.diagnostics.warnings().count(), 1_999);
    assert!(started.elapsed() < Duration::from_secs(60));
}
