//! An image opened for linting: the file and its decoded container.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vhdlint_disk::{Container, FileSource, SharedSource};

/// A local image file, opened read-only.
pub struct Image {
    pub path: PathBuf,
    pub file: Arc<FileSource>,
    pub container: Container,
}

impl Image {
    /// Opens `path`. Fails only when the file cannot be opened at all; anything it holds is
    /// a lint result.
    pub fn open(path: &Path) -> Result<Image, vhdlint_disk::Error> {
        let file = Arc::new(FileSource::open(path)?);
        let container = Container::open(file.clone() as SharedSource);
        Ok(Image {
            path: path.to_owned(),
            file,
            container,
        })
    }
}
