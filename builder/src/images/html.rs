//! The markup of an image on a page: `<picture>` with a WebP `<source>` and an `<img>` in the
//! original's family, both with `srcset` and the theme's `sizes`; `width` and `height` so the
//! page does not shift as it loads; lazy loading for every image but a page's first.

use super::{Image, Shown, Variant};
use crate::markdown::escape;

/// The `<img>` `src` for browsers without `srcset`: the variant nearest a common column width.
const PLAIN_WIDTH: u32 = 1024;

fn srcset(variants: &[Variant]) -> String {
    variants
        .iter()
        .map(|v| format!("{} {}w", v.url(), v.width))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `loading`/`decoding` (or a high fetch priority for a page's first image), alt and title.
fn common(alt: &str, title: Option<&str>, eager: bool) -> String {
    let mut a = format!(" alt=\"{}\"", escape(alt));
    if let Some(t) = title.filter(|t| !t.is_empty()) {
        a.push_str(&format!(" title=\"{}\"", escape(t)));
    }
    a.push_str(if eager {
        " fetchpriority=\"high\""
    } else {
        " loading=\"lazy\" decoding=\"async\""
    });
    a
}

/// The markup for `image`, linked at `src` (its media URL) in the content.
pub fn picture(
    image: &Image,
    src: &str,
    alt: &str,
    title: Option<&str>,
    sizes: &str,
    eager: bool,
) -> String {
    let attrs = common(alt, title, eager);
    let sizes = escape(sizes);
    match &image.shown {
        Shown::AsIs { size, .. } => {
            let size = size
                .map(|(w, h)| format!(" width=\"{w}\" height=\"{h}\""))
                .unwrap_or_default();
            format!("<img src=\"{}\"{size}{attrs}>", escape(src))
        }
        Shown::Responsive { webp, fallback, .. } => {
            let (source, img) = if fallback.is_empty() {
                (String::new(), webp)
            } else {
                (
                    format!(
                        "<source type=\"image/webp\" srcset=\"{}\" sizes=\"{sizes}\">",
                        srcset(webp)
                    ),
                    fallback,
                )
            };
            let widest = img.last().expect("a responsive image has variants");
            let plain = img
                .iter()
                .rev()
                .find(|v| v.width <= PLAIN_WIDTH)
                .unwrap_or(&img[0]);
            format!(
                "<picture>{source}<img src=\"{}\" srcset=\"{}\" sizes=\"{sizes}\" width=\"{}\" height=\"{}\"{attrs}></picture>",
                plain.url(),
                srcset(img),
                widest.width,
                widest.height
            )
        }
    }
}
