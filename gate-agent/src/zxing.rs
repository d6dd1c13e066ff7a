//! zxing-cpp, the first decoder: one call per pass over a view of the luma plane (no copy), with
//! the options chosen per pass.
//!
//! zxing-cpp (C++, through its official Rust wrapper `zxingcpp`) reads most codes in well under
//! a millisecond, including bent, small and large-version ones that rqrr misses
//! (FIELD-NOTES.md). Its C API turns C++ exceptions into errors; the call still runs under
//! `catch_unwind` so that a panic in the wrapper costs one pass, never the gate.

use std::panic::{AssertUnwindSafe, catch_unwind};

use image::GrayImage;
use zxingcpp::{BarcodeFormat, Binarizer, ImageFormat, ImageView, TextMode};

/// An axis-aligned box in image pixels (where a code was found, or where to look).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    /// This box grown by `frac` of its size on every side, clipped to a `w` x `h` image.
    pub fn grown(self, frac: f32, w: u32, h: u32) -> Rect {
        let gx = (self.w as f32 * frac) as u32;
        let gy = (self.h as f32 * frac) as u32;
        let x = self.x.saturating_sub(gx).min(w);
        let y = self.y.saturating_sub(gy).min(h);
        Rect {
            x,
            y,
            w: (self.x + self.w + gx).min(w).saturating_sub(x),
            h: (self.y + self.h + gy).min(h).saturating_sub(y),
        }
    }
}

/// How hard one zxing-cpp pass tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// Live frames: normal finder search, no inverted or rotated retries, no extra scales.
    Fast,
    /// Every option zxing-cpp has: finer finder search, inverted codes, downscaled copies.
    Harder,
    /// The same with a global-histogram binariser, which reads some evenly lit, low-contrast
    /// codes the local one does not.
    HarderGlobal,
}

/// What one pass read: payloads with the box of each code.
#[derive(Debug, Default)]
pub struct Read {
    pub codes: Vec<(Vec<u8>, Rect)>,
    /// The wrapper panicked or zxing-cpp reported an error.
    pub failed: bool,
}

fn reader(effort: Effort) -> zxingcpp::BarcodeReader {
    let r = zxingcpp::read()
        .formats([BarcodeFormat::QRCode])
        .text_mode(TextMode::Plain)
        .binarizer(if effort == Effort::HarderGlobal {
            Binarizer::GlobalHistogram
        } else {
            Binarizer::LocalAverage
        });
    match effort {
        Effort::Fast => r
            .try_harder(false)
            .try_rotate(false)
            .try_invert(false)
            .try_downscale(false),
        Effort::Harder | Effort::HarderGlobal => {
            r.try_harder(true).try_rotate(true).try_invert(true).try_downscale(true)
        }
    }
}

/// Reads the QR codes inside `area` of `img` (None: the whole image). The view points into the
/// image's own buffer; boxes are returned in `img`'s coordinates.
pub fn read(img: &GrayImage, area: Option<Rect>, effort: Effort) -> Read {
    let (w, h) = img.dimensions();
    let area = area.unwrap_or(Rect { x: 0, y: 0, w, h });
    if area.w < 21 || area.h < 21 || area.x + area.w > w || area.y + area.h > h {
        return Read::default();
    }
    let run = || -> Result<Vec<(Vec<u8>, Rect)>, zxingcpp::Error> {
        let mut view = ImageView::from_slice(img.as_raw().as_slice(), w, h, ImageFormat::Lum)?;
        if (area.w, area.h) != (w, h) {
            view = view.cropped(area.x as i32, area.y as i32, area.w as i32, area.h as i32);
        }
        let found = reader(effort).from(view)?;
        Ok(found
            .iter()
            .filter(|b| b.is_valid())
            .map(|b| (payload(b), bounds(&b.position(), area)))
            .collect())
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(codes)) => Read { codes, failed: false },
        Ok(Err(_)) | Err(_) => Read {
            codes: Vec::new(),
            failed: true,
        },
    }
}

/// A code's payload: its bytes when they are UTF-8 (every ticket), else the text zxing-cpp
/// decoded them to (ECI or its character-set guess, e.g. GB2312 or Shift_JIS), as UTF-8.
fn payload(b: &zxingcpp::Barcode) -> Vec<u8> {
    let bytes = b.bytes();
    if std::str::from_utf8(&bytes).is_ok() {
        bytes
    } else {
        b.text().into_bytes()
    }
}

/// The bounding box of a code's corners, moved from the view's to the image's coordinates.
fn bounds(p: &zxingcpp::Position, area: Rect) -> Rect {
    let pts = [p.top_left, p.top_right, p.bottom_right, p.bottom_left];
    let xs = pts.iter().map(|q| q.x.max(0) as u32);
    let ys = pts.iter().map(|q| q.y.max(0) as u32);
    let (x0, x1) = (xs.clone().min().unwrap_or(0), xs.max().unwrap_or(0));
    let (y0, y1) = (ys.clone().min().unwrap_or(0), ys.max().unwrap_or(0));
    Rect {
        x: area.x + x0,
        y: area.y + y0,
        w: x1 - x0 + 1,
        h: y1 - y0 + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tests::qr;

    #[test]
    fn a_code_is_read_from_a_view_of_the_frame_and_its_box_is_in_frame_coordinates() {
        let mut frame = GrayImage::from_pixel(640, 480, image::Luma([200]));
        image::imageops::overlay(&mut frame, &qr("OG1:ZXING", 5), 300, 100);
        let whole = read(&frame, None, Effort::Fast);
        assert_eq!(whole.codes.len(), 1, "{whole:?}");
        let (text, at) = &whole.codes[0];
        assert_eq!(text, b"OG1:ZXING");
        // The code (quiet zone excluded) starts 4 modules into the rendered image.
        assert!((315..=325).contains(&at.x) && (115..=125).contains(&at.y), "{at:?}");
        let crop = read(&frame, Some(at.grown(0.5, 640, 480)), Effort::Fast);
        let again = crop.codes.first().expect("read in the crop").1;
        assert!(
            again.x.abs_diff(at.x) <= 2 && again.y.abs_diff(at.y) <= 2,
            "{again:?} {at:?}"
        );
        // A crop beside the code sees nothing.
        let beside = Rect {
            x: 0,
            y: 0,
            w: 200,
            h: 200,
        };
        assert!(read(&frame, Some(beside), Effort::Harder).codes.is_empty());
    }

    #[test]
    fn areas_outside_the_image_and_tiny_images_read_nothing_without_failing() {
        let img = GrayImage::from_pixel(100, 100, image::Luma([255]));
        let out = Rect {
            x: 90,
            y: 90,
            w: 50,
            h: 50,
        };
        let r = read(&img, Some(out), Effort::Harder);
        assert!(r.codes.is_empty() && !r.failed);
        let r = read(&GrayImage::new(0, 0), None, Effort::Fast);
        assert!(r.codes.is_empty() && !r.failed);
    }

    #[test]
    fn a_box_grows_and_stays_inside_the_image() {
        let r = Rect {
            x: 10,
            y: 10,
            w: 100,
            h: 100,
        };
        assert_eq!(
            r.grown(0.5, 140, 1000),
            Rect {
                x: 0,
                y: 0,
                w: 140,
                h: 160
            }
        );
    }
}
