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

/// One code per line from a reader (stdin of a keyboard-wedge or serial scanner). A line ends at
/// LF, CR or CRLF: scanners are configured with any of the three suffixes. A CR ends the code at
/// once (a scanner that sends only CR sends nothing more until the next scan); an LF right after
/// it is the same line end, not a blank line.
pub struct LineCodes<R> {
    reader: R,
    line: u64,
    /// The previous line ended in CR: an LF first thing is its second half.
    after_cr: bool,
}

impl<R: BufRead> LineCodes<R> {
    pub fn new(reader: R) -> LineCodes<R> {
        LineCodes {
            reader,
            line: 0,
            after_cr: false,
        }
    }

    /// Reads up to the next line end (consumed, not returned), keeping at most [`MAX_LINE`]
    /// bytes of the line. `Ok(None)` at the end of input with nothing read.
    fn read_line(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        let mut read_any = false;
        loop {
            let avail = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(read_any.then_some(buf));
            }
            if std::mem::take(&mut self.after_cr) && avail[0] == b'\n' {
                self.reader.consume(1);
                continue;
            }
            read_any = true;
            let end = avail.iter().position(|&b| b == b'\n' || b == b'\r');
            let part = &avail[..end.unwrap_or(avail.len())];
            let room = (MAX_LINE as usize).saturating_sub(buf.len());
            buf.extend_from_slice(&part[..part.len().min(room)]);
            match end {
                Some(i) => {
                    self.after_cr = avail[i] == b'\r';
                    self.reader.consume(i + 1);
                    return Ok(Some(buf));
                }
                None => {
                    let n = avail.len();
                    self.reader.consume(n);
                }
            }
        }
    }
}

/// Longest line kept from a scanner; longer input is cut (and then rejected as not a ticket).
const MAX_LINE: u64 = 4096;

impl<R: BufRead> FrameSource for LineCodes<R> {
    fn next_input(&mut self) -> Option<Result<Input, SourceError>> {
        loop {
            match self.read_line() {
                Ok(None) => return None,
                Ok(Some(buf)) => {
                    self.line += 1;
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

/// What `run --camera N` asks of the camera (each None: the camera's fastest mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CameraRequest {
    /// Width x height, e.g. (1280, 720): the closest mode the camera has.
    pub resolution: Option<(u32, u32)>,
    /// Frames per second: the closest the camera has at that resolution.
    pub fps: Option<u32>,
}

/// A camera as `gate-agent cameras` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraListing {
    pub index: u32,
    pub name: String,
    pub description: String,
    /// Modes, e.g. `1280x720 MJPEG 30 fps`.
    pub modes: Vec<String>,
}

/// A live camera (nokhwa, V4L2 on Linux): a USB camera at 720p or 1080p, MJPEG or YUYV.
#[cfg(all(feature = "camera", target_os = "linux"))]
pub struct CameraFrames {
    cam: nokhwa::Camera,
    n: u64,
}

#[cfg(all(feature = "camera", target_os = "linux"))]
mod camera {
    use nokhwa::pixel_format::LumaFormat;
    use nokhwa::utils::{CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType};

    use super::{CameraFrames, CameraListing, CameraRequest, SourceError};

    /// The formats the decoder can turn into luma (what V4L2 USB cameras give).
    const FORMATS: [FrameFormat; 3] = [FrameFormat::MJPEG, FrameFormat::YUYV, FrameFormat::GRAY];

    fn cam_err(index: u32, what: &str) -> impl Fn(nokhwa::NokhwaError) -> SourceError {
        let what = what.to_owned();
        move |e| {
            SourceError::Camera(format!(
                "cannot {what} camera {index}: {e} (is a V4L2 camera plugged in? `gate-agent cameras` lists them)"
            ))
        }
    }

    /// The best mode for a request: closest resolution, then closest frame rate, MJPEG first.
    pub(super) fn choose(modes: &[CameraFormat], req: CameraRequest) -> Option<CameraFormat> {
        modes
            .iter()
            .filter(|m| FORMATS.contains(&m.format()))
            .min_by_key(|m| {
                let r = m.resolution();
                let res = req.resolution.map_or(0, |(w, h)| {
                    (i64::from(r.width()) - i64::from(w)).pow(2) + (i64::from(r.height()) - i64::from(h)).pow(2)
                });
                let fps = req.fps.map_or(-i64::from(m.frame_rate()), |f| {
                    (i64::from(m.frame_rate()) - i64::from(f)).abs()
                });
                let fmt = FORMATS.iter().position(|f| *f == m.format()).unwrap_or(9);
                (res, fps, fmt)
            })
            .copied()
    }

    impl CameraFrames {
        /// Opens camera `index` in the mode closest to `req`; a missing device is a clean error.
        pub fn open(index: u32, req: CameraRequest) -> Result<CameraFrames, SourceError> {
            let fastest = RequestedFormat::new::<LumaFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
            let mut cam = nokhwa::Camera::new(CameraIndex::Index(index), fastest).map_err(cam_err(index, "open"))?;
            if req != CameraRequest::default() {
                let modes = cam
                    .compatible_camera_formats()
                    .map_err(cam_err(index, "list the modes of"))?;
                let chosen = choose(&modes, req)
                    .ok_or_else(|| SourceError::Camera(format!("camera {index} has no MJPEG, YUYV or grey mode")))?;
                cam.set_camera_requset(RequestedFormat::new::<LumaFormat>(RequestedFormatType::Exact(chosen)))
                    .map_err(cam_err(index, "set the mode of"))?;
            }
            cam.open_stream().map_err(cam_err(index, "start"))?;
            tracing::info!("camera {index}: {}", cam.camera_format());
            Ok(CameraFrames { cam, n: 0 })
        }
    }

    pub(super) fn list() -> Result<Vec<CameraListing>, SourceError> {
        let infos = nokhwa::query(nokhwa::utils::ApiBackend::Auto)
            .map_err(|e| SourceError::Camera(format!("cannot list cameras: {e}")))?;
        let mut out = Vec::new();
        for info in infos {
            let CameraIndex::Index(index) = *info.index() else {
                continue;
            };
            let any = RequestedFormat::new::<LumaFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
            let modes = nokhwa::Camera::new(CameraIndex::Index(index), any)
                .and_then(|mut c| c.compatible_camera_formats())
                .map(|mut ms| {
                    ms.sort_by_key(|m| {
                        (
                            std::cmp::Reverse(m.resolution().width()),
                            m.format().to_string(),
                            std::cmp::Reverse(m.frame_rate()),
                        )
                    });
                    ms.iter()
                        .map(|m| format!("{} {} {} fps", m.resolution(), m.format(), m.frame_rate()))
                        .collect()
                })
                .unwrap_or_else(|e| vec![format!("modes unknown: {e}")]);
            out.push(CameraListing {
                index,
                name: info.human_name(),
                description: info.description().to_owned(),
                modes,
            });
        }
        Ok(out)
    }
}

#[cfg(all(feature = "camera", target_os = "linux"))]
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

/// Why this build cannot use a camera.
#[cfg(not(all(feature = "camera", target_os = "linux")))]
fn no_camera_support() -> SourceError {
    SourceError::Camera(
        "this gate-agent was built without camera support (it needs Linux and the `camera` feature, on by default)"
            .into(),
    )
}

/// Opens camera `index` in the mode closest to `req`, or explains why it cannot.
pub fn open_camera(index: u32, req: CameraRequest) -> Result<Box<dyn FrameSource>, SourceError> {
    #[cfg(all(feature = "camera", target_os = "linux"))]
    {
        Ok(Box::new(CameraFrames::open(index, req)?))
    }
    #[cfg(not(all(feature = "camera", target_os = "linux")))]
    {
        let _ = (index, req);
        Err(no_camera_support())
    }
}

/// Every camera with its modes (empty: none plugged in).
pub fn list_cameras() -> Result<Vec<CameraListing>, SourceError> {
    #[cfg(all(feature = "camera", target_os = "linux"))]
    {
        camera::list()
    }
    #[cfg(not(all(feature = "camera", target_os = "linux")))]
    {
        Err(no_camera_support())
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
    fn carriage_return_only_lf_only_and_crlf_scanners_all_give_one_code_per_scan() {
        let input = b"OG1:CR\rOG1:CR2\rOG1:LF\nOG1:CRLF\r\n\r\rOG1:LAST".to_vec();
        let mut src = LineCodes::new(std::io::Cursor::new(input));
        let mut texts = Vec::new();
        while let Some(Ok(Input::Code { text, .. })) = src.next_input() {
            texts.push(String::from_utf8(text).unwrap());
        }
        assert_eq!(texts, ["OG1:CR", "OG1:CR2", "OG1:LF", "OG1:CRLF", "OG1:LAST"]);
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

    #[cfg(not(all(feature = "camera", target_os = "linux")))]
    #[test]
    fn without_camera_support_opening_a_camera_is_a_clean_error() {
        let err = open_camera(0, CameraRequest::default()).err().unwrap();
        assert!(err.to_string().contains("without camera support"), "{err}");
        assert!(list_cameras().is_err());
    }

    #[cfg(all(feature = "camera", target_os = "linux"))]
    #[test]
    fn a_camera_that_is_not_there_is_a_clean_error() {
        let err = open_camera(97, CameraRequest::default()).err().unwrap();
        assert!(err.to_string().contains("cannot open camera 97"), "{err}");
    }

    #[cfg(all(feature = "camera", target_os = "linux"))]
    #[test]
    fn the_closest_camera_mode_is_chosen_mjpeg_first() {
        use nokhwa::utils::{CameraFormat, FrameFormat};
        let modes = [
            CameraFormat::new_from(1920, 1080, FrameFormat::YUYV, 5),
            CameraFormat::new_from(1920, 1080, FrameFormat::MJPEG, 30),
            CameraFormat::new_from(1280, 720, FrameFormat::YUYV, 10),
            CameraFormat::new_from(1280, 720, FrameFormat::MJPEG, 60),
            CameraFormat::new_from(1280, 720, FrameFormat::MJPEG, 30),
            CameraFormat::new_from(640, 480, FrameFormat::NV12, 30),
        ];
        let pick = |resolution, fps| camera::choose(&modes, CameraRequest { resolution, fps }).unwrap();
        assert_eq!(pick(Some((1280, 720)), Some(30)), modes[4]);
        assert_eq!(pick(Some((1280, 700)), None), modes[3]);
        assert_eq!(pick(Some((1920, 1080)), Some(5)), modes[0]);
        assert_eq!(pick(None, None), modes[3]);
    }
}
