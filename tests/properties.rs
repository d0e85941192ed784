//! Properties that must hold for any input, checked on generated input (proptest).

use std::collections::BTreeSet;
use std::fs;

use bantin::BuildOptions;
use proptest::prelude::*;

/// Text as editors paste it: Vietnamese letters precomposed and decomposed, marks,
/// punctuation, path characters, other scripts, control characters.
fn messy_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9 ]{1,6}",
            Just("Đảng ủy".to_string()),
            Just("Hòa Bình hoà".to_string()),
            Just("Nghị quyết 35-NQ/TW".to_string()),
            Just("../".to_string()),
            Just("/".to_string()),
            Just("\\".to_string()),
            Just(".".to_string()),
            Just("o\u{0302}\u{0301}".to_string()),
            Just("北京".to_string()),
            Just("—–\u{00A0}\u{200B}\t\n".to_string()),
            any::<char>().prop_map(|c| c.to_string()),
        ],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn a_slug_is_lower_ascii_words_joined_by_dashes(s in messy_text()) {
        let slug = bantin::lang::slugify(&s);
        prop_assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{slug:?}");
        prop_assert!(!slug.contains(".."), "{slug:?}");
        prop_assert!(!slug.contains('/'), "{slug:?}");
        prop_assert!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"), "{slug:?}");
    }

    #[test]
    fn slugs_ignore_tone_placement_and_normalization(s in messy_text()) {
        use unicode_normalization::UnicodeNormalization;
        let nfd: String = s.nfd().collect();
        prop_assert_eq!(bantin::lang::slugify(&s), bantin::lang::slugify(&nfd));
    }

    #[test]
    fn an_alias_never_leaves_the_output(s in messy_text()) {
        if let Some(path) = bantin::report::alias_path(&s) {
            prop_assert!(!path.starts_with('/'), "{path:?}");
            prop_assert!(path.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != ".."), "{path:?}");
            prop_assert!(!path.contains('\\'), "{path:?}");
        }
    }
}

/// A small valid site: some reports, some drafts, colliding titles, shared tags.
#[derive(Debug, Clone)]
struct GenReport {
    title: String,
    day: u32,
    month: u32,
    unit: usize,
    draft: bool,
    tags: Vec<usize>,
}

const UNITS: &str = "[[unit]]\nid = \"a\"\nname = \"Tỉnh ủy\"\n\n[[unit]]\nid = \"b\"\nname = \"Huyện ủy\"\nparent = \"a\"\n\n[[unit]]\nid = \"c\"\nname = \"Đảng ủy xã\"\nparent = \"b\"\n";
const UNIT_IDS: [&str; 3] = ["a", "b", "c"];
const TAGS: [&str; 4] = ["Hoà Bình", "Hòa Bình", "không gian mạng", "35-NQ/TW"];

fn gen_report() -> impl Strategy<Value = GenReport> {
    (
        prop_oneof![
            Just("Hội nghị sơ kết".to_string()),
            Just("Hội nghị tổng kết".to_string()),
            "[A-Za-zĐđăâêôơư ]{1,20}[a-z]",
        ],
        1u32..28,
        1u32..4,
        0usize..3,
        prop::bool::weighted(0.2),
        prop::collection::vec(0usize..4, 0..3),
    )
        .prop_map(|(title, day, month, unit, draft, tags)| GenReport {
            title,
            day,
            month,
            unit,
            draft,
            tags,
        })
}

fn write_site(dir: &std::path::Path, reports: &[GenReport]) {
    fs::write(
        dir.join("bantin.toml"),
        "title = \"Thử\"\npaginate = 2\nbase_url = \"https://example.org/b/\"\n",
    )
    .unwrap();
    fs::write(dir.join("units.toml"), UNITS).unwrap();
    for (i, r) in reports.iter().enumerate() {
        let tags: Vec<String> = r.tags.iter().map(|&t| format!("{:?}", TAGS[t])).collect();
        let text = format!(
            "+++\ntitle = {:?}\ndate = 2024-{:02}-{:02}T08:00:00+07:00\nunit = \"{}\"\ndraft = {}\ntags = [{}]\n+++\n\nNội dung bài {i}.\n",
            r.title.trim(),
            r.month,
            r.day,
            UNIT_IDS[r.unit],
            r.draft,
            tags.join(", ")
        );
        let path = dir.join(format!("content/r{i}.md"));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn any_valid_site_builds_the_same_twice_with_one_page_per_published_report(
        reports in prop::collection::vec(gen_report(), 0..7)
    ) {
        let dir = tempfile::tempdir().unwrap();
        write_site(dir.path(), &reports);
        let options = BuildOptions::default();
        let (site, first) = bantin::render_all(dir.path(), &options).expect("a valid site builds");
        let (_, second) = bantin::render_all(dir.path(), &options).expect("and builds again");
        prop_assert_eq!(first.len(), second.len());
        for (a, b) in first.iter().zip(&second) {
            prop_assert_eq!(&a.path, &b.path);
            prop_assert!(a.bytes == b.bytes, "{} differs between two builds", a.path);
        }
        let published = reports.iter().filter(|r| !r.draft).count();
        prop_assert_eq!(site.entries.len(), published);
        let report_pages: BTreeSet<String> = site.entries.iter().map(|e| format!("{}index.html", e.dir)).collect();
        prop_assert_eq!(report_pages.len(), published, "two reports share a page");
        let written: BTreeSet<&str> = first.iter().map(|p| p.path.as_str()).collect();
        for page in &report_pages {
            prop_assert!(written.contains(page.as_str()), "{page} is not written");
        }
    }
}
