//! What an evidence file is, and removing what identifies the reporter from it, before it is
//! encrypted to disk (issue 7, faults 7 and 8; docs/security.md → "Evidence metadata").
//!
//! - JPEG, PNG, WebP: EXIF, XMP, IPTC, comments and text chunks are dropped as whole segments
//!   or chunks ([`image`]); a JPEG keeps only the JFIF, ICC and Adobe application segments,
//!   and nothing after the end of the primary image (JPEG EOI, PNG `IEND`, the RIFF size) is
//!   kept; the compressed image data is copied byte for byte, never re-encoded.
//!   Dropping EXIF drops the orientation tag too: a photo taken sideways may show sideways.
//!   That is accepted for evidence (staff can rotate it; the pixels are untouched).
//! - HEIC/HEIF/AVIF: the payloads of the `Exif` and XMP items are overwritten with zeros of the
//!   same length ([`isobmff`]), so every offset in the file stays valid. Orientation there is a
//!   box property (`irot`/`imir`), not EXIF, and is kept.
//! - Office Open XML (docx, xlsx, pptx): the type is decided from `[Content_Types].xml` and the
//!   main part it names, archives with executables, scripts or macros are refused, and
//!   `docProps/core.xml`, `app.xml`, `custom.xml` are replaced by empty property sets; each
//!   picture in the media folders goes through the image cleaner; every other entry is copied
//!   without recompression ([`office`]).
//! - PDF: the trailer's Info dictionary, every `/Metadata` (XMP) stream, `/PieceInfo`, earlier
//!   revisions' Info dictionaries and every unreachable object are removed; page content
//!   streams are written back unchanged ([`pdf`]).
//! - GIF: comment and application extensions (XMP) other than looping are dropped by
//!   walking the blocks ([`image::clean_gif`]); frames are copied byte for byte.
//! - Audio and video cannot be cleaned: they are stored as sent, and the forms say so.
//!
//! What was removed is reported as kinds of fields (`exif.gps`, `xmp`, `office.author`,
//! `pdf.info` …), never their values.

use crate::error::ErrorCode;

pub mod image;
pub mod isobmff;
pub mod office;
pub mod pdf;

/// A file accepted as evidence, as it will be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The detected type, e.g. `image/jpeg`,
    /// `application/vnd.openxmlformats-officedocument.wordprocessingml.document`.
    pub content_type: String,
    /// The bytes to store: the upload with its metadata removed (or as sent for audio/video).
    pub bytes: Vec<u8>,
    /// The kinds of metadata removed, sorted and without repeats. Empty when none was found.
    pub removed: Vec<String>,
}

/// Why a file is not taken as evidence. Each variant has a stable API `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// Not one of the accepted kinds (415 `unsupported_attachment_type`).
    #[error("this kind of file is not accepted ({detected})")]
    Unsupported { detected: String },
    /// It looks like a kind we clean but could not be read for cleaning
    /// (422 `attachment_unreadable`): stored it would keep its metadata.
    #[error("the file looks like {kind} but could not be read to remove its metadata: {why}")]
    Unreadable { kind: &'static str, why: String },
    /// An archive holding programs, scripts, web pages or macros
    /// (422 `attachment_contains_executable`).
    #[error("the archive holds a program, script or macro ({entry})")]
    Executable { entry: String },
    /// A ZIP that claims to be an Office document but is not a valid one
    /// (422 `office_document_invalid`).
    #[error("not a valid Office document: {why}")]
    InvalidOffice { why: String },
    /// An archive over the entry or size limits (422 `archive_too_large`).
    #[error("the archive is too large when unpacked: {why}")]
    ArchiveTooLarge { why: String },
}

impl EvidenceError {
    /// The stable API code.
    pub fn code(&self) -> ErrorCode {
        match self {
            EvidenceError::Unsupported { .. } => ErrorCode::UnsupportedAttachmentType,
            EvidenceError::Unreadable { .. } => ErrorCode::AttachmentUnreadable,
            EvidenceError::Executable { .. } => ErrorCode::AttachmentContainsExecutable,
            EvidenceError::InvalidOffice { .. } => ErrorCode::OfficeDocumentInvalid,
            EvidenceError::ArchiveTooLarge { .. } => ErrorCode::ArchiveTooLarge,
        }
    }

    /// What the reporter is told on the forms, in Chinese.
    pub fn message_zh(&self) -> &'static str {
        match self {
            EvidenceError::Unsupported { .. } => {
                "不支持这种文件。只能上传图片（JPEG、PNG、WebP、HEIC）、PDF、办公文档（docx、xlsx、pptx）、录音或视频，请重新选择。"
            }
            EvidenceError::Unreadable { .. } => {
                "这个文件已损坏或格式不对，无法去除其中可能暴露您身份的信息，所以没有接收。请换一个文件，或重新导出后再上传。"
            }
            EvidenceError::Executable { .. } => {
                "这个文件里含有程序、脚本、网页或宏，不能接收。请只上传普通的文档、图片、录音或视频。"
            }
            EvidenceError::InvalidOffice { .. } => {
                "这个文件不是有效的Word、Excel或PowerPoint文档。请用办公软件另存为docx、xlsx、pptx或PDF后再上传。"
            }
            EvidenceError::ArchiveTooLarge { .. } => {
                "这个文档解压后太大或包含的部件太多，不能接收。请另存为PDF后再上传。"
            }
        }
    }
}

pub(crate) fn unreadable(kind: &'static str, why: impl std::fmt::Display) -> EvidenceError {
    EvidenceError::Unreadable {
        kind,
        why: why.to_string(),
    }
}

/// Decides what `data` is from its content (never its name) and returns it cleaned.
///
/// Accepted: JPEG, PNG, WebP, HEIC/HEIF/AVIF, GIF (comment and
/// application extensions removed) and BMP images (no EXIF; copied as sent), PDF, docx/xlsx/pptx, audio and video (copied as sent). Refused: everything
/// else, including legacy binary Office files (.doc/.xls/.ppt: their author fields and macros
/// cannot be removed safely), TIFF (an EXIF container through and through), and plain ZIPs.
///
/// Errors: see [`EvidenceError`]. A ZIP is never typed from its first bytes: [`office`] opens it.
pub fn clean(data: Vec<u8>) -> Result<Cleaned, EvidenceError> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return office::clean(&data);
    }
    let detected = infer::get(&data).map(|t| (t.mime_type(), t.matcher_type()));
    let (mime, kind) = match detected {
        Some(d) => d,
        None => {
            return Err(EvidenceError::Unsupported {
                detected: "unrecognised content".into(),
            })
        }
    };
    let removed = |bytes: Vec<u8>, removed: Vec<String>| Cleaned {
        content_type: mime.to_string(),
        bytes,
        removed: tidy(removed),
    };
    match mime {
        "image/jpeg" => image::clean_jpeg(data).map(|(b, r)| removed(b, r)),
        "image/png" => image::clean_png(data).map(|(b, r)| removed(b, r)),
        "image/webp" => image::clean_webp(data).map(|(b, r)| removed(b, r)),
        "image/heif" | "image/avif" => {
            let mut data = data;
            let r = isobmff::clean(&mut data)?;
            Ok(removed(data, r))
        }
        "image/gif" => image::clean_gif(&data).map(|(b, r)| removed(b, r)),
        "image/bmp" => Ok(removed(data, Vec::new())),
        "application/pdf" => pdf::clean(&data).map(|(b, r)| removed(b, r)),
        _ if matches!(kind, infer::MatcherType::Audio | infer::MatcherType::Video) => {
            Ok(removed(data, Vec::new()))
        }
        other => Err(EvidenceError::Unsupported {
            detected: other.to_string(),
        }),
    }
}

/// Whether files of this type are stored as sent because their metadata cannot be removed
/// (audio and video). The forms warn about these.
pub fn is_uncleaned_kind(content_type: &str) -> bool {
    content_type.starts_with("audio/") || content_type.starts_with("video/")
}

/// The file extension for a stored type, for staff downloads (`evidence-<id>.<ext>`).
pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/bmp" => "bmp",
        "image/heif" => "heic",
        "image/avif" => "avif",
        office::DOCX => "docx",
        office::XLSX => "xlsx",
        office::PPTX => "pptx",
        "audio/mpeg" => "mp3",
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" => "m4a",
        "audio/aac" => "aac",
        "audio/amr" => "amr",
        "audio/ogg" => "ogg",
        "audio/x-wav" | "audio/wav" => "wav",
        "audio/x-flac" | "audio/flac" => "flac",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/x-matroska" => "mkv",
        "video/webm" => "webm",
        "video/x-msvideo" => "avi",
        "video/3gpp" => "3gp",
        "video/mpeg" => "mpg",
        "video/x-flv" => "flv",
        _ => "bin",
    }
}

fn tidy(mut removed: Vec<String>) -> Vec<String> {
    removed.sort();
    removed.dedup();
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_legacy_office_are_refused() {
        assert!(matches!(
            clean(b"just some words".to_vec()),
            Err(EvidenceError::Unsupported { .. })
        ));
        // An OLE compound file (.doc/.xls/.ppt).
        let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        ole.resize(4096, 0);
        assert!(matches!(clean(ole), Err(EvidenceError::Unsupported { .. })));
    }

    #[test]
    fn audio_is_kept_as_sent() {
        let mut mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00".to_vec();
        mp3.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        mp3.resize(2000, 7);
        let c = clean(mp3.clone()).unwrap();
        assert_eq!(c.content_type, "audio/mpeg");
        assert_eq!(c.bytes, mp3);
        assert!(c.removed.is_empty());
        assert!(is_uncleaned_kind(&c.content_type));
    }

    #[test]
    fn office_types_download_with_their_own_extension() {
        assert_eq!(extension(office::DOCX), "docx");
        assert_eq!(extension(office::XLSX), "xlsx");
        assert_eq!(extension(office::PPTX), "pptx");
        assert_eq!(extension("image/heif"), "heic");
        assert_eq!(extension("application/x-unknown"), "bin");
    }
}
