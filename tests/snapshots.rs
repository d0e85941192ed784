//! Whole pages of a small fixed site, compared with the reviewed snapshots in
//! tests/snapshots/. After an intended change of the output, review the new pages and
//! update with `INSTA_UPDATE=always cargo test --test snapshots` (or `cargo insta review`).

mod common;

use common::*;

fn fixed_site() -> Site {
    let site = Site::with_config("description = \"Bản tin nội bộ thử nghiệm\"\npaginate = 2");
    site.report(
        "2023/09/so-ket/index.md",
        &[
            r#"title = "Sơ kết 5 năm thực hiện Nghị quyết 35-NQ/TW""#,
            "date = 2023-09-13T14:00:00+07:00",
            r#"unit = "xa-binh-minh""#,
            r#"kind = "Hội nghị sơ kết""#,
            r#"authors = ["Minh Kha"]"#,
            r#"credits = ["Ảnh: Cẩm Huệ"]"#,
            r#"source = "dukcqtw.dcs.vn""#,
            r#"location = "Hội trường Đảng ủy xã""#,
            "attendees = 120",
            r#"documents = ["35-NQ/TW"]"#,
            r#"tags = ["không gian mạng"]"#,
            r#"cover = { src = "quang-canh.jpg", alt = "Quang cảnh hội nghị" }"#,
        ],
        "Chiều 13/9, Đảng ủy xã Bình Minh tổ chức hội nghị sơ kết.\n\n\
         ## Kết quả nổi bật\n\n- Ý một;\n- Ý hai.\n\n\
         ![Đại biểu](quang-canh.jpg \"Các đại biểu dự hội nghị\")\n\n\
         Xem thêm [bài trước](../../06/giao-ban.md).\n",
    );
    site.write("content/2023/09/so-ket/quang-canh.jpg", "jpeg");
    site.simple(
        "2023/06/giao-ban.md",
        "Giao ban quý II",
        "2023-06-30T08:00:00+07:00",
        "huyen-uy-an-phu",
    );
    site.simple(
        "2023/10/tap-huan.md",
        "Tập huấn cộng tác viên",
        "2023-10-02T08:00:00+07:00",
        "tinh-uy",
    );
    site
}

#[test]
fn report_page_and_unit_page() {
    let site = fixed_site();
    site.build_ok(&[]);
    let root = site.root().to_string_lossy().into_owned();

    let report = site.read("2023/09/so-ket-5-nam-thuc-hien-nghi-quyet-35-nq-tw/index.html");
    assert!(
        !report.contains(&root) && !report.contains("bantin-test-"),
        "no temporary path in the page"
    );
    insta::assert_snapshot!("report_page", report);

    let unit = site.read("don-vi/tinh-uy/index.html");
    assert!(!unit.contains(&root) && !unit.contains("bantin-test-"));
    insta::assert_snapshot!("unit_page", unit);

    let page2 = site.read("don-vi/tinh-uy/page/2/index.html");
    insta::assert_snapshot!("unit_page_2", main_of(&page2));
}
