/** The API cannot start: a tokens file it cannot use, certificates it cannot read, a busy port. */
export class ApiError extends Error {
  override readonly name = "ApiError";
}
