//! Building the agent console into `console/dist/`, which the server embeds: cargo builds the
//! crate for wasm32 with the `wasm-release` profile, `wasm-bindgen` writes the ES-module glue,
//! the npm `binaryen` wasm-opt (installed for the widget) shrinks the module, and every file gets
//! a content-hashed name: `natter-console.<hash>.wasm`, `.js` (the glue, which also starts the
//! app) and `.css`, plus `index.html` naming them and `manifest.json`.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::widget::{
    CHROMIUM, WASM_FEATURES, ensure_chromium, ensure_node, ensure_wasm_bindgen, npm_ci, target_dir,
    wasm_opt_path,
};
use crate::{WASM_TARGET, cargo, ensure_wasm_target, run_command};

/// The glue's last line in the wasm-bindgen versions we pin; the start call goes after it.
const GLUE_EXPORTS: &str = "export { initSync, __wbg_init as default };";

/// Builds the console into `console/dist/`.
pub fn build(root: &Path) -> Result<()> {
    ensure_wasm_target()?;
    ensure_node()?;
    ensure_wasm_bindgen(root)?;
    // Installs the npm binaryen wasm-opt; the console reuses the widget's copy.
    npm_ci(&root.join("widget/loader"))?;

    run_command(cargo().args([
        "build",
        "-p",
        "natter-console",
        "--lib",
        "--target",
        WASM_TARGET,
        "--profile",
        "wasm-release",
    ]))
    .context("cargo could not build the console for wasm32")?;

    let target = target_dir(root);
    let built = target
        .join(WASM_TARGET)
        .join("wasm-release/natter_console.wasm");
    let bindgen_dir = target.join("console-bindgen");
    if bindgen_dir.exists() {
        fs::remove_dir_all(&bindgen_dir).context("clearing the previous wasm-bindgen output")?;
    }
    run_command(
        Command::new("wasm-bindgen")
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "natter_console",
            ])
            .arg("--out-dir")
            .arg(&bindgen_dir)
            .arg(&built),
    )
    .context("wasm-bindgen failed on the console")?;

    let wasm_path = bindgen_dir.join("natter_console_bg.wasm");
    run_command(
        Command::new(wasm_opt_path(root))
            .arg("-Oz")
            .args(WASM_FEATURES)
            .args(["--strip-debug", "--strip-producers"])
            .arg(&wasm_path)
            .arg("-o")
            .arg(&wasm_path),
    )
    .context("wasm-opt (npm binaryen) failed on the console")?;

    let wasm = fs::read(&wasm_path).context("reading the console's wasm")?;
    let wasm_name = hashed_name("wasm", &wasm);
    let glue = fs::read_to_string(bindgen_dir.join("natter_console.js"))
        .context("reading the console's wasm-bindgen glue")?;
    let glue = with_start_call(&glue, &wasm_name)?;
    let js_name = hashed_name("js", glue.as_bytes());
    // The shell's stylesheet, then the settings screens' own (one file, one request).
    let mut css = fs::read(root.join("console/style.css")).context("reading console/style.css")?;
    css.extend(
        fs::read(root.join("console/src/settings/settings.css"))
            .context("reading console/src/settings/settings.css")?,
    );
    let css_name = hashed_name("css", &css);
    let template = fs::read_to_string(root.join("console/index.html"))
        .context("reading console/index.html")?;
    let html = page(&template, &js_name, &css_name)?;

    let dist = root.join("console/dist");
    if dist.exists() {
        fs::remove_dir_all(&dist).context("clearing console/dist")?;
    }
    fs::create_dir_all(&dist).context("creating console/dist")?;
    fs::write(dist.join(&wasm_name), &wasm)?;
    fs::write(dist.join(&js_name), &glue)?;
    fs::write(dist.join(&css_name), &css)?;
    fs::write(dist.join("index.html"), html)?;
    let manifest = format!(
        "{{\n  \"index\": \"index.html\",\n  \"js\": \"{js_name}\",\n  \"wasm\": \"{wasm_name}\",\n  \"css\": \"{css_name}\"\n}}\n"
    );
    fs::write(dist.join("manifest.json"), manifest)?;
    println!(
        "console: {} (wasm {} KB, glue {} KB, css {} KB)",
        dist.display(),
        wasm.len() / 1024,
        glue.len() / 1024,
        css.len() / 1024
    );
    Ok(())
}

/// The console's Playwright suite (`console/e2e`): two agents, the owner and a visitor on the
/// real widget, against the real server, in Debian's Chromium. The server embeds the widget and
/// the console, so both must be built first.
pub fn end_to_end(root: &Path) -> Result<()> {
    ensure_chromium()?;
    run_command(cargo().args(["build", "-p", "natter-server", "--bin", "natter"]))?;
    let e2e = root.join("console/e2e");
    npm_ci(&e2e)?;
    run_command(
        Command::new("npx")
            .current_dir(&e2e)
            .args(["playwright", "test"])
            .env("NATTER_BIN", target_dir(root).join("debug/natter"))
            .env("NATTER_CHROMIUM", CHROMIUM)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )
    .context("the console's end-to-end tests failed (report in console/e2e/playwright-report)")
}

/// `natter-console.<first 16 hex digits of the SHA-256>.<extension>`.
fn hashed_name(extension: &str, bytes: &[u8]) -> String {
    let hash: String = Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("natter-console.{hash}.{extension}")
}

/// The glue, ending with the call that instantiates the module (whose start function mounts the
/// app) from its hashed name next to the glue. A module script is the only script the page's
/// CSP allows, so the start call cannot be an inline script in the page.
fn with_start_call(glue: &str, wasm_name: &str) -> Result<String> {
    if !glue.contains(GLUE_EXPORTS) {
        bail!(
            "the wasm-bindgen glue no longer ends with `{GLUE_EXPORTS}`; update xtask/src/console.rs"
        );
    }
    Ok(format!(
        "{glue}\n__wbg_init({{ module_or_path: new URL({wasm_name:?}, import.meta.url) }});\n"
    ))
}

/// `index.html` with the hashed script and stylesheet names filled in.
fn page(template: &str, js_name: &str, css_name: &str) -> Result<String> {
    for placeholder in ["{{script}}", "{{style}}"] {
        if template.matches(placeholder).count() != 1 {
            bail!("console/index.html must contain {placeholder} exactly once");
        }
    }
    Ok(template
        .replace("{{script}}", js_name)
        .replace("{{style}}", css_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_follow_the_content() {
        let a = hashed_name("js", b"one");
        assert!(a.starts_with("natter-console.") && a.ends_with(".js"));
        assert_eq!(a.len(), "natter-console.".len() + 16 + ".js".len());
        assert_eq!(a, hashed_name("js", b"one"));
        assert_ne!(a, hashed_name("js", b"two"));
    }

    #[test]
    fn the_start_call_names_the_hashed_wasm() -> Result<()> {
        let glue = format!("function x() {{}}\n{GLUE_EXPORTS}\n");
        let started = with_start_call(&glue, "natter-console.0123456789abcdef.wasm")?;
        assert!(started.ends_with(
            "__wbg_init({ module_or_path: new URL(\"natter-console.0123456789abcdef.wasm\", import.meta.url) });\n"
        ));
        assert!(with_start_call("export default x;", "a.wasm").is_err());
        Ok(())
    }

    #[test]
    fn the_page_needs_each_placeholder_once() -> Result<()> {
        let html = page(
            "<link href=\"{{style}}\"><script src=\"{{script}}\">",
            "a.js",
            "b.css",
        )?;
        assert_eq!(html, "<link href=\"b.css\"><script src=\"a.js\">");
        assert!(page("<script src=\"{{script}}\">", "a.js", "b.css").is_err());
        Ok(())
    }
}
