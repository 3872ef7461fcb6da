//! JPEG, PNG and WebP: metadata segments and chunks are dropped whole with `img-parts`; the
//! compressed image data (JPEG scans, PNG `IDAT`, WebP `VP8`/`VP8L`/`ALPH`/`ANIM` frames) is
//! copied byte for byte. ICC colour profiles are kept: they describe colours, not people.

use img_parts::jpeg::{markers, Jpeg};
use img_parts::png::Png;
use img_parts::webp::WebP;
use img_parts::{Bytes, ImageEXIF};

use super::{unreadable, EvidenceError};

const EXIF_PREFIX: &[u8] = b"Exif\0\0";
const XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/";
const XMP_EXTENSION_PREFIX: &[u8] = b"http://ns.adobe.com/xmp/extension/";

/// The kinds of fields an EXIF block (TIFF structure, without the `Exif\0\0` prefix) holds:
/// always `exif`, plus `exif.gps`, `exif.device` (make, model, lens, serial numbers, software,
/// maker note), `exif.owner` (artist, copyright, owner name, comments) and `exif.times` when
/// present. An EXIF block that does not parse is still removed and reported as `exif`.
pub fn exif_kinds(tiff: &[u8]) -> Vec<String> {
    use exif::{Context, Tag};
    let mut kinds = vec!["exif".to_string()];
    let Ok(parsed) = exif::Reader::new().read_raw(tiff.to_vec()) else {
        return kinds;
    };
    for field in parsed.fields() {
        let tag = field.tag;
        let kind = if tag.context() == Context::Gps {
            "exif.gps"
        } else if [
            Tag::Make,
            Tag::Model,
            Tag::LensMake,
            Tag::LensModel,
            Tag::BodySerialNumber,
            Tag::LensSerialNumber,
            Tag::Software,
            Tag::MakerNote,
            Tag::ImageUniqueID,
        ]
        .contains(&tag)
        {
            "exif.device"
        } else if [
            Tag::Artist,
            Tag::Copyright,
            Tag::CameraOwnerName,
            Tag::UserComment,
            Tag::ImageDescription,
        ]
        .contains(&tag)
        {
            "exif.owner"
        } else if [
            Tag::DateTime,
            Tag::DateTimeOriginal,
            Tag::DateTimeDigitized,
            Tag::OffsetTime,
            Tag::OffsetTimeOriginal,
            Tag::OffsetTimeDigitized,
            Tag::SubSecTime,
            Tag::SubSecTimeOriginal,
            Tag::SubSecTimeDigitized,
        ]
        .contains(&tag)
        {
            "exif.times"
        } else {
            continue;
        };
        kinds.push(kind.to_string());
    }
    kinds
}

/// Whether an application segment is one display needs: APP0 `JFIF`, APP2 `ICC_PROFILE`,
/// APP14 `Adobe` (colour transform). Every other APPn (EXIF, XMP, MPF, JUMBF/C2PA, maker
/// data …) may carry identifying data and is dropped.
fn app_segment_needed(marker: u8, contents: &[u8]) -> bool {
    match marker {
        markers::APP0 => contents.starts_with(b"JFIF\0"),
        markers::APP2 => contents.starts_with(b"ICC_PROFILE\0"),
        markers::APP14 => contents.starts_with(b"Adobe"),
        _ => false,
    }
}

/// The kind reported for a dropped APPn or COM segment.
fn app_segment_kinds(marker: u8, contents: &[u8]) -> Vec<String> {
    match marker {
        markers::APP1 => {
            if let Some(tiff) = contents.strip_prefix(EXIF_PREFIX) {
                exif_kinds(tiff)
            } else if contents.starts_with(XMP_PREFIX) || contents.starts_with(XMP_EXTENSION_PREFIX)
            {
                vec!["xmp".into()]
            } else {
                vec!["jpeg.app1".into()]
            }
        }
        markers::APP13 => vec!["iptc".into()],
        markers::COM => vec!["jpeg.comment".into()],
        _ => vec!["jpeg.app_segment".into()],
    }
}

fn is_app_or_comment(marker: u8) -> bool {
    (0xE0..=0xEF).contains(&marker) || marker == markers::COM
}

/// Walks the bytes after the first SOS header (entropy-coded data, then any further scans of a
/// progressive JPEG) up to the EOI marker of the primary image. Returns what to keep: the
/// bytes up to and including that EOI, without any APPn/COM segment found between scans, and
/// whether anything after the EOI was cut. A JPEG that ends without EOI is kept as it is.
fn primary_image_scans(entropy: &[u8], removed: &mut Vec<String>) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(entropy.len());
    let mut i = 0;
    while i < entropy.len() {
        let b = entropy[i];
        if b != 0xFF || i + 1 >= entropy.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let marker = entropy[i + 1];
        match marker {
            // Stuffed zero, restart markers and fill bytes belong to the scan.
            0x00 | 0xD0..=0xD7 | 0xFF => {
                out.push(b);
                i += 1;
            }
            markers::EOI => {
                out.extend_from_slice(&[0xFF, markers::EOI]);
                return (out, i + 2 < entropy.len());
            }
            _ if marker != 0x01 && marker != markers::SOI && i + 3 < entropy.len() => {
                let len = u16::from_be_bytes([entropy[i + 2], entropy[i + 3]]) as usize;
                let end = (i + 2 + len).min(entropy.len());
                if is_app_or_comment(marker) {
                    removed.extend(app_segment_kinds(marker, &entropy[(i + 4).min(end)..end]));
                } else {
                    out.extend_from_slice(&entropy[i..end]);
                }
                i = end;
            }
            _ => {
                out.extend_from_slice(&entropy[i..i + 2]);
                i += 2;
            }
        }
    }
    (out, false)
}

/// Keeps only the segments a JPEG needs to display (see [`app_segment_needed`]): APP1 (EXIF,
/// XMP), APP13 (Photoshop IRB / IPTC), every other APPn (MPF, JUMBF/C2PA, …) and COM are
/// dropped, and everything after the EOI of the primary image (the second picture of a
/// multi-picture JPEG with its own EXIF, appended text) is cut (`jpeg.trailer`).
/// Returns the new bytes and the kinds removed. Errors: `Unreadable` when it does not parse.
pub fn clean_jpeg(data: Vec<u8>) -> Result<(Vec<u8>, Vec<String>), EvidenceError> {
    let mut jpeg = Jpeg::from_bytes(Bytes::from(data)).map_err(|e| unreadable("JPEG", e))?;
    let mut removed = Vec::new();
    jpeg.segments_mut().retain(|segment| {
        let marker = segment.marker();
        if !is_app_or_comment(marker) || app_segment_needed(marker, segment.contents()) {
            return true;
        }
        removed.extend(app_segment_kinds(marker, segment.contents()));
        false
    });
    // img-parts keeps everything after the first SOS header as that segment's "entropy";
    // it has no accessor, so it is read from the encoded file, after the headers.
    let scan_at = jpeg.segments().iter().position(|s| s.has_entropy());
    let header_len: Option<usize> = scan_at.map(|at| {
        2 + jpeg.segments()[..=at]
            .iter()
            .map(|s| s.len())
            .sum::<usize>()
    });
    let encoded = jpeg.encoder().bytes();
    let out = match header_len {
        Some(header_len) if header_len <= encoded.len() => {
            let (scans, cut) = primary_image_scans(&encoded[header_len..], &mut removed);
            if cut {
                removed.push("jpeg.trailer".into());
            }
            let mut out = encoded[..header_len].to_vec();
            out.extend(scans);
            out
        }
        _ => encoded.to_vec(),
    };
    Ok((out, removed))
}

/// Removes `eXIf`, text chunks (`tEXt`, `zTXt`, `iTXt`: XMP travels in `iTXt` under the
/// keyword `XML:com.adobe.xmp`, ImageMagick puts EXIF/IPTC profiles in `zTXt`) and `tIME`.
pub fn clean_png(data: Vec<u8>) -> Result<(Vec<u8>, Vec<String>), EvidenceError> {
    let mut png = Png::from_bytes(Bytes::from(data)).map_err(|e| unreadable("PNG", e))?;
    let mut removed = Vec::new();
    png.chunks_mut().retain(|chunk| {
        let contents = chunk.contents();
        match &chunk.kind() {
            b"eXIf" => {
                removed.extend(exif_kinds(contents));
                false
            }
            b"iTXt" if contents.starts_with(b"XML:com.adobe.xmp\0") => {
                removed.push("xmp".into());
                false
            }
            b"tEXt" | b"zTXt" | b"iTXt" => {
                let keyword = contents.split(|b| *b == 0).next().unwrap_or_default();
                let lower = String::from_utf8_lossy(keyword).to_ascii_lowercase();
                removed.push(
                    if lower.contains("exif") {
                        "exif"
                    } else if lower.contains("iptc") {
                        "iptc"
                    } else if lower.contains("xmp") {
                        "xmp"
                    } else {
                        "png.text"
                    }
                    .into(),
                );
                false
            }
            b"tIME" => {
                removed.push("png.time".into());
                false
            }
            _ => true,
        }
    });
    Ok((png.encoder().bytes().to_vec(), removed))
}

/// Removes the `EXIF` and `XMP ` chunks of a WebP and clears their flags in `VP8X`.
pub fn clean_webp(data: Vec<u8>) -> Result<(Vec<u8>, Vec<String>), EvidenceError> {
    let mut webp = WebP::from_bytes(Bytes::from(data)).map_err(|e| unreadable("WebP", e))?;
    let mut removed = Vec::new();
    for chunk in webp.chunks() {
        match &chunk.id() {
            b"EXIF" => {
                let data = chunk.content().data().cloned().unwrap_or_default();
                let tiff = data.strip_prefix(EXIF_PREFIX).unwrap_or(&data[..]);
                removed.extend(exif_kinds(tiff));
            }
            b"XMP " => removed.push("xmp".to_string()),
            _ => {}
        }
    }
    webp.remove_chunks_by_id(*b"XMP ");
    // Removes the EXIF chunk and brings the VP8X flags in line with the chunks left.
    webp.set_exif(None);
    Ok((webp.encoder().bytes().to_vec(), removed))
}

/// Reads a run of GIF data sub-blocks (length byte, bytes; a zero length ends it) starting at
/// `at`. Returns the offset just after the terminator.
fn gif_sub_blocks(data: &[u8], mut at: usize) -> Result<usize, EvidenceError> {
    loop {
        let len = *data
            .get(at)
            .ok_or_else(|| unreadable("GIF", "a block runs past the end of the file"))?
            as usize;
        at += 1;
        if len == 0 {
            return Ok(at);
        }
        at += len;
        if at > data.len() {
            return Err(unreadable("GIF", "a block runs past the end of the file"));
        }
    }
}

fn gif_colour_table_len(flags: u8) -> usize {
    if flags & 0x80 != 0 {
        3 * (1usize << ((flags & 0x07) + 1))
    } else {
        0
    }
}

/// Removes comment extensions (`0x21 0xFE`) and application extensions (`0x21 0xFF`, e.g.
/// XMP `XMP DataXMP`) other than the looping ones (`NETSCAPE2.0`, `ANIMEXTS1.0`) from a GIF,
/// walking its blocks (GIF89a specification, sections 17–27); every other block, the image
/// data included, is copied byte for byte, and anything after the trailer (`0x3B`) is cut.
/// Returns the new bytes and the kinds removed (`gif.comment`, `gif.application`, `xmp`,
/// `gif.trailer`). Errors: `Unreadable` for a truncated or malformed GIF.
pub fn clean_gif(data: &[u8]) -> Result<(Vec<u8>, Vec<String>), EvidenceError> {
    let bad = |why: &str| unreadable("GIF", why);
    if data.len() < 13 || !(data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a")) {
        return Err(bad("it has no GIF header"));
    }
    let mut at = 13 + gif_colour_table_len(data[10]);
    if at > data.len() {
        return Err(bad("the colour table runs past the end of the file"));
    }
    let mut out = data[..at].to_vec();
    let mut removed = Vec::new();
    loop {
        let start = at;
        match data.get(at) {
            Some(0x3B) => {
                out.push(0x3B);
                if at + 1 < data.len() {
                    removed.push("gif.trailer".to_string());
                }
                return Ok((out, removed));
            }
            Some(0x2C) => {
                // Image descriptor (10 bytes), local colour table, LZW code size, data.
                let flags = *data
                    .get(at + 9)
                    .ok_or_else(|| bad("an image descriptor is cut short"))?;
                at += 10 + gif_colour_table_len(flags) + 1;
                if at > data.len() {
                    return Err(bad("an image is cut short"));
                }
                at = gif_sub_blocks(data, at)?;
                out.extend_from_slice(&data[start..at]);
            }
            Some(0x21) => {
                let label = *data
                    .get(at + 1)
                    .ok_or_else(|| bad("an extension is cut short"))?;
                at = gif_sub_blocks(data, at + 2)?;
                let keep = match label {
                    0xFE => {
                        removed.push("gif.comment".to_string());
                        false
                    }
                    0xFF => {
                        let id = data.get(start + 3..start + 14).unwrap_or_default();
                        if id == b"NETSCAPE2.0" || id == b"ANIMEXTS1.0" {
                            true
                        } else {
                            removed.push(
                                if id.starts_with(b"XMP Data") {
                                    "xmp"
                                } else {
                                    "gif.application"
                                }
                                .to_string(),
                            );
                            false
                        }
                    }
                    _ => true,
                };
                if keep {
                    out.extend_from_slice(&data[start..at]);
                }
            }
            Some(_) => return Err(bad("an unknown block")),
            None => return Err(bad("the file ends without its trailer")),
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Small, valid files with metadata, built by hand for the tests here and in tests/api.

    /// The image data sub-blocks of the 1x1 frame in [`gif_with_metadata`].
    pub const GIF_FRAME: &[u8] = &[0x02, 0x02, 0x44, 0x01, 0x00];

    /// A 1x1 GIF89a with a global colour table, NETSCAPE looping, a comment, an XMP
    /// application extension, a graphic control extension, one frame and text after the end.
    pub fn gif_with_metadata() -> Vec<u8> {
        let mut g = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
        g.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        g.extend_from_slice(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00");
        g.extend_from_slice(b"\x21\xFE\x09Zhang San\x00");
        g.extend_from_slice(b"\x21\xFF\x0BXMP DataXMP\x10<x>Zhang San</x>\x00");
        g.extend_from_slice(b"\x21\xF9\x04\x00\x00\x00\x00\x00");
        g.extend_from_slice(b"\x2C\x00\x00\x00\x00\x01\x00\x01\x00\x00");
        g.extend_from_slice(GIF_FRAME);
        g.push(0x3B);
        g.extend_from_slice(b"AFTER THE END Zhang San");
        g
    }

    /// A little-endian TIFF/EXIF block with Make, Model and a GPS IFD (latitude ref "N").
    pub fn exif_block(model: &str) -> Vec<u8> {
        let mut t = b"II*\0".to_vec();
        t.extend_from_slice(&8u32.to_le_bytes());
        // IFD0: Make, Model, GPSInfo pointer.
        let model_bytes = format!("{model}\0");
        let entries = 3u16;
        let ifd0_len = 2 + 12 * entries as u32 + 4;
        let make_off = 8 + ifd0_len;
        let make = b"Probe\0";
        let model_off = make_off + make.len() as u32;
        let gps_off = model_off + model_bytes.len() as u32;
        t.extend_from_slice(&entries.to_le_bytes());
        let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: u32| {
            t.extend_from_slice(&tag.to_le_bytes());
            t.extend_from_slice(&typ.to_le_bytes());
            t.extend_from_slice(&count.to_le_bytes());
            t.extend_from_slice(&value.to_le_bytes());
        };
        entry(&mut t, 0x010F, 2, make.len() as u32, make_off);
        entry(&mut t, 0x0110, 2, model_bytes.len() as u32, model_off);
        entry(&mut t, 0x8825, 4, 1, gps_off);
        t.extend_from_slice(&0u32.to_le_bytes());
        t.extend_from_slice(make);
        t.extend_from_slice(model_bytes.as_bytes());
        // GPS IFD: GPSLatitudeRef = "N".
        t.extend_from_slice(&1u16.to_le_bytes());
        entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes(*b"N\0\0\0"));
        t.extend_from_slice(&0u32.to_le_bytes());
        t
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::exif_block;
    use super::*;

    fn jpeg_with_metadata() -> (Vec<u8>, Vec<u8>) {
        let mut j = vec![0xFF, 0xD8];
        let segment = |j: &mut Vec<u8>, marker: u8, body: &[u8]| {
            j.extend_from_slice(&[0xFF, marker]);
            j.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
            j.extend_from_slice(body);
        };
        segment(&mut j, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let mut app1 = EXIF_PREFIX.to_vec();
        app1.extend(exif_block("Villager Phone X1"));
        segment(&mut j, 0xE1, &app1);
        let mut xmp = XMP_PREFIX.to_vec();
        xmp.extend_from_slice(b"\0<x:xmpmeta>Zhang San</x:xmpmeta>");
        segment(&mut j, 0xE1, &xmp);
        segment(&mut j, 0xED, b"Photoshop 3.0\08BIM\x04\x04IPTC-owner");
        segment(&mut j, 0xFE, b"comment by Zhang San");
        segment(&mut j, 0xDB, &[0u8; 65]);
        segment(&mut j, 0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        let scan = vec![0x12, 0x34, 0x56, 0xFF, 0x00, 0x78];
        segment(&mut j, 0xDA, &[1, 1, 0, 0, 0x3F, 0]);
        j.extend_from_slice(&scan);
        j.extend_from_slice(&[0xFF, 0xD9]);
        (j, scan)
    }

    #[test]
    fn jpeg_loses_exif_xmp_iptc_and_comments_and_keeps_its_scan() {
        let (jpeg, scan) = jpeg_with_metadata();
        let (out, removed) = clean_jpeg(jpeg).unwrap();
        let text = String::from_utf8_lossy(&out);
        for gone in ["Villager Phone", "Probe", "Zhang San", "IPTC-owner", "Exif"] {
            assert!(!text.contains(gone), "{gone} remains");
        }
        assert!(out.windows(scan.len()).any(|w| w == scan.as_slice()));
        assert!(out.windows(4).any(|w| w == b"JFIF"));
        for kind in [
            "exif",
            "exif.gps",
            "exif.device",
            "xmp",
            "iptc",
            "jpeg.comment",
        ] {
            assert!(removed.iter().any(|r| r == kind), "{kind} in {removed:?}");
        }
    }

    /// A multi-picture JPEG: APP2 MPF, APP4, APP11 JUMBF, APP15, an ICC profile and an Adobe
    /// segment, a progressive second scan with a COM between scans, then a second picture with
    /// its own EXIF after the EOI and appended text.
    fn multi_picture_jpeg() -> (Vec<u8>, Vec<u8>) {
        let (mut j, _) = jpeg_with_metadata();
        j.truncate(j.len() - 2); // without EOI
        let segment = |j: &mut Vec<u8>, marker: u8, body: &[u8]| {
            j.extend_from_slice(&[0xFF, marker]);
            j.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
            j.extend_from_slice(body);
        };
        // Between scans: a COM (dropped) and a DHT (kept), then a second scan with a restart.
        segment(&mut j, 0xFE, b"between scans: Li Si");
        segment(
            &mut j,
            0xC4,
            &[0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        segment(&mut j, 0xDA, &[1, 1, 0, 0, 0x3F, 0]);
        let scan2 = vec![0x9A, 0xFF, 0xD0, 0xBC, 0xFF, 0x00];
        j.extend_from_slice(&scan2);
        j.extend_from_slice(&[0xFF, 0xD9]);
        // The second picture of an MPO, with its own EXIF, then appended text.
        let (mut second, _) = jpeg_with_metadata();
        let mut app1 = EXIF_PREFIX.to_vec();
        app1.extend(exif_block("Second Picture GPS"));
        let mut inner = vec![0xFF, 0xD8, 0xFF, 0xE1];
        inner.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        inner.extend(app1);
        second.splice(0..2, inner);
        j.extend(second);
        j.extend_from_slice(b"TRAILING NOTE by Zhang San");
        // The head: after SOI, the kept and dropped application segments.
        let mut head = vec![0xFF, 0xD8];
        segment(&mut head, 0xE2, b"ICC_PROFILE\0\x01\x01colours");
        segment(&mut head, 0xE2, b"MPF\0II*\0MPF-Zhang");
        segment(&mut head, 0xE4, b"APP4 Zhang San");
        segment(&mut head, 0xEB, b"JP\0\x01jumb c2pa Zhang San");
        segment(&mut head, 0xEF, b"APP15 Zhang San");
        segment(&mut head, 0xEE, b"Adobe\0\x64\0\0\0\0\x01");
        j.splice(0..2, head);
        (j, scan2)
    }

    #[test]
    fn jpeg_loses_every_other_app_segment_and_everything_after_its_eoi() {
        let (jpeg, scan2) = multi_picture_jpeg();
        let (out, removed) = clean_jpeg(jpeg).unwrap();
        let text = String::from_utf8_lossy(&out);
        for gone in [
            "Zhang",
            "Li Si",
            "Second Picture",
            "TRAILING",
            "MPF",
            "c2pa",
            "Exif",
        ] {
            assert!(!text.contains(gone), "{gone} remains");
        }
        for kept in ["ICC_PROFILE", "Adobe", "JFIF"] {
            assert!(text.contains(kept), "{kept} was dropped");
        }
        assert!(out.windows(scan2.len()).any(|w| w == scan2.as_slice()));
        assert!(out.ends_with(&[0xFF, 0xD9]));
        assert_eq!(out.windows(2).filter(|w| w == &[0xFF, 0xD8]).count(), 1);
        for kind in [
            "jpeg.trailer",
            "jpeg.app_segment",
            "jpeg.comment",
            "exif.gps",
        ] {
            assert!(removed.iter().any(|r| r == kind), "{kind} in {removed:?}");
        }
        // Cleaning again finds nothing more: the result is a plain, complete JPEG.
        let (again, removed_again) = clean_jpeg(out.clone()).unwrap();
        assert_eq!(again, out);
        assert!(removed_again.is_empty(), "{removed_again:?}");
    }

    #[test]
    fn png_and_webp_lose_what_follows_their_end() {
        let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
        png_chunk(&mut p, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        png_chunk(&mut p, b"IDAT", &[0x78, 0x9C, 0x63, 0x60, 0, 0, 0, 2, 0, 1]);
        png_chunk(&mut p, b"IEND", &[]);
        let clean_len = p.len();
        p.extend_from_slice(b"GPS 31.2,121.5 Zhang San");
        let (out, _) = clean_png(p).unwrap();
        assert_eq!(out.len(), clean_len);

        let mut body = b"WEBP".to_vec();
        let vp8l = [
            0x2F, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xFE, 0x07, 0,
        ];
        body.extend_from_slice(b"VP8L");
        body.extend_from_slice(&(vp8l.len() as u32).to_le_bytes());
        body.extend_from_slice(&vp8l);
        let mut w = b"RIFF".to_vec();
        w.extend_from_slice(&(body.len() as u32).to_le_bytes());
        w.extend(body);
        let clean_len = w.len();
        w.extend_from_slice(b"GPS 31.2,121.5 Zhang San");
        let (out, _) = clean_webp(w).unwrap();
        assert_eq!(out.len(), clean_len);
        assert!(!String::from_utf8_lossy(&out).contains("Zhang"));
    }

    #[test]
    fn gif_loses_comments_and_xmp_and_keeps_its_frames_and_looping() {
        let gif = fixtures::gif_with_metadata();
        let (out, removed) = clean_gif(&gif).unwrap();
        let text = String::from_utf8_lossy(&out);
        for gone in ["Zhang San", "XMP Data", "AFTER"] {
            assert!(!text.contains(gone), "{gone} remains");
        }
        assert!(text.contains("NETSCAPE2.0"));
        assert!(out
            .windows(fixtures::GIF_FRAME.len())
            .any(|w| w == fixtures::GIF_FRAME));
        assert!(out.ends_with(&[0x3B]));
        for kind in ["gif.comment", "xmp", "gif.trailer"] {
            assert!(removed.iter().any(|r| r == kind), "{kind} in {removed:?}");
        }
        let (again, none) = clean_gif(&out).unwrap();
        assert_eq!(again, out);
        assert!(none.is_empty());
    }

    #[test]
    fn malformed_gifs_are_unreadable() {
        let gif = fixtures::gif_with_metadata();
        for cut in [5, 12, 20, 40, gif.len() - 40] {
            assert!(
                matches!(
                    clean_gif(&gif[..cut]),
                    Err(EvidenceError::Unreadable { .. })
                ),
                "cut at {cut}"
            );
        }
        let mut odd = gif[..19].to_vec();
        odd.push(0x99);
        assert!(matches!(
            clean_gif(&odd),
            Err(EvidenceError::Unreadable { .. })
        ));
    }

    #[test]
    fn broken_jpeg_is_unreadable() {
        assert!(matches!(
            clean_jpeg(vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00]),
            Err(EvidenceError::Unreadable { .. })
        ));
    }

    fn png_chunk(p: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
        p.extend_from_slice(&(body.len() as u32).to_be_bytes());
        p.extend_from_slice(kind);
        p.extend_from_slice(body);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(body);
        p.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }

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

    #[test]
    fn png_loses_exif_and_xmp_and_keeps_idat() {
        let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
        png_chunk(&mut p, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        png_chunk(&mut p, b"eXIf", &exif_block("Villager Phone X1"));
        png_chunk(
            &mut p,
            b"iTXt",
            b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>Zhang San</x:xmpmeta>",
        );
        png_chunk(&mut p, b"tEXt", b"Author\0Zhang San");
        let idat = [0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01];
        png_chunk(&mut p, b"IDAT", &idat);
        png_chunk(&mut p, b"IEND", &[]);
        let (out, removed) = clean_png(p).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("Zhang San") && !text.contains("Villager"));
        assert!(out.windows(idat.len()).any(|w| w == idat));
        for kind in ["exif.gps", "exif.device", "xmp", "png.text"] {
            assert!(removed.iter().any(|r| r == kind), "{kind} in {removed:?}");
        }
    }

    #[test]
    fn webp_loses_exif_and_xmp_chunks() {
        let mut body = b"WEBP".to_vec();
        let mut chunk = |id: &[u8; 4], data: &[u8]| {
            body.extend_from_slice(id);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        };
        // VP8X with EXIF (0x08) and XMP (0x04) flags, canvas 1x1.
        chunk(b"VP8X", &[0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let vp8l = [
            0x2F, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xFE, 0x07, 0,
        ];
        chunk(b"VP8L", &vp8l);
        chunk(b"EXIF", &exif_block("Villager Phone X1"));
        chunk(b"XMP ", b"<x:xmpmeta>Zhang San</x:xmpmeta>");
        let mut w = b"RIFF".to_vec();
        w.extend_from_slice(&(body.len() as u32).to_le_bytes());
        w.extend(body);
        let (out, removed) = clean_webp(w).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("Zhang San") && !text.contains("Villager"));
        assert!(out.windows(vp8l.len()).any(|x| x == vp8l));
        assert!(removed.contains(&"exif.gps".to_string()));
        assert!(removed.contains(&"xmp".to_string()));
    }
}
