//! A benchmark's machine-readable report and its table.

use serde::Serialize;
use std::collections::BTreeMap;

/// One target: a measured figure, what it is compared with, and whether it passed.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub value: f64,
    pub unit: String,
    /// The reference measured in the same run, if the target is a ratio.
    pub reference: Option<f64>,
    pub ratio: Option<f64>,
    /// The target, in words ("p99 <= 2 ms", "ratio >= 0.6").
    pub target: String,
    pub pass: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub bench: String,
    pub machine: Machine,
    pub parameters: BTreeMap<String, serde_json::Value>,
    pub figures: BTreeMap<String, f64>,
    pub checks: Vec<Check>,
    pub pass: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_gib: f64,
    pub cpu: String,
}

impl Machine {
    pub fn this() -> Self {
        let mem_kb = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .next()
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<f64>().ok())
            })
            .unwrap_or(0.0);
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
            })
            .unwrap_or_default();
        Self {
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            memory_gib: (mem_kb / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            cpu,
        }
    }
}

impl Report {
    pub fn new(bench: &str) -> Self {
        Self {
            bench: bench.into(),
            machine: Machine::this(),
            parameters: BTreeMap::new(),
            figures: BTreeMap::new(),
            checks: Vec::new(),
            pass: true,
        }
    }

    pub fn param(&mut self, k: &str, v: impl Into<serde_json::Value>) {
        self.parameters.insert(k.into(), v.into());
    }

    pub fn figure(&mut self, k: &str, v: f64) {
        self.figures.insert(k.into(), (v * 1000.0).round() / 1000.0);
    }

    /// A figure that must stay at or below `max`.
    pub fn at_most(&mut self, name: &str, value: f64, unit: &str, max: f64) {
        self.push(Check {
            name: name.into(),
            value,
            unit: unit.into(),
            reference: None,
            ratio: None,
            target: format!("<= {max} {unit}"),
            pass: value <= max,
        });
    }

    /// `value / reference` must be at least `min`.
    pub fn ratio_at_least(&mut self, name: &str, value: f64, reference: f64, unit: &str, min: f64) {
        let ratio = if reference > 0.0 {
            value / reference
        } else {
            0.0
        };
        self.push(Check {
            name: name.into(),
            value,
            unit: unit.into(),
            reference: Some(reference),
            ratio: Some(ratio),
            target: format!("ratio >= {min}"),
            pass: ratio >= min,
        });
    }

    /// Values measured in turns, each next to its reference of the same turn: the median of the
    /// turns' ratios must be at least `min`. The check shows the mean value and reference.
    pub fn median_ratio_at_least(
        &mut self,
        name: &str,
        values: &[f64],
        references: &[f64],
        unit: &str,
        min: f64,
    ) {
        assert_eq!(values.len(), references.len(), "one reference per turn");
        let mut ratios: Vec<f64> = values
            .iter()
            .zip(references)
            .map(|(v, r)| if *r > 0.0 { v / r } else { 0.0 })
            .collect();
        ratios.sort_by(f64::total_cmp);
        let ratio = match ratios.len() {
            0 => 0.0,
            n if n % 2 == 1 => ratios[n / 2],
            n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
        };
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        self.push(Check {
            name: name.into(),
            value: mean(values),
            unit: unit.into(),
            reference: Some(mean(references)),
            ratio: Some(ratio),
            target: format!("median turn ratio >= {min}"),
            pass: ratio >= min,
        });
    }

    /// `value / reference` must be at most `max`.
    pub fn ratio_at_most(&mut self, name: &str, value: f64, reference: f64, unit: &str, max: f64) {
        let ratio = if reference > 0.0 {
            value / reference
        } else {
            f64::INFINITY
        };
        self.push(Check {
            name: name.into(),
            value,
            unit: unit.into(),
            reference: Some(reference),
            ratio: Some(ratio),
            target: format!("ratio <= {max}"),
            pass: ratio <= max,
        });
    }

    fn push(&mut self, c: Check) {
        self.pass &= c.pass;
        self.checks.push(c);
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "\nbench {} on {} cores, {} GiB ({})\n",
            self.bench, self.machine.cores, self.machine.memory_gib, self.machine.cpu
        );
        out += &format!(
            "{:<60} {:>14} {:>14} {:>8}  {:<16} {}\n",
            "check", "value", "reference", "ratio", "target", "result"
        );
        for c in &self.checks {
            out += &format!(
                "{:<60} {:>11.3} {:<2} {:>14} {:>8}  {:<16} {}\n",
                c.name,
                c.value,
                c.unit,
                c.reference
                    .map(|r| format!("{r:.3}"))
                    .unwrap_or_else(|| "-".into()),
                c.ratio
                    .map(|r| format!("{r:.3}"))
                    .unwrap_or_else(|| "-".into()),
                c.target,
                if c.pass { "PASS" } else { "MISS" }
            );
        }
        for (k, v) in &self.figures {
            out += &format!("  {k:<32} {v}\n");
        }
        out
    }
}
