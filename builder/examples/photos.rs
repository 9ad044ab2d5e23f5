//! Writes N camera-like 12-megapixel JPEGs (4000 × 3000, quality 90) for the image benchmark
//! (`scripts/bench-images.sh`): smooth gradients and soft shapes, like a scene, plus sensor-like
//! noise, so they compress as photos do (3–5 MB each), each different.
//!
//!     cargo run --release -p t8k-builder --example photos -- OUT_DIR N

use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(out), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse::<u32>().ok()))
    else {
        eprintln!("usage: photos OUT_DIR N");
        std::process::exit(2);
    };
    std::fs::create_dir_all(out).expect("the output folder can be made");
    (0..n).into_par_iter().for_each(|i| {
        let bytes = photo(i);
        std::fs::write(format!("{out}/photo-{i:04}.jpg"), bytes).expect("written");
    });
}

fn photo(seed: u32) -> Vec<u8> {
    let (w, h) = (4000u32, 3000u32);
    let mut state = 0x9e37_79b9_u32 ^ seed.wrapping_mul(0x85eb_ca6b);
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 25) as f32 - 12.0
    };
    let (cx, cy) = (
        (seed * 733 % w) as f32,
        (seed * 417 % h) as f32,
    );
    let hue = (seed % 7) as f32 / 7.0;
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt() / 900.0;
            let sun = (1.0 - d).max(0.0) * 120.0;
            let wave = ((fx * 9.0 + hue * 6.0).sin() * (fy * 7.0).cos()) * 40.0;
            let r = 60.0 + 140.0 * fy + sun + wave + noise();
            let g = 80.0 + 90.0 * (1.0 - fx) * (0.5 + hue) + sun * 0.8 + noise();
            let b = 170.0 - 120.0 * fy + wave * 0.5 + noise();
            px.extend([r, g, b].map(|c| c.clamp(0.0, 255.0) as u8));
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&px, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encodes");
    out
}
