//! The count of results over every test run of one `xtask test`: read from nextest's
//! summaries, and said in one closing line that CI reads.

use std::{
    fmt,
    process::{Command, ExitStatus, Stdio},
};

use crate::cargo::cargo;

/// Passed, failed and skipped tests, added up over the runs of one `xtask test`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Tally {
    /// Reads nextest's summary line (`… 411 tests run: 400 passed, 11 failed, 0 skipped`).
    fn add_summary(&mut self, line: &str) {
        let Some((_, counts)) = line.split_once("tests run:") else {
            return;
        };
        for part in counts.split(',') {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => self.passed += n,
                "failed" | "timed" => self.failed += n,
                "skipped" => self.skipped += n,
                _ => {}
            }
        }
    }
}

/// The closing line, in the form CI reads: `tests: N passed, N failed, N skipped`.
impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tests: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// Runs nextest, passing its output through, and adds its summary to the tally.
pub fn run_nextest(mut command: Command, tally: &mut Tally) -> anyhow::Result<ExitStatus> {
    use std::io::{BufRead, Write};
    let mut child = command.stderr(Stdio::piped()).spawn()?;
    let stderr = child.stderr.take().expect("stderr is piped");
    for line in std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
    {
        let _ = writeln!(std::io::stderr(), "{line}");
        if line.trim_start().starts_with("Summary") {
            tally.add_summary(&line);
        }
    }
    Ok(child.wait()?)
}

/// Runs nextest on a selection of tests that also run in another pass, adding only what
/// passed and failed: those the selection leaves out are not skipped.
pub fn run_nextest_selected(command: Command, tally: &mut Tally) -> anyhow::Result<ExitStatus> {
    let mut selected = Tally::default();
    let status = run_nextest(command, &mut selected);
    tally.passed += selected.passed;
    tally.failed += selected.failed;
    status
}

/// How many tests nextest would run with `filter` (for those a run leaves out, so the
/// closing line still counts them, as skipped).
pub fn count_tests(filter: &[&str]) -> anyhow::Result<u64> {
    let listed = cargo()
        .args(["nextest", "list"])
        .args(filter)
        .args(["--message-format", "oneline"])
        .stderr(Stdio::null())
        .output()?;
    Ok(String::from_utf8_lossy(&listed.stdout).lines().count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_add_up_with_timeouts_counted_as_failures() {
        let mut tally = Tally::default();
        tally.add_summary("     Summary [  12.3s] 411 tests run: 400 passed, 11 failed, 0 skipped");
        tally.add_summary(
            "     Summary [   2.0s] 5 tests run: 3 passed (1 leaky), 1 failed, 1 timed out, 2 skipped",
        );
        tally.add_summary("   Starting 9 tests across 1 binary");
        assert_eq!(
            tally,
            Tally {
                passed: 403,
                failed: 13,
                skipped: 2
            }
        );
    }

    #[test]
    fn the_closing_line_is_the_one_ci_reads() {
        let tally = Tally {
            passed: 7,
            failed: 1,
            skipped: 2,
        };
        assert_eq!(tally.to_string(), "tests: 7 passed, 1 failed, 2 skipped");
    }
}
