//! Writes N camera-like 12-megapixel JPEGs (4000 × 3000, quality 90) for the image benchmark
//! (`scripts/bench-images.sh`): smooth gradients and soft shapes, like a scene, plus sensor-like
//! noise, so they compress as photos do (3–5 MB each), each different.
//!
//!     cargo run --release -p t8k-builder --example photos -- OUT_DIR N [WIDTH HEIGHT]

use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let number = |i: usize, default: u32| args.get(i).map_or(Some(default), |n| n.parse().ok());
    let (Some(out), Some(n), Some(w), Some(h)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<u32>().ok()),
        number(3, 4000),
        number(4, 3000),
    ) else {
        eprintln!("usage: photos OUT_DIR N [WIDTH HEIGHT]");
        std::process::exit(2);
    };
    std::fs::create_dir_all(out).expect("the output folder can be made");
    (0..n).into_par_iter().for_each(|i| {
        let bytes = photo(i, w, h);
        std::fs::write(format!("{out}/photo-{i:04}.jpg"), bytes).expect("written");
    });
}

/// A random lattice every `step` pixels, read with bilinear interpolation: texture at one
/// scale. Several scales together give the detail a photo has at every size.
struct Octave {
    step: u32,
    cols: u32,
    values: Vec<f32>,
    amplitude: f32,
}

impl Octave {
    fn new(w: u32, h: u32, step: u32, amplitude: f32, rand: &mut impl FnMut() -> f32) -> Octave {
        let (cols, rows) = (w / step + 2, h / step + 2);
        Octave {
            step,
            cols,
            values: (0..cols * rows).map(|_| rand()).collect(),
            amplitude,
        }
    }

    fn at(&self, x: u32, y: u32) -> f32 {
        let (gx, gy) = (x / self.step, y / self.step);
        let (fx, fy) = (
            (x % self.step) as f32 / self.step as f32,
            (y % self.step) as f32 / self.step as f32,
        );
        let v = |cx: u32, cy: u32| self.values[(cy * self.cols + cx) as usize];
        let top = v(gx, gy) * (1.0 - fx) + v(gx + 1, gy) * fx;
        let bottom = v(gx, gy + 1) * (1.0 - fx) + v(gx + 1, gy + 1) * fx;
        (top * (1.0 - fy) + bottom * fy) * self.amplitude
    }
}

fn photo(seed: u32, w: u32, h: u32) -> Vec<u8> {
    let mut state = 0x9e37_79b9_u32 ^ seed.wrapping_mul(0x85eb_ca6b);
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 1000) as f32 / 500.0 - 1.0
    };
    // Texture from foliage-sized detail up to large shapes, and sensor noise.
    let octaves: Vec<Octave> = [(3, 14.0), (9, 22.0), (27, 26.0), (81, 30.0), (243, 40.0)]
        .into_iter()
        .map(|(step, amp)| Octave::new(w, h, step, amp, &mut rand))
        .collect();
    let hue = (seed % 7) as f32 / 7.0;
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
            let t: f32 = octaves.iter().map(|o| o.at(x, y)).sum();
            let grain = rand() * 6.0;
            let r = 70.0 + 120.0 * fy + t + grain;
            let g = 90.0 + 80.0 * (1.0 - fx) * (0.5 + hue) + t * 0.9 + grain;
            let b = 160.0 - 100.0 * fy + t * 0.6 + grain;
            px.extend([r, g, b].map(|c| c.clamp(0.0, 255.0) as u8));
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&px, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encodes");
    out
}
