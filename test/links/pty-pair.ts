import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../support/wait.js";

export const hasSocat = spawnSync("socat", ["-V"], { stdio: "ignore" }).status === 0;

export interface PtyPair {
  /** Two pty paths joined like a null-modem cable. */
  a: string;
  b: string;
  /** Pulls the cable: socat exits and both ends hang up. */
  unplug(): Promise<void>;
  /** Unplugs and removes the temporary directory; safe to call twice. */
  dispose(): Promise<void>;
}

/** A pty pair from socat in a fresh temporary directory; socat is killed by its own PID. */
export async function startPtyPair(): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), "vigil-serial-"));
  const a = join(dir, "a");
  const b = join(dir, "b");
  const socat = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => socat.once("exit", () => resolve()));
  const unplug = async () => {
    if (socat.exitCode === null && socat.signalCode === null) socat.kill("SIGTERM");
    await exited;
  };
  const dispose = async () => {
    await unplug();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor("socat to create the pty pair", () =>
      existsSync(a) && existsSync(b) ? true : undefined,
    );
  } catch (error) {
    await dispose();
    throw error;
  }
  return { a, b, unplug, dispose };
}
