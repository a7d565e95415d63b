// Compiles the unit tests (src/**/*.test.ts) with esbuild, Vite's own compiler,
// then runs them with Node's test runner: Node 20 cannot run TypeScript itself.
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const out = ".test-build";
const tests = readdirSync("src", { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => join("src", f));

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: tests,
  outdir: out,
  outbase: "src",
  bundle: true,
  platform: "node",
  format: "esm",
  outExtension: { ".js": ".mjs" },
  packages: "external",
  logLevel: "warning",
});

const files = tests.map((f) => join(out, f.slice("src/".length).replace(/\.ts$/, ".mjs")));
const run = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
process.exit(run.status ?? 1);
