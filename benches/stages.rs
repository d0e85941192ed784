//! Micro-benchmarks of the hot stages, through the library as `bantin build` calls it.
//!
//! `cargo bench --bench stages` builds a synthetic site of 300 reports (made here, the
//! same bytes every run) in a temporary folder. `BANTIN_BENCH_SITE=DIR` benchmarks an
//! existing site instead, e.g. one made by `../shared/bench/gen-corpus`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use bantin::markdown::{self, LinkResolver, MarkdownInput};
use bantin::site::Site;
use bantin::{lang, load, render, search, BuildOptions};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const REPORTS: usize = 300;

const UNITS: [(&str, &str, Option<&str>); 6] = [
    ("tinh-uy", "Tỉnh ủy Long Giang", None),
    ("ban-tuyen-giao", "Ban Tuyên giáo Tỉnh ủy", Some("tinh-uy")),
    ("huyen-uy-cang-long", "Huyện ủy Càng Long", Some("tinh-uy")),
    (
        "dang-uy-xa-an-truong",
        "Đảng ủy xã An Trường",
        Some("huyen-uy-cang-long"),
    ),
    ("huyen-uy-cau-ke", "Huyện ủy Cầu Kè", Some("tinh-uy")),
    ("so-thong-tin", "Sở Thông tin và Truyền thông", None),
];
const KINDS: [&str; 4] = ["Hội nghị sơ kết", "Buổi làm việc", "Hội thảo", "Tập huấn"];
const TOPICS: [&str; 6] = [
    "Nghị quyết 35-NQ/TW về bảo vệ nền tảng tư tưởng của Đảng",
    "công tác đấu tranh phản bác quan điểm sai trái, thù địch",
    "chuyển đổi số trong cơ quan Đảng",
    "an ninh mạng và không gian mạng",
    "xây dựng, chỉnh đốn Đảng và hệ thống chính trị",
    "học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
];
const TAGS: [&str; 8] = [
    "không gian mạng",
    "Nghị quyết 35",
    "tuyên truyền",
    "hoà giải",
    "hòa giải",
    "chuyển đổi số",
    "Đảng ủy",
    "báo chí",
];
const SENTENCES: [&str; 6] = [
    "Đồng chí Phó Bí thư Thường trực chủ trì hội nghị, cùng dự có các đồng chí trong Ban Thường vụ.",
    "Hội nghị đánh giá kết quả thực hiện và đề ra nhiệm vụ, giải pháp trọng tâm trong thời gian tới.",
    "Các đại biểu tập trung thảo luận những khó khăn, vướng mắc và kiến nghị với cấp trên.",
    "Báo cáo nêu rõ: việc tuyên truyền trên mạng xã hội được đẩy mạnh, có chiều sâu và hiệu quả.",
    "Đến nay, 100% chi bộ đã quán triệt văn bản 01-CT/ĐUK; nhiều mô hình hay được nhân rộng.",
    "Kết luận hội nghị, đồng chí đề nghị các cấp ủy tiếp tục nâng cao chất lượng sinh hoạt.",
];

/// A tiny deterministic generator (no dependency, the same site every run).
struct Lcg(u64);

impl Lcg {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        items[(self.0 >> 33) as usize % items.len()]
    }
}

/// A typical report body: paragraphs, a heading, a list, a table, a link and a footnote.
fn body(r: &mut Lcg) -> String {
    let mut s = String::new();
    for p in 0..6 {
        for _ in 0..4 {
            s.push_str(r.pick(&SENTENCES));
            s.push(' ');
        }
        s.push_str("\n\n");
        if p == 1 {
            s.push_str("## Nhiệm vụ trọng tâm\n\n");
            for _ in 0..3 {
                let _ = writeln!(s, "- Tiếp tục triển khai {};", r.pick(&TOPICS));
            }
            s.push('\n');
        }
    }
    s.push_str("| Nội dung | Số lượng |\n|---|---:|\n| Tin, bài | 126 |\n| Ý kiến | 37 |\n\n");
    s.push_str("Xem thêm [văn bản gốc](https://example.vn/vb/35) và chú thích[^1].\n\n");
    s.push_str("[^1]: Số liệu của Ban Tuyên giáo.\n");
    s
}

/// Writes the synthetic site into `root`.
fn make_site(root: &Path) {
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "bantin.toml",
        "title = \"Bản tin thử nghiệm\"\ntimezone = \"+07:00\"\nbase_url = \"https://example.vn/bantin/\"\n",
    );
    let mut units = String::new();
    for (id, name, parent) in UNITS {
        let _ = writeln!(units, "[[unit]]\nid = \"{id}\"\nname = \"{name}\"");
        if let Some(p) = parent {
            let _ = writeln!(units, "parent = \"{p}\"");
        }
    }
    write("units.toml", &units);
    let mut r = Lcg(1);
    let ids: Vec<&str> = UNITS.iter().map(|u| u.0).collect();
    for i in 0..REPORTS {
        let (year, month, day) = (2019 + i % 6, 1 + i % 12, 1 + i % 28);
        let title = format!("{} về {} lần {i}", r.pick(&KINDS), r.pick(&TOPICS));
        let front = format!(
            "+++\ntitle = \"{title}\"\ndate = {year}-{month:02}-{day:02}T08:00:00+07:00\n\
unit = \"{}\"\nkind = \"{}\"\nauthors = [\"Minh Kha\"]\ndocuments = [\"35-NQ/TW\"]\n\
tags = [\"{}\", \"{}\"]\n+++\n",
            r.pick(&ids),
            r.pick(&KINDS),
            r.pick(&TAGS),
            r.pick(&TAGS)
        );
        write(
            &format!("content/{year}/{month:02}/bao-cao-{i}.md"),
            &(front + &body(&mut r)),
        );
    }
}

/// Links resolve to nothing: the Markdown benchmark has only external links.
struct NoLinks;

impl LinkResolver for NoLinks {
    fn resolve(&self, _: &str) -> Option<String> {
        None
    }
}

fn stages(c: &mut Criterion) {
    let made = tempfile::tempdir().unwrap();
    let root = match std::env::var_os("BANTIN_BENCH_SITE") {
        Some(dir) => dir.into(),
        None => {
            make_site(made.path());
            made.path().to_path_buf()
        }
    };
    let options = BuildOptions::default();
    let site = Site::build(load::load(&root).unwrap(), &options).unwrap();
    eprintln!(
        "site: {} reports, {} pages, {} copied files",
        site.entries.len(),
        site.pages.len(),
        site.files.len()
    );

    let mut g = c.benchmark_group("site");
    g.sample_size(10);
    g.bench_function("load", |b| b.iter(|| load::load(&root).unwrap()));
    g.bench_function("model and Markdown", |b| {
        b.iter_batched(
            || load::load(&root).unwrap(),
            |source| Site::build(source, &options).unwrap(),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("render all pages", |b| {
        b.iter(|| {
            bantin::on_render_threads(|| {
                let tera = render::load_templates(&site).unwrap();
                render::render_site(&site, &tera).unwrap()
            })
        })
    });
    g.bench_function("search index", |b| b.iter(|| search::index_files(&site)));
    g.finish();

    let report = &load::load(&root).unwrap().reports[0];
    c.bench_function("markdown: one report", |b| {
        let input = MarkdownInput {
            text: &report.body,
            source: &report.source,
            first_line: report.body_line,
            root: "../../../",
        };
        b.iter(|| markdown::render(black_box(&input), false, &NoLinks))
    });

    let titles: Vec<&str> = site
        .entries
        .iter()
        .map(|e| e.report.title.as_str())
        .collect();
    c.bench_function("lang: slugify titles", |b| {
        b.iter(|| {
            titles
                .iter()
                .map(|t| lang::slugify(black_box(t)))
                .collect::<Vec<_>>()
        })
    });
    c.bench_function("lang: sort titles by collation key", |b| {
        b.iter(|| {
            let mut keyed: Vec<_> = titles
                .iter()
                .map(|t| (lang::collation_key(t), *t))
                .collect();
            keyed.sort();
            keyed
        })
    });
}

criterion_group!(benches, stages);
criterion_main!(benches);
