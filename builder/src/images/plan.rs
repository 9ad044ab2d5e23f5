//! Which variants an original gets, and how pages show them once they all exist.

use t8k_core::images::{self, Format, Index, Params};

use super::{Settings, Shown, Variant, codec};

/// The widths an original `w` pixels wide (upright) is shown at: the theme's widths up to
/// its own, plus its own width when the theme wants wider.
fn widths(w: u32, s: &Settings) -> Vec<u32> {
    let mut out: Vec<u32> = s.widths.iter().copied().filter(|&x| x <= w).collect();
    if s.widths.iter().any(|&x| x > w) {
        out.push(w);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The fallback family of an original: JPEG stays JPEG, PNG and (still) GIF become PNG; a
/// WebP original needs none.
fn family(original: Format) -> Option<Format> {
    match original {
        Format::Jpeg => Some(Format::Jpeg),
        Format::Png | Format::Gif => Some(Format::Png),
        Format::Webp => None,
    }
}

fn params(width: u32, format: Format, s: &Settings) -> Params {
    Params {
        width,
        format,
        quality: s.quality,
    }
}

fn social_params(w: u32, original: Format, s: &Settings) -> Params {
    params(
        s.social_width.min(w),
        family(original).unwrap_or(Format::Webp),
        s,
    )
}

/// Every variant an upright original `w` pixels wide gets: each width in WebP and in its
/// family, and the OpenGraph width in its family.
pub(super) fn plan(w: u32, original: Format, s: &Settings) -> Vec<Params> {
    let mut out: Vec<Params> = widths(w, s)
        .into_iter()
        .flat_map(|width| {
            std::iter::once(Format::Webp)
                .chain(family(original))
                .map(move |format| params(width, format, s))
        })
        .collect();
    out.push(social_params(w, original, s));
    out.sort();
    out.dedup();
    out
}

/// How pages show an original whose planned variants are all in `index` (`None` if one is
/// missing).
pub(super) fn shown(index: &Index, sha: &str, original: Format, s: &Settings) -> Option<Shown> {
    let variant = |p: Params| {
        let key = images::variant_key(sha, &p, codec::ENCODER);
        let made = index.variants.get(&key)?;
        Some(Variant {
            width: made.width,
            height: made.height,
            format: p.format,
            key,
        })
    };
    let set = |format: Format| -> Option<Vec<Variant>> {
        widths(index.width, s)
            .into_iter()
            .map(|w| variant(params(w, format, s)))
            .collect()
    };
    Some(Shown::Responsive {
        webp: set(Format::Webp)?,
        fallback: match family(original) {
            Some(f) => set(f)?,
            None => vec![],
        },
        social: variant(social_params(index.width, original, s))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widths_of(w: u32, original: Format) -> Vec<(u32, Format)> {
        plan(w, original, &Settings::default())
            .into_iter()
            .map(|p| (p.width, p.format))
            .collect()
    }

    #[test]
    fn variants_never_upscale_and_cover_the_theme_widths() {
        use Format::*;
        assert_eq!(
            widths_of(4000, Jpeg),
            [
                (480, Webp),
                (480, Jpeg),
                (960, Webp),
                (960, Jpeg),
                (1200, Jpeg),
                (1600, Webp),
                (1600, Jpeg)
            ]
        );
        // Narrower than the theme's widest: its own width instead; the social card at it.
        assert_eq!(
            widths_of(700, Png),
            [(480, Webp), (480, Png), (700, Webp), (700, Png)]
        );
        // Smaller than every width: one variant at its own size; WebP needs no fallback.
        assert_eq!(widths_of(300, Webp), [(300, Webp)]);
        assert!(widths_of(12_000, Gif).iter().all(|(w, _)| *w <= 1600));
    }
}
