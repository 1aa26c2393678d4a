//! Where the CPU went during a measurement: the server child, the load generator (this
//! process), and everything else on the machine, from `/proc/<pid>/stat` and `/proc/stat`.
//!
//! On a 2-core machine the server and the load generator compete for the same cores, so a
//! throughput figure means little without this split.

use std::collections::HashMap;
use std::time::Instant;

/// Clock ticks per second of `/proc` CPU times (`getconf CLK_TCK`; 100 on every mainstream
/// Linux, and reading it properly would need libc).
const TICKS_PER_SEC: f64 = 100.0;

/// Cumulative CPU counters at one instant.
#[derive(Debug, Clone)]
pub struct CpuSample {
    at: Instant,
    /// Per server thread: (name, utime + stime).
    server_threads: HashMap<u32, (String, u64)>,
    server_ticks: u64,
    server_system_ticks: u64,
    bench_ticks: u64,
    /// The local database server (mongod), when there is one.
    database_ticks: Option<u64>,
    machine_busy_ticks: u64,
    machine_total_ticks: u64,
}

/// CPU use between two samples, in percent of one core (200 = two cores fully busy).
#[derive(Debug, Clone, Default)]
pub struct CpuUse {
    /// The server child.
    pub server: f64,
    /// Of which in the kernel (system calls: socket reads and writes, fsync).
    pub server_system: f64,
    /// The load generator.
    pub bench: f64,
    /// The server's busiest thread: its name and use. A thread near 100% is a serial
    /// bottleneck however idle the other core is.
    pub server_busiest_thread: Option<(String, f64)>,
    /// The local database server (mongod), when it runs on this machine.
    pub database: Option<f64>,
    /// Every other process (builds, other tests, ...).
    pub others: f64,
    /// Idle capacity left on the machine.
    pub idle: f64,
}

impl CpuSample {
    /// Reads the counters now; `None` where `/proc` is unavailable.
    pub fn now(server_pid: u32, database_pid: Option<u32>) -> Option<Self> {
        let (machine_busy_ticks, machine_total_ticks) = machine_ticks()?;
        let (server_user, server_system) = process_ticks(&format!("/proc/{server_pid}/stat"))?;
        let (bench_user, bench_system) = process_ticks("/proc/self/stat")?;
        Some(CpuSample {
            at: Instant::now(),
            server_threads: thread_ticks(server_pid),
            server_ticks: server_user + server_system,
            server_system_ticks: server_system,
            bench_ticks: bench_user + bench_system,
            database_ticks: database_pid
                .and_then(|pid| process_ticks(&format!("/proc/{pid}/stat")))
                .map(|(user, system)| user + system),
            machine_busy_ticks,
            machine_total_ticks,
        })
    }

    /// Use between `self` (earlier) and `later`.
    pub fn until(&self, later: &CpuSample) -> CpuUse {
        let seconds = later.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let percent = |ticks: u64| ticks as f64 / TICKS_PER_SEC / seconds * 100.0;
        let server = percent(later.server_ticks.saturating_sub(self.server_ticks));
        let bench = percent(later.bench_ticks.saturating_sub(self.bench_ticks));
        let database = match (self.database_ticks, later.database_ticks) {
            (Some(before), Some(after)) => Some(percent(after.saturating_sub(before))),
            _ => None,
        };
        let busy = percent(
            later
                .machine_busy_ticks
                .saturating_sub(self.machine_busy_ticks),
        );
        let total = percent(
            later
                .machine_total_ticks
                .saturating_sub(self.machine_total_ticks),
        );
        let server_busiest_thread = later
            .server_threads
            .iter()
            .map(|(tid, (name, ticks))| {
                let before = self.server_threads.get(tid).map_or(0, |(_, t)| *t);
                (name, ticks.saturating_sub(before))
            })
            .max_by_key(|(_, ticks)| *ticks)
            .map(|(name, ticks)| (name.clone(), percent(ticks)));
        CpuUse {
            server,
            server_busiest_thread,
            server_system: percent(
                later
                    .server_system_ticks
                    .saturating_sub(self.server_system_ticks),
            ),
            bench,
            database,
            others: (busy - server - bench - database.unwrap_or(0.0)).max(0.0),
            idle: (total - busy).max(0.0),
        }
    }
}

/// The pid of a `mongod` on this machine listening on `port` (27017 when its command line
/// names no port), found through `/proc/*/cmdline`.
pub fn find_mongod(port: u16) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            mongod_port(&cmdline).filter(|p| *p == port).map(|_| pid)
        })
        .next()
}

/// The port of a `mongod` command line (NUL-separated), or `None` if it is not one.
fn mongod_port(cmdline: &[u8]) -> Option<u16> {
    let args: Vec<&str> = cmdline
        .split(|b| *b == 0)
        .filter_map(|a| std::str::from_utf8(a).ok())
        .collect();
    if !args.first()?.rsplit('/').next()?.eq("mongod") {
        return None;
    }
    let mut port = 27017;
    for (i, arg) in args.iter().enumerate() {
        if let Some(value) = arg.strip_prefix("--port=") {
            port = value.parse().ok()?;
        } else if *arg == "--port" {
            port = args.get(i + 1)?.parse().ok()?;
        }
    }
    Some(port)
}

/// utime + stime and name of every thread of a process, by thread id.
fn thread_ticks(pid: u32) -> HashMap<u32, (String, u64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return HashMap::new();
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let tid: u32 = task.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            let name = stat[stat.find('(')? + 1..stat.rfind(')')?].to_owned();
            let (user, system) = parse_process_ticks(&stat)?;
            Some((tid, (name, user + system)))
        })
        .collect()
}

/// (utime, stime) of a process (all threads), from its `stat` file.
fn process_ticks(path: &str) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    parse_process_ticks(&stat)
}

fn parse_process_ticks(stat: &str) -> Option<(u64, u64)> {
    // The command name may contain spaces; fields are counted after its closing parenthesis.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Field 3 of the file is `state`, the first after the name; utime and stime are 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime, stime))
}

/// (busy, total) ticks of all CPUs, from the first line of `/proc/stat`.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_machine_ticks(stat.lines().next()?)
}

fn parse_machine_ticks(line: &str) -> Option<(u64, u64)> {
    let values: Vec<u64> = line
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3)? + values.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_times_are_read_after_the_command_name() {
        let stat = "4242 (natter bench) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0";
        assert_eq!(parse_process_ticks(stat), Some((250, 50)));
    }

    #[test]
    fn a_mongod_is_recognised_with_its_port() {
        let cmdline = b"/opt/bin/mongod\0--replSet\0rs0\0--port\x0040913\0";
        assert_eq!(mongod_port(cmdline), Some(40913));
        assert_eq!(mongod_port(b"mongod\0--dbpath\0/tmp/db\0"), Some(27017));
        assert_eq!(mongod_port(b"mongod\0--port=1234\0"), Some(1234));
        assert_eq!(mongod_port(b"/usr/bin/mongosh\0--port\x0027017\0"), None);
    }

    #[test]
    fn machine_busy_time_excludes_idle_and_iowait() {
        let line = "cpu  100 5 50 800 20 0 5 0 0 0";
        assert_eq!(parse_machine_ticks(line), Some((160, 980)));
    }
}
