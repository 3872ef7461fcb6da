//! Evidence staged to disk before its database transaction: a guard that deletes the files
//! unless the transaction that attaches them committed (issue 8: no orphaned evidence on a
//! refused submission, an idempotent replay, an error or a dropped request).

use std::path::PathBuf;

use super::storage::AttachmentStore;
use super::submit::StagedFile;

/// Files already encrypted to the attachment store but not yet attached to a row. Dropping
/// the guard deletes every file it holds; [`StagedFiles::commit`] (called once the attaching
/// transaction has committed) keeps them. Reads as a slice of [`StagedFile`].
pub struct StagedFiles {
    dir: PathBuf,
    files: Vec<StagedFile>,
}

impl StagedFiles {
    /// An empty guard for files staged in `store`.
    pub fn new(store: &AttachmentStore) -> StagedFiles {
        StagedFiles {
            dir: store.dir().to_path_buf(),
            files: Vec::new(),
        }
    }

    /// Takes charge of one more staged file.
    pub fn push(&mut self, file: StagedFile) {
        self.files.push(file);
    }

    /// Deletes every file held now and keeps the guard, empty, for further files.
    pub fn discard(&mut self) {
        for f in self.files.drain(..) {
            remove(&self.dir, &f);
        }
    }

    /// Keeps the files on disk for good and hands them back. Call only after the transaction
    /// that recorded them as attachments has committed.
    pub fn commit(mut self) -> Vec<StagedFile> {
        std::mem::take(&mut self.files)
    }
}

impl std::ops::Deref for StagedFiles {
    type Target = [StagedFile];

    fn deref(&self) -> &[StagedFile] {
        &self.files
    }
}

impl<'a> IntoIterator for &'a StagedFiles {
    type Item = &'a StagedFile;
    type IntoIter = std::slice::Iter<'a, StagedFile>;

    fn into_iter(self) -> Self::IntoIter {
        self.files.iter()
    }
}

impl Drop for StagedFiles {
    fn drop(&mut self) {
        self.discard();
    }
}

/// Deletes one staged file. Already gone is fine; any other failure is logged with the random
/// storage name only — never anything the reporter sent.
fn remove(dir: &std::path::Path, f: &StagedFile) {
    match std::fs::remove_file(dir.join(&f.file.storage_name)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::error!(
            storage_name = %f.file.storage_name,
            error_kind = ?e.kind(),
            "could not delete a staged attachment that was not attached"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::web::Bytes;

    async fn stage(store: &AttachmentStore, id: &str) -> StagedFile {
        let mut mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00\xFF\xFB\x90\x00".to_vec();
        mp3.extend_from_slice(&[7u8; 200]);
        let body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from(mp3))]);
        let file = store.store(id, body, 1 << 20).await.unwrap();
        StagedFile {
            attachment_id: id.to_string(),
            file,
        }
    }

    fn names_on_disk(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.join("attachments"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn dropping_the_guard_deletes_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = AttachmentStore::new(dir.path(), [3; 32]);
        let mut staged = StagedFiles::new(&store);
        staged.push(stage(&store, "a").await);
        staged.push(stage(&store, "b").await);
        assert_eq!(names_on_disk(dir.path()).len(), 2);
        // One already gone is not an error.
        std::fs::remove_file(store.path_of(&staged[0].file.storage_name)).unwrap();
        drop(staged);
        assert!(names_on_disk(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn committed_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = AttachmentStore::new(dir.path(), [3; 32]);
        let mut staged = StagedFiles::new(&store);
        staged.push(stage(&store, "a").await);
        staged.push(stage(&store, "b").await);
        let mut expected: Vec<String> =
            staged.iter().map(|f| f.file.storage_name.clone()).collect();
        expected.sort();
        let kept = staged.commit();
        assert_eq!(kept.len(), 2);
        assert_eq!(names_on_disk(dir.path()), expected);
    }

    #[tokio::test]
    async fn discard_empties_the_guard_and_it_takes_more() {
        let dir = tempfile::tempdir().unwrap();
        let store = AttachmentStore::new(dir.path(), [3; 32]);
        let mut staged = StagedFiles::new(&store);
        staged.push(stage(&store, "a").await);
        staged.discard();
        assert!(staged.is_empty());
        assert!(names_on_disk(dir.path()).is_empty());
        staged.push(stage(&store, "b").await);
        let kept = staged.commit();
        assert_eq!(
            names_on_disk(dir.path()),
            vec![kept[0].file.storage_name.clone()]
        );
    }
}
