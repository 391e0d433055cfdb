import { Worker } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import { applyTemplate, parseTemplateFields, TEMPLATE_LIMITS } from "../../core/operations/template.ts";

/**
 * `node scripts/bench/template-patterns.ts`: the time a template pattern takes on its worst values, through the
 * validation each issued item goes through (`applyTemplate`), single and for a bulk of 10,000 items, beside the
 * backtracking engine (a JavaScript RegExp) the patterns ran on before. The old engine runs in a worker thread that
 * is stopped after OLD_DEADLINE_MS, since one match can take hours; its bulk figure is extrapolated from one item.
 */

const OLD_DEADLINE_MS = Number(process.env.OLD_DEADLINE_MS ?? 15_000);
const BULK = 10_000;

// The most `a{0,9}` groups the length limit allows, then a `b` the value never has: every split is tried.
const groups = Math.floor((TEMPLATE_LIMITS.pattern - "^b$".length) / "a{0,9}".length);
const cases: { name: string; pattern: string; values: number[] }[] = [
  { name: `${groups} × a{0,9} then b`, pattern: `^${"a{0,9}".repeat(groups)}b$`, values: [20, 30, TEMPLATE_LIMITS.patternText] },
  { name: "(a+)+$", pattern: "^(a+)+$", values: [25, 30, TEMPLATE_LIMITS.patternText] },
  { name: "(a|aa)*$", pattern: "^(a|aa)*$", values: [35, 45, TEMPLATE_LIMITS.patternText] },
  { name: "(\\w+\\s?)*$", pattern: "^(\\w+\\s?)*$", values: [25, 30, TEMPLATE_LIMITS.patternText] },
];
// Each value is `a` × n then `!`, so no pattern matches and a backtracking engine tries every way first.
const worst = (n: number) => `${"a".repeat(n - 1)}!`;

/** The old engine's single match, off the main thread and stopped at the deadline: ms, or undefined if stopped. */
function oldEngine(pattern: string, value: string): Promise<number | undefined> {
  const worker = new Worker(
    `const { parentPort, workerData: { pattern, value } } = require("node:worker_threads");
     const re = new RegExp(pattern, "u"); const t = performance.now(); re.test(value); parentPort.postMessage(performance.now() - t);`,
    { eval: true, workerData: { pattern, value } },
  );
  return new Promise((resolve) => {
    const timer = setTimeout(() => void worker.terminate().then(() => resolve(undefined)), OLD_DEADLINE_MS);
    worker.once("message", (ms: number) => {
      clearTimeout(timer);
      void worker.terminate().then(() => resolve(ms));
    });
  });
}

const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : ms < 10_000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(1)} s`);
const humane = (ms: number) => (ms > 3_600_000 * 24 * 365 ? "more than a year" : ms > 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : fmt(ms));

for (const c of cases) {
  const template = parseTemplateFields([{ key: "code", label: "Code", type: "TEXT", pattern: c.pattern }]);
  console.log(`\npattern ${c.pattern} (${c.pattern.length} chars): ${c.name}`);
  for (const n of c.values) {
    const value = worst(n);
    const issue = () => {
      try {
        applyTemplate(template, { code: value }, { title: "Bench" });
        throw new Error("the worst value matched");
      } catch (e) {
        if (!(e instanceof Error) || !/does not match/.test(e.message)) throw e;
      }
    };
    issue(); // compile and warm up
    let t = performance.now();
    issue();
    const single = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < BULK; i++) issue();
    const bulk = performance.now() - t;
    const old = await oldEngine(c.pattern, value);
    const oldText = old === undefined ? `stopped after ${fmt(OLD_DEADLINE_MS)}` : fmt(old);
    const oldBulk = old === undefined ? `more than ${humane(OLD_DEADLINE_MS * BULK)}` : `~${humane(old * BULK)} (extrapolated)`;
    console.log(`  value of ${n} chars: RE2 ${fmt(single)} each, ${BULK} items ${fmt(bulk)} | old engine ${oldText} each, ${BULK} items ${oldBulk}`);
  }
}
