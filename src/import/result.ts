import type { WitnessOption } from "./cluster-file.js";
import type { ImportReport } from "./report.js";

/** An input file as the command read it. */
export interface InputFile {
  /** As the operator named it, for messages. */
  file: string;
  text: string;
}

export interface CommonImportOptions {
  clusterName: string;
  witness?: WitnessOption;
}

/** What an import writes, and its account of every input line. */
export interface ImportResult {
  clusterText: string;
  resourcesText: string;
  report: ImportReport;
}

/** The first lines of each written file. */
export function header(command: string, inputs: readonly InputFile[]): string[] {
  return [
    `Written by \`${command}\` from ${inputs.map((input) => input.file).join(", ")}.`,
    "Values marked CHANGE ME are placeholders, CHECK ones were inferred: see the import's report.",
  ];
}
