//! The results: one table row per store (plain text or Markdown), followed by the details that
//! explain a figure (latency at full load, group-commit batches, idle-socket readings, errors).

use crate::cpu::CpuUse;
use crate::run::StoreRun;
use crate::stats::ms;

/// Column headers of the results table; the latency columns name the latency phase's load.
fn headers(runs: &[StoreRun]) -> [String; 8] {
    let load = percent_label(runs.first().map_or(0.5, |r| r.latency_load));
    [
        "store".into(),
        "pairs".into(),
        "delivered msg/s".into(),
        "stored msg/s".into(),
        format!("p50 @{load} (ms)"),
        format!("p99 @{load} (ms)"),
        format!("max @{load} (ms)"),
        "bytes/idle socket".into(),
    ]
}

/// The cells of one store's row; `-` where a phase did not run.
fn row(run: &StoreRun) -> [String; 8] {
    let dash = || "-".to_owned();
    let (delivered, stored) = run.throughput.as_ref().map_or((dash(), dash()), |t| {
        (
            format!("{:.0}", t.delivered_per_sec()),
            format!("{:.0}", t.stored_per_sec()),
        )
    });
    let (p50, p99, max) = run
        .half_load
        .as_ref()
        .map_or((dash(), dash(), dash()), |h| {
            (ms(h.latency.p50), ms(h.latency.p99), ms(h.latency.max))
        });
    let idle = run
        .idle
        .as_ref()
        .map_or_else(dash, |i| format!("{:.0}", i.bytes_per_socket()));
    [
        run.store.name().to_owned(),
        run.pairs.to_string(),
        delivered,
        stored,
        p50,
        p99,
        max,
        idle,
    ]
}

/// The results table, aligned for a terminal.
pub fn plain_table(runs: &[StoreRun]) -> String {
    let headers = headers(runs);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = runs.iter().map(|r| row(r).to_vec()).collect();
    crate::routing::table(&headers, &rows, false)
}

/// The results table in Markdown.
pub fn markdown_table(runs: &[StoreRun]) -> String {
    let headers = headers(runs);
    let mut out = format!("| {} |\n", headers.join(" | "));
    out.push_str("|---|");
    out.push_str(&"---:|".repeat(headers.len() - 1));
    for run in runs {
        out.push_str(&format!("\n| {} |", row(run).join(" | ")));
    }
    out
}

/// The details behind each row.
pub fn details(run: &StoreRun) -> String {
    let mut out = vec![format!(
        "{}: set-up of {} pairs took {:.1} s",
        run.store.name(),
        run.pairs,
        run.setup_seconds
    )];
    if let Some(t) = &run.throughput {
        out.push(format!(
            "  full load: offered {:.0} msg/s, delivered {:.0}/s, stored {:.0}/s; latency p50 {} ms, p99 {} ms, max {} ms ({} samples)",
            t.offered_per_sec(),
            t.delivered_per_sec(),
            t.stored_per_sec(),
            ms(t.latency.p50),
            ms(t.latency.p99),
            ms(t.latency.max),
            t.latency.count,
        ));
        out.push(ack_line(t));
        out.push(phase_health(t));
    }
    if let Some(c) = &run.throughput_cpu {
        out.push(cpu_line(c));
    }
    if let Some(b) = &run.throughput_batches {
        out.push(format!(
            "  group commit at full load: {:.0} batches, mean {:.1} messages per batch, mean {:.2} ms per append_batch, {:.0} stored (server count), {:.0} lagging kicks",
            b.batches, b.mean_size, b.mean_ms, b.stored, b.lagging_kicks
        ));
    }
    if let Some(h) = &run.half_load {
        out.push(format!(
            "  {} load: target {:.0} msg/s, offered {:.0}/s, delivered {:.0}/s; latency p50 {} ms, p99 {} ms, max {} ms ({} samples)",
            percent_label(run.latency_load),
            run.half_load_target,
            h.offered_per_sec(),
            h.delivered_per_sec(),
            ms(h.latency.p50),
            ms(h.latency.p99),
            ms(h.latency.max),
            h.latency.count,
        ));
        out.push(ack_line(h));
        out.push(phase_health(h));
    }
    if let Some(c) = &run.half_load_cpu {
        out.push(cpu_line(c));
    }
    if let Some(b) = &run.half_load_batches {
        out.push(format!(
            "  group commit at {} load: mean {:.1} messages per batch, mean {:.2} ms per append_batch",
            percent_label(run.latency_load),
            b.mean_size,
            b.mean_ms
        ));
    }
    if let Some(i) = &run.idle {
        out.push(format!(
            "  idle sockets: {} visitor sessions in {:.1} s; {} of {} sockets open ({} failed) in {:.1} s; server RSS {:.1} MiB -> {:.1} MiB = {:.0} bytes per socket",
            i.requested,
            i.sessions_seconds,
            i.open,
            i.requested,
            i.failed,
            i.open_seconds,
            i.rss_before as f64 / 1048576.0,
            i.rss_after as f64 / 1048576.0,
            i.bytes_per_socket(),
        ));
        if let Some(error) = &i.first_error {
            out.push(format!("  first idle-socket failure: {error}"));
        }
    }
    if !run.rss_trace.is_empty() {
        let trace: Vec<String> = run
            .rss_trace
            .iter()
            .map(|(label, rss)| format!("{label} {:.0} MiB", *rss as f64 / 1048576.0))
            .collect();
        out.push(format!("  server RSS: {}", trace.join(", ")));
    }
    let (lines, suppressed) = run.server_log_lines;
    if lines > 0 {
        out.push(format!(
            "  server wrote {lines} warning/error log lines ({suppressed} not shown)"
        ));
    }
    for problem in &run.problems {
        out.push(format!("  PROBLEM: {problem}"));
    }
    out.join("\n")
}

fn ack_line(p: &crate::load::PhaseOutcome) -> String {
    format!(
        "    send->ack (sent) latency p50 {} ms, p99 {} ms, max {} ms",
        ms(p.ack_latency.p50),
        ms(p.ack_latency.p99),
        ms(p.ack_latency.max)
    )
}

/// `0.5` → `50%`.
pub fn percent_label(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

/// The CPU split of a measurement, as one indented line.
pub fn cpu_line(c: &CpuUse) -> String {
    format!(
        "    CPU (% of one core, machine has {}): server {:.0}% ({:.0}% in the kernel; busiest thread {}), load generator {:.0}%,{} other processes {:.0}%, idle {:.0}%",
        std::thread::available_parallelism().map_or(0, |n| n.get()) * 100,
        c.server,
        c.server_system,
        c.server_busiest_thread.as_ref().map_or_else(
            || "unknown".to_owned(),
            |(name, use_)| format!("{name} {use_:.0}%")
        ),
        c.bench,
        c.database
            .map(|d| format!(" mongod {d:.0}%,"))
            .unwrap_or_default(),
        c.others,
        c.idle
    )
}

fn phase_health(p: &crate::load::PhaseOutcome) -> String {
    format!(
        "    sent {} ({} in the window, {} of those received), {} refused, {} reconnects, {} errors, {} skipped ticks, {} gap syncs, {} unacknowledged at the end",
        p.sent,
        p.sent_in_window,
        p.received_of_window,
        p.send_failures,
        p.reconnects,
        p.errors,
        p.skipped_ticks,
        p.syncs,
        p.unacknowledged,
    )
}

/// `2 cores (AMD EPYC), 23.4 GiB RAM`, from `/proc`.
pub fn machine_summary() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1048576.0);
    format!("{cores} cores ({model}), {memory_gib:.1} GiB RAM")
}

/// The 1-, 5- and 15-minute load averages, to show how busy the machine was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}
