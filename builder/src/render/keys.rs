//! The incremental side of rendering: each page's key (what its file is made from), which
//! pages' panes an incremental build must read, and those panes once read.

use std::collections::HashMap;

use rayon::prelude::*;

use super::listings::file_of;
use super::{Summary, TenantRender};
use crate::incremental::{Inputs, Key, Manifest};
use crate::site::{PageData, Pane, url_of};
use t8k_core::content::Kind;

impl<'a> TenantRender<'a> {
    /// A page's panes: its own, or those read for it later ([`Self::load_panes`]).
    pub(super) fn panes_of(&self, p: &'a PageData) -> &[Pane] {
        match self.loaded.get().and_then(|m| m.get(&p.id)) {
            Some(panes) => panes,
            None => &p.panes,
        }
    }

    /// The pages whose panes an incremental build over `previous` needs: those whose own
    /// file's key changed, and every section (its listing pages show its panes).
    pub fn pages_to_read(&self, previous: &Manifest) -> Vec<i64> {
        (0..self.site.pages.len())
            .into_par_iter()
            .filter(|&i| {
                self.site.pages[i].kind == Kind::Section
                    || previous.files.get(self.page_file(i)).map(|f| f.key)
                        != Some(self.page_key(i))
            })
            .map(|i| self.site.pages[i].id)
            .collect()
    }

    /// The file page `i` is written to (all pages' files are found once, in parallel).
    pub(super) fn page_file(&self, i: usize) -> &str {
        let files = self.files.get_or_init(|| {
            let home = &self.site.config.home_slug;
            let pages = &self.site.pages;
            pages
                .par_iter()
                .map(|p| file_of(&url_of(&p.slug, home)))
                .collect()
        });
        &files[i]
    }

    /// Gives the panes [`Self::pages_to_read`] asked for (once).
    pub fn load_panes(&self, panes: HashMap<i64, Vec<Pane>>) {
        let _ = self.loaded.set(panes);
    }

    /// The key of page `i` (all pages' keys are computed once, in parallel).
    pub(super) fn page_key(&self, i: usize) -> Key {
        let keys = self.keys.get_or_init(|| {
            (0..self.site.pages.len())
                .into_par_iter()
                .map(|i| self.compute_page_key(i))
                .collect()
        });
        keys[i]
    }

    /// The key of page `i`: everything [`Self::page_ctx`] reads — the page's row, its panes (by
    /// the page's revision), the pages above it, its terms, the pages it lists — on top of the
    /// site's key.
    fn compute_page_key(&self, i: usize) -> Key {
        let p = &self.site.pages[i];
        let mut h = Inputs::new(&self.site_key, "page");
        h.num(p.id)
            .str(&p.slug)
            .str(p.kind.as_str())
            .str(&p.title)
            .str(&p.description)
            .opt(p.date.as_deref())
            .str(&p.created)
            .str(&p.changed)
            .num(p.weight)
            .opt(p.social_image.as_deref())
            .opt(p.menu.as_deref())
            .num(p.aliases.len() as i64);
        for a in &p.aliases {
            h.str(a);
        }
        // The panes are known by the page's revision, drawn again whenever they change.
        h.num(p.revision);
        if !p.taxonomies.is_empty() {
            h.json(&p.taxonomies).json(&self.taxonomy_links(p));
        }
        for &a in &self.structure.crumbs[i] {
            h.str(&self.site.pages[a].title)
                .str(&self.site.pages[a].slug);
        }
        if self.structure.children.contains_key(&i) {
            let children: Vec<Summary> = self.children(i).collect();
            h.json(&children);
        }
        h.finish()
    }
}
