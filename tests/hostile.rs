//! Hostile and broken input: nothing read outside the site, nothing written outside the
//! output folder, no script from any field into any output, nothing deleted that bantin
//! did not make.

mod common;
#[path = "support/xss.rs"]
mod xss;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use common::*;

// ---------------------------------------------------------------------------
// Confinement
// ---------------------------------------------------------------------------

/// Every file in the temporary folder around a nested site, except the output.
fn around(site: &Site) -> BTreeMap<String, Vec<u8>> {
    tree(site.dir.path())
        .into_iter()
        .filter(|(rel, _)| !rel.starts_with("site/public/"))
        .collect()
}

/// A folder beside the site with a secret in it, which no build may read.
fn outside(site: &Site) -> std::path::PathBuf {
    let dir = site.dir.path().join("outside");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("secret.txt"), "BÍ MẬT NGOÀI SITE").unwrap();
    fs::write(dir.join("sub/anh.jpg"), "BÍ MẬT NGOÀI SITE").unwrap();
    fs::write(
        dir.join("bai.md"),
        report_text(
            &[
                "title = \"BÍ MẬT NGOÀI SITE\"",
                "date = 2024-01-02",
                "unit = \"tinh-uy\"",
            ],
            "BÍ MẬT NGOÀI SITE\n",
        ),
    )
    .unwrap();
    fs::write(dir.join("units.toml"), UNITS).unwrap();
    fs::write(dir.join("base.html"), "BÍ MẬT NGOÀI SITE").unwrap();
    dir
}

/// No output file holds the secret.
fn assert_secret_not_in_output(site: &Site) {
    for (rel, bytes) in tree(&site.out()) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("BÍ MẬT NGOÀI SITE"),
            "{rel} holds a file from outside the site"
        );
    }
}

/// A build that must fail naming `file`, with nothing written anywhere.
fn assert_refused(site: &Site, file: &str, words: &str) {
    let before = around(site);
    let out = site.build(&[]);
    assert_fails(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("error: {file}")),
        "the error does not name {file}:\n{err}"
    );
    assert!(err.contains(words), "no `{words}` in:\n{err}");
    assert_eq!(around(site), before, "a failed build changed files");
    assert!(!site.out().exists(), "a failed build wrote an output");
    let out = site.check(&[]);
    assert_fails(&out);
    assert!(stderr(&out).contains(&format!("error: {file}")));
}

fn nested_with_report() -> Site {
    let site = Site::nested();
    site.simple(
        "2024/01/bai.md",
        "Hội nghị",
        "2024-01-02T08:00:00+07:00",
        "tinh-uy",
    );
    site
}

#[test]
fn a_slug_alias_or_unit_id_with_a_path_is_an_error_naming_the_file() {
    let cases: &[(&str, &str)] = &[
        ("slug = \"../../../thoat\"", "has a path in it"),
        ("slug = \"a/b\"", "has a path in it"),
        ("slug = \"..\\\\..\\\\x\"", "has a path in it"),
        (
            "aliases = [\"/../../thoat.html\"]",
            "is not a path inside the site",
        ),
        ("aliases = [\"../thoat/\"]", "is not a path inside the site"),
        (
            "aliases = [\"/a/./../b.html\"]",
            "is not a path inside the site",
        ),
        (
            "aliases = [\"https://evil.example/x\"]",
            "is not a path inside the site",
        ),
        (
            "aliases = [\"C:\\\\Windows\\\\x.html\"]",
            "is not a path inside the site",
        ),
        (
            "aliases = [\"/.htaccess\"]",
            "is not a path inside the site",
        ),
        (
            "aliases = [\"/a\\u0000b\"]",
            "is not a path inside the site",
        ),
        (
            "aliases = [\"/feed.xml/\"]",
            "cannot both be written: feed.xml would be a file and a folder",
        ),
        (
            "aliases = [\"/search.js/x.html\"]",
            "cannot both be written: search.js would be a file and a folder",
        ),
    ];
    for (line, words) in cases {
        let site = Site::nested();
        site.write(
            "bantin.toml",
            format!("{CONFIG}base_url = \"https://bantin.example/\"\n"),
        );
        site.report(
            "2024/01/bai.md",
            &[
                "title = \"Hội nghị\"",
                "date = 2024-01-02",
                "unit = \"tinh-uy\"",
                line,
            ],
            "Nội dung.\n",
        );
        assert_refused(&site, "content/2024/01/bai.md:5", words);
    }
    for (id, words) in [
        ("../../thoat", "may only have lower case letters"),
        ("a/b", "may only have lower case letters"),
        ("", "may only have lower case letters"),
    ] {
        let site = Site::nested();
        site.write(
            "units.toml",
            format!("{UNITS}\n[[unit]]\nid = {}\nname = \"X\"\n", toml_str(id)),
        );
        assert_refused(&site, "units.toml:", words);
    }
}

#[test]
fn tags_documents_and_kinds_with_paths_stay_term_pages() {
    let site = nested_with_report();
    site.report(
        "2024/01/thuat-ngu.md",
        &[
            "title = \"Thuật ngữ\"",
            "date = 2024-01-03",
            "unit = \"tinh-uy\"",
            "kind = \"../../../loai-thoat\"",
            "tags = [\"../../../../tmp/thoat\", \"/etc/passwd\", \"..\\\\..\\\\x\", \"a/./b\"]",
            "documents = [\"../35-NQ/TW\", \"C:\\\\x\"]",
        ],
        "Nội dung.\n",
    );
    let before = around(&site);
    site.build_ok(&[]);
    assert_eq!(around(&site), before);
    for dir in ["chu-de", "van-ban", "loai"] {
        for page in file_list(&site.out().join(dir)) {
            assert!(
                page.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-./".contains(&b)),
                "{dir}/{page}"
            );
            assert!(!page.contains(".."), "{dir}/{page}");
        }
    }
    assert!(site.has("chu-de/tmp-thoat/index.html"));
    assert!(site.has("chu-de/etc-passwd/index.html"));
    assert!(site.has("van-ban/35-nq-tw/index.html"));
    assert!(site.has("loai/loai-thoat/index.html"));
}

#[test]
fn a_file_name_with_a_backslash_is_an_error_naming_it() {
    for rel in [
        "content/2024/01/a\\..\\..\\..\\..\\thoat.jpg",
        "content/2024/01/b\\c.md",
        "static/x\\..\\..\\..\\thoat.css",
    ] {
        let site = nested_with_report();
        site.write(rel, "x");
        assert_refused(&site, rel, "backslash");
    }
}

#[test]
fn a_symbolic_link_to_outside_the_site_is_an_error_naming_it() {
    type Setup = fn(&Site, &Path);
    let cases: &[(&str, &str, Setup)] = &[
        ("content/2024/01/link.md", "symbolic links", |s, o| {
            symlink(o.join("bai.md"), s.path("content/2024/01/link.md")).unwrap()
        }),
        ("content/2024/01/anh.jpg", "symbolic links", |s, o| {
            symlink(o.join("secret.txt"), s.path("content/2024/01/anh.jpg")).unwrap()
        }),
        ("content/2024/02", "symbolic links", |s, o| {
            symlink(o, s.path("content/2024/02")).unwrap()
        }),
        ("content", "symbolic links", |s, o| {
            fs::rename(s.path("content"), o.join("content")).unwrap();
            symlink(o.join("content"), s.path("content")).unwrap()
        }),
        ("static/secret.txt", "symbolic links", |s, o| {
            fs::create_dir_all(s.path("static")).unwrap();
            symlink(o.join("secret.txt"), s.path("static/secret.txt")).unwrap()
        }),
        ("static", "symbolic links", |s, o| {
            symlink(o.join("sub"), s.path("static")).unwrap()
        }),
        ("templates", "symbolic links", |s, o| {
            symlink(o, s.path("templates")).unwrap()
        }),
        ("templates/base.html", "symbolic links", |s, o| {
            fs::create_dir_all(s.path("templates")).unwrap();
            symlink(o.join("base.html"), s.path("templates/base.html")).unwrap()
        }),
        ("themes/ngoai", "symbolic link", |s, o| {
            s.write("bantin.toml", format!("{CONFIG}theme = \"ngoai\"\n"));
            fs::create_dir_all(o.join("theme/templates")).unwrap();
            fs::create_dir_all(s.path("themes")).unwrap();
            symlink(o.join("theme"), s.path("themes/ngoai")).unwrap()
        }),
        ("units.toml", "symbolic link", |s, o| {
            fs::remove_file(s.path("units.toml")).unwrap();
            symlink(o.join("units.toml"), s.path("units.toml")).unwrap()
        }),
        ("bantin.toml", "symbolic link", |s, o| {
            fs::rename(s.path("bantin.toml"), o.join("bantin.toml")).unwrap();
            symlink(o.join("bantin.toml"), s.path("bantin.toml")).unwrap()
        }),
    ];
    for (file, words, setup) in cases {
        let site = nested_with_report();
        let out = outside(&site);
        setup(&site, &out);
        assert_refused(&site, file, words);
    }
}

#[test]
fn links_and_covers_that_climb_out_of_content_reach_nothing() {
    let site = Site::nested();
    site.report(
        "2024/01/bai/index.md",
        &[
            "title = \"Hội nghị\"",
            "date = 2024-01-02",
            "unit = \"tinh-uy\"",
            "cover = { src = \"../../../../../outside/secret.txt\", alt = \"x\" }",
        ],
        "[a](../../../../../outside/secret.txt) ![b](../../../../../outside/sub/anh.jpg)\n\
         [c](/../../outside/secret.txt) [d](%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside/secret.txt)\n",
    );
    outside(&site);
    let before = around(&site);
    let out = site.build_ok(&[]);
    let err = stderr(&out);
    assert!(
        err.contains("warning: content/2024/01/bai/index.md:5"),
        "the climbing cover is not reported:\n{err}"
    );
    for link in [
        "../../../../../outside/secret.txt",
        "../../../../../outside/sub/anh.jpg",
    ] {
        assert!(
            err.contains(&format!("the link `{link}` reaches nothing")),
            "{err}"
        );
    }
    assert_eq!(around(&site), before);
    assert_secret_not_in_output(&site);
    assert_fails(&site.check(&[]));
}

#[test]
fn a_cover_with_a_script_address_is_an_error() {
    for src in [
        "javascript:alert(7331)",
        " JaVaScRiPt:alert(7331)",
        "java\tscript:alert(7331)",
        "vbscript:msgbox(7331)",
        "data:text/html,<script>alert(7331)</script>",
    ] {
        let site = Site::nested();
        site.report(
            "2024/01/bai.md",
            &[
                "title = \"Hội nghị\"",
                "date = 2024-01-02",
                "unit = \"tinh-uy\"",
                &format!("cover = {{ src = {}, alt = \"x\" }}", toml_str(src)),
            ],
            "x\n",
        );
        assert_refused(&site, "content/2024/01/bai.md:5", "is not an image address");
    }
}

#[test]
fn new_refuses_to_write_through_a_symbolic_link() {
    let site = Site::nested();
    let out = outside(&site);
    fs::create_dir_all(out.join("content-ngoai")).unwrap();
    fs::create_dir_all(site.path("content")).unwrap();
    symlink(out.join("content-ngoai"), site.path("content/2024")).unwrap();
    let before = around(&site);
    let result = run_new(
        &site,
        &["Hội nghị mới", "--unit", "tinh-uy", "--date", "2024-03-04"],
    );
    assert_fails(&result);
    assert!(
        stderr(&result).contains("error: content/2024: this folder is a symbolic link"),
        "{}",
        stderr(&result)
    );
    assert_eq!(around(&site), before);
}

/// `bantin new ARGS... --root ROOT`
fn run_new(site: &Site, args: &[&str]) -> std::process::Output {
    bantin()
        .arg("new")
        .args(args)
        .arg("--root")
        .arg(site.root())
        .output()
        .expect("run bantin new")
}

#[test]
fn new_and_init_never_overwrite() {
    let site = Site::nested();
    let first = run_new(
        &site,
        &["Hội nghị", "--unit", "tinh-uy", "--date", "2024-03-04"],
    );
    assert_ok(&first);
    let path = site.path("content/2024/03/hoi-nghi.md");
    fs::write(&path, "bài của biên tập viên").unwrap();
    let again = run_new(
        &site,
        &["Hội  nghị!", "--unit", "tinh-uy", "--date", "2024-03-05"],
    );
    assert_fails(&again);
    assert_eq!(read(&path), "bài của biên tập viên");
    // init into a folder holding anything, even a hidden file, changes nothing.
    let dir = site.dir.path().join("moi");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(".ghi-chu"), "x").unwrap();
    let out = bantin().arg("init").arg(&dir).output().unwrap();
    assert_fails(&out);
    assert_eq!(
        file_list(&dir).into_iter().collect::<Vec<_>>(),
        [".ghi-chu"]
    );
}

#[test]
fn a_build_deletes_nothing_but_its_output_and_its_own_leftovers() {
    let site = nested_with_report();
    site.build_ok(&[]);
    let parent = site.root().to_path_buf();
    // Look-alikes of bantin's temporary folders that are not bantin's: kept.
    let keep = [
        ".public.bantin-new-abc/x",
        ".public.bantin-new-/x",
        ".public.bantin-old-12a/x",
        ".other.bantin-new-123/x",
        "public.bak/index.html",
        ".public.bantin-new-123.txt",
    ];
    for rel in keep {
        site.write(rel, "giữ lại");
    }
    // A folder of a bantin still running (this test's own process id): kept too.
    let running = format!(".public.bantin-new-{}/x", std::process::id());
    site.write(&running, "đang chạy");
    // A folder of a killed build: removed.
    site.write(".public.bantin-new-999999999/x", "bỏ");
    site.build_ok(&[]);
    for rel in keep.iter().copied().chain([running.as_str()]) {
        assert!(parent.join(rel).is_file(), "{rel} was deleted");
    }
    assert!(!parent.join(".public.bantin-new-999999999").exists());
    // Check writes nothing and deletes nothing.
    let before = around(&site);
    let out_before = tree(&site.out());
    assert_ok(&site.check(&[]));
    assert_eq!(around(&site), before);
    assert_eq!(tree(&site.out()), out_before);
}

#[test]
fn an_output_folder_that_is_not_a_site_is_never_replaced() {
    let site = nested_with_report();
    let other = site.dir.path().join("tai-lieu");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("bao-cao.docx"), "quan trọng").unwrap();
    let out = site.build(&["--out", other.to_str().unwrap()]);
    assert_fails(&out);
    assert_eq!(read(&other.join("bao-cao.docx")), "quan trọng");
    assert_eq!(file_list(&other).len(), 1);
}

// ---------------------------------------------------------------------------
// Script injection
// ---------------------------------------------------------------------------

/// Known script injection payloads, each running `alert(7331)` if it survives.
const PAYLOADS: &[&str] = &[
    "<script>alert(7331)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>alert(7331)",
    "<img src=x onerror=alert(7331)>",
    "<img src=\"x\" onerror=\"alert(7331)\">",
    "\"><script>alert(7331)</script>",
    "'><script>alert(7331)</script>",
    "\" onmouseover=\"alert(7331)",
    "' onmouseover='alert(7331)",
    "\" autofocus onfocus=\"alert(7331)\" x=\"",
    "javascript:alert(7331)",
    "<svg onload=alert(7331)>",
    "<svg><script>alert(7331)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(7331)\"><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(7331)>",
    "<iframe src=\"javascript:alert(7331)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(7331)</script>\"></iframe>",
    "<object data=\"data:text/html,<script>alert(7331)</script>\"></object>",
    "<embed src=\"javascript:alert(7331)\">",
    "<a href=\"javascript:alert(7331)\">x</a>",
    "<a href=\"jav&#x09;ascript:alert(7331)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(7331)\">x</a>",
    "<a href=\" &#14; javascript:alert(7331)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCg3MzMxKTwvc2NyaXB0Pg==\">x</a>",
    "<IMG SRC=JaVaScRiPt:alert(7331)>",
    "<body onload=alert(7331)>",
    "<details open ontoggle=alert(7331)>",
    "<input autofocus onfocus=alert(7331)>",
    "<video><source onerror=\"alert(7331)\"></video>",
    "<form action=\"javascript:alert(7331)\"><button>x</button></form>",
    "<button formaction=\"javascript:alert(7331)\">x</button>",
    "<isindex action=javascript:alert(7331) type=submit>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(7331)\">",
    "<base href=\"javascript:alert(7331)//\">",
    "<link rel=\"stylesheet\" href=\"javascript:alert(7331)\">",
    "<style>@import 'javascript:alert(7331)';</style>",
    "<div style=\"background:url(javascript:alert(7331))\">x</div>",
    "<div style=\"width:expression(alert(7331))\">x</div>",
    "</title><script>alert(7331)</script>",
    "</textarea><script>alert(7331)</script>",
    "</script><script>alert(7331)</script>",
    "<!--<img src=\"--><img src=x onerror=alert(7331)//\">",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(7331)>\"></noscript>",
    "<xmp><img src=x onerror=alert(7331)></xmp>",
    "<template><img src=x onerror=alert(7331)></template>",
    "<scr<script>ipt>alert(7331)</script>",
    "<a href=# onclick=alert(7331)>x</a>",
    "]]><script>alert(7331)</script><![CDATA[",
    "\u{2028}\u{2029}\"});alert(7331);//",
    "\\\"});alert(7331);//",
    "&lt;script&gt;alert(7331)&lt;/script&gt;",
    "&#60;script&#62;alert(7331)&#60;/script&#62;",
    "%3Cscript%3Ealert(7331)%3C/script%3E",
    "{{ config }}{% raw %}alert(7331){% endraw %}",
    "<a href=\"vbscript:msgbox(7331)\">x</a>",
    "<img src=\"x\" alt=\"\" title=\"\"onerror=alert(7331)>",
    "\u{0}<script>alert(7331)</script>",
];

/// Markdown that tries to make script: links, images, titles, heading attributes,
/// code fences, footnotes, references, entities.
const MARKDOWN_PAYLOADS: &[&str] = &[
    "[a](javascript:alert(7331))",
    "[b](JaVaScRiPt:alert(7331) \"t\")",
    "[c](java&#x09;script:alert(7331))",
    "[d](&#106;avascript:alert(7331))",
    "[e]( javascript:alert(7331))",
    "[f](<javascript:alert(7331)>)",
    "<javascript:alert(7331)>",
    "[g](vbscript:msgbox(7331))",
    "[h](data:text/html;base64,PHNjcmlwdD5hbGVydCg3MzMxKTwvc2NyaXB0Pg==)",
    "![i](javascript:alert(7331))",
    "![j](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoNzMzMSk+)",
    "![k](anh.jpg \"\\\" onerror=\\\"alert(7331)\")",
    "![l\" onerror=\"alert(7331)](anh.jpg)",
    "![m](anh.jpg \"\"><script>alert(7331)</script>\")",
    "![n](anh.jpg 'x\" onerror=\"alert(7331)')",
    "![o](javascript:alert(7331) \"Chú thích\")",
    "[p][ref]\n\n[ref]: javascript:alert(7331) \"t\"",
    "[q](anh.jpg \"t\\\" onmouseover=\\\"alert(7331)\")",
    "# Tiêu đề {onclick=alert(7331)}",
    "# Tiêu đề {#x\" onclick=\"alert(7331)}",
    "# Tiêu đề {.c\" onclick=\"alert(7331)}",
    "```\" onclick=\"alert(7331)\nmã\n```",
    "```<script>alert(7331)</script>\nmã\n```",
    "Chú thích[^\"><img src=x onerror=alert(7331)>]\n\n[^\"><img src=x onerror=alert(7331)>]: x",
    "| <img src=x onerror=alert(7331)> | b |\n|---|---|\n| [x](javascript:alert(7331)) | c |",
    "&#60;script&#62;alert(7331)&#60;/script&#62; &lt;img src=x onerror=alert(7331)&gt;",
    "<https://example.com/\"onmouseover=\"alert(7331)>",
    "[r](https://example.com/\"onmouseover=\"alert(7331))",
    "- [x] <img src=x onerror=alert(7331)>",
    "> <script>alert(7331)</script>",
    "~~<svg onload=alert(7331)>~~",
];

/// A TOML basic string of any text: control characters escaped too.
fn toml_s(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The site: one unit and one report per payload, every field holding it; the body
/// holds every payload and every Markdown one.
fn hostile_site(allow_html: bool, body: bool) -> Site {
    let site = Site::empty();
    let title = "Bản tin <script>alert(7331)</script> \" onmouseover=\"alert(7331)";
    site.write(
        "bantin.toml",
        format!(
            "title = {}\ndescription = {}\nbase_url = \"https://bantin.example/\"\nsearch = true\n\
             [markdown]\nallow_html = {allow_html}\n[extra]\nfooter = {}\n",
            toml_s(title),
            toml_s(PAYLOADS[4]),
            toml_s(PAYLOADS[2]),
        ),
    );
    let mut units = String::new();
    for (i, p) in PAYLOADS.iter().enumerate() {
        units.push_str(&format!(
            "[[unit]]\nid = \"u{i}\"\nname = {}\nshort = {}\ndescription = {}\n{}\n",
            toml_s(&format!("Đơn vị {i} {p}")),
            toml_s(p),
            toml_s(p),
            if i > 0 { "parent = \"u0\"" } else { "" }
        ));
    }
    site.write("units.toml", units);
    // First, a payload written with entities: text that must show as written. (What
    // follows an unclosed <svg> or <math> is dropped with it by the sanitizer.)
    let mut text = String::from("Đoạn đầu &lt;script&gt;alert(7331)&lt;/script&gt;.\n\n");
    if body {
        for p in PAYLOADS {
            text.push_str(p);
            text.push_str("\n\nĐoạn giữa: ");
            text.push_str(p);
            text.push_str(" cuối.\n\n");
        }
        for p in MARKDOWN_PAYLOADS {
            text.push_str(p);
            text.push_str("\n\n");
        }
    }
    for (i, p) in PAYLOADS.iter().enumerate() {
        let s = |x: &str| toml_s(x);
        let front = [
            format!("title = {}", s(&format!("Bài {i} {p}"))),
            format!("date = 2024-01-{:02}T08:00:00+07:00", 1 + i % 28),
            format!("unit = \"u{i}\""),
            format!("kind = {}", s(&format!("Loại {i} {p}"))),
            format!("summary = {}", s(p)),
            format!("authors = [{}]", s(p)),
            format!("credits = [{}]", s(p)),
            format!("source = {}", s(p)),
            format!("location = {}", s(p)),
            "attendees = 7331".to_string(),
            format!("documents = [{}]", s(&format!("VB {i} {p}"))),
            format!("tags = [{}]", s(&format!("Chủ đề {i} {p}"))),
            format!(
                "cover = {{ src = {}, alt = {} }}",
                s("https://anh.example/a.jpg\" onerror=\"alert(7331)"),
                s(p)
            ),
            format!("aliases = [\"/tin-cu/{i}.html\"]"),
            "[extra]".to_string(),
            format!("x = {}", s(p)),
        ];
        let front: Vec<&str> = front.iter().map(String::as_str).collect();
        site.report(&format!("2024/01/bai-{i}/index.md"), &front, &text);
        site.write(&format!("content/2024/01/bai-{i}/anh.jpg"), "jpg");
    }
    site
}

/// Script in any output file of the site: pages, redirects, feeds, sitemap, search.
fn script_in_output(site: &Site) -> Vec<String> {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (rel, bytes) in tree(&site.out()) {
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        if rel.ends_with(".html") || rel.ends_with(".xml") {
            checked += 1;
            for p in xss::script_in_html(&text) {
                problems.push(format!("{rel}: {p}"));
            }
        }
        if rel.ends_with(".xml") {
            // What a feed reader renders as HTML: the entry content, unescaped.
            for html in xss::xml_element_texts(&text, "content") {
                for p in xss::script_in_html(&html) {
                    problems.push(format!("{rel} (content): {p}"));
                }
            }
        }
        if rel.starts_with("tim-kiem/") && rel.ends_with(".js") {
            checked += 1;
            // Data files: lines of one JSON value wrapped in a call or assignment. A
            // payload that broke out of its JSON string would break the JSON or the
            // wrapper (JSON has no raw line break, so a value stays on its line).
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let start = line.find(['{', '[']);
                let end = line.rfind(['}', ']']);
                match (start, end) {
                    (Some(s), Some(e)) if s < e => {
                        if serde_json::from_str::<serde_json::Value>(&line[s..=e]).is_err() {
                            problems.push(format!("{rel}: the data is not one JSON value"));
                        }
                        let wrapper = format!("{}{}", &line[..s], &line[e + 1..]);
                        if !wrapper
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_.=(), ;\t".contains(c))
                        {
                            problems.push(format!(
                                "{rel}: unexpected code around the data: {wrapper:?}"
                            ));
                        }
                    }
                    _ => problems.push(format!("{rel}: no JSON data")),
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} files checked");
    problems
}

#[test]
fn the_payload_checker_finds_what_a_browser_would_run() {
    // The check itself: it must flag each payload written raw, and pass it escaped.
    for p in PAYLOADS {
        let raw = format!("<p>{p}</p>");
        let escaped = format!("<p>{}</p>", bantin::render::escape_html(p));
        let in_attr = format!(
            "<a title=\"{}\" href=\"x\">x</a>",
            bantin::render::escape_html(p)
        );
        assert!(xss::script_in_html(&escaped).is_empty(), "{escaped}");
        assert!(xss::script_in_html(&in_attr).is_empty(), "{in_attr}");
        // Text that runs nowhere in HTML, or markup no browser makes a script of.
        let harmless = [
            "&",
            "%",
            "{{",
            "\u{2028}",
            "\\",
            "javascript:",
            "\" ",
            "' ",
            "<scr<",
        ]
        .iter()
        .any(|h| p.starts_with(h));
        if !harmless {
            assert!(!xss::script_in_html(&raw).is_empty(), "not flagged: {raw}");
        }
    }
    // Attribute breakouts are flagged where they break out.
    for p in ["\" onmouseover=\"alert(7331)", "' onmouseover='alert(7331)"] {
        let html = format!("<a title=\"{p}\" title2='{p}'>x</a>");
        assert!(!xss::script_in_html(&html).is_empty(), "{html}");
    }
    // The default theme's own pages pass.
    let site = sample_site();
    site.build_ok(&["--base-url", "https://bantin.example/"]);
    assert_eq!(script_in_output(&site), Vec::<String>::new());
}

#[test]
fn no_payload_survives_in_any_output() {
    let site = hostile_site(false, true);
    let out = site.build_ok(&[]);
    let problems = script_in_output(&site);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The payloads are there, as text: nothing was simply dropped.
    let page = site.read("2024/01/bai-0-script-alert-7331-script/index.html");
    let text = text_of(main_of(&page));
    assert!(
        text.contains("Bài 0 <script>alert(7331)</script>"),
        "{text}"
    );
    assert!(
        text.contains("Đoạn đầu <script>alert(7331)</script>."),
        "{text}"
    );
    assert!(
        text.contains("Đoạn giữa: ' onmouseover='alert(7331) cuối."),
        "{text}"
    );
    let feed = site.read("feed.xml");
    assert!(feed.contains("alert(7331)"));
    assert!(site.has("tin-cu/3.html"));
    assert!(site.has("sitemap.xml"));
    assert!(stdout(&out).contains(&format!("Built {} reports", PAYLOADS.len())));
}

#[test]
fn a_theme_that_does_not_escape_is_caught() {
    // The check of these tests is not blind: a template printing a field unescaped
    // gives script in the output, and the check finds it on every report page.
    let site = hostile_site(false, false);
    site.write(
        "templates/report.html",
        "{% extends \"base.html\" %}{% block content %}<main><h1>{{ report.title | safe }}</h1>\
         <p class=\"{{ report.location | safe }}\">x</p></main>{% endblock content %}",
    );
    site.build_ok(&[]);
    let problems = script_in_output(&site);
    assert!(
        problems.len() >= PAYLOADS.len() / 2,
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn front_matter_units_and_settings_are_escaped_even_with_allow_html() {
    // allow_html trusts the report bodies only: every other field is still text.
    let site = hostile_site(true, false);
    site.build_ok(&[]);
    let problems = script_in_output(&site);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn markdown_script_urls_are_dropped_even_with_allow_html() {
    let site = Site::new();
    let body = MARKDOWN_PAYLOADS
        .iter()
        .filter(|p| !p.contains('<') && !p.contains('{'))
        .copied()
        .collect::<Vec<_>>()
        .join("\n\n");
    site.write(
        "bantin.toml",
        format!("{CONFIG}[markdown]\nallow_html = true\n"),
    );
    site.report(
        "2024/01/bai/index.md",
        &["title = \"Bài\"", "date = 2024-01-02", "unit = \"tinh-uy\""],
        &body,
    );
    site.write("content/2024/01/bai/anh.jpg", "jpg");
    site.build_ok(&[]);
    let page = site.read("2024/01/bai/index.html");
    assert_eq!(xss::script_in_html(&page), Vec::<String>::new());
}
