/**
 * Pacemaker's tools read their arguments with getopt_long (GLib's option parser in newer ones):
 * `-n NAME`, `-nNAME`, `--name NAME`, `--name=NAME`, bundled flags (`-Gq`), and an optional value
 * only attached (`-pRSC`, `--promotion=RSC`). Agents use all of these spellings.
 */

export interface OptionSpec {
  /** The canonical name the parsed options are keyed by. */
  name: string;
  short?: string;
  long?: string[];
  value: "none" | "required" | "optional";
}

export type ParsedOptions = Map<string, string | true>;

export class UsageError extends Error {}

/** An option the command does not know: for Pacemaker's own, one Vigil does not provide. */
export class UnknownOptionError extends UsageError {}

/** The options given (the last of repeated ones wins, as with getopt), or a UsageError. */
export function parseOptions(
  command: string,
  args: readonly string[],
  specs: readonly OptionSpec[],
): ParsedOptions {
  const parsed: ParsedOptions = new Map();
  const byShort = new Map(specs.flatMap((s) => (s.short === undefined ? [] : [[s.short, s]])));
  const byLong = new Map(specs.flatMap((s) => (s.long ?? []).map((l) => [l, s] as const)));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg.startsWith("--") && arg.length > 2) {
      const equals = arg.indexOf("=");
      const long = arg.slice(2, equals < 0 ? undefined : equals);
      const spec = byLong.get(long);
      if (spec === undefined) throw new UnknownOptionError(`${command}: unknown option --${long}`);
      if (equals >= 0) {
        if (spec.value === "none") throw new UsageError(`${command}: --${long} takes no value`);
        parsed.set(spec.name, arg.slice(equals + 1));
      } else if (spec.value === "required") {
        const next = args[++i];
        if (next === undefined) throw new UsageError(`${command}: --${long} needs a value`);
        parsed.set(spec.name, next);
      } else {
        parsed.set(spec.name, true);
      }
      continue;
    }
    if (!arg.startsWith("-") || arg.length < 2) {
      throw new UsageError(`${command}: unexpected argument "${arg}"`);
    }
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j] as string;
      const spec = byShort.get(letter);
      if (spec === undefined) throw new UnknownOptionError(`${command}: unknown option -${letter}`);
      if (spec.value === "none") {
        parsed.set(spec.name, true);
        continue;
      }
      const attached = arg.slice(j + 1);
      if (attached !== "") parsed.set(spec.name, attached);
      else if (spec.value === "optional") parsed.set(spec.name, true);
      else {
        const next = args[++i];
        if (next === undefined) throw new UsageError(`${command}: -${letter} needs a value`);
        parsed.set(spec.name, next);
      }
      break;
    }
  }
  return parsed;
}

/** The option's value, when it has one. */
export function optionValue(options: ParsedOptions, name: string): string | undefined {
  const value = options.get(name);
  return typeof value === "string" ? value : undefined;
}
