//! Building the visitor widget: the wasm module (wasm-pack + the npm `binaryen` wasm-opt), the
//! loader and hashed assets in `widget/dist/` that the server embeds, the npm package tarball,
//! and the size budget check. Also installs what that needs, each step skipped when present:
//! the wasm32 target, `wasm-bindgen-cli` at exactly the version in `Cargo.lock`, `wasm-pack`,
//! Debian's Chromium for the browser tests, and the npm packages of `widget/loader`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{WASM_TARGET, cargo, ensure_wasm_target, on_path, run_command};

/// wasm-pack's version, installed from crates.io when missing.
const WASM_PACK_VERSION: &str = "0.15.1";
/// Where the browser tests find Chromium and its driver (Debian's `chromium` packages).
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The npm `binaryen` wasm-opt that `npm ci` in `widget/loader` installs (Debian's is broken
/// for wasm-bindgen output).
pub(crate) fn wasm_opt_path(root: &Path) -> PathBuf {
    root.join("widget/loader/node_modules/.bin/wasm-opt")
}

/// Builds everything the widget ships and checks the size budget.
pub fn build(root: &Path) -> Result<()> {
    ensure_wasm_target()?;
    ensure_node()?;
    ensure_wasm_bindgen(root)?;
    ensure_wasm_pack()?;
    npm_ci(&root.join("widget/loader"))?;

    // Two builds of the crate (see `widget/src/exports/mod.rs`): the bubble, which the loader
    // fetches at first open and which the size budget is about, and the headless `ChatClient`
    // that the npm package ships next to it for custom interfaces.
    let wasm_opt = wasm_opt_path(root);
    // Without the default feature `std` the crate is `#![no_std]` and std's panic and formatting
    // code stays out of the wasm (see widget/src/lib.rs).
    let wasm = wasm_pack_optimized(
        root,
        &wasm_opt,
        &["--no-default-features"],
        "pkg",
        "natter_widget",
    )?;
    wasm_pack_optimized(
        root,
        &wasm_opt,
        &["--no-default-features", "--features", "headless"],
        "pkg-client",
        "natter_chat_client",
    )?;

    // wasm-bindgen's import and export names (`__wbg_setAttribute_9155c1c00585b5c4`, with the
    // module name `./natter_widget_bg.js` on every import) are spelled out in both the wasm and
    // the glue: shortened to a letter or two, first open is ~4.5 KB gzip smaller. wasm-opt prints
    // the renaming, and the glue's references are renamed to match.
    let minified = Command::new(&wasm_opt)
        .arg("--minify-imports-and-exports-and-modules")
        .args(WASM_FEATURES)
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm)
        .output()
        .context("could not start wasm-opt")?;
    if !minified.status.success() {
        bail!(
            "wasm-opt could not minify the import and export names: {}",
            String::from_utf8_lossy(&minified.stderr)
        );
    }
    let glue_path = root.join("npm/pkg/natter_widget.js");
    let glue = fs::read_to_string(&glue_path).context("reading the wasm-bindgen glue")?;
    let module = import_module(&fs::read(&wasm).context("reading the minified wasm")?)?;
    let glue = rename_glue(&glue, &String::from_utf8_lossy(&minified.stdout), &module)?;
    fs::write(&glue_path, glue).context("writing the renamed glue")?;

    // The texts, one pack per language, which the widget fetches (see texts.rs).
    crate::texts::write(&root.join("npm/texts"))?;

    // Minifies and hashes the assets (the packs too) into widget/dist, then checks the size
    // budget on them.
    run_command(
        Command::new("node")
            .current_dir(root)
            .arg("widget/loader/build.mjs"),
    )
    .context("the widget's assets could not be written")?;
    crate::budget::check(&root.join("widget/dist"))?;

    run_command(
        Command::new("npm")
            .current_dir(root.join("npm"))
            .args(["pack", "--silent"]),
    )
    .context("npm pack failed")?;
    Ok(())
}

/// The features rustc enables by default for wasm32-unknown-unknown, for wasm-opt.
pub(crate) const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Builds the widget crate with wasm-pack (with `cargo_features`) into `npm/<out_dir>` as
/// `<out_name>.js` + `<out_name>_bg.wasm`, and optimizes the wasm with the npm binaryen;
/// returns the wasm's path.
fn wasm_pack_optimized(
    root: &Path,
    wasm_opt: &Path,
    cargo_features: &[&str],
    out_dir: &str,
    out_name: &str,
) -> Result<PathBuf> {
    // The widget's own cargo profile (opt-level z, lto, one codegen unit) keeps the server's
    // speed profile untouched; wasm-pack's bundled wasm-opt download is off (`--no-opt`)
    // because the npm binaryen below is the one that keeps wasm-bindgen output working.
    run_command(
        Command::new("wasm-pack")
            .current_dir(root)
            .args([
                "build",
                "widget",
                "--target",
                "web",
                "--mode",
                "no-install",
                "--no-opt",
                "--no-pack",
                "--no-typescript",
                "--out-dir",
                &format!("../npm/{out_dir}"),
                "--out-name",
                out_name,
                "--profile",
                "wasm-release",
            ])
            // wasm-pack passes what follows `--` to cargo.
            .arg("--")
            .args(cargo_features)
            .arg("--config")
            .arg(format!(
                "target.{WASM_TARGET}.rustflags={:?}",
                path_remapping()
            ))
            .env("CARGO_TARGET_DIR", target_dir(root)),
    )
    .with_context(|| format!("wasm-pack could not build the widget ({out_name})"))?;

    let wasm = root.join(format!("npm/{out_dir}/{out_name}_bg.wasm"));
    // Before wasm-opt, while the function names are still there.
    let cleared = crate::unused_shims::clear(&wasm)?;
    println!(
        "{out_name}: {cleared} unused functions (closure shims, JSPI waker) taken out of the function table"
    );
    // The panic locations' file names, dead bytes (~0.13 KB gzip on the bubble).
    let blanked = crate::location_names::blank(&wasm)?;
    println!("{out_name}: {blanked} panic locations' file names blanked");
    run_command(
        Command::new(wasm_opt)
            // Measured on the bubble (gzip): merging similar functions and re-deriving the
            // control flow (`--flatten --rereloop`) before two -Oz rounds saves ~0.75 KB over
            // plain -Oz; `--converge` repeats the last round until the module stops shrinking
            // (~0.1 KB). Inlining only small functions that have one caller (binaryen inlines
            // them all by default) makes the module a little larger but ~2.6 KB smaller gzipped:
            // the merged giants compress worse than the functions they were made of (20 was the
            // best of 0 to 200). `--gufa`, `--type-ssa`, -Os and `--low-memory-unused` gained
            // nothing worth their risk; nor did `--zero-filled-memory`,
            // `--generate-global-effects`, `--monomorphize`, `--local-cse` or
            // `--dae-optimizing`. `--ignore-implicit-traps` (~55 B) and `-tnh` (~0.65 KB) would
            // let binaryen assume that a load out of bounds, or a panic's `unreachable`, never
            // happens, and drop the checks that stop the program there: not taken.
            .args([
                "--merge-similar-functions",
                "--flatten",
                "--rereloop",
                "-Oz",
                "-Oz",
                "--converge",
                "--one-caller-inline-max-function-size=20",
            ])
            .args(WASM_FEATURES)
            // The custom sections nothing reads at run time: debug names, producers, and the
            // target features (~0.1 KB gzip; browsers detect features themselves).
            .args([
                "--strip-debug",
                "--strip-producers",
                "--strip-target-features",
            ])
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm),
    )
    .context("wasm-opt (npm binaryen) failed")?;
    // Then the same functions in an order that gzips ~0.45 KB smaller.
    crate::gzip_order::reorder(wasm_opt, &WASM_FEATURES, &wasm)?;
    Ok(wasm)
}

/// rustc flags that take this machine's directories out of the file names the wasm embeds:
/// the panic `Location`s of the crates.io (and git) dependencies spell out the full path of
/// their source in cargo's home, e.g. `/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/
/// js-sys-0.3.107/src/futures/jspi.rs`. They are dead bytes here (the no_std panic handler traps
/// without reading them; wasm-opt cannot drop data) and made the module differ between machines.
/// Remapped, such a name is `js-sys-0.3.107/src/futures/jspi.rs` (−70 B gzip on the bubble);
/// the workspace's own are relative already (cargo names its members' sources so). The standard
/// library's names (`/rustc/<commit>/library/...`) are compiled into its prebuilt rlibs, out of
/// reach of this flag: `location_names.rs` blanks those, and the shortened ones, in the module
/// (which still gains 27 B from the shorter names before that). Cargo's `trim-paths` profile
/// setting would do this but is unstable.
///
/// Passed as `target.wasm32-unknown-unknown.rustflags`, so native builds and the host's build
/// scripts are untouched, and cargo keeps these artifacts apart from the other wasm32 builds
/// (different flags, different file names) instead of rebuilding back and forth. A `RUSTFLAGS`
/// in the environment replaces them, as cargo's precedence has it.
fn path_remapping() -> Vec<String> {
    let mut prefixes = Vec::new();
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    if let Some(cargo_home) = cargo_home {
        // One directory per registry (`index.crates.io-<hash>`), the crates inside.
        if let Ok(registries) = fs::read_dir(cargo_home.join("registry/src")) {
            prefixes.extend(registries.flatten().map(|registry| registry.path()));
        }
        prefixes.push(cargo_home.join("git/checkouts"));
    }
    prefixes.sort();
    prefixes
        .iter()
        .map(|prefix| {
            format!(
                "--remap-path-prefix={}{}=",
                prefix.display(),
                std::path::MAIN_SEPARATOR
            )
        })
        .collect()
}

/// Applies wasm-opt's `--minify-imports-and-exports-and-modules` renaming to wasm-bindgen's
/// glue: the keys of its import object, its `wasm.<export>` references and the import module's
/// name. Fails rather than guess if the glue does not have the expected shape.
fn rename_glue(glue: &str, mapping: &str, module: &str) -> Result<String> {
    let mut glue = glue.to_owned();
    // Lines such as `["./natter_widget_bg.js", "__wbg_set_bcb0ec2400cfa22e", "$"],` (an import)
    // and `["widget_open", "Ab"],` (an export).
    for line in mapping.lines() {
        let line = line.trim().trim_end_matches(',');
        let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
            continue;
        };
        let names: Vec<&str> = inner.split(", ").map(|n| n.trim_matches('"')).collect();
        match names[..] {
            [_, name, short] => {
                let key = format!("{name}: function(");
                if glue.matches(&key).count() != 1 {
                    bail!("the glue does not define the import `{name}` exactly once");
                }
                glue = glue.replace(&key, &format!("{short:?}: function("));
            }
            [name, short] => {
                glue = replace_word(&glue, &format!("wasm.{name}"), &format!("wasm[{short:?}]"));
            }
            _ => bail!("unexpected line in wasm-opt's renaming: {line}"),
        }
    }
    let modules = "\"./natter_widget_bg.js\": import0";
    if glue.matches(modules).count() != 1 {
        bail!("the glue does not name the import module `./natter_widget_bg.js` once");
    }
    glue = glue.replace(modules, &format!("{module:?}: import0"));
    if let Some(at) = glue.find("wasm.") {
        let rest: String = glue[at..].chars().take(60).collect();
        bail!("the glue still uses an export wasm-opt did not rename: {rest}");
    }
    Ok(glue)
}

/// `text` with every `word` that is not followed by more of an identifier replaced by `with`.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let after = &rest[at + word.len()..];
        out.push_str(&rest[..at]);
        if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The one module name the imports of a wasm binary come from.
fn import_module(wasm: &[u8]) -> Result<String> {
    fn leb(bytes: &[u8], at: &mut usize) -> Result<usize> {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let byte = *bytes.get(*at).context("truncated wasm")?;
            *at += 1;
            value |= usize::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
        }
    }
    fn name(bytes: &[u8], at: &mut usize) -> Result<String> {
        let len = leb(bytes, at)?;
        let text = bytes.get(*at..*at + len).context("truncated wasm")?;
        *at += len;
        Ok(String::from_utf8_lossy(text).into_owned())
    }
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at)?;
        if id == 2 {
            let mut modules = Vec::new();
            for _ in 0..leb(wasm, &mut at)? {
                let module = name(wasm, &mut at)?;
                name(wasm, &mut at)?;
                let kind = *wasm.get(at).context("truncated wasm")?;
                at += 1;
                match kind {
                    // A function (type index) or a tag (attribute, type index).
                    0 => drop(leb(wasm, &mut at)?),
                    4 => {
                        at += 1;
                        leb(wasm, &mut at)?;
                    }
                    // A table (element type, limits) or a memory (limits).
                    1 | 2 => {
                        at += usize::from(kind == 1);
                        let flags = *wasm.get(at).context("truncated wasm")?;
                        at += 1;
                        leb(wasm, &mut at)?;
                        if flags & 1 != 0 {
                            leb(wasm, &mut at)?;
                        }
                    }
                    // A global (value type, mutability).
                    3 => at += 2,
                    _ => bail!("unknown import kind {kind} in the wasm"),
                }
                if !modules.contains(&module) {
                    modules.push(module);
                }
            }
            return match <[String; 1]>::try_from(modules) {
                Ok([module]) => Ok(module),
                Err(modules) => bail!("the wasm imports from {} modules, not one", modules.len()),
            };
        }
        at += size;
    }
    bail!("the wasm has no import section")
}

pub(crate) fn ensure_node() -> Result<()> {
    if on_path("node") && on_path("npm") {
        return Ok(());
    }
    bail!("the widget build needs Node.js and npm (Node 20 or newer); install them and retry")
}

/// The wasm-bindgen version Cargo.lock pins; the CLI must match it exactly.
fn locked_wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock = fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        {
            return Ok(version.to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen entry")
}

fn installed_version(program: &str) -> Option<String> {
    let output = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace().nth(1).map(str::to_owned)
}

pub(crate) fn ensure_wasm_bindgen(root: &Path) -> Result<()> {
    let wanted = locked_wasm_bindgen_version(root)?;
    if installed_version("wasm-bindgen").as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    println!("installing wasm-bindgen-cli {wanted} (must match Cargo.lock)");
    // Not `--locked`: the CLI's own lock file pins crates that no longer build on current Rust.
    run_command(cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &format!("={wanted}"),
    ]))
}

fn ensure_wasm_pack() -> Result<()> {
    if installed_version("wasm-pack").is_some() {
        return Ok(());
    }
    println!("installing wasm-pack {WASM_PACK_VERSION}");
    run_command(cargo().args([
        "install",
        "wasm-pack",
        "--version",
        &format!("={WASM_PACK_VERSION}"),
    ]))
}

/// `npm ci` in `dir`, skipped when `node_modules` is newer than the lock file.
pub fn npm_ci(dir: &Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let fresh = match (fs::metadata(&lock), fs::metadata(&installed)) {
        (Ok(lock), Ok(installed)) => match (lock.modified(), installed.modified()) {
            (Ok(l), Ok(i)) => i >= l,
            _ => false,
        },
        _ => false,
    };
    if fresh {
        println!("{}: node_modules up to date", dir.display());
        return Ok(());
    }
    run_command(
        Command::new("npm")
            .current_dir(dir)
            .args(["ci", "--no-audit", "--no-fund"])
            // Playwright must not try to download browsers: it drives Debian's Chromium.
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )
}

/// Installs Debian's Chromium and ChromeDriver when missing (as root, or with sudo).
pub fn ensure_chromium() -> Result<()> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    println!("installing Chromium and ChromeDriver from Debian's packages");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = |args: &[&str]| -> Result<()> {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        run_command(cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&["update", "-qq"])?;
    apt(&[
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "chromium",
        "chromium-driver",
    ])
    .context("Chromium is needed for the widget's browser tests (apt packages chromium, chromium-driver)")
}

/// The wasm-bindgen-test runs in headless Chromium: the DOM glue of the widget and the sdk's
/// browser JSON codec.
pub fn browser_unit_tests() -> Result<()> {
    ensure_chromium()?;
    let runner = which("wasm-bindgen-test-runner")
        .context("wasm-bindgen-test-runner is missing (it comes with wasm-bindgen-cli)")?;
    let run = |args: &[&str]| -> Result<()> {
        run_command(
            cargo()
                .args(["test", "--target", crate::WASM_TARGET])
                .args(args)
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
                .env("CHROMEDRIVER", CHROMEDRIVER)
                // Chromium's flags (headless, no sandbox as root, no background networking on
                // this closed network) are in each crate's webdriver.json.
                .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
        )
    };
    run(&[
        "-p",
        "natter-sdk",
        "--no-default-features",
        "--features",
        "js",
        "--test",
        "js_codec",
    ])?;
    // The DOM tests, and the session's tests of its browser plumbing (in both builds).
    run(&["-p", "natter-widget", "--lib", "--test", "ui"])?;
    run(&["-p", "natter-widget", "--features", "headless", "--lib"])
}

/// Playwright, driving Debian's Chromium against the real server, the real widget and a native
/// SDK agent.
pub fn end_to_end(root: &Path) -> Result<()> {
    ensure_chromium()?;
    run_command(cargo().args([
        "build",
        "-p",
        "natter-server",
        "--bin",
        "natter",
        "-p",
        "natter-sdk",
        "--example",
        "auto_greeter",
    ]))?;
    let e2e = root.join("widget/e2e");
    npm_ci(&e2e)?;
    let target = target_dir(root);
    run_command(
        Command::new("npx")
            .current_dir(&e2e)
            .args(["playwright", "test"])
            .env("NATTER_BIN", target.join("debug/natter"))
            .env(
                "NATTER_AGENT_BIN",
                target.join("debug/examples/auto_greeter"),
            )
            .env("NATTER_CHROMIUM", CHROMIUM)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )
    .context("the widget's end-to-end tests failed (report in widget/e2e/playwright-report)")
}

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

pub(crate) fn which(program: &str) -> Option<PathBuf> {
    env::var_os("PATH").and_then(|path| {
        env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}
