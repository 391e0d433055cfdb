import { afterEach, describe, expect, it, vi } from "vitest";
import { cliTranslator } from "../../../core/i18n/translator.ts";
import { progressBar } from "../../../scripts/progress.ts";

describe("the command line's language", () => {
  const saved = { ...process.env };
  afterEach(() => {
    vi.restoreAllMocks();
    for (const name of ["HALLMARK_LANG", "LC_ALL", "LC_MESSAGES", "LANG"]) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  /** What a progress bar writes for 3 of 4 done, with LANG set so (and nothing set before it). */
  const barIn = (lang: string) => {
    for (const name of ["HALLMARK_LANG", "LC_ALL", "LC_MESSAGES"]) delete process.env[name];
    process.env.LANG = lang;
    const written: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    const bar = progressBar(cliTranslator().t("cli.progress.confirmed"), 4);
    bar.update(3);
    bar.done();
    return written.join("");
  };

  it("draws progress bars in Chinese under LANG=zh_CN.UTF-8, numbers and percentage through Intl", () => {
    const zh = barIn("zh_CN.UTF-8");
    expect(zh).toMatch(/^\r?已确认 \[█+░+\] 3\/4 75% [\d,]+\/秒，剩余 [\d,]+ 秒/);
    const en = barIn("en_US.UTF-8");
    expect(en).toMatch(/^\r?confirmed \[█+░+\] 3\/4 75% [\d,]+\/s, [\d,]+ s left/);
  });

  it("writes the issue summary as one sentence with its plural", () => {
    const zh = cliTranslator({ LANG: "zh_CN.UTF-8" });
    expect(zh.t("cli.issue.summary", { file: "a.csv", rows: 1, accepted: 1, rejected: 0, failed: 0 })).toBe("a.csv：共 1 行，已受理 1 行，被拒 0 行，链上失败 0 行");
    const en = cliTranslator({ LANG: "C" });
    expect(en.t("cli.issue.summary", { file: "a.csv", rows: 1, accepted: 1, rejected: 0, failed: 0 })).toBe("a.csv: 1 row, 1 accepted, 0 rejected, 0 failed on chain");
    expect(en.t("cli.issue.summary", { file: "a.csv", rows: 12000, accepted: 12000, rejected: 0, failed: 0 })).toBe("a.csv: 12,000 rows, 12,000 accepted, 0 rejected, 0 failed on chain");
  });
});
