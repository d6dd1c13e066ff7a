//! Renders a ticket's QR text as PNG or SVG: error-correction level M, the standard 4-module
//! quiet zone, black on white. The text is the signed ticket (`OG1:` + Base45), which fits a
//! version-6 symbol.

use image::{ImageEncoder, Luma};
use qrcode::{EcLevel, QrCode};

use crate::error::{AppError, AppResult};

fn code(text: &str) -> AppResult<QrCode> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(AppError::internal)
}

/// PNG bytes, `module_px` pixels per module (quiet zone included).
pub fn png(text: &str, module_px: u32) -> AppResult<Vec<u8>> {
    let img = code(text)?
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .build();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::L8)
        .map_err(AppError::internal)?;
    Ok(out)
}

/// An SVG document that scales to its container (quiet zone included).
pub fn svg(text: &str) -> AppResult<String> {
    Ok(code(text)?
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(320, 320)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}
