/** A key file that cannot be used: missing, too open, or not in the expected format. */
export class KeyFileError extends Error {
  override readonly name = "KeyFileError";
}
