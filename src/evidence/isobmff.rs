//! HEIC/HEIF/AVIF (ISO/IEC 23008-12 on ISO BMFF, ISO/IEC 14496-12): the `Exif` items and the
//! XMP items (`mime` items of type `application/rdf+xml`) named in the `meta` box are found
//! through `iinf` and located through `iloc`, and their payload bytes are overwritten with
//! zeros of the same length. No box moves or changes size, so every offset stays valid and the
//! coded image items are untouched.
//!
//! Written here because no maintained crate edits HEIF metadata in place (the readers on
//! crates.io do not write). The item entries themselves stay: a reader finds an `Exif` item
//! whose content is zeros, which it treats as empty or invalid EXIF and ignores.

use super::{unreadable, EvidenceError};

const KIND: &str = "HEIC/HEIF";

/// A box: its type, where its content starts (after the header) and where it ends.
#[derive(Debug, Clone, Copy)]
struct BoxAt {
    kind: [u8; 4],
    body: usize,
    end: usize,
}

fn bad(why: &str) -> EvidenceError {
    unreadable(KIND, why)
}

fn be(data: &[u8], at: usize, n: usize) -> Result<u64, EvidenceError> {
    let bytes = data
        .get(at..at.checked_add(n).ok_or_else(|| bad("offset overflow"))?)
        .ok_or_else(|| bad("truncated box"))?;
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
}

/// The boxes laid one after another in `data[start..end]`.
fn boxes(data: &[u8], start: usize, end: usize) -> Result<Vec<BoxAt>, EvidenceError> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let size = be(data, at, 4)?;
        let kind: [u8; 4] = data
            .get(at + 4..at + 8)
            .ok_or_else(|| bad("truncated box header"))?
            .try_into()
            .expect("four bytes");
        let (body, size) = match size {
            0 => (at + 8, (end - at) as u64),
            1 => (at + 16, be(data, at + 8, 8)?),
            n => (at + 8, n),
        };
        let box_end = usize::try_from(size)
            .ok()
            .and_then(|s| at.checked_add(s))
            .filter(|e| *e <= end && *e >= body)
            .ok_or_else(|| bad("box size out of bounds"))?;
        out.push(BoxAt {
            kind,
            body,
            end: box_end,
        });
        at = box_end;
    }
    Ok(out)
}

fn c_string(data: &[u8], at: usize, end: usize) -> Result<(String, usize), EvidenceError> {
    let slice = data.get(at..end).ok_or_else(|| bad("truncated string"))?;
    let len = slice
        .iter()
        .position(|b| *b == 0)
        .ok_or_else(|| bad("unterminated string"))?;
    Ok((
        String::from_utf8_lossy(&slice[..len]).into_owned(),
        at + len + 1,
    ))
}

/// Which items are metadata: `(item id, "exif" | "xmp")`.
fn metadata_items(data: &[u8], iinf: BoxAt) -> Result<Vec<(u32, &'static str)>, EvidenceError> {
    let version = be(data, iinf.body, 1)?;
    let count_len = if version == 0 { 2 } else { 4 };
    let first = iinf.body + 4 + count_len;
    let mut found = Vec::new();
    for infe in boxes(data, first, iinf.end)? {
        if &infe.kind != b"infe" {
            continue;
        }
        let v = be(data, infe.body, 1)?;
        let mut at = infe.body + 4;
        let (id, item_type, content_type) = if v >= 2 {
            let id_len = if v == 2 { 2 } else { 4 };
            let id = be(data, at, id_len)? as u32;
            at += id_len + 2; // item_protection_index
            let item_type: [u8; 4] = data
                .get(at..at + 4)
                .ok_or_else(|| bad("truncated infe"))?
                .try_into()
                .expect("four bytes");
            at += 4;
            let (_name, next) = c_string(data, at, infe.end)?;
            let content_type = if &item_type == b"mime" {
                Some(c_string(data, next, infe.end)?.0)
            } else {
                None
            };
            (id, item_type, content_type)
        } else {
            let id = be(data, at, 2)? as u32;
            at += 4;
            let (_name, next) = c_string(data, at, infe.end)?;
            let content_type = c_string(data, next, infe.end).ok().map(|(s, _)| s);
            (id, *b"mime", content_type)
        };
        if &item_type == b"Exif" {
            found.push((id, "exif"));
        } else if content_type.as_deref() == Some("application/rdf+xml") {
            found.push((id, "xmp"));
        }
    }
    Ok(found)
}

/// An item id and the `(start, length)` spans of its bytes in the file.
type ItemSpans = (u32, Vec<(usize, usize)>);

/// Where each item's bytes lie in the file, from `iloc`.
fn locations(
    data: &[u8],
    iloc: BoxAt,
    idat: Option<BoxAt>,
) -> Result<Vec<ItemSpans>, EvidenceError> {
    let version = be(data, iloc.body, 1)?;
    let mut at = iloc.body + 4;
    let sizes = be(data, at, 2)?;
    at += 2;
    let offset_size = ((sizes >> 12) & 0xF) as usize;
    let length_size = ((sizes >> 8) & 0xF) as usize;
    let base_offset_size = ((sizes >> 4) & 0xF) as usize;
    let index_size = if version >= 1 {
        (sizes & 0xF) as usize
    } else {
        0
    };
    let (count, count_len) = if version < 2 {
        (be(data, at, 2)?, 2)
    } else {
        (be(data, at, 4)?, 4)
    };
    at += count_len;
    let mut out = Vec::new();
    for _ in 0..count {
        let id_len = if version < 2 { 2 } else { 4 };
        let id = be(data, at, id_len)? as u32;
        at += id_len;
        let method = if version >= 1 {
            let m = be(data, at, 2)? & 0xF;
            at += 2;
            m
        } else {
            0
        };
        at += 2; // data_reference_index
        let base = be(data, at, base_offset_size)?;
        at += base_offset_size;
        let extents = be(data, at, 2)?;
        at += 2;
        let origin = match method {
            0 => 0u64,
            1 => {
                idat.ok_or_else(|| bad("item in idat but no idat box"))?
                    .body as u64
            }
            // 2: offsets into other items; metadata items are never built that way in practice.
            _ => u64::MAX,
        };
        let mut spans = Vec::new();
        for _ in 0..extents {
            at += index_size;
            let offset = be(data, at, offset_size)?;
            at += offset_size;
            let length = be(data, at, length_size)?;
            at += length_size;
            if origin == u64::MAX {
                continue;
            }
            let start = origin
                .checked_add(base)
                .and_then(|s| s.checked_add(offset))
                .ok_or_else(|| bad("extent offset overflow"))?;
            spans.push((start as usize, length as usize));
        }
        if origin == u64::MAX {
            spans.push((usize::MAX, 0));
        }
        out.push((id, spans));
    }
    if at > iloc.end {
        return Err(bad("iloc overruns its box"));
    }
    Ok(out)
}

/// Overwrites the Exif and XMP item payloads of a HEIF file in place with zeros. Returns the
/// kinds removed (`exif`, `exif.gps` … as for JPEG, and `xmp`).
///
/// Errors: `Unreadable` when the boxes do not parse, an extent lies outside the file, or a
/// metadata item is stored in a way this cleaner does not follow (constructed from other items,
/// or an extent of length 0 meaning "to the end of the file").
pub fn clean(data: &mut [u8]) -> Result<Vec<String>, EvidenceError> {
    let top = boxes(data, 0, data.len())?;
    let Some(meta) = top.iter().find(|b| &b.kind == b"meta").copied() else {
        return Err(bad("no meta box"));
    };
    let children = boxes(data, meta.body + 4, meta.end)?;
    let find = |kind: &[u8; 4]| children.iter().find(|b| &b.kind == kind).copied();
    let Some(iinf) = find(b"iinf") else {
        return Ok(Vec::new());
    };
    let targets = metadata_items(data, iinf)?;
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let iloc = find(b"iloc").ok_or_else(|| bad("metadata items but no iloc box"))?;
    let locations = locations(data, iloc, find(b"idat"))?;
    let mut removed = Vec::new();
    for (id, kind) in targets {
        let Some((_, spans)) = locations.iter().find(|(i, _)| *i == id) else {
            continue;
        };
        let mut payload = Vec::new();
        for &(start, len) in spans {
            if start == usize::MAX || len == 0 {
                return Err(bad("metadata item stored in a form not supported"));
            }
            let end = start
                .checked_add(len)
                .filter(|e| *e <= data.len())
                .ok_or_else(|| bad("item extent outside the file"))?;
            payload.extend_from_slice(&data[start..end]);
            data[start..end].fill(0);
        }
        if kind == "exif" {
            // 4-byte offset to the TIFF header, which may follow an `Exif\0\0` prefix.
            let skip = payload
                .get(..4)
                .map(|b| u32::from_be_bytes(b.try_into().expect("four bytes")) as usize)
                .unwrap_or(0);
            let tiff = payload.get(4 + skip..).unwrap_or_default();
            removed.extend(super::image::exif_kinds(tiff));
        } else {
            removed.push("xmp".to_string());
        }
    }
    Ok(removed)
}

#[cfg(test)]
pub(crate) mod fixtures {
    /// A minimal HEIC-branded file: `ftyp`, `meta` (hdlr, iinf with an `Exif` item 1, an XMP
    /// item 2 and an image item 3, iloc v0), `mdat` with the three payloads.
    pub fn heic(exif_tiff: &[u8], xmp: &[u8], image: &[u8]) -> Vec<u8> {
        fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
            let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(kind);
            b.extend_from_slice(body);
            b
        }
        fn full(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
            let mut b = vec![version, 0, 0, 0];
            b.extend_from_slice(body);
            boxed(kind, &b)
        }
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
            full(b"infe", 2, &b)
        };
        let mut iinf_body = 3u16.to_be_bytes().to_vec();
        iinf_body.extend(infe(1, b"Exif", ""));
        iinf_body.extend(infe(2, b"mime", "application/rdf+xml"));
        iinf_body.extend(infe(3, b"hvc1", ""));
        let iinf = full(b"iinf", 0, &iinf_body);
        let hdlr = full(b"hdlr", 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let mut exif_payload = 6u32.to_be_bytes().to_vec();
        exif_payload.extend_from_slice(b"Exif\0\0");
        exif_payload.extend_from_slice(exif_tiff);
        // iloc v0: offset_size 4, length_size 4, base_offset_size 0; three items, one extent.
        let iloc_len = 8 + 4 + 2 + 2 + 3 * (2 + 2 + 2 + 8);
        let meta_len = 8 + 4 + hdlr.len() + iinf.len() + iloc_len;
        let mdat_start = ftyp.len() + meta_len + 8;
        let mut iloc_body = vec![0x44, 0x00];
        iloc_body.extend_from_slice(&3u16.to_be_bytes());
        let mut offset = mdat_start;
        for (id, len) in [(1u16, exif_payload.len()), (2, xmp.len()), (3, image.len())] {
            iloc_body.extend_from_slice(&id.to_be_bytes());
            iloc_body.extend_from_slice(&[0, 0]);
            iloc_body.extend_from_slice(&1u16.to_be_bytes());
            iloc_body.extend_from_slice(&(offset as u32).to_be_bytes());
            iloc_body.extend_from_slice(&(len as u32).to_be_bytes());
            offset += len;
        }
        let iloc = full(b"iloc", 0, &iloc_body);
        let mut meta_body = hdlr;
        meta_body.extend(iinf);
        meta_body.extend(iloc);
        let meta = full(b"meta", 0, &meta_body);
        let mut mdat_body = exif_payload;
        mdat_body.extend_from_slice(xmp);
        mdat_body.extend_from_slice(image);
        let mut file = ftyp;
        file.extend(meta);
        assert_eq!(file.len() + 8, mdat_start);
        file.extend(boxed(b"mdat", &mdat_body));
        file
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::heic;
    use super::*;

    #[test]
    fn exif_and_xmp_items_are_zeroed_in_place() {
        let tiff = crate::evidence::image::fixtures::exif_block("Villager Phone X1");
        let image = b"\x00\x00\x00\x10coded-image-bytes".to_vec();
        let mut file = heic(&tiff, b"<x:xmpmeta>Zhang San</x:xmpmeta>", &image);
        let len = file.len();
        assert_eq!(infer::get(&file).map(|t| t.mime_type()), Some("image/heif"));
        let removed = clean(&mut file).unwrap();
        assert_eq!(file.len(), len);
        let text = String::from_utf8_lossy(&file);
        assert!(!text.contains("Villager") && !text.contains("Zhang San"));
        assert!(file.windows(image.len()).any(|w| w == image.as_slice()));
        for kind in ["exif", "exif.gps", "exif.device", "xmp"] {
            assert!(removed.iter().any(|r| r == kind), "{kind} in {removed:?}");
        }
    }

    #[test]
    fn truncated_files_are_unreadable() {
        let tiff = crate::evidence::image::fixtures::exif_block("X");
        let file = heic(&tiff, b"<x/>", b"img");
        let mut cut = file[..file.len() - 20].to_vec();
        assert!(matches!(
            clean(&mut cut),
            Err(EvidenceError::Unreadable { .. })
        ));
    }
}
