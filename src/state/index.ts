export { type Applied, applyCommand } from "./apply.js";
export {
  COMMAND_TYPES,
  CONFIG_TEXT_MAX_CHARS,
  type Command,
  type CommandOf,
  type CommandType,
  commandSchema,
  commandScope,
  encodeCommand,
  type ParsedCommand,
  parseCommand,
} from "./commands.js";
export { describeDiffSize, diffConfigs, diffLines, type LineChange } from "./config-diff.js";
export { describeHistoryEntry, formatInstant } from "./history.js";
export { canonicalJson, type JsonObject, type JsonValue } from "./json.js";
export { initialState, restoreState, serializeState } from "./serialize.js";
export {
  type CommandOutcome,
  type OutcomeCallback,
  StateMachine,
  type StateMachineOptions,
} from "./state-machine.js";
export * from "./types.js";
