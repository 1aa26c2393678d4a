//! Orders a wasm module's functions so that it gzips smaller.
//!
//! gzip (DEFLATE) finds repeats only within its 32 KB window, and binaryen leaves functions in
//! the order rustc emitted them. Placing each function next to the ones whose bytes it shares
//! most lets more of it be coded as short back-references: on the widget's bubble this takes
//! ~0.45 KB off the zopfli size with the same code (binaryen's `--reorder-functions-by-name`
//! alone gains ~0.1 KB; its by-use-count `--reorder-functions` loses ~0.5 KB).
//!
//! binaryen does the actual reordering, renumbering every call and table entry: this module
//! only picks the order, by a greedy walk over the code bodies' 4-byte substrings, and writes
//! it into the module as function names (`f00000`, `f00001`, ...) for
//! `wasm-opt --reorder-functions-by-name`, which then strips the names again.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::run_command;
use crate::wasm_module::{
    CODE_SECTION, CUSTOM_SECTION, FUNCTION_NAMES, HEADER_LEN, IMPORT_SECTION, NAME, code_bodies,
    custom_name, function_imports, push_leb, push_section, sections,
};

/// How many of the last placed functions the next one is compared with (2 to 16 measured
/// within 0.1 KB of each other on the bubble).
const CONTEXT: usize = 4;

/// Reorders the functions of the wasm module at `wasm` in place (see the module doc).
pub fn reorder(wasm_opt: &Path, features: &[&str], wasm: &Path) -> Result<()> {
    let module = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let named = with_order_names(&module).context("choosing the function order")?;
    std::fs::write(wasm, named).with_context(|| format!("writing {}", wasm.display()))?;
    run_command(
        Command::new(wasm_opt)
            .arg("--reorder-functions-by-name")
            .args(features)
            .arg("--strip-debug")
            .arg(wasm)
            .arg("-o")
            .arg(wasm),
    )
    .context("wasm-opt could not reorder the functions")
}

/// `module` with its name section replaced by names that sort in the chosen order.
fn with_order_names(module: &[u8]) -> Result<Vec<u8>> {
    let sections = sections(module)?;
    let mut imported = 0;
    let mut bodies = Vec::new();
    for (id, range) in &sections {
        match *id {
            IMPORT_SECTION => imported = function_imports(&module[range.clone()])?,
            CODE_SECTION => bodies = code_bodies(&module[range.clone()])?,
            _ => {}
        }
    }
    let order = similarity_order(&bodies);
    let mut rank = vec![0; order.len()];
    for (place, &body) in order.iter().enumerate() {
        rank[body] = place;
    }

    // The function-names subsection: imports keep their place (binaryen never moves them),
    // defined functions are named by their rank.
    let mut names = Vec::new();
    push_leb(&mut names, imported + rank.len());
    for index in 0..imported + rank.len() {
        let name = match index.checked_sub(imported) {
            None => format!("i{index:05}"),
            Some(body) => format!("f{:05}", rank[body]),
        };
        push_leb(&mut names, index);
        push_leb(&mut names, name.len());
        names.extend_from_slice(name.as_bytes());
    }
    let mut payload = Vec::new();
    push_leb(&mut payload, NAME.len());
    payload.extend_from_slice(NAME);
    payload.push(FUNCTION_NAMES);
    push_leb(&mut payload, names.len());
    payload.extend_from_slice(&names);

    let mut out = module[..HEADER_LEN].to_vec();
    for (id, range) in sections {
        if id == CUSTOM_SECTION && custom_name(&module[range.clone()])? == NAME {
            continue;
        }
        push_section(&mut out, id, &module[range]);
    }
    push_section(&mut out, CUSTOM_SECTION, &payload);
    Ok(out)
}

/// A greedy order of `bodies`: the largest first, then each time the remaining body that
/// shares the largest fraction of its 4-byte substrings with the last [`CONTEXT`] placed ones
/// (ties: the larger, then the earlier). Deterministic, so builds are reproducible.
fn similarity_order(bodies: &[&[u8]]) -> Vec<usize> {
    let grams: Vec<HashSet<[u8; 4]>> = bodies
        .iter()
        .map(|body| body.windows(4).map(|w| [w[0], w[1], w[2], w[3]]).collect())
        .collect();
    let mut left: Vec<usize> = (0..bodies.len()).collect();
    let mut order = Vec::with_capacity(bodies.len());
    let mut context: HashSet<[u8; 4]> = HashSet::new();
    while !left.is_empty() {
        // (shared substrings, substrings + 1, length): compared as fractions shared/(n+1)
        // without floating point, then by length.
        let scores: Vec<(usize, usize, usize)> = left
            .iter()
            .map(|&body| {
                let shared = grams[body].intersection(&context).count();
                (shared, grams[body].len() + 1, bodies[body].len())
            })
            .collect();
        let mut best = 0;
        for (at, &(shared, n, len)) in scores.iter().enumerate().skip(1) {
            let (best_shared, best_n, best_len) = scores[best];
            if (shared * best_n, len) > (best_shared * n, best_len) {
                best = at;
            }
        }
        let chosen = left.remove(best);
        order.push(chosen);
        context.clear();
        for &body in order.iter().rev().take(CONTEXT) {
            context.extend(grams[body].iter().copied());
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::wasm_module::{FUNCTION_SECTION, TYPE_SECTION, section};

    #[test]
    fn the_order_is_a_permutation_that_groups_alike_bodies() {
        let bodies: [&[u8]; 5] = [
            b"aaaabbbbcccc",
            b"zzzzyyyy",
            b"aaaabbbbcccd",
            b"qqqq",
            b"zzzzyyyx",
        ];
        let order = similarity_order(&bodies);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3, 4]);
        // The largest first, then its near twin.
        assert_eq!(order[..2], [0, 2]);
        let at = |body| order.iter().position(|&b| b == body).unwrap();
        assert_eq!(at(1).abs_diff(at(4)), 1);
    }

    /// A module with one imported and three defined functions, and a name section.
    fn module() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        // One type, () -> ().
        m.extend(section(TYPE_SECTION, &[1, 0x60, 0, 0]));
        // "m" "f", a function of type 0; "m" "x", a memory with limits 1..2.
        m.extend(section(
            IMPORT_SECTION,
            &[2, 1, b'm', 1, b'f', 0, 0, 1, b'm', 1, b'x', 2, 1, 1, 2],
        ));
        // Three functions of type 0.
        m.extend(section(FUNCTION_SECTION, &[3, 0, 0, 0]));
        // Their bodies: no locals, `nop`s, `end`.
        m.extend(section(
            CODE_SECTION,
            &[3, 3, 0, 1, 11, 2, 0, 11, 4, 0, 1, 1, 11],
        ));
        m.extend(section(CUSTOM_SECTION, &[4, b'n', b'a', b'm', b'e']));
        m
    }

    #[test]
    fn names_every_function_and_replaces_the_name_section() {
        let module = module();
        let named = with_order_names(&module).unwrap();
        let sections = sections(&named).unwrap();
        let names: Vec<_> = sections
            .iter()
            .filter(|(id, r)| *id == 0 && custom_name(&named[r.clone()]).unwrap() == NAME)
            .collect();
        assert_eq!(names.len(), 1);
        let text = String::from_utf8_lossy(&named[names[0].1.clone()]).into_owned();
        assert!(text.contains("i00000"));
        for rank in ["f00000", "f00001", "f00002"] {
            assert!(text.contains(rank), "{rank} missing from {text:?}");
        }
        // Everything else is kept as it was.
        assert_eq!(named[..module.len() - 7], module[..module.len() - 7]);
        assert_eq!(function_imports(&named[sections[1].1.clone()]).unwrap(), 1);
        assert_eq!(code_bodies(&named[sections[3].1.clone()]).unwrap().len(), 3);
    }
}
