//! The widget's size budget (issue 4), measured on the gzip copies the server serves.
//!
//! Everything a visitor's browser fetches at the first open of the chat — the loader
//! (`widget.js`), the wasm-bindgen glue, the wasm and the texts of the visitor's language (the
//! largest pack counts, whichever language that is) — must fit in [`FIRST_OPEN_BUDGET`] bytes
//! of gzip, and the loader alone, which every page of the site loads, in [`LOADER_BUDGET`]. The
//! sizes are those of the very bytes the server sends: the compression is the server's own
//! ([`rules::gzip`], zopfli), included from the backend's source.
//!
//! The first-open target is not met yet. Until it is, going over it only warns, and an interim
//! [`FIRST_OPEN_CEILING`] about 1 KB above the last measured size is enforced, so that the widget
//! cannot quietly grow while it is slimmed down. Lower the ceiling as it shrinks; once the
//! target holds, delete the ceiling and fail on the target instead.

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
/// The interim limit while [`FIRST_OPEN_BUDGET`] is not met (see the module doc).
pub const FIRST_OPEN_CEILING: usize = 44_300;

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

/// What the budget says of `sizes`: the warnings to print, or the first violation as an error.
pub fn judge(sizes: FirstOpen) -> Result<Vec<String>, String> {
    let mut over = Vec::new();
    if sizes.loader > LOADER_BUDGET {
        over.push(format!(
            "the loader (widget.js) is {} B gzip, over its {LOADER_BUDGET} B budget",
            sizes.loader
        ));
    }
    if sizes.total() > FIRST_OPEN_CEILING {
        over.push(format!(
            "loader + glue + wasm + texts are {} B gzip, over the interim {FIRST_OPEN_CEILING} B ceiling",
            sizes.total()
        ));
    }
    if !over.is_empty() {
        return Err(over.join("; "));
    }
    let mut warnings = Vec::new();
    if sizes.total() > FIRST_OPEN_BUDGET {
        warnings.push(format!(
            "first open is {} B gzip, over the {FIRST_OPEN_BUDGET} B target (not met yet; the \
             interim ceiling is {FIRST_OPEN_CEILING} B)",
            sizes.total()
        ));
    }
    Ok(warnings)
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
    match judge(sizes) {
        Ok(warnings) => {
            for warning in warnings {
                eprintln!("WARNING: {warning}");
            }
            Ok(())
        }
        Err(over) => bail!("size budget exceeded: {over}"),
    }
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
    fn the_text_pack_counts_toward_first_open() {
        let within = sizes(1900, 3000, FIRST_OPEN_BUDGET - 1900 - 3000 - 600);
        assert_eq!(within.total() + 600, FIRST_OPEN_BUDGET);
        assert_eq!(
            judge(FirstOpen {
                texts: 600,
                ..within
            }),
            Ok(vec![])
        );
        let warnings = judge(FirstOpen {
            texts: 601,
            ..within
        })
        .unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn within_the_target_passes_silently() {
        assert_eq!(judge(sizes(1900, 3000, 30_000)), Ok(vec![]));
        assert_eq!(
            judge(sizes(LOADER_BUDGET, 0, FIRST_OPEN_BUDGET - LOADER_BUDGET)),
            Ok(vec![])
        );
    }

    #[test]
    fn over_the_target_but_under_the_ceiling_warns() {
        // One byte over the target (and so under the ceiling, which is above it).
        let warnings = judge(sizes(1900, 3000, FIRST_OPEN_BUDGET - 4900 + 1)).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("over the 40960 B target"),
            "{warnings:?}"
        );
    }

    #[test]
    fn over_the_ceiling_or_a_heavy_loader_fails() {
        let over = judge(sizes(1900, 3000, FIRST_OPEN_CEILING)).unwrap_err();
        assert!(over.contains("interim"), "{over}");
        let heavy = judge(sizes(LOADER_BUDGET + 1, 0, 0)).unwrap_err();
        assert!(heavy.contains("widget.js"), "{heavy}");
    }
}
