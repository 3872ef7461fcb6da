//! Evidence on intake (issue 7, faults 7 and 8): identifying metadata removed from photos,
//! Office documents and PDFs before encryption, what was removed shown to staff, Office types
//! decided from the archive's parts, archives with programs refused, and the forms' notices.
//!
//! The fixtures are built here by hand: small but valid files of each kind with metadata.

use std::io::{Read, Write};

use diesel::prelude::*;
use probity::db::schema::{attachments, reports};
use probity::db::Backend;
use probity::domain::roles::Role;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, TestApp};
use crate::reports::{example, seed_divisions};
use crate::web::{post_report, seed_places, text_of, Fields, FormPage};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        photos_lose_place_and_camera_but_keep_their_pixels,
        documents_lose_author_company_and_pdf_info,
        archives_with_programs_or_without_a_main_part_are_refused,
        files_that_cannot_be_cleaned_are_refused,
        the_forms_say_what_is_removed_and_what_is_not,
        a_second_picture_and_unknown_segments_leave_a_jpeg,
        an_earlier_pdf_revision_does_not_keep_its_author,
        gifs_lose_comments_and_xmp_and_broken_ones_are_refused,
        pictures_inside_a_docx_lose_their_exif,
    ]
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// The camera model written into every EXIF fixture; must not reach staff.
pub const MODEL: &str = "Villager Phone X1";
/// The person named in XMP, Office and PDF properties; must not reach staff.
pub const OWNER: &str = "Zhang San";
/// The company in the docx's app.xml.
pub const COMPANY: &str = "Dazhai Village Committee";

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in data {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

/// A TIFF/EXIF block: Make, Model = [`MODEL`], and a GPS IFD with latitude 39°54'N.
pub fn exif_block() -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    let make = b"Probe\0".to_vec();
    let model = format!("{MODEL}\0").into_bytes();
    let ifd0_len = 2 + 12 * 3 + 4;
    let make_off = 8 + ifd0_len;
    let model_off = make_off + make.len() as u32;
    let gps_off = model_off + model.len() as u32;
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&typ.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    t.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut t, 0x010F, 2, make.len() as u32, make_off);
    entry(&mut t, 0x0110, 2, model.len() as u32, model_off);
    entry(&mut t, 0x8825, 4, 1, gps_off);
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&make);
    t.extend_from_slice(&model);
    // GPS IFD: GPSLatitudeRef "N", GPSLatitude 39/1 54/1 0/1.
    let rationals_off = gps_off + 2 + 12 * 2 + 4;
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes(*b"N\0\0\0"));
    entry(&mut t, 0x0002, 5, 3, rationals_off);
    t.extend_from_slice(&0u32.to_le_bytes());
    for (n, d) in [(39u32, 1u32), (54, 1), (0, 1)] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    t
}

fn xmp_packet() -> Vec<u8> {
    format!("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><dc:creator>{OWNER}</dc:creator></x:xmpmeta>")
        .into_bytes()
}

/// A baseline JPEG with JFIF, EXIF (GPS, model), XMP and a comment; returns it and its scan.
pub fn jpeg() -> (Vec<u8>, Vec<u8>) {
    let mut j = vec![0xFF, 0xD8];
    let segment = |j: &mut Vec<u8>, marker: u8, body: &[u8]| {
        j.extend_from_slice(&[0xFF, marker]);
        j.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        j.extend_from_slice(body);
    };
    segment(&mut j, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(exif_block());
    segment(&mut j, 0xE1, &app1);
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    xmp.extend(xmp_packet());
    segment(&mut j, 0xE1, &xmp);
    segment(&mut j, 0xFE, format!("taken by {OWNER}").as_bytes());
    segment(&mut j, 0xDB, &[0u8; 65]);
    segment(&mut j, 0xC0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
    segment(&mut j, 0xDA, &[1, 1, 0, 0, 0x3F, 0]);
    // Entropy-coded data: no 0xFF, so no marker inside.
    let scan: Vec<u8> = noise(3_000, 11).into_iter().map(|b| b & 0x7F).collect();
    j.extend_from_slice(&scan);
    j.extend_from_slice(&[0xFF, 0xD9]);
    (j, scan)
}

fn png_chunk(p: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
    p.extend_from_slice(&(body.len() as u32).to_be_bytes());
    p.extend_from_slice(kind);
    p.extend_from_slice(body);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(body);
    p.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

/// A PNG whose IDAT holds `idat`; with `metadata`, also eXIf and an XMP iTXt chunk.
pub fn png_with(idat: &[u8], metadata: bool) -> Vec<u8> {
    let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut p, b"IHDR", &[0, 0, 0, 16, 0, 0, 0, 16, 8, 2, 0, 0, 0]);
    if metadata {
        png_chunk(&mut p, b"eXIf", &exif_block());
        let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
        itxt.extend(xmp_packet());
        png_chunk(&mut p, b"iTXt", &itxt);
    }
    png_chunk(&mut p, b"IDAT", idat);
    png_chunk(&mut p, b"IEND", &[]);
    p
}

/// A metadata-free PNG of about `len` bytes (random IDAT).
pub fn png_sized(len: usize) -> Vec<u8> {
    png_with(&noise(len.saturating_sub(57), 7), false)
}

/// A lossless WebP (VP8X + VP8L) with EXIF and XMP chunks; returns it and its VP8L payload.
pub fn webp() -> (Vec<u8>, Vec<u8>) {
    let mut body = b"WEBP".to_vec();
    let mut chunk = |id: &[u8; 4], data: &[u8]| {
        body.extend_from_slice(id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    };
    chunk(b"VP8X", &[0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let vp8l = vec![
        0x2F, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xFE, 0x07, 0,
    ];
    chunk(b"VP8L", &vp8l);
    chunk(b"EXIF", &exif_block());
    chunk(b"XMP ", &xmp_packet());
    let mut w = b"RIFF".to_vec();
    w.extend_from_slice(&(body.len() as u32).to_le_bytes());
    w.extend(body);
    (w, vp8l)
}

fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

fn full_box(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    let mut b = vec![version, 0, 0, 0];
    b.extend_from_slice(body);
    boxed(kind, &b)
}

/// A HEIC-branded ISOBMFF file: an `Exif` item, an XMP `mime` item and a coded image item in
/// `mdat`, located by `iloc` v1 (construction method 0). Returns it and the image item bytes.
pub fn heic() -> (Vec<u8>, Vec<u8>) {
    let ftyp = boxed(b"ftyp", b"heic\0\0\0\0mif1heic");
    let infe = |id: u16, kind: &[u8; 4], content_type: &str| {
        let mut b = id.to_be_bytes().to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(kind);
        b.push(0);
        if !content_type.is_empty() {
            b.extend_from_slice(content_type.as_bytes());
            b.push(0);
        }
        full_box(b"infe", 2, &b)
    };
    let mut iinf_body = 3u16.to_be_bytes().to_vec();
    iinf_body.extend(infe(1, b"hvc1", ""));
    iinf_body.extend(infe(2, b"Exif", ""));
    iinf_body.extend(infe(3, b"mime", "application/rdf+xml"));
    let iinf = full_box(b"iinf", 0, &iinf_body);
    let hdlr = full_box(b"hdlr", 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let image = noise(2_000, 3);
    let mut exif = 6u32.to_be_bytes().to_vec();
    exif.extend_from_slice(b"Exif\0\0");
    exif.extend(exif_block());
    let xmp = xmp_packet();
    // iloc v1: offset_size 4, length_size 4, base_offset_size 0, index_size 0.
    let per_item = 2 + 2 + 2 + 2 + 8;
    let iloc_len = 8 + 4 + 2 + 2 + 3 * per_item;
    let meta_len = 8 + 4 + hdlr.len() + iinf.len() + iloc_len;
    let mdat_start = ftyp.len() + meta_len + 8;
    let mut iloc_body = vec![0x44, 0x00];
    iloc_body.extend_from_slice(&3u16.to_be_bytes());
    let mut offset = mdat_start;
    for (id, len) in [(1u16, image.len()), (2, exif.len()), (3, xmp.len())] {
        iloc_body.extend_from_slice(&id.to_be_bytes());
        iloc_body.extend_from_slice(&[0, 0]); // construction method 0
        iloc_body.extend_from_slice(&[0, 0]); // data reference index
        iloc_body.extend_from_slice(&1u16.to_be_bytes());
        iloc_body.extend_from_slice(&(offset as u32).to_be_bytes());
        iloc_body.extend_from_slice(&(len as u32).to_be_bytes());
        offset += len;
    }
    let iloc = full_box(b"iloc", 1, &iloc_body);
    let mut meta_body = hdlr;
    meta_body.extend(iinf);
    meta_body.extend(iloc);
    let meta = full_box(b"meta", 0, &meta_body);
    let mut mdat = image.clone();
    mdat.extend(exif);
    mdat.extend(xmp);
    let mut file = ftyp;
    file.extend(meta);
    assert_eq!(file.len() + 8, mdat_start);
    file.extend(boxed(b"mdat", &mdat));
    (file, image)
}

/// A ZIP of `(name, bytes)` entries in the order given.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn content_types(main: &str, part: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/{part}" ContentType="{main}"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#
    )
}

const DOCX_MAIN: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
const XLSX_MAIN: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
pub const DOCUMENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>村支书把低保名额给了亲戚。</w:t></w:r></w:p></w:body></w:document>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>"#;

fn core_xml() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:creator>{OWNER}</dc:creator><cp:lastModifiedBy>{OWNER}</cp:lastModifiedBy><dcterms:created>2026-03-02T08:00:00Z</dcterms:created></cp:coreProperties>"#
    )
}

fn app_xml() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Office Word</Application><Company>{COMPANY}</Company></Properties>"#
    )
}

/// A genuine docx with author and company, `docProps/app.xml` first (not `[Content_Types]`).
pub fn docx() -> Vec<u8> {
    let types = content_types(DOCX_MAIN, "word/document.xml");
    let (core, app) = (core_xml(), app_xml());
    zip_of(&[
        ("docProps/app.xml", app.as_bytes()),
        ("word/document.xml", DOCUMENT.as_bytes()),
        ("[Content_Types].xml", types.as_bytes()),
        ("docProps/core.xml", core.as_bytes()),
    ])
}

/// A one-page PDF with an Info dictionary and catalog XMP; `content` is the page stream.
pub fn pdf_with(content: &[u8]) -> Vec<u8> {
    let xmp = xmp_packet();
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>".to_vec(),
        [
            format!("<< /Length {} >>\nstream\n", content.len()).into_bytes(),
            content.to_vec(),
            b"\nendstream".to_vec(),
        ]
        .concat(),
        [
            format!(
                "<< /Type /Metadata /Subtype /XML /Length {} >>\nstream\n",
                xmp.len()
            )
            .into_bytes(),
            xmp,
            b"\nendstream".to_vec(),
        ]
        .concat(),
        format!("<< /Author ({OWNER}) /Creator (Village Office Scanner) >>").into_bytes(),
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n", objects.len() + 1).as_bytes());
    out.extend_from_slice(b"0000000000 65535 f \n");
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A PDF of about `len` bytes (its page stream padded with a comment).
pub fn pdf_sized(len: usize) -> Vec<u8> {
    let mut content = b"BT /F1 12 Tf 20 100 Td (evidence) Tj ET\n%".to_vec();
    content.resize(len.saturating_sub(700).max(content.len()), b'A');
    pdf_with(&content)
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn has(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn part(bytes: Vec<u8>, name: &str) -> Part {
    Part::bytes(bytes).file_name(name.to_string())
}

async fn submit_with(app: &TestApp, files: Vec<(Vec<u8>, &str)>) -> reqwest::Response {
    let mut form = Form::new().text("report", example().to_string());
    for (bytes, name) in files {
        form = form.part("files", part(bytes, name));
    }
    app.client
        .post(app.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The staff view of the only report, and an intake officer's token.
async fn staff_view(app: &TestApp) -> (Value, String) {
    let report_id: String = app
        .db(|conn| reports::table.select(reports::id).first(conn).unwrap())
        .await;
    let (_, token, _) = app.signed_in("xinfang", &[Role::Intake]).await;
    let response = app
        .get_as(&format!("/api/v1/reports/{report_id}"), &token)
        .await;
    assert_eq!(response.status(), 200);
    (response.json().await.unwrap(), token)
}

/// Downloads an attachment as staff: (content type, file name, bytes).
async fn download(app: &TestApp, token: &str, id: &str) -> (String, String, Vec<u8>) {
    let response = app
        .get_as(&format!("/api/v1/attachments/{id}"), token)
        .await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    let name = disposition
        .split("filename=\"")
        .nth(1)
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    (content_type, name, response.bytes().await.unwrap().to_vec())
}

fn evidence_of_type<'a>(view: &'a Value, content_type: &str) -> &'a Value {
    view["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["content_type"] == content_type)
        .unwrap_or_else(|| panic!("no {content_type} in {view}"))
}

fn removed(evidence: &Value) -> Vec<String> {
    evidence["metadata_removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

async fn attachment_count(app: &TestApp) -> i64 {
    app.db(|conn| attachments::table.count().get_result(conn).unwrap())
        .await
}

// ---------------------------------------------------------------------------------------------
// Tests

async fn photos_lose_place_and_camera_but_keep_their_pixels(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (jpeg, scan) = jpeg();
    let idat = noise(4_000, 5);
    let png = png_with(&idat, true);
    let (webp, vp8l) = webp();
    let (heic, image) = heic();
    let heic_len = heic.len();
    for (bytes, marker) in [
        (&jpeg, &b"Exif\0\0"[..]),
        (&png, &b"eXIf"[..]),
        (&webp, &b"EXIF"[..]),
        (&heic, &b"Exif"[..]),
    ] {
        assert!(
            has(bytes, MODEL.as_bytes()) && has(bytes, marker),
            "fixture has metadata"
        );
    }
    let response = submit_with(
        &app,
        vec![
            (jpeg, "IMG_0001.jpg"),
            (png, "screenshot.png"),
            (webp, "photo.webp"),
            (heic, "IMG_0002.HEIC"),
        ],
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());

    let (view, token) = staff_view(&app).await;
    for (content_type, extension, kept) in [
        ("image/jpeg", "jpg", &scan),
        ("image/png", "png", &idat),
        ("image/webp", "webp", &vp8l),
        ("image/heif", "heic", &image),
    ] {
        let evidence = evidence_of_type(&view, content_type);
        let kinds = removed(evidence);
        for kind in ["exif", "exif.gps", "exif.device"] {
            assert!(
                kinds.iter().any(|k| k == kind),
                "{content_type}: {kind} in {kinds:?}"
            );
        }
        assert!(
            kinds.iter().any(|k| k == "xmp"),
            "{content_type}: xmp in {kinds:?}"
        );
        // Kinds only, never values.
        assert!(!evidence.to_string().contains(MODEL));

        let id = evidence["id"].as_str().unwrap();
        let (served_type, name, bytes) = download(&app, &token, id).await;
        assert_eq!(served_type, content_type);
        assert_eq!(name, format!("evidence-{id}.{extension}"));
        for gone in [MODEL.as_bytes(), OWNER.as_bytes(), b"Probe"] {
            assert!(
                !has(&bytes, gone),
                "{content_type}: {:?} gone",
                String::from_utf8_lossy(gone)
            );
        }
        assert!(has(&bytes, kept), "{content_type}: image data unchanged");
        if content_type == "image/heif" {
            assert_eq!(bytes.len(), heic_len, "HEIC is cleaned in place");
        } else {
            assert!(!has(&bytes, b"Exif\0\0") && !has(&bytes, b"eXIf") && !has(&bytes, b"EXIF"));
        }
    }
}

async fn documents_lose_author_company_and_pdf_info(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let content = b"BT /F1 12 Tf 20 100 Td (Subsidy list, March) Tj ET";
    let response = submit_with(&app, vec![(pdf_with(content), "名单.pdf")]).await;
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    // The docx comes later, through the reporter's follow-up API.
    let session: Value = app
        .client
        .post(app.url("/api/v1/reporter/session"))
        .json(&serde_json::json!({"receipt_code": receipt["receipt_code"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let added = app
        .client
        .post(app.url("/api/v1/reporter/attachments"))
        .bearer_auth(session["token"].as_str().unwrap())
        .multipart(Form::new().part("files", part(docx(), "情况说明.zip")))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.unwrap();
    assert!(added.to_string().contains("office.author"), "{added}");

    let (view, token) = staff_view(&app).await;
    let docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let word = evidence_of_type(&view, docx_type);
    let kinds = removed(word);
    for kind in ["office.author", "office.company", "office.times"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    let id = word["id"].as_str().unwrap();
    let (served, name, bytes) = download(&app, &token, id).await;
    assert_eq!(served, docx_type);
    assert_eq!(name, format!("evidence-{id}.docx"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    let (core, app_props, document) = (
        read("docProps/core.xml"),
        read("docProps/app.xml"),
        read("word/document.xml"),
    );
    assert!(
        !core.contains(OWNER) && !core.contains("2026-03-02"),
        "{core}"
    );
    assert!(!app_props.contains(COMPANY), "{app_props}");
    assert_eq!(document, DOCUMENT, "the document body is untouched");

    let pdf = evidence_of_type(&view, "application/pdf");
    assert_eq!(removed(pdf), vec!["pdf.info", "xmp"]);
    let id = pdf["id"].as_str().unwrap();
    let (_, name, bytes) = download(&app, &token, id).await;
    assert_eq!(name, format!("evidence-{id}.pdf"));
    assert!(bytes.starts_with(b"%PDF"));
    assert!(has(&bytes, content), "the page content stream is unchanged");
    for gone in [
        OWNER.as_bytes(),
        b"Village Office Scanner",
        b"/Info",
        b"/Metadata",
    ] {
        assert!(
            !has(&bytes, gone),
            "{:?} gone",
            String::from_utf8_lossy(gone)
        );
    }
}

async fn archives_with_programs_or_without_a_main_part_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let exe = b"MZ\x90\x00\x03\x00\x00\x00This program cannot be run in DOS mode".to_vec();
    // The issue's archive: a Word-looking first entry, a program and a web page.
    let issue = zip_of(&[
        ("word/readme.txt", b"please read"),
        ("setup.exe", &exe),
        ("index.html", b"<html><script>alert(1)</script></html>"),
    ]);
    // A genuine-looking docx with a program deep inside.
    let types = content_types(DOCX_MAIN, "word/document.xml");
    let deep_exe = zip_of(&[
        ("[Content_Types].xml", types.as_bytes()),
        ("word/document.xml", DOCUMENT.as_bytes()),
        ("word/embeddings/tools/bin/update.exe", &exe),
    ]);
    // A program under an image's name.
    let disguised = zip_of(&[
        ("[Content_Types].xml", types.as_bytes()),
        ("word/document.xml", DOCUMENT.as_bytes()),
        ("word/media/image1.png", &exe),
    ]);
    // A web page in an xlsx.
    let xlsx_types = content_types(XLSX_MAIN, "xl/workbook.xml");
    let html_in_xlsx = zip_of(&[
        ("[Content_Types].xml", xlsx_types.as_bytes()),
        ("xl/workbook.xml", WORKBOOK.as_bytes()),
        ("xl/media/report.htm", b"<html></html>"),
    ]);
    // Macros, named by content type only.
    let macro_types = types.replace(
        "</Types>",
        r#"<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>"#,
    );
    let macros = zip_of(&[
        ("[Content_Types].xml", macro_types.as_bytes()),
        ("word/document.xml", DOCUMENT.as_bytes()),
        ("word/macros.bin", b"\xD0\xCF\x11\xE0"),
    ]);
    for (name, bytes) in [
        ("issue.docx", issue),
        ("deep.docx", deep_exe),
        ("disguised.docx", disguised),
        ("sheet.xlsx", html_in_xlsx),
        ("macros.docm", macros),
    ] {
        let response = submit_with(&app, vec![(bytes, name)]).await;
        assert_problem(response, 422, "attachment_contains_executable").await;
    }
    // [Content_Types].xml but no main part; a main part that is not a document.
    let no_main = zip_of(&[
        ("[Content_Types].xml", types.as_bytes()),
        ("word/readme.txt", b"no document here"),
    ]);
    let wrong_root = zip_of(&[
        ("[Content_Types].xml", types.as_bytes()),
        ("word/document.xml", WORKBOOK.as_bytes()),
    ]);
    for bytes in [no_main, wrong_root] {
        let response = submit_with(&app, vec![(bytes, "a.docx")]).await;
        assert_problem(response, 422, "office_document_invalid").await;
    }
    // A plain ZIP is not evidence.
    let plain = zip_of(&[("notes.txt", b"hello")]);
    assert_problem(
        submit_with(&app, vec![(plain, "notes.zip")]).await,
        415,
        "unsupported_attachment_type",
    )
    .await;
    assert_eq!(
        attachment_count(&app).await,
        0,
        "nothing refused was stored"
    );
    let left = std::fs::read_dir(app.settings.data.dir.join("attachments"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "no file left on disk");

    // A genuine docx whose first entry is docProps/app.xml is accepted, as a docx.
    let response = submit_with(&app, vec![(docx(), "说明.docx")]).await;
    assert_eq!(response.status(), 201);
    let (view, _) = staff_view(&app).await;
    evidence_of_type(
        &view,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    );
}

async fn files_that_cannot_be_cleaned_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (jpeg, _) = jpeg();
    // Cut inside the EXIF segment: a JPEG by its first bytes, but its segments do not parse.
    let broken_jpeg = jpeg[..40].to_vec();
    let mut bad_crc = png_with(&noise(100, 9), true);
    let n = bad_crc.len();
    bad_crc[n - 20] ^= 0xFF;
    let broken_pdf = b"%PDF-1.7\n1 0 obj << /Author (Zhang San) >> endobj\n".to_vec();
    let (heic, _) = heic();
    let broken_heic = heic[..heic.len() - 100].to_vec();
    for (bytes, name) in [
        (broken_jpeg, "a.jpg"),
        (bad_crc, "b.png"),
        (broken_pdf, "c.pdf"),
        (broken_heic, "d.heic"),
    ] {
        let response = submit_with(&app, vec![(bytes, name)]).await;
        let body = assert_problem(response, 422, "attachment_unreadable").await;
        assert!(body.to_string().contains("无法去除"), "{body}");
    }
    assert_eq!(attachment_count(&app).await, 0);
}

fn session_cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("cookie {name}"))
        .to_string()
}

async fn the_forms_say_what_is_removed_and_what_is_not(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    let notice = |html: &str, page: &str| {
        let start = html
            .find("id=\"metadata-notice\"")
            .unwrap_or_else(|| panic!("{page} has the metadata notice"));
        let text = &html[start..start + html[start..].find("</div>").unwrap()];
        for words in [
            "拍摄地点",
            "手机或相机型号",
            "作者",
            "单位名称",
            "PDF",
            "录音和视频里的信息无法删除",
            "录制时的地点",
        ] {
            assert!(text.contains(words), "{page}: {words} in {text}");
        }
    };
    let page = FormPage::open(&app, "/report", &[]).await;
    notice(&page.html, "/report");

    // A refused archive comes back on the form, in Chinese, with the notice still there.
    let bad = zip_of(&[("word/readme.txt", b"x"), ("setup.exe", b"MZ\x90\0")]);
    let response = post_report(&app, &page, &Fields::anonymous(), &[("a.docx", &bad)], None).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(text_of(&html, "files-error")
        .unwrap()
        .contains("程序、脚本"));
    notice(&html, "/report after a refusal");

    // A clean submission, then the follow-up page.
    let (jpeg, _) = jpeg();
    let page = FormPage::open(&app, "/report", &[]).await;
    let response = post_report(&app, &page, &Fields::anonymous(), &[("a.jpg", &jpeg)], None).await;
    assert_eq!(response.status(), 200);
    let (_, code) = crate::web::receipt(&response.text().await.unwrap());
    let code_page = FormPage::open(&app, "/follow-up", &[]).await;
    let response = app
        .client
        .post(app.url("/follow-up"))
        .header("cookie", &code_page.cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("csrf_token", code_page.token.as_str()),
            ("receipt_code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let session = session_cookie(&response, "probity_reporter");
    let view = FormPage::open(&app, "/follow-up/report", &[&session, &code_page.cookie]).await;
    notice(&view.html, "/follow-up/report");
    // And the evidence it took had its GPS removed.
    let removed: String = app
        .db(|conn| {
            attachments::table
                .select(attachments::metadata_removed)
                .first(conn)
                .unwrap()
        })
        .await;
    assert!(removed.split(',').any(|k| k == "exif.gps"), "{removed}");
}

// ---------------------------------------------------------------------------------------------
// Leaks found in testing: what hides after a JPEG's end or in unknown segments, earlier PDF
// revisions, GIF extensions, pictures inside Office files.

/// The one evidence file of the only report, as staff download it: (kinds removed, bytes).
async fn the_stored_file(app: &TestApp, content_type: &str) -> (Vec<String>, Vec<u8>) {
    let (view, token) = staff_view(app).await;
    let evidence = evidence_of_type(&view, content_type);
    let id = evidence["id"].as_str().unwrap();
    let (served, _, bytes) = download(app, &token, id).await;
    assert_eq!(served, content_type);
    (removed(evidence), bytes)
}

fn assert_gone(bytes: &[u8], secrets: &[&str]) {
    for secret in secrets {
        assert!(!has(bytes, secret.as_bytes()), "{secret} reached staff");
    }
}

async fn a_second_picture_and_unknown_segments_leave_a_jpeg(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (primary, scan) = jpeg();
    let segment = |marker: u8, body: &[u8]| {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(body);
        s
    };
    let mut file = vec![0xFF, 0xD8];
    file.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x01sRGB colours"));
    file.extend(segment(0xE2, b"MPF\0II*\0 MPF by Zhang San"));
    file.extend(segment(0xE4, b"APP4 Zhang San"));
    file.extend(segment(0xEB, b"JP\0\x01 c2pa manifest: Zhang San"));
    file.extend(segment(0xEF, b"APP15 Zhang San"));
    file.extend_from_slice(&primary[2..]);
    // The second picture of a multi-picture JPEG, with its own EXIF (GPS, model), then text.
    file.extend_from_slice(&primary);
    file.extend_from_slice(b"note appended by Zhang San, GPS 31.2 121.5");
    let response = submit_with(&app, vec![(file, "IMG_0001.jpg")]).await;
    assert_eq!(response.status(), 201);
    let (kinds, bytes) = the_stored_file(&app, "image/jpeg").await;
    assert_gone(&bytes, &[OWNER, MODEL, "MPF", "c2pa", "Exif", "GPS"]);
    assert!(has(&bytes, b"ICC_PROFILE"), "the colour profile stays");
    assert!(has(&bytes, &scan), "the picture stays byte for byte");
    assert!(bytes.ends_with(&[0xFF, 0xD9]));
    for kind in ["jpeg.trailer", "jpeg.app_segment", "exif.gps"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

async fn an_earlier_pdf_revision_does_not_keep_its_author(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let content = b"BT /F1 12 Tf 20 100 Td (Subsidy list, revised) Tj ET";
    // Same length as the original, so the first revision's offsets stay right.
    let first = String::from_utf8(pdf_with(content))
        .unwrap()
        .replace(
            "(Zhang San) /Creator (Village Office Scanner)",
            "(SECRETAUTHOR) /Creator (Village Office Scan)",
        )
        .into_bytes();
    let text = String::from_utf8_lossy(&first).to_string();
    let prev = text[text.rfind("startxref\n").unwrap() + 10..]
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut file = first;
    let info = file.len();
    file.extend_from_slice(b"7 0 obj\n<< /Producer (Revision Two) >>\nendobj\n");
    let xref = file.len();
    file.extend_from_slice(
        format!(
            "xref\n7 1\n{info:010} 00000 n \ntrailer\n<< /Size 8 /Root 1 0 R /Info 7 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    let response = submit_with(&app, vec![(file, "名单.pdf")]).await;
    assert_eq!(response.status(), 201);
    let (kinds, bytes) = the_stored_file(&app, "application/pdf").await;
    assert_gone(
        &bytes,
        &["SECRETAUTHOR", "Village Office", "Revision Two", OWNER],
    );
    assert!(has(&bytes, content), "the page content stream is unchanged");
    assert!(kinds.iter().any(|k| k == "pdf.info"), "{kinds:?}");
}

/// A 2x2 GIF89a with a comment, an XMP application extension, looping and text after its end.
fn gif() -> (Vec<u8>, Vec<u8>) {
    let mut g = b"GIF89a\x02\x00\x02\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
    g.extend_from_slice(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00");
    g.extend_from_slice(b"\x21\xFE");
    g.push(OWNER.len() as u8);
    g.extend_from_slice(OWNER.as_bytes());
    g.push(0);
    let xmp = xmp_packet();
    g.extend_from_slice(b"\x21\xFF\x0BXMP DataXMP");
    for chunk in xmp.chunks(255) {
        g.push(chunk.len() as u8);
        g.extend_from_slice(chunk);
    }
    g.push(0);
    g.extend_from_slice(b"\x2C\x00\x00\x00\x00\x02\x00\x02\x00\x00\x02");
    let frame = b"\x02\x84\x51\x00".to_vec();
    g.extend_from_slice(&frame);
    g.push(0x3B);
    g.extend_from_slice(b"GPS 31.2 121.5");
    (g, frame)
}

async fn gifs_lose_comments_and_xmp_and_broken_ones_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (file, frame) = gif();
    let broken = file[..40].to_vec();
    let body = assert_problem(
        submit_with(&app, vec![(broken, "cut.gif")]).await,
        422,
        "attachment_unreadable",
    )
    .await;
    assert!(body.to_string().contains("无法去除"), "{body}");
    assert_eq!(attachment_count(&app).await, 0);

    let response = submit_with(&app, vec![(file, "动图.gif")]).await;
    assert_eq!(response.status(), 201);
    let (kinds, bytes) = the_stored_file(&app, "image/gif").await;
    assert_gone(&bytes, &[OWNER, "XMP Data", "GPS"]);
    assert!(has(&bytes, b"NETSCAPE2.0"), "looping stays");
    assert!(has(&bytes, &frame), "the frame stays byte for byte");
    for kind in ["gif.comment", "xmp", "gif.trailer"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

async fn pictures_inside_a_docx_lose_their_exif(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (photo, scan) = jpeg();
    let types = content_types(DOCX_MAIN, "word/document.xml");
    let file = zip_of(&[
        ("[Content_Types].xml", types.as_bytes()),
        ("word/document.xml", DOCUMENT.as_bytes()),
        ("word/media/image1.jpeg", &photo),
    ]);
    let response = submit_with(&app, vec![(file, "照片说明.docx")]).await;
    assert_eq!(response.status(), 201);
    let docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let (kinds, bytes) = the_stored_file(&app, docx_type).await;
    assert!(
        kinds.iter().any(|k| k == "office.embedded_image_metadata"),
        "{kinds:?}"
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut picture = Vec::new();
    archive
        .by_name("word/media/image1.jpeg")
        .unwrap()
        .read_to_end(&mut picture)
        .unwrap();
    assert_gone(&picture, &[OWNER, MODEL, "Exif"]);
    assert!(has(&picture, &scan), "the picture stays byte for byte");
    let mut document = String::new();
    archive
        .by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut document)
        .unwrap();
    assert_eq!(document, DOCUMENT);
}
