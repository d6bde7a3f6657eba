import { type ParsedCommand, parseCommand } from "../state/commands.js";
import { deepFreeze } from "./deep-freeze.js";

/**
 * parseCommand, remembered per payload: every simulated node applies every committed payload,
 * and again after each restart, so a run reads each one about five times. The same payload reads
 * the same, so each is checked once. What it returns is frozen: the nodes' states share it, and
 * applying a command must never change it (applyCommand), which a mutation would now show at once.
 */
export class CommandParseMemo {
  private readonly parsed = new Map<string, ParsedCommand>();

  readonly parse = (payload: string): ParsedCommand => {
    let parsed = this.parsed.get(payload);
    if (parsed === undefined) {
      parsed = deepFreeze(parseCommand(payload));
      this.parsed.set(payload, parsed);
    }
    return parsed;
  };
}
