import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiError } from "./errors.js";

/**
 * The dashboard's files live in `dashboard/` at the package root, not under src/: the compiler
 * copies nothing but .ts, and users run no build step for them. From src/api (under tsx) and
 * from dist/api (the compiled agent) alike, the package root is two folders up.
 */
export const DASHBOARD_DIR = fileURLToPath(new URL("../../dashboard/", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/**
 * What every dashboard file is served with: it may load only its own files, be framed by no
 * other site (its buttons operate the cluster), and send no referrer.
 */
export const ASSET_HEADERS: Record<string, string> = {
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "referrer-policy": "no-referrer",
};

export interface DashboardAsset {
  contentType: string;
  body: Buffer;
}

/**
 * The dashboard's files, read once when the API starts: they hold no data (that comes with the
 * token, from the API), so they are served without one. Only the files found then are served,
 * by exact path: no request can name anything else on disk.
 */
export class DashboardAssets {
  private constructor(private readonly files: ReadonlyMap<string, DashboardAsset>) {}

  static async load(dir: string = DASHBOARD_DIR): Promise<DashboardAssets> {
    const files = new Map<string, DashboardAsset>();
    const walk = async (relative: string) => {
      const entries = await readdir(join(dir, relative), { withFileTypes: true }).catch(
        (error: Error) => {
          throw new ApiError(`cannot read the dashboard's files in ${dir}: ${error.message}`);
        },
      );
      for (const entry of entries) {
        const path = `${relative}/${entry.name}`;
        if (entry.isDirectory()) await walk(path);
        const contentType = CONTENT_TYPES[extname(entry.name)];
        if (entry.isFile() && contentType !== undefined)
          files.set(path, { contentType, body: await readFile(join(dir, path)) });
      }
    };
    await walk("");
    if (!files.has("/index.html"))
      throw new ApiError(`the dashboard's files in ${dir} have no index.html`);
    return new DashboardAssets(files);
  }

  /** The file a GET of `path` serves ("/" is index.html), or undefined. */
  find(path: string): DashboardAsset | undefined {
    return this.files.get(path === "/" ? "/index.html" : path);
  }

  /** Paths served, for tests and the log. */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }
}
