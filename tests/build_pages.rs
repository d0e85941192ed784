//! `bantin build` on small fixture sites: which pages exist, and what they list.

mod common;

use common::*;

const BASE: &str = "https://noibo.example/bantin/";

/// Three reports over three months and two years, one of them written in UTC late on
/// 31 December 2023, which is January 2024 in the site's timezone (+07:00).
fn three_report_site(config: &str) -> Site {
    let site = Site::with_config(config);
    site.report(
        "2023/12/giao-ban.md",
        &[
            r#"title = "Giao ban cuối năm""#,
            "date = 2023-12-31T23:30:00+00:00",
            r#"unit = "xa-binh-minh""#,
            r#"kind = "Hội nghị sơ kết""#,
            r#"documents = ["35-NQ/TW"]"#,
            r#"tags = ["Không gian mạng"]"#,
        ],
        "Buổi giao ban cuối năm của Đảng ủy xã.\n",
    );
    site.simple(
        "2023/09/so-ket.md",
        "Sơ kết Nghị quyết 35",
        "2023-09-13T14:00:00+07:00",
        "huyen-uy-an-phu",
    );
    site.simple(
        "2024/03/tap-huan.md",
        "Tập huấn cộng tác viên",
        "2024-03-05",
        "so-thong-tin",
    );
    site
}

const REPORTS: [&str; 3] = [
    "2024/03/tap-huan-cong-tac-vien",
    "2024/01/giao-ban-cuoi-nam",
    "2023/09/so-ket-nghi-quyet-35",
];

#[test]
fn every_page_of_the_contract_is_written() {
    let site = three_report_site(&format!("paginate = 2\nbase_url = \"{BASE}\""));
    site.build_ok(&[]);

    let mut expected: Vec<String> = [
        "index.html",
        "page/2/index.html",
        "2023/index.html",
        "2024/index.html",
        "2023/09/index.html",
        "2024/01/index.html",
        "2024/03/index.html",
        "luu-tru/index.html",
        "don-vi/index.html",
        "chu-de/index.html",
        "chu-de/khong-gian-mang/index.html",
        "van-ban/index.html",
        "van-ban/35-nq-tw/index.html",
        "loai/index.html",
        "loai/hoi-nghi-so-ket/index.html",
        "tim-kiem/index.html",
        "tim-kiem/search-index.js",
        "404.html",
        "feed.xml",
        "sitemap.xml",
        // Units with reports in their subtree have a feed; huyen-uy-cam-le has none.
        "don-vi/tinh-uy/feed.xml",
        "don-vi/huyen-uy-an-phu/feed.xml",
        "don-vi/xa-binh-minh/feed.xml",
        "don-vi/so-thong-tin/feed.xml",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expected.extend(REPORTS.iter().map(|r| format!("{r}/index.html")));
    expected.extend(ALL_UNITS.iter().map(|u| format!("don-vi/{u}/index.html")));
    let files = file_list(&site.out());
    let missing: Vec<_> = expected.iter().filter(|f| !files.contains(*f)).collect();
    assert!(
        missing.is_empty(),
        "missing: {missing:?}\nwritten: {files:#?}"
    );

    for absent in [
        "page/3/index.html",
        "2023/12/index.html",
        "2023/12/giao-ban-cuoi-nam/index.html",
        "don-vi/huyen-uy-cam-le/feed.xml",
    ] {
        assert!(!files.contains(absent), "{absent} should not be written");
    }

    // The pages hold what they are for.
    let report = site.read("2024/01/giao-ban-cuoi-nam/index.html");
    assert!(text_of(main_of(&report)).contains("Giao ban cuối năm"));
    assert!(text_of(main_of(&report)).contains("Buổi giao ban cuối năm của Đảng ủy xã."));
    assert!(
        report.contains("datetime=\"2024-01-01T06:30:00+07:00\""),
        "date in the site's timezone:\n{report}"
    );
    assert_eq!(
        reports_on(&site, "2024/01/index.html"),
        ["2024/01/giao-ban-cuoi-nam"]
    );
    assert_eq!(
        reports_on(&site, "2024/index.html"),
        [
            "2024/03/tap-huan-cong-tac-vien",
            "2024/01/giao-ban-cuoi-nam"
        ]
    );
    assert_eq!(
        reports_on(&site, "2023/index.html"),
        ["2023/09/so-ket-nghi-quyet-35"]
    );
    assert_eq!(
        reports_on(&site, "van-ban/35-nq-tw/index.html"),
        ["2024/01/giao-ban-cuoi-nam"]
    );
    assert_eq!(
        reports_on(&site, "loai/hoi-nghi-so-ket/index.html"),
        ["2024/01/giao-ban-cuoi-nam"]
    );
    assert_eq!(
        reports_on(&site, "chu-de/khong-gian-mang/index.html"),
        ["2024/01/giao-ban-cuoi-nam"]
    );
    assert!(text_of(main_of(&site.read("van-ban/index.html"))).contains("35-NQ/TW"));
    let archive = text_of(main_of(&site.read("luu-tru/index.html")));
    for year in ["2023", "2024"] {
        assert!(archive.contains(year), "luu-tru lists {year}: {archive}");
    }
    let units = text_of(main_of(&site.read("don-vi/index.html")));
    for name in [
        "Tỉnh ủy Hòa Bình",
        "Huyện ủy An Phú",
        "Đảng ủy xã Bình Minh",
        "Huyện ủy Cẩm Lệ",
        "Sở Thông tin và Truyền thông",
    ] {
        assert!(units.contains(name), "don-vi lists {name}: {units}");
    }

    // Feeds and sitemap use the base_url.
    let feed = site.read("feed.xml");
    assert_eq!(feed.matches("<entry>").count(), 3, "{feed}");
    for r in REPORTS {
        assert!(
            feed.contains(&format!("{BASE}{r}/index.html")),
            "feed links {r}:\n{feed}"
        );
    }
    let unit_feed = site.read("don-vi/huyen-uy-an-phu/feed.xml");
    assert_eq!(unit_feed.matches("<entry>").count(), 2, "{unit_feed}");
    assert!(!unit_feed.contains("tap-huan"), "{unit_feed}");
    let sitemap = site.read("sitemap.xml");
    for r in REPORTS {
        assert!(
            sitemap.contains(&format!("<loc>{BASE}{r}/index.html</loc>")),
            "sitemap lists {r}:\n{sitemap}"
        );
    }
    assert!(
        sitemap.contains(&format!(
            "<loc>{BASE}don-vi/huyen-uy-cam-le/index.html</loc>"
        )),
        "{sitemap}"
    );

    // Only feeds and the sitemap hold the base_url.
    let base_without_slash = BASE.trim_end_matches('/');
    for (path, bytes) in tree(&site.out()) {
        let name = path.rsplit('/').next().unwrap_or(&path);
        if name == "feed.xml" || name == "sitemap.xml" {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(base_without_slash),
            "{path} holds the base_url"
        );
        assert!(
            !text.contains("noibo.example"),
            "{path} holds the base_url's host"
        );
    }
}

#[test]
fn feeds_and_sitemap_need_a_base_url() {
    let site = three_report_site("");
    site.build_ok(&[]);
    let files = file_list(&site.out());
    assert!(files.contains("index.html"));
    let xml: Vec<_> = files.iter().filter(|f| f.ends_with(".xml")).collect();
    assert!(
        xml.is_empty(),
        "no feeds or sitemap without base_url: {xml:?}"
    );

    site.build_ok(&["--base-url", "https://cli.example/tin"]);
    let files = file_list(&site.out());
    for f in [
        "feed.xml",
        "sitemap.xml",
        "don-vi/tinh-uy/feed.xml",
        "don-vi/so-thong-tin/feed.xml",
    ] {
        assert!(files.contains(f), "--base-url writes {f}");
    }
    assert!(site
        .read("feed.xml")
        .contains("https://cli.example/tin/2024/01/giao-ban-cuoi-nam/index.html"));
    assert!(!site.read("index.html").contains("cli.example"));
}

#[test]
fn a_bad_base_url_on_the_command_line_is_refused() {
    let site = three_report_site("");
    let out = site.build(&["--base-url", "noibo.example/bantin"]);
    assert_fails(&out);
    assert!(
        stderr(&out).contains("noibo.example/bantin"),
        "{}",
        stderr(&out)
    );
    assert!(!site.out().exists());
}

/// One report per unit of the three-level tree, plus one of the second root.
fn report_per_unit_site() -> Site {
    let site = Site::new();
    site.simple("a.md", "Bài của Tỉnh ủy", "2024-01-01", "tinh-uy");
    site.simple(
        "b.md",
        "Bài của Huyện ủy An Phú",
        "2024-01-02",
        "huyen-uy-an-phu",
    );
    site.simple("c.md", "Bài của xã Bình Minh", "2024-01-03", "xa-binh-minh");
    site.simple("d.md", "Bài của Sở", "2024-01-04", "so-thong-tin");
    site
}

#[test]
fn a_unit_page_lists_its_reports_and_those_of_every_unit_below() {
    let site = report_per_unit_site();
    site.simple(
        "e.md",
        "Bài của Huyện ủy Cẩm Lệ",
        "2024-01-05",
        "huyen-uy-cam-le",
    );
    site.build_ok(&[]);
    let tinh = "2024/01/bai-cua-tinh-uy";
    let huyen = "2024/01/bai-cua-huyen-uy-an-phu";
    let xa = "2024/01/bai-cua-xa-binh-minh";
    let so = "2024/01/bai-cua-so";
    let cam_le = "2024/01/bai-cua-huyen-uy-cam-le";
    assert_eq!(
        reports_on(&site, "don-vi/tinh-uy/index.html"),
        [cam_le, xa, huyen, tinh]
    );
    assert_eq!(
        reports_on(&site, "don-vi/huyen-uy-an-phu/index.html"),
        [xa, huyen]
    );
    assert_eq!(reports_on(&site, "don-vi/xa-binh-minh/index.html"), [xa]);
    assert_eq!(
        reports_on(&site, "don-vi/huyen-uy-cam-le/index.html"),
        [cam_le]
    );
    assert_eq!(reports_on(&site, "don-vi/so-thong-tin/index.html"), [so]);
}

#[test]
fn a_unit_without_reports_still_has_a_page() {
    let site = report_per_unit_site();
    site.build_ok(&[]);
    let page = site.read("don-vi/huyen-uy-cam-le/index.html");
    assert!(text_of(main_of(&page)).contains("Huyện ủy Cẩm Lệ"));
    assert_eq!(
        report_links("don-vi/huyen-uy-cam-le/index.html", &page),
        Vec::<String>::new()
    );
    // Its parent's page does not list it as having reports, nor its siblings' reports.
    assert!(!reports_on(&site, "don-vi/tinh-uy/index.html").is_empty());
}

#[test]
fn pagination_edges() {
    let dates = ["2024-01-01", "2024-01-02", "2024-01-03"];
    for n in 0..=3 {
        let site = Site::with_config("paginate = 2");
        for (i, date) in dates.iter().take(n).enumerate() {
            site.simple(&format!("r{i}.md"), &format!("Bài số {i}"), date, "tinh-uy");
        }
        site.build_ok(&[]);
        let home = reports_on(&site, "index.html");
        let newest_first: Vec<String> = (0..n)
            .rev()
            .map(|i| format!("2024/01/bai-so-{i}"))
            .collect();
        assert_eq!(home, newest_first[..n.min(2)], "{n} reports: home page");
        assert_eq!(site.has("page/2/index.html"), n == 3, "{n} reports: page/2");
        assert!(!site.has("page/3/index.html"), "{n} reports: no page/3");
        if n == 3 {
            assert_eq!(
                reports_on(&site, "page/2/index.html"),
                ["2024/01/bai-so-0"],
                "the oldest report is on page 2"
            );
            let home = site.read("index.html");
            let to_page_2 = attr_values(main_of(&home), "href")
                .iter()
                .any(|h| resolve("index.html", h).as_deref() == Some("page/2/index.html"));
            assert!(to_page_2, "the home page links to page 2:\n{home}");
            let page2 = site.read("page/2/index.html");
            let back = attr_values(main_of(&page2), "href")
                .iter()
                .any(|h| resolve("page/2/index.html", h).as_deref() == Some("index.html"));
            assert!(back, "page 2 links back to the home page:\n{page2}");
            // A unit's pages are paginated the same way.
            assert!(site.has("don-vi/tinh-uy/page/2/index.html"));
            assert_eq!(
                reports_on(&site, "don-vi/tinh-uy/page/2/index.html"),
                ["2024/01/bai-so-0"]
            );
        }
        if n == 0 {
            assert!(site.has("index.html"));
            assert!(!text_of(main_of(&site.read("index.html"))).is_empty());
        }
    }
}

#[test]
fn equal_dates_are_ordered_by_title() {
    let site = Site::new();
    // File names in the opposite order of the titles.
    site.simple("a.md", "Bài C", "2024-02-01T08:00:00+07:00", "tinh-uy");
    site.simple("b.md", "Bài B", "2024-02-01T08:00:00+07:00", "tinh-uy");
    site.simple("c.md", "Bài A", "2024-02-01T08:00:00+07:00", "tinh-uy");
    site.simple(
        "d.md",
        "Bài mới hơn",
        "2024-02-01T09:00:00+07:00",
        "tinh-uy",
    );
    site.build_ok(&[]);
    let expected = [
        "2024/02/bai-moi-hon",
        "2024/02/bai-a",
        "2024/02/bai-b",
        "2024/02/bai-c",
    ];
    assert_eq!(reports_on(&site, "index.html"), expected);
    assert_eq!(reports_on(&site, "2024/02/index.html"), expected);
    assert_eq!(reports_on(&site, "don-vi/tinh-uy/index.html"), expected);
}

#[test]
fn equal_slugs_get_numbers_in_date_then_path_order_with_a_warning() {
    let site = Site::new();
    // The later report's file sorts first: the date decides.
    site.simple("2023/09/a-sau.md", "Họp giao ban", "2023-09-20", "tinh-uy");
    site.simple(
        "2023/09/z-truoc.md",
        "Họp giao ban",
        "2023-09-05",
        "tinh-uy",
    );
    // Same date: the path decides.
    site.simple("2023/10/b.md", "Họp giao ban", "2023-10-07", "tinh-uy");
    site.simple("2023/10/a.md", "Họp giao ban", "2023-10-07", "tinh-uy");
    // Another month: no collision.
    site.simple("2023/11/a.md", "Họp giao ban", "2023-11-07", "tinh-uy");
    let out = site.build_ok(&[]);
    let err = stderr(&out);

    let first = site.read("2023/09/hop-giao-ban/index.html");
    assert!(
        first.contains("datetime=\"2023-09-05T00:00:00+07:00\""),
        "the earlier report keeps the slug"
    );
    let second = site.read("2023/09/hop-giao-ban-2/index.html");
    assert!(
        second.contains("datetime=\"2023-09-20T00:00:00+07:00\""),
        "the later one gets -2"
    );
    assert!(site
        .read("2023/10/hop-giao-ban/index.html")
        .contains("Nội dung của bài"));
    assert!(site.has("2023/10/hop-giao-ban-2/index.html"));
    assert!(site.has("2023/11/hop-giao-ban/index.html"));
    assert!(!site.has("2023/11/hop-giao-ban-2/index.html"));
    assert!(!site.has("2023/09/hop-giao-ban-3/index.html"));

    assert!(
        err.contains("warning: content/2023/09/a-sau.md"),
        "the warning names the file that got -2:\n{err}"
    );
    assert!(err.contains("warning: content/2023/10/b.md"), "{err}");
    assert!(err.contains("hop-giao-ban-2"), "{err}");
    assert_eq!(err.matches("warning:").count(), 2, "{err}");
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn slug_front_matter_overrides_the_title() {
    let site = Site::new();
    site.report(
        "x.md",
        &[
            r#"title = "Một tiêu đề rất dài""#,
            "date = 2023-09-13",
            r#"unit = "tinh-uy""#,
            r#"slug = "ngan-gon""#,
        ],
        "Nội dung.\n",
    );
    site.simple("y.md", "Hội nghị sơ kết Đảng ủy", "2023-09-14", "tinh-uy");
    site.build_ok(&[]);
    assert!(site.has("2023/09/ngan-gon/index.html"));
    assert!(!site.has("2023/09/mot-tieu-de-rat-dai/index.html"));
    assert!(site.has("2023/09/hoi-nghi-so-ket-dang-uy/index.html"));
}

#[test]
fn drafts_are_built_only_with_drafts() {
    let site = Site::with_config(&format!("base_url = \"{BASE}\""));
    site.simple(
        "2024/01/cong-khai.md",
        "Bài công khai",
        "2024-01-10",
        "xa-binh-minh",
    );
    site.report(
        "2024/01/nhap.md",
        &[
            r#"title = "Bài nháp bí mật""#,
            "date = 2024-01-20",
            r#"unit = "xa-binh-minh""#,
            r#"tags = ["Chủ đề nháp"]"#,
            "draft = true",
        ],
        "Nội dung chưa duyệt.\n",
    );

    site.build_ok(&[]);
    assert!(!site.has("2024/01/bai-nhap-bi-mat/index.html"));
    assert!(!site.has("chu-de/chu-de-nhap/index.html"));
    for (path, bytes) in tree(&site.out()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("Bài nháp bí mật") && !text.contains("bai-nhap-bi-mat"),
            "{path} shows the draft"
        );
        assert!(
            !text.contains("Chủ đề nháp"),
            "{path} shows the draft's tag"
        );
    }
    assert_eq!(reports_on(&site, "index.html"), ["2024/01/bai-cong-khai"]);
    assert_eq!(
        reports_on(&site, "don-vi/xa-binh-minh/index.html"),
        ["2024/01/bai-cong-khai"]
    );

    site.build_ok(&["--drafts"]);
    let draft = "2024/01/bai-nhap-bi-mat";
    assert!(site.has(&format!("{draft}/index.html")));
    assert!(site.has("chu-de/chu-de-nhap/index.html"));
    assert_eq!(
        reports_on(&site, "index.html"),
        [draft, "2024/01/bai-cong-khai"]
    );
    assert_eq!(
        reports_on(&site, "don-vi/xa-binh-minh/index.html"),
        [draft, "2024/01/bai-cong-khai"]
    );
    assert_eq!(
        reports_on(&site, "don-vi/tinh-uy/index.html"),
        [draft, "2024/01/bai-cong-khai"]
    );
    assert!(site.read("feed.xml").contains("Bài nháp bí mật"));
    assert!(site
        .read("don-vi/xa-binh-minh/feed.xml")
        .contains("Bài nháp bí mật"));
    let in_search = site.read("tim-kiem/bai/0.js").contains("Bài nháp bí mật");
    assert!(in_search, "the draft is in the search index with --drafts");
}

#[test]
fn an_alias_redirects_to_its_report() {
    let site = Site::new();
    site.report(
        "2023/09/bai.md",
        &[
            r#"title = "Bài có địa chỉ cũ""#,
            "date = 2023-09-13",
            r#"unit = "tinh-uy""#,
            r#"aliases = ["/tin-cu/123.html", "/tin-cu/thu-muc/"]"#,
        ],
        "Nội dung.\n",
    );
    site.build_ok(&[]);
    let target = "2023/09/bai-co-dia-chi-cu/index.html";
    assert!(site.has(target));
    for alias in ["tin-cu/123.html", "tin-cu/thu-muc/index.html"] {
        let page = site.read(alias);
        let refresh = page
            .split("http-equiv=\"refresh\"")
            .nth(1)
            .and_then(|rest| attr_values(rest, "content").into_iter().next())
            .unwrap_or_else(|| panic!("{alias} has no meta refresh:\n{page}"));
        let url = refresh
            .split_once("url=")
            .map(|(_, u)| u.trim().to_string())
            .unwrap_or_else(|| panic!("no url in `{refresh}`"));
        assert!(
            !url.starts_with('/') && !is_external(&url),
            "{alias}: the redirect is relative: {url}"
        );
        assert_eq!(
            resolve(alias, &url).as_deref(),
            Some(target),
            "{alias} redirects to {url}"
        );
        // The link for readers without meta refresh goes there too.
        let hrefs = attr_values(&page, "href");
        assert!(
            hrefs
                .iter()
                .all(|h| resolve(alias, h).as_deref() == Some(target)),
            "{alias}: {hrefs:?}"
        );
    }
}

#[test]
fn spellings_of_a_term_meet_on_one_page_named_by_the_most_used() {
    let site = Site::new();
    let nfd = "Hoa\u{300} Bi\u{300}nh"; // "Hoà Bình" decomposed (NFD)
    site.report(
        "a.md",
        &[
            r#"title = "Bài một""#,
            "date = 2024-01-01",
            r#"unit = "so-thong-tin""#,
            r#"tags = ["Hoà Bình", "Thuỷ lợi"]"#,
        ],
        "Một.\n",
    );
    site.report(
        "b.md",
        &[
            r#"title = "Bài hai""#,
            "date = 2024-01-02",
            r#"unit = "so-thong-tin""#,
            &format!("tags = [\"{nfd}\", \"Thủy lợi\"]"),
        ],
        "Hai.\n",
    );
    site.report(
        "c.md",
        &[
            r#"title = "Bài ba""#,
            "date = 2024-01-03",
            r#"unit = "so-thong-tin""#,
            r#"tags = ["Hòa Bình", "Thủy lợi"]"#,
        ],
        "Ba.\n",
    );
    site.build_ok(&[]);

    let all = ["2024/01/bai-ba", "2024/01/bai-hai", "2024/01/bai-mot"];
    assert_eq!(reports_on(&site, "chu-de/hoa-binh/index.html"), all);
    assert_eq!(reports_on(&site, "chu-de/thuy-loi/index.html"), all);
    let tags: Vec<_> = file_list(&site.out())
        .into_iter()
        .filter(|f| f.starts_with("chu-de/"))
        .collect();
    assert_eq!(
        tags,
        [
            "chu-de/hoa-binh/index.html",
            "chu-de/index.html",
            "chu-de/thuy-loi/index.html"
        ]
    );

    // Shown names: "Hoà Bình" twice (once decomposed) against "Hòa Bình" once;
    // "Thủy lợi" twice against "Thuỷ lợi" once.
    let hoa_binh = text_of(main_of(&site.read("chu-de/hoa-binh/index.html")));
    assert!(hoa_binh.contains("Hoà Bình"), "{hoa_binh}");
    assert!(!hoa_binh.contains("Hòa Bình"), "{hoa_binh}");
    let thuy_loi = text_of(main_of(&site.read("chu-de/thuy-loi/index.html")));
    assert!(
        thuy_loi.contains("Thủy lợi") && !thuy_loi.contains("Thuỷ lợi"),
        "{thuy_loi}"
    );
    let index = text_of(main_of(&site.read("chu-de/index.html")));
    assert!(
        index.contains("Hoà Bình") && !index.contains("Hòa Bình"),
        "{index}"
    );
    // No decomposed text reaches the output.
    for (path, bytes) in tree(&site.out()) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains('\u{300}'),
            "{path} holds a decomposed mark"
        );
    }
}

#[test]
fn a_bom_and_windows_line_endings_are_accepted() {
    let site = Site::new();
    let text = "\u{feff}+++\r\ntitle = \"Bài soạn trên Windows\"\r\ndate = 2024-02-02\r\nunit = \"tinh-uy\"\r\n+++\r\n\r\nDòng một.\r\n\r\n## Mục hai\r\n";
    site.write("content/win.md", text);
    site.build_ok(&[]);
    let page = site.read("2024/02/bai-soan-tren-windows/index.html");
    let main = main_of(&page);
    assert!(text_of(main).contains("Bài soạn trên Windows"));
    assert!(main.contains("<p>Dòng một.</p>"), "{main}");
    assert!(main.contains("id=\"muc-hai\""), "{main}");
    assert!(!page.contains('\r') && !page.contains('\u{feff}'));
}

#[test]
fn dates_without_offset_are_in_the_site_timezone() {
    let site = Site::new();
    // 23:30 on 31 January at +07:00; read as UTC it would be 1 February in the site.
    site.simple(
        "a.md",
        "Họp tối cuối tháng",
        "2024-01-31T23:30:00",
        "tinh-uy",
    );
    site.simple("b.md", "Ngày không giờ", "2024-03-05", "tinh-uy");
    site.build_ok(&[]);
    let late = site.read("2024/01/hop-toi-cuoi-thang/index.html");
    assert!(
        late.contains("datetime=\"2024-01-31T23:30:00+07:00\""),
        "{late}"
    );
    assert!(text_of(main_of(&late)).contains("23:30"));
    assert!(!site.has("2024/02/index.html"));
    let day = site.read("2024/03/ngay-khong-gio/index.html");
    assert!(
        day.contains("datetime=\"2024-03-05T00:00:00+07:00\""),
        "{day}"
    );
    assert!(text_of(main_of(&day)).contains("05/03/2024"));
}

#[test]
fn another_site_timezone_moves_reports_between_months() {
    let site = Site::empty();
    site.write("bantin.toml", "title = \"T\"\ntimezone = \"-05:00\"\n");
    site.write("units.toml", UNITS);
    site.simple(
        "a.md",
        "Đêm giao thừa",
        "2024-01-01T02:00:00+00:00",
        "tinh-uy",
    );
    site.build_ok(&[]);
    assert!(site.has("2023/12/dem-giao-thua/index.html"));
    assert!(site
        .read("2023/12/dem-giao-thua/index.html")
        .contains("datetime=\"2023-12-31T21:00:00-05:00\""));
}

const MARKDOWN_BODY: &str = r#"
Mở đầu bài viết.

## Kết quả nổi bật

| Cột A | Cột B |
|-------|-------|
| một   | hai   |

Có chú thích[^ghi-chu].

[^ghi-chu]: Nội dung chú thích.

Đoạn có ~~chữ bị gạch~~ bỏ.

- [x] việc đã xong
- [ ] việc chưa xong

![Quang cảnh](anh.jpg "Quang cảnh hội nghị")

<script>alert("markdown")</script>

<img src="anh.jpg" alt="x" onerror="alert(2)">

<p onclick="alert(3)">Đoạn HTML.</p>
"#;

fn markdown_site(config: &str) -> Site {
    let site = Site::with_config(config);
    site.report(
        "2023/09/md/index.md",
        &[
            r#"title = "<script>alert(1)</script> & Bài""#,
            "date = 2023-09-13",
            r#"unit = "tinh-uy""#,
            r#"authors = ["<b>Tác giả</b>"]"#,
        ],
        MARKDOWN_BODY,
    );
    site.write("content/2023/09/md/anh.jpg", b"not really a jpeg");
    site
}

fn markdown_page(site: &Site) -> String {
    site.read("2023/09/script-alert-1-script-bai/index.html")
}

#[test]
fn markdown_extensions_render() {
    let site = markdown_site("");
    site.build_ok(&[]);
    let page = markdown_page(&site);
    let main = main_of(&page);
    assert!(main.contains("<table>"), "{main}");
    assert!(
        main.contains("<th>Cột A</th>") && main.contains("<td>hai</td>"),
        "{main}"
    );
    assert!(main.contains("<del>chữ bị gạch</del>"), "{main}");
    let boxes: Vec<_> = main.match_indices("type=\"checkbox\"").collect();
    assert_eq!(boxes.len(), 2, "two task list boxes:\n{main}");
    assert!(main.contains("checked"), "{main}");
    // The footnote: a reference in the text linking to its definition on the page.
    assert!(text_of(main).contains("Nội dung chú thích."), "{main}");
    let fragments: Vec<String> = attr_values(main, "href")
        .into_iter()
        .filter(|h| h.starts_with('#') && h.len() > 1)
        .collect();
    let footnote_link = fragments
        .iter()
        .find(|f| main.contains(&format!("id=\"{}\"", &f[1..])))
        .unwrap_or_else(|| {
            panic!("no #fragment link reaching an id on the page: {fragments:?}\n{main}")
        });
    assert!(!footnote_link.is_empty());
    assert!(main.contains("<sup"), "{main}");
    // Headings get slug ids.
    assert!(
        main.contains("<h2 id=\"ket-qua-noi-bat\">Kết quả nổi bật</h2>"),
        "{main}"
    );
    // A titled image alone in its paragraph is a figure with a caption.
    let figure_start = main
        .find("<figure>")
        .unwrap_or_else(|| panic!("no figure:\n{main}"));
    let figure = &main[figure_start
        ..main[figure_start..]
            .find("</figure>")
            .expect("figure closed")
            + figure_start];
    assert!(
        figure.contains("<figcaption>Quang cảnh hội nghị</figcaption>"),
        "{figure}"
    );
    let src = attr_values(figure, "src")
        .pop()
        .expect("an img in the figure");
    assert_eq!(
        resolve("2023/09/script-alert-1-script-bai/index.html", &src).as_deref(),
        Some("2023/09/script-alert-1-script-bai/anh.jpg")
    );
}

#[test]
fn raw_html_is_sanitized_by_default() {
    let site = markdown_site("");
    site.build_ok(&[]);
    let page = markdown_page(&site);
    let main = main_of(&page);
    assert!(!main.contains("<script"), "{main}");
    assert!(!main.contains("alert(\"markdown\")"), "{main}");
    assert!(!main.contains("onerror"), "{main}");
    assert!(!main.contains("onclick"), "{main}");
    assert!(
        text_of(main).contains("Đoạn HTML."),
        "the harmless part stays:\n{main}"
    );
    // Front matter is text, escaped wherever it appears.
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(!page.contains("<b>Tác giả</b>"), "{page}");
    assert!(
        text_of(main).contains("<script>alert(1)</script> & Bài"),
        "{main}"
    );
    assert!(text_of(main).contains("<b>Tác giả</b>"), "{main}");
    let title = page
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next())
        .expect("a <title>");
    assert!(!title.contains('<'), "{title}");
    for list in [
        "index.html",
        "don-vi/tinh-uy/index.html",
        "2023/09/index.html",
    ] {
        let html = site.read(list);
        assert!(
            !html.contains("<script>alert(1)"),
            "{list} shows the title unescaped"
        );
        assert!(
            text_of(main_of(&html)).contains("<script>alert(1)</script> & Bài"),
            "{list}"
        );
    }
}

#[test]
fn raw_html_is_kept_with_allow_html() {
    let site = markdown_site("[markdown]\nallow_html = true");
    site.build_ok(&[]);
    let page = markdown_page(&site);
    let main = main_of(&page);
    assert!(
        main.contains("<script>alert(\"markdown\")</script>"),
        "{main}"
    );
    assert!(main.contains("onerror=\"alert(2)\""), "{main}");
    assert!(main.contains("onclick=\"alert(3)\""), "{main}");
    // Front matter is still escaped.
    assert!(!page.contains("<script>alert(1)"), "{page}");
}

#[test]
fn rebuilds_are_byte_identical() {
    let site = three_report_site(&format!("paginate = 1\nbase_url = \"{BASE}\""));
    site.report(
        "2023/09/bundle/index.md",
        &[
            r#"title = "Bài có ảnh""#,
            "date = 2023-09-20T08:00:00+07:00",
            r#"unit = "huyen-uy-cam-le""#,
            r#"tags = ["Không gian mạng", "Hòa Bình", "Hoà Bình"]"#,
            r#"cover = { src = "anh.jpg", alt = "Ảnh" }"#,
            r#"aliases = ["/cu/1.html"]"#,
        ],
        "Xem [bài sơ kết](../so-ket.md).\n\n![Ảnh](anh.jpg \"Chú thích\")\n",
    );
    site.write("content/2023/09/bundle/anh.jpg", [0u8, 1, 2, 3, 255]);
    let a = site.path("out-a");
    let b = site.path("out-b");
    site.build_ok(&["--out", a.to_str().unwrap()]);
    site.build_ok(&["--out", b.to_str().unwrap()]);
    let first = tree(&a);
    assert!(first.contains_key("feed.xml") && first.contains_key("cu/1.html"));
    assert_same_tree(&first, &tree(&b));
    // And again into the same folder, replacing it.
    site.build_ok(&["--out", a.to_str().unwrap()]);
    assert_same_tree(&first, &tree(&a));
}

#[test]
fn the_sample_site_rebuilds_byte_identically() {
    let site = sample_site();
    let a = site.path("out-a");
    let b = site.path("out-b");
    site.build_ok(&["--out", a.to_str().unwrap(), "--base-url", BASE]);
    site.build_ok(&["--out", b.to_str().unwrap(), "--base-url", BASE]);
    let first = tree(&a);
    assert!(
        first.len() > 50,
        "the sample site has pages: {}",
        first.len()
    );
    assert_same_tree(&first, &tree(&b));
}

/// The names linked from a page's `<main>` whose link reaches a path starting with `prefix`.
fn linked_names(page: &str, html: &str, prefix: &str) -> Vec<String> {
    let main = main_of(html);
    let mut names = Vec::new();
    let mut rest = main;
    while let Some(i) = rest.find("<a ") {
        rest = &rest[i..];
        let end = rest.find("</a>").expect("a closed link");
        let link = &rest[..end];
        let href = attr_values(link, "href").pop().unwrap_or_default();
        let target = resolve(page, &href).unwrap_or_default();
        let name = text_of(&link[link.find('>').expect("end of <a") + 1..]);
        if target.starts_with(prefix)
            && target != format!("{prefix}index.html")
            && !names.contains(&name)
        {
            names.push(name);
        }
        rest = &rest[end..];
    }
    names
}

#[test]
fn units_and_terms_are_in_vietnamese_alphabetical_order() {
    let site = Site::new();
    site.report(
        "a.md",
        &[
            r#"title = "Bài""#,
            "date = 2024-01-01",
            r#"unit = "tinh-uy""#,
            r#"documents = ["144-QĐ/TW", "35-NQ/TW", "01-CT/TU"]"#,
            r#"tags = ["Đảng viên", "Dân vận", "Ánh sáng", "An ninh", "ăn ở", "Bình luận"]"#,
        ],
        "Nội dung.\n",
    );
    site.build_ok(&[]);
    assert_eq!(
        linked_names(
            "van-ban/index.html",
            &site.read("van-ban/index.html"),
            "van-ban/"
        ),
        ["01-CT/TU", "35-NQ/TW", "144-QĐ/TW"]
    );
    assert_eq!(
        linked_names(
            "chu-de/index.html",
            &site.read("chu-de/index.html"),
            "chu-de/"
        ),
        [
            "An ninh",
            "Ánh sáng",
            "ăn ở",
            "Bình luận",
            "Dân vận",
            "Đảng viên"
        ]
    );
    let units = linked_names(
        "don-vi/index.html",
        &site.read("don-vi/index.html"),
        "don-vi/",
    );
    let names: Vec<&str> = units.iter().map(|u| u.as_str()).collect();
    // Roots "Sở ..." before "Tỉnh ủy ...", each followed by its subtree in order.
    assert_eq!(
        names,
        [
            "Sở Thông tin và Truyền thông",
            "Tỉnh ủy Hòa Bình",
            "Huyện ủy An Phú",
            "Đảng ủy xã Bình Minh",
            "Huyện ủy Cẩm Lệ"
        ]
    );
}

#[test]
fn a_plain_date_shows_no_time_of_day() {
    let site = Site::new();
    site.simple("b.md", "Ngày không giờ", "2024-03-05", "tinh-uy");
    site.build_ok(&[]);
    let main = text_of(main_of(&site.read("2024/03/ngay-khong-gio/index.html")));
    assert!(main.contains("05/03/2024"), "{main}");
    assert!(
        !main.contains("00:00"),
        "a day without a time is not shown as midnight: {main}"
    );
}
