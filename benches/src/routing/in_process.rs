//! Decisions per second of the routing core, in-process: [`engine::plan`] timed on generated
//! agents and waiting lines, with no store, no network and no server.
//!
//! Two shapes of work are timed:
//! - **one full plan**: A agents against a line of W waiting conversations, planned in one call
//!   (what the dispatcher does when a burst has piled up between two rounds);
//! - **sequential**: W arrivals planned one at a time against the same A agents, each decision
//!   applied before the next plan (what the dispatcher does when every arrival gets a round of
//!   its own). Each call rebuilds the engine's per-line heaps of the A agents, so this is the
//!   cost of a single decision when nothing is batched.
//!
//! Each shape runs on two scenarios: `uniform` (the end-to-end benchmark's tenant: every agent
//! idle with the same capacity, one pool) and `mixed` (random capacities and loads, a few teams,
//! some requests naming a team, a few refusals). The inputs come from a fixed-seed generator,
//! so every run plans the same tenant.

use std::hint::black_box;
use std::time::{Duration, Instant};

use natter_sdk::protocol::{Presence, RoutingPolicy};
use natter_server::routing::engine::{self, AgentSlot, Planned, WaitingSlot};

use crate::stats::percentile;

/// Teams of the `mixed` scenario.
const TEAMS: [&str; 4] = ["sales", "support", "billing", "returns"];
/// Untimed full plans before the timed ones.
const WARM_UP_PLANS: usize = 2;

/// What to plan.
#[derive(Debug, Clone, Copy)]
pub struct CoreSettings {
    /// Agents.
    pub agents: usize,
    /// Waiting conversations (and arrivals of the sequential variant).
    pub waiting: usize,
    /// Capacity of every agent in the `uniform` scenario.
    pub capacity: u32,
    /// Timed full plans per scenario.
    pub iterations: usize,
}

/// The timings of one scenario.
#[derive(Debug, Clone)]
pub struct CoreResult {
    /// `uniform` or `mixed`.
    pub scenario: &'static str,
    /// Agents.
    pub agents: usize,
    /// Waiting conversations in the full plan.
    pub waiting: usize,
    /// Free places (sum of capacity − load over online agents).
    pub free_places: u64,
    /// Decisions (assignments) one full plan makes.
    pub decisions: usize,
    /// Time of each timed full plan.
    pub plan_times: Vec<Duration>,
    /// Sequential variant: plans made (one per arrival).
    pub sequential_plans: usize,
    /// Sequential variant: assignments made.
    pub sequential_decisions: usize,
    /// Sequential variant: time of every plan, in nanoseconds (sorted).
    pub sequential_nanos: Vec<u64>,
}

impl CoreResult {
    /// The median full-plan time.
    pub fn plan_median(&self) -> Duration {
        let mut nanos: Vec<u64> = self.plan_times.iter().map(|d| nanos(*d)).collect();
        nanos.sort_unstable();
        Duration::from_nanos(percentile(&nanos, 50.0))
    }

    /// The fastest full-plan time.
    pub fn plan_min(&self) -> Duration {
        self.plan_times.iter().min().copied().unwrap_or_default()
    }

    /// Decisions per second of a full plan (median time).
    pub fn plan_decisions_per_sec(&self) -> f64 {
        per_sec(self.decisions, self.plan_median())
    }

    /// Total time of the sequential variant.
    pub fn sequential_total(&self) -> Duration {
        Duration::from_nanos(self.sequential_nanos.iter().sum())
    }

    /// Plans per second in the sequential variant (each plan makes at most one decision).
    pub fn sequential_plans_per_sec(&self) -> f64 {
        per_sec(self.sequential_plans, self.sequential_total())
    }

    /// Percentile `p` of the sequential variant's time per plan.
    pub fn sequential_percentile(&self, p: f64) -> Duration {
        Duration::from_nanos(percentile(&self.sequential_nanos, p))
    }
}

/// Runs both scenarios. CPU-bound: call it from a blocking thread.
pub fn run(settings: CoreSettings) -> Vec<CoreResult> {
    let mut random = SplitMix64(0x6e61_7474_6572);
    let uniform = Scenario::uniform(settings);
    let mixed = Scenario::mixed(settings, &mut random);
    vec![uniform.measure(settings), mixed.measure(settings)]
}

/// Generated inputs of one scenario.
struct Scenario {
    name: &'static str,
    agents: Vec<AgentSlot>,
    waiting: Vec<WaitingSlot>,
}

impl Scenario {
    /// The end-to-end benchmark's tenant: idle agents of equal capacity, one pool.
    fn uniform(settings: CoreSettings) -> Self {
        let agents = (0..settings.agents)
            .map(|i| agent(i, settings.capacity, 0, Vec::new()))
            .collect();
        let waiting = (0..settings.waiting).map(|i| waiting(i, None)).collect();
        Scenario {
            name: "uniform",
            agents,
            waiting,
        }
    }

    /// A busier tenant: capacities 5–15, loads up to half of them, 5% of agents away, each
    /// agent in 0–2 of four teams, a quarter of the requests naming a team, 2% refused once.
    fn mixed(settings: CoreSettings, random: &mut SplitMix64) -> Self {
        let agents = (0..settings.agents)
            .map(|i| {
                let capacity = 5 + random.below(11) as u32;
                let load = random.below(u64::from(capacity / 2) + 1) as u32;
                let teams = (0..random.below(3))
                    .map(|_| TEAMS[random.below(TEAMS.len() as u64) as usize].to_owned())
                    .collect();
                let mut slot = agent(i, capacity, load, teams);
                if random.below(20) == 0 {
                    slot.presence = Presence::Away;
                }
                slot.last_assigned = random.below(1_000_000) as i64;
                slot
            })
            .collect();
        let waiting = (0..settings.waiting)
            .map(|i| {
                let team = (random.below(4) == 0)
                    .then(|| TEAMS[random.below(TEAMS.len() as u64) as usize].to_owned());
                let mut slot = waiting(i, team);
                if random.below(50) == 0 {
                    let by = random.below(settings.agents.max(1) as u64);
                    slot.refused_by.push(agent_id(by as usize));
                }
                slot
            })
            .collect();
        Scenario {
            name: "mixed",
            agents,
            waiting,
        }
    }

    fn free_places(&self) -> u64 {
        self.agents
            .iter()
            .filter(|a| a.presence == Presence::Online)
            .map(|a| u64::from(a.capacity.saturating_sub(a.load)))
            .sum()
    }

    fn measure(&self, settings: CoreSettings) -> CoreResult {
        let mut decisions = 0;
        for _ in 0..WARM_UP_PLANS {
            decisions = plan(&self.agents, &self.waiting).len();
        }
        let plan_times = (0..settings.iterations.max(1))
            .map(|_| {
                let started = Instant::now();
                let planned = plan(black_box(&self.agents), black_box(&self.waiting));
                let elapsed = started.elapsed();
                black_box(planned);
                elapsed
            })
            .collect();

        // Sequential: each arrival planned alone, its decision applied to the agents.
        let mut agents = self.agents.clone();
        let index_of: std::collections::HashMap<String, usize> = agents
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        let mut sequential_nanos = Vec::with_capacity(self.waiting.len());
        let mut sequential_decisions = 0;
        for slot in &self.waiting {
            let line = std::slice::from_ref(slot);
            let started = Instant::now();
            let planned = plan(black_box(&agents), black_box(line));
            sequential_nanos.push(nanos(started.elapsed()));
            for decision in planned {
                if let Some(&a) = index_of.get(&decision.agent_id) {
                    agents[a].load += 1;
                    agents[a].last_assigned = decision.ticket;
                    sequential_decisions += 1;
                }
            }
        }
        sequential_nanos.sort_unstable();

        CoreResult {
            scenario: self.name,
            agents: self.agents.len(),
            waiting: self.waiting.len(),
            free_places: self.free_places(),
            decisions,
            plan_times,
            sequential_plans: self.waiting.len(),
            sequential_decisions,
            sequential_nanos,
        }
    }
}

/// The engine call the dispatcher makes, every pool routing automatically.
fn plan(agents: &[AgentSlot], waiting: &[WaitingSlot]) -> Vec<Planned> {
    engine::plan(agents, waiting, |_| RoutingPolicy::Auto)
}

fn agent_id(i: usize) -> String {
    // The length of a real id (UUIDv7 text), so string comparisons cost what they do in the
    // server.
    format!("0190a5c4-0000-7000-8000-{i:012}")
}

fn agent(i: usize, capacity: u32, load: u32, teams: Vec<String>) -> AgentSlot {
    AgentSlot {
        id: agent_id(i),
        presence: Presence::Online,
        capacity,
        load,
        teams,
        last_assigned: 0,
    }
}

fn waiting(i: usize, team: Option<String>) -> WaitingSlot {
    WaitingSlot {
        conversation_id: format!("0190a5c5-0000-7000-8000-{i:012}"),
        team,
        // Arrival times a millisecond apart, as `created_at` would be.
        rank: 1_700_000_000_000 + i as i64,
        refused_by: Vec::new(),
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn per_sec(count: usize, elapsed: Duration) -> f64 {
    if elapsed.is_zero() {
        0.0
    } else {
        count as f64 / elapsed.as_secs_f64()
    }
}

/// A small deterministic generator (SplitMix64), enough to vary a scenario reproducibly
/// without another dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0; the modulo bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> CoreSettings {
        CoreSettings {
            agents: 20,
            waiting: 150,
            capacity: 10,
            iterations: 2,
        }
    }

    #[test]
    fn the_uniform_scenario_assigns_every_arrival_within_capacity() {
        let results = run(small());
        let uniform = &results[0];
        assert_eq!(uniform.scenario, "uniform");
        assert_eq!(uniform.free_places, 200);
        assert_eq!(uniform.decisions, 150);
        assert_eq!(uniform.sequential_decisions, 150);
        assert_eq!(uniform.sequential_nanos.len(), 150);
        assert_eq!(uniform.plan_times.len(), 2);
    }

    #[test]
    fn the_mixed_scenario_is_the_same_on_every_run() {
        let (a, b) = (run(small()), run(small()));
        assert_eq!(a[1].scenario, "mixed");
        assert_eq!(a[1].free_places, b[1].free_places);
        assert_eq!(a[1].decisions, b[1].decisions);
        assert!(a[1].decisions as u64 <= a[1].free_places);
    }
}
