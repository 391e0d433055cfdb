import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { within } from "./stage-fixture.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** A platform process started as an operator starts it (`node scripts/<entry>.ts`), its output kept for assertions. */
export interface PlatformProcess {
  child: ChildProcess;
  /** What the process wrote to stderr (start-up lines and refusals). */
  stderr: string;
  /** The last 20,000 characters of its log (pino writes to stdout). */
  stdout: string;
  exited: Promise<number | null>;
}

/**
 * Starts and tracks the platform's entry points (`scripts/start.ts`, `scripts/worker.ts`, `scripts/migrate.ts`,
 * `scripts/deploy.ts`) as child processes, so that a test can kill one mid-run and `stopAll` leaves none behind,
 * pass or fail.
 */
export class PlatformProcesses {
  private readonly running = new Set<PlatformProcess>();

  /** `env` is the whole environment (nothing is inherited but what it names). */
  run(script: string, env: Record<string, string | undefined>, args: string[] = []): PlatformProcess {
    const child = spawn(process.execPath, [script, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    const p: PlatformProcess = { child, stderr: "", stdout: "", exited: new Promise((r) => child.once("exit", (code) => r(code))) };
    // Both streams are drained: a full pipe would block the child's writes.
    child.stderr!.on("data", (d) => (p.stderr += d));
    child.stdout!.on("data", (d) => (p.stdout = (p.stdout + d).slice(-20_000)));
    this.running.add(p);
    void p.exited.then(() => this.running.delete(p));
    return p;
  }

  /** Waits for `line` on the process's stderr; fails at once if it exits first, or after `ms`. */
  async ready(p: PlatformProcess, line: RegExp, what: string, ms = 30_000): Promise<RegExpMatchArray> {
    return within(
      (async () => {
        for (;;) {
          const m = p.stderr.match(line);
          if (m) return m;
          if (p.child.exitCode !== null) throw new Error(`${what} exited ${p.child.exitCode}: ${p.stderr}${p.stdout}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      ms,
      `${what} to say it is ready`,
    );
  }

  /** `npm start`: answers the port it listens on once it says it is ready. */
  async startServer(env: Record<string, string | undefined>, ms = 30_000): Promise<{ p: PlatformProcess; port: number }> {
    const p = this.run("scripts/start.ts", env);
    const port = Number((await this.ready(p, /server ready on port (\d+)/, "the API server", ms))[1]);
    return { p, port };
  }

  /** `npm run worker`, once it says it is ready. */
  async startWorker(env: Record<string, string | undefined>, ms = 30_000): Promise<PlatformProcess> {
    const p = this.run("scripts/worker.ts", env);
    await this.ready(p, /worker ready/, "the worker", ms);
    return p;
  }

  /** Kills a process outright (no shutdown of its own) and waits, with a deadline, for it to be gone. */
  async kill(p: PlatformProcess): Promise<void> {
    p.child.kill("SIGKILL");
    await within(p.exited, 10_000, `process ${p.child.pid} to exit after SIGKILL`).catch(() => {});
  }

  /** Kills every process still running. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((p) => this.kill(p)));
  }
}
