//! Reading an HTML form posted as `multipart/form-data`: text fields as they come, and files
//! streamed into encrypted storage like the API does (`AttachmentStore::store`), never keeping
//! the client's file name.
//!
//! The CSRF token is checked before the first file touches the disk: the forms put the hidden
//! token first, and browsers send fields in document order. A file problem (too large, wrong
//! type) does not end the reading: the rest is read — files drained, text kept — so the form can
//! come back with everything the reporter typed and the problem next to the file input.

use actix_multipart::Multipart;
use futures_util::StreamExt;

use super::csrf::{self, CsrfError};
use crate::reports::staged::StagedFiles;
use crate::reports::storage::StoreError;
use crate::reports::submit::StagedFile;
use crate::reports::ReportsState;

/// At most this much text in one field (a 10,000-character description is ~30 KB).
const FIELD_MAX: usize = 64 * 1024;
/// At most this much text in all fields.
const TEXT_MAX: usize = 256 * 1024;
const FIELDS_MAX: usize = 200;

/// A file the form could not take. The page says which, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    TooLarge {
        limit_bytes: u64,
    },
    Unsupported,
    Empty,
    TooMany {
        max: usize,
    },
    Interrupted,
    /// Could not be cleaned of metadata, or holds programs (`crate::evidence`).
    Refused(crate::evidence::EvidenceError),
}

impl FileProblem {
    pub fn status(&self) -> actix_web::http::StatusCode {
        use actix_web::http::StatusCode;
        match self {
            FileProblem::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            FileProblem::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            FileProblem::Interrupted => StatusCode::BAD_REQUEST,
            FileProblem::Empty | FileProblem::TooMany { .. } | FileProblem::Refused(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            FileProblem::TooLarge { limit_bytes } => format!(
                "文件太大：每个文件不能超过 {} MB。请压缩图片或视频、或分成几个文件后重新选择。",
                (*limit_bytes as f64 / (1024.0 * 1024.0)).round().max(1.0)
            ),
            FileProblem::Unsupported => {
                "不支持这种文件。只能上传图片、PDF、办公文档（Word、Excel 等）、录音或视频，请重新选择。"
                    .to_string()
            }
            FileProblem::Empty => crate::domain::report::file_empty().message_zh,
            FileProblem::TooMany { max } => crate::domain::report::too_many_files(*max).message_zh,
            FileProblem::Interrupted => "文件上传中断了，请检查网络后重新选择文件再提交。".into(),
            FileProblem::Refused(why) => why.message_zh().to_string(),
        }
    }
}

/// Why a posted form could not be read at all.
#[derive(Debug)]
pub enum ReadError {
    Csrf(CsrfError),
    /// Not a well-formed multipart body.
    Malformed,
    /// More text than any form of ours sends.
    TooMuchText,
}

/// A typed value with the whitespace around it trimmed, but never a control character: `str::trim`
/// would drop a trailing U+0085 (NEL is White_Space) and the value would pass where the API
/// refuses it. Controls stay, so validation refuses them (`control_character`, rule 1 of
/// `domain::text`) exactly as it does for JSON.
pub fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() && !crate::domain::text::is_forbidden(c))
}

/// A posted form: its text fields, and its files staged to encrypted storage.
pub struct PostedForm {
    fields: Vec<(String, String)>,
    /// Deleted when dropped unless committed ([`StagedFiles`]).
    pub files: StagedFiles,
    /// The first problem with a file; when set, `files` is empty (the staged ones were removed).
    pub file_problem: Option<FileProblem>,
    /// Whether the reporter chose any file (even one that was refused).
    pub files_chosen: bool,
}

impl PostedForm {
    /// The first value of a field, as sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value, or "".
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    /// Every text field, as sent, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// Every value of a field (checkboxes, repeated inputs), in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// Reads and drops the rest of a field. `false` when the budget ran out first: stop reading.
async fn drain<S, E>(field: &mut S, budget: &mut u64) -> Result<bool, ReadError>
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
{
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|_| ReadError::Malformed)?;
        *budget = budget.saturating_sub(chunk.len() as u64);
        if *budget == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

fn store_problem(e: StoreError) -> FileProblem {
    match e {
        StoreError::TooLarge { limit } => FileProblem::TooLarge { limit_bytes: limit },
        StoreError::UnsupportedType { .. } => FileProblem::Unsupported,
        StoreError::Empty => FileProblem::Empty,
        StoreError::Refused(why) => FileProblem::Refused(why),
        StoreError::Upload(_) | StoreError::Io(_) => FileProblem::Interrupted,
    }
}

/// Reads the form. `csrf_cookie` is the nonce from the request's cookie; the token field is
/// checked against it before any file is stored, and in any case before this returns.
pub async fn read(
    state: &ReportsState,
    multipart: Multipart,
    csrf_cookie: Option<&str>,
    now: i64,
) -> Result<PostedForm, ReadError> {
    let key = state.csrf_key();
    read_checked(state, multipart, &|token| {
        csrf::verify(&key, token, csrf_cookie, now)
    })
    .await
}

/// [`read`] with the CSRF check given: `check` gets the form's `csrf_token` (before the first
/// file is stored, and in any case before this returns). The staff console passes its
/// session-bound check (`console::form`).
pub async fn read_checked(
    state: &ReportsState,
    mut multipart: Multipart,
    check: &dyn Fn(Option<&str>) -> Result<(), CsrfError>,
) -> Result<PostedForm, ReadError> {
    let mut form = PostedForm {
        fields: Vec::new(),
        files: StagedFiles::new(&state.store),
        file_problem: None,
        files_chosen: false,
    };
    let mut csrf_checked = false;
    let mut text_bytes = 0usize;
    // After a file problem, further uploads are read and dropped, up to this much.
    let mut drain_budget = state
        .settings
        .max_attachment_bytes
        .saturating_mul(state.settings.max_attachments as u64 + 1);

    let outcome: Result<(), ReadError> = async {
        while let Some(field) = multipart.next().await {
            let mut field = field.map_err(|_| ReadError::Malformed)?;
            if form.fields.len() >= FIELDS_MAX {
                return Err(ReadError::TooMuchText);
            }
            let name = field.name().unwrap_or_default().to_string();
            let filename = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .map(str::to_string);
            match filename {
                None => {
                    let mut buf = Vec::new();
                    while let Some(chunk) = field.next().await {
                        let chunk = chunk.map_err(|_| ReadError::Malformed)?;
                        text_bytes += chunk.len();
                        if buf.len() + chunk.len() > FIELD_MAX || text_bytes > TEXT_MAX {
                            return Err(ReadError::TooMuchText);
                        }
                        buf.extend_from_slice(&chunk);
                    }
                    let value = String::from_utf8(buf).map_err(|_| ReadError::Malformed)?;
                    form.fields.push((name, value));
                }
                // A file input left empty still sends a part, with no name and no bytes.
                Some(filename) if filename.is_empty() => {
                    while let Some(chunk) = field.next().await {
                        chunk.map_err(|_| ReadError::Malformed)?;
                    }
                }
                Some(_) => {
                    if !csrf_checked {
                        check(form.get(csrf::FIELD)).map_err(ReadError::Csrf)?;
                        csrf_checked = true;
                    }
                    form.files_chosen = true;
                    if form.file_problem.is_some() {
                        if !drain(&mut field, &mut drain_budget).await? {
                            return Ok(());
                        }
                        continue;
                    }
                    if form.files.len() >= state.settings.max_attachments {
                        form.file_problem = Some(FileProblem::TooMany {
                            max: state.settings.max_attachments,
                        });
                        form.files.discard();
                        continue;
                    }
                    let attachment_id = uuid::Uuid::new_v4().to_string();
                    // Fused: after a refusal the rest is drained, and a finished field must not
                    // be polled again.
                    let mut body = (&mut field).fuse();
                    match state
                        .store
                        .store(
                            &attachment_id,
                            &mut body,
                            state.settings.max_attachment_bytes,
                        )
                        .await
                    {
                        Ok(file) => form.files.push(StagedFile {
                            attachment_id,
                            file,
                        }),
                        Err(e) => {
                            form.file_problem = Some(store_problem(e));
                            form.files.discard();
                            // The rest of an oversize file, within the budget.
                            if !drain(&mut body, &mut drain_budget).await? {
                                return Ok(());
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    let outcome = outcome.and_then(|()| {
        if csrf_checked {
            Ok(())
        } else {
            check(form.get(csrf::FIELD)).map_err(ReadError::Csrf)
        }
    });
    // On an error `form` drops, and its staged files with it.
    outcome.map(|()| form)
}
