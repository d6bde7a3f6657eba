export { type BackoffTimes, IdleState, type IdleTimes, reconnectDelayMs } from "./idle-state.js";
export {
  type AcquireResult,
  type ConnectOptions,
  connect,
  type SessionOptions,
  VigilClient,
  type VigilClientEvents,
  VigilRequestError,
} from "./vigil-client.js";
