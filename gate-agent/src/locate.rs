//! Finder-pattern locator: where in a frame a QR code may be, in well under a millisecond.
//!
//! Most frames at a turnstile show nobody, and rqrr spends most of its time on a frame in
//! `detect_grids` over every pixel (FIELD-NOTES.md). This module looks for the three square
//! "eyes" of a QR code the way ZXing does: rows are scanned for dark/light runs in the ratio
//! 1:1:3:1:1, and each hit is checked again down its column. It thresholds on the fly against a
//! local mean from block sums, so it reads each pixel about once and allocates only the block
//! table. The decoder then gives rqrr only a small crop around each group of eyes, scaled so a
//! module is a few pixels wide, and skips frames with no eye at all.
//!
//! It is a heuristic that only ever narrows where rqrr looks first: a frame whose eyes it misses
//! still gets the full-frame passes when the caller asks for a thorough decode.

use image::GrayImage;

/// One finder pattern ("eye"): its centre, in pixels of the image searched, and its module size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finder {
    pub x: f32,
    pub y: f32,
    /// Estimated width of one module, pixels.
    pub module: f32,
    /// How many scan rows confirmed it.
    pub hits: u32,
}

/// A rectangle of the image to hand to rqrr, with the module size of the eyes inside it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub module: f32,
    /// Eyes in the group (a code has 3; 2 means one is hidden by glare or a finger).
    pub eyes: u32,
    /// Whether three of the eyes form the corner of a square, as a code's do (seen at an angle:
    /// two sides within a factor 1.5 of each other, meeting at 60 to 120 degrees).
    pub square: bool,
}

/// Whether some three of `eyes` form a code's corner.
fn has_corner(eyes: &[&Finder]) -> bool {
    for b in eyes {
        for (i, a) in eyes.iter().enumerate() {
            for c in &eyes[i + 1..] {
                if std::ptr::eq(*a, *b) || std::ptr::eq(*c, *b) {
                    continue;
                }
                let (ux, uy) = (a.x - b.x, a.y - b.y);
                let (vx, vy) = (c.x - b.x, c.y - b.y);
                let (lu, lv) = ((ux * ux + uy * uy).sqrt(), (vx * vx + vy * vy).sqrt());
                if lu.min(lv) * 1.5 < lu.max(lv) || lu.min(lv) < 1.0 {
                    continue;
                }
                let cos = (ux * vx + uy * vy) / (lu * lv);
                if cos.abs() <= 0.5 {
                    return true;
                }
            }
        }
    }
    false
}

/// Block means smoothed over 5x5 blocks: the local threshold for each block.
struct Thresholds {
    block: usize,
    bw: usize,
    bh: usize,
    t: Vec<u8>,
}

impl Thresholds {
    /// Block means from every `step`-th row (the rows the search scans).
    fn new(img: &GrayImage, step: usize) -> Thresholds {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let step = step.max(1);
        // About 80 blocks along the long side: a 5x5 neighbourhood covers more than an eye.
        let block = (w.max(h) / 80).clamp(4, 32);
        let (bw, bh) = (w.div_ceil(block), h.div_ceil(block));
        let src = img.as_raw();
        let mut sums = vec![0u32; bw * bh];
        for y in (0..h).step_by(step) {
            let row = &src[y * w..(y + 1) * w];
            let acc = &mut sums[(y / block) * bw..(y / block + 1) * bw];
            for (b, chunk) in row.chunks(block).enumerate() {
                acc[b] += chunk.iter().map(|&p| u32::from(p)).sum::<u32>();
            }
        }
        let mut means = vec![0u32; bw * bh];
        for by in 0..bh {
            let rows = (by * block..((by + 1) * block).min(h))
                .filter(|y| y % step == 0)
                .count()
                .max(1);
            for bx in 0..bw {
                let cols = (bx * block..((bx + 1) * block).min(w)).len();
                means[by * bw + bx] = sums[by * bw + bx] / (rows * cols) as u32;
            }
        }
        let mut t = vec![0u8; bw * bh];
        for by in 0..bh {
            let (y0, y1) = (by.saturating_sub(2), (by + 3).min(bh));
            for bx in 0..bw {
                let (x0, x1) = (bx.saturating_sub(2), (bx + 3).min(bw));
                let mut s = 0;
                for yy in y0..y1 {
                    s += means[yy * bw + x0..yy * bw + x1].iter().sum::<u32>();
                }
                let n = ((y1 - y0) * (x1 - x0)) as u32;
                // A pixel is dark when it is below 95% of the local mean: sensor noise on a
                // flat wall does not flicker between dark and light.
                t[by * bw + bx] = (s * 95 / (n * 100)) as u8;
            }
        }
        Thresholds { block, bw, bh, t }
    }

    #[inline]
    fn dark(&self, img: &[u8], w: usize, x: usize, y: usize) -> bool {
        let b = (y / self.block).min(self.bh - 1) * self.bw + (x / self.block).min(self.bw - 1);
        img[y * w + x] < self.t[b]
    }
}

/// Whether five run lengths look like 1:1:3:1:1, with the given tolerance per module.
fn ratio_ok(c: &[u32; 5], tolerance: f32) -> bool {
    let total: u32 = c.iter().sum();
    if total < 7 || c.contains(&0) {
        return false;
    }
    let m = total as f32 / 7.0;
    let v = m * tolerance;
    (c[0] as f32 - m).abs() < v
        && (c[1] as f32 - m).abs() < v
        && (c[2] as f32 - 3.0 * m).abs() < 3.0 * v
        && (c[3] as f32 - m).abs() < v
        && (c[4] as f32 - m).abs() < v
}

const TOLERANCE: f32 = 0.7;

/// At most this many candidates are grouped into regions.
const MAX_GROUPED: usize = 48;

/// Walks the column through (x, y) up and down and checks the 1:1:3:1:1 runs there. Returns the
/// column's centre and total run length.
fn cross_check_vertical(
    img: &[u8],
    w: usize,
    h: usize,
    th: &Thresholds,
    x: usize,
    y: usize,
    expect: u32,
) -> Option<(f32, u32)> {
    let max = expect * 2;
    let mut c = [0u32; 5];
    let mut i = y as isize;
    let dark = |yy: isize| th.dark(img, w, x, yy as usize);
    while i >= 0 && dark(i) {
        c[2] += 1;
        i -= 1;
    }
    while i >= 0 && !dark(i) && c[1] <= max {
        c[1] += 1;
        i -= 1;
    }
    while i >= 0 && dark(i) && c[0] <= max {
        c[0] += 1;
        i -= 1;
    }
    let mut j = y as isize + 1;
    while (j as usize) < h && dark(j) {
        c[2] += 1;
        j += 1;
    }
    while (j as usize) < h && !dark(j) && c[3] <= max {
        c[3] += 1;
        j += 1;
    }
    while (j as usize) < h && dark(j) && c[4] <= max {
        c[4] += 1;
        j += 1;
    }
    let total: u32 = c.iter().sum();
    // The column must be about as long as the row (a square eye), and 1:1:3:1:1 itself.
    if 5 * total.abs_diff(expect) >= 2 * expect || !ratio_ok(&c, TOLERANCE) {
        return None;
    }
    let end = j as f32 - c[4] as f32 - c[3] as f32;
    Some((end - c[2] as f32 / 2.0, total))
}

/// Walks the diagonal through (x, y), up-left and down-right, and checks 1:1:3:1:1 there: a stripe
/// or an edge passes the row and column checks, an eye passes this one too.
fn cross_check_diagonal(img: &[u8], w: usize, h: usize, th: &Thresholds, x: usize, y: usize, expect: u32) -> bool {
    let max = expect;
    let mut c = [0u32; 5];
    let dark = |i: isize| th.dark(img, w, (x as isize + i) as usize, (y as isize + i) as usize);
    let lo = -(x.min(y) as isize);
    let hi = (w - 1 - x).min(h - 1 - y) as isize;
    let mut i = 0isize;
    while i >= lo && dark(i) {
        c[2] += 1;
        i -= 1;
    }
    while i >= lo && !dark(i) && c[1] <= max {
        c[1] += 1;
        i -= 1;
    }
    while i >= lo && dark(i) && c[0] <= max {
        c[0] += 1;
        i -= 1;
    }
    let mut j = 1isize;
    while j <= hi && dark(j) {
        c[2] += 1;
        j += 1;
    }
    while j <= hi && !dark(j) && c[3] <= max {
        c[3] += 1;
        j += 1;
    }
    while j <= hi && dark(j) && c[4] <= max {
        c[4] += 1;
        j += 1;
    }
    ratio_ok(&c, TOLERANCE)
}

/// Finds finder-pattern candidates, scanning every `step`-th row.
pub fn finders(img: &GrayImage, step: usize) -> Vec<Finder> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 21 || h < 21 {
        return Vec::new();
    }
    let th = Thresholds::new(img, step);
    let src = img.as_raw();
    let mut found: Vec<Finder> = Vec::new();
    // The row's dark/light mask, thresholded block by block (no division per pixel), plus one
    // light pixel past the right edge that closes a pattern touching it.
    let mut mask = vec![false; w + 1];
    for y in (0..h).step_by(step.max(1)) {
        let row = &src[y * w..(y + 1) * w];
        let trow = &th.t[(y / th.block).min(th.bh - 1) * th.bw..][..th.bw];
        for ((m, p), x) in mask[..w].chunks_mut(th.block).zip(row.chunks(th.block)).zip(0..) {
            let t = trow[x];
            for (m, &p) in m.iter_mut().zip(p) {
                *m = p < t;
            }
        }
        let mut c = [0u32; 5];
        let mut state = 0usize;
        for (x, &dark) in mask.iter().enumerate() {
            if dark {
                if state & 1 == 1 {
                    state += 1;
                }
                c[state] += 1;
                continue;
            }
            if state & 1 == 1 {
                c[state] += 1;
                continue;
            }
            if state < 4 {
                state += 1;
                c[state] += 1;
                continue;
            }
            if ratio_ok(&c, TOLERANCE) {
                let total: u32 = c.iter().sum();
                let cx = x as f32 - c[4] as f32 - c[3] as f32 - c[2] as f32 / 2.0;
                if let Some((cy, vtotal)) = cross_check_vertical(src, w, h, &th, cx as usize, y, total)
                    && cross_check_diagonal(src, w, h, &th, cx as usize, (cy as usize).min(h - 1), total)
                {
                    let module = (total + vtotal) as f32 / 14.0;
                    add(&mut found, cx, cy, module);
                }
            }
            c = [c[2], c[3], c[4], 1, 0];
            state = 3;
        }
    }
    found
}

/// Merges a hit into a candidate at the same place and scale, or adds a new one.
fn add(found: &mut Vec<Finder>, x: f32, y: f32, module: f32) {
    for f in found.iter_mut() {
        let near = (f.x - x).abs() <= f.module * 2.0 && (f.y - y).abs() <= f.module * 2.0;
        let same_scale = (f.module - module).abs() <= f.module.max(module) * 0.5;
        if near && same_scale {
            let n = f.hits as f32;
            f.x = (f.x * n + x) / (n + 1.0);
            f.y = (f.y * n + y) / (n + 1.0);
            f.module = (f.module * n + module) / (n + 1.0);
            f.hits += 1;
            return;
        }
    }
    found.push(Finder { x, y, module, hits: 1 });
}

/// Groups eyes that could belong to one code (similar module size, at most `span` modules
/// apart) and returns a crop around each group of at least two, best first (square corners, then
/// most eyes, then most hits), with a quiet margin of `margin` modules.
pub fn regions(found: &[Finder], w: u32, h: u32, span: f32, margin: f32) -> Vec<Region> {
    // A cluttered scene can give many lone hits: group only the best confirmed ones.
    let mut best: Vec<&Finder> = found.iter().collect();
    best.sort_by_key(|f| std::cmp::Reverse(f.hits));
    best.truncate(MAX_GROUPED);
    let found = best;
    let n = found.len();
    let mut group: Vec<usize> = (0..n).collect();
    fn root(g: &mut [usize], mut i: usize) -> usize {
        while g[i] != i {
            g[i] = g[g[i]];
            i = g[i];
        }
        i
    }
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (found[i], found[j]);
            let m = a.module.max(b.module);
            let similar = a.module.min(b.module) >= m / 1.6;
            let d = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
            if similar && d <= span * m && d >= 7.0 * m {
                let (ri, rj) = (root(&mut group, i), root(&mut group, j));
                group[ri] = rj;
            }
        }
    }
    let mut out: Vec<(Region, u32)> = Vec::new();
    for r in 0..n {
        if root(&mut group, r) != r {
            continue;
        }
        let members: Vec<&Finder> = (0..n).filter(|&i| root(&mut group, i) == r).map(|i| found[i]).collect();
        if members.len() < 2 {
            continue;
        }
        let module = members.iter().map(|f| f.module).sum::<f32>() / members.len() as f32;
        let hits = members.iter().map(|f| f.hits).sum();
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for f in &members {
            x0 = x0.min(f.x);
            y0 = y0.min(f.y);
            x1 = x1.max(f.x);
            y1 = y1.max(f.y);
        }
        // With two eyes, the third (and the code) may lie on either side of the pair.
        let extra = if members.len() == 2 {
            (x1 - x0).max(y1 - y0)
        } else {
            0.0
        };
        let pad = margin * module + extra;
        let rx0 = (x0 - pad).max(0.0) as u32;
        let ry0 = (y0 - pad).max(0.0) as u32;
        let rx1 = ((x1 + pad) as u32).min(w);
        let ry1 = ((y1 + pad) as u32).min(h);
        if rx1 <= rx0 || ry1 <= ry0 {
            continue;
        }
        out.push((
            Region {
                x: rx0,
                y: ry0,
                w: rx1 - rx0,
                h: ry1 - ry0,
                module,
                eyes: members.len() as u32,
                square: has_corner(&members),
            },
            hits,
        ));
    }
    out.sort_by_key(|(r, hits)| std::cmp::Reverse((r.square, r.eyes.min(3), *hits)));
    out.into_iter().map(|(r, _)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tests::qr;

    #[test]
    fn the_three_eyes_of_a_code_are_found_where_they_are() {
        let code = qr("OG1:LOCATE ME", 5);
        let mut frame = GrayImage::from_pixel(1280, 720, image::Luma([190]));
        image::imageops::overlay(&mut frame, &code, 400, 200);
        let found = finders(&frame, 2);
        assert_eq!(found.len(), 3, "{found:?}");
        for f in &found {
            assert!((f.module - 5.0).abs() < 1.0, "{f:?}");
            // Eyes sit 4 + 3.5 modules in from the code's corner (quiet zone of 4).
            let (ex, ey) = ((f.x - 400.0) / 5.0, (f.y - 200.0) / 5.0);
            assert!(
                [7.5, code.width() as f32 / 5.0 - 7.5]
                    .iter()
                    .any(|c| (ex - c).abs() < 1.0)
            );
            assert!(
                [7.5, code.height() as f32 / 5.0 - 7.5]
                    .iter()
                    .any(|c| (ey - c).abs() < 1.0)
            );
        }
        let regions = regions(&found, 1280, 720, 60.0, 8.0);
        assert_eq!(regions.len(), 1);
        let r = regions[0];
        assert_eq!(r.eyes, 3);
        assert!(r.square);
        assert!(r.x <= 400 + 20 && r.y <= 200 + 20, "{r:?}");
        assert!(
            r.x + r.w >= 400 + code.width() - 20 && r.y + r.h >= 200 + code.height() - 20,
            "{r:?}"
        );
    }

    #[test]
    fn a_flat_or_noisy_frame_has_no_eyes() {
        let flat = GrayImage::from_pixel(640, 480, image::Luma([128]));
        assert!(finders(&flat, 1).is_empty());
        let mut seed = 7u32;
        let noisy = GrayImage::from_fn(640, 480, |_, _| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            image::Luma([120 + (seed >> 28) as u8])
        });
        assert!(regions(&finders(&noisy, 1), 640, 480, 60.0, 8.0).is_empty());
        for (w, h) in [(0, 0), (1, 1), (21, 21), (3, 900)] {
            assert!(finders(&GrayImage::new(w, h), 1).is_empty());
        }
    }
}
