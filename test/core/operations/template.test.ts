import { performance } from "node:perf_hooks";
import { RE2JS } from "re2js";
import { describe, expect, it } from "vitest";
import { applyTemplate, compileSafePattern, parseTemplateFields, TEMPLATE_LIMITS } from "../../../core/operations/template.ts";
import { OperationError } from "../../../core/operations/errors.ts";

const WIDE = `^${"a{0,9}".repeat(Math.floor((TEMPLATE_LIMITS.pattern - 3) / 6))}b$`;
const EVIL = [WIDE, "^(a+)+$", "^(a|aa)*$", "^(\\w+\\s?)*$", "^\\d*\\d*\\d*\\d*\\d*$"];

/** The fastest of a few runs, so a busy machine inflates it less. */
function fastest(run: () => void, times = 5): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    run();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

describe("template patterns", () => {
  it("are compiled for the linear-time engine, once per pattern", () => {
    for (const pattern of EVIL) {
      const regex = compileSafePattern(pattern, "p");
      expect(regex, pattern).toBeInstanceOf(RE2JS);
      expect(compileSafePattern(pattern, "p")).toBe(regex);
    }
    expect(WIDE.length).toBeLessThanOrEqual(TEMPLATE_LIMITS.pattern);
  });

  it("take time linear in the value on patterns that make a backtracking engine exponential", () => {
    for (const pattern of EVIL) {
      const regex = compileSafePattern(pattern, "p");
      const worst = (n: number) => `${"a".repeat(n)}!`;
      regex.test(worst(1000)); // warm up
      const small = fastest(() => regex.test(worst(20_000)));
      const large = fastest(() => regex.test(worst(200_000)));
      // Ten times the value: linear is ~10×; the bound leaves room for a noisy machine, and any super-linear
      // engine is far past it (a backtracking one does not finish at all).
      expect(large / Math.max(small, 0.05), pattern).toBeLessThan(40);
    }
  });

  it("refuse what RE2 cannot run in linear time, with BAD_USER_INPUT on the field", () => {
    const cases: [string, RegExp][] = [
      ["^(a)\\1$", /backreferences/],
      ["^(?<x>a)\\k<x>$", /backreferences/],
      ["^(?=a)a$", /lookarounds/],
      ["^(?!a)b$", /lookarounds/],
      ["^(?<=a)a$", /lookarounds/],
      ["^(?<!a)a$", /lookarounds/],
      ["^a{1001}$", /RE2/],
      ["^a|b$", /alternatives inside the anchors/],
      ["^[a-z$", /not a valid regular expression/],
      ["[a-z]+", /anchored/],
    ];
    for (const [pattern, message] of cases) {
      const err = (() => {
        try {
          compileSafePattern(pattern, "fields[0].pattern");
        } catch (e) {
          return e;
        }
      })();
      expect(err, pattern).toBeInstanceOf(OperationError);
      expect(err, pattern).toMatchObject({ code: "BAD_USER_INPUT", field: "fields[0].pattern", message: expect.stringMatching(message) });
    }
  });

  it("keep JavaScript syntax: escapes, named groups, classes and alternatives in a group match as before", () => {
    const cases: [string, string[], string[]][] = [
      ["^[A-Z]{2}\\d{6}$", ["AB123456"], ["AB12345", "ab123456"]],
      ["^[A-F][+-]?$", ["A", "B+", "F-"], ["G", "A++"]],
      ["^caf\\u00e9$", ["café"], ["cafe"]],
      ["^(?<year>\\d{4})-(?:0[1-9]|1[0-2])$", ["2025-06"], ["2025-13"]],
      ["^\\p{L}+$", ["Noether", "Δέλτα"], ["R2D2"]],
      ["^[|(]\\|$", ["||", "(|"], ["a|"]],
    ];
    for (const [pattern, good, bad] of cases) {
      const regex = compileSafePattern(pattern, "p");
      const js = new RegExp(pattern, "u");
      for (const v of good) expect([pattern, v, regex.test(v)]).toEqual([pattern, v, js.test(v)]);
      for (const v of good) expect(regex.test(v), `${pattern} ${v}`).toBe(true);
      for (const v of bad) expect(regex.test(v), `${pattern} ${v}`).toBe(false);
    }
  });

  it("run in the issuance check: a worst value is refused at once, a matching one accepted", () => {
    const template = parseTemplateFields([{ key: "code", label: "Code", type: "TEXT", pattern: "^(a+)+$" }]);
    expect(() => applyTemplate(template, { code: `${"a".repeat(TEMPLATE_LIMITS.patternText - 1)}!` }, { title: "x" })).toThrow(/does not match/);
    expect(applyTemplate(template, { code: "aaa" }, { title: "x" }).attributes).toEqual([{ name: "Code", value: "aaa" }]);
  });
});
