//! The live monitoring check: the embedded system (`shop up`, one process) and Debian's
//! Prometheus with the project's own scrape job and rule file. Only the target
//! addresses are rewritten, for local ports. A purchase, a decline and a return run
//! through the gateway; then Prometheus is asked whether every target is up, every rule
//! loaded and evaluates, every dashboard query returns a series, every metric a rule or
//! a dashboard names exists, and no alert is pending or firing. A dashboard that queries a metric
//! nobody exports fails here, which promtool's parse cannot see.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
    process::{Child, Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use local_processes::{Signal, free_ports, stop, wait_for_port};
use serde_json::Value;

use crate::{
    artifacts::{dashboard_exprs, debian_tools},
    cargo::workspace_root,
    plan::run_e2e,
    system::System,
    tally::Tally,
};

/// The scenarios that drive every panel: a purchase to completed, a declined payment
/// (cancelled), and a return (returned, then refunded).
const SCENARIOS: &str = "test(a_purchase_runs_to_completed) | test(a_declined_payment_cancels) \
                         | test(a_return_runs_to_returned)";

/// Prometheus scrapes and evaluates every 15 s (as configured); a rate over a minute
/// needs two samples of a series born in the scenarios, so about 30 s after them.
const SERIES_DEADLINE: Duration = Duration::from_secs(120);

pub fn live_check(tally: &mut Tally) -> anyhow::Result<()> {
    let root = workspace_root();
    let bin = debian_tools()?.join("usr/bin");
    let dir = root.join("target/artifacts/live");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;

    eprintln!("xtask: live monitoring check: shop up, Prometheus");
    let (system, gateway) = System::in_one_process(&[("SHOP_STORAGE", "memory")])?;
    let ports = free_ports(2)?;
    let (prometheus_port, alertmanager_port) = (ports[0], ports[1]);
    // No Alertmanager listens there: Debian's reads its default template from
    // /usr/share/prometheus, which a package unpacked into the cache does not provide
    // (amtool checks its config instead). Prometheus sends only firing alerts, and the
    // check asserts that none is even pending.
    // The project's config with local addresses; the rule file beside it, where
    // Prometheus looks for it.
    let config = fs::read_to_string(root.join("monitoring/prometheus.yml"))?;
    let mut addresses: BTreeMap<String, String> = system
        .ports
        .iter()
        .map(|(service, port)| (service.clone(), format!("127.0.0.1:{port}")))
        .collect();
    addresses.insert(
        "alertmanager".into(),
        format!("127.0.0.1:{alertmanager_port}"),
    );
    fs::write(
        dir.join("prometheus.yml"),
        rewrite_targets(&config, &addresses)?,
    )?;
    fs::copy(root.join("monitoring/alerts.yml"), dir.join("alerts.yml"))?;
    let mut prometheus = Command::new(bin.join("prometheus"));
    prometheus
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"))
        .arg("--log.level=warn");
    let _prometheus = Daemon::start(prometheus, prometheus_port, "Prometheus")?;
    let api = Api(format!("http://127.0.0.1:{prometheus_port}"));

    run_e2e(&gateway, SCENARIOS, "live monitoring check", tally)?;

    let mut failed = Vec::new();
    let mut record = |what: String, outcome: anyhow::Result<()>| match outcome {
        Ok(()) => {
            eprintln!("xtask: live check passed: {what}");
            tally.passed += 1;
        }
        Err(why) => {
            eprintln!("xtask: live check FAILED: {what}: {why:#}");
            tally.failed += 1;
            failed.push(what);
        }
    };

    let services = system.ports.len();
    record(
        format!("all {services} scrape targets up"),
        api.targets_up(services),
    );
    let rules = expected_rules(&root.join("monitoring/alerts.yml"))?;
    let rule_queries = api.rules_loaded(rules);
    record(
        format!("alerts.yml loaded; its {rules} rules evaluate without error"),
        rule_queries
            .as_ref()
            .map(drop)
            .map_err(|e| anyhow::anyhow!("{e:#}")),
    );
    let dashboards = dashboard_exprs(&root)?;
    for (file, exprs) in &dashboards {
        record(
            format!(
                "{file}: each of its {} queries returns a series",
                exprs.len()
            ),
            api.every_query_has_series(exprs),
        );
    }
    let mut names = BTreeSet::new();
    for expr in rule_queries
        .unwrap_or_default()
        .iter()
        .chain(dashboards.values().flatten())
    {
        names.extend(metric_names(expr));
    }
    record(
        format!(
            "the {} metric names in the rules and dashboards exist",
            names.len()
        ),
        api.metrics_exist(&names),
    );
    record(
        "no alert is pending or firing after a purchase, a decline and a return".into(),
        api.no_alert_firing(),
    );
    drop(system);
    if !failed.is_empty() {
        bail!("live monitoring checks failed: {}", failed.join(", "));
    }
    Ok(())
}

/// Prometheus's HTTP API at a base URL.
struct Api(String);

impl Api {
    /// The `data` of a successful answer to `GET path?query`.
    fn get(&self, path: &str, query: &[(&str, &str)]) -> anyhow::Result<Value> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            // A refused query answers 400 with the reason in its body.
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut request = agent.get(format!("{}{path}", self.0));
        for (key, value) in query {
            request = request.query(*key, *value);
        }
        let body = request
            .call()
            .with_context(|| format!("GET {path}"))?
            .into_body()
            .read_to_string()?;
        let answer: Value =
            serde_json::from_str(&body).with_context(|| format!("GET {path}: {body}"))?;
        if answer["status"] != "success" {
            bail!("GET {path} {query:?}: {}", answer["error"]);
        }
        Ok(answer["data"].clone())
    }

    /// Polls `probe` (which says what is still missing) until it has nothing to say or
    /// the deadline passes.
    fn until(&self, probe: impl Fn(&Self) -> anyhow::Result<Vec<String>>) -> anyhow::Result<()> {
        let deadline = Instant::now() + SERIES_DEADLINE;
        loop {
            // Prometheus answers 503 until it is ready: an error is retried as well.
            let missing = probe(self).unwrap_or_else(|e| vec![format!("{e:#}")]);
            if missing.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "after {} s:\n  {}",
                    SERIES_DEADLINE.as_secs(),
                    missing.join("\n  ")
                );
            }
            sleep(Duration::from_secs(2));
        }
    }

    fn targets_up(&self, expected: usize) -> anyhow::Result<()> {
        self.until(|api| {
            let data = api.get("/api/v1/targets", &[("state", "active")])?;
            let targets = data["activeTargets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let mut missing: Vec<String> = targets
                .iter()
                .filter(|t| t["health"] != "up")
                .map(|t| {
                    format!(
                        "{} ({}): {} {}",
                        t["labels"]["service"], t["scrapeUrl"], t["health"], t["lastError"]
                    )
                })
                .collect();
            if targets.len() != expected {
                missing.push(format!("{} targets, {expected} expected", targets.len()));
            }
            Ok(missing)
        })
    }

    fn no_alert_firing(&self) -> anyhow::Result<()> {
        let data = self.get("/api/v1/alerts", &[])?;
        let firing: Vec<String> = data["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["state"] == "firing" || a["state"] == "pending")
            .map(|a| a["labels"].to_string())
            .collect();
        if !firing.is_empty() {
            bail!("pending or firing: {}", firing.join(", "));
        }
        Ok(())
    }

    /// Waits until `expected` rules are loaded and each has been evaluated without an
    /// error; returns their queries as Prometheus parsed them.
    fn rules_loaded(&self, expected: usize) -> anyhow::Result<Vec<String>> {
        self.until(|api| {
            let rules = api.rules()?;
            let mut missing: Vec<String> = rules
                .iter()
                .filter(|r| r["health"] != "ok")
                .map(|r| format!("{}: {} {}", r["name"], r["health"], r["lastError"]))
                .collect();
            if rules.len() != expected {
                missing.push(format!(
                    "{} rules loaded, {expected} in the file",
                    rules.len()
                ));
            }
            Ok(missing)
        })?;
        Ok(self
            .rules()?
            .iter()
            .filter_map(|r| r["query"].as_str().map(str::to_owned))
            .collect())
    }

    fn rules(&self) -> anyhow::Result<Vec<Value>> {
        let data = self.get("/api/v1/rules", &[])?;
        Ok(data["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect())
    }

    fn every_query_has_series(&self, exprs: &[String]) -> anyhow::Result<()> {
        self.until(|api| {
            let mut empty = Vec::new();
            for expr in exprs {
                let data = api.get("/api/v1/query", &[("query", expr)])?;
                if data["result"].as_array().is_none_or(Vec::is_empty) {
                    empty.push(format!("no series: {expr}"));
                }
            }
            Ok(empty)
        })
    }

    fn metrics_exist(&self, names: &BTreeSet<String>) -> anyhow::Result<()> {
        let data = self.get("/api/v1/label/__name__/values", &[])?;
        let known: BTreeSet<&str> = data
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let unknown: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| !known.contains(n))
            .collect();
        if !unknown.is_empty() {
            bail!("no target exports {}", unknown.join(", "));
        }
        Ok(())
    }
}

/// How many rules a rule file holds: its `- alert:` and `- record:` entries.
fn expected_rules(file: &Path) -> anyhow::Result<usize> {
    let text = fs::read_to_string(file).with_context(|| file.display().to_string())?;
    Ok(text
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("- alert:") || l.starts_with("- record:"))
        .count())
}

/// A monitoring daemon on a local port, stopped (SIGTERM, then kill) when dropped.
struct Daemon {
    child: Child,
    what: &'static str,
}

impl Daemon {
    fn start(mut command: Command, port: u16, what: &'static str) -> anyhow::Result<Self> {
        let mut child = command
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {what}"))?;
        wait_for_port(port, what, &mut child)?;
        Ok(Self { child, what })
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        stop(&mut self.child, Signal::SIGTERM, Duration::from_secs(10));
        eprintln!("xtask: stopped {}", self.what);
    }
}

/// The config with every `targets: [...]` address `host:port` replaced by the address
/// `addresses` gives its host. A host it does not give is an error: the check would
/// otherwise scrape nothing there and say so only as a target down.
fn rewrite_targets(config: &str, addresses: &BTreeMap<String, String>) -> anyhow::Result<String> {
    let mut out = String::with_capacity(config.len());
    for line in config.lines() {
        let comment = line.trim_start().starts_with('#');
        let rewritten = match line.split_once("targets: [").filter(|_| !comment) {
            Some((head, tail)) => {
                let (list, rest) = tail
                    .split_once(']')
                    .with_context(|| format!("a targets list on one line: {line}"))?;
                let mut targets = Vec::new();
                for target in list.split(',') {
                    let target = target.trim().trim_matches('"');
                    let host = target.split(':').next().unwrap_or_default();
                    let address = addresses
                        .get(host)
                        .with_context(|| format!("no local address for the target {target}"))?;
                    targets.push(format!("\"{address}\""));
                }
                format!("{head}targets: [{}]{rest}", targets.join(", "))
            }
            None => line.to_owned(),
        };
        out.push_str(&rewritten);
        out.push('\n');
    }
    Ok(out)
}

/// The metric names a PromQL expression reads. An identifier names a metric unless it
/// calls (a function or an aggregation, followed by `(`), is an aggregation or a
/// keyword, or stands inside label matchers, a range, a string, or a label list after
/// `by`, `without`, `on`, `ignoring`, `group_left` or `group_right`.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const AGGREGATIONS: &[&str] = &[
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    ];
    const KEYWORDS: &[&str] = &[
        "and", "or", "unless", "offset", "bool", "inf", "nan", "atan2",
    ];
    const LABEL_LISTS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    // Skips a string opening at `i` to just past its closing quote.
    let skip_string = |i: usize| {
        let quote = chars[i];
        let mut j = i + 1;
        while j < chars.len() && chars[j] != quote {
            j += usize::from(chars[j] == '\\' && quote != '`') + 1;
        }
        j + 1
    };
    // Skips from an opening delimiter at `i` to just past its closing one.
    let skip_to = |i: usize, close: char| {
        let mut j = i + 1;
        while j < chars.len() && chars[j] != close {
            j = if matches!(chars[j], '"' | '\'' | '`') {
                skip_string(j)
            } else {
                j + 1
            };
        }
        j + 1
    };
    let is_start = |c: char| c.is_ascii_alphabetic() || c == '_' || c == ':';
    let is_part = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' => i = skip_to(i, '}'),
            '[' => i = skip_to(i, ']'),
            '"' | '\'' | '`' => i = skip_string(i),
            // A comment, to the end of its line.
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            // A Grafana variable (`$service`, `${service}`), never a metric.
            '$' => {
                i += 1;
                if chars.get(i) == Some(&'{') {
                    i = skip_to(i, '}');
                }
                while i < chars.len() && is_part(chars[i]) {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || c == '.' => {
                // A number or a duration (`5m`, `1e3`), never a name.
                while i < chars.len() && (is_part(chars[i]) || chars[i] == '.') {
                    i += 1;
                }
            }
            c if is_start(c) => {
                let start = i;
                while i < chars.len() && is_part(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut next = i;
                while next < chars.len() && chars[next].is_whitespace() {
                    next += 1;
                }
                let calls = chars.get(next) == Some(&'(');
                // PromQL's keywords and aggregations are case-insensitive; names are not.
                let lower = word.to_lowercase();
                if LABEL_LISTS.contains(&lower.as_str()) {
                    if calls {
                        i = skip_to(next, ')');
                    }
                } else if !calls
                    && !AGGREGATIONS.contains(&lower.as_str())
                    && !KEYWORDS.contains(&lower.as_str())
                {
                    names.insert(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        metric_names(expr).into_iter().collect()
    }

    #[test]
    fn metric_names_are_what_an_expression_reads() {
        assert_eq!(
            names(
                r#"histogram_quantile(0.99, sum by (service, le) (rate(shop_http_request_duration_seconds_bucket{job="shop", route=~"a|{b}"}[5m]))) > 0.5"#
            ),
            ["shop_http_request_duration_seconds_bucket"]
        );
        assert_eq!(names(r#"count(up{job="shop"} == 0) or vector(0)"#), ["up"]);
        assert_eq!(
            names(
                "sum(rate(a_total[1m] offset 5m)) by (service) / on (service) group_left \
                 (route) sum without (le) (b_total) unless c:recorded"
            ),
            ["a_total", "b_total", "c:recorded"]
        );
        assert_eq!(
            names("max by(service)(shop_outbox_backlog) > bool 1e3 and Inf"),
            ["shop_outbox_backlog"]
        );
        assert_eq!(
            names(
                "SUM BY (x) (a{service=~\"$service\"}) atan2 b{route=\"${route}\"} # c\n/ $scale"
            ),
            ["a", "b"]
        );
    }

    #[test]
    fn targets_are_rewritten_to_local_addresses_and_an_unknown_host_is_refused() {
        let addresses = BTreeMap::from([
            ("gateway".to_owned(), "127.0.0.1:4001".to_owned()),
            ("alertmanager".to_owned(), "127.0.0.1:4002".to_owned()),
        ]);
        let config = "scrape_configs:\n  - targets: [\"gateway:8080\"]\n    labels:\n      \
                      service: gateway\n  - targets: [\"alertmanager:9093\", \"gateway:8080\"] # both\n";
        assert_eq!(
            rewrite_targets(config, &addresses).unwrap(),
            "scrape_configs:\n  - targets: [\"127.0.0.1:4001\"]\n    labels:\n      \
             service: gateway\n  - targets: [\"127.0.0.1:4002\", \"127.0.0.1:4001\"] # both\n"
        );
        let unknown = rewrite_targets("- targets: [\"mongodb:27017\"]", &addresses);
        assert!(unknown.unwrap_err().to_string().contains("mongodb:27017"));
    }
}
