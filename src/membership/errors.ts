/** The membership core was given options it cannot work with; the message names the fix. */
export class MembershipConfigError extends Error {
  override readonly name = "MembershipConfigError";
}
