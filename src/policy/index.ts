export { actionId } from "./actions.js";
export { detectConstraintCycles, findOrderCycles } from "./cycles.js";
export { computePlacement, explainResource, readyActions } from "./engine.js";
export { cloneInstanceKey, parseCloneInstanceKey } from "./naming.js";
export { NO_PROMOTION_SCORE, promotionPreference } from "./promotion.js";
export {
  applySimulatedChange,
  SIMULATE_PARAMETERS,
  type SimulatedChange,
  type SimulateParameter,
  SimulateRequestError,
  type SimulationReply,
  type SpellParameter,
  simulate,
  simulatedChangeOf,
  simulationReply,
} from "./simulate.js";
export type * from "./types.js";
