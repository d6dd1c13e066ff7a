//! Where scans come from: the frame-source seam.
//!
//! [`FrameSource`] yields camera-like frames (luma images) or already-decoded code texts (a
//! keyboard-wedge scanner on stdin). Sources: a directory of image files in name order (replay
//! and tests), single image files, stdin lines, and a live camera through nokhwa behind the
//! `camera` cargo feature. A bad item (unreadable file) is an `Err` for that item only: the run
//! loop reports it and goes on.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use image::GrayImage;

use crate::decode::{DecodeError, load_luma};

/// One input item.
#[derive(Debug)]
pub enum Input {
    /// A frame to decode.
    Frame { image: GrayImage, label: String },
    /// A code read by a hardware scanner.
    Code { text: Vec<u8>, label: String },
}

/// Why a source could not give an item.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("cannot list {path}: {source}")]
    List { path: String, source: std::io::Error },
    #[error("stdin: {0}")]
    Stdin(std::io::Error),
    #[error("camera: {0}")]
    Camera(String),
}

/// A stream of inputs. `None` ends the stream.
pub trait FrameSource {
    fn next_input(&mut self) -> Option<Result<Input, SourceError>>;
}

/// Image files in a fixed order.
pub struct FileFrames {
    files: std::vec::IntoIter<PathBuf>,
}

impl FileFrames {
    /// The given files, in order.
    pub fn files(files: Vec<PathBuf>) -> FileFrames {
        FileFrames {
            files: files.into_iter(),
        }
    }

    /// Every regular file of a directory, sorted by name.
    pub fn dir(dir: &Path) -> Result<FileFrames, SourceError> {
        let list = |source| SourceError::List {
            path: dir.display().to_string(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(list)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        Ok(FileFrames::files(files))
    }
}

impl FrameSource for FileFrames {
    fn next_input(&mut self) -> Option<Result<Input, SourceError>> {
        let path = self.files.next()?;
        Some(
            load_luma(&path)
                .map(|image| Input::Frame {
                    image,
                    label: path.display().to_string(),
                })
                .map_err(SourceError::from),
        )
    }
}

/// One code per line from a reader (stdin of a keyboard-wedge or serial scanner).
pub struct LineCodes<R> {
    reader: R,
    line: u64,
}

impl<R: BufRead> LineCodes<R> {
    pub fn new(reader: R) -> LineCodes<R> {
        LineCodes { reader, line: 0 }
    }
}

/// Longest line kept from a scanner; longer input is cut (and then rejected as not a ticket).
const MAX_LINE: u64 = 4096;

impl<R: BufRead> FrameSource for LineCodes<R> {
    fn next_input(&mut self) -> Option<Result<Input, SourceError>> {
        loop {
            let mut buf = Vec::new();
            let mut limited = (&mut self.reader).take(MAX_LINE);
            match limited.read_until(b'\n', &mut buf) {
                Ok(0) => return None,
                Ok(_) => {
                    if !buf.ends_with(b"\n") && buf.len() as u64 == MAX_LINE {
                        // Drop the rest of an over-long line.
                        let mut rest = Vec::new();
                        if let Err(e) = self.reader.read_until(b'\n', &mut rest) {
                            return Some(Err(SourceError::Stdin(e)));
                        }
                    }
                    self.line += 1;
                    while buf.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                        buf.pop();
                    }
                    if buf.is_empty() {
                        continue;
                    }
                    return Some(Ok(Input::Code {
                        text: buf,
                        label: format!("line {}", self.line),
                    }));
                }
                Err(e) => return Some(Err(SourceError::Stdin(e))),
            }
        }
    }
}

use std::io::Read as _;

/// A live camera (nokhwa, V4L2 on Linux).
#[cfg(feature = "camera")]
pub struct CameraFrames {
    cam: nokhwa::Camera,
    n: u64,
}

#[cfg(feature = "camera")]
impl CameraFrames {
    /// Opens camera `index`; a missing device is a clean error.
    pub fn open(index: u32) -> Result<CameraFrames, SourceError> {
        use nokhwa::pixel_format::LumaFormat;
        use nokhwa::utils::{CameraIndex, RequestedFormat, RequestedFormatType};
        let fmt = RequestedFormat::new::<LumaFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
        let mut cam = nokhwa::Camera::new(CameraIndex::Index(index), fmt)
            .map_err(|e| SourceError::Camera(format!("cannot open camera {index}: {e}")))?;
        cam.open_stream()
            .map_err(|e| SourceError::Camera(format!("cannot start camera {index}: {e}")))?;
        Ok(CameraFrames { cam, n: 0 })
    }
}

#[cfg(feature = "camera")]
impl FrameSource for CameraFrames {
    fn next_input(&mut self) -> Option<Result<Input, SourceError>> {
        use nokhwa::pixel_format::LumaFormat;
        self.n += 1;
        let frame = match self.cam.frame() {
            Ok(f) => f,
            Err(e) => return Some(Err(SourceError::Camera(e.to_string()))),
        };
        Some(
            frame
                .decode_image::<LumaFormat>()
                .map(|image| Input::Frame {
                    image,
                    label: format!("camera frame {}", self.n),
                })
                .map_err(|e| SourceError::Camera(e.to_string())),
        )
    }
}

/// Opens camera `index`, or explains that this build has no camera support.
pub fn open_camera(index: u32) -> Result<Box<dyn FrameSource>, SourceError> {
    #[cfg(feature = "camera")]
    {
        Ok(Box::new(CameraFrames::open(index)?))
    }
    #[cfg(not(feature = "camera"))]
    {
        Err(SourceError::Camera(format!(
            "camera {index}: this gate-agent was built without camera support (rebuild with `--features camera`)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_lines_are_split_trimmed_and_blank_lines_skipped() {
        let input = b"OG1:AAA\r\n\r\nhttps://x\nlast-without-newline".to_vec();
        let mut src = LineCodes::new(std::io::Cursor::new(input));
        let mut texts = Vec::new();
        while let Some(Ok(Input::Code { text, .. })) = src.next_input() {
            texts.push(String::from_utf8(text).unwrap());
        }
        assert_eq!(texts, ["OG1:AAA", "https://x", "last-without-newline"]);
    }

    #[test]
    fn an_endless_line_is_cut_instead_of_filling_memory() {
        let mut input = vec![b'A'; 100_000];
        input.extend_from_slice(b"\nOG1:NEXT\n");
        let mut src = LineCodes::new(std::io::Cursor::new(input));
        let Some(Ok(Input::Code { text, .. })) = src.next_input() else {
            panic!("a code")
        };
        assert_eq!(text.len() as u64, MAX_LINE);
        let Some(Ok(Input::Code { text, .. })) = src.next_input() else {
            panic!("a code")
        };
        assert_eq!(text, b"OG1:NEXT");
    }

    #[test]
    fn a_directory_source_gives_an_error_for_a_bad_file_and_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), b"garbage").unwrap();
        let img = GrayImage::from_pixel(30, 30, image::Luma([255]));
        img.save(dir.path().join("b.png")).unwrap();
        let mut src = FileFrames::dir(dir.path()).unwrap();
        assert!(matches!(src.next_input(), Some(Err(_))));
        assert!(matches!(src.next_input(), Some(Ok(Input::Frame { .. }))));
        assert!(src.next_input().is_none());
    }

    #[cfg(not(feature = "camera"))]
    #[test]
    fn without_the_camera_feature_opening_a_camera_is_a_clean_error() {
        let err = open_camera(0).err().unwrap();
        assert!(err.to_string().contains("--features camera"), "{err}");
    }
}
