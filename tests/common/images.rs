//! Images for upload tests, encoded as PNG in memory, and the upload request itself.

use std::io::Cursor;

use super::{HttpResponse, http_with_body};

fn encode(img: image::RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(vec![]);
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A smooth gradient: compresses well, decodes to 3 bytes a pixel.
pub fn gradient_png(width: u32, height: u32) -> Vec<u8> {
    encode(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    }))
}

/// One colour (`shade` makes images distinct): a few KB sent, width × height × 3 decoded.
pub fn flat_png(width: u32, height: u32, shade: u8) -> Vec<u8> {
    encode(image::RgbImage::from_pixel(
        width,
        height,
        image::Rgb([shade, 90, 200]),
    ))
}

/// Noise, which PNG cannot compress: about 3 bytes a pixel, different for every `seed`.
pub fn noisy_png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_u32 ^ seed.wrapping_mul(0x9e37_79b9);
    encode(image::RgbImage::from_fn(width, height, |_, _| {
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state & 0xff) as u8
        };
        image::Rgb([next(), next(), next()])
    }))
}

/// `POST /api/media` at `host` with `bytes` as the body, as the tenant's signed-in editor.
pub fn upload_media(port: u16, host: &str, cookie: &str, bytes: &[u8]) -> HttpResponse {
    http_with_body(
        port,
        "POST",
        host,
        "/api/media",
        &[("Content-Type", "image/png"), ("Cookie", cookie)],
        bytes,
    )
}

/// A TIFF (Exif) block, little-endian: Orientation `orientation` in IFD0 and a GPS IFD with
/// GPSLatitudeRef "N" and GPSLatitude 52° 31' 0" — what a phone photo carries.
fn exif_with_gps(orientation: u16) -> Vec<u8> {
    let mut t: Vec<u8> = b"II\x2a\x00".to_vec();
    t.extend(8u32.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(count.to_le_bytes());
        t.extend(value);
    };
    // IFD0 at 8: two entries, ends at 8 + 2 + 24 + 4 = 38, where the GPS IFD starts.
    t.extend(2u16.to_le_bytes());
    let o = orientation.to_le_bytes();
    entry(&mut t, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, 4, 1, 38u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    // GPS IFD at 38: two entries, its rationals after it at 38 + 2 + 24 + 4 = 68.
    t.extend(2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, 68u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    for (num, den) in [(52u32, 1u32), (31, 1), (0, 1)] {
        t.extend(num.to_le_bytes());
        t.extend(den.to_le_bytes());
    }
    t
}

/// A camera JPEG stored sideways: `width` × `height` pixels, red on the left half and blue on
/// the right, EXIF orientation 6 (turn 90° clockwise to view: red on top) and a GPS position.
pub fn sideways_photo_with_gps(width: u32, height: u32) -> Vec<u8> {
    use image::ImageEncoder;
    let img = image::RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            image::Rgb([220, 20, 20])
        } else {
            image::Rgb([20, 20, 220])
        }
    });
    let mut out = vec![];
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    enc.set_exif_metadata(exif_with_gps(6)).unwrap();
    enc.write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A PNG with an alpha channel: opaque green on the left half, fully transparent on the right.
pub fn half_transparent_png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            image::Rgba([20, 180, 60, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let mut out = Cursor::new(vec![]);
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A GIF of `frames` frames (one is a still image).
pub fn gif(width: u32, height: u32, frames: u8) -> Vec<u8> {
    let mut out = vec![];
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut out);
        if frames > 1 {
            enc.set_repeat(image::codecs::gif::Repeat::Infinite)
                .unwrap();
        }
        for f in 0..frames {
            let buf =
                image::RgbaImage::from_pixel(width, height, image::Rgba([f * 60, 90, 160, 255]));
            enc.encode_frame(image::Frame::new(buf)).unwrap();
        }
    }
    out
}

/// A (lossless) WebP of a gradient.
pub fn gradient_webp(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 40])
    });
    let mut out = Cursor::new(vec![]);
    img.write_to(&mut out, image::ImageFormat::WebP).unwrap();
    out.into_inner()
}

/// Whether `bytes` (JPEG, PNG, WebP …) carry any EXIF block.
pub fn has_exif(bytes: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .is_ok()
}

/// Whether `bytes` carry a GPS latitude.
pub fn has_gps(bytes: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .is_ok_and(|e| {
            e.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
                .is_some()
        })
}
