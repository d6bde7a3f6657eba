import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cliEntry } from "../../src/demo/local-cluster.js";

const run = promisify(execFile);

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `vigil` CLI; resolves with its exit code and output instead of throwing. */
export async function vigilCli(
  args: readonly string[],
  options: { cwd?: string } = {},
): Promise<CliOutcome> {
  const { entry, execArgv } = cliEntry();
  try {
    const { stdout, stderr } = await run(process.execPath, [...execArgv, entry, ...args], {
      timeout: 30_000,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as CliOutcome;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
