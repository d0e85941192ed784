//! Bad input: every problem named with its file, line and a hint, all of them in one
//! run, exit 1, no panic, and the previous output left exactly as it was.

mod common;

use std::fs;

use common::*;

/// The message that starts with `head` (`error: FILE:LINE:COL: `), up to the next one.
fn diagnostic<'a>(stderr: &'a str, head: &str) -> &'a str {
    let start = stderr
        .find(head)
        .unwrap_or_else(|| panic!("no message starting `{head}` in:\n{stderr}"));
    let rest = &stderr[start..];
    let end = rest[1..]
        .find("\nerror: ")
        .or_else(|| rest[1..].find("\nwarning: "))
        .map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// Asserts a message: its head, words of its text, and words of its hint.
fn assert_diagnostic(stderr: &str, head: &str, message: &[&str], hint: &[&str]) {
    let d = diagnostic(stderr, head);
    let first = d.lines().next().unwrap_or_default();
    for m in message {
        assert!(
            first.contains(m),
            "`{m}` not in the message `{first}`\nfull output:\n{stderr}"
        );
    }
    let hint_line = d
        .lines()
        .find(|l| l.trim_start().starts_with("= hint:"))
        .unwrap_or_else(|| panic!("no hint in:\n{d}"));
    for h in hint {
        assert!(
            hint_line.contains(h),
            "`{h}` not in the hint `{hint_line}`\nfull output:\n{stderr}"
        );
    }
}

/// Asserts that a message shows its source line with a caret under the column.
fn assert_caret(stderr: &str, head: &str, line: usize, source: &str, column: usize) {
    let d = diagnostic(stderr, head);
    let lines: Vec<&str> = d.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&format!("{line} | ")))
        .unwrap_or_else(|| panic!("the source line is not shown in:\n{d}"));
    let shown = lines[at].split_once(" | ").expect("a gutter").1;
    assert_eq!(shown, source, "in:\n{d}");
    let caret = lines
        .get(at + 1)
        .and_then(|l| l.split_once(" | "))
        .map(|(_, c)| c)
        .unwrap_or_else(|| panic!("no caret in:\n{d}"));
    assert_eq!(
        caret.trim_end(),
        format!("{}^", " ".repeat(column - 1)),
        "caret under column {column} in:\n{d}"
    );
}

const GOOD: &[&str] = &[
    r#"title = "Bài tốt""#,
    "date = 2023-09-01",
    r#"unit = "tinh-uy""#,
];

/// Writes the broken reports, each with one problem.
fn break_reports(site: &Site) {
    site.write(
        "content/bad/01-no-front-matter.md",
        "Chỉ có nội dung, không có phần đầu.\n",
    );
    site.write(
        "content/bad/02-not-closed.md",
        "+++\ntitle = \"Chưa đóng\"\ndate = 2023-09-13\n\nNội dung.\n",
    );
    site.write(
        "content/bad/03-invalid-toml.md",
        "+++\ntitle = \"Thiếu ngoặc\ndate = 2023-09-13\nunit = \"tinh-uy\"\n+++\n",
    );
    site.report(
        "bad/04-no-title.md",
        &["date = 2023-09-13", r#"unit = "tinh-uy""#],
        "Nội dung.\n",
    );
    site.report(
        "bad/05-no-date.md",
        &[r#"title = "Không ngày""#, r#"unit = "tinh-uy""#],
        "Nội dung.\n",
    );
    site.report(
        "bad/06-no-unit.md",
        &[r#"title = "Không đơn vị""#, "date = 2023-09-13"],
        "Nội dung.\n",
    );
    site.report(
        "bad/07-date-words.md",
        &[
            r#"title = "Ngày sai""#,
            r#"date = "13/09/2023""#,
            r#"unit = "tinh-uy""#,
        ],
        "",
    );
    site.report(
        "bad/08-date-quoted.md",
        &[
            r#"title = "Ngày trong ngoặc""#,
            r#"date = "2023-09-13""#,
            r#"unit = "tinh-uy""#,
        ],
        "",
    );
    site.report(
        "bad/09-unit.md",
        &[
            r#"title = "Đơn vị sai""#,
            "date = 2023-09-13",
            r#"unit = "huyen-uy-an-fu""#,
        ],
        "",
    );
    site.report(
        "bad/10-titel.md",
        &[
            r#"titel = "Gõ nhầm""#,
            r#"title = "Gõ nhầm""#,
            "date = 2023-09-13",
            r#"unit = "tinh-uy""#,
        ],
        "",
    );
    let mut latin1 = b"+++\ntitle = \"Ti".to_vec();
    latin1.extend([0xea_u8, b'u', b' ', 0xf0, b'"', b'\n']); // "Tiêu ð" in Latin-1
    latin1.extend(b"date = 2023-09-13\nunit = \"tinh-uy\"\n+++\n");
    site.write("content/bad/11-latin1.md", latin1);
    site.report(
        "bad/12-slug.md",
        &[
            r#"title = "Đường dẫn""#,
            "date = 2023-09-13",
            r#"unit = "tinh-uy""#,
            r#"slug = "../../etc""#,
        ],
        "",
    );
    site.report(
        "bad/13-alias.md",
        &[
            r#"title = "Bí danh""#,
            "date = 2023-09-13",
            r#"unit = "tinh-uy""#,
            r#"aliases = ["/tin-cu/1.html", "../../x.html"]"#,
        ],
        "",
    );
}

/// Checks every message of `break_reports` in one run's stderr.
fn assert_every_report_problem(err: &str) {
    let f = |n: &str| format!("content/bad/{n}.md");
    assert_diagnostic(
        err,
        &format!("error: {}:1:1: ", f("01-no-front-matter")),
        &["no front matter"],
        &["+++"],
    );
    assert_diagnostic(
        err,
        &format!("error: {}:1:1: ", f("02-not-closed")),
        &["never closed"],
        &["+++"],
    );
    assert_diagnostic(
        err,
        &format!("error: {}:2:", f("03-invalid-toml")),
        &["TOML"],
        &["quotes"],
    );
    assert_diagnostic(
        err,
        &format!("error: {}:1: ", f("04-no-title")),
        &["`title`"],
        &["title = "],
    );
    assert_diagnostic(
        err,
        &format!("error: {}:1: ", f("05-no-date")),
        &["`date`"],
        &["date = 2023-09-13"],
    );
    assert_diagnostic(
        err,
        &format!("error: {}:1: ", f("06-no-unit")),
        &["`unit`"],
        &["unit = "],
    );
    assert_diagnostic(
        err,
        &format!("error: {}:3:8: ", f("07-date-words")),
        &["`date`", "13/09/2023"],
        &["2023-09-13"],
    );
    assert_caret(
        err,
        &format!("error: {}:3:8: ", f("07-date-words")),
        3,
        r#"date = "13/09/2023""#,
        8,
    );
    assert!(
        !diagnostic(err, &format!("error: {}:3:8: ", f("07-date-words")))
            .contains("remove the quotes"),
        "13/09/2023 is not a date: removing the quotes would not help"
    );
    assert_diagnostic(
        err,
        &format!("error: {}:3:8: ", f("08-date-quoted")),
        &["`date`"],
        &["remove the quotes", "date = 2023-09-13"],
    );
    assert_diagnostic(
        err,
        &format!("error: {}:4:8: ", f("09-unit")),
        &["huyen-uy-an-fu", "units.toml"],
        &["did you mean `huyen-uy-an-phu`"],
    );
    assert_caret(
        err,
        &format!("error: {}:4:8: ", f("09-unit")),
        4,
        r#"unit = "huyen-uy-an-fu""#,
        8,
    );
    assert_diagnostic(
        err,
        &format!("error: {}:2:1: ", f("10-titel")),
        &["unknown key `titel`"],
        &["did you mean `title`"],
    );
    assert_caret(
        err,
        &format!("error: {}:2:1: ", f("10-titel")),
        2,
        r#"titel = "Gõ nhầm""#,
        1,
    );
    assert_diagnostic(
        err,
        &format!("error: {}:2:", f("11-latin1")),
        &["UTF-8"],
        &["UTF-8"],
    );
    assert_diagnostic(
        err,
        &format!("error: {}:5:8: ", f("12-slug")),
        &["../../etc"],
        &["slug = "],
    );
    assert_diagnostic(
        err,
        &format!("error: {}:5:", f("13-alias")),
        &["../../x.html"],
        &["/tin-cu/123.html"],
    );
    // Nothing else is wrong: the good report and the good alias are not reported.
    let errors = err.lines().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(errors, 13, "one message per problem:\n{err}");
}

#[test]
fn every_bad_report_is_reported_in_one_build_and_the_output_is_untouched() {
    let site = Site::new();
    site.report("2023/09/tot.md", GOOD, "Nội dung tốt.\n");
    site.build_ok(&[]);
    let before = tree(&site.out());
    assert!(before.contains_key("2023/09/bai-tot/index.html"));

    break_reports(&site);
    let out = site.build(&[]);
    assert_fails(&out);
    let err = stderr(&out);
    assert_every_report_problem(&err);
    assert_same_tree(&before, &tree(&site.out()));
    // No temporary folder of the failed build is left behind.
    let mut entries: Vec<_> = fs::read_dir(site.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["bantin.toml", "content", "public", "units.toml"]);
}

#[test]
fn check_reports_the_same_problems_and_writes_nothing() {
    let site = Site::new();
    site.report("2023/09/tot.md", GOOD, "Nội dung tốt.\n");
    break_reports(&site);
    let before = tree(site.root());
    let out = site.check(&[]);
    assert_fails(&out);
    let err = stderr(&out);
    assert_every_report_problem(&err);
    assert!(!site.out().exists(), "check created public/");
    assert_same_tree(&before, &tree(site.root()));

    // The same messages as build.
    let build = site.build(&[]);
    assert_fails(&build);
    let messages = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with("error: "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(messages(&err), messages(&stderr(&build)));
    assert!(!site.out().exists(), "a failed build created public/");
}

#[test]
fn a_missing_date_is_reported_with_the_others() {
    // Missing date, title and unit all at once, in a file on its own.
    let site = Site::new();
    site.report("a.md", &["kind = \"Hội nghị\""], "Nội dung.\n");
    let out = site.check(&[]);
    assert_fails(&out);
    let err = stderr(&out);
    for key in ["`title`", "`date`", "`unit`"] {
        assert!(
            err.lines()
                .any(|l| l.starts_with("error: content/a.md:1: ") && l.contains(key)),
            "{key} missing is reported:\n{err}"
        );
    }
}

#[test]
fn the_latin1_report_names_its_line_and_column() {
    let site = Site::new();
    let mut bytes = b"+++\ntitle = \"Ti".to_vec();
    bytes.push(0xea); // 'ê' in Latin-1
    bytes.extend(b"u\"\ndate = 2023-09-13\nunit = \"tinh-uy\"\n+++\n");
    site.write("content/latin.md", bytes);
    let out = site.build(&[]);
    assert_fails(&out);
    assert_diagnostic(
        &stderr(&out),
        "error: content/latin.md:2:12: ",
        &["UTF-8"],
        &["UTF-8"],
    );
}

#[test]
fn bad_units_are_all_reported() {
    let site = Site::new();
    site.simple("a.md", "Bài", "2024-01-01", "tinh-uy");
    site.build_ok(&[]);
    let before = tree(&site.out());
    site.write(
        "units.toml",
        r#"[[unit]]
id = "tinh-uy"
name = "Tỉnh ủy"

[[unit]]
id = "huyen-uy"
name = "Huyện ủy"
parent = "tinh-uy"

[[unit]]
id = "tinh-uy"
name = "Tỉnh ủy lần nữa"

[[unit]]
id = "xa"
name = "Xã"
parent = "huyen-uy-x"

[[unit]]
id = "vong-a"
name = "Vòng A"
parent = "vong-b"

[[unit]]
id = "vong-b"
name = "Vòng B"
parent = "vong-a"
"#,
    );
    for run in [site.build(&[]), site.check(&[])] {
        assert_fails(&run);
        let err = stderr(&run);
        assert_diagnostic(
            &err,
            "error: units.toml:11:6: ",
            &["`tinh-uy`", "twice"],
            &["line 2"],
        );
        assert_caret(&err, "error: units.toml:11:6: ", 11, r#"id = "tinh-uy""#, 6);
        assert_diagnostic(
            &err,
            "error: units.toml:17:10: ",
            &["huyen-uy-x"],
            &["did you mean `huyen-uy`"],
        );
        let cycle = err
            .lines()
            .find(|l| l.starts_with("error: units.toml:") && l.contains("cycle"))
            .unwrap_or_else(|| panic!("no cycle:\n{err}"));
        assert!(
            cycle.contains("vong-a") && cycle.contains("vong-b"),
            "{cycle}"
        );
        assert!(
            cycle.starts_with("error: units.toml:22:10: ")
                || cycle.starts_with("error: units.toml:27:10: "),
            "{cycle}"
        );
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error: ")).count(),
            3,
            "{err}"
        );
        assert!(!err.contains("panicked"));
    }
    assert_same_tree(&before, &tree(&site.out()));
}

#[test]
fn a_template_syntax_error_names_the_template() {
    let site = Site::new();
    site.simple("a.md", "Bài", "2024-01-01", "tinh-uy");
    site.build_ok(&[]);
    let before = tree(&site.out());
    site.write(
        "templates/report.html",
        "{% extends \"base.html\" %}\n{% block content %}\n<h1>{{ report.title }</h1>\n{% endblock content %}\n",
    );
    for run in [site.build(&[]), site.check(&[])] {
        assert_fails(&run);
        let err = stderr(&run);
        let line = err
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no error:\n{err}"));
        assert!(
            line.starts_with("error: templates/report.html"),
            "names the site's template file: {line}\n{err}"
        );
        assert!(err.contains("= hint:"), "{err}");
    }
    assert_same_tree(&before, &tree(&site.out()));

    // A working override is used.
    site.write(
        "templates/report.html",
        "{% extends \"base.html\" %}\n{% block content %}\n<h1 class=\"rieng\">{{ report.title }}</h1>\n{% endblock content %}\n",
    );
    site.build_ok(&[]);
    assert!(site
        .read("2024/01/bai/index.html")
        .contains("<h1 class=\"rieng\">Bài</h1>"));
}

#[test]
fn the_output_may_not_be_the_sources() {
    let site = Site::nested();
    site.simple("a.md", "Bài", "2024-01-01", "tinh-uy");
    site.write("static/ghi-chu.txt", "giữ nguyên");
    let parent = site.dir.path().to_path_buf();
    fs::write(parent.join("khac.txt"), "tệp khác").unwrap();
    let targets = [
        site.root().to_path_buf(),
        site.path("content"),
        site.path("content/2024"),
        site.path("static"),
        parent.clone(),
        site.root().join("content/.."),
    ];
    // A folder of other files is not replaced by a site either.
    let data = parent.join("du-lieu");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("so-lieu.csv"), "1,2,3").unwrap();
    let before = tree(&parent);
    for out in targets.into_iter().chain([data.clone()]) {
        let run = site.build(&["--out", out.to_str().unwrap()]);
        assert_fails(&run);
        let err = stderr(&run);
        assert!(
            err.contains("error: ") && err.contains("refusing"),
            "--out {}:\n{err}",
            out.display()
        );
        assert!(err.contains("= hint:"), "{err}");
        assert_same_tree(&before, &tree(&parent));
    }
}

#[test]
fn a_dead_link_is_a_warning_in_build_and_an_error_in_check() {
    let site = Site::new();
    site.report(
        "2024/01/a.md",
        GOOD,
        "Dòng một.\n\nXem [tài liệu](../khong-co.pdf#trang-2) và [bài](khong-co.md).\n",
    );
    let build = site.build(&[]);
    assert_ok(&build);
    let err = stderr(&build);
    assert_diagnostic(
        &err,
        "warning: content/2024/01/a.md:8:5: ",
        &["`../khong-co.pdf#trang-2`"],
        &["relative"],
    );
    assert_diagnostic(
        &err,
        "warning: content/2024/01/a.md:8:44: ",
        &["`khong-co.md`"],
        &["relative"],
    );
    assert!(!err.contains("error: "), "{err}");
    assert!(site.has("2023/09/bai-tot/index.html"));

    let check = site.check(&[]);
    assert_fails(&check);
    let err = stderr(&check);
    assert_diagnostic(
        &err,
        "error: content/2024/01/a.md:8:5: ",
        &["`../khong-co.pdf#trang-2`"],
        &["relative"],
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error: ")).count(),
        2,
        "{err}"
    );
}

#[test]
fn check_on_a_good_site_passes_and_writes_nothing() {
    let site = Site::new();
    site.report("2023/09/tot.md", GOOD, "Nội dung tốt.\n");
    let out = site.check(&[]);
    assert_ok(&out);
    assert!(!site.out().exists());
}

#[test]
fn settings_and_reports_are_reported_together_with_file_lines() {
    let site = Site::new();
    site.write(
        "bantin.toml",
        "title = \"T\"\npaginat = 3\ntimezone = \"7\"\n",
    );
    // A byte-order mark and Windows line endings do not shift line numbers.
    site.write(
        "content/win.md",
        "\u{feff}+++\r\ntitle = \"x\"\r\ntitel = \"y\"\r\ndate = 2023-09-13\r\nunit = \"tinh-uy\"\r\n+++\r\n",
    );
    for run in [site.build(&[]), site.check(&[])] {
        assert_fails(&run);
        let err = stderr(&run);
        assert_diagnostic(
            &err,
            "error: bantin.toml:2:1: ",
            &["unknown key `paginat`"],
            &["did you mean `paginate`"],
        );
        assert_diagnostic(
            &err,
            "error: bantin.toml:3:12: ",
            &["timezone"],
            &["+07:00"],
        );
        assert_diagnostic(
            &err,
            "error: content/win.md:3:1: ",
            &["unknown key `titel`"],
            &["did you mean `title`"],
        );
        assert_caret(&err, "error: content/win.md:3:1: ", 3, r#"titel = "y""#, 1);
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error: ")).count(),
            3,
            "{err}"
        );
    }
    assert!(!site.out().exists());
}

#[test]
fn an_alias_may_not_take_a_page_address() {
    let site = Site::new();
    site.report(
        "a.md",
        &[
            r#"title = "A""#,
            "date = 2024-01-01",
            r#"unit = "tinh-uy""#,
            r#"aliases = ["/2024/01/"]"#,
        ],
        "",
    );
    site.report(
        "b.md",
        &[
            r#"title = "B""#,
            "date = 2024-01-02",
            r#"unit = "tinh-uy""#,
            r#"aliases = ["/cu.html"]"#,
        ],
        "",
    );
    site.report(
        "c.md",
        &[
            r#"title = "C""#,
            "date = 2024-01-03",
            r#"unit = "tinh-uy""#,
            r#"aliases = ["/cu.html"]"#,
        ],
        "",
    );
    let out = site.build(&[]);
    assert_fails(&out);
    let err = stderr(&out);
    assert_diagnostic(
        &err,
        "error: content/a.md:5",
        &["alias", "2024/01/"],
        &["remove"],
    );
    let both = err
        .lines()
        .filter(|l| l.starts_with("error: ") && l.contains("cu.html"))
        .count();
    assert_eq!(
        both, 1,
        "one of the two reports sharing an alias is named:\n{err}"
    );
    assert!(!site.out().exists());
}
