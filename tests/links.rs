//! Links: relative links in reports, copied files, and a crawl of whole built sites
//! checking that every link between pages is relative and reaches a file.

mod common;

use common::*;

const BASE: &str = "https://noibo.example/bantin/";

const BUNDLE: &str = "2023/09/bai-co-anh";
const OTHER: &str = "2024/01/bai-khac";

/// A site with a bundle, links between reports, files outside bundles, static files,
/// ignored files, aliases and enough reports for several list pages.
fn link_site(config: &str) -> Site {
    let site = Site::with_config(&format!("base_url = \"{BASE}\"\n{config}"));
    site.report(
        "2023/09/bai/index.md",
        &[
            r#"title = "Bài có ảnh""#,
            "date = 2023-09-13T08:00:00+07:00",
            r#"unit = "xa-binh-minh""#,
            r#"kind = "Hội nghị sơ kết""#,
            r#"documents = ["35-NQ/TW", "144-QĐ/TW"]"#,
            r#"tags = ["Không gian mạng"]"#,
            r#"cover = { src = "anh.jpg", alt = "Quang cảnh" }"#,
            r#"aliases = ["/tin-cu/123.html", "/tin-cu/thu-muc/"]"#,
            r#"source = "https://example.org/bai-goc""#,
        ],
        r#"
Mở đầu, xem [phần kết luận](#ket-luan) và [bài khác](../../../2024/01/khac.md#ket-luan).

![Ảnh](anh.jpg)

![Ảnh con](hinh/con.png "Chú thích ảnh con")

Tải [kế hoạch](../../../tai-lieu/ke-hoach.pdf), [dự thảo](<../../../tai-lieu/Dự thảo 1.pdf>)
và [bản in](../../../tai-lieu/B%E1%BA%A3n%20in.pdf?v=2).

Liên hệ [thư](mailto:bbt@example.org) hoặc [trang ngoài](https://example.org/x).

## Kết luận

Hết.
"#,
    );
    site.write(
        "content/2023/09/bai/anh.jpg",
        [0xff_u8, 0xd8, 0xff, 0xe0, 1, 2, 3],
    );
    site.write(
        "content/2023/09/bai/hinh/con.png",
        [0x89_u8, b'P', b'N', b'G'],
    );
    site.write("content/2023/09/bai/_rieng.txt", "không xuất bản");
    site.report(
        "2024/01/khac.md",
        &[
            r#"title = "Bài khác""#,
            "date = 2024-01-05",
            r#"unit = "huyen-uy-cam-le""#,
            r#"tags = ["Hòa Bình"]"#,
        ],
        "Quay lại [bài có ảnh](../../2023/09/bai/index.md), [thư mục của nó](../../2023/09/bai/) \
         và [ảnh của nó](../../2023/09/bai/anh.jpg).\n\n## Kết luận\n\nHết.\n",
    );
    for i in 1..=4 {
        site.simple(
            &format!("2024/02/r{i}.md"),
            &format!("Bài thêm {i}"),
            &format!("2024-02-0{i}"),
            "so-thong-tin",
        );
    }
    site.write("content/tai-lieu/ke-hoach.pdf", "%PDF-1.4 kế hoạch");
    site.write("content/tai-lieu/Dự thảo 1.pdf", "%PDF-1.4 dự thảo");
    site.write("content/tai-lieu/Bản in.pdf", "%PDF-1.4 bản in");
    site.write("static/favicon.ico", [0_u8, 0, 1, 0]);
    site.write("static/css/rieng.css", "body { color: black }");
    // Ignored: names starting with `_` or `.`; the broken report would fail the build.
    site.write("content/_nhap/hong.md", "không có phần đầu");
    site.write("content/.an/hong.md", "không có phần đầu");
    site.write("content/2024/_ghi-chu.txt", "ghi chú");
    site.write("content/2024/.DS_Store", "x");
    site.write("content/_hong.md", "không có phần đầu");
    site
}

/// The href of the link whose text is `text`.
fn link_with_text(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!(">{text}</a>"))?;
    let start = html[..end].rfind("<a ")?;
    attr_values(&html[start..=end], "href").pop()
}

fn href_to(page: &str, html: &str, target: &str) -> Vec<String> {
    attr_values(main_of(html), "href")
        .into_iter()
        .filter(|h| !is_external(h) && resolve(page, h).as_deref() == Some(target))
        .collect()
}

#[test]
fn relative_links_in_reports_reach_their_files() {
    let site = link_site("");
    let out = site.build_ok(&[]);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let page_path = format!("{BUNDLE}/index.html");
    let page = site.read(&page_path);
    let main = main_of(&page);

    // The bundle's files are copied beside its page, sub-folders included.
    assert_eq!(
        std::fs::read(site.out().join(BUNDLE).join("anh.jpg")).unwrap(),
        [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]
    );
    assert!(site.has(&format!("{BUNDLE}/hinh/con.png")));
    let srcs: Vec<Option<String>> = attr_values(main, "src")
        .iter()
        .map(|s| resolve(&page_path, s))
        .collect();
    assert!(
        srcs.contains(&Some(format!("{BUNDLE}/anh.jpg"))),
        "{srcs:?}"
    );
    assert!(
        srcs.contains(&Some(format!("{BUNDLE}/hinh/con.png"))),
        "{srcs:?}"
    );

    // A link to another report's .md goes to its page, #fragment kept.
    let to_other = href_to(&page_path, &page, &format!("{OTHER}/index.html"));
    assert!(
        to_other.iter().any(|h| h.ends_with("#ket-luan")),
        "{to_other:?}"
    );
    assert!(site
        .read(&format!("{OTHER}/index.html"))
        .contains("id=\"ket-luan\""));
    assert!(attr_values(main, "href").contains(&"#ket-luan".to_string()));

    // Files outside bundles are copied to the same path.
    for (file, link_target) in [
        ("tai-lieu/ke-hoach.pdf", "tai-lieu/ke-hoach.pdf"),
        ("tai-lieu/Dự thảo 1.pdf", "tai-lieu/Dự thảo 1.pdf"),
        ("tai-lieu/Bản in.pdf", "tai-lieu/Bản in.pdf"),
    ] {
        assert!(site.has(file), "{file} is copied");
        assert_eq!(
            href_to(&page_path, &page, link_target).len(),
            1,
            "a link reaches {link_target}:\n{main}"
        );
    }

    // From another report: the bundle's .md, its folder and its image.
    let other_path = format!("{OTHER}/index.html");
    let other = site.read(&other_path);
    for (text, target) in [
        ("bài có ảnh", page_path.clone()),
        ("thư mục của nó", page_path.clone()),
        ("ảnh của nó", format!("{BUNDLE}/anh.jpg")),
    ] {
        let href = link_with_text(&other, text)
            .unwrap_or_else(|| panic!("no link `{text}` in:\n{}", main_of(&other)));
        assert_eq!(
            resolve(&other_path, &href),
            Some(target),
            "`{text}`: {href}"
        );
    }

    // External links are left alone.
    let hrefs = attr_values(main, "href");
    assert!(
        hrefs.contains(&"mailto:bbt@example.org".to_string()),
        "{hrefs:?}"
    );
    assert!(
        hrefs.contains(&"https://example.org/x".to_string()),
        "{hrefs:?}"
    );
}

#[test]
fn static_files_land_at_the_root_and_ignored_files_nowhere() {
    let site = link_site("");
    site.build_ok(&[]);
    assert_eq!(
        std::fs::read(site.out().join("favicon.ico")).unwrap(),
        [0, 0, 1, 0]
    );
    assert_eq!(site.read("css/rieng.css"), "body { color: black }");
    // The theme's own static files are there too.
    assert!(site.has("style.css"));
    for path in file_list(&site.out()) {
        for segment in path.split('/') {
            assert!(
                !segment.starts_with('_') && !segment.starts_with('.'),
                "{path} should have been ignored"
            );
        }
    }
    let text: String = tree(&site.out())
        .values()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(!text.contains("không xuất bản") && !text.contains("ghi chú"));
}

#[test]
fn a_site_static_file_overrides_the_theme() {
    let site = link_site("");
    site.write("static/style.css", "/* của site */");
    site.build_ok(&[]);
    assert_eq!(site.read("style.css"), "/* của site */");
}

fn assert_crawl_clean(site: &Site) {
    let problems = crawl(&site.out(), Some(BASE));
    assert!(
        problems.is_empty(),
        "{} bad links:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let problems = crawl(&site.out(), Some(BASE.trim_end_matches('/')));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_search_index_paths(site);
}

/// The search index's paths are from the site root and reach files: each report's page
/// (in the files of `tim-kiem/bai/`) and each unit's page (the manifest's `unit_path` pattern).
fn assert_search_index_paths(site: &Site) {
    let js = site.read("tim-kiem/search-index.js");
    let json = js
        .trim()
        .strip_prefix("window.bantinSearchIndex = ")
        .and_then(|j| j.strip_suffix(';'))
        .unwrap_or_else(|| panic!("unexpected search index:\n{js}"));
    let index: serde_json::Value = serde_json::from_str(json).expect("the search manifest is JSON");
    let count = index["reports"].as_u64().expect("a report count") as usize;
    assert!(count > 0);
    let unit_path = index["unit_path"].as_str().expect("unit_path");
    for unit in index["units"].as_array().expect("units") {
        let path = unit_path.replace("{id}", unit["id"].as_str().expect("a unit id"));
        assert!(
            site.has(&path),
            "the search index's unit path `{path}` reaches nothing"
        );
    }
    let per_file = index["results_per_file"]
        .as_u64()
        .expect("results_per_file") as usize;
    for n in 0..count {
        let js = site.read(&format!("tim-kiem/bai/{}.js", n / per_file));
        let prefix = format!("window.bantinSearch.doc({n},");
        let json = js
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|j| j.strip_suffix(");"))
            .unwrap_or_else(|| panic!("report {n} is not in its file:\n{js}"));
        let doc: serde_json::Value =
            serde_json::from_str(json).expect("a report of the search index is JSON");
        let path = doc["p"].as_str().unwrap_or_else(|| panic!("p in {doc}"));
        assert!(
            site.has(path),
            "the search index's path `{path}` reaches nothing"
        );
    }
}

#[test]
fn crawl_the_link_fixture() {
    let site = link_site("pretty_links = false\npaginate = 1");
    site.build_ok(&[]);
    assert!(site.has("page/6/index.html") && site.has("don-vi/tinh-uy/page/2/index.html"));
    assert!(site.has("tin-cu/123.html") && site.has("tin-cu/thu-muc/index.html"));
    assert_crawl_clean(&site);
}

#[test]
fn crawl_the_sample_site() {
    let site = sample_site();
    site.build_ok(&["--base-url", BASE]);
    assert!(file_list(&site.out()).len() > 50);
    assert_crawl_clean(&site);
}

#[test]
fn pretty_links_end_in_folders_that_have_a_page() {
    let site = link_site("pretty_links = true\npaginate = 1");
    site.build_ok(&[]);
    let files = file_list(&site.out());
    let mut problems = Vec::new();
    let mut folder_links = 0;
    for page in files.iter().filter(|f| f.ends_with(".html")) {
        for href in links(&site.read(page)) {
            if href.starts_with('#') || is_external(&href) {
                continue;
            }
            if href.starts_with('/') || href.contains("noibo.example") {
                problems.push(format!("{page}: `{href}` is absolute"));
                continue;
            }
            let Some(target) = resolve(page, &href) else {
                problems.push(format!("{page}: `{href}` climbs above the site"));
                continue;
            };
            if target == "index.html" || target.ends_with("/index.html") {
                problems.push(format!(
                    "{page}: `{href}` names index.html with pretty_links"
                ));
            } else if target.is_empty() || target.ends_with('/') {
                folder_links += 1;
                if !files.contains(&format!("{target}index.html")) {
                    problems.push(format!("{page}: `{href}` is a folder without a page"));
                }
            } else if !files.contains(&target) {
                problems.push(format!("{page}: `{href}` reaches nothing ({target})"));
            }
        }
    }
    assert!(folder_links > 100, "{folder_links}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_crawler_finds_bad_links() {
    let dir = tempfile::tempdir().unwrap();
    let page = |rel: &str, body: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    };
    page(
        "index.html",
        r#"<a href="a/index.html">ok</a> <a href="a/">folder</a> <a href="/a/index.html">absolute</a>"#,
    );
    page(
        "a/index.html",
        r##"<a href="../index.html#top">ok</a> <img src="..&#x2F;nowhere.png"> <a href="https://x.example/bt/a/">base</a>
           <a href="mailto:a@b.c">ok</a> <a href="#top">ok</a> <a href="../../up.html">up</a> <a href="../T%E1%BB%87p.pdf?v=1">ok</a>"##,
    );
    page("Tệp.pdf", "pdf");
    let problems = crawl(dir.path(), Some("https://x.example/bt"));
    let expected = [
        "a/index.html: `../nowhere.png` reaches nothing (nowhere.png)",
        "a/index.html: `https://x.example/bt/a/` holds the base_url",
        "a/index.html: `../../up.html` climbs above the site",
        "index.html: `a/` names a folder (a/), not a file",
        "index.html: `/a/index.html` is absolute",
    ];
    for e in expected {
        assert!(
            problems.iter().any(|p| p == e),
            "`{e}` not found in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}

#[test]
fn crawl_without_search_in_english() {
    let site = link_site("search = false\nlanguage = \"en\"\npaginate = 2");
    site.build_ok(&[]);
    assert!(!site.has("tim-kiem/index.html") && !site.has("tim-kiem/search-index.js"));
    let problems = crawl(&site.out(), Some(BASE));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
