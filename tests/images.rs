//! Responsive images, end to end through the real binary: a site imported with a sideways
//! phone photo (EXIF orientation 6 and a GPS position), a PNG with alpha, a still and an
//! animated GIF, a WebP and a truncated PNG. The build publishes each in the theme's widths
//! (never upscaled), upright, as WebP and in its own family, with no EXIF anywhere; pages get
//! `<picture>`/`srcset`/`sizes`/`width`/`height`; a broken file is named and linked as it is;
//! a second build and a second tenant with the same photo process nothing.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{
    Root, bundle_files, gif, gradient_webp, half_transparent_png, has_exif, has_gps, link_target,
    links, noisy_png, sideways_photo_with_gps,
};

/// `/media/{aa}/{sha256}.{ext}`: where an imported file's media URL points.
fn media_url(bytes: &[u8], ext: &str) -> String {
    let sha = t8k_core::secrets::sha256_hex(bytes);
    format!("/media/{}/{sha}.{ext}", &sha[..2])
}

struct Fixture {
    photo: Vec<u8>,
    broken: Vec<u8>,
    anim: Vec<u8>,
    webp: Vec<u8>,
}

/// Writes the gallery site (a leaf bundle with six images) into `dir`.
fn gallery(dir: &Path) -> Fixture {
    let photo = sideways_photo_with_gps(2000, 1200);
    // A transfer cut off halfway: its header still says 400 × 300, so the import takes it,
    // but its pixel data ends early (JPEG decoders fill a cut-off scan in grey; PNG's do not).
    let mut broken = noisy_png(400, 300, 7);
    broken.truncate(broken.len() / 2);
    let f = Fixture {
        anim: gif(120, 80, 3),
        webp: gradient_webp(700, 500),
        photo,
        broken,
    };
    let page = format!(
        "+++\ntitle = \"Gallery\"\nsocial_image = \"{}\"\n+++\n\
         ![Red above blue](photo.jpg)\n\n![](alpha.png)\n\n![A still gif](still.gif)\n\n\
         ![An animated gif](anim.gif)\n\n![A gradient](pic.webp)\n\n![Broken](broken.png)\n\n\
         {{{{< figure src=\"photo.jpg\" caption=\"Again, in a figure\" >}}}}\n",
        media_url(&f.photo, "jpg")
    );
    let g = dir.join("gallery");
    std::fs::create_dir_all(&g).unwrap();
    std::fs::write(g.join("index.md"), page).unwrap();
    for (name, bytes) in [
        ("photo.jpg", f.photo.clone()),
        ("alpha.png", half_transparent_png(640, 400)),
        ("still.gif", gif(300, 200, 1)),
        ("anim.gif", f.anim.clone()),
        ("pic.webp", f.webp.clone()),
        ("broken.png", f.broken.clone()),
    ] {
        std::fs::write(g.join(name), bytes).unwrap();
    }
    f
}

fn build(root: &Root, tenant: &str) -> serde_json::Value {
    root.run(&["--json", "build", tenant]).ok().json()
}

/// The `<picture>` (or `<img>`) element that shows `url` first on `page`.
fn element_of<'a>(page: &'a str, url: &str) -> &'a str {
    let at = page
        .find(url)
        .unwrap_or_else(|| panic!("{url} not on the page"));
    let start = page[..at]
        .rfind("<picture>")
        .filter(|p| !page[*p..at].contains("</picture>"))
        .or_else(|| page[..at].rfind("<img"))
        .unwrap();
    let end = match page[start..].starts_with("<picture>") {
        true => start + page[start..].find("</picture>").unwrap() + "</picture>".len(),
        false => start + page[start..].find('>').unwrap() + 1,
    };
    &page[start..end]
}

fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let rest = &element[element.find(&key)? + key.len()..];
    Some(&rest[..rest.find('"').unwrap()])
}

/// `url w` candidates of a `srcset`.
fn candidates(srcset: &str) -> Vec<(String, u32)> {
    srcset
        .split(", ")
        .map(|c| {
            let (url, w) = c.split_once(' ').unwrap();
            (url.to_owned(), w.trim_end_matches('w').parse().unwrap())
        })
        .collect()
}

#[test]
fn images_are_published_responsive_upright_and_without_metadata_once_ever() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    let src = root.dir.path().join("site");
    let f = gallery(&src);
    assert!(
        has_gps(&f.photo),
        "the fixture photo carries a GPS position"
    );
    root.run(&["content", "import", "acme", src.to_str().unwrap()])
        .ok();

    let first = build(&root, "acme");
    assert_eq!(first["built"], 1, "{first:#}");
    assert_eq!(
        first["images"],
        serde_json::json!({"processed": 5, "reused": 0, "failed": 1}),
        "six images, one of them truncated: {first:#}"
    );
    let warnings: Vec<&str> = first["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let broken_url = media_url(&f.broken, "png");
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("tenant 'acme', page 'gallery'")
                && w.contains(&broken_url)
                && w.contains("cannot be decoded")),
        "the broken file is named with its tenant and page: {warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("alpha") || w.contains("no alt text")),
        "an image without alt text is reported: {warnings:#?}"
    );

    let bundle = root.file("build/acme");
    let page = std::fs::read_to_string(bundle.join("gallery/index.html")).unwrap();
    let sizes = "(min-width: 44.5rem) 42rem, calc(100vw - 2.5rem)";

    // The photo: 2000 × 1200 stored sideways is 1200 × 2000 upright; the theme's 480 and 960,
    // then its own 1200 (the theme's 1600 would upscale), as WebP and JPEG.
    let photo = element_of(&page, "srcset=\"/_t8k/img/");
    assert!(
        photo.starts_with("<picture><source type=\"image/webp\""),
        "{photo}"
    );
    let webp = candidates(attr(photo, "srcset").unwrap());
    let img = &photo[photo.find("<img").unwrap()..];
    let jpeg = candidates(attr(img, "srcset").unwrap());
    assert_eq!(
        webp.iter().map(|c| c.1).collect::<Vec<_>>(),
        [480, 960, 1200]
    );
    assert_eq!(
        jpeg.iter().map(|c| c.1).collect::<Vec<_>>(),
        [480, 960, 1200]
    );
    assert!(
        webp.iter().all(|c| c.0.ends_with(".webp")) && jpeg.iter().all(|c| c.0.ends_with(".jpg"))
    );
    assert_eq!(
        (attr(img, "width"), attr(img, "height"), attr(img, "alt")),
        (Some("1200"), Some("2000"), Some("Red above blue"))
    );
    assert_eq!(attr(img, "sizes"), Some(sizes));
    assert_eq!(attr(photo, "sizes"), Some(sizes));
    assert_eq!(
        (attr(img, "loading"), attr(img, "fetchpriority")),
        (None, Some("high")),
        "the first image of a page loads at once"
    );
    // Every variant is upright: red on top, blue below, at the width its srcset says.
    for (url, w) in webp.iter().chain(&jpeg) {
        let bytes = std::fs::read(link_target(&bundle, url)).unwrap();
        let v = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!((v.width(), v.height()), (*w, w * 2000 / 1200), "{url}");
        let (top, bottom) = (v.get_pixel(w / 2, 10), v.get_pixel(w / 2, v.height() - 10));
        assert!(
            top[0] > 150 && top[2] < 100,
            "{url}: top is red, got {top:?}"
        );
        assert!(
            bottom[2] > 150 && bottom[0] < 100,
            "{url}: bottom is blue, got {bottom:?}"
        );
    }

    // The PNG keeps its transparency; the still GIF becomes PNG; later images load lazily.
    let pictures: Vec<&str> = page.split("<picture>").skip(1).collect();
    assert!(
        pictures.len() >= 4,
        "photo, alpha, still gif, webp, figure: {page}"
    );
    for p in &pictures[1..] {
        let img = &p[p.find("<img").unwrap()..];
        assert_eq!(
            (attr(img, "loading"), attr(img, "decoding")),
            (Some("lazy"), Some("async")),
            "{p}"
        );
    }
    let png_fallbacks: Vec<String> = pictures
        .iter()
        .flat_map(|p| candidates(attr(&p[p.find("<img").unwrap()..], "srcset").unwrap()))
        .map(|c| c.0)
        .filter(|u| u.ends_with(".png"))
        .collect();
    assert!(
        !png_fallbacks.is_empty(),
        "PNG and the still GIF fall back to PNG"
    );
    let transparent = png_fallbacks.iter().any(|u| {
        let v = image::load_from_memory(&std::fs::read(link_target(&bundle, u)).unwrap())
            .unwrap()
            .to_rgba8();
        v.get_pixel(v.width() - 2, 1)[3] == 0 && v.get_pixel(1, 1)[3] == 255
    });
    assert!(transparent, "the alpha channel survives");

    // The WebP original: WebP only, no <source>.
    let webp_original = pictures
        .iter()
        .find(|p| !p.starts_with("<source"))
        .expect("a WebP original has no fallback source");
    assert!(webp_original.contains(".webp 480w"), "{webp_original}");

    // The animated GIF and the broken JPEG are linked as they are, the GIF with its size.
    let anim = element_of(&page, &media_url(&f.anim, "gif"));
    assert!(
        anim.starts_with("<img") && attr(anim, "width") == Some("120"),
        "{anim}"
    );
    assert_eq!(
        std::fs::read(link_target(&bundle, &media_url(&f.anim, "gif"))).unwrap(),
        f.anim
    );
    let broken = element_of(&page, &broken_url);
    assert!(broken.starts_with("<img"), "{broken}");
    assert!(link_target(&bundle, &broken_url).is_file());

    // OpenGraph: the 1200-px JPEG, absolute.
    let og = page
        .split("<meta property=\"og:image\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an og:image");
    assert!(
        og.starts_with("https://acme.example.com/_t8k/img/") && og.ends_with(".jpg"),
        "{og}"
    );
    let og_file = link_target(&bundle, og.trim_start_matches("https://acme.example.com"));
    let og_img = image::load_from_memory(&std::fs::read(og_file).unwrap()).unwrap();
    assert_eq!(og_img.width(), 1200);

    // The original's own address serves its widest variant: upright, no metadata.
    let at_original = std::fs::read(link_target(&bundle, &media_url(&f.photo, "jpg"))).unwrap();
    assert_eq!(image::load_from_memory(&at_original).unwrap().width(), 1200);

    // No published file carries EXIF (the originals stay private in media/), and every link
    // of the page — srcset candidates included — resolves.
    let published: BTreeMap<String, Vec<u8>> = bundle_files(&bundle)
        .into_iter()
        .chain(bundle_files(&root.file("build/_shared/img")))
        .collect();
    for (name, bytes) in &published {
        if [".jpg", ".png", ".webp"].iter().any(|e| name.ends_with(e)) {
            assert!(!has_exif(bytes), "{name} carries EXIF");
        }
    }
    for url in links(&page) {
        assert!(
            link_target(&bundle, &url).is_file(),
            "{url} does not resolve"
        );
    }

    // Computed once ever: a rebuild decodes nothing (the broken file's failure is remembered);
    // another tenant with the same photos processes nothing either.
    let again = build(&root, "acme");
    assert_eq!(
        again["images"],
        serde_json::json!({"processed": 0, "reused": 5, "failed": 1}),
        "{again:#}"
    );
    root.create("bobs").ok();
    root.run(&["content", "import", "bobs", src.to_str().unwrap()])
        .ok();
    let other = build(&root, "bobs");
    assert_eq!(other["images"]["processed"], 0, "{other:#}");
    let bobs = std::fs::read_to_string(root.file("build/bobs/gallery/index.html")).unwrap();
    assert_eq!(
        element_of(&bobs, "srcset=\"/_t8k/img/"),
        photo,
        "both tenants link the one set of variants"
    );

    // Usage shows the variants apart from the quota-counted originals.
    let usage = root.run(&["--json", "tenant", "usage", "acme"]).ok().json();
    assert!(usage["variants_bytes"].as_u64().unwrap() > 0, "{usage:#}");

    // A variant lost from the data root (swept, or removed by hand) is made again.
    let lost = files_under(&root.file("images"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "webp"))
        .unwrap();
    std::fs::remove_file(&lost).unwrap();
    std::fs::remove_dir_all(root.file("build/_shared")).unwrap();
    let remade = build(&root, "acme");
    assert_eq!(remade["images"]["processed"], 1, "{remade:#}");
    assert!(lost.is_file());

    // gc sweeps an original's variants only once no tenant has it.
    let gc = |root: &Root| {
        root.run(&["--json", "gc", "--keep", "1", "--grace", "0s"])
            .ok()
            .json()["images"]
            .clone()
    };
    assert_eq!(gc(&root)["originals"], 0);
    root.run(&["tenant", "delete", "acme", "--yes"]).ok();
    assert_eq!(gc(&root)["originals"], 0, "bobs still has every photo");
    root.run(&["tenant", "delete", "bobs", "--yes"]).ok();
    let swept = gc(&root);
    assert_eq!(swept["originals"], 6, "{swept:#}");
    assert!(files_under(&root.file("images")).is_empty());
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}
