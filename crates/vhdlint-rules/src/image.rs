//! An image opened for linting: its bytes and its decoded container.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vhdlint_disk::{Container, FileSource, SharedSource};

/// An image opened for linting, read-only.
pub struct Image {
    /// How the image is named in reports: its path, or its address.
    pub path: PathBuf,
    /// The image's bytes.
    pub source: SharedSource,
    /// The local file behind `source`, when there is one (the surface scan needs it).
    pub local: Option<Arc<FileSource>>,
    pub container: Container,
}

impl Image {
    /// Opens the local file `path`. Fails only when the file cannot be opened at all; anything
    /// it holds is a lint result.
    pub fn open(path: &Path) -> Result<Image, vhdlint_disk::Error> {
        let file = Arc::new(FileSource::open(path)?);
        let mut image = Image::from_source(path, file.clone() as SharedSource);
        image.local = Some(file);
        Ok(image)
    }

    /// An image read through any byte source (a remote blob, bytes in memory). Checks that
    /// need the local file report skipped.
    pub fn from_source(name: impl Into<PathBuf>, source: SharedSource) -> Image {
        let container = Container::open(source.clone());
        Image {
            path: name.into(),
            source,
            local: None,
            container,
        }
    }
}
