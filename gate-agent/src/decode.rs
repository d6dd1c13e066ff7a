//! QR decoding: zxing-cpp first, then rqrr wrapped in the preprocessing that measurably helps,
//! and the guards both need.
//!
//! zxing-cpp ([`crate::zxing`]) reads most codes in well under a millisecond; rqrr with the
//! locator and preprocessing below is the second opinion on frames where zxing-cpp finds
//! nothing (it reads some codes zxing-cpp misses, measured in BENCHMARKS.md). The passes, cheap
//! first, stop at the first pass that finds a code:
//!
//! Z0. in live mode, zxing-cpp's fast pass on a box around where the previous frame's code was
//!     ([`DecodeOptions::hint`]);
//! 0. on a live frame, the finder-pattern locator ([`crate::locate`]) first: with no eye at all
//!    in the frame, no decoder runs. Camera frames (long side at least [`HALF_MIN_SIDE`]) are
//!    searched 2x boxed down, in a buffer reused from frame to frame;
//! Z1. zxing-cpp's fast pass on that 2x boxed-down plane (a quarter of the pixels), then on the
//!     whole frame (a view of the luma plane, no copy). A quick look ends here;
//! Z2. zxing-cpp trying harder (inverted codes, finer finder search, downscaled copies), with
//!     its local then its global binariser: first on a crop around each group of eyes the
//!     locator saw, then on the whole frame (a file; a live frame only when it has a group of
//!     eyes). Each starts only when predicted (from the fast pass's cost per pixel) to end
//!     before the deadline;
//! 1. rqrr on a small crop around each group of eyes (rqrr's threshold, then the adaptive one),
//!    scaled so a module is about 3 pixels. With no eyes in a code's corner shape, a quick look
//!    of rqrr alone ends here;
//! 2. an integer box downscale of big frames to at most [`DecodeOptions::fast_side`] pixels,
//!    binarised by rqrr's own row threshold;
//! 3. the same image binarised by a local-mean adaptive threshold (integral image), which rescues
//!    blurred, low-contrast and unevenly lit codes;
//! 4. a 2x upscale of small images, or a less downscaled version of big ones, with both binarisers,
//!    and a finer-window adaptive threshold (order in `decode_luma`, measured in BENCHMARKS.md);
//!    for images small enough to be looked at as they are, thresholds at the local mean itself,
//!    last when rqrr is alone, right after the first full-image pass of step 4 behind zxing-cpp
//!    (there they are most of rqrr's rescues).
//!
//! The thresholds are computed here, rqrr's own one bit for bit without its per-pixel divisions,
//! the adaptive ones from one summed-area table per image shared by its passes.
//!
//! Guards: the input is capped (decoded images over [`MAX_PIXELS`] are refused, every rqrr pass
//! works on at most [`DecodeOptions::max_side`] pixels a side, zxing-cpp on at most
//! [`ZXING_MAX_SIDE`]); no pass starts after the deadline, and no rqrr or trying-harder zxing-cpp
//! pass when it is predicted to end after it; each rqrr pass runs on a worker thread that is abandoned (left to finish in
//! the background, at most [`MAX_ABANDONED`] at once) when it overruns the deadline; and every
//! call into either decoder runs under `catch_unwind`. Payloads are returned as raw bytes: a
//! code that is not UTF-8 is still reported (the `decode` command prints it as text).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use image::GrayImage;

use crate::locate;
use crate::zxing::{self, Effort, Rect};

/// Decoded images bigger than this many pixels are refused (a 4K frame is 8.3 MP).
pub const MAX_PIXELS: u64 = 40_000_000;

/// zxing-cpp is given images at most this many pixels a side (bigger ones are boxed down first).
pub const ZXING_MAX_SIDE: u32 = 4096;

/// Which decoders a call may use (both in production; one alone for comparisons and `--verbose`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Decoders {
    /// zxing-cpp first, rqrr with the locator where it finds nothing.
    #[default]
    Both,
    /// zxing-cpp's passes only.
    Zxing,
    /// rqrr with the locator and preprocessing only (the pipeline before zxing-cpp).
    Rqrr,
}

/// Which decoder read a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Zxing,
    Rqrr,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Zxing => "zxing-cpp",
            Engine::Rqrr => "rqrr",
        }
    }
}

/// Tuning of the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// The first pass works on images downscaled so that their long side is at most this.
    pub fast_side: u32,
    /// No pass works on more than this many pixels a side.
    pub max_side: u32,
    /// No new pass starts when it is predicted (from the cost per pixel of the passes already
    /// run) to end after this much time.
    pub deadline: Duration,
    /// Try the extra passes (adaptive threshold, other scales) when the fast one finds nothing.
    pub thorough: bool,
    /// Skip the full-frame passes, even when thorough, if the locator found no group of eyes at
    /// all. For a live camera, where the next frame is another chance; never for files.
    /// zxing-cpp's try-harder pass follows the same rule.
    pub full_frame_needs_eyes: bool,
    /// Where a code was in the previous frame: looked at first (live camera).
    pub hint: Option<Rect>,
    /// Which decoders to use.
    pub decoders: Decoders,
}

impl Default for DecodeOptions {
    fn default() -> DecodeOptions {
        DecodeOptions {
            fast_side: 960,
            max_side: 1280,
            deadline: Duration::from_millis(40),
            thorough: true,
            full_frame_needs_eyes: false,
            hint: None,
            decoders: Decoders::Both,
        }
    }
}

/// How a live camera spreads the expensive passes over frames. Most frames show nobody: every
/// frame gets a quick look (the locator, and rqrr only on a code's corner of eyes); every
/// [`LiveCadence::THOROUGH_EVERY`]-th frame gets the thorough passes if the locator sees a group
/// of eyes in it; and every frame shortly after a code was read is thorough, so a hard code that
/// was just read once keeps being read while it is held up.
///
/// The box where the last code was read is looked at first while that code is recent.
#[derive(Debug, Clone, Default)]
pub struct LiveCadence {
    frame: u64,
    last_code: Option<u64>,
    last_box: Option<Rect>,
}

impl LiveCadence {
    pub const THOROUGH_EVERY: u64 = 3;

    /// Options for the next frame.
    pub fn next_options(&mut self) -> DecodeOptions {
        self.frame += 1;
        let near_code = self
            .last_code
            .is_some_and(|f| self.frame - f <= 2 * Self::THOROUGH_EVERY);
        DecodeOptions {
            thorough: near_code || self.frame.is_multiple_of(Self::THOROUGH_EVERY),
            full_frame_needs_eyes: !near_code,
            hint: if near_code { self.last_box } else { None },
            ..DecodeOptions::default()
        }
    }

    /// Records what the frame gave.
    pub fn saw(&mut self, d: &Decoded) {
        if !d.codes.is_empty() {
            self.last_code = Some(self.frame);
            if d.position.is_some() {
                self.last_box = d.position;
            }
        }
    }
}

/// What one image gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Every distinct payload found, in the order found.
    pub codes: Vec<Vec<u8>>,
    /// Which decoder read each of `codes` (same order).
    pub found_by: Vec<Engine>,
    /// Where the first code read by zxing-cpp is (its box, in image pixels).
    pub position: Option<Rect>,
    /// zxing-cpp passes run (included in `passes`).
    pub zxing_passes: u32,
    /// Whether the code came from the box of the previous frame's code.
    pub found_at_hint: bool,
    /// Passes run.
    pub passes: u32,
    /// Panics caught inside rqrr, and zxing-cpp calls that failed.
    pub panics: u32,
    /// Passes abandoned because they ran past the deadline.
    pub timeouts: u32,
    /// The pass (1-based) that found the first code.
    pub found_in_pass: Option<u32>,
    /// Finder-pattern candidates ("eyes") the locator saw.
    pub eyes: u32,
    /// Groups of eyes that could be a code (before a quick look keeps only square corners).
    pub regions: u32,
    /// Whether the code came from a crop around the eyes rather than a full-frame pass.
    pub found_in_crop: bool,
    /// Wall time spent.
    pub elapsed: Duration,
}

/// Why an image file could not be decoded at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a readable PNG or JPEG image: {source}")]
    Image { path: String, source: image::ImageError },
}

/// Reads an image file (PNG or JPEG, size-limited) and converts it to luma.
pub fn load_luma(path: &Path) -> Result<GrayImage, DecodeError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| DecodeError::Io {
        path: p.clone(),
        source,
    })?;
    load_luma_bytes(&bytes).map_err(|source| DecodeError::Image { path: p, source })
}

/// Decodes image bytes (PNG or JPEG, size-limited) to luma.
pub fn load_luma_bytes(bytes: &[u8]) -> Result<GrayImage, image::ImageError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let img = reader.decode()?;
    if u64::from(img.width()) * u64::from(img.height()) > MAX_PIXELS {
        return Err(image::ImageError::Limits(image::error::LimitError::from_kind(
            image::error::LimitErrorKind::DimensionError,
        )));
    }
    Ok(img.into_luma8())
}

/// Averages k x k blocks (k >= 1). Integer arithmetic, one pass over the source.
pub fn box_downscale(img: &GrayImage, k: u32) -> GrayImage {
    if k <= 1 {
        return img.clone();
    }
    let (w, h) = (img.width() / k, img.height() / k);
    let src = img.as_raw();
    let sw = img.width() as usize;
    let mut out = vec![0u8; (w * h) as usize];
    let mut acc = vec![0u32; w as usize];
    let area = k * k;
    for oy in 0..h as usize {
        acc.iter_mut().for_each(|a| *a = 0);
        for dy in 0..k as usize {
            let row = &src[(oy * k as usize + dy) * sw..][..w as usize * k as usize];
            for (ox, chunk) in row.chunks_exact(k as usize).enumerate() {
                acc[ox] += chunk.iter().map(|&p| u32::from(p)).sum::<u32>();
            }
        }
        for (o, a) in out[oy * w as usize..][..w as usize].iter_mut().zip(&acc) {
            *o = (a / area) as u8;
        }
    }
    GrayImage::from_raw(w, h, out).expect("size matches")
}

/// Doubles an image with bilinear-ish interpolation (for small photos): output pixel (x, y) is
/// the floored mean of source pixels (x/2, y/2), the next one right and the next one down (both
/// clamped to the image), computed a row at a time.
fn upscale2(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut out = vec![0u8; 4 * w * h];
    if w == 0 {
        return GrayImage::new(0, 2 * h as u32);
    }
    let src = img.as_raw();
    let mut cols = vec![0u16; w];
    for (y, row) in out.chunks_exact_mut(2 * w).enumerate() {
        let sy = y / 2;
        let ny = (sy + (y & 1)).min(h - 1);
        let (a, b) = (&src[sy * w..][..w], &src[ny * w..][..w]);
        for ((c, &a), &b) in cols.iter_mut().zip(a).zip(b) {
            *c = u16::from(a) + u16::from(b);
        }
        for (i, pair) in row.chunks_exact_mut(2).enumerate() {
            let (c, n) = (cols[i], cols[(i + 1).min(w - 1)]);
            pair[0] = (c / 2) as u8;
            pair[1] = ((c + n) / 4) as u8;
        }
    }
    GrayImage::from_raw(2 * w as u32, 2 * h as u32, out).expect("size matches")
}

/// The summed-area table of an image: `(w + 1) * (h + 1)` entries, row 0 and column 0 zero.
fn integral_image(img: &GrayImage) -> Vec<u32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.as_raw();
    let mut integral = vec![0u32; (w + 1) * (h + 1)];
    for y in 0..h {
        let (above, below) = integral[y * (w + 1)..(y + 2) * (w + 1)].split_at_mut(w + 1);
        let mut row = 0u32;
        for ((o, &a), &p) in below[1..].iter_mut().zip(&above[1..]).zip(&src[y * w..][..w]) {
            row += u32::from(p);
            *o = a + row;
        }
    }
    integral
}

/// Local-mean adaptive threshold: true (black) where a pixel is darker than its neighbourhood's
/// mean by more than `bias` percent.
pub fn adaptive_threshold(img: &GrayImage, div: usize, bias: u32) -> Vec<bool> {
    adaptive_threshold_with(img, &integral_image(img), div, bias)
}

/// [`adaptive_threshold`] from the image's summed-area table (computed once per image and shared
/// by every threshold of it). The window is clipped at the edges; inside, where it is whole,
/// the rows are processed as straight slices.
fn adaptive_threshold_with(img: &GrayImage, integral: &[u32], div: usize, bias: u32) -> Vec<bool> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.as_raw();
    let r = (w.max(h) / div.max(1)).max(4);
    let keep = u64::from(100 - bias.min(100));
    let mut out = vec![false; w * h];
    // Columns whose window is whole: x - r >= 0 and x + r + 1 <= w.
    let (lo, hi) = (r.min(w), w.saturating_sub(r).max(r.min(w)));
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let top = &integral[y0 * (w + 1)..][..w + 1];
        let bottom = &integral[y1 * (w + 1)..][..w + 1];
        let row = &src[y * w..][..w];
        let dst = &mut out[y * w..][..w];
        let dy = (y1 - y0) as u64;
        let at = |x: usize| {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let sum = (bottom[x1] - bottom[x0]) - (top[x1] - top[x0]);
            u64::from(row[x]) * (x1 - x0) as u64 * dy * 100 < u64::from(sum) * keep
        };
        for x in (0..lo).chain(hi..w) {
            dst[x] = at(x);
        }
        let n = hi - lo;
        if n > 0 {
            let scale = (2 * r + 1) as u64 * dy * 100;
            let (b1, b0) = (&bottom[lo + r + 1..][..n], &bottom[lo - r..][..n]);
            let (t1, t0) = (&top[lo + r + 1..][..n], &top[lo - r..][..n]);
            for (i, (d, &p)) in dst[lo..hi].iter_mut().zip(&row[lo..hi]).enumerate() {
                let sum = (b1[i] - b0[i]) - (t1[i] - t0[i]);
                *d = u64::from(p) * scale < u64::from(sum) * keep;
            }
        }
    }
    out
}

/// rqrr's own binarisation (`PreparedImage::prepare`: a running mean along each row, back and
/// forth, of window w/8; black below 95% of it), bit for bit, with its divisions done as
/// multiplications by a precomputed reciprocal. rqrr divides twice per pixel in 64-bit.
fn rqrr_threshold(img: &GrayImage) -> Vec<bool> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.as_raw();
    let s = (w / 8).max(1) as u64;
    // Exact floor(n / d) whenever n * d < 2^64; for any side below 2^16, n < 2^35 (the running
    // mean stays below 256 * s, s < 2^13) and d < 2^21.
    let by = |d: u64| {
        let m = (1u128 << 64) / u128::from(d) + 1;
        move |n: u64| ((u128::from(n) * m) >> 64) as u64
    };
    let (div_s, div_t) = (by(s), by(200 * s));
    let mut out = vec![false; w * h];
    let mut row_average = vec![0u64; w];
    let (mut avg_v, mut avg_u) = (0u64, 0u64);
    for y in 0..h {
        let row = &src[y * w..][..w];
        row_average.fill(0);
        for x in 0..w {
            let (v, u) = if y % 2 == 0 { (w - 1 - x, x) } else { (x, w - 1 - x) };
            avg_v = div_s(avg_v * (s - 1)) + u64::from(row[v]);
            avg_u = div_s(avg_u * (s - 1)) + u64::from(row[u]);
            row_average[v] += avg_v;
            row_average[u] += avg_u;
        }
        for ((o, &p), &a) in out[y * w..][..w].iter_mut().zip(row).zip(&row_average) {
            *o = u64::from(p) < div_t(a * 95);
        }
    }
    out
}

#[derive(Debug, Clone, Copy)]
enum Binariser {
    Rqrr,
    /// Local mean over a window of side/`n`, with a bias in percent.
    Adaptive {
        div: usize,
        bias: u32,
    },
}

const ADAPTIVE: Binariser = Binariser::Adaptive { div: 8, bias: 4 };
const ADAPTIVE_FINE: Binariser = Binariser::Adaptive { div: 20, bias: 8 };
const ADAPTIVE_EVEN: Binariser = Binariser::Adaptive { div: 8, bias: 0 };
const ADAPTIVE_EVEN_WIDE: Binariser = Binariser::Adaptive { div: 4, bias: 0 };

/// Eyes at most this many modules apart are grouped as one code (version 10 spans 50).
const REGION_SPAN: f32 = 60.0;
/// Modules of margin around a group of eyes (3.5 to the code's edge, the rest for perspective).
const REGION_MARGIN: f32 = 8.0;
/// The locator works on images at most this many pixels a side.
const LOCATE_SIDE: u32 = 1920;
/// Regions tried before the full-frame passes.
const MAX_REGIONS: usize = 2;
/// A thorough decode also tries crops whose modules are narrower than this, doubled.
const SMALL_MODULE: f32 = 6.0;
/// Crops are scaled so one module is about this many pixels.
const CROP_MODULE: f32 = 3.0;

/// rqrr's grid detection and decoding of a prepared image (at most 8 grids). A macro: rqrr's
/// image buffer type cannot be named outside it.
macro_rules! detect_and_decode {
    ($prepared:expr) => {{
        let mut prepared = $prepared;
        let mut out = Vec::new();
        for grid in prepared.detect_grids().into_iter().take(8) {
            let mut buf = Vec::new();
            if grid.decode_to(&mut buf).is_ok() {
                out.push(buf);
            }
        }
        out
    }};
}

/// An image one or more rqrr passes look at, with its summed-area table computed on first use
/// and shared by every adaptive threshold of it (behind a `OnceLock`: a pass abandoned at the
/// deadline may still be reading it on its worker).
struct Plane {
    img: GrayImage,
    integral: std::sync::OnceLock<Vec<u32>>,
}

impl Plane {
    fn new(img: GrayImage) -> Arc<Plane> {
        Arc::new(Plane {
            img,
            integral: std::sync::OnceLock::new(),
        })
    }

    fn width(&self) -> u32 {
        self.img.width()
    }

    fn height(&self) -> u32 {
        self.img.height()
    }

    /// The image binarised as `bin` says: true is black.
    fn binarised(&self, bin: Binariser) -> Vec<bool> {
        match bin {
            Binariser::Rqrr => rqrr_threshold(&self.img),
            Binariser::Adaptive { div, bias } => {
                let integral = self.integral.get_or_init(|| integral_image(&self.img));
                adaptive_threshold_with(&self.img, integral, div, bias)
            }
        }
    }
}

/// One rqrr run, guarded by `catch_unwind`. Returns the payloads, or None on a panic.
fn rqrr_pass(plane: &Plane, bin: Binariser) -> Option<Vec<Vec<u8>>> {
    let (w, h) = (plane.width() as usize, plane.height() as usize);
    if w < 21 || h < 21 {
        return Some(Vec::new());
    }
    catch_unwind(AssertUnwindSafe(|| {
        let bits = plane.binarised(bin);
        detect_and_decode!(rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| bits[y * w + x]))
    }))
    .ok()
}

/// Downscale factor that brings the long side to at most `side`.
fn factor_for(img: &GrayImage, side: u32) -> u32 {
    img.width().max(img.height()).div_ceil(side.max(1)).max(1)
}

/// rqrr passes still running on abandoned worker threads, across the process.
static ABANDONED: AtomicUsize = AtomicUsize::new(0);
/// With this many abandoned passes still burning CPU, new passes are skipped.
pub const MAX_ABANDONED: usize = 2;

enum PassResult {
    Codes(Vec<Vec<u8>>),
    Panicked,
    /// Over the time left: the worker is abandoned (it finishes in the background).
    TimedOut,
    /// Too many abandoned passes still running: skipped.
    Busy,
}

/// (finished, abandoned) of one worker, decided under the lock so exactly one side counts.
type PassState = Arc<std::sync::Mutex<(bool, bool)>>;

/// Runs one rqrr pass on a worker thread and waits at most `budget` for it. rqrr cannot be
/// interrupted, and on some inputs one pass takes hundreds of milliseconds: the verdict must not.
fn guarded_pass(img: &Arc<Plane>, bin: Binariser, budget: Duration) -> PassResult {
    if ABANDONED.load(Ordering::SeqCst) >= MAX_ABANDONED {
        return PassResult::Busy;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let state: PassState = Arc::default();
    let worker_state = Arc::clone(&state);
    let img = Arc::clone(img);
    let spawned = std::thread::Builder::new().name("qr-decode".into()).spawn(move || {
        let r = rqrr_pass(&img, bin);
        if let Ok(mut st) = worker_state.lock() {
            st.0 = true;
            if st.1 {
                ABANDONED.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _ = tx.send(r);
    });
    if spawned.is_err() {
        return PassResult::Busy;
    }
    match rx.recv_timeout(budget) {
        Ok(Some(codes)) => PassResult::Codes(codes),
        Ok(None) => PassResult::Panicked,
        Err(_) => {
            if let Ok(mut st) = state.lock()
                && !st.0
            {
                st.1 = true;
                ABANDONED.fetch_add(1, Ordering::SeqCst);
            }
            PassResult::TimedOut
        }
    }
}

/// Decodes every QR code in a luma image.
pub fn decode_luma(img: &GrayImage, opts: &DecodeOptions) -> Decoded {
    let start = Instant::now();
    let mut res = Decoded::default();
    run_passes(img, opts, start, &mut res);
    res.elapsed = start.elapsed();
    res
}

impl Decoded {
    fn add(&mut self, code: Vec<u8>, by: Engine) {
        if !self.codes.contains(&code) {
            self.codes.push(code);
            self.found_by.push(by);
        }
    }
}

/// One zxing-cpp pass on `img`, a copy of the frame boxed down by `scale`; true when it found a
/// code. Boxes are recorded in the frame's coordinates.
fn zxing_pass(img: &GrayImage, area: Option<Rect>, effort: Effort, scale: u32, res: &mut Decoded) -> bool {
    res.passes += 1;
    res.zxing_passes += 1;
    let read = zxing::read(img, area, effort);
    res.panics += u32::from(read.failed);
    let found = !read.codes.is_empty();
    if found && res.found_in_pass.is_none() {
        res.found_in_pass = Some(res.passes);
    }
    for (code, at) in read.codes {
        res.position.get_or_insert(Rect {
            x: at.x * scale,
            y: at.y * scale,
            w: at.w * scale,
            h: at.h * scale,
        });
        res.add(code, Engine::Zxing);
    }
    found
}

/// Frames whose long side is at least this are also looked at boxed down 2x (720p -> 640x360).
pub const HALF_MIN_SIDE: u32 = 1000;

/// A trying-harder zxing-cpp pass costs about this many fast passes over the same pixels
/// (finer finder search, inverted image, a downscaled copy; measured on 720p frames). Used to
/// predict whether it ends before the deadline.
const HARDER_COST: f64 = 6.0;

thread_local! {
    /// The buffer of the 2x boxed-down plane, reused from frame to frame (no allocation per
    /// frame once it has grown to the camera's size).
    static HALF_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A frame boxed down 2x (each pixel the rounded mean of a 2x2 block), in this thread's reused
/// buffer, which it gives back when dropped.
struct HalfPlane(Option<GrayImage>);

impl HalfPlane {
    fn of(img: &GrayImage) -> HalfPlane {
        let (w, h) = (img.width() / 2, img.height() / 2);
        let mut buf = HALF_BUF.with(|b| std::mem::take(&mut *b.borrow_mut()));
        box_down2_into(img, &mut buf);
        HalfPlane(GrayImage::from_raw(w, h, buf))
    }

    fn image(&self) -> Option<&GrayImage> {
        self.0.as_ref()
    }
}

impl Drop for HalfPlane {
    fn drop(&mut self) {
        if let Some(img) = self.0.take() {
            HALF_BUF.with(|b| *b.borrow_mut() = img.into_raw());
        }
    }
}

/// `img` smoothed `times` times with the separable kernel [1 2 1] / 4 (edge pixels kept).
fn smooth121(img: &GrayImage, times: u32) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 3 || h < 3 {
        return img.clone();
    }
    let mix = |a: u8, b: u8, c: u8| ((u16::from(a) + 2 * u16::from(b) + u16::from(c) + 2) >> 2) as u8;
    let mut cur = img.as_raw().clone();
    let mut tmp = cur.clone();
    for _ in 0..times {
        // Along rows, into `tmp` (its first and last columns stay as they are).
        for (src, dst) in cur.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
            for (d, win) in dst[1..w - 1].iter_mut().zip(src.windows(3)) {
                *d = mix(win[0], win[1], win[2]);
            }
            dst[0] = src[0];
            dst[w - 1] = src[w - 1];
        }
        // Down columns, back into `cur` (its first and last rows are the row-smoothed ones).
        cur[..w].copy_from_slice(&tmp[..w]);
        cur[(h - 1) * w..].copy_from_slice(&tmp[(h - 1) * w..]);
        for y in 1..h - 1 {
            let (above, rest) = tmp[(y - 1) * w..(y + 2) * w].split_at(w);
            let (row, below) = rest.split_at(w);
            for (((o, &a), &b), &c) in cur[y * w..(y + 1) * w].iter_mut().zip(above).zip(row).zip(below) {
                *o = mix(a, b, c);
            }
        }
    }
    GrayImage::from_raw(w as u32, h as u32, cur).expect("size matches")
}

/// Boxes `img` down 2x into `out` (resized to fit; odd last rows and columns are dropped).
fn box_down2_into(img: &GrayImage, out: &mut Vec<u8>) {
    let (w, h) = (img.width() as usize / 2, img.height() as usize / 2);
    let sw = img.width() as usize;
    out.resize(w * h, 0);
    if w == 0 {
        return;
    }
    let src = img.as_raw();
    for (y, o) in out.chunks_exact_mut(w).enumerate() {
        let a = &src[2 * y * sw..][..2 * w];
        let b = &src[(2 * y + 1) * sw..][..2 * w];
        for ((o, a), b) in o.iter_mut().zip(a.chunks_exact(2)).zip(b.chunks_exact(2)) {
            let s = u16::from(a[0]) + u16::from(a[1]) + u16::from(b[0]) + u16::from(b[1]);
            *o = ((s + 2) >> 2) as u8;
        }
    }
}

/// The passes of [`decode_luma`], stopping at the first that finds a code (or at the deadline).
fn run_passes(img: &GrayImage, opts: &DecodeOptions, start: Instant, res: &mut Decoded) {
    let zxing_on = opts.decoders != Decoders::Rqrr;
    // zxing-cpp looks at the image itself, or at a boxed-down copy of a huge one.
    let kz = factor_for(img, ZXING_MAX_SIDE);
    let small = (kz > 1).then(|| box_downscale(img, kz));
    let zimg = small.as_ref().unwrap_or(img);
    if zxing_on && let Some(h) = opts.hint.filter(|_| kz == 1) {
        let area = h.grown(0.5, img.width(), img.height());
        if zxing_pass(img, Some(area), Effort::Fast, 1, res) {
            res.found_at_hint = true;
            return;
        }
    }
    // Camera frames are also looked at boxed down 2x: a quarter of the pixels for the locator
    // and for zxing-cpp's first pass over the whole frame.
    let half = (kz == 1 && img.width().max(img.height()) >= HALF_MIN_SIDE).then(|| HalfPlane::of(img));
    let half_img = half.as_ref().and_then(HalfPlane::image);
    // A live frame (a quick look, or one whose full-frame passes need eyes) is first asked
    // whether it shows any eye at all: most frames at a turnstile show nobody, and with no eye
    // no decoder runs. Files get every pass.
    let live = !opts.thorough || opts.full_frame_needs_eyes;
    let mut located = None;
    if live {
        let l = Located::find(img, half_img);
        res.eyes = l.eyes;
        res.regions = l.regions.len() as u32;
        if l.eyes == 0 {
            return;
        }
        located = Some(l);
    }
    // Cost per pixel of zxing-cpp's fast pass over the whole frame, to predict the harder ones.
    let mut fast_ns_per_px = 0.0f64;
    if zxing_on {
        let mut timed = |res: &mut Decoded, im: &GrayImage, scale: u32| {
            let t = Instant::now();
            let found = zxing_pass(im, None, Effort::Fast, scale, res);
            let px = f64::from(im.width()) * f64::from(im.height());
            fast_ns_per_px = fast_ns_per_px.max(t.elapsed().as_nanos() as f64 / px.max(1.0));
            found
        };
        if let Some(h) = half_img
            && timed(res, h, 2)
        {
            return;
        }
        let quick = !opts.thorough && opts.decoders == Decoders::Both;
        match (&located, quick && half_img.is_some()) {
            (Some(l), true) => {
                // A quick look at a camera frame: full resolution only around groups of eyes.
                for area in l.areas(img).take(MAX_REGIONS) {
                    if zxing_pass(img, Some(area), Effort::Fast, 1, res) {
                        return;
                    }
                }
            }
            _ => {
                if timed(res, zimg, kz) {
                    return;
                }
            }
        }
        // Phone screens beat with the camera's pixel grid (moire): smoothed copies read where
        // the sharp ones do not (the half plane smoothed once; in a thorough decode also the
        // frame smoothed three times, about a Gaussian of 1.2 pixels). Measured in BENCHMARKS.md.
        if let Some(h) = half_img
            && zxing_pass(&smooth121(h, 1), None, Effort::Fast, 2, res)
        {
            return;
        }
        if quick {
            // A quick look (most live frames) ends with zxing-cpp's fast passes: the harder
            // passes and rqrr wait for the thorough frames of the cadence.
            return;
        }
        if kz == 1 && half_img.is_some() && zxing_pass(&smooth121(img, 3), None, Effort::Fast, 1, res) {
            return;
        }
    }
    let Located {
        eyes,
        mut regions,
        scale: kl,
    } = match located {
        Some(l) => l,
        None => Located::find(img, half_img),
    };
    drop(half);
    res.eyes = eyes;
    res.regions = regions.len() as u32;
    if zxing_on {
        // Trying harder costs several fast passes: first on a crop around each group of eyes
        // (a quick look: only a code's corner of three), then on the whole frame (a live frame
        // only when the locator sees a group of eyes).
        let fits = |res: &Decoded, px: u64| {
            let predicted = Duration::from_nanos((fast_ns_per_px * HARDER_COST * px as f64) as u64);
            res.passes == 0 || start.elapsed() + predicted < opts.deadline
        };
        if kz == 1 {
            let located = Located {
                eyes,
                regions,
                scale: kl,
            };
            for area in located.areas(img).take(MAX_REGIONS) {
                for effort in [Effort::Harder, Effort::HarderGlobal] {
                    if fits(res, u64::from(area.w) * u64::from(area.h)) && zxing_pass(img, Some(area), effort, 1, res) {
                        return;
                    }
                }
            }
            regions = located.regions;
        }
        let whole = opts.thorough && (!opts.full_frame_needs_eyes || !regions.is_empty());
        let px = u64::from(zimg.width()) * u64::from(zimg.height());
        for effort in [Effort::Harder, Effort::HarderGlobal] {
            if whole && fits(res, px) && zxing_pass(zimg, None, effort, kz, res) {
                return;
            }
        }
    }
    if opts.decoders == Decoders::Zxing || (res.passes > 0 && start.elapsed() >= opts.deadline) {
        return;
    }
    rqrr_passes(img, opts, start, res, regions, kl);
}

/// What the finder-pattern locator saw in a frame.
struct Located {
    eyes: u32,
    /// Groups of eyes, in the coordinates of the image searched.
    regions: Vec<locate::Region>,
    /// How many frame pixels one pixel of the searched image spans.
    scale: u32,
}

impl Located {
    /// The boxes around each group of eyes, best first, in frame pixels.
    fn areas<'a>(&'a self, img: &GrayImage) -> impl Iterator<Item = Rect> + 'a {
        let (w, h) = img.dimensions();
        let k = self.scale;
        self.regions.iter().map(move |r| {
            Rect {
                x: r.x * k,
                y: r.y * k,
                w: r.w * k,
                h: r.h * k,
            }
            .grown(0.0, w, h)
        })
    }

    /// Searches the 2x boxed-down plane when there is one, else the frame
    /// (boxed down when bigger than [`LOCATE_SIDE`]; every 2nd row of a 720p frame).
    fn find(img: &GrayImage, half: Option<&GrayImage>) -> Located {
        let kl = if half.is_some() {
            2
        } else {
            factor_for(img, LOCATE_SIDE)
        };
        let boxed;
        let loc = match half {
            Some(h) => h,
            None if kl == 1 => img,
            None => {
                boxed = box_downscale(img, kl);
                &boxed
            }
        };
        // Every 2nd row of the half plane of a 720p frame (every 4th row of the frame), every
        // 3rd of a 1080p one's; every row of a photo up to 640 pixels.
        let per = if half.is_some() { 320 } else { 640 };
        let eyes = locate::finders(loc, (loc.width().max(loc.height()) / per).max(1) as usize);
        let regions = locate::regions(&eyes, loc.width(), loc.height(), REGION_SPAN, REGION_MARGIN);
        Located {
            eyes: eyes.len() as u32,
            regions,
            scale: kl,
        }
    }
}

/// rqrr's passes: crops around the eyes, then full-frame passes with preprocessing.
fn rqrr_passes(
    img: &GrayImage,
    opts: &DecodeOptions,
    start: Instant,
    res: &mut Decoded,
    mut regions: Vec<locate::Region>,
    kl: u32,
) {
    // Slowest observed cost per pixel of a pass in this call, to predict the next pass.
    let mut ns_per_px = 0.0f64;
    // Runs one pass; true when decoding should stop (a code found, or no time left).
    let mut run = |res: &mut Decoded, im: &Arc<Plane>, bin: Binariser| -> bool {
        let px = f64::from(im.width()) * f64::from(im.height());
        let predicted = Duration::from_nanos((ns_per_px * px) as u64);
        let elapsed = start.elapsed();
        // The first pass always runs (with whatever time is left); later ones only if they fit.
        if res.passes > 0 && elapsed + predicted >= opts.deadline {
            return true;
        }
        res.passes += 1;
        let pass_start = Instant::now();
        let found = guarded_pass(im, bin, opts.deadline.saturating_sub(elapsed));
        // Small crops cost mostly a fixed overhead: they would predict full frames far too slow.
        if px >= 100_000.0 {
            ns_per_px = ns_per_px.max(pass_start.elapsed().as_nanos() as f64 / px);
        }
        match found {
            PassResult::Codes(codes) => {
                if !codes.is_empty() && res.found_in_pass.is_none() {
                    res.found_in_pass = Some(res.passes);
                }
                for c in codes {
                    res.add(c, Engine::Rqrr);
                }
            }
            PassResult::Panicked => res.panics += 1,
            PassResult::TimedOut => {
                res.timeouts += 1;
                return true;
            }
            PassResult::Busy => return true,
        }
        !res.codes.is_empty()
    };

    if !opts.thorough {
        // A quick look trusts only three eyes in a code's corner shape; clutter makes pairs.
        regions.retain(|r| r.square);
    }
    for r in regions.iter().take(MAX_REGIONS) {
        // Cut the region from the full image, scaled so a module is about CROP_MODULE pixels.
        let (x, y) = (r.x * kl, r.y * kl);
        let (w, h) = ((r.w * kl).min(img.width() - x), (r.h * kl).min(img.height() - y));
        let kc = ((r.module * kl as f32) / CROP_MODULE).floor().max(1.0) as u32;
        let cut = image::imageops::crop_imm(img, x, y, w, h).to_image();
        let crop = Plane::new(if kc > 1 { box_downscale(&cut, kc) } else { cut });
        let mut done = run(res, &crop, Binariser::Rqrr) || run(res, &crop, ADAPTIVE);
        if !done && opts.thorough && r.module * (kl as f32) < SMALL_MODULE && crop.width().max(crop.height()) <= 400 {
            // Small, often rotated modules: rqrr samples a doubled crop more reliably.
            let big = Plane::new(upscale2(&crop.img));
            done = run(res, &big, Binariser::Rqrr) || run(res, &big, ADAPTIVE);
        }
        if done {
            res.found_in_crop = !res.codes.is_empty();
            return;
        }
    }
    if (regions.is_empty() && !opts.thorough) || (res.regions == 0 && opts.full_frame_needs_eyes) {
        // No code's corner of eyes: rqrr needs all three, so a quick look ends here (and a live
        // frame with no group of eyes at all).
        return;
    }

    let k_fast = factor_for(img, opts.fast_side);
    let fast = Plane::new(box_downscale(img, k_fast));
    if run(res, &fast, Binariser::Rqrr) || !opts.thorough {
        return;
    }
    let second = if k_fast == 1 {
        (img.width().max(img.height()) <= 400).then(|| upscale2(img))
    } else {
        let k = factor_for(img, opts.max_side);
        (k < k_fast).then(|| box_downscale(img, k))
    }
    .map(Plane::new);
    // Ordered by what read most camera-like frames and photos per millisecond (BENCHMARKS.md).
    let plan: Vec<(&Arc<Plane>, Binariser)> = match &second {
        Some(second) => vec![
            (second, ADAPTIVE),
            (&fast, ADAPTIVE_FINE),
            (&fast, ADAPTIVE),
            (second, ADAPTIVE_FINE),
            (second, Binariser::Rqrr),
        ],
        None => vec![(&fast, ADAPTIVE), (&fast, ADAPTIVE_FINE)],
    };
    // For images small enough to be looked at as they are: a threshold at the local mean itself
    // (no bias), over a medium and a wide window. It rescues codes printed on bent paper whose
    // dark modules are barely darker than their surroundings (qrcode-4/08, 4/13). Alone, rqrr
    // tries these last. Behind zxing-cpp, whose binarisers read the ordinary codes, they rescue
    // the most per millisecond (2 of rqrr's 4 rescues of photos, 0.6-0.8 ms each on most photos
    // when they fail), so they come second, after the first pass of the plan, which rescues
    // another (BENCHMARKS.md, issue 12).
    let even: &[(&Arc<Plane>, Binariser)] = if k_fast == 1 {
        &[(&fast, ADAPTIVE_EVEN), (&fast, ADAPTIVE_EVEN_WIDE)]
    } else {
        &[]
    };
    let early = if opts.decoders == Decoders::Both { 1 } else { plan.len() };
    let (head, tail) = plan.split_at(early.min(plan.len()));
    let plan = head.iter().chain(even).chain(tail).copied();
    for (im, bin) in plan {
        if run(res, im, bin) {
            break;
        }
    }
}

/// A payload as text, the way zbar and ZXing print it: UTF-8 when it is valid UTF-8, else
/// Shift_JIS when it decodes cleanly as that (Japanese codes in byte mode, common in the wild),
/// else ISO-8859-1 (the QR standard's default for byte mode). Tickets are ASCII and unaffected.
pub fn payload_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return std::borrow::Cow::Borrowed(s);
    }
    if let Some(s) = encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
        return std::borrow::Cow::Owned(s.into_owned());
    }
    std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())
}

/// rqrr alone, as a library user would call it (for comparisons): prepare, detect, decode.
pub fn decode_rqrr_plain(img: &GrayImage) -> Option<Vec<Vec<u8>>> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 21 || h < 21 {
        return Some(Vec::new());
    }
    let raw = img.as_raw();
    catch_unwind(AssertUnwindSafe(|| {
        detect_and_decode!(rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| raw[y * w + x]))
    }))
    .ok()
}

/// Installs a panic hook that keeps rqrr's caught panics off the steward's screen while keeping
/// every other panic message.
pub fn quiet_rqrr_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let from_rqrr = info.location().is_some_and(|l| l.file().contains("rqrr"));
        if !from_rqrr {
            default(info);
        }
    }));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Unit tests run unoptimised: no deadline, so results do not depend on the machine's speed.
    fn opts() -> DecodeOptions {
        DecodeOptions {
            deadline: Duration::from_secs(60),
            ..DecodeOptions::default()
        }
    }

    /// The same, with rqrr and its preprocessing alone (what zxing-cpp reads first would hide it).
    fn rqrr_opts() -> DecodeOptions {
        DecodeOptions {
            decoders: Decoders::Rqrr,
            ..opts()
        }
    }

    /// A clean QR code of `text` (level M) with `px` pixels per module and a quiet zone.
    pub(crate) fn qr(text: &str, px: u32) -> GrayImage {
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
        code.render::<image::Luma<u8>>()
            .module_dimensions(px, px)
            .quiet_zone(true)
            .build()
    }

    #[test]
    fn a_clean_code_is_read_back_exactly_by_zxing_cpp_in_one_pass_and_by_rqrr_alone() {
        let d = decode_luma(&qr("OG1:HELLO WORLD", 6), &opts());
        assert_eq!(d.codes, vec![b"OG1:HELLO WORLD".to_vec()]);
        assert_eq!(
            (d.found_by.as_slice(), d.passes, d.zxing_passes),
            (&[Engine::Zxing][..], 1, 1)
        );
        let r = decode_luma(&qr("OG1:HELLO WORLD", 6), &rqrr_opts());
        assert_eq!(
            (r.codes, r.found_by, r.zxing_passes),
            (vec![b"OG1:HELLO WORLD".to_vec()], vec![Engine::Rqrr], 0)
        );
    }

    #[test]
    fn when_zxing_cpp_reads_nothing_rqrr_is_asked_and_the_frame_says_which_read_what() {
        // zxing-cpp alone on a frame with no code: its passes only; the union goes on to rqrr.
        let blank = GrayImage::from_pixel(320, 240, image::Luma([128]));
        let z = decode_luma(
            &blank,
            &DecodeOptions {
                decoders: Decoders::Zxing,
                ..opts()
            },
        );
        assert!(z.codes.is_empty());
        assert_eq!(z.passes, z.zxing_passes);
        let both = decode_luma(&blank, &opts());
        assert!(both.passes > both.zxing_passes, "{both:?}");
    }

    #[test]
    fn a_live_camera_looks_first_where_the_previous_frame_had_its_code() {
        let text = "OG1:HOLD STILL";
        let mut frame = GrayImage::from_pixel(1280, 720, image::Luma([170]));
        image::imageops::overlay(&mut frame, &qr(text, 6), 800, 300);
        let mut live = LiveCadence::default();
        let first = decode_luma(&frame, &live.next_options());
        assert_eq!(first.codes, vec![text.as_bytes().to_vec()]);
        assert!(!first.found_at_hint);
        let at = first.position.expect("zxing-cpp gives the code's box");
        assert!((800..900).contains(&at.x) && (300..400).contains(&at.y), "{at:?}");
        live.saw(&first);
        let next = live.next_options();
        assert_eq!(next.hint, Some(at));
        let second = decode_luma(&frame, &next);
        assert_eq!(second.codes, first.codes);
        assert!(second.found_at_hint && second.passes == 1, "{second:?}");
    }

    #[test]
    fn a_code_in_a_big_frame_is_found_after_downscaling() {
        let code = qr("OG1:BIG FRAME TEST", 12);
        let mut frame = GrayImage::from_pixel(1920, 1080, image::Luma([200]));
        image::imageops::overlay(&mut frame, &code, 700, 200);
        let d = decode_luma(&frame, &opts());
        assert_eq!(d.codes, vec![b"OG1:BIG FRAME TEST".to_vec()]);
    }

    #[test]
    fn a_low_contrast_code_is_rescued_by_the_adaptive_threshold_pass() {
        let mut code = qr("OG1:LOW CONTRAST", 5);
        for p in code.pixels_mut() {
            p.0[0] = if p.0[0] < 128 { 120 } else { 150 };
        }
        let d = decode_luma(&code, &rqrr_opts());
        assert_eq!(d.codes, vec![b"OG1:LOW CONTRAST".to_vec()]);
    }

    #[test]
    fn an_empty_frame_gives_no_code_and_tiny_images_do_not_panic() {
        let blank = GrayImage::from_pixel(640, 480, image::Luma([128]));
        assert!(decode_luma(&blank, &opts()).codes.is_empty());
        for (w, h) in [(1, 1), (0, 0), (3, 500), (500, 3)] {
            let img = GrayImage::new(w, h);
            assert!(decode_luma(&img, &opts()).codes.is_empty());
        }
    }

    #[test]
    fn a_pass_that_overruns_the_deadline_is_abandoned_instead_of_waited_for() {
        let code = qr("OG1:SLOW", 12);
        let mut frame = GrayImage::from_pixel(1920, 1080, image::Luma([200]));
        image::imageops::overlay(&mut frame, &code, 100, 100);
        let tight = DecodeOptions {
            deadline: Duration::from_micros(1),
            ..DecodeOptions::default()
        };
        let d = decode_luma(
            &frame,
            &DecodeOptions {
                decoders: Decoders::Rqrr,
                ..tight
            },
        );
        assert_eq!((d.passes, d.timeouts), (1, 1));
        assert!(d.codes.is_empty());
        // With time, the same frame reads.
        assert_eq!(decode_luma(&frame, &rqrr_opts()).codes, vec![b"OG1:SLOW".to_vec()]);
        // zxing-cpp's first pass always runs, and reads it even with no time left.
        assert_eq!(decode_luma(&frame, &tight).codes, vec![b"OG1:SLOW".to_vec()]);
    }

    #[test]
    fn a_code_in_a_camera_frame_is_read_from_a_crop_around_its_eyes() {
        let text = "OG1:CROP AROUND THE EYES";
        let mut frame = GrayImage::from_pixel(1280, 720, image::Luma([180]));
        image::imageops::overlay(&mut frame, &qr(text, 6), 500, 150);
        let d = decode_luma(&frame, &rqrr_opts());
        assert_eq!(d.codes, vec![text.as_bytes().to_vec()]);
        assert!(d.found_in_crop, "{d:?}");
        assert!(d.eyes >= 3, "{d:?}");
    }

    #[test]
    fn a_quick_look_at_a_frame_without_eyes_does_not_run_rqrr_but_a_thorough_one_does() {
        // Stripes and blocks, but nothing in a finder pattern's 1:1:3:1:1 ratio.
        let frame = GrayImage::from_fn(1280, 720, |x, y| {
            image::Luma([if (x / 40 + y / 90) % 2 == 0 { 60 } else { 200 }])
        });
        let quick = DecodeOptions {
            thorough: false,
            ..rqrr_opts()
        };
        let d = decode_luma(&frame, &quick);
        assert!(d.codes.is_empty());
        assert_eq!((d.eyes, d.passes), (0, 0));
        assert!(decode_luma(&frame, &rqrr_opts()).passes > 0);
        let live = DecodeOptions {
            full_frame_needs_eyes: true,
            ..rqrr_opts()
        };
        assert_eq!(decode_luma(&frame, &live).passes, 0);
    }

    #[test]
    fn a_live_camera_is_thorough_every_third_frame_and_on_every_frame_after_a_code() {
        let mut c = LiveCadence::default();
        let plan: Vec<bool> = (0..6).map(|_| c.next_options().thorough).collect();
        assert_eq!(plan, [false, false, true, false, false, true]);
        c.saw(&Decoded {
            codes: vec![b"x".to_vec()],
            ..Decoded::default()
        });
        let after: Vec<DecodeOptions> = (0..7).map(|_| c.next_options()).collect();
        assert!(after[..6].iter().all(|o| o.thorough && !o.full_frame_needs_eyes));
        assert!(!after[6].thorough, "back to the quick look 7 frames after the code");
    }

    #[test]
    fn payloads_print_as_utf8_then_shift_jis_then_latin1() {
        assert_eq!(payload_text(b"OG1:ABC"), "OG1:ABC");
        assert_eq!(payload_text("caf\u{e9}".as_bytes()), "caf\u{e9}");
        // "QR" in half-width katakana as Shift_JIS bytes.
        assert_eq!(payload_text(&[0xB1, 0xB2, b'Q', b'R']), "\u{ff71}\u{ff72}QR");
        // 0x80 is not a Shift_JIS lead byte: Latin-1 keeps every byte.
        assert_eq!(payload_text(&[0x80, 0xFF]), "\u{80}\u{ff}");
    }

    /// Test images for the binarisers: noise, a gradient with a code on it, odd and even sides.
    fn textures() -> Vec<GrayImage> {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut noise = |w, h| {
            GrayImage::from_fn(w, h, |_, _| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                image::Luma([(seed >> 56) as u8])
            })
        };
        let mut lit = qr("OG1:BINARISE ME", 5);
        let (w, h) = lit.dimensions();
        for (x, y, p) in lit.enumerate_pixels_mut() {
            p.0[0] = (u32::from(p.0[0]) * (60 + 140 * x / w) / 255 + 30 * y / h) as u8;
        }
        vec![noise(240, 240), noise(481, 173), noise(21, 64), lit, qr("OG1:X", 7)]
    }

    /// The threshold as first written (one window clipped per pixel), the reference.
    fn adaptive_reference(img: &GrayImage, div: usize, bias: u32) -> Vec<bool> {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let src = img.as_raw();
        let integral = integral_image(img);
        let r = (w.max(h) / div.max(1)).max(4);
        let mut out = vec![false; w * h];
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
                let sum = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0]
                    - integral[y0 * (w + 1) + x1]
                    - integral[y1 * (w + 1) + x0];
                let count = ((x1 - x0) * (y1 - y0)) as u64;
                out[y * w + x] = u64::from(src[y * w + x]) * count * 100 < u64::from(sum) * u64::from(100 - bias);
            }
        }
        out
    }

    #[test]
    fn the_adaptive_threshold_from_a_shared_integral_image_marks_exactly_the_pixels_of_the_reference() {
        for img in textures() {
            let (w, h) = img.dimensions();
            let integral = integral_image(&img);
            // Every pixel's sum over the whole image is in the table's last entry.
            let total: u32 = img.as_raw().iter().map(|&p| u32::from(p)).sum();
            assert_eq!(integral[((w + 1) * (h + 1) - 1) as usize], total);
            for bin in [ADAPTIVE, ADAPTIVE_FINE, ADAPTIVE_EVEN, ADAPTIVE_EVEN_WIDE] {
                let Binariser::Adaptive { div, bias } = bin else {
                    unreachable!()
                };
                let fast = adaptive_threshold_with(&img, &integral, div, bias);
                assert!(fast == adaptive_reference(&img, div, bias), "{w}x{h} {bin:?}");
                assert!(fast.iter().any(|&b| b) && fast.iter().any(|&b| !b), "{w}x{h} {bin:?}");
            }
        }
    }

    #[test]
    fn rqrr_s_threshold_computed_here_prepares_exactly_the_image_rqrr_prepares_itself() {
        for img in textures() {
            let (w, h) = (img.width() as usize, img.height() as usize);
            let raw = img.as_raw();
            let theirs = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| raw[y * w + x]);
            let bits = rqrr_threshold(&img);
            let ours = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| bits[y * w + x]);
            let differ = (0..h)
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .filter(|&(x, y)| theirs.get_pixel_at(x, y) != ours.get_pixel_at(x, y))
                .count();
            assert_eq!(differ, 0, "{w}x{h}");
            assert!(bits.iter().any(|&b| b) && bits.iter().any(|&b| !b), "{w}x{h}");
        }
    }

    #[test]
    fn upscaling_2x_gives_each_pixel_the_floored_mean_of_its_clamped_2x2_neighbours() {
        for img in textures() {
            let (w, h) = img.dimensions();
            let reference = GrayImage::from_fn(w * 2, h * 2, |x, y| {
                let (sx, sy) = (x / 2, y / 2);
                let (nx, ny) = ((sx + (x & 1)).min(w - 1), (sy + (y & 1)).min(h - 1));
                let s = [(sx, sy), (nx, sy), (sx, ny), (nx, ny)]
                    .iter()
                    .map(|&(x, y)| u16::from(img.get_pixel(x, y).0[0]))
                    .sum::<u16>();
                image::Luma([(s / 4) as u8])
            });
            assert!(upscale2(&img) == reference, "{w}x{h}");
        }
        assert_eq!(upscale2(&GrayImage::new(0, 3)).dimensions(), (0, 6));
    }

    #[test]
    fn box_downscale_averages_blocks() {
        let img = GrayImage::from_fn(4, 2, |x, _| image::Luma([if x < 2 { 0 } else { 200 }]));
        let d = box_downscale(&img, 2);
        assert_eq!(d.dimensions(), (2, 1));
        assert_eq!(d.as_raw(), &vec![0, 200]);
    }

    #[test]
    fn the_half_plane_averages_2x2_blocks_drops_odd_edges_and_reuses_its_buffer() {
        let img = GrayImage::from_fn(5, 3, |x, y| image::Luma([(10 * x + 100 * y) as u8]));
        let half = HalfPlane::of(&img);
        let h = half.image().expect("half plane");
        assert_eq!(h.dimensions(), (2, 1));
        // (0 + 10 + 100 + 110) / 4 = 55, (20 + 30 + 120 + 130) / 4 = 75.
        assert_eq!(h.as_raw(), &vec![55, 75]);
        let ptr = h.as_raw().as_ptr();
        drop(half);
        let again = HalfPlane::of(&img);
        assert_eq!(
            again.image().unwrap().as_raw().as_ptr(),
            ptr,
            "same buffer, no new allocation"
        );
        let tiny = HalfPlane::of(&GrayImage::new(1, 1));
        assert_eq!(tiny.image().unwrap().dimensions(), (0, 0));
    }

    #[test]
    fn smoothing_keeps_flat_areas_and_spreads_a_dot_as_1_2_1() {
        let flat = GrayImage::from_pixel(6, 5, image::Luma([77]));
        assert_eq!(smooth121(&flat, 3), flat);
        let mut dot = GrayImage::from_pixel(5, 5, image::Luma([0]));
        dot.put_pixel(2, 2, image::Luma([160]));
        let s = smooth121(&dot, 1);
        // 160 * [1 2 1] x [1 2 1] / 16.
        let row = |y| (0..5).map(|x| s.get_pixel(x, y).0[0]).collect::<Vec<_>>();
        assert_eq!(row(1), vec![0, 10, 20, 10, 0]);
        assert_eq!(row(2), vec![0, 20, 40, 20, 0]);
        assert_eq!(row(0), vec![0, 0, 0, 0, 0]);
    }

    #[test]
    fn a_file_that_is_not_an_image_is_a_clear_error() {
        let err = load_luma_bytes(b"definitely not a png").unwrap_err();
        assert!(!err.to_string().is_empty());
        let mut png = Vec::new();
        qr("X", 4)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert!(load_luma_bytes(&png[..png.len() / 2]).is_err(), "truncated PNG");
    }
}
