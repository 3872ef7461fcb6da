//! PDF: the document information dictionary (trailer `/Info`: Author, Creator, Producer,
//! dates …) and every XMP metadata stream (`/Metadata` of the catalog, pages, images) are
//! removed with `lopdf`. The file is written anew from its object table, so earlier revisions
//! (incremental updates) that held older metadata are gone too; streams, page content included,
//! are written with their bytes and filters as they were, never decoded or re-encoded.
//!
//! A PDF that stays encrypted after loading (a user password) cannot be cleaned and is refused.
//! One that opens without a password (owner password only) is written back unencrypted.

use lopdf::{Document, Object, ObjectId};

use super::{unreadable, EvidenceError};

fn metadata_ref(object: &Object) -> Option<Option<ObjectId>> {
    let dict = match object {
        Object::Dictionary(d) => d,
        Object::Stream(s) => &s.dict,
        _ => return None,
    };
    dict.get(b"Metadata").ok().map(|m| m.as_reference().ok())
}

fn remove_metadata_key(object: &mut Object) {
    match object {
        Object::Dictionary(d) => {
            d.remove(b"Metadata");
        }
        Object::Stream(s) => {
            s.dict.remove(b"Metadata");
        }
        _ => {}
    }
}

/// The keys of a document information dictionary (ISO 32000-1, 14.3.3).
const INFO_KEYS: &[&[u8]] = &[
    b"Author",
    b"Creator",
    b"Producer",
    b"Title",
    b"Subject",
    b"Keywords",
    b"CreationDate",
    b"ModDate",
];

/// Whether a dictionary is shaped like a document information dictionary: it has one of
/// [`INFO_KEYS`] and no `/Type` (pages, the catalog, annotations and fonts have one).
fn is_info_dictionary(dict: &lopdf::Dictionary) -> bool {
    !dict.has(b"Type") && INFO_KEYS.iter().any(|k| dict.has(k))
}

/// Removes `/Info` and all `/Metadata` from a PDF, Info dictionaries and metadata left from
/// earlier revisions, `/PieceInfo`, and every object no longer reachable. Returns the new
/// bytes and the kinds removed: `pdf.info` (a non-empty Info dictionary), `xmp` (XMP
/// metadata streams), `pdf.piece_info`.
///
/// Errors: `Unreadable` when lopdf cannot load it, it has no catalog, it is still encrypted,
/// or saving fails.
pub fn clean(data: &[u8]) -> Result<(Vec<u8>, Vec<String>), EvidenceError> {
    let mut doc = Document::load_mem(data).map_err(|e| unreadable("PDF", e))?;
    if doc.is_encrypted() {
        return Err(unreadable("PDF", "it is protected by a password"));
    }
    // Without a catalog there is no document to keep, only loose objects.
    doc.catalog().map_err(|e| unreadable("PDF", e))?;
    let mut removed = Vec::new();
    if let Some(info) = doc.trailer.remove(b"Info") {
        let non_empty = match &info {
            Object::Reference(id) => {
                let non_empty = doc
                    .get_dictionary(*id)
                    .map(|d| !d.is_empty())
                    .unwrap_or(false);
                doc.objects.remove(id);
                non_empty
            }
            Object::Dictionary(d) => !d.is_empty(),
            _ => false,
        };
        if non_empty {
            removed.push("pdf.info".to_string());
        }
    }
    // /Metadata in any dictionary or stream dictionary, the catalog's included.
    let holders: Vec<(ObjectId, Option<ObjectId>)> = doc
        .objects
        .iter()
        .filter_map(|(id, object)| metadata_ref(object).map(|target| (*id, target)))
        .collect();
    for (holder, target) in holders {
        if let Some(object) = doc.objects.get_mut(&holder) {
            remove_metadata_key(object);
        }
        if let Some(target) = target {
            doc.objects.remove(&target);
        }
        removed.push("xmp".to_string());
    }
    // Metadata streams nothing points at any more (left from earlier revisions).
    let orphans: Vec<ObjectId> = doc
        .objects
        .iter()
        .filter(|(_, o)| {
            matches!(o, Object::Stream(s) if s.dict.get(b"Type").and_then(Object::as_name).ok() == Some(&b"Metadata"[..]))
        })
        .map(|(id, _)| *id)
        .collect();
    for id in orphans {
        doc.objects.remove(&id);
        removed.push("xmp".to_string());
    }
    // Earlier revisions (incremental updates) keep their own Info dictionaries and metadata
    // as objects nothing points at any more; a dictionary shaped like an Info dictionary is
    // dropped wherever it is, /PieceInfo (application private data) goes from every
    // dictionary, and then every object the document no longer reaches is pruned.
    let info_like: Vec<ObjectId> = doc
        .objects
        .iter()
        .filter(|(_, o)| matches!(o, Object::Dictionary(d) if is_info_dictionary(d)))
        .map(|(id, _)| *id)
        .collect();
    for id in info_like {
        doc.objects.remove(&id);
        removed.push("pdf.info".to_string());
    }
    for object in doc.objects.values_mut() {
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &mut s.dict,
            _ => continue,
        };
        if dict.remove(b"PieceInfo").is_some() {
            removed.push("pdf.piece_info".to_string());
        }
        if dict.remove(b"Metadata").is_some() {
            removed.push("xmp".to_string());
        }
    }
    doc.prune_objects();
    let mut out = Vec::with_capacity(data.len());
    doc.save_to(&mut out).map_err(|e| unreadable("PDF", e))?;
    Ok((out, removed))
}

#[cfg(test)]
pub(crate) mod fixtures {
    /// A one-page PDF with an Info dictionary (author "Zhang San") and an XMP stream on the
    /// catalog; the page content stream is `content`.
    pub fn pdf(content: &[u8]) -> Vec<u8> {
        let xmp = b"<x:xmpmeta><dc:creator>Zhang San</dc:creator></x:xmpmeta>";
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
                xmp.to_vec(),
                b"\nendstream".to_vec(),
            ]
            .concat(),
            b"<< /Author (Zhang San) /Creator (Village Office Scanner) /Producer (Probe PDF) >>"
                .to_vec(),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_and_xmp_go_and_the_page_content_stays() {
        let content = b"BT /F1 12 Tf 20 100 Td (The subsidy list) Tj ET";
        let (out, removed) = clean(&fixtures::pdf(content)).unwrap();
        let text = String::from_utf8_lossy(&out);
        for gone in [
            "Zhang San",
            "Village Office Scanner",
            "Probe PDF",
            "/Info",
            "/Metadata",
        ] {
            assert!(!text.contains(gone), "{gone} remains");
        }
        assert!(out.windows(content.len()).any(|w| w == content));
        assert_eq!(removed, vec!["pdf.info".to_string(), "xmp".to_string()]);
        // Still a PDF lopdf reads, with its page.
        let back = Document::load_mem(&out).unwrap();
        assert_eq!(back.get_pages().len(), 1);
    }

    #[test]
    fn an_earlier_revisions_info_does_not_survive() {
        let content = b"BT (Revised list) Tj ET";
        let mut pdf = fixtures::pdf(content);
        // Same length, so the first revision's offsets stay right.
        let first = String::from_utf8_lossy(&pdf).replace(
            "(Zhang San) /Creator (Village Office Scanner)",
            "(SECRETAUTHOR) /Creator (Village Office Scan)",
        );
        let mut pdf_bytes = first.into_bytes();
        let prev = {
            let t = String::from_utf8_lossy(&pdf_bytes).to_string();
            let at = t.rfind("startxref\n").unwrap() + "startxref\n".len();
            t[at..]
                .lines()
                .next()
                .unwrap()
                .trim()
                .parse::<usize>()
                .unwrap()
        };
        // Incremental update: a new Info (object 7) and a page with /PieceInfo.
        let o7 = pdf_bytes.len();
        pdf_bytes.extend_from_slice(b"7 0 obj\n<< /Producer (Probe PDF 2) >>\nendobj\n");
        let o3 = pdf_bytes.len();
        pdf_bytes.extend_from_slice(
            b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /PieceInfo << /App << /Private (Zhang Private) >> >> >>\nendobj\n",
        );
        let xref = pdf_bytes.len();
        pdf_bytes.extend_from_slice(
            format!(
                "xref\n3 1\n{o3:010} 00000 n \n7 1\n{o7:010} 00000 n \ntrailer\n<< /Size 8 /Root 1 0 R /Info 7 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n"
            )
            .as_bytes(),
        );
        pdf = pdf_bytes;
        assert!(String::from_utf8_lossy(&pdf).contains("SECRETAUTHOR"));
        let (out, removed) = clean(&pdf).unwrap();
        let text = String::from_utf8_lossy(&out);
        for gone in [
            "SECRETAUTHOR",
            "Probe PDF",
            "Zhang",
            "PieceInfo",
            "Village Office",
        ] {
            assert!(!text.contains(gone), "{gone} remains");
        }
        assert!(out.windows(content.len()).any(|w| w == content));
        assert!(removed.contains(&"pdf.info".to_string()));
        assert!(removed.contains(&"pdf.piece_info".to_string()));
        assert_eq!(Document::load_mem(&out).unwrap().get_pages().len(), 1);
    }

    #[test]
    fn a_broken_pdf_is_unreadable() {
        assert!(matches!(
            clean(b"%PDF-1.7\nnot really a pdf"),
            Err(EvidenceError::Unreadable { .. })
        ));
    }
}
