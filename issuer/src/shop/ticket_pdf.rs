//! The PDF ticket: one A4 page per ticket (an order's tickets are pages of one document), made
//! by krilla (Typst's PDF writer, pure Rust) with DejaVu Sans embedded and subset
//! (`issuer/assets/fonts`, Bitstream Vera licence: Latin, Greek and Cyrillic names print as
//! typed) and shaped by rustybuzz.
//!
//! Pure: the input is a [`TicketSheet`] whose labels and values are already in the buyer's
//! language (`ticket_docs` gathers and words them), the output is the PDF's bytes. The QR code
//! is vector (one filled path from the `qrcode` crate's modules, level M like every code we
//! show), 6 cm wide with its 4-module quiet zone, so a gate reads it printed on A4 at any
//! printer resolution. A sheet whose event requires the phone-bound code carries no QR at all,
//! only why and what to do.

use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use qrcode::{Color, EcLevel, QrCode};

/// What one page says, every word already in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSheet {
    /// BCP 47 tag of the words (`en`, `fr`): the PDF's language, for screen readers.
    pub lang: String,
    /// The band at the top (`E-ticket`).
    pub heading: String,
    /// The ticket number as the band's right side shows it (`Ticket 1002`).
    pub number: String,
    pub event: String,
    pub sport: String,
    /// Label and value rows, in order: date, doors, venue and address, offer and who it admits,
    /// holder, ticket number.
    pub rows: Vec<(String, String)>,
    pub code: SheetCode,
    /// The box under the details: how entry works.
    pub entry_title: String,
    pub entry_lines: Vec<String>,
    /// The small print at the bottom of the page.
    pub footer: String,
}

/// What the code area of a page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetCode {
    /// The static code: the QR's text and the caption under it.
    Qr { text: String, caption: String },
    /// The event requires the live code on the holder's phone: no QR, a box saying so.
    PhoneOnly { title: String, lines: Vec<String> },
}

/// Why a PDF could not be made (a QR text too long for a code, a font that failed to load).
#[derive(Debug, thiserror::Error)]
#[error("the PDF ticket could not be made: {0}")]
pub struct PdfError(String);

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 48.0;
/// The QR with its quiet zone: 6 cm.
pub const QR_SIDE_PT: f32 = 6.0 / 2.54 * 72.0;
const BAND_H: f32 = 64.0;
const GAP: f32 = 24.0;

const INK: (u8, u8, u8) = (0x1a, 0x1a, 0x1a);
const MUTED: (u8, u8, u8) = (0x55, 0x5b, 0x66);
const NAVY: (u8, u8, u8) = (0x0b, 0x25, 0x45);
const PANEL: (u8, u8, u8) = (0xee, 0xf1, 0xf5);
const WHITE: (u8, u8, u8) = (0xff, 0xff, 0xff);

/// One font, for krilla (embedding) and for rustybuzz (shaping and measuring), loaded once per
/// process ([`fonts`]) with the shaping plans it has needed so far.
struct Face {
    pdf: Font,
    shaper: rustybuzz::Face<'static>,
    upem: f32,
    /// rustybuzz's plans by the text's direction and script. Making a plan is most of what
    /// shaping one short line costs (`rustybuzz::shape` makes one per call), and a page shapes
    /// a few hundred lines and candidate lines (`wrap`): made once, a plan serves every page.
    plans: Mutex<Vec<(PlanKey, Arc<rustybuzz::ShapePlan>)>>,
}

/// What a shaping plan depends on (no features are asked for, the language is never set).
type PlanKey = (rustybuzz::Direction, Option<rustybuzz::Script>);

impl Face {
    fn load(bytes: &'static [u8]) -> Result<Face, PdfError> {
        let data: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(bytes);
        let pdf = Font::new(data.into(), 0).ok_or_else(|| PdfError("font".into()))?;
        let shaper = rustybuzz::Face::from_slice(bytes, 0).ok_or_else(|| PdfError("font".into()))?;
        let upem = f32::from(shaper.units_per_em().max(1) as u16);
        Ok(Face {
            pdf,
            shaper,
            upem,
            plans: Mutex::new(Vec::new()),
        })
    }

    /// The plan for a buffer whose segment properties are set: the one made before for its
    /// direction and script, or a new one kept for next time.
    fn plan(&self, buffer: &rustybuzz::UnicodeBuffer) -> Arc<rustybuzz::ShapePlan> {
        let script = Some(buffer.script()).filter(|s| *s != rustybuzz::script::UNKNOWN);
        let key: PlanKey = (buffer.direction(), script);
        // A poisoned lock only means another page panicked mid-way: the plans are still whole.
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, plan)) = plans.iter().find(|(k, _)| *k == key) {
            return plan.clone();
        }
        let plan = Arc::new(rustybuzz::ShapePlan::new(&self.shaper, key.0, key.1, None, &[]));
        plans.push((key, plan.clone()));
        plan
    }

    /// Left-to-right glyphs of a line (normalised advances) and its width at `size`.
    fn shape(&self, text: &str, size: f32) -> (Vec<KrillaGlyph>, f32) {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let plan = self.plan(&buffer);
        let out = rustybuzz::shape_with_plan(&self.shaper, &plan, buffer);
        let infos = out.glyph_infos();
        let positions = out.glyph_positions();
        let mut glyphs = Vec::with_capacity(infos.len());
        let mut width = 0.0;
        for (i, (info, pos)) in infos.iter().zip(positions).enumerate() {
            let start = info.cluster as usize;
            let end = infos[i + 1..]
                .iter()
                .find(|n| n.cluster != info.cluster)
                .map_or(text.len(), |n| n.cluster as usize);
            let range: Range<usize> = start.min(end)..start.max(end);
            let advance = pos.x_advance as f32 / self.upem;
            width += advance * size;
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                advance,
                pos.x_offset as f32 / self.upem,
                pos.y_offset as f32 / self.upem,
                pos.y_advance as f32 / self.upem,
                range,
                None,
            ));
        }
        (glyphs, width)
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        self.shape(text, size).1
    }

    /// Splits `text` into lines no wider than `max` (words kept whole unless one alone is wider).
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the column (a long e-mail or URL): cut it.
            let mut piece = String::new();
            for ch in word.chars() {
                piece.push(ch);
                if self.width(&piece, size) > max && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(ch);
                }
            }
            line = piece;
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
}

/// The two faces, parsed once per process (the same bytes for every page ever made).
fn fonts() -> Result<&'static Fonts, PdfError> {
    static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Ok(Fonts {
                regular: Face::load(REGULAR).map_err(|e| e.0)?,
                bold: Face::load(BOLD).map_err(|e| e.0)?,
            })
        })
        .as_ref()
        .map_err(|e| PdfError(e.clone()))
}

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        ..Fill::default()
    }
}

fn rect(s: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32, colour: (u8, u8, u8)) {
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(x, y, w, h) {
        pb.push_rect(r);
    }
    if let Some(path) = pb.finish() {
        s.set_stroke(None);
        s.set_fill(Some(fill(colour)));
        s.draw_path(&path);
    }
}

fn frame(s: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32, colour: (u8, u8, u8), width: f32) {
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(x, y, w, h) {
        pb.push_rect(r);
    }
    if let Some(path) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(Stroke {
            paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
            width,
            ..Stroke::default()
        }));
        s.draw_path(&path);
        s.set_stroke(None);
    }
}

/// Draws one line with its baseline at `y`.
fn line(s: &mut Surface<'_>, face: &Face, size: f32, x: f32, y: f32, text: &str, colour: (u8, u8, u8)) {
    let (glyphs, _) = face.shape(text, size);
    s.set_stroke(None);
    s.set_fill(Some(fill(colour)));
    s.draw_glyphs(Point::from_xy(x, y), &glyphs, face.pdf.clone(), text, size, false);
}

/// Draws `text` wrapped to `max` from the baseline `y`; returns the baseline after the last line.
#[allow(clippy::too_many_arguments)]
fn paragraph(
    s: &mut Surface<'_>,
    face: &Face,
    size: f32,
    x: f32,
    y: f32,
    max: f32,
    text: &str,
    colour: (u8, u8, u8),
) -> f32 {
    let mut y = y;
    for l in face.wrap(text, size, max) {
        line(s, face, size, x, y, &l, colour);
        y += size * 1.3;
    }
    y
}

/// Draws the QR's dark modules as one vector path, quiet zone included in `side`.
///
/// The path is written in module units under a scaling transform, so every coordinate is a
/// small integer (`12 7 m`) instead of a position in points with decimals, and a run repeated in
/// the rows below is one taller rectangle: less to format and compress (a page 5-10 % faster and
/// 6 % smaller than with a rectangle in points per row's run, BENCHMARKS.md).
fn qr(s: &mut Surface<'_>, text: &str, x: f32, y: f32, side: f32) -> Result<(), PdfError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError(format!("QR code: {e}")))?;
    let n = code.width();
    let quiet = 4;
    let module = side / (n + 2 * quiet) as f32;
    rect(s, x, y, side, side, WHITE);
    let mut pb = PathBuilder::new();
    for (left, top, width, height) in dark_rectangles(&code.to_colors(), n) {
        let (l, t) = ((left + quiet) as f32, (top + quiet) as f32);
        if let Some(r) = Rect::from_xywh(l, t, width as f32, height as f32) {
            pb.push_rect(r);
        }
    }
    if let Some(path) = pb.finish() {
        s.push_transform(&Transform::from_row(module, 0.0, 0.0, module, x, y));
        s.set_stroke(None);
        s.set_fill(Some(fill((0, 0, 0))));
        s.draw_path(&path);
        s.pop();
    }
    Ok(())
}

/// The dark modules of an `n` by `n` code as rectangles (left, top, width, height), in modules:
/// each row's runs of dark modules, a run extended down over the rows below that have the
/// same run.
fn dark_rectangles(colors: &[Color], n: usize) -> Vec<(usize, usize, usize, usize)> {
    let dark = |row: usize, col: usize| colors[row * n + col] == Color::Dark;
    // A run (row, start, end) is drawn by the rectangle of the first row it appears in.
    let run_at = |row: usize, start: usize, end: usize| {
        (start == 0 || !dark(row, start - 1)) && (end == n || !dark(row, end)) && (start..end).all(|c| dark(row, c))
    };
    let mut out = Vec::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if !dark(row, col) {
                col += 1;
                continue;
            }
            let start = col;
            while col < n && dark(row, col) {
                col += 1;
            }
            if row > 0 && run_at(row - 1, start, col) {
                continue;
            }
            let mut height = 1;
            while row + height < n && run_at(row + height, start, col) {
                height += 1;
            }
            out.push((start, row, col - start, height));
        }
    }
    out
}

fn page(s: &mut Surface<'_>, f: &Fonts, sheet: &TicketSheet) -> Result<(), PdfError> {
    let content_w = PAGE_W - 2.0 * MARGIN;
    // The band: what this is, and its number.
    rect(s, 0.0, 0.0, PAGE_W, BAND_H, NAVY);
    line(s, &f.bold, 15.0, MARGIN, 40.0, &sheet.heading, WHITE);
    let nw = f.bold.width(&sheet.number, 15.0);
    line(s, &f.bold, 15.0, PAGE_W - MARGIN - nw, 40.0, &sheet.number, WHITE);

    // Event and sport.
    let mut y = BAND_H + 44.0;
    for l in f.bold.wrap(&sheet.event, 24.0, content_w) {
        line(s, &f.bold, 24.0, MARGIN, y, &l, INK);
        y += 30.0;
    }
    y = paragraph(s, &f.regular, 14.0, MARGIN, y, content_w, &sheet.sport, MUTED);
    y += 4.0;
    rect(s, MARGIN, y, content_w, 1.0, PANEL);
    y += GAP;

    // The code (or why there is none) on the right, the details on the left.
    let code_x = PAGE_W - MARGIN - QR_SIDE_PT;
    let top = y;
    let mut code_bottom = top + QR_SIDE_PT;
    match &sheet.code {
        SheetCode::Qr { text, caption } => {
            qr(s, text, code_x, top, QR_SIDE_PT)?;
            frame(s, code_x, top, QR_SIDE_PT, QR_SIDE_PT, PANEL, 1.0);
            code_bottom = paragraph(
                s,
                &f.regular,
                9.0,
                code_x,
                code_bottom + 14.0,
                QR_SIDE_PT,
                caption,
                MUTED,
            );
        }
        SheetCode::PhoneOnly { title, lines } => {
            let inner = QR_SIDE_PT - 20.0;
            // The box grows with its words (a long address, a longer language).
            let mut needed = 24.0 + f.bold.wrap(title, 12.0, inner).len() as f32 * 12.0 * 1.3 + 4.0;
            for l in lines {
                needed += f.regular.wrap(l, 9.5, inner).len() as f32 * 9.5 * 1.3 + 3.0;
            }
            let box_h = QR_SIDE_PT.max(needed);
            code_bottom = top + box_h;
            rect(s, code_x, top, QR_SIDE_PT, box_h, PANEL);
            frame(s, code_x, top, QR_SIDE_PT, box_h, NAVY, 2.0);
            let mut ty = paragraph(s, &f.bold, 12.0, code_x + 10.0, top + 24.0, inner, title, NAVY);
            ty += 4.0;
            for l in lines {
                ty = paragraph(s, &f.regular, 9.5, code_x + 10.0, ty, inner, l, INK) + 3.0;
            }
            code_bottom = code_bottom.max(ty);
        }
    }
    let left_w = code_x - MARGIN - GAP;
    let mut ly = top + 10.0;
    for (label, value) in &sheet.rows {
        line(s, &f.regular, 9.0, MARGIN, ly, label, MUTED);
        ly = paragraph(s, &f.bold, 12.5, MARGIN, ly + 16.0, left_w, value, INK) + 6.0;
    }
    y = ly.max(code_bottom) + GAP;

    // How entry works.
    let inner = content_w - 32.0;
    let mut body_h = 16.0 + 12.0 * 1.3 + 6.0;
    for l in &sheet.entry_lines {
        body_h += f.regular.wrap(l, 10.0, inner).len() as f32 * 13.0 + 4.0;
    }
    rect(s, MARGIN, y, content_w, body_h + 8.0, PANEL);
    let mut ty = line_then(s, &f.bold, 12.0, MARGIN + 16.0, y + 24.0, &sheet.entry_title, NAVY);
    ty += 4.0;
    for l in &sheet.entry_lines {
        ty = paragraph(s, &f.regular, 10.0, MARGIN + 16.0, ty, inner, l, INK) + 4.0;
    }

    // Small print.
    let fy = PAGE_H - MARGIN + 10.0;
    paragraph(s, &f.regular, 8.0, MARGIN, fy, content_w, &sheet.footer, MUTED);
    Ok(())
}

fn line_then(s: &mut Surface<'_>, face: &Face, size: f32, x: f32, y: f32, text: &str, c: (u8, u8, u8)) -> f32 {
    paragraph(s, face, size, x, y, PAGE_W, text, c)
}

/// The PDF: one A4 page per sheet (at least one sheet).
pub fn render(title: &str, sheets: &[TicketSheet]) -> Result<Vec<u8>, PdfError> {
    if sheets.is_empty() {
        return Err(PdfError("no ticket to print".into()));
    }
    let fonts = fonts()?;
    let mut doc = Document::new();
    let settings = || PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| PdfError("page size".into()));
    for sheet in sheets {
        let mut p = doc.start_page_with(settings()?);
        let mut s = p.surface();
        page(&mut s, fonts, sheet)?;
        s.finish();
        p.finish();
    }
    doc.set_metadata(
        Metadata::new()
            .title(title.to_owned())
            .language(sheets[0].lang.clone())
            .creator("og-tickets".to_owned()),
    );
    doc.finish().map_err(|e| PdfError(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(code: SheetCode) -> TicketSheet {
        TicketSheet {
            lang: "en".into(),
            heading: "E-ticket".into(),
            number: "Ticket 1002".into(),
            event: "Athletics: men's 100 m final".into(),
            sport: "Athletics".into(),
            rows: vec![("Holder".into(), "Léa Martin-Ødegård".into())],
            code,
            entry_title: "How entry works".into(),
            entry_lines: vec!["Show this page at the gate.".into()],
            footer: "og-tickets".into(),
        }
    }

    #[test]
    fn a_page_is_a_pdf_and_a_long_word_is_cut_to_the_column() {
        let pdf = render(
            "t",
            &[sheet(SheetCode::Qr {
                text: "OG2:TEST".into(),
                caption: "c".into(),
            })],
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let f = Face::load(REGULAR).unwrap();
        let lines = f.wrap("a-very-long-address-that-cannot-fit@example.org and more", 10.0, 60.0);
        assert!(lines.len() > 2, "{lines:?}");
        assert!(lines.iter().all(|l| f.width(l, 10.0) <= 60.0), "{lines:?}");
        assert!(render("t", &[]).is_err(), "no sheet, no PDF");
    }

    #[test]
    fn a_line_shaped_with_a_kept_plan_has_the_glyphs_of_one_shaped_alone_in_any_script() {
        let face = Face::load(REGULAR).unwrap();
        let lines = [
            "Léa Martin-Ødegård",
            "Γιώργος Παπαδόπουλος",
            "Анна Иванова",
            "1002",
            "AVAWAY, 10 m",
        ];
        for text in lines.iter().chain(&lines) {
            let (glyphs, width) = face.shape(text, 12.0);
            let mut buffer = rustybuzz::UnicodeBuffer::new();
            buffer.push_str(text);
            let alone = rustybuzz::shape(&face.shaper, &[], buffer);
            let ids: Vec<u32> = glyphs.iter().map(|g| g.glyph_id.to_u32()).collect();
            let alone_ids: Vec<u32> = alone.glyph_infos().iter().map(|i| i.glyph_id).collect();
            assert_eq!(ids, alone_ids, "{text}");
            let alone_width: i32 = alone.glyph_positions().iter().map(|p| p.x_advance).sum();
            assert!((width - alone_width as f32 / face.upem * 12.0).abs() < 1e-3, "{text}");
        }
        // One plan per script met (Latin, Greek, Cyrillic, none for digits), made once each.
        assert_eq!(face.plans.lock().unwrap().len(), 4);
    }

    #[test]
    fn the_qr_rectangles_cover_every_dark_module_once_and_no_light_one() {
        let text = "OG2:".to_owned() + &"7Q-ZB4.SK2%*9PDFUB4:1$M0 F$T".repeat(6)[..150];
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
        let (n, colors) = (code.width(), code.to_colors());
        let mut painted = vec![0u8; n * n];
        for (left, top, width, height) in dark_rectangles(&colors, n) {
            for row in top..top + height {
                for col in left..left + width {
                    painted[row * n + col] += 1;
                }
            }
        }
        for (i, colour) in colors.iter().enumerate() {
            let want = u8::from(*colour == Color::Dark);
            assert_eq!(painted[i], want, "module ({}, {})", i / n, i % n);
        }
    }

    #[test]
    fn the_qr_with_its_quiet_zone_is_six_centimetres_wide() {
        assert!((QR_SIDE_PT / 72.0 * 2.54 - 6.0).abs() < 0.01);
    }
}
