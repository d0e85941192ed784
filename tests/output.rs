//! The output folder across rebuilds: unchanged files keep their bytes and times, a
//! failed build changes nothing, and bantin's own leftovers are cleaned up.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::*;

/// Every file of the output with its modification time.
fn times(dir: &Path) -> Vec<(String, SystemTime)> {
    tree(dir)
        .keys()
        .map(|rel| {
            let modified = fs::metadata(dir.join(rel))
                .and_then(|m| m.modified())
                .expect("a file's time");
            (rel.clone(), modified)
        })
        .collect()
}

/// Sets every file of the output to one old time, so that any rewrite shows.
fn age(dir: &Path, when: SystemTime) {
    for rel in tree(dir).keys() {
        let f = fs::File::options()
            .write(true)
            .open(dir.join(rel))
            .expect("open");
        f.set_modified(when).expect("set the time");
    }
}

fn three_reports() -> Site {
    let site = Site::with_config("paginate = 10\n");
    site.simple(
        "2024/01/a.md",
        "Hội nghị A",
        "2024-01-10T08:00:00+07:00",
        "tinh-uy",
    );
    site.simple(
        "2024/02/b.md",
        "Hội nghị B",
        "2024-02-10T08:00:00+07:00",
        "xa-binh-minh",
    );
    site.simple(
        "2024/03/c.md",
        "Hội nghị C",
        "2024-03-10T08:00:00+07:00",
        "so-thong-tin",
    );
    site
}

#[test]
fn a_rebuild_without_changes_rewrites_nothing() {
    let site = three_reports();
    site.build_ok(&[]);
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    age(&site.out(), old);
    let out = site.build_ok(&[]);
    assert!(stdout(&out).contains("(0 changed)"), "{}", stdout(&out));
    for (rel, modified) in times(&site.out()) {
        assert_eq!(
            modified, old,
            "{rel} was rewritten though its bytes did not change"
        );
    }
}

#[test]
fn editing_one_body_rewrites_only_its_page_and_what_shows_its_text() {
    let site = three_reports();
    site.build_ok(&[]);
    let before = tree(&site.out());
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    age(&site.out(), old);

    let path = site.path("content/2024/02/b.md");
    let text = fs::read_to_string(&path).unwrap() + "\nMột đoạn mới ở cuối bài.\n";
    fs::write(&path, text).unwrap();
    site.build_ok(&[]);

    let after = tree(&site.out());
    let mut changed = Vec::new();
    for (rel, modified) in times(&site.out()) {
        let same_bytes = before.get(&rel) == after.get(&rel);
        if same_bytes {
            assert_eq!(modified, old, "{rel} kept its bytes but was rewritten");
        } else {
            changed.push(rel);
        }
    }
    assert!(
        changed.contains(&"2024/02/hoi-nghi-b/index.html".to_string()),
        "{changed:?}"
    );
    assert!(
        !changed
            .iter()
            .any(|c| c.starts_with("2024/01/") || c.starts_with("2024/03/")),
        "other reports' pages must not change: {changed:?}"
    );
}

#[test]
fn a_failed_build_leaves_the_output_and_no_temporary_folders() {
    let site = three_reports();
    site.build_ok(&[]);
    let before = tree(&site.out());
    site.write("content/2024/04/hong.md", "+++\ntitle = \"Hỏng\"\n");
    assert_fails(&site.build(&[]));
    assert_same_tree(&before, &tree(&site.out()));
    let leftovers: Vec<String> = fs::read_dir(site.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("bantin-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_killed_builds_temporary_folder_is_removed_by_the_next_build() {
    let site = three_reports();
    site.build_ok(&[]);
    // What a build killed while writing leaves beside the output.
    let stale = site.path(".public.bantin-new-999999");
    fs::create_dir_all(stale.join("2024")).unwrap();
    fs::write(stale.join("2024/index.html"), "half").unwrap();
    // Not bantin's: must survive.
    let foreign = site.path(".public.bantin-new-notes");
    fs::create_dir_all(&foreign).unwrap();
    site.build_ok(&[]);
    assert!(!stale.exists(), "the leftover of a killed build stays");
    assert!(
        foreign.exists(),
        "a folder that is not bantin's was deleted"
    );
    assert!(site.has("index.html"));
}

#[test]
fn removing_the_previous_site_never_follows_a_link_out_of_it() {
    let site = three_reports();
    site.build_ok(&[]);
    // Something outside the output, and links to it from inside the previous site: at
    // the top, and in a folder the new site has too.
    let outside = site.path("ngoai");
    fs::create_dir_all(outside.join("con")).unwrap();
    fs::write(outside.join("con/giu.txt"), "giữ").unwrap();
    std::os::unix::fs::symlink(&outside, site.out().join("lien-ket")).unwrap();
    std::os::unix::fs::symlink(&outside, site.out().join("2024/lien-ket")).unwrap();
    std::os::unix::fs::symlink(outside.join("con/giu.txt"), site.out().join("tep.txt")).unwrap();
    site.build_ok(&[]);
    assert_eq!(
        fs::read_to_string(outside.join("con/giu.txt")).unwrap(),
        "giữ"
    );
    assert!(
        !site.out().join("lien-ket").exists(),
        "the link is gone with the old site"
    );
    assert!(site.has("index.html"));
}
