import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  CommandSpec,
  ProcessOutcome,
  ProcessRunner,
} from "../../src/resources/executor/process-runner.js";
import type { Clock } from "../../src/time/clock.js";

/** A clock that moves 10 ms each time it is read: timestamps are distinct and predictable. */
export function steppingClock(): Clock & { readonly reads: number } {
  let nowMs = 1_000_000;
  let reads = 0;
  return {
    nowMs: () => {
      reads += 1;
      nowMs += 10;
      return nowMs;
    },
    get reads() {
      return reads;
    },
  };
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), "vigil-resources-"));

  file(name: string): string {
    return join(this.path, name);
  }

  script(name: string, body: string): string {
    const path = this.file(name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  read(name: string): string {
    return readFileSync(this.file(name), "utf8");
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Gone, or a zombie nobody reaped yet (this container's init may not reap): either way dead. */
export function processDead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}

/** Runs every command inside a network namespace (`ip netns exec` execs, keeping the pid). */
export class NetnsRunner implements ProcessRunner {
  constructor(
    private readonly ns: string,
    private readonly inner: ProcessRunner,
  ) {}

  run(command: CommandSpec): Promise<ProcessOutcome> {
    return this.inner.run({
      ...command,
      file: "ip",
      args: ["netns", "exec", this.ns, command.file, ...command.args],
    });
  }
}

export function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Suffix for namespace names: unique enough that parallel runs never clash. */
export function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 8);
}
