//! How a tenant's pages hang together, computed once per build: which section lists each
//! page (the nearest section above it, as in Hugo and Zola), the breadcrumbs above every
//! page, and the pages of each taxonomy term. Children are ordered as both generators order
//! them: weight (unweighted last), then newest first, then title.

use std::collections::{BTreeMap, HashMap};

use t8k_core::content::Kind;
use t8k_core::content::paths::{self, Generator};

use crate::site::PageData;

pub struct Structure {
    /// Section page index → the pages it lists, in order.
    pub children: HashMap<usize, Vec<usize>>,
    /// Page index → the pages above it, top first (the home page first when there is one).
    pub crumbs: Vec<Vec<usize>>,
    /// Taxonomy → term → (its URL segment, its pages in listing order).
    pub taxonomies: BTreeMap<String, BTreeMap<String, (String, Vec<usize>)>>,
}

/// Weight ascending with 0 (unweighted) last, then date newest first, then title.
fn order(pages: &[PageData], list: &mut [usize]) {
    list.sort_by(|&a, &b| {
        let (a, b) = (&pages[a], &pages[b]);
        let w = |p: &PageData| if p.weight == 0 { i64::MAX } else { p.weight };
        w(a).cmp(&w(b))
            .then_with(|| b.sort_date().cmp(a.sort_date()))
            .then_with(|| a.title.cmp(&b.title))
    });
}

impl Structure {
    /// `terms` makes a term's URL segment (the rules the site was imported with).
    pub fn new(pages: &[PageData], home: &str, terms: Generator) -> Structure {
        let by_path: foldhash::HashMap<&str, usize> = pages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.slug.as_str(), i))
            .collect();
        let home_idx = by_path.get(home).copied();
        let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut crumbs = Vec::with_capacity(pages.len());
        for (i, p) in pages.iter().enumerate() {
            if p.slug == home {
                crumbs.push(vec![]);
                continue;
            }
            let mut above = vec![];
            let mut at = paths::parent(&p.slug);
            while let Some(path) = at {
                if let Some(&a) = by_path.get(path) {
                    above.push(a);
                }
                at = paths::parent(path);
            }
            let section = above
                .iter()
                .copied()
                .find(|&a| pages[a].kind == Kind::Section)
                .or(home_idx.filter(|&h| pages[h].kind == Kind::Section));
            if let Some(s) = section {
                children.entry(s).or_default().push(i);
            }
            above.extend(home_idx);
            above.reverse();
            crumbs.push(above);
        }
        for list in children.values_mut() {
            order(pages, list);
        }
        Structure {
            children,
            crumbs,
            taxonomies: taxonomies(pages, terms),
        }
    }
}

fn taxonomies(
    pages: &[PageData],
    rules: Generator,
) -> BTreeMap<String, BTreeMap<String, (String, Vec<usize>)>> {
    let mut out: BTreeMap<String, BTreeMap<String, (String, Vec<usize>)>> = BTreeMap::new();
    // Pages are newest first already: term listings keep that order.
    for (i, p) in pages.iter().enumerate() {
        for (name, terms) in &p.taxonomies {
            for term in terms {
                let seg = rules.term_segment(term);
                if paths::check_segment(&seg).is_err() {
                    continue;
                }
                out.entry(name.clone())
                    .or_default()
                    .entry(term.clone())
                    .or_insert_with(|| (seg, vec![]))
                    .1
                    .push(i);
            }
        }
    }
    out
}

/// The URL of a taxonomy (`/tags/`) or one of its terms (`/tags/rust/`).
pub fn taxonomy_url(name: &str, term_segment: Option<&str>) -> String {
    match term_segment {
        Some(t) => format!("/{name}/{t}/"),
        None => format!("/{name}/"),
    }
}

/// Page `n` (from 1) of a listing whose first page is at `base` (`/docs/`): `/docs/page/2/`.
pub fn page_url(base: &str, n: usize) -> String {
    if n == 1 {
        base.to_owned()
    } else {
        format!("{base}page/{n}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(slug: &str, kind: Kind, weight: i64, date: &str) -> PageData {
        PageData {
            id: 0,
            slug: slug.into(),
            kind,
            title: slug.into(),
            description: String::new(),
            date: Some(date.into()),
            created: date.into(),
            changed: date.into(),
            weight,
            social_image: None,
            menu: None,
            aliases: vec![],
            taxonomies: [(
                "tags".to_owned(),
                vec!["Rust Tips".to_owned(), "Tera 1.x".to_owned()],
            )]
            .into(),
            panes: vec![],
            revision: 0,
        }
    }

    #[test]
    fn nearest_section_lists_a_page_in_weight_then_date_order() {
        let pages = vec![
            page("home", Kind::Section, 0, "2024-01-01"),
            page("docs", Kind::Section, 0, "2024-01-01"),
            page("docs/a", Kind::Page, 0, "2024-03-01"),
            page("docs/b", Kind::Page, 2, "2024-01-01"),
            page("docs/c", Kind::Page, 0, "2024-05-01"),
            page("docs/x/deep", Kind::Page, 1, "2024-01-01"),
            page("about", Kind::Page, 0, "2024-01-01"),
        ];
        let s = Structure::new(&pages, "home", Generator::Hugo);
        assert_eq!(
            s.children[&1],
            [5, 3, 4, 2],
            "weighted first, then newest first"
        );
        assert_eq!(s.children[&0], [6, 1], "same weight and date: by title");
        assert_eq!(s.crumbs[5], [0, 1]);
        assert_eq!(s.crumbs[0], Vec::<usize>::new());
        let tags = &s.taxonomies["tags"]["Rust Tips"];
        assert_eq!((tags.0.as_str(), tags.1.len()), ("rust-tips", 7));
        assert_eq!(page_url("/docs/", 2), "/docs/page/2/");
        let zola = Structure::new(&pages, "home", Generator::Zola);
        assert_eq!(s.taxonomies["tags"]["Tera 1.x"].0, "tera-1.x");
        assert_eq!(
            zola.taxonomies["tags"]["Tera 1.x"].0, "tera-1-x",
            "Zola slugifies terms"
        );
    }
}
