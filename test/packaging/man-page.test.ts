import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { Command } from "commander";
import { renderManPage } from "../../src/cli/man-page.js";

function rendered(page: string): string {
  const groff = spawnSync("groff", ["-man", "-Tutf8", "-ww", "-P", "-cbou"], {
    input: page,
    encoding: "utf8",
  });
  assert.equal(groff.stderr, "");
  return groff.stdout;
}

describe("the vigil(8) page", () => {
  const program = new Command().name("vigil").description("cluster manager");
  program
    .command("paths")
    .description(".starts with a dot, 'a quote, C:\\dir and --dashes")
    .option("--from <dir>", "where from");
  program.command("secret", { hidden: true }).description("not for the page");

  test("help text is set verbatim: dots, quotes, backslashes and dashes survive roff", () => {
    const text = rendered(renderManPage(program, "1.2.3-rc.1"));
    assert.match(text, /^ +\.starts with a dot, 'a quote, C:\\dir and --dashes$/m);
    assert.match(text, /^ +--from <dir> +where from$/m);
    assert.match(text, /vigil 1\.2\.3-rc\.1/);
  });

  test("every visible command has its section; hidden ones and help do not", () => {
    const text = rendered(renderManPage(program, "1.0.0"));
    assert.match(text, /^ {3}vigil paths$/m);
    assert.doesNotMatch(text, /vigil secret|not for the page|vigil help/);
  });
});
