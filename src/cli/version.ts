import { readFileSync } from "node:fs";

/**
 * The version this copy of Vigil was released as, from its own package.json (two levels up
 * from both src/cli and dist/cli, and shipped in the npm and Debian packages): one place to
 * change it, and `vigil --version` can never disagree with the package an operator installed.
 */
export const VIGIL_VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;
