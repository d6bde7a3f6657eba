/**
 * docs/migration.md's worked examples, run as written: each block after `<!-- input: NAME -->`
 * is written to NAME in a fresh directory; each console block after `<!-- run -->` is run there,
 * command by command (`$ vigil ...` through the real CLI, `$ mkdir DIR`), and the lines shown
 * under a command must appear in what it printed, in order (`...` stands for lines left out);
 * each block after `<!-- output: PATH -->` must be exactly the file the commands wrote. The
 * files written are then checked as `vigil config validate` and `vigil config apply` would.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { loadConfigFile } from "../../src/config/load.js";
import { cliEntry } from "../../src/demo/local-cluster.js";
import { checkResourceDocumentWithAgents } from "../../src/resources/check-agents.js";
import { ROOT } from "./fixtures.js";

const FILE = "docs/migration.md";

type Step =
  | { kind: "input"; name: string; text: string; where: string }
  | { kind: "run"; command: string[]; expected: string[]; where: string }
  | { kind: "output"; path: string; text: string; where: string };

function steps(): Step[] {
  const lines = readFileSync(join(ROOT, FILE), "utf8").split("\n");
  const found: Step[] = [];
  for (let index = 0; index < lines.length; index++) {
    const marker = /^<!-- (input|output): (\S+) -->$|^<!-- (run) -->$/.exec(lines[index]!.trim());
    if (marker === null) continue;
    const open = index + 1;
    assert.match(
      lines[open] ?? "",
      /^```/,
      `${FILE}:${open + 1}: a code block must follow the marker`,
    );
    const close = lines.findIndex((line, at) => at > open && line.trim() === "```");
    const body = lines.slice(open + 1, close);
    const where = `${FILE}:${open + 2}`;
    index = close;
    if (marker[1] === "input")
      found.push({ kind: "input", name: marker[2]!, text: `${body.join("\n")}\n`, where });
    else if (marker[1] === "output")
      found.push({ kind: "output", path: marker[2]!, text: `${body.join("\n")}\n`, where });
    else found.push(...commands(body, open + 2));
  }
  return found;
}

/** `$ ` lines (continued by a trailing `\`), each followed by what it should print. */
function commands(body: readonly string[], firstLine: number): Step[] {
  const found: Step[] = [];
  for (let index = 0; index < body.length; index++) {
    if (!body[index]!.startsWith("$ ")) continue;
    const where = `${FILE}:${firstLine + index}`;
    let text = body[index]!.slice(2);
    while (text.endsWith("\\")) text = `${text.slice(0, -1)} ${body[++index]!.trim()}`;
    const expected: string[] = [];
    while (index + 1 < body.length && !body[index + 1]!.startsWith("$ "))
      expected.push(body[++index]!);
    found.push({ kind: "run", command: text.trim().split(/\s+/), expected, where });
  }
  return found;
}

const run = promisify(execFile);

async function vigil(dir: string, args: string[]): Promise<string> {
  const { entry, execArgv } = cliEntry();
  const { stdout, stderr } = await run(process.execPath, [...execArgv, entry, ...args], {
    cwd: dir,
    timeout: 30_000,
  });
  return `${stdout}${stderr}`;
}

function assertShown(printed: string, expected: readonly string[], where: string): void {
  const lines = printed.split("\n");
  let at = 0;
  for (const want of expected) {
    if (want.trim() === "..." || want.trim() === "") continue;
    const found = lines.findIndex(
      (line, index) => index >= at && line.trimEnd() === want.trimEnd(),
    );
    assert.ok(
      found >= 0,
      `${where}: "${want}" is not printed (in this order); printed:\n${printed}`,
    );
    at = found + 1;
  }
}

const all = steps();

test(`${FILE} has its worked examples`, () => {
  assert.ok(all.filter((step) => step.kind === "run").length >= 3);
  assert.ok(all.some((step) => step.kind === "output" && step.path.endsWith("resources.yaml")));
});

test(`${FILE}: every command runs as shown and writes the files shown, which validate`, async () => {
  const dir = await mkdtemp(join(tmpdir(), "vigil-migration-doc-"));
  try {
    for (const step of all) {
      if (step.kind === "input") await writeFile(join(dir, step.name), step.text);
      else if (step.kind === "output")
        assert.equal(
          await readFile(join(dir, step.path), "utf8"),
          step.text,
          `${step.where}: not the file written`,
        );
      else {
        const [program, ...args] = step.command;
        if (program === "mkdir") await mkdir(join(dir, args.at(-1)!), { recursive: true });
        else {
          assert.equal(program, "vigil", `${step.where}: only vigil and mkdir are run`);
          assertShown(await vigil(dir, args), step.expected, step.where);
        }
      }
    }
    for (const step of all) {
      if (step.kind !== "output") continue;
      const path = join(dir, step.path);
      if (step.path.endsWith("vigil.yaml")) await loadConfigFile(path);
      else {
        const cluster = await loadConfigFile(
          join(dir, step.path.replace("resources.yaml", "vigil.yaml")),
        );
        const nodes = cluster.nodes.filter((node) => !node.witness).map((node) => node.name);
        const problems = (await checkResourceDocumentWithAgents(parse(step.text), nodes)).filter(
          // Init scripts are the servers', not this machine's.
          (problem) => !/agent lsb:\S+ not found/.test(problem.message),
        );
        assert.deepEqual(problems, [], `${step.where}: refused`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
