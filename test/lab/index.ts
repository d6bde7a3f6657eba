/** The Vigil test lab: network-namespace hosts with real processes and real link faults. */
export { CommandError } from "./command.js";
export type { Direction } from "./faults.js";
export { createLab, Lab, type LabHost, withLab } from "./lab.js";
export type { LabOptions } from "./names.js";
export type { ExecOptions, ExecResult, ExitStatus, LabProcess, SpawnOptions } from "./processes.js";
export { type LabSupport, labSupport, labTestOptions } from "./support.js";
