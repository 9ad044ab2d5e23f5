//! Decoding, resizing and encoding one image. Decoding reads the EXIF orientation but does not
//! rotate the full-size pixels: each variant is resized from the unrotated image and rotated
//! once small, which is faster and never holds a second full-size copy. Variants are encoded
//! from pixels alone, so no metadata (EXIF, GPS, XMP, ICC comments, camera serials) reaches a
//! published file.

use std::io::Cursor;

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::gif::GifDecoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::metadata::Orientation;
use image::{
    AnimationDecoder, DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits,
};
use t8k_core::images::Format;

/// Changes whenever a variant's bytes would: part of every variant key.
pub const ENCODER: &str = "t8k-images-1 libwebp(webp-0.3) jpeg-encoder-0.7 png-fast lanczos3";

pub use t8k_core::images::MAX_SIDE;
/// The most memory one decode may take (12,000 × 12,000 RGB is 412 MiB).
const MAX_ALLOC: u64 = 512 * 1024 * 1024;

/// A decoded original.
pub enum Decoded {
    /// Pixels as stored, and how to turn them upright.
    Still {
        pixels: DynamicImage,
        orientation: Orientation,
    },
    /// More than one frame (GIF or WebP): published as it is, never resized.
    Animated { width: u32, height: u32 },
}

/// Width and height of stored pixels once upright.
pub fn upright_size(pixels: &DynamicImage, orientation: Orientation) -> (u32, u32) {
    let (w, h) = (pixels.width(), pixels.height());
    if swaps_sides(orientation) {
        (h, w)
    } else {
        (w, h)
    }
}

fn swaps_sides(o: Orientation) -> bool {
    matches!(
        o,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

fn limits() -> Limits {
    t8k_core::images::decode_limits(MAX_ALLOC)
}

/// Decodes an original fully (a truncated file fails here). An animated image is not decoded
/// past its second frame.
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    reader.limits(limits());
    let format = reader.format();
    let animated = match format {
        Some(ImageFormat::Gif) => frames_at_least_two(bytes),
        Some(ImageFormat::WebP) => image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
            .map_err(|e| e.to_string())?
            .has_animation(),
        _ => false,
    };
    if animated {
        let (width, height) = reader.into_dimensions().map_err(|e| e.to_string())?;
        return Ok(Decoded::Animated { width, height });
    }
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let pixels = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    // Eight bits per channel, RGB or RGBA: what the resizer and every encoder take.
    let pixels = if pixels.color().has_alpha() {
        match pixels {
            DynamicImage::ImageRgba8(_) => pixels,
            other => DynamicImage::ImageRgba8(other.to_rgba8()),
        }
    } else {
        match pixels {
            DynamicImage::ImageRgb8(_) => pixels,
            other => DynamicImage::ImageRgb8(other.to_rgb8()),
        }
    };
    Ok(Decoded::Still {
        pixels,
        orientation,
    })
}

/// Whether a GIF has a second frame (reading at most two, within the decode limits).
fn frames_at_least_two(bytes: &[u8]) -> bool {
    let Ok(mut decoder) = GifDecoder::new(Cursor::new(bytes)) else {
        return false;
    };
    if decoder.set_limits(limits()).is_err() {
        return false;
    }
    decoder.into_frames().take(2).filter(Result::is_ok).count() >= 2
}

/// The unrotated image resized so that, once upright, it is `width` wide.
pub fn resize(src: &DynamicImage, orientation: Orientation, width: u32) -> DynamicImage {
    let (sw, sh) = (src.width(), src.height());
    let (upright_w, upright_h) = if swaps_sides(orientation) {
        (sh, sw)
    } else {
        (sw, sh)
    };
    let height = ((u64::from(upright_h) * u64::from(width) + u64::from(upright_w) / 2)
        / u64::from(upright_w.max(1)))
    .max(1) as u32;
    let (dw, dh) = if swaps_sides(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    if (dw, dh) == (sw, sh) {
        return src.clone();
    }
    let mut dst = DynamicImage::new(dw, dh, src.color());
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(src, &mut dst, &options)
        .expect("RGB8 and RGBA8 images of non-zero size always resize");
    dst
}

/// Turns a (small) variant upright.
pub fn upright(mut img: DynamicImage, orientation: Orientation) -> DynamicImage {
    img.apply_orientation(orientation);
    img
}

/// Encodes pixels in `format`; `quality` (1–100) for the lossy ones.
pub fn encode(img: &DynamicImage, format: Format, quality: u8) -> Result<Vec<u8>, String> {
    let (w, h) = (img.width(), img.height());
    match format {
        Format::Webp => {
            let encoder = match img {
                DynamicImage::ImageRgba8(b) => webp::Encoder::from_rgba(b.as_raw(), w, h),
                DynamicImage::ImageRgb8(b) => webp::Encoder::from_rgb(b.as_raw(), w, h),
                _ => return Err("only RGB and RGBA pixels are encoded".into()),
            };
            encoder
                .encode_simple(false, f32::from(quality))
                .map(|m| m.to_vec())
                .map_err(|e| format!("WebP encoding failed: {e:?}"))
        }
        Format::Jpeg => {
            let rgb = img.to_rgb8();
            let (w16, h16) = (
                u16::try_from(w).map_err(|_| "too wide for JPEG")?,
                u16::try_from(h).map_err(|_| "too tall for JPEG")?,
            );
            let mut out = Vec::new();
            jpeg_encoder::Encoder::new(&mut out, quality)
                .encode(rgb.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb)
                .map_err(|e| format!("JPEG encoding failed: {e}"))?;
            Ok(out)
        }
        Format::Png | Format::Gif => {
            let mut out = Vec::new();
            let (raw, color) = match img {
                DynamicImage::ImageRgba8(b) => (b.as_raw(), image::ExtendedColorType::Rgba8),
                DynamicImage::ImageRgb8(b) => (b.as_raw(), image::ExtendedColorType::Rgb8),
                _ => return Err("only RGB and RGBA pixels are encoded".into()),
            };
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, PngFilter::Adaptive)
                .write_image(raw, w, h, color)
                .map_err(|e| format!("PNG encoding failed: {e}"))?;
            Ok(out)
        }
    }
}
