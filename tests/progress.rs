//! The progress of a build on the command line: nothing for a short build, one plain
//! line per stage when stderr is not a terminal and the build runs past the threshold
//! (`BANTIN_PROGRESS_AFTER_MS`, set here so that no test depends on the machine's speed).

mod common;

use std::process::Output;

use common::*;

const AFTER: &str = "BANTIN_PROGRESS_AFTER_MS";

fn site() -> Site {
    let site = Site::new();
    site.simple(
        "2023/09/so-ket.md",
        "Sơ kết Nghị quyết 35",
        "2023-09-13",
        "tinh-uy",
    );
    site.simple(
        "2023/10/hoi-nghi.md",
        "Hội nghị Ban Chỉ đạo",
        "2023-10-02",
        "tinh-uy",
    );
    site
}

/// `bantin COMMAND --root ROOT ARGS...` with the threshold set (or unset: None).
fn run(site: &Site, command: &str, after: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = bantin();
    cmd.arg(command).arg("--root").arg(site.root()).args(args);
    match after {
        Some(ms) => cmd.env(AFTER, ms),
        None => cmd.env_remove(AFTER),
    };
    let out = cmd.output().expect("run bantin");
    assert_ok(&out);
    out
}

/// The progress lines of stderr: "STAGE: ..." for the stages a build has.
fn progress_lines(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| {
            ["load:", "model:", "render:", "write:"]
                .iter()
                .any(|s| l.starts_with(s))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn a_short_build_prints_no_progress() {
    let site = site();
    // An hour: no build here is that long, however busy the machine.
    let out = run(&site, "build", Some("3600000"), &[]);
    assert_eq!(stderr(&out), "", "nothing on stderr");
    assert!(
        stdout(&out).starts_with("Built 2 reports"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn past_the_threshold_each_stage_prints_one_plain_line() {
    let site = site();
    let out = run(&site, "build", Some("0"), &[]);
    let lines = progress_lines(&out);
    let stages: Vec<&str> = lines.iter().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(stages, ["load", "model", "render", "write"], "{lines:?}");
    assert!(lines[0].starts_with("load: 2 reports in "), "{lines:?}");
    assert!(lines[1].starts_with("model: 2 reports in "), "{lines:?}");
    assert!(lines[2].contains(" pages in "), "{lines:?}");
    assert!(lines[3].contains(" files in "), "{lines:?}");
    for line in &lines {
        assert!(line.ends_with(" s"), "{line}");
        assert!(
            !line.contains('\r') && !line.contains('\x1b'),
            "plain text: {line:?}"
        );
    }
    // Nothing else on stderr, and stdout is as without progress.
    assert_eq!(stderr(&out).lines().count(), 4, "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("Built 2 reports"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn progress_changes_nothing_the_build_writes() {
    let quiet = site();
    run(&quiet, "build", Some("3600000"), &[]);
    let shown = site();
    run(&shown, "build", Some("0"), &[]);
    assert_same_tree(&tree(&quiet.out()), &tree(&shown.out()));
}

#[test]
fn check_shows_its_stages_too() {
    let site = site();
    let out = run(&site, "check", Some("0"), &[]);
    let lines = progress_lines(&out);
    let stages: Vec<&str> = lines.iter().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(stages, ["load", "model", "render"], "{lines:?}");
    assert!(!site.out().exists(), "check writes nothing");
}

#[test]
fn off_and_timings_turn_progress_off() {
    let site = site();
    let off = run(&site, "build", Some("off"), &[]);
    assert_eq!(stderr(&off), "");
    // --timings prints each stage its own way; no progress lines beside it.
    let timed = run(&site, "build", Some("0"), &["--timings"]);
    assert!(progress_lines(&timed).is_empty(), "{}", stderr(&timed));
    assert!(stderr(&timed).contains("render"), "{}", stderr(&timed));
}

#[test]
fn a_failed_build_prints_no_line_for_the_stage_it_failed_in() {
    let site = site();
    site.simple(
        "2023/11/sai.md",
        "Đơn vị không có",
        "2023-11-01",
        "khong-co-don-vi",
    );
    let out = bantin()
        .arg("build")
        .arg("--root")
        .arg(site.root())
        .env(AFTER, "0")
        .output()
        .unwrap();
    assert_fails(&out);
    let lines = progress_lines(&out);
    assert!(lines.iter().all(|l| !l.starts_with("write:")), "{lines:?}");
}
