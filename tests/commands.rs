//! `bantin init` and `bantin new`, and the command line around `build`.

mod common;

use std::fs;

use common::*;

#[test]
fn init_makes_a_site_that_builds() {
    let dir = tempfile::tempdir().unwrap();
    let site_dir = dir.path().join("ban-tin");
    let out = bantin().arg("init").arg(&site_dir).output().unwrap();
    assert_ok(&out);
    assert!(site_dir.join("bantin.toml").is_file() && site_dir.join("units.toml").is_file());
    let build = bantin()
        .arg("build")
        .arg("--root")
        .arg(&site_dir)
        .output()
        .unwrap();
    assert_ok(&build);
    assert!(site_dir.join("public/index.html").is_file());
    let reports = report_links("index.html", &read(&site_dir.join("public/index.html")));
    assert_eq!(reports.len(), 1, "the sample report is on the home page");
    assert!(site_dir
        .join("public")
        .join(&reports[0])
        .join("index.html")
        .is_file());
    // And it passes check.
    assert_ok(
        &bantin()
            .arg("check")
            .arg("--root")
            .arg(&site_dir)
            .output()
            .unwrap(),
    );
}

#[test]
fn init_works_in_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    assert_ok(&bantin().arg("init").arg(dir.path()).output().unwrap());
    assert!(dir.path().join("bantin.toml").is_file());
}

#[test]
fn init_refuses_a_folder_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ghi-chu.txt"), "của tôi").unwrap();
    let before = tree(dir.path());
    let out = bantin().arg("init").arg(dir.path()).output().unwrap();
    assert_fails(&out);
    let err = stderr(&out);
    assert!(err.contains("not empty"), "{err}");
    assert!(err.contains("= hint:"), "{err}");
    assert_same_tree(&before, &tree(dir.path()));
}

#[test]
fn new_writes_a_report_that_builds_and_never_overwrites_it() {
    let site = Site::new();
    let run = || {
        site.run(
            "new",
            &[
                "Tiêu đề mới",
                "--unit",
                "huyen-uy-an-phu",
                "--date",
                "2024-05-06",
            ],
        )
    };
    let out = run();
    assert_ok(&out);
    let file = site.path("content/2024/05/tieu-de-moi.md");
    assert!(file.is_file(), "{}", stdout(&out));
    let text = read(&file);
    assert!(text.starts_with("+++\n"), "{text}");
    assert!(text.contains("title = \"Tiêu đề mới\""), "{text}");
    assert!(text.contains("unit = \"huyen-uy-an-phu\""), "{text}");
    assert!(text.contains("date = 2024-05-06"), "{text}");

    site.build_ok(&[]);
    assert!(site.has("2024/05/tieu-de-moi/index.html"));
    assert_eq!(
        reports_on(&site, "don-vi/huyen-uy-an-phu/index.html"),
        ["2024/05/tieu-de-moi"]
    );
    assert_eq!(
        reports_on(&site, "don-vi/tinh-uy/index.html"),
        ["2024/05/tieu-de-moi"]
    );

    // An editor writes into it; `new` again must not overwrite it.
    let edited = format!("{text}Nội dung đã viết.\n");
    fs::write(&file, &edited).unwrap();
    let again = run();
    assert_fails(&again);
    let err = stderr(&again);
    assert!(
        err.contains("content/2024/05/tieu-de-moi.md") && err.contains("already exists"),
        "{err}"
    );
    assert_eq!(read(&file), edited);
}

#[test]
fn new_suggests_the_closest_unit() {
    let site = Site::new();
    let out = site.run(
        "new",
        &["Bài", "--unit", "huyen-uy-an-phuu", "--date", "2024-05-06"],
    );
    assert_fails(&out);
    let err = stderr(&out);
    assert!(err.contains("huyen-uy-an-phuu"), "{err}");
    assert!(err.contains("did you mean `huyen-uy-an-phu`"), "{err}");
    assert!(!site.path("content").exists(), "nothing is written");
}

#[test]
fn new_refuses_a_bad_date() {
    let site = Site::new();
    let out = site.run("new", &["Bài", "--unit", "tinh-uy", "--date", "06/05/2024"]);
    assert_fails(&out);
    assert!(stderr(&out).contains("06/05/2024"), "{}", stderr(&out));
    assert!(!site.path("content").exists());
}

#[test]
fn new_with_a_time_and_offset() {
    let site = Site::new();
    assert_ok(&site.run(
        "new",
        &[
            "Họp tối",
            "--unit",
            "tinh-uy",
            "--date",
            "2024-05-31T23:30:00+00:00",
        ],
    ));
    // 23:30 UTC on 31 May is 1 June in the site's timezone.
    let file = site.path("content/2024/06/hop-toi.md");
    assert!(file.is_file(), "{:?}", file_list(site.root()));
    site.build_ok(&[]);
    assert!(site.has("2024/06/hop-toi/index.html"));
}

#[test]
fn build_writes_into_out_and_root_defaults_to_the_current_folder() {
    let site = Site::new();
    site.simple("a.md", "Bài", "2024-01-01", "tinh-uy");
    let out = bantin()
        .current_dir(site.root())
        .arg("build")
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(site.has("2024/01/bai/index.html"));
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("xuat-ban");
    site.build_ok(&["--out", target.to_str().unwrap()]);
    assert!(target.join("2024/01/bai/index.html").is_file());
    assert_same_tree(&tree(&site.out()), &tree(&target));
}

#[test]
fn build_without_a_site_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = bantin()
        .arg("build")
        .arg("--root")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_fails(&out);
    let err = stderr(&out);
    assert!(err.contains("bantin.toml"), "{err}");
    assert!(err.contains("bantin init"), "{err}");
    assert!(!dir.path().join("public").exists());
}
