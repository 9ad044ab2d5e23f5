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
