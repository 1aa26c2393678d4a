//! The widget's size budget (issue 4), measured on the gzip copies the server serves.
//!
//! Everything a visitor's browser fetches at the first open of the chat — the loader
//! (`widget.js`), the wasm-bindgen glue, the wasm and the texts of the visitor's language (the
//! largest pack counts, whichever language that is) — must fit in [`FIRST_OPEN_BUDGET`] bytes
//! of gzip, and the loader alone, which every page of the site loads, in [`LOADER_BUDGET`]. The
//! sizes are those of the very bytes the server sends: the compression is the server's own
//! ([`rules::gzip`], zopfli), included from the backend's source.
//!
//! Going over either fails the build, with what is over and by how much.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

// The server's compression rules (the build script includes this file the same way).
#[allow(dead_code)]
#[path = "../../backend/src/http/assets/rules.rs"]
mod rules;

/// The loader, in bytes of gzip.
pub const LOADER_BUDGET: usize = 2048;
/// Loader + glue + wasm + texts, in bytes of gzip: the target of issue 4.
pub const FIRST_OPEN_BUDGET: usize = 40_960;

/// Served (gzip) sizes of the files fetched at first open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstOpen {
    pub loader: usize,
    pub glue: usize,
    pub wasm: usize,
    /// The largest of the text packs (one language's is fetched).
    pub texts: usize,
}

impl FirstOpen {
    pub fn total(&self) -> usize {
        self.loader + self.glue + self.wasm + self.texts
    }
}

/// Whether `sizes` keep to the budget: the violations, as one error, if they do not.
pub fn judge(sizes: FirstOpen) -> Result<(), String> {
    let mut over = Vec::new();
    if sizes.loader > LOADER_BUDGET {
        over.push(format!(
            "the loader (widget.js) is {} B gzip, {} B over its {LOADER_BUDGET} B budget",
            sizes.loader,
            sizes.loader - LOADER_BUDGET
        ));
    }
    if sizes.total() > FIRST_OPEN_BUDGET {
        over.push(format!(
            "loader + glue + wasm + texts are {} B gzip, {} B over the {FIRST_OPEN_BUDGET} B \
             first-open budget",
            sizes.total(),
            sizes.total() - FIRST_OPEN_BUDGET
        ));
    }
    if over.is_empty() {
        Ok(())
    } else {
        Err(over.join("; "))
    }
}

/// Measures the first-open files of the widget build in `dist` (as `widget/loader/build.mjs`
/// names them), prints the sizes and enforces the budget.
pub fn check(dist: &Path) -> Result<()> {
    let mut loader = None;
    let mut glue = None;
    let mut wasm = None;
    let mut packs = Vec::new();
    for entry in fs::read_dir(dist).with_context(|| format!("reading {}", dist.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with("natter-texts.") && name.ends_with(".txt") {
            packs.push(name);
            continue;
        }
        let slot = if name == "widget.js" {
            &mut loader
        } else if name.starts_with("natter-widget.") && name.ends_with(".js") {
            &mut glue
        } else if name.starts_with("natter-widget.") && name.ends_with(".wasm") {
            &mut wasm
        } else {
            continue;
        };
        if slot.replace(name.clone()).is_some() {
            bail!("{} holds two files like {name}", dist.display());
        }
    }
    let measure = |name: Option<String>, what: &str| -> Result<usize> {
        let name = name.with_context(|| format!("{} has no {what}", dist.display()))?;
        let body = fs::read(dist.join(&name))?;
        let served = rules::gzip(&body).map_or(body.len(), |gzip| gzip.len());
        println!("  {name:<32} {:>9} B {served:>9} B gzip", body.len());
        Ok(served)
    };
    println!("widget first open (gzip as served):");
    let loader = measure(loader, "loader (widget.js)")?;
    let glue = measure(glue, "glue (natter-widget.*.js)")?;
    let wasm = measure(wasm, "wasm (natter-widget.*.wasm)")?;
    if packs.is_empty() {
        bail!("{} has no text packs (natter-texts.*.txt)", dist.display());
    }
    packs.sort();
    let mut texts = 0;
    for pack in packs {
        texts = texts.max(measure(Some(pack), "text pack")?);
    }
    println!("  (one text pack is fetched: the largest counts)");
    let sizes = FirstOpen {
        loader,
        glue,
        wasm,
        texts,
    };
    println!(
        "  total at first open {:>31} B gzip (budget {FIRST_OPEN_BUDGET} B; loader budget {LOADER_BUDGET} B)",
        sizes.total()
    );
    judge(sizes).map_err(|over| anyhow::anyhow!("size budget exceeded: {over}"))
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    fn sizes(loader: usize, glue: usize, wasm: usize) -> FirstOpen {
        FirstOpen {
            loader,
            glue,
            wasm,
            texts: 0,
        }
    }

    #[test]
    fn within_the_budget_passes() {
        assert_eq!(judge(sizes(1900, 3000, 30_000)), Ok(()));
        // Exactly at both budgets.
        assert_eq!(
            judge(sizes(LOADER_BUDGET, 0, FIRST_OPEN_BUDGET - LOADER_BUDGET)),
            Ok(())
        );
    }

    #[test]
    fn one_byte_over_the_first_open_budget_fails_and_says_by_how_much() {
        let over = judge(sizes(1900, 3000, FIRST_OPEN_BUDGET - 4900 + 1)).unwrap_err();
        assert!(
            over.contains("1 B over the 40960 B first-open budget"),
            "{over}"
        );
    }

    #[test]
    fn the_text_pack_counts_toward_first_open() {
        let within = sizes(1900, 3000, FIRST_OPEN_BUDGET - 1900 - 3000 - 600);
        assert_eq!(
            judge(FirstOpen {
                texts: 600,
                ..within
            }),
            Ok(())
        );
        let over = judge(FirstOpen {
            texts: 601,
            ..within
        })
        .unwrap_err();
        assert!(over.contains("first-open budget"), "{over}");
    }

    #[test]
    fn a_heavy_loader_fails_even_when_the_total_fits() {
        let heavy = judge(sizes(LOADER_BUDGET + 1, 0, 0)).unwrap_err();
        assert!(heavy.contains("widget.js"), "{heavy}");
        assert!(!heavy.contains("first-open"), "{heavy}");
    }
}
