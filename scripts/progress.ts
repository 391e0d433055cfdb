import { cliTranslator } from "../core/i18n/translator.ts";

/**
 * A one-line progress bar on stderr (a TTY redraws it; a log gets a line every 10 %), in the command line's language
 * (numbers and the percentage too). `label` is the caller's, already in that language.
 */
export function progressBar(label: string, total: number) {
  const i18n = cliTranslator();
  const tty = process.stderr.isTTY;
  const started = Date.now();
  let lastDecile = -1;
  const render = (done: number) => {
    const pct = total ? done / total : 1;
    const width = 30;
    const filled = Math.round(pct * width);
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
    return i18n.t("cli.progress", { label, bar: `${"█".repeat(filled)}${"░".repeat(width - filled)}`, done, total, share: pct, rate, eta });
  };
  return {
    update(done: number) {
      if (tty) process.stderr.write(`\r${render(done)}`);
      else {
        const decile = Math.floor((done / Math.max(total, 1)) * 10);
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stderr.write(`${render(done)}\n`);
        }
      }
    },
    done() {
      if (tty) process.stderr.write("\n");
    },
  };
}
