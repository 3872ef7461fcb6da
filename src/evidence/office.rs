//! Office Open XML documents (ECMA-376 Part 2, Open Packaging Conventions): typed by opening the
//! archive, never from its first bytes (issue 7, fault 8), and cleaned of their document
//! properties (fault 7).
//!
//! A ZIP is a docx, xlsx or pptx when `[Content_Types].xml` names a main part of that kind
//! (an `Override` with the main-part content type) and that part is in the archive, is
//! well-formed XML and has the expected root element (`document`, `workbook`, `presentation`).
//! The order of entries does not matter.
//!
//! Refused as executable content (422 `attachment_contains_executable`):
//! - any entry named `*.exe .dll .com .scr .bat .cmd .ps1 .vbs .vbe .js .jse .wsf .wsh .hta
//!   .html .htm .xhtml .sh .jar .msi .lnk .apk` or `vbaProject.bin`, wherever it lies (SVG is
//!   allowed: Office inserts SVG icons itself and does not run scripts in them);
//! - any entry whose bytes start like a Windows (`MZ`) or Linux (`\x7fELF`) program;
//! - any content type naming VBA (`application/vnd.ms-office.vbaProject`, `vbaData`),
//!   macro-enabled main parts (`…macroEnabled…`) or ActiveX controls.
//!
//! Zip bombs: at most [`MAX_ENTRIES`] entries and [`MAX_UNPACKED`] bytes unpacked in all (as
//! declared by the archive); the parts read here are read through a [`MAX_PART`] limit.
//! Everything else is copied compressed as it came, never unpacked here.
//!
//! Cleaning: the core, extended and custom property parts are replaced by empty property sets.
//! Pictures in `word/media/`, `xl/media/`, `ppt/media/` that are JPEG, PNG, WebP or GIF go
//! through the image cleaner (`office.embedded_image_metadata`) and only those entries are
//! compressed anew; a picture that cannot be read refuses the document (422).
//! Names in comments and tracked changes inside the document body are content and stay.

use std::io::{Cursor, Read, Write};

use quick_xml::events::Event;

use super::{Cleaned, EvidenceError};

pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

/// Entries an Office file may hold; real documents have tens to a few hundred.
pub const MAX_ENTRIES: usize = 5_000;
/// Bytes unpacked in all, as the archive declares them.
pub const MAX_UNPACKED: u64 = 512 * 1024 * 1024;
/// Bytes read from one XML part inspected here.
pub const MAX_PART: u64 = 64 * 1024 * 1024;

/// Main-part content types → (stored type, expected root element).
const MAIN_PARTS: &[(&str, &str, &str)] = &[
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        DOCX,
        "document",
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        XLSX,
        "workbook",
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        PPTX,
        "presentation",
    ),
];

const BLOCKED_EXTENSIONS: &[&str] = &[
    "exe", "dll", "com", "scr", "bat", "cmd", "ps1", "vbs", "vbe", "js", "jse", "wsf", "wsh",
    "hta", "html", "htm", "xhtml", "sh", "jar", "msi", "lnk", "apk",
];

const BLOCKED_CONTENT_TYPES: &[&str] = &["vbaproject", "vbadata", "macroenabled", "activex"];

const CORE_TYPE: &str = "application/vnd.openxmlformats-package.core-properties+xml";
const APP_TYPE: &str = "application/vnd.openxmlformats-officedocument.extended-properties+xml";
const CUSTOM_TYPE: &str = "application/vnd.openxmlformats-officedocument.custom-properties+xml";

const EMPTY_CORE: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>"#;
const EMPTY_APP: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>"#;
const EMPTY_CUSTOM: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>"#;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Props {
    Core,
    App,
    Custom,
}

fn invalid(why: impl Into<String>) -> EvidenceError {
    EvidenceError::InvalidOffice { why: why.into() }
}

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

fn read_part(archive: &mut Archive<'_>, name: &str) -> Result<Option<Vec<u8>>, EvidenceError> {
    let file = match archive.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(invalid(format!("{name}: {e}"))),
    };
    let mut out = Vec::new();
    file.take(MAX_PART + 1)
        .read_to_end(&mut out)
        .map_err(|e| invalid(format!("{name}: {e}")))?;
    if out.len() as u64 > MAX_PART {
        return Err(EvidenceError::ArchiveTooLarge {
            why: format!("{name} is over {MAX_PART} bytes"),
        });
    }
    Ok(Some(out))
}

/// Whether an entry is in a media folder of a document (`word/media/`, `xl/media/`,
/// `ppt/media/`), where Office keeps inserted pictures as their original files.
fn is_media_entry(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["word/media/", "xl/media/", "ppt/media/"]
        .iter()
        .any(|dir| lower.starts_with(dir))
}

/// Runs the image cleaner over an embedded picture, typed from its bytes: `Some(cleaned)`
/// for JPEG, PNG, WebP and GIF, `None` for anything else (EMF, SVG …, copied as it is).
/// Errors: `Unreadable` when a picture of those kinds cannot be read: the document would keep
/// its metadata, so it is refused like a picture uploaded on its own.
fn clean_embedded_image(bytes: &[u8]) -> Result<Option<Vec<u8>>, EvidenceError> {
    use super::image;
    let cleaned = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        image::clean_jpeg(bytes.to_vec())?
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        image::clean_png(bytes.to_vec())?
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        image::clean_webp(bytes.to_vec())?
    } else if bytes.starts_with(b"GIF8") {
        image::clean_gif(bytes)?
    } else {
        return Ok(None);
    };
    Ok(Some(cleaned.0))
}

/// Walks a whole XML document. Calls `on_element(local name, attributes)` for each element and
/// `on_text(innermost element)` for each non-blank text. Errors when it is not well-formed.
fn walk_xml(
    xml: &[u8],
    mut on_element: impl FnMut(&str, &[(String, String)]),
    mut on_text: impl FnMut(&str),
) -> Result<Option<String>, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut root = None;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?;
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name().as_ref().to_string();
                let attrs: Vec<(String, String)> = e
                    .attributes()
                    .filter_map(Result::ok)
                    .map(|a| (a.key.local_name().as_ref().to_string(), a.value.to_string()))
                    .collect();
                on_element(&name, &attrs);
                if root.is_none() {
                    root = Some(name.clone());
                }
                if opens {
                    stack.push(name);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) if !t.trim().is_empty() => {
                on_text(stack.last().map(String::as_str).unwrap_or(""))
            }
            Event::CData(_) | Event::GeneralRef(_) => {
                on_text(stack.last().map(String::as_str).unwrap_or(""))
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("unclosed elements".into());
    }
    Ok(root)
}

/// The kinds of properties a property part holds (only those with a value).
fn property_kinds(which: Props, xml: &[u8]) -> Vec<String> {
    let mut kinds = Vec::new();
    let mut elements = 0usize;
    let _ = walk_xml(
        xml,
        |_, _| elements += 1,
        |element| {
            let kind = match (which, element) {
                (Props::Core, "creator" | "lastModifiedBy") => "office.author",
                (Props::Core, "created" | "modified" | "lastPrinted") => "office.times",
                (Props::Core, _) => "office.properties",
                (Props::App, "Company") => "office.company",
                (Props::App, "Manager") => "office.manager",
                (Props::App, _) => "office.application",
                (Props::Custom, _) => "office.custom",
            };
            kinds.push(kind.to_string());
        },
    );
    if which == Props::Custom && elements > 1 {
        kinds.push("office.custom".into());
    }
    kinds
}

fn extension_of(name: &str) -> Option<String> {
    let file = name.rsplit('/').next().unwrap_or(name);
    file.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
}

/// Types and cleans an Office Open XML document. `data` starts like a ZIP.
///
/// Returns the detected type (one of [`DOCX`], [`XLSX`], [`PPTX`]), the archive with its
/// property parts emptied, and the kinds removed (`office.author`, `office.company`, …).
///
/// Errors: `Unsupported` for a ZIP without `[Content_Types].xml` (a plain archive);
/// `Executable` for programs, scripts, web pages or macros inside; `ArchiveTooLarge` over the
/// limits; `InvalidOffice` for a broken archive or a missing or malformed main part.
pub fn clean(data: &[u8]) -> Result<Cleaned, EvidenceError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(data)).map_err(|e| super::unreadable("ZIP", e))?;
    if archive.len() > MAX_ENTRIES {
        return Err(EvidenceError::ArchiveTooLarge {
            why: format!("{} entries (at most {MAX_ENTRIES})", archive.len()),
        });
    }
    let mut unpacked: u64 = 0;
    let mut names = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| invalid(e.to_string()))?;
        let name = entry.name().to_string();
        unpacked = unpacked.saturating_add(entry.size());
        if entry.enclosed_name().is_none() {
            return Err(invalid(format!("unsafe entry name {name:?}")));
        }
        if entry.encrypted() {
            return Err(invalid(format!("{name} is encrypted")));
        }
        let file_name = name.rsplit('/').next().unwrap_or(&name);
        if file_name.eq_ignore_ascii_case("vbaProject.bin")
            || extension_of(&name).is_some_and(|e| BLOCKED_EXTENSIONS.contains(&e.as_str()))
        {
            return Err(EvidenceError::Executable { entry: name });
        }
        names.push(name);
    }
    if unpacked > MAX_UNPACKED {
        return Err(EvidenceError::ArchiveTooLarge {
            why: format!("{unpacked} bytes unpacked (at most {MAX_UNPACKED})"),
        });
    }
    // Programs under innocent names.
    for (i, name) in names.iter().enumerate() {
        let entry = archive.by_index(i).map_err(|e| invalid(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let mut head = Vec::with_capacity(4);
        entry
            .take(4)
            .read_to_end(&mut head)
            .map_err(|e| invalid(format!("{name}: {e}")))?;
        if head.starts_with(b"MZ") || head.starts_with(b"\x7fELF") {
            return Err(EvidenceError::Executable {
                entry: name.clone(),
            });
        }
    }

    let Some(types_xml) = read_part(&mut archive, "[Content_Types].xml")? else {
        return Err(EvidenceError::Unsupported {
            detected: "application/zip".into(),
        });
    };
    let mut overrides: Vec<(String, String)> = Vec::new();
    let mut all_types: Vec<String> = Vec::new();
    walk_xml(
        &types_xml,
        |element, attrs| {
            let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if let Some(ct) = get("ContentType") {
                all_types.push(ct.clone());
                if element == "Override" {
                    if let Some(part) = get("PartName") {
                        overrides.push((part.trim_start_matches('/').to_string(), ct));
                    }
                }
            }
        },
        |_| {},
    )
    .map_err(|e| invalid(format!("[Content_Types].xml: {e}")))?;
    if let Some(bad) = all_types.iter().find(|t| {
        let lower = t.to_ascii_lowercase();
        BLOCKED_CONTENT_TYPES.iter().any(|b| lower.contains(b))
    }) {
        return Err(EvidenceError::Executable { entry: bad.clone() });
    }
    let main: Vec<(&String, &str, &str)> = overrides
        .iter()
        .filter_map(|(part, ct)| {
            MAIN_PARTS
                .iter()
                .find(|(main, _, _)| main.eq_ignore_ascii_case(ct))
                .map(|(_, stored, root)| (part, *stored, *root))
        })
        .collect();
    let [(main_part, content_type, expected_root)] = main.as_slice() else {
        return Err(invalid(if main.is_empty() {
            "[Content_Types].xml names no Word, Excel or PowerPoint main part".to_string()
        } else {
            "[Content_Types].xml names more than one main part".to_string()
        }));
    };
    let main_xml = read_part(&mut archive, main_part)?
        .ok_or_else(|| invalid(format!("the main part {main_part} is missing")))?;
    let root =
        walk_xml(&main_xml, |_, _| {}, |_| {}).map_err(|e| invalid(format!("{main_part}: {e}")))?;
    if root.as_deref() != Some(*expected_root) {
        return Err(invalid(format!(
            "{main_part} is not a {expected_root} part"
        )));
    }

    // The property parts, by content type and by their usual names.
    let mut props: Vec<(String, Props)> = Vec::new();
    for (part, ct) in &overrides {
        let which = match ct.as_str() {
            CORE_TYPE => Props::Core,
            APP_TYPE => Props::App,
            CUSTOM_TYPE => Props::Custom,
            _ => continue,
        };
        props.push((part.clone(), which));
    }
    for (name, which) in [
        ("docProps/core.xml", Props::Core),
        ("docProps/app.xml", Props::App),
        ("docProps/custom.xml", Props::Custom),
    ] {
        if !props.iter().any(|(p, _)| p == name) && names.iter().any(|n| n == name) {
            props.push((name.to_string(), which));
        }
    }
    let mut removed = Vec::new();
    for (part, which) in &props {
        if let Some(xml) = read_part(&mut archive, part)? {
            removed.extend(property_kinds(*which, &xml));
        }
    }

    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(data.len())));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let write_err = |e: &dyn std::fmt::Display| invalid(format!("rewriting the archive: {e}"));
    for (i, name) in names.iter().enumerate() {
        match props.iter().find(|(p, _)| p == name) {
            Some((_, which)) => {
                writer
                    .start_file(name.as_str(), options)
                    .map_err(|e| write_err(&e))?;
                let empty = match which {
                    Props::Core => EMPTY_CORE,
                    Props::App => EMPTY_APP,
                    Props::Custom => EMPTY_CUSTOM,
                };
                writer
                    .write_all(empty.as_bytes())
                    .map_err(|e| write_err(&e))?;
            }
            None => {
                let cleaned_image = if is_media_entry(name) {
                    let bytes = read_part(&mut archive, name)?.unwrap_or_default();
                    clean_embedded_image(&bytes)?.filter(|cleaned| *cleaned != bytes)
                } else {
                    None
                };
                match cleaned_image {
                    Some(cleaned) => {
                        writer
                            .start_file(name.as_str(), options)
                            .map_err(|e| write_err(&e))?;
                        writer.write_all(&cleaned).map_err(|e| write_err(&e))?;
                        removed.push("office.embedded_image_metadata".to_string());
                    }
                    None => {
                        let entry = archive.by_index_raw(i).map_err(|e| write_err(&e))?;
                        writer.raw_copy_file(entry).map_err(|e| write_err(&e))?;
                    }
                }
            }
        }
    }
    let bytes = writer.finish().map_err(|e| write_err(&e))?.into_inner();
    removed.sort();
    removed.dedup();
    Ok(Cleaned {
        content_type: content_type.to_string(),
        bytes,
        removed,
    })
}

#[cfg(test)]
pub(crate) mod fixtures {
    use std::io::Write;

    /// A ZIP of `(name, bytes)` entries in the order given.
    pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            w.start_file(*name, options).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    pub const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#;
    pub const DOCUMENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>The village head kept the subsidy.</w:t></w:r></w:p></w:body></w:document>"#;
    pub const CORE: &str = r#"<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:creator>Zhang San</dc:creator><cp:lastModifiedBy>Zhang San</cp:lastModifiedBy><dcterms:created>2026-01-02T03:04:05Z</dcterms:created></cp:coreProperties>"#;
    pub const APP: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Office Word</Application><Company>Dazhai Village Committee</Company></Properties>"#;

    /// A genuine-looking docx with its entries in the order given by `first`.
    pub fn docx(app_first: bool) -> Vec<u8> {
        let mut entries: Vec<(&str, &[u8])> = vec![
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("word/document.xml", DOCUMENT.as_bytes()),
            ("docProps/core.xml", CORE.as_bytes()),
            ("docProps/app.xml", APP.as_bytes()),
        ];
        if app_first {
            entries.rotate_right(1);
        }
        zip(&entries)
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn genuine_docx_is_typed_from_its_parts_and_loses_author_and_company() {
        let c = clean(&docx(true)).unwrap();
        assert_eq!(c.content_type, DOCX);
        for kind in ["office.author", "office.company", "office.times"] {
            assert!(
                c.removed.iter().any(|r| r == kind),
                "{kind} in {:?}",
                c.removed
            );
        }
        let mut back = zip::ZipArchive::new(Cursor::new(c.bytes.as_slice())).unwrap();
        let mut core = String::new();
        back.by_name("docProps/core.xml")
            .unwrap()
            .read_to_string(&mut core)
            .unwrap();
        assert!(!core.contains("Zhang San"));
        let mut doc = String::new();
        back.by_name("word/document.xml")
            .unwrap()
            .read_to_string(&mut doc)
            .unwrap();
        assert_eq!(doc, DOCUMENT);
        assert_eq!(back.by_index(0).unwrap().name(), "docProps/app.xml");
    }

    #[test]
    fn pictures_inside_documents_lose_their_metadata() {
        let gif = crate::evidence::image::fixtures::gif_with_metadata();
        let emf = b"\x01\x00\x00\x00 EMF picture by Zhang San kept as it is".to_vec();
        let doc = zip(&[
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("word/document.xml", DOCUMENT.as_bytes()),
            ("word/media/image1.gif", &gif),
            ("word/media/image2.emf", &emf),
        ]);
        let c = clean(&doc).unwrap();
        assert!(c
            .removed
            .iter()
            .any(|r| r == "office.embedded_image_metadata"));
        let mut back = zip::ZipArchive::new(Cursor::new(&c.bytes[..])).unwrap();
        let mut picture = Vec::new();
        back.by_name("word/media/image1.gif")
            .unwrap()
            .read_to_end(&mut picture)
            .unwrap();
        assert_eq!(picture, crate::evidence::image::clean_gif(&gif).unwrap().0);
        assert!(!String::from_utf8_lossy(&picture).contains("Zhang"));
        let mut other = Vec::new();
        back.by_name("word/media/image2.emf")
            .unwrap()
            .read_to_end(&mut other)
            .unwrap();
        assert_eq!(other, emf);

        // A broken picture is refused, as it would be on its own.
        let broken = zip(&[
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("word/document.xml", DOCUMENT.as_bytes()),
            ("word/media/image1.gif", &gif[..30]),
        ]);
        assert!(matches!(
            clean(&broken),
            Err(EvidenceError::Unreadable { .. })
        ));
    }

    #[test]
    fn a_plain_zip_with_a_word_looking_entry_and_programs_is_refused() {
        let bad = zip(&[
            ("word/readme.txt", b"read me"),
            ("setup.exe", b"MZ\x90\0"),
            ("index.html", b"<html></html>"),
        ]);
        assert!(matches!(clean(&bad), Err(EvidenceError::Executable { .. })));
    }

    #[test]
    fn programs_under_other_names_macros_and_missing_parts_are_refused() {
        let hidden = zip(&[
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("word/document.xml", DOCUMENT.as_bytes()),
            ("word/media/image1.png", b"MZ\x90\0\x03"),
        ]);
        assert!(matches!(
            clean(&hidden),
            Err(EvidenceError::Executable { .. })
        ));
        let macro_types = CONTENT_TYPES.replace(
            "</Types>",
            r#"<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>"#,
        );
        let macros = zip(&[
            ("[Content_Types].xml", macro_types.as_bytes()),
            ("word/document.xml", DOCUMENT.as_bytes()),
            ("word/vbaData.bin", b"\0\0"),
        ]);
        assert!(matches!(
            clean(&macros),
            Err(EvidenceError::Executable { .. })
        ));
        let no_main = zip(&[("[Content_Types].xml", CONTENT_TYPES.as_bytes())]);
        assert!(matches!(
            clean(&no_main),
            Err(EvidenceError::InvalidOffice { .. })
        ));
        let wrong_root = zip(&[
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("word/document.xml", b"<workbook/>"),
        ]);
        assert!(matches!(
            clean(&wrong_root),
            Err(EvidenceError::InvalidOffice { .. })
        ));
        let plain = zip(&[("notes.txt", b"hello")]);
        assert!(matches!(
            clean(&plain),
            Err(EvidenceError::Unsupported { .. })
        ));
    }

    #[test]
    fn too_many_entries_is_a_bomb() {
        let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("f{i}.xml")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        assert!(matches!(
            clean(&zip(&entries)),
            Err(EvidenceError::ArchiveTooLarge { .. })
        ));
    }
}
