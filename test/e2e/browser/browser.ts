import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

/** Screenshots and PDFs a person can look at after a run (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL("../../../test-results/", import.meta.url));

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/**
 * Debian's Chromium (installed by `scripts/setup.sh --test`), never a downloaded build; no background traffic, so the
 * pages are seen exactly as they are served offline.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}
