import { writeClusterFile } from "../cluster-file.js";
import { ImportReport } from "../report.js";
import { emptyDocument, writeResourceDocument } from "../resource-file.js";
import { type CommonImportOptions, header, type ImportResult, type InputFile } from "../result.js";
import { wordLines } from "../source-lines.js";
import { translateAuthkeys } from "./authkeys.js";
import { translateHaCf } from "./ha-cf.js";
import { translateHaresources } from "./haresources.js";

export interface HeartbeatInput extends CommonImportOptions {
  haCf: InputFile;
  haresources: InputFile;
  authkeys?: InputFile;
  /** --address NODE=IP: which node has an address that ucast lines name. */
  addresses?: ReadonlyMap<string, string>;
}

/** `vigil import heartbeat`: ha.cf, haresources and authkeys to a cluster file and a resource document. */
export function importHeartbeat(input: HeartbeatInput): ImportResult {
  const report = new ImportReport();
  const haCf = translateHaCf(
    wordLines(input.haCf.file, input.haCf.text),
    input.addresses ?? new Map(),
    report,
  );
  const document = emptyDocument();
  translateHaresources(
    wordLines(input.haresources.file, input.haresources.text),
    {
      nodes: haCf.plan.nodes,
      autoFailback: haCf.autoFailback,
      pingTargets:
        haCf.ipfail && haCf.plan.connectivityTargets.length > 0
          ? haCf.plan.connectivityTargets.length
          : undefined,
    },
    document,
    report,
  );
  if (haCf.plan.connectivityTargets.length > 0 && !haCf.ipfail)
    report.note(
      "ping: every node measures its ping targets as the node attribute connectivity, and nothing acts on it (as in Heartbeat without ipfail); a location rule on it keeps a group off nodes that reach none (docs/resources.md#location)",
    );
  if (input.authkeys !== undefined)
    translateAuthkeys(wordLines(input.authkeys.file, input.authkeys.text), report);
  report.note(
    "keys: run `vigil keygen` on one node and copy /etc/vigil/authkeys (mode 0600) to every node: Heartbeat's keys are not carried over",
  );
  const inputs = [input.haCf, input.haresources, ...(input.authkeys ? [input.authkeys] : [])];
  const top = header("vigil import heartbeat", inputs);
  const cluster = writeClusterFile(
    { name: input.clusterName, ...haCf.plan },
    input.witness,
    report,
    top,
  );
  const nodes = haCf.plan.nodes;
  const resources = writeResourceDocument(document, nodes, report, top);
  return { clusterText: cluster.text, resourcesText: resources.text, report };
}
