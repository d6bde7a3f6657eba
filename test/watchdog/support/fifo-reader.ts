import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** What the lease guard writes to a watchdog device. */
export const FEED_BYTE = 0;
export const MAGIC_CLOSE_BYTE = "V".charCodeAt(0);

/**
 * A FIFO standing in for /dev/watchdog (there is none here, and softdog cannot be loaded): the
 * guard opens it for writing like the device, and `cat` reads every byte it writes until the
 * guard closes it. The FIFO's open in the guard waits for this reader, so create it first.
 */
export class FifoReader {
  private received = Buffer.alloc(0);
  private constructor(
    readonly path: string,
    private readonly cat: ChildProcess,
    /** Resolves when the writer closed the FIFO (cat saw end of file) or cat was killed. */
    readonly ended: Promise<void>,
  ) {
    cat.stdout?.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
  }

  static async create(path: string): Promise<FifoReader> {
    await run("mkfifo", ["-m", "0600", path]);
    const cat = spawn("cat", [path], { stdio: ["ignore", "pipe", "inherit"] });
    const ended = new Promise<void>((resolve) => cat.once("close", () => resolve()));
    return new FifoReader(path, cat, ended);
  }

  bytes(): Buffer {
    return this.received;
  }

  count(byte: number): number {
    return this.received.filter((value) => value === byte).length;
  }

  /** Whether the writer still holds the FIFO open (cat has not seen end of file). */
  open(): boolean {
    return this.cat.exitCode === null && this.cat.signalCode === null;
  }

  /** Ends the reader this test started, if it still runs. */
  kill(): void {
    if (this.open() && this.cat.pid !== undefined) this.cat.kill("SIGKILL");
  }
}
