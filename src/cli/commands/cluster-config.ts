import { hostname, userInfo } from "node:os";
import { ConfigError, formatKeyPath } from "../../config/errors.js";
import { readYamlFile } from "../../config/yaml-file.js";
import { YamlLocator } from "../../config/yaml-locator.js";
import { controlGet, controlPost } from "../../control/client.js";
import type { SubmitResult } from "../../coordination/cluster-message.js";
import type { PolicyInput } from "../../policy/types.js";
import { checkResourceDocumentWithAgents } from "../../resources/check-agents.js";
import type { AppliedConfig } from "../../state/types.js";
import { UsageError } from "../errors.js";
import { controlSocketPath } from "../paths.js";

interface ClusterConfigReply extends AppliedConfig {
  configurationVersion: number;
  stateVersion: number;
}

export interface ClusterConfigOptions {
  socket?: string;
  config?: string;
  baseVersion?: string;
  json?: boolean;
}

/**
 * `vigil config apply FILE`: replaces the cluster's replicated configuration, from any node. The
 * change is based on the version this command read (or --base-version): if someone else changed
 * the configuration in between, it is refused with what changed, instead of silently undoing it.
 */
export async function runConfigApply(file: string, options: ClusterConfigOptions): Promise<void> {
  const { text, document, lineCounter, value: parsed } = await readYamlFile(file);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError(`${file}: expected a YAML mapping at the top level`);
  }
  const socketPath = await controlSocketPath(options);
  // The nodes that run resources, as the agent checks (and later places) the document: the
  // peers in its status include witnesses, which would count as places to run copies.
  const { nodes } = await controlGet<PolicyInput>(socketPath, "/v1/policy-input");
  const problems = await checkResourceDocumentWithAgents(
    parsed,
    nodes.map((node) => node.name),
  );
  if (problems.length > 0) {
    const locator = new YamlLocator(document, lineCounter);
    const issues = problems.map((problem) => ({
      file,
      ...locator.valueAt(problem.path),
      keyPath: formatKeyPath(problem.path),
      message: problem.message,
    }));
    throw ConfigError.fromIssues(file, issues);
  }
  let expectedVersion: number;
  if (options.baseVersion !== undefined) {
    expectedVersion = Number(options.baseVersion);
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0)
      throw new UsageError(`--base-version takes a version number, got "${options.baseVersion}"`);
  } else {
    expectedVersion = (await controlGet<ClusterConfigReply>(socketPath, "/v1/config"))
      .configurationVersion;
  }
  const result = await controlPost<SubmitResult>(socketPath, "/v1/config", {
    text,
    document: parsed,
    expectedVersion,
    by: `${userInfo().username}@${hostname()}`,
  });
  if (!result.ok) {
    process.stderr.write(`vigil: configuration not applied: ${result.error}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(
    `applied ${file}: cluster state version ${result.version} (log index ${result.index})\n`,
  );
}

/** `vigil config show`: the configuration the cluster has committed, as it was applied. */
export async function runConfigShow(options: ClusterConfigOptions): Promise<void> {
  const reply = await controlGet<ClusterConfigReply>(
    await controlSocketPath(options),
    "/v1/config",
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
    return;
  }
  if (reply.version === 0) {
    process.stdout.write("# no configuration applied yet (configuration version 0)\n");
    return;
  }
  const at = new Date(reply.appliedAtMs).toISOString();
  process.stdout.write(
    `# configuration version ${reply.configurationVersion}, applied by ${reply.appliedBy} at ${at}\n${reply.text}${reply.text.endsWith("\n") ? "" : "\n"}`,
  );
}
